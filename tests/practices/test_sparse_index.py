"""The index held in memory (rempart.practices.sparse_index) against the database's search.

The reference is the database path ranking every match with ``rank`` (no narrowing, every match
a candidate): the in-memory index must give the same practices in the same order, the same total
and the same facet counts, on both databases; and it must follow changes to the catalogue.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db import connection

from rempart.practices import demo, search, sparse_index
from rempart.practices.evaluation import labelled_queries, load_eval_catalogue
from rempart.practices.models import Practice, PracticeFacet, SearchDocument, Status

from .conftest import publish

pytestmark = pytest.mark.django_db

FILTERS: list[dict[str, list[str]] | None] = [
    None,
    {"theme": ["radicalisation_prevention"]},
    {"country": ["FR", "DE"], "evidence": ["promising", "none"]},
    {"setting": ["school", "public_space"], "audience": ["young_people"]},
]


def _both(monkeypatch: pytest.MonkeyPatch, query: str, **kwargs: Any) -> tuple[Any, Any]:
    monkeypatch.setattr(search, "IN_MEMORY", False)
    monkeypatch.setattr(search, "NARROW", False)
    monkeypatch.setattr(search, "CANDIDATES", 100_000)  # every match ranked by rank()
    database = search.search(query, **kwargs)
    monkeypatch.setattr(search, "IN_MEMORY", True)
    return database, search.search(query, **kwargs)


def test_same_results_as_ranking_every_match_in_the_database(
    city: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo.load(city, io.StringIO())
    load_eval_catalogue()
    queries = [q["query"] for q in labelled_queries()]
    assert len(queries) >= 150
    compared = 0
    for number, query in enumerate(queries):
        filters = FILTERS[number % len(FILTERS)]
        database, memory = _both(monkeypatch, query, filters=filters, limit=10)
        assert memory.total == database.total, query
        assert memory.facets == database.facets, query
        assert memory.corrected == database.corrected, query
        assert [(h.practice_id, round(h.score, 4)) for h in memory.hits] == [
            (h.practice_id, round(h.score, 4)) for h in database.hits
        ], (query, filters)
        compared += bool(memory.total)
    assert compared > 60  # most queries match (a filter aside): not a comparison of empties


def test_pages_and_exclusion_follow_the_same_order(
    city: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo.load(city, io.StringIO())
    load_eval_catalogue()
    first, _ = _both(monkeypatch, "radicalisation prevention", limit=20)
    assert first.total > 20
    database, memory = _both(monkeypatch, "radicalisation prevention", limit=10, offset=5)
    assert memory.ids == database.ids == first.ids[5:15]
    excluded = first.ids[:3]
    database, memory = _both(monkeypatch, "radicalisation prevention", limit=5, exclude=excluded)
    assert memory.ids == database.ids == first.ids[3:8]
    assert memory.total == database.total == first.total - 3


def test_follows_changes_committed_to_the_catalogue(catalogue: dict[str, Practice]) -> None:
    assert "exit-mentoring" in [
        Practice.objects.get(pk=pk).ref for pk in search.search("mentoring").ids
    ]
    built = sparse_index.INDEX.get_cached()
    practice = catalogue["exit-mentoring"]
    practice.status = Status.DRAFT
    practice.save()
    search.index_practices([practice])
    assert practice.pk not in search.search("mentoring").ids
    assert sparse_index.INDEX.get_cached() is not built  # rebuilt under the new stamp
    added = publish(title="Numbat mentoring circle", language="en", summary="A circle.")
    assert search.search("numbat").ids == [added.pk]
    SearchDocument.objects.filter(practice_id=added.pk).delete()  # e.g. its city deleted
    assert search.search("numbat").total == 0


def test_facet_values_outside_the_vocabularies_count_and_filter(
    catalogue: dict[str, Practice], monkeypatch: pytest.MonkeyPatch
) -> None:
    practice = catalogue["exit-mentoring"]
    practice.themes = [*practice.themes, "harbour_security"]  # not a known theme
    practice.save()
    search.index_practices([practice])
    assert PracticeFacet.objects.filter(value="harbour_security").exists()
    for filters in (None, {"theme": ["harbour_security"]}, {"theme": ["harbour_security", "x"]}):
        database, memory = _both(monkeypatch, "mentoring", filters=filters)
        assert ("harbour_security", 1) in memory.facets["theme"]
        assert (memory.total, memory.facets, memory.ids) == (
            database.total,
            database.facets,
            database.ids,
        )
    assert search.search("mentoring", filters={"theme": ["harbour_security"]}).ids == [practice.pk]


def test_phrases_use_adjacent_pairs(db: Any) -> None:
    first = publish(title="Youth work", language="en", summary="Street games youth work.")
    second = publish(title="Work with youth", language="en", summary="Parks and games.")
    youth, work = SearchDocument.objects.get(practice_id=first.pk).title_terms.split()[:2]
    with connection.cursor() as cursor:
        index = sparse_index.INDEX.get(cursor)
    assert index is not None
    found = index.frequency((youth, work))
    assert found is not None and index.ids[found[0]].tolist() == [first.pk]  # only there
    # once in the title (counted TITLE_WEIGHT times), once in the body
    assert float(found[1][0]) == search.TITLE_WEIGHT + 1
    # "with" is not indexed (a stop word): "work" and "youth" are adjacent in the second only
    reverse = index.frequency((work, youth))
    assert reverse is not None and index.ids[reverse[0]].tolist() == [second.pk]
    assert index.frequency((youth, "games")) is None
    assert index.documents(youth) == 2
    assert index.memory_bytes() > index.weights.nbytes
