"""Ranked full-text search over published practices, one interface for SQLite and PostgreSQL.

What is indexed and how a query is read is the same on both databases
(:mod:`rempart.practices.analysis`: stemming per language, accents and American spellings
folded, compound words split, the bilingual domain glossary); the database stores those index
terms and finds the candidates:

* SQLite: the FTS5 table ``practices_fts`` (rowid = practice id, title and body columns of
  index terms), ranked by FTS5's ``bm25`` with the title weighted 10;
* PostgreSQL: the ``vector`` tsvector column of ``practices_searchdocument``, built from the
  same index terms with the ``simple`` configuration (no stemming or accent removal of its own:
  both happened before), title weight A, body B, GIN index, ranked by the sum over the query's
  groups of their inverse document frequency times ``ts_rank``.

A practice matches when it holds any alternative of any query group (no word is required). The
best :data:`CANDIDATES` by the database's ranking are then ranked again here, the same way on
both databases (:func:`rank`): BM25 (k1 = 1.2, b = 0.75, title counted 10 times, inverse
document frequency from :class:`~rempart.practices.models.SearchTerm`), each group's best
alternative counted (a glossary translation at 0.5 of the word typed), times a bonus for the
share of the query's groups matched, for all of them, and for the query's words found in order.
A practice whose title equals the query (case and accents aside) comes first.

Facets (theme, audience, setting, country, evidence label) are counted exactly over the whole
result set in one grouped pass over the matching search documents, which carry their facets
(bits per known value; see :func:`facet_columns` and :func:`_count_facets`); values outside the
known vocabularies are counted from :class:`~rempart.practices.models.PracticeFacet` rows.
Browsing without a query keeps its counts per process while the index is unchanged
(:class:`BrowseCounts`, a stamp changed by database triggers). Hand-written here because no
maintained library offers one ranked, stemmed, cross-language, faceted search over both
databases without a separate search server.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import translation

from rempart.practices import analysis
from rempart.practices.analysis import Query, fold, words
from rempart.practices.models import (
    LANGUAGES,
    Audience,
    Practice,
    PracticeFacet,
    SearchDocument,
    Setting,
    Status,
    Theme,
)

FACET_KINDS = ("theme", "audience", "setting", "country", "evidence")
TITLE_WEIGHT = 10.0
BODY_WEIGHT = 1.0
EXACT_TITLE_BONUS = 1000.0
#: how many of the database's best matches are ranked again here (:func:`rank`)
CANDIDATES = 300
#: above this many matches, candidates are chosen among narrower matches first (:func:`tiers`)
NARROW_ABOVE = 2000
#: choose candidates among narrower matches (False: rank every match in the database, the
#: first version of issue 12; kept to measure both in the same benchmark run)
NARROW = True
#: search the index held in memory (:mod:`rempart.practices.sparse_index`); False: the
#: database's full-text index (kept to measure both in the same benchmark run)
IN_MEMORY = True
BM25_K1 = 1.2
BM25_B = 0.75
#: the score is multiplied by 1 + COVERAGE_BONUS x (share of the other groups matched), by
#: ALL_GROUPS_BONUS when every group matched, by PHRASE_BONUS when the words are found in order
COVERAGE_BONUS = 1.0
ALL_GROUPS_BONUS = 1.5
PHRASE_BONUS = 1.3


# --- what is indexed ---------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A piece of a practice in one language: its title and the rest of its text."""

    language: str
    title: str
    body: str


def _facet_words(practice: Practice, language: str) -> str:
    """The labels of the practice's themes, audiences and settings in ``language``: "Aggredi",
    filed under radicalisation prevention, is found by "radicalisation prevention"."""
    chosen = [
        *(Theme(v).label for v in practice.themes if v in Theme.values),
        *(Audience(v).label for v in practice.audiences if v in Audience.values),
        *(Setting(v).label for v in practice.settings if v in Setting.values),
    ]
    with translation.override(language):
        return " ; ".join(str(label) for label in chosen)


def document_parts(practice: Practice) -> list[Part]:
    body = "\n".join(
        x
        for x in (
            practice.summary,
            practice.problem,
            practice.approach,
            practice.organisation_name,
            practice.city_name,
        )
        if x
    )
    parts = [Part(practice.language, practice.title, body)]
    for item in practice.translations.all():
        if item.language in LANGUAGES:
            parts.append(Part(item.language, item.title, item.summary))
    parts += [Part(lang, "", _facet_words(practice, lang)) for lang in ("en", "fr")]
    return parts


def document_terms(parts: Sequence[Part]) -> tuple[list[str], list[str]]:
    """(title terms, body terms) of a practice's parts, in text order."""
    title: list[str] = []
    body: list[str] = []
    for part in parts:
        title += analysis.index_terms(part.title, part.language)
        body += analysis.index_terms(part.body, part.language)
    return title, body


