"""Ranked full-text search over published practices, one interface for SQLite and PostgreSQL.

* SQLite: FTS5 only stems English (porter), so rempart stems every word in Python with the
  Snowball stemmer of the text's language (``snowballstemmer``) and stores the stems in the FTS5
  table ``practices_fts`` (rowid = practice id, tokenizer ``unicode61 remove_diacritics 2``);
  ranking is FTS5's ``bm25`` with the title weighted 10 and the body 1.
* PostgreSQL: the ``vector`` tsvector column of ``practices_searchdocument`` is built with the
  ``rempart_<language>`` text-search configuration of each part's language (the built-in one with
  ``unaccent`` before the stemmer; migration 0003), title weight A, body B, with a GIN index;
  ranking is ``ts_rank``.

A query's language is not known, so each query word is stemmed by every supported language and
a document matches a word when it holds any of those stems. All words must match; when that
finds nothing, any word may (the results are then ranked by how many and how well they match).
A practice whose title equals the query (case and accents aside) comes first.

Facets (theme, audience, setting, country, evidence label) are counted exactly over the whole
result set in one grouped pass over the matching search documents, which carry their facets
(bits per known value; see :func:`facet_columns` and :func:`_count_facets`); values outside the
known vocabularies are counted from :class:`~rempart.practices.models.PracticeFacet` rows.
Browsing without a query keeps its counts per process while the index is unchanged
(:class:`BrowseCounts`, a stamp changed by database triggers). The optional semantic extra
(:mod:`rempart.practices.semantic`) fuses a multilingual embedding ranking with the full-text one
(reciprocal rank fusion). Hand-written here because no maintained library offers one ranked,
stemmed, faceted search over both databases without a separate search server.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import snowballstemmer
from django.db import connection, transaction

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
RRF_K = 60

_WORD = re.compile(r"\w+", re.UNICODE)

# Short function-word lists: a query such as "la prévention de la radicalisation" must not
# require "la" and "de" in every result. Only the commonest words; the stemmers do the rest.
STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "a",
            "an",
            "and",
            "are",
            "as",
            "at",
            "be",
            "by",
            "for",
            "from",
            "in",
            "into",
            "is",
            "it",
            "of",
            "on",
            "or",
            "that",
            "the",
            "their",
            "this",
            "to",
            "was",
            "were",
            "with",
        ]
    ),
    "fr": frozenset(
        [
            "au",
            "aux",
            "avec",
            "ce",
            "ces",
            "dans",
            "de",
            "des",
            "du",
            "elle",
            "en",
            "et",
            "il",
            "ils",
            "la",
            "le",
            "les",
            "leur",
            "l",
            "d",
            "qu",
            "un",
            "une",
            "ou",
            "par",
            "pour",
            "sur",
            "se",
            "sa",
            "son",
            "ses",
            "qui",
            "que",
            "est",
            "sont",
            "pas",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "den",
            "dem",
            "des",
            "ein",
            "eine",
            "einer",
            "eines",
            "einem",
            "einen",
            "und",
            "oder",
            "in",
            "im",
            "mit",
            "von",
            "zu",
            "zur",
            "zum",
            "für",
            "auf",
            "ist",
            "sind",
            "nicht",
            "als",
            "bei",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "un",
            "una",
            "unos",
            "unas",
            "y",
            "o",
            "de",
            "del",
            "en",
            "con",
            "por",
            "para",
            "al",
            "que",
            "se",
            "es",
            "su",
            "sus",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "lo",
            "la",
            "i",
            "gli",
            "le",
            "un",
            "una",
            "uno",
            "e",
            "o",
            "di",
            "del",
            "della",
            "dei",
            "delle",
            "in",
            "con",
            "per",
            "su",
            "che",
            "si",
            "è",
            "al",
            "alla",
        ]
    ),
    "nl": frozenset(
        [
            "de",
            "het",
            "een",
            "en",
            "of",
            "van",
            "in",
            "op",
            "met",
            "voor",
            "aan",
            "te",
            "bij",
            "is",
            "zijn",
            "die",
            "dat",
            "als",
            "door",
        ]
    ),
}
ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())


@functools.cache
def _stemmer(language: str) -> Any:
    return snowballstemmer.stemmer(LANGUAGES[language])


@functools.lru_cache(maxsize=200_000)
def stem(word: str, language: str) -> str:
    """The Snowball stem of a lower-case ``word`` in ``language`` (en, fr, de, es, it, nl)."""
    return str(_stemmer(language).stemWord(word))


def fold(text: str) -> str:
    """Lower case without accents: how titles are compared for an exact match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join(
        "".join(ch for ch in decomposed if not unicodedata.combining(ch)).split()
    ).strip()


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.casefold()) if w != "_"]


