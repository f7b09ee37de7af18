"""Ranked full-text search over published practices, one interface for SQLite and PostgreSQL.

* SQLite: FTS5 only stems English (porter), so rempart stems every word in Python with the
  Snowball stemmer of the text's language (``snowballstemmer``) and stores the stems in the FTS5
  table ``practices_fts`` (rowid = practice id, tokenizer ``unicode61 remove_diacritics 2``);
  ranking is FTS5's ``bm25`` with the title weighted 10 and the body 1.
* PostgreSQL: the ``vector`` tsvector column of ``practices_searchdocument`` is built with the
  built-in text-search configuration of each part's language (title weight A, body B) and has a
  GIN index; ranking is ``ts_rank``.

A query's language is not known, so each query word is stemmed by every supported language and
a document matches a word when it holds any of those stems. All words must match; when that
finds nothing, any word may (the results are then ranked by how many and how well they match).
A practice whose title equals the query (case and accents aside) comes first.

Facets (theme, audience, setting, country, evidence label) are counted over the whole result set
from :class:`~rempart.practices.models.PracticeFacet` rows. The optional semantic extra
(:mod:`rempart.practices.semantic`) fuses a multilingual embedding ranking with the full-text one
(reciprocal rank fusion). Hand-written here because no maintained library offers one ranked,
stemmed, faceted search over both databases without a separate search server.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import snowballstemmer
from django.db import connection, transaction

from rempart.practices.models import (
    LANGUAGES,
    Practice,
    PracticeFacet,
    SearchDocument,
    Status,
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


def facet_rows(practice: Practice) -> list[tuple[str, str]]:
    rows = [("theme", v) for v in practice.themes]
    rows += [("audience", v) for v in practice.audiences]
    rows += [("setting", v) for v in practice.settings]
    if practice.country:
        rows.append(("country", practice.country))
    rows.append(("evidence", practice.evidence_label or "none"))
    return rows


# --- backends ----------------------------------------------------------------------------


class Backend:
    """How one database stores the index and finds matches; the rest is shared."""

    vendor = ""

    def write(self, cursor: Any, rows: list[tuple[int, list[Part]]]) -> None:
        raise NotImplementedError

    def delete(self, cursor: Any, ids: list[int]) -> None:
        raise NotImplementedError

    def match(self, terms: list[Term], mode: str) -> tuple[str, list[Any]]:
        """SQL selecting ``id, score`` of matching practices (higher score is better)."""
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
            "SELECT rowid AS id, -bm25(practices_fts, %s, %s) AS score "
            "FROM practices_fts WHERE practices_fts MATCH %s"
        )
        return sql, [TITLE_WEIGHT, BODY_WEIGHT, self.fts_query(terms, mode)]


class PostgresBackend(Backend):
    vendor = "postgresql"

    def write(self, cursor: Any, rows: list[tuple[int, list[Part]]]) -> None:
        for pk, parts in rows:
            pieces: list[str] = []
            params: list[Any] = []
            for part in parts:
                config = LANGUAGES[part.language]
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

    def tsquery(self, terms: list[Term], mode: str) -> tuple[str, list[Any]]:
        # PostgreSQL stems the word itself with each language's configuration, exactly as it
        # stemmed the documents; 'simple' keeps the bare word (names, acronyms).
        groups: list[str] = []
        params: list[Any] = []
        for term in terms:
            ors = []
            for config in ("simple", *LANGUAGES.values()):
                ors.append("plainto_tsquery(%s::regconfig, %s)")
                params += [config, term.word]
            groups.append("(" + " || ".join(ors) + ")")
        joiner = " && " if mode == "all" else " || "
        return "(" + joiner.join(groups) + ")", params

    def match(self, terms: list[Term], mode: str) -> tuple[str, list[Any]]:
        tsq, params = self.tsquery(terms, mode)
        sql = (
            "SELECT d.practice_id AS id, ts_rank(d.vector, q.query) AS score "
            f"FROM practices_searchdocument d, (SELECT {tsq} AS query) q "
            "WHERE d.vector @@ q.query"
        )
        return sql, params


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
                        title_text=p.title,
                        body_text=parts[0].body,
                    )
                    for p, (_pk, parts) in zip(published, rows, strict=True)
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


def _filter_sql(filters: dict[str, list[str]] | None, alias: str) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for kind, values in (filters or {}).items():
        values = [v for v in values if v]
        if kind not in FACET_KINDS or not values:
            continue
        marks = ", ".join(["%s"] * len(values))
        clauses.append(
            f"{alias}.id IN (SELECT practice_id FROM practices_practicefacet "
            f"WHERE kind = %s AND value IN ({marks}))"
        )
        params += [kind, *values]
    return (" AND ".join(clauses) or "1=1"), params


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
    where, where_params = _filter_sql(filters, "m")
    if exclude:
        where += " AND m.id NOT IN (" + ", ".join(["%s"] * len(exclude)) + ")"
        where_params += list(exclude)
    result = SearchResult(hits=[], total=0, mode=modes[0])
    fetch = max(limit, 50) if semantic else limit
    with connection.cursor() as cursor:
        for mode in modes:
            match_sql, match_params = engine.match(terms, mode)
            base = f"FROM ({match_sql}) m WHERE {where}"
            params = [*match_params, *where_params]
            cursor.execute(f"SELECT count(*) {base}", params)
            total = int(cursor.fetchone()[0])
            if total == 0 and mode != modes[-1]:
                continue
            cursor.execute(
                f"SELECT m.id, m.score {base} ORDER BY m.score DESC, m.id LIMIT %s OFFSET %s",
                [*params, max(fetch, 0), max(offset, 0)],
            )
            hits = [Hit(int(pk), float(score)) for pk, score in cursor.fetchall()]
            if facets:
                cursor.execute(
                    "SELECT f.kind, f.value, count(*) FROM practices_practicefacet f "
                    f"WHERE f.practice_id IN (SELECT m.id {base}) "
                    "GROUP BY f.kind, f.value",
                    params,
                )
                counts: dict[str, list[tuple[str, int]]] = {k: [] for k in FACET_KINDS}
                for kind, value, n in cursor.fetchall():
                    counts.setdefault(kind, []).append((value, int(n)))
                for kind in counts:
                    counts[kind].sort(key=lambda item: (-item[1], item[0]))
                result.facets = counts
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
        "SELECT m.id FROM (SELECT practice_id AS id FROM practices_searchdocument "
        f"WHERE title_key = %s) m WHERE {where}",
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
    """Browse without a query: published practices by title, with facet counts."""
    where, where_params = _filter_sql(filters, "m")
    base = (
        "FROM (SELECT d.practice_id AS id, d.title_key AS title_key "
        f"FROM practices_searchdocument d) m WHERE {where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) {base}", where_params)
        total = int(cursor.fetchone()[0])
        cursor.execute(
            f"SELECT m.id {base} ORDER BY m.title_key, m.id LIMIT %s OFFSET %s",
            [*where_params, limit, offset],
        )
        hits = [Hit(int(row[0]), 0.0) for row in cursor.fetchall()]
        cursor.execute(
            "SELECT f.kind, f.value, count(*) FROM practices_practicefacet f "
            f"WHERE f.practice_id IN (SELECT m.id {base}) GROUP BY f.kind, f.value",
            where_params,
        )
        counts: dict[str, list[tuple[str, int]]] = {k: [] for k in FACET_KINDS}
        for kind, value, n in cursor.fetchall():
            counts.setdefault(kind, []).append((value, int(n)))
    for kind in counts:
        counts[kind].sort(key=lambda item: (-item[1], item[0]))
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