def facet_rows(practice: Any) -> list[tuple[str, str]]:
    rows = [("theme", v) for v in practice.themes]
    rows += [("audience", v) for v in practice.audiences]
    rows += [("setting", v) for v in practice.settings]
    if practice.country:
        rows.append(("country", practice.country))
    rows.append(("evidence", practice.evidence_label or "none"))
    return rows


#: Bit positions of the known values of the multi-valued facet kinds (append new values at the
#: end: a value's bit is its position; reordering needs ``rempart practices reindex``).
FACET_BITS: dict[str, tuple[str, ...]] = {
    "theme": tuple(Theme.values),
    "audience": tuple(Audience.values),
    "setting": tuple(Setting.values),
}
_BIT_COLUMN = {"theme": "theme_bits", "audience": "audience_bits", "setting": "setting_bits"}
_TEXT_COLUMN = {"country": "country", "evidence": "evidence"}


def facet_columns(practice: Any) -> dict[str, Any]:
    """The denormalised facet columns of a practice's search document (see facet_rows)."""
    columns: dict[str, Any] = {"facet_extra": False}
    for kind, column in _BIT_COLUMN.items():
        bits = 0
        for kind_, value in facet_rows(practice):
            if kind_ != kind:
                continue
            if value in FACET_BITS[kind]:
                bits |= 1 << FACET_BITS[kind].index(value)
            else:
                columns["facet_extra"] = True
        columns[column] = bits
    columns["country"] = practice.country or ""
    columns["evidence"] = practice.evidence_label or "none"
    return columns


# --- backends ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    """A narrower match used to choose candidates cheaply: documents holding an alternative of
    every group of ``groups`` and, unless ``title`` is None, one of ``title`` in their title."""

    groups: tuple[tuple[tuple[str, ...], ...], ...]
    title: tuple[tuple[str, ...], ...] | None


def tiers(query: Query) -> list[Tier]:
    """The narrower matches tried before the whole query, best first (see :func:`search`):
    every group by the words typed (not translations), one in the title; every group, a typed
    word in the title; every group, any alternative in the title; every group anywhere
    (queries of two groups or more)."""
    every = tuple(tuple(a.terms for a in g.alternatives) for g in query.groups)
    own = tuple(tuple(a.terms for a in g.alternatives if a.weight >= 1.0) for g in query.groups)
    typed = tuple(terms for alternatives in own for terms in alternatives)
    anything = tuple(a.terms for g in query.groups for a in g.alternatives)
    result = []
    if all(own):
        # the cheapest: few phrases for the database to rank (no translations)
        result.append(Tier(own, typed))
    if typed:
        result.append(Tier(every, typed))
    result.append(Tier(every, anything))
    if len(query.groups) > 1:
        result.append(Tier(every, None))
    return result


class Backend:
    """How one database stores the index terms and finds candidates; the rest is shared.

    ``match`` gives a FROM/WHERE clause in which the alias ``d`` is the matching practice's
    :class:`SearchDocument` row (facet columns, id), and ``score`` the database's rank
    expression over it (used to choose the candidates ranked again by :func:`rank`).
    """

    vendor = ""

    def write(self, cursor: Any, rows: list[tuple[int, str, str]]) -> None:
        raise NotImplementedError

    def delete(self, cursor: Any, ids: list[int]) -> None:
        raise NotImplementedError

    def match(self, query: Query) -> tuple[str, list[Any]]:
        raise NotImplementedError

    def match_ranked(self, query: Query) -> tuple[str, str, list[Any]]:
        """(FROM/WHERE, id expression, params) for ranking when no filter needs ``d``."""
        sql, params = self.match(query)
        return sql, "d.practice_id", params

    def narrowed(self, tier: Tier) -> str:
        """The database's query text for the matches of ``tier``."""
        raise NotImplementedError

    def match_text(self, text: str) -> tuple[str, list[Any]]:
        raise NotImplementedError

    def match_ranked_text(self, text: str) -> tuple[str, str, list[Any]]:
        sql, params = self.match_text(text)
        return sql, "d.practice_id", params

    def score(self, query: Query, idf: list[float]) -> tuple[str, list[Any]]:
        raise NotImplementedError