def stem_text(text: str, language: str) -> str:
    """The stems of ``text`` in ``language``, space separated, stop words dropped."""
    stop = STOPWORDS.get(language, frozenset())
    return " ".join(stem(w, language) for w in words(text) if w not in stop)


@dataclass(frozen=True)
class Term:
    """A query word and its alternative stems (one per language, plus the word itself)."""

    word: str
    stems: tuple[str, ...]


def query_terms(query: str, languages: Sequence[str] | None = None) -> list[Term]:
    """The query's words with their stems in every language (unless given), stop words dropped."""
    languages = list(languages or LANGUAGES)
    all_words = words(query)
    terms: list[Term] = []
    for word in all_words:
        if word in ALL_STOPWORDS and len(all_words) > 1:
            continue
        stems = tuple(sorted({stem(word, lang) for lang in languages} | {word}))
        if all(t.word != word for t in terms):
            terms.append(Term(word, stems))
    return terms


# --- what is indexed ---------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A piece of a practice in one language: its title and the rest of its text."""

    language: str
    title: str
    body: str


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
    return parts


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


class Backend:
    """How one database stores the index and finds matches; the rest is shared.

    ``match`` gives a FROM/WHERE clause in which the alias ``d`` is the matching practice's
    :class:`SearchDocument` row (facet columns, id), and ``score`` the rank expression over it.
    """

    vendor = ""

    def write(self, cursor: Any, rows: list[tuple[int, list[Part]]]) -> None:
        raise NotImplementedError

    def delete(self, cursor: Any, ids: list[int]) -> None:
        raise NotImplementedError

    def match(self, terms: list[Term], mode: str) -> tuple[str, list[Any]]:
        raise NotImplementedError

    def match_ranked(self, terms: list[Term], mode: str) -> tuple[str, str, list[Any]]:
        """(FROM/WHERE, id expression, params) for ranking when no filter needs ``d``."""
        sql, params = self.match(terms, mode)
        return sql, "d.practice_id", params

    def score(self, match_params: list[Any]) -> tuple[str, list[Any]]:
        raise NotImplementedError


class SqliteBackend(Backend):
    vendor = "sqlite"

    def write(self, cursor: Any, rows: list[tuple[int, list[Part]]]) -> None:
        self.delete(cursor, [pk for pk, _ in rows])
        cursor.executemany(
            "INSERT INTO practices_fts(rowid, title, body) VALUES (%s, %s, %s)",
            [
                (
                    pk,
                    " ".join(stem_text(p.title, p.language) for p in parts),
                    " ".join(stem_text(p.body, p.language) for p in parts),
                )
                for pk, parts in rows
            ],
        )

    def delete(self, cursor: Any, ids: list[int]) -> None:
        if ids:
            cursor.executemany("DELETE FROM practices_fts WHERE rowid = %s", [(i,) for i in ids])

    @staticmethod
    def fts_query(terms: list[Term], mode: str) -> str:
        def quoted(s: str) -> str:
            return '"' + s.replace('"', '""') + '"'

        groups = ["(" + " OR ".join(quoted(s) for s in t.stems) + ")" for t in terms]
        return (" AND " if mode == "all" else " OR ").join(groups)

    def match(self, terms: list[Term], mode: str) -> tuple[str, list[Any]]:
        sql = (
            "practices_fts CROSS JOIN practices_searchdocument d "
            "ON d.practice_id = practices_fts.rowid WHERE practices_fts MATCH %s"
        )
        return sql, [self.fts_query(terms, mode)]

    def match_ranked(self, terms: list[Term], mode: str) -> tuple[str, str, list[Any]]:
        # the FTS table alone: no join to the search documents for every match
        sql = "practices_fts WHERE practices_fts MATCH %s"
        return sql, "practices_fts.rowid", [self.fts_query(terms, mode)]

    def score(self, match_params: list[Any]) -> tuple[str, list[Any]]:
        return "-bm25(practices_fts, %s, %s)", [TITLE_WEIGHT, BODY_WEIGHT]


