"""Ranked search: exact titles first, facet counts, stemming in six languages, similar practices."""

from __future__ import annotations

from typing import Any

import pytest

from rempart.practices.models import Practice, Status
from rempart.practices.search import index_practices, search, similar

pytestmark = pytest.mark.django_db


def refs(result: Any) -> list[str]:
    by_id = dict(Practice.objects.values_list("pk", "ref"))
    return [by_id[pk] for pk in result.ids]


def test_exact_title_ranks_first(catalogue: dict[str, Practice]) -> None:
    result = search("Online counter-narratives")
    assert refs(result)[0] == "mentoring-online"
    # a word that appears in several records: the one whose title is exactly the query wins
    result = search("exit mentoring for radicalised young people")
    assert refs(result)[0] == "exit-mentoring"


def test_title_outranks_body(catalogue: dict[str, Practice]) -> None:
    # "mentoring" is in the title of exit-mentoring and only in the body of mentoring-online
    assert refs(search("mentoring"))[:2] == ["exit-mentoring", "mentoring-online"]


def test_facet_counts(catalogue: dict[str, Practice]) -> None:
    result = search("")
    assert result.total == 8
    facets = {kind: dict(values) for kind, values in result.facets.items()}
    assert facets["theme"]["radicalisation_prevention"] == 2
    assert facets["theme"]["education"] == 2
    assert facets["setting"]["school"] == 3
    assert facets["country"] == {"DK": 1, "FR": 2, "DE": 1, "ES": 1, "IT": 1, "NL": 1, "AT": 1}
    assert facets["evidence"]["none"] == 3
    assert facets["audience"]["young_people"] == 7


def test_filters_narrow_and_counts_follow(catalogue: dict[str, Practice]) -> None:
    result = search("", filters={"setting": ["school"], "country": ["FR", "ES"]})
    assert sorted(refs(result)) == ["ecoles-radicalisation", "escuelas-convivencia"]
    assert dict(result.facets["theme"]) == {
        "education": 2,
        "juvenile_delinquency": 1,
        "radicalisation_prevention": 1,
    }
    text = search("radicalisation", filters={"evidence": ["promising"]})
    assert refs(text) == ["exit-mentoring"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("radicalisation", "exit-mentoring"),  # en: radicalised
        ("radicalisation", "ecoles-radicalisation"),  # fr: radicalisés / radicalisation
        ("écoles", "ecoles-radicalisation"),  # fr: école
        ("Jugendliche", "jugendliche-ausstieg"),  # de: Jugendlichen
        ("escuela", "escuelas-convivencia"),  # es: escuelas
        ("scuola", "scuole-giovani"),  # it: scuole
        ("giovani", "scuole-giovani"),  # it: giovane
        ("jongere", "jongeren-wijk"),  # nl: jongeren
        ("gemeente", "jongeren-wijk"),  # nl: gemeenten
    ],
)
def test_stemming_per_language(catalogue: dict[str, Practice], query: str, expected: str) -> None:
    assert expected in refs(search(query))


def test_translation_is_searchable(catalogue: dict[str, Practice]) -> None:
    assert refs(search("anti-ram bollards"))[0] == "bollards-promenade"
    assert refs(search("bornes anti-bélier"))[0] == "bollards-promenade"


def test_no_word_is_required_more_words_rank_higher(catalogue: dict[str, Practice]) -> None:
    # both words: the online practice; one word (mentoring, in its title): the exit practice
    assert refs(search("mentoring online")) == ["mentoring-online", "exit-mentoring"]
    # a word found nowhere does not hide the practices holding the others
    assert set(refs(search("mentoring zzzunknownword"))) == {"exit-mentoring", "mentoring-online"}


def test_unpublished_not_found(catalogue: dict[str, Practice]) -> None:
    practice = catalogue["exit-mentoring"]
    practice.status = Status.DRAFT
    practice.save()
    index_practices([practice])
    assert "exit-mentoring" not in refs(search("mentoring"))
    assert search("").total == 7


def test_punctuation_is_harmless(catalogue: dict[str, Practice]) -> None:
    assert search('"quoted" AND (NEAR) * ^ -').total >= 0
    assert search("   ").total == 8


def test_similar(catalogue: dict[str, Practice]) -> None:
    hits = similar(catalogue["exit-mentoring"], limit=3)
    ids = [h.practice_id for h in hits]
    assert catalogue["exit-mentoring"].pk not in ids
    assert catalogue["mentoring-online"].pk in ids