class SqliteBackend(Backend):
    vendor = "sqlite"

    def write(self, cursor: Any, rows: list[tuple[int, str, str]]) -> None:
        self.delete(cursor, [pk for pk, _t, _b in rows])
        cursor.executemany(
            "INSERT INTO practices_fts(rowid, title, body) VALUES (%s, %s, %s)", rows
        )

    def delete(self, cursor: Any, ids: list[int]) -> None:
        if ids:
            cursor.executemany("DELETE FROM practices_fts WHERE rowid = %s", [(i,) for i in ids])

    @staticmethod
    def fts_query(query: Query) -> str:
        alternatives = {
            '"' + " ".join(a.terms).replace('"', '""') + '"'
            for group in query.groups
            for a in group.alternatives
        }
        return " OR ".join(sorted(alternatives))

    @staticmethod
    def _any(alternatives: Iterable[tuple[str, ...]]) -> str:
        phrases = {'"' + " ".join(terms).replace('"', '""') + '"' for terms in alternatives}
        return "(" + " OR ".join(sorted(phrases)) + ")"

    def narrowed(self, tier: Tier) -> str:
        clauses = [self._any(alternatives) for alternatives in tier.groups]
        if tier.title is not None:
            clauses.append("title : " + self._any(tier.title))
        return " AND ".join(clauses)

    def match(self, query: Query) -> tuple[str, list[Any]]:
        return self.match_text(self.fts_query(query))

    def match_text(self, text: str) -> tuple[str, list[Any]]:
        sql = (
            "practices_fts CROSS JOIN practices_searchdocument d "
            "ON d.practice_id = practices_fts.rowid WHERE practices_fts MATCH %s"
        )
        return sql, [text]

    def match_ranked(self, query: Query) -> tuple[str, str, list[Any]]:
        return self.match_ranked_text(self.fts_query(query))

    def match_ranked_text(self, text: str) -> tuple[str, str, list[Any]]:
        # the FTS table alone: no join to the search documents for every match
        return "practices_fts WHERE practices_fts MATCH %s", "practices_fts.rowid", [text]

    def score(self, query: Query, idf: list[float]) -> tuple[str, list[Any]]:
        return "-bm25(practices_fts, %s, %s)", [TITLE_WEIGHT, BODY_WEIGHT]


def _tsquery(alternatives: Iterable[tuple[str, ...]], weight: str = "") -> str:
    """tsquery text of alternatives (terms quoted as lexemes, a phrase joined by <->; with
    ``weight``, only positions of that weight match: A is the title)."""

    def lexeme(term: str) -> str:
        return (
            "'"
            + term.replace("\\", "\\\\").replace("'", "''")
            + "'"
            + (f":{weight}" if weight else "")
        )

    return " | ".join(
        "(" + " <-> ".join(lexeme(t) for t in terms) + ")" for terms in sorted(set(alternatives))
    )


class PostgresBackend(Backend):
    vendor = "postgresql"

    def write(self, cursor: Any, rows: list[tuple[int, str, str]]) -> None:
        # the terms are final (stemmed, folded): 'simple' only splits them at the spaces
        cursor.executemany(
            "UPDATE practices_searchdocument SET vector = "
            "setweight(to_tsvector('simple', %s), 'A') || "
            "setweight(to_tsvector('simple', %s), 'B') WHERE practice_id = %s",
            [(title, body, pk) for pk, title, body in rows],
        )

    def delete(self, cursor: Any, ids: list[int]) -> None:
        return None  # the search document row carries the vector; deleting it is enough

    def narrowed(self, tier: Tier) -> str:
        clauses = ["(" + _tsquery(alternatives) + ")" for alternatives in tier.groups]
        if tier.title is not None:
            clauses.append("(" + _tsquery(tier.title, weight="A") + ")")
        return " & ".join(clauses)

    def match(self, query: Query) -> tuple[str, list[Any]]:
        return self.match_text(_tsquery(a.terms for g in query.groups for a in g.alternatives))

    def match_text(self, text: str) -> tuple[str, list[Any]]:
        if not text:
            return "practices_searchdocument d WHERE false", []
        # An initplan rather than a literal: the planner then keeps the GIN index (with the
        # literal it estimates the matches, and for common words prefers a sequential scan
        # that evaluates @@ on every vector, three to eight times slower here).
        return "practices_searchdocument d WHERE d.vector @@ (SELECT %s::tsquery)", [text]

    def score(self, query: Query, idf: list[float]) -> tuple[str, list[Any]]:
        pieces: list[str] = []
        params: list[Any] = []
        for group, weight in zip(query.groups, idf, strict=True):
            pieces.append("%s * ts_rank(d.vector, (SELECT %s::tsquery))")
            params += [weight, _tsquery(a.terms for a in group.alternatives)]
        return ("(" + " + ".join(pieces) + ")") if pieces else "0.0", params


def backend() -> Backend:
    if connection.vendor == "postgresql":
        return PostgresBackend()
    if connection.vendor == "sqlite":
        return SqliteBackend()
    raise RuntimeError(f"practices search: unsupported database {connection.vendor!r}")


# --- keeping the index up to date ----------------------------------------------------------


def _count_terms(cursor: Any, counts: Counter[str], *, replace: bool = False) -> None:
    """Add ``counts`` (documents per term, negative to remove) to the vocabulary."""
    if replace:
        cursor.execute("DELETE FROM practices_searchterm")
    changes = [(term, n) for term, n in counts.items() if n]
    if not changes:
        return
    cursor.executemany(
        "INSERT INTO practices_searchterm (term, documents) VALUES (%s, %s) "
        "ON CONFLICT (term) DO UPDATE SET documents = "
        "practices_searchterm.documents + excluded.documents",
        changes,
    )
    cursor.execute("DELETE FROM practices_searchterm WHERE documents <= 0")


