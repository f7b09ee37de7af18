""" "Bound then exact" (rempart.practices.sparse_index.exact_top): with phrases of three terms
or more, the in-memory index ranks documents exactly only while one could still enter the top;
the result must equal ranking every match exactly (the database path without narrowing)."""

from __future__ import annotations

import io
import random

import pytest

from rempart.practices import demo, search, sparse_index
from rempart.practices.evaluation import load_eval_catalogue
from rempart.practices.models import SearchDocument

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("batch", [1, 20])
def test_random_long_phrases_rank_as_every_match_ranked_exactly(
    city: object, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    demo.load(city, io.StringIO())
    load_eval_catalogue()
    monkeypatch.setattr(sparse_index, "RERANK_BATCH", batch)  # 1: many rounds of the loop
    rng = random.Random(12)
    titles = [d.title_terms.split() for d in SearchDocument.objects.all()]
    queries = []
    for _ in range(40):
        words = rng.choice([t for t in titles if len(t) >= 3])
        start = rng.randrange(len(words) - 2)
        phrase = words[start : start + rng.choice((3, 4))]
        queries.append(f'"{" ".join(phrase)}" ' + " ".join(rng.choice(titles)[:2]))
    compared = 0
    for query in queries:
        monkeypatch.setattr(search, "IN_MEMORY", False)
        monkeypatch.setattr(search, "NARROW", False)
        monkeypatch.setattr(search, "CANDIDATES", 100_000)  # every match ranked by rank()
        database = search.search(query, limit=10)
        monkeypatch.setattr(search, "IN_MEMORY", True)
        memory = search.search(query, limit=10)
        assert sparse_index.long_phrases(search.analyse(query, _cursor())) or not memory.total
        assert memory.total == database.total, query
        assert [(h.practice_id, round(h.score, 4)) for h in memory.hits] == [
            (h.practice_id, round(h.score, 4)) for h in database.hits
        ], query
        compared += memory.total > 10
    assert compared >= 10  # the top is a choice among more matches than it holds


def _cursor():  # type: ignore[no-untyped-def]
    from django.db import connection

    return connection.cursor()


@pytest.mark.parametrize("batch", [1, 3])
def test_an_inflated_bound_does_not_enter_the_top(
    city: object, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """Documents whose bound is far above their exact score (allowed: a bound) are ranked
    exactly and fall back to their place; the top equals ranking every match exactly."""
    import numpy as np

    demo.load(city, io.StringIO())
    load_eval_catalogue()
    monkeypatch.setattr(sparse_index, "RERANK_BATCH", batch)
    with _cursor() as cursor:
        index = sparse_index.INDEX.get(cursor)
        assert index is not None
        query = search.analyse('"youth work programme" prevention mentoring', cursor)
        documents = {t: index.documents(t) for g in query.groups for t in g.terms()}
        idf = search._idf(query, index.size, documents)
        bound = sparse_index.scores(index, query, idf)
        rows = np.flatnonzero(bound > 0)
        assert rows.size > 20
        cursor.execute(
            "SELECT practice_id, title_terms, body_terms, length FROM practices_searchdocument"
        )
        every = search.rank(query, cursor.fetchall(), idf, index.mean_length)
        lowest = rows[np.argsort(bound[rows], kind="stable")[:8]]
        bound[lowest] = bound.max() + 10.0  # the worst matches get the best bounds
        found = sparse_index.exact_top(cursor, index, query, bound, rows, 5, idf)
    assert [(h.practice_id, h.score) for h in found[:5]] == [
        (h.practice_id, h.score) for h in every[:5]
    ]
    assert set(index.ids[lowest].tolist()).isdisjoint(h.practice_id for h in found[:5])