def _reference_facets(from_where: str, params: list[Any]) -> dict[str, list[tuple[str, int]]]:
    """The facet counts as the first version computed them: PracticeFacet rows, one GROUP BY."""
    from django.db import connection

    from rempart.practices.search import FACET_KINDS

    counts: dict[str, dict[str, int]] = {kind: {} for kind in FACET_KINDS}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT f.kind, f.value, count(*) FROM practices_practicefacet f WHERE "
            f"f.practice_id IN (SELECT d.practice_id FROM {from_where}) GROUP BY f.kind, f.value",
            params,
        )
        for kind, value, n in cursor.fetchall():
            counts[kind][value] = n
    return {k: sorted(v.items(), key=lambda i: (-i[1], i[0])) for k, v in counts.items()}


@pytest.mark.parametrize(
    "query, filters",
    [
        ("", None),
        ("", {"theme": ["education", "legacy_theme"]}),
        ("young", None),
        ("young", {"audience": ["young_people"], "evidence": ["none", "promising"]}),
        ("radicalisation", {"setting": ["school", "street"], "country": ["FR", "IT"]}),
        ("jeunes", {"theme": ["legacy_theme"]}),
    ],
)
def test_facet_counts_exact_with_values_outside_the_vocabulary(
    catalogue: dict[str, Practice], query: str, filters: dict[str, list[str]] | None
) -> None:
    """Denormalised facet columns count exactly what the PracticeFacet rows say, including
    values outside the known vocabularies (an old import) and with filters on them."""
    from django.db import connection

    from rempart.practices.search import _filter_sql, analyse, backend

    from .conftest import publish

    publish(
        ref="legacy",
        title="Legacy young people project",
        summary="Jeunes and young people, imported long ago.",
        themes=["legacy_theme", "education"],
        audiences=["young_people", "retired_people"],
        settings=["school"],
        country="",
    )
    result = search(query, filters=filters, limit=3)
    where, where_params = _filter_sql(filters)
    if query:
        with connection.cursor() as cursor:
            match, match_params = backend().match(analyse(query, cursor))
        from_where, params = f"{match} AND {where}", [*match_params, *where_params]
    else:
        from_where, params = f"practices_searchdocument d WHERE {where}", where_params
    assert result.facets == _reference_facets(from_where, params)
    assert result.total == sum(n for _value, n in result.facets["evidence"])
    assert result.total > 0


def test_accents_do_not_matter(catalogue: dict[str, Practice]) -> None:
    """ "ecole" finds "école" and "eleves" finds "élèves" on both databases (PostgreSQL: the
    unaccent dictionary in the rempart_* text-search configurations)."""
    # the French school first; schools in other languages follow (through the glossary)
    assert refs(search("ecole"))[0] == "ecoles-radicalisation"
    assert refs(search("école"))[0] == "ecoles-radicalisation"
    assert refs(search("eleves"))[0] == "ecoles-radicalisation"
    assert refs(search("prevenir la radicalisation a l'ecole"))[0] == "ecoles-radicalisation"
    assert "jugendliche-ausstieg" in refs(search("fur jugendlichen"))


def _documents(term: str) -> int:
    from rempart.practices.models import SearchTerm

    row = SearchTerm.objects.filter(term=term).first()
    return row.documents if row else 0


def test_vocabulary_follows_any_delete(db: Any) -> None:
    """A practice deleted (in bulk or one by one: the database cascade removes its search
    document, not the indexer) leaves the vocabulary's counts and the index at once, without
    `rempart practices reindex`."""
    from .conftest import publish

    kept = publish(title="Zwiebelturm watch one", summary="Quokka patrols")
    gone = publish(title="Zwiebelturm watch two", summary="Quokka patrols")
    third = publish(title="Zwiebelturm watch three", summary="Numbat patrols")
    assert _documents("quokka") == 2
    assert _documents("numbat") == 1
    Practice.objects.filter(pk=gone.pk).delete()  # cascades to its search document
    assert _documents("quokka") == 1
    assert _documents("zwiebelturm") == 2
    assert set(search("zwiebelturm").ids) == {kept.pk, third.pk}
    assert search("zwiebelturm", facets=False).total == 2
    third.delete()
    assert _documents("numbat") == 0  # the term leaves the vocabulary
    assert _documents("zwiebelturm") == 1
    assert search("numbat").total == 0
    assert search("zwiebelturm", facets=False).total == 1