def index_practices(practices: Iterable[Practice]) -> int:
    """(Re)index practices: published ones become searchable, others are removed. Returns count."""
    items = list(practices)
    if not items:
        return 0
    engine = backend()
    published = [p for p in items if p.status == Status.PUBLISHED]
    ids = [p.pk for p in items]
    with transaction.atomic(), connection.cursor() as cursor:
        counts: Counter[str] = Counter()
        for old_title, old_body in SearchDocument.objects.filter(practice_id__in=ids).values_list(
            "title_terms", "body_terms"
        ):
            counts.subtract(set(f"{old_title} {old_body}".split()))
        PracticeFacet.objects.filter(practice_id__in=ids).delete()
        PracticeFacet.objects.bulk_create(
            [
                PracticeFacet(practice_id=p.pk, kind=kind, value=value)
                for p in items
                for kind, value in facet_rows(p)
            ]
        )
        engine.delete(cursor, ids)
        # not through the ORM's delete: its signal (forget_document) would count them again
        cursor.execute(
            "DELETE FROM practices_searchdocument WHERE practice_id IN ("
            + ", ".join(["%s"] * len(ids))
            + ")",
            ids,
        )
        rows: list[tuple[int, str, str]] = []
        documents: list[SearchDocument] = []
        for p in published:
            title, body = document_terms(document_parts(p))
            counts.update(set(title) | set(body))
            rows.append((p.pk, " ".join(title), " ".join(body)))
            documents.append(
                SearchDocument(
                    practice_id=p.pk,
                    published=True,
                    title_key=fold(p.title)[:300],
                    title_terms=rows[-1][1],
                    body_terms=rows[-1][2],
                    length=len(title) + len(body),
                    **facet_columns(p),
                )
            )
        SearchDocument.objects.bulk_create(documents)
        engine.write(cursor, rows)
        _count_terms(cursor, counts)
    return len(items)


def forget_document(sender: Any, instance: SearchDocument, **kwargs: Any) -> None:
    """A search document deleted through the ORM (a practice, its organisation or its city
    deleted, whose cascade removes the document): its terms leave the vocabulary's counts and,
    on SQLite, its row leaves the FTS table, in the same transaction. Connected to
    ``post_delete`` of :class:`SearchDocument` (apps.py); the indexer deletes without the
    signal and counts itself."""
    with connection.cursor() as cursor:
        terms = set(f"{instance.title_terms} {instance.body_terms}".split())
        _count_terms(cursor, Counter(dict.fromkeys(terms, -1)))
        backend().delete(cursor, [instance.practice_id])