#: PostgreSQL text-search configurations (migration 0003): the built-in one of each language with
#: the ``unaccent`` dictionary in front of its stemmer, so "ecole" finds "école" as on SQLite.
PG_SIMPLE = "rempart_simple"


def pg_config(language: str) -> str:
    return f"rempart_{LANGUAGES[language]}"


class PostgresBackend(Backend):
    vendor = "postgresql"

    def write(self, cursor: Any, rows: list[tuple[int, list[Part]]]) -> None:
        for pk, parts in rows:
            pieces: list[str] = []
            params: list[Any] = []
            for part in parts:
                config = pg_config(part.language)
                pieces.append("setweight(to_tsvector(%s::regconfig, %s), 'A')")
                pieces.append("setweight(to_tsvector(%s::regconfig, %s), 'B')")
                params += [config, part.title, config, part.body]
            cursor.execute(
                f"UPDATE practices_searchdocument SET vector = {' || '.join(pieces)} "
                "WHERE practice_id = %s",
                [*params, pk],
            )

    def delete(self, cursor: Any, ids: list[int]) -> None:
        return None  # the search document row carries the vector; deleting it is enough

    def tsquery_text(self, terms: list[Term], mode: str) -> str:
        """The query as tsquery text, each word's distinct stemmings OR-ed, computed once.

        A constant lets the planner estimate how many documents match (repeated identical
        stems would inflate the estimate and turn the GIN index scan into a sequential one).
        """
        configs = (PG_SIMPLE, *(pg_config(code) for code in LANGUAGES))
        cell = "plainto_tsquery(%s::regconfig, %s)::text"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join([cell] * (len(configs) * len(terms))),
                [x for term in terms for config in configs for x in (config, term.word)],
            )
            row = list(cursor.fetchone())
        groups: list[str] = []
        for index in range(len(terms)):
            # a word's stemmings, each possibly several lexemes (a hyphenated word); a word
            # without any (punctuation) is left out, as || and && do with an empty tsquery
            forms = [
                f
                for f in dict.fromkeys(row[index * len(configs) : (index + 1) * len(configs)])
                if f
            ]
            if forms:
                groups.append("(" + " | ".join(f"({f})" for f in forms) + ")")
        return (" & " if mode == "all" else " | ").join(groups)

    def match(self, terms: list[Term], mode: str) -> tuple[str, list[Any]]:
        key = (tuple(terms), mode)
        cache: dict[Any, str] = self.__dict__.setdefault("_tsquery_cache", {})
        if key not in cache:  # one backend per search: computed once per query and mode
            cache[key] = self.tsquery_text(terms, mode)
        text = cache[key]
        if not text:
            return "practices_searchdocument d WHERE false", []
        # An initplan rather than a literal: the planner then keeps the GIN index (with the
        # literal it estimates the matches, and for common words prefers a sequential scan
        # that evaluates @@ on every vector, three to eight times slower here).
        return "practices_searchdocument d WHERE d.vector @@ (SELECT %s::tsquery)", [text]

    def score(self, match_params: list[Any]) -> tuple[str, list[Any]]:
        if not match_params:
            return "0.0", []
        return "ts_rank(d.vector, (SELECT %s::tsquery))", [match_params[0]]


def backend() -> Backend:
    if connection.vendor == "postgresql":
        return PostgresBackend()
    if connection.vendor == "sqlite":
        return SqliteBackend()
    raise RuntimeError(f"practices search: unsupported database {connection.vendor!r}")


# --- keeping the index up to date ----------------------------------------------------------


def index_practices(practices: Iterable[Practice], *, embed: bool = True) -> int:
    """(Re)index practices: published ones become searchable, others are removed. Returns count."""
    items = list(practices)
    if not items:
        return 0
    engine = backend()
    published = [p for p in items if p.status == Status.PUBLISHED]
    others = [p.pk for p in items if p.status != Status.PUBLISHED]
    with transaction.atomic(), connection.cursor() as cursor:
        PracticeFacet.objects.filter(practice_id__in=[p.pk for p in items]).delete()
        PracticeFacet.objects.bulk_create(
            [
                PracticeFacet(practice_id=p.pk, kind=kind, value=value)
                for p in items
                for kind, value in facet_rows(p)
            ]
        )
        if others:
            engine.delete(cursor, others)
            SearchDocument.objects.filter(practice_id__in=others).delete()
        if published:
            rows = [(p.pk, document_parts(p)) for p in published]
            SearchDocument.objects.filter(practice_id__in=[p.pk for p in published]).delete()
            SearchDocument.objects.bulk_create(
                [
                    SearchDocument(
                        practice_id=p.pk,
                        published=True,
                        title_key=fold(p.title)[:300],
                        **facet_columns(p),
                    )
                    for p in published
                ]
            )
            engine.write(cursor, rows)
    if embed:
        from rempart.practices import semantic

        if semantic.available():
            semantic.index(items)
    return len(items)