def reindex_all(*, batch: int = 2000) -> int:
    """Rebuild the whole index and the vocabulary's counts."""
    total = 0
    ids = list(Practice.objects.order_by("pk").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        _count_terms(cursor, Counter(), replace=True)
    with connection.cursor() as cursor:
        # not through the ORM's delete (forget_document): the counts were reset above
        cursor.execute("DELETE FROM practices_searchdocument")
        if connection.vendor == "sqlite":
            cursor.execute("DELETE FROM practices_fts")
    for start in range(0, len(ids), batch):
        chunk = Practice.objects.filter(pk__in=ids[start : start + batch]).prefetch_related(
            "translations"
        )
        total += index_practices(chunk)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # a rebuild rewrites every row (insert, then the vector): reclaim the dead versions and
        # refresh the planner's statistics (VACUUM cannot run inside a transaction)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE practices_searchdocument")
            cursor.execute("VACUUM ANALYZE practices_practicefacet")
            cursor.execute("VACUUM ANALYZE practices_searchterm")
    return total


# --- searching -----------------------------------------------------------------------------


@dataclass
class Hit:
    practice_id: int
    score: float


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    #: "ranked" for a query, "browse" without one
    mode: str = "ranked"
    #: what misspelt query words were also searched as (index terms), for the page to say so
    corrected: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return [h.practice_id for h in self.hits]


def _filter_sql(filters: dict[str, list[str]] | None) -> tuple[str, list[Any]]:
    """SQL over the search document ``d``: OR within a facet kind, AND across kinds."""
    clauses: list[str] = []
    params: list[Any] = []
    for kind, given in (filters or {}).items():
        values = list(dict.fromkeys(v for v in given if v))
        if kind not in FACET_KINDS or not values:
            continue
        if kind in _TEXT_COLUMN:
            marks = ", ".join(["%s"] * len(values))
            clauses.append(f"d.{_TEXT_COLUMN[kind]} IN ({marks})")
            params += values
            continue
        known = [v for v in values if v in FACET_BITS[kind]]
        unknown = [v for v in values if v not in FACET_BITS[kind]]
        ors: list[str] = []
        if known:
            mask = sum(1 << FACET_BITS[kind].index(v) for v in known)
            ors.append(f"(d.{_BIT_COLUMN[kind]} & %s) <> 0")
            params.append(mask)
        if unknown:
            marks = ", ".join(["%s"] * len(unknown))
            ors.append(
                "(d.facet_extra AND d.practice_id IN (SELECT practice_id FROM "
                f"practices_practicefacet WHERE kind = %s AND value IN ({marks})))"
            )
            params += [kind, *unknown]
        clauses.append("(" + " OR ".join(ors) + ")")
    return (" AND ".join(clauses) or "1=1"), params


#: (number of matching documents, {facet kind: [(value, count)], most frequent first})
FacetCounts = tuple[int, dict[str, list[tuple[str, int]]]]


def _count_facets(
    cursor: Any, from_where: str, params: list[Any], *, all_published: bool = False
) -> FacetCounts:
    """(number of matching documents, facet counts), exact, in one pass over the matches.

    One grouped statement reads each matching document's facet columns once: it groups by the
    single-valued kinds (country, evidence label) and sums each known value's bit of the
    multi-valued ones. Documents holding values outside the known vocabularies
    (``facet_extra``, rare) add their PracticeFacet rows in a second statement. Browsing every
    published practice without a filter groups each indexed column on its own instead (index-only
    scans, no row read).
    """
    counts: dict[str, dict[str, int]] = {k: {} for k in FACET_KINDS}

    def add(kind: str, value: str, n: int) -> None:
        if n and (value or kind != "country"):  # no country: no facet row
            counts[kind][value] = counts[kind].get(value, 0) + n

    total = 0
    extra = 0
    if all_published:
        selects = [
            f"SELECT '{kind}', {column}, NULL, count(*) FROM practices_searchdocument "
            f"GROUP BY {column}"
            for kind, column in _BIT_COLUMN.items()
        ] + [
            f"SELECT '{kind}', NULL, {column}, count(*) FROM practices_searchdocument "
            f"GROUP BY {column}"
            for kind, column in _TEXT_COLUMN.items()
        ]
        selects.append(
            "SELECT 'extra', NULL, NULL, count(*) FROM practices_searchdocument WHERE facet_extra"
        )
        cursor.execute(" UNION ALL ".join(selects))
        for kind, bits, text, n in cursor.fetchall():
            n = int(n)
            if kind == "extra":
                extra = n
            elif kind in _TEXT_COLUMN:
                total += n if kind == "evidence" else 0
                add(kind, text, n)
            else:
                for position, value in enumerate(FACET_BITS[kind]):
                    if int(bits) & (1 << position):
                        add(kind, value, n)
    else:
        sums = [
            f"sum(d.{column} & {1 << position})"
            for kind, column in _BIT_COLUMN.items()
            for position in range(len(FACET_BITS[kind]))
        ]
        cursor.execute(
            "SELECT d.country, d.evidence, count(*), "
            "sum(CASE WHEN d.facet_extra THEN 1 ELSE 0 END), "
            f"{', '.join(sums)} FROM {from_where} GROUP BY d.country, d.evidence",
            params,
        )
        for country, evidence, n, n_extra, *bit_sums in cursor.fetchall():
            total += int(n)
            extra += int(n_extra or 0)
            add("country", country, int(n))
            add("evidence", evidence, int(n))
            sums_iter = iter(bit_sums)
            for kind in _BIT_COLUMN:
                for position, value in enumerate(FACET_BITS[kind]):
                    add(kind, value, int(next(sums_iter) or 0) >> position)
    if extra:
        known = " ".join(
            f"AND NOT (f.kind = '{kind}' AND f.value IN ({', '.join(repr(v) for v in values)}))"
            for kind, values in FACET_BITS.items()
        )
        cursor.execute(
            "SELECT f.kind, f.value, count(*) FROM practices_practicefacet f "
            "WHERE f.kind IN ('theme', 'audience', 'setting') "
            f"{known} AND f.practice_id IN (SELECT d.practice_id FROM {from_where} AND "
            "d.facet_extra) GROUP BY f.kind, f.value",
            params,
        )
        for kind, value, n in cursor.fetchall():
            add(kind, value, int(n))
    return total, {
        kind: sorted(found.items(), key=lambda item: (-item[1], item[0]))
        for kind, found in counts.items()
    }


#: The row that database triggers give a new random value on any change to the search
#: documents (migration practices 0004).
INDEX_STAMP_SQL = "SELECT stamp FROM practices_index_stamp WHERE id = 1"


class BrowseCounts:
    """Facet counts of browsing without a query, kept per process while the index is unchanged.

    Counting the whole catalogue's facets is a pass over every published document (25-57 ms at
    100,000 practices, docs/performance.md), yet the counts change only when the index does.
    Each call reads the index stamp first (one primary-key read); counts stored under that
    stamp for the same filters are returned, anything else is counted and stored. A change
    committed by any writer gives the stamp a new random value, so the next call counts afresh.
    The most recent ``size`` filter combinations are kept.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._stamp: str | None = None
        self._counts: OrderedDict[tuple[str, tuple[Any, ...]], FacetCounts] = OrderedDict()

    def get(self, cursor: Any, where: str, params: list[Any]) -> FacetCounts:
        cursor.execute(INDEX_STAMP_SQL)
        row = cursor.fetchone()
        stamp = str(row[0]) if row else None
        key = (where, tuple(params))
        with self._lock:
            if stamp is not None and stamp == self._stamp and key in self._counts:
                self._counts.move_to_end(key)
                return _copy_counts(self._counts[key])
        counted = _count_facets(
            cursor, f"practices_searchdocument d WHERE {where}", params, all_published=not params
        )
        with self._lock:
            if stamp != self._stamp:
                self._counts.clear()
                self._stamp = stamp
            if stamp is not None:
                self._counts[key] = counted
                while len(self._counts) > self.size:
                    self._counts.popitem(last=False)
        return _copy_counts(counted)


def _copy_counts(counts: FacetCounts) -> FacetCounts:
    total, by_kind = counts
    return total, {kind: list(values) for kind, values in by_kind.items()}


BROWSE_COUNTS = BrowseCounts()


class _Statistics:
    """Number of published practices, their mean length and the vocabulary's counts of the
    query's terms, kept per process while the index stamp is unchanged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: str | None = None
        self._totals: tuple[int, float] = (0, 1.0)
        self._documents: dict[str, int] = {}

    def get(self, cursor: Any, terms: set[str]) -> tuple[int, float, dict[str, int]]:
        cursor.execute(INDEX_STAMP_SQL)
        row = cursor.fetchone()
        stamp = str(row[0]) if row else None
        with self._lock:
            if stamp is None or stamp != self._stamp:
                self._stamp, self._documents = stamp, {}
                cursor.execute("SELECT count(*), avg(length) FROM practices_searchdocument")
                count, mean = cursor.fetchone()
                self._totals = (int(count), float(mean or 1.0))
            missing = sorted(terms - self._documents.keys())
        found: dict[str, int] = {}
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            cursor.execute(
                "SELECT term, documents FROM practices_searchterm WHERE term IN ("
                + ", ".join(["%s"] * len(chunk))
                + ")",
                chunk,
            )
            found.update({t: int(n) for t, n in cursor.fetchall()})
        with self._lock:
            if stamp == self._stamp:
                for term in missing:
                    self._documents[term] = found.get(term, 0)
                if len(self._documents) > 200_000:
                    self._documents = {}
            documents = {t: self._documents.get(t, found.get(t, 0)) for t in terms}
            return (*self._totals, documents)


STATISTICS = _Statistics()


def _near_terms(cursor: Any, word: str) -> list[str]:
    """Index terms within the allowed edits of ``word`` or of its stems (a misspelling):
    the closest first, at most three. Terms sharing the first two letters only."""
    folded = analysis.strip_accents(word)
    targets = {folded, *(analysis.stem(word, lang) for lang in LANGUAGES)}
    limit = analysis.allowed_typos(folded)
    if not limit or len(folded) < 4:
        return []
    prefix = folded[:2]
    cursor.execute(
        "SELECT term, documents FROM practices_searchterm WHERE term LIKE %s "
        "AND length(term) BETWEEN %s AND %s",
        [prefix + "%", max(len(folded) - 2 - limit, 1), len(folded) + limit],
    )
    scored: list[tuple[int, int, str]] = []
    for term, documents in cursor.fetchall():
        # a misspelt word against a stem: compare the word's beginning as long as the stem
        # (give or take one letter), the rest being the ending the stemmer removed
        distance = min(
            analysis.edit_distance(t[:cut], term, limit)
            for t in targets
            for cut in {len(t), len(term) - 1, len(term), len(term) + 1}
            if cut > 0
        )
        if distance <= limit:
            scored.append((distance, -int(documents), term))
    return [term for _d, _n, term in sorted(scored)[:3]]


def _idf(query: Query, count: int, documents: dict[str, int]) -> list[float]:
    """Inverse document frequency of each group (BM25's), in the query's order; a group's
    documents are those of its alternatives added up (a phrase counted as its rarest word)."""
    weights: list[float] = []
    for group in query.groups:
        holding = sum(min(documents.get(t, 0) for t in a.terms) for a in group.alternatives)
        holding = min(holding, count)
        weights.append(math.log(1 + (count - holding + 0.5) / (holding + 0.5)))
    return weights


def _occurrences(
    terms: Sequence[str], phrase: tuple[str, ...], positions: dict[str, list[int]]
) -> int:
    if len(phrase) == 1:
        return len(positions.get(phrase[0], ()))
    first = positions.get(phrase[0], ())
    return sum(1 for i in first if tuple(terms[i : i + len(phrase)]) == phrase)


def rank(
    query: Query,
    candidates: Sequence[tuple[int, str, str, int]],
    idf: list[float],
    mean_length: float,
) -> list[Hit]:
    """BM25 of each candidate (id, title terms, body terms, length) with the bonuses (see the
    module docstring), best first; the same on both databases."""
    hits: list[Hit] = []
    groups = len(query.groups)
    for pk, title_text, body_text, length in candidates:
        title, body = title_text.split(), body_text.split()
        where: dict[str, dict[str, list[int]]] = {"title": {}, "body": {}}
        for name, terms in (("title", title), ("body", body)):
            for position, term in enumerate(terms):
                where[name].setdefault(term, []).append(position)
        norm = BM25_K1 * (1 - BM25_B + BM25_B * max(length, 1) / max(mean_length, 1.0))
        score = 0.0
        matched = 0
        for group, weight in zip(query.groups, idf, strict=True):
            best = 0.0
            for alternative in group.alternatives:
                first = alternative.terms[0]
                if first not in where["title"] and first not in where["body"]:
                    continue  # most alternatives (translations) are absent: skip the counting
                frequency = TITLE_WEIGHT * _occurrences(
                    title, alternative.terms, where["title"]
                ) + BODY_WEIGHT * _occurrences(body, alternative.terms, where["body"])
                best = max(best, alternative.weight * frequency)
            if best > 0:
                matched += 1
                score += weight * best * (BM25_K1 + 1) / (best + norm)
        if not matched:
            continue
        if groups > 1:
            score *= 1 + COVERAGE_BONUS * (matched - 1) / (groups - 1)
            if matched == groups:
                score *= ALL_GROUPS_BONUS
        if any(
            _occurrences(terms, sequence, where[name]) > 0
            for sequence in query.sequences
            if sequence and (sequence[0] in where["title"] or sequence[0] in where["body"])
            for name, terms in (("title", title), ("body", body))
        ):
            score *= PHRASE_BONUS
        hits.append(Hit(pk, round(score, 6)))
    hits.sort(key=lambda h: (-h.score, h.practice_id))
    return hits


def analyse(query: str, cursor: Any) -> Query:
    """The query's groups, with corrections of words the catalogue does not hold."""

    def known(terms: set[str]) -> set[str]:
        _count, _mean, documents = STATISTICS.get(cursor, terms)
        return {t for t, n in documents.items() if n}

    return analysis.analyse_query(
        query, known=known, corrections=lambda word: _near_terms(cursor, word)
    )


def search(
    query: str,
    *,
    filters: dict[str, list[str]] | None = None,
    limit: int = 20,
    offset: int = 0,
    facets: bool = True,
    exclude: Sequence[int] = (),
) -> SearchResult:
    """Published practices matching any word of ``query`` (or its glossary translations) and
    ``filters``, best first.

    ``filters`` maps a facet kind (``theme``, ``audience``, ``setting``, ``country``,
    ``evidence``) to accepted values (any of them); kinds combine with AND.
    """
    limit, offset = max(limit, 0), max(offset, 0)
    if not words(query):
        return list_published(filters=filters, limit=limit, offset=offset)
    engine = backend()
    where, where_params = _filter_sql(filters)
    if exclude:
        where += " AND d.practice_id NOT IN (" + ", ".join(["%s"] * len(exclude)) + ")"
        where_params += list(exclude)
    with connection.cursor() as cursor:
        parsed = analyse(query, cursor)
        if not parsed:
            return list_published(filters=filters, limit=limit, offset=offset)
        if IN_MEMORY:
            from rempart.practices import sparse_index

            found = sparse_index.search(
                cursor,
                query,
                parsed,
                filters=filters,
                limit=limit,
                offset=offset,
                facets=facets,
                exclude=exclude,
            )
            if found is not None:  # None: the index is being rebuilt, the database answers
                return found
        result = SearchResult(hits=[], total=0)
        result.corrected = [t for g in parsed.groups for t in g.corrected]
        match_sql, match_params = engine.match(parsed)
        from_where = f"{match_sql} AND {where}"
        params = [*match_params, *where_params]
        if where == "1=1":
            ranked_from, id_sql, ranked_params = engine.match_ranked(parsed)
        else:
            ranked_from, id_sql, ranked_params = from_where, "d.practice_id", params
        if facets:
            result.total, result.facets = _count_facets(cursor, from_where, params)
        else:
            cursor.execute(f"SELECT count(*) FROM {ranked_from}", ranked_params)
            result.total = int(cursor.fetchone()[0])
        if result.total == 0:
            return result
        count, mean_length, documents = STATISTICS.get(
            cursor, {t for g in parsed.groups for t in g.terms()}
        )
        idf = _idf(parsed, count, documents)
        score_sql, score_params = engine.score(parsed, idf)

        def best(
            from_sql: str, id_expr: str, from_params: list[Any], count: int, skip: int = 0
        ) -> list[tuple[int, float]]:
            cursor.execute(
                f"SELECT {id_expr}, {score_sql} AS score FROM {from_sql} "
                f"ORDER BY score DESC, {id_expr} LIMIT %s OFFSET %s",
                [*score_params, *from_params, count, skip],
            )
            return [(int(pk), float(score)) for pk, score in cursor.fetchall()]

        if offset + limit > CANDIDATES:
            # beyond the candidates ranked again here, pages follow the database's ranking
            native = best(ranked_from, id_sql, ranked_params, limit, offset)
            result.hits = [Hit(pk, score) for pk, score in native]
            return result
        native = []
        if NARROW and result.total > NARROW_ABOVE:
            # Many matches (a common word and its translations in six languages): ranking
            # them all in the database costs in proportion to their number. The best ones
            # are among narrower matches (every group, words in the title), cheaper to rank:
            # take those first and widen only while fewer than CANDIDATES were found.
            chosen: dict[int, float] = {}
            for tier in tiers(parsed):
                text = engine.narrowed(tier)
                if where == "1=1":
                    tier_from, tier_id, tier_params = engine.match_ranked_text(text)
                else:
                    tier_sql, tier_params = engine.match_text(text)
                    tier_from, tier_id = f"{tier_sql} AND {where}", "d.practice_id"
                    tier_params = [*tier_params, *where_params]
                for pk, score in best(tier_from, tier_id, tier_params, CANDIDATES + len(chosen)):
                    chosen.setdefault(pk, score)
                if len(chosen) >= CANDIDATES:
                    native = list(chosen.items())[:CANDIDATES]
                    break
        if not native:
            native = best(ranked_from, id_sql, ranked_params, CANDIDATES)
        hits: list[Hit] = []
        if native:
            cursor.execute(
                "SELECT practice_id, title_terms, body_terms, length FROM practices_searchdocument "
                f"WHERE practice_id IN ({', '.join(['%s'] * len(native))})",
                [pk for pk, _score in native],
            )
            hits = rank(parsed, cursor.fetchall(), idf, mean_length)
        hits = _exact_first(cursor, query, hits, where, where_params, len(hits))
    result.hits = hits[offset : offset + limit]
    return result


def _exact_first(
    cursor: Any, query: str, hits: list[Hit], where: str, where_params: list[Any], limit: int
) -> list[Hit]:
    key = fold(query)
    cursor.execute(
        f"SELECT d.practice_id FROM practices_searchdocument d WHERE d.title_key = %s AND {where}",
        [key, *where_params],
    )
    exact = [int(row[0]) for row in cursor.fetchall()]
    if not exact:
        return hits
    scores = {h.practice_id: h.score for h in hits}
    top = max([h.score for h in hits] or [0.0])
    first = [Hit(pk, top + EXACT_TITLE_BONUS + scores.get(pk, 0.0)) for pk in sorted(exact)]
    rest = [h for h in hits if h.practice_id not in set(exact)]
    return (first + rest)[: max(limit, len(first))]


def list_published(
    *, filters: dict[str, list[str]] | None = None, limit: int = 20, offset: int = 0
) -> SearchResult:
    """Browse without a query: published practices by title, with facet counts (kept between
    calls while the index is unchanged: :class:`BrowseCounts`)."""
    where, where_params = _filter_sql(filters)
    with connection.cursor() as cursor:
        total, counts = BROWSE_COUNTS.get(cursor, where, where_params)
        cursor.execute(
            f"SELECT d.practice_id FROM practices_searchdocument d WHERE {where} "
            "ORDER BY d.title_key, d.practice_id LIMIT %s OFFSET %s",
            [*where_params, limit, offset],
        )
        hits = [Hit(int(row[0]), 0.0) for row in cursor.fetchall()]
    return SearchResult(hits=hits, total=total, facets=counts, mode="browse")


def similar(practice: Practice, *, limit: int = 5) -> list[Hit]:
    """Published practices close to ``practice``: a search for the words of its title and
    summary (glossary translations included, so similar practices in other languages count)."""
    seen: list[str] = []
    for w in words(f"{practice.title} {practice.summary}"):
        if w not in analysis.ALL_STOPWORDS and len(w) > 2 and w not in seen:
            seen.append(w)
    if not seen:
        return []
    return search(" ".join(seen[:20]), limit=limit, facets=False, exclude=[practice.pk]).hits


def load_practices(ids: Sequence[int]) -> list[Practice]:
    """The practices of ``ids`` in that order."""
    by_id = Practice.objects.prefetch_related("translations").in_bulk(list(ids))
    return [by_id[i] for i in ids if i in by_id]