def reindex_all(*, embed: bool = True, batch: int = 2000) -> int:
    total = 0
    ids = list(Practice.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch):
        chunk = Practice.objects.filter(pk__in=ids[start : start + batch]).prefetch_related(
            "translations"
        )
        total += index_practices(chunk, embed=embed)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # a rebuild rewrites every row (insert, then the vector): reclaim the dead versions and
        # refresh the planner's statistics (VACUUM cannot run inside a transaction)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE practices_searchdocument")
            cursor.execute("VACUUM ANALYZE practices_practicefacet")
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
    mode: str = "all"

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


def search(
    query: str,
    *,
    filters: dict[str, list[str]] | None = None,
    limit: int = 20,
    offset: int = 0,
    facets: bool = True,
    semantic: bool = False,
    exclude: Sequence[int] = (),
    any_word: bool = False,
) -> SearchResult:
    """Published practices matching ``query`` and ``filters``, best first.

    ``filters`` maps a facet kind (``theme``, ``audience``, ``setting``, ``country``,
    ``evidence``) to accepted values (any of them); kinds combine with AND.
    """
    terms = query_terms(query)
    if not terms:
        return list_published(filters=filters, limit=limit, offset=offset)
    engine = backend()
    modes = ["any"] if any_word else (["all", "any"] if len(terms) > 1 else ["all"])
    where, where_params = _filter_sql(filters)
    if exclude:
        where += " AND d.practice_id NOT IN (" + ", ".join(["%s"] * len(exclude)) + ")"
        where_params += list(exclude)
    result = SearchResult(hits=[], total=0, mode=modes[0])
    fetch = max(limit, 50) if semantic else limit
    with connection.cursor() as cursor:
        for mode in modes:
            match_sql, match_params = engine.match(terms, mode)
            from_where = f"{match_sql} AND {where}"
            params = [*match_params, *where_params]
            if where == "1=1":
                ranked_from, id_sql, ranked_params = engine.match_ranked(terms, mode)
            else:
                ranked_from, id_sql, ranked_params = from_where, "d.practice_id", params
            if facets:
                total, result.facets = _count_facets(cursor, from_where, params)
            else:
                cursor.execute(f"SELECT count(*) FROM {ranked_from}", ranked_params)
                total = int(cursor.fetchone()[0])
            if total == 0 and mode != modes[-1]:
                continue
            score_sql, score_params = engine.score(match_params)
            cursor.execute(
                f"SELECT {id_sql}, {score_sql} AS score FROM {ranked_from} "
                f"ORDER BY score DESC, {id_sql} LIMIT %s OFFSET %s",
                [*score_params, *ranked_params, max(fetch, 0), max(offset, 0)],
            )
            hits = [Hit(int(pk), float(score)) for pk, score in cursor.fetchall()]
            result.hits, result.total, result.mode = hits, total, mode
            break
        if offset == 0:
            result.hits = _exact_first(cursor, query, result.hits, where, where_params, fetch)
    if semantic:
        from rempart.practices import semantic as sem

        if sem.available():
            result = sem.fuse(query, result, filters=filters, limit=limit, exclude=exclude)
    result.hits = result.hits[: max(limit, 0)] if not semantic else result.hits
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
    """Published practices close to ``practice``: by embedding when available, else by words."""
    from rempart.practices import semantic

    if semantic.available():
        hits = semantic.similar(practice, limit=limit)
        if hits:
            return hits
    seen: list[str] = []
    for w in words(f"{practice.title} {practice.summary}"):
        if w not in ALL_STOPWORDS and len(w) > 2 and w not in seen:
            seen.append(w)
    if not seen:
        return []
    result = search(
        " ".join(seen[:20]), limit=limit, facets=False, exclude=[practice.pk], any_word=True
    )
    return result.hits


def load_practices(ids: Sequence[int]) -> list[Practice]:
    """The practices of ``ids`` in that order."""
    by_id = Practice.objects.prefetch_related("translations").in_bulk(list(ids))
    return [by_id[i] for i in ids if i in by_id]
