"""The published practices' index terms held in memory: ranked search with exact totals and
facet counts in milliseconds at 100,000 practices, the same on SQLite and PostgreSQL.

The database's full-text index chooses candidates by its own ranking and must count the matches
of a query expanded across six languages (often most of the catalogue) row by row. This module
reads the search documents once (:class:`~rempart.practices.models.SearchDocument`: the same
index terms both databases store) into

* a sparse document x column matrix (:mod:`scipy.sparse`, compressed by column, float32) whose
  columns are the index terms and the pairs of adjacent terms (a two-word phrase is its pair's
  column), each entry the term's weighted frequency in the document: title occurrences counted
  :data:`~rempart.practices.search.TITLE_WEIGHT` times plus body occurrences, exactly what
  :func:`~rempart.practices.search.rank` counts;
* per-document arrays of length and facets (bits of the known values, codes of country and
  evidence label; values outside the known vocabularies kept per document).

A query then reads the columns of its alternatives only and computes, with :mod:`numpy`, the
score :func:`~rempart.practices.search.rank` gives (BM25, best alternative per group, coverage,
all-groups and phrase bonuses) for every matching document at once; the total and the facet
counts are counts over the matching documents. Phrases of three terms or more are matched by
their adjacent pairs (every pair present: an upper bound of the score); when a query holds
one, the documents of highest bound are ranked again by :func:`~rempart.practices.search.rank`
from their terms until no other can enter the top (:func:`exact_top`), so the top is exact.

One index is kept per process and replaced when the index stamp (a value database triggers
change on every change to the search documents, migration practices 0004) differs from the one it
was built under: loaded from the file saved under the new stamp
(:mod:`rempart.practices.index_cache`), else built inline below :data:`INLINE_MAX` practices, else
built by a child process (:mod:`rempart.practices.index_builder`) while the database answers.
The database stays the source of truth; ``search.IN_MEMORY = False`` searches it directly.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from scipy import sparse

from rempart.practices.analysis import Query

#: joins the two terms of an adjacent pair's column name (never inside an index term)
PAIR = "\x1f"
#: first batch of documents ranked exactly when the query holds a phrase of three terms or
#: more (:func:`exact_top`), and the most ranked so
RERANK_BATCH = 20
EXACT_MAX = 2_000
TEXT_KINDS = ("country", "evidence")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SparseIndex:
    """One snapshot of the published search documents (rows ordered by practice id)."""

    stamp: str | None
    ids: np.ndarray  # int64 practice ids, ascending
    indptr: np.ndarray  # compressed columns (scipy's CSC arrays)
    rows: np.ndarray
    weights: np.ndarray  # float32 weighted frequencies
    columns: dict[str, int]
    lengths: np.ndarray  # float64 number of terms per document
    bits: dict[str, np.ndarray]  # facet kind -> int64 bits of its known values
    codes: dict[str, np.ndarray]  # country / evidence -> int32 code per document
    values: dict[str, tuple[str, ...]]  # country / evidence -> value of each code
    extra: dict[int, tuple[tuple[str, str], ...]]  # row -> facet values outside FACET_BITS
    build_s: float

    @property
    def size(self) -> int:
        return int(self.ids.shape[0])

    @property
    def mean_length(self) -> float:
        return float(self.lengths.mean()) if self.size else 1.0

    @cached_property
    def norm(self) -> np.ndarray:
        """BM25's length normalisation of each document (the same for every query)."""
        from rempart.practices import search as rules

        return rules.BM25_K1 * (
            1 - rules.BM25_B + rules.BM25_B * np.maximum(self.lengths, 1) / max(self.mean_length, 1)
        )

    def documents(self, term: str) -> int:
        """Number of documents holding ``term`` (0 when none does)."""
        column = self.columns.get(term)
        return 0 if column is None else int(self.indptr[column + 1] - self.indptr[column])

    def _column(self, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        column = self.columns.get(name)
        if column is None:
            return None
        start, end = self.indptr[column], self.indptr[column + 1]
        return self.rows[start:end], self.weights[start:end]

    def frequency(self, terms: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray] | None:
        """(rows, weighted frequency) of a term or phrase, None when no document holds it.

        A phrase of two terms is its pair's column, exact; a longer one the smallest frequency
        of its pairs over the documents holding every pair (an upper bound)."""
        if len(terms) == 1:
            return self._column(terms[0])
        found = None
        for first, second in zip(terms, terms[1:], strict=False):
            column = self._column(first + PAIR + second)
            if column is None:
                return None
            if found is None:
                found = column
                continue
            rows, here, there = np.intersect1d(
                found[0], column[0], assume_unique=True, return_indices=True
            )
            if not rows.size:
                return None
            found = (rows, np.minimum(found[1][here], column[1][there]))
        return found

    def memory_bytes(self) -> int:
        """Bytes held: the arrays and the column names (approximate for the dictionaries)."""
        arrays = [self.ids, self.indptr, self.rows, self.weights, self.lengths]
        arrays += [*self.bits.values(), *self.codes.values()]
        names = sum(sys.getsizeof(name) + 8 + 28 for name in self.columns)
        return sum(a.nbytes for a in arrays) + sys.getsizeof(self.columns) + names


def build(cursor: Any, stamp: str | None) -> SparseIndex:
    """Read every search document and its facets into a :class:`SparseIndex`."""
    from rempart.practices.search import FACET_BITS, TITLE_WEIGHT

    start = time.perf_counter()
    cursor.execute(
        "SELECT practice_id, title_terms, body_terms, length, theme_bits, audience_bits, "
        "setting_bits, country, evidence, facet_extra FROM practices_searchdocument "
        "ORDER BY practice_id"
    )
    fetched = cursor.fetchall()
    columns: dict[str, int] = {}
    column_of = columns.setdefault
    entry_columns: list[int] = []
    entry_weights: list[np.ndarray] = []
    counts: list[int] = []
    for _pk, title_text, body_text, *_rest in fetched:
        before = len(entry_columns)
        for text, weight in ((title_text, TITLE_WEIGHT), (body_text, 1.0)):
            terms = text.split()
            pairs = [a + PAIR + b for a, b in zip(terms, terms[1:], strict=False)]
            named = [column_of(name, len(columns)) for name in terms + pairs]
            entry_columns += named
            entry_weights.append(np.full(len(named), weight, dtype=np.float32))
        counts.append(len(entry_columns) - before)
    n = len(fetched)
    rows = np.repeat(np.arange(n, dtype=np.int32), counts)
    data = np.concatenate(entry_weights) if entry_weights else np.zeros(0, dtype=np.float32)
    matrix = sparse.coo_array(
        (data, (rows, np.asarray(entry_columns, dtype=np.int32))),
        shape=(n, len(columns)),
    ).tocsc()  # adds up repeated (document, term) entries: the weighted frequency
    matrix.sum_duplicates()
    bits = {
        kind: np.fromiter((r[4 + k] for r in fetched), dtype=np.int64, count=n)
        for k, kind in enumerate(("theme", "audience", "setting"))
    }
    codes: dict[str, np.ndarray] = {}
    values: dict[str, tuple[str, ...]] = {}
    for k, kind in enumerate(TEXT_KINDS):
        names = sorted({r[7 + k] or "" for r in fetched})
        code_of = {name: code for code, name in enumerate(names)}
        codes[kind] = np.fromiter(
            (code_of[r[7 + k] or ""] for r in fetched), dtype=np.int32, count=n
        )
        values[kind] = tuple(names)
    ids = np.fromiter((r[0] for r in fetched), dtype=np.int64, count=n)
    extra: dict[int, list[tuple[str, str]]] = {}
    flagged = [i for i, r in enumerate(fetched) if r[9]]
    if flagged:
        row_of = {int(ids[i]): i for i in flagged}
        cursor.execute(
            "SELECT f.practice_id, f.kind, f.value FROM practices_practicefacet f "
            "JOIN practices_searchdocument d ON d.practice_id = f.practice_id "
            "WHERE d.facet_extra AND f.kind IN ('theme', 'audience', 'setting')"
        )
        for pk, kind, value in cursor.fetchall():
            if value not in FACET_BITS[kind] and int(pk) in row_of:
                extra.setdefault(row_of[int(pk)], []).append((kind, value))
    return SparseIndex(
        stamp=stamp,
        ids=ids,
        indptr=matrix.indptr.astype(np.int64),
        rows=matrix.indices.astype(np.int32),
        weights=matrix.data.astype(np.float32),
        columns=columns,
        lengths=np.fromiter((r[3] for r in fetched), dtype=np.float64, count=n),
        bits=bits,
        codes=codes,
        values=values,
        extra={row: tuple(items) for row, items in extra.items()},
        build_s=round(time.perf_counter() - start, 3),
    )


#: catalogues smaller than this are rebuilt inline (well under a second); larger ones by a
#: child process (:mod:`rempart.practices.index_builder`) while the database answers
INLINE_MAX = 5_000
#: keep built indexes on disk per stamp (:mod:`rempart.practices.index_cache`)
PERSIST = True


class _Cache:
    """The index of this process, replaced when the index stamp changed (see the module):
    loaded from the file saved under the new stamp when there is one, else built inline for a
    small catalogue, else built by a child process while :meth:`get` returns None (the caller
    searches the database): no request waits for a large rebuild, no stale index is served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: SparseIndex | None = None

    def get(self, cursor: Any) -> SparseIndex | None:
        from rempart.practices import index_builder, index_cache
        from rempart.practices.search import INDEX_STAMP_SQL

        cursor.execute(INDEX_STAMP_SQL)
        row = cursor.fetchone()
        stamp = str(row[0]) if row else None
        index = self._index
        if index is not None and stamp is not None and index.stamp == stamp:
            return index
        with self._lock:  # one load or inline build at a time; the others wait for it
            index = self._index
            if index is not None and stamp is not None and index.stamp == stamp:
                return index
            loaded = index_cache.load(stamp) if PERSIST else None
            if loaded is not None:
                self._index = loaded
                return loaded
            if PERSIST and stamp is not None:
                cursor.execute("SELECT count(*) FROM practices_searchdocument")
                if int(cursor.fetchone()[0]) >= INLINE_MAX:
                    try:
                        index_builder.start(stamp)
                        return None
                    except OSError as exc:  # e.g. the index directory is read-only
                        logger.warning("Practices search index rebuilt inline: %s", exc)
            index = build(cursor, stamp)
            # built inside a transaction with uncommitted changes: kept under their stamp,
            # a random value never given again after a rollback (the next call rebuilds)
            self._index = index
            if PERSIST:
                try:
                    index_cache.save(index)
                except OSError as exc:
                    logger.warning("Practices search index not saved: %s", exc)
            return index

    def get_cached(self) -> SparseIndex | None:
        """The index last built (whatever the stamp now), None before the first search."""
        return self._index

    def clear(self) -> None:
        with self._lock:
            self._index = None


INDEX = _Cache()


# --- a query over the index ----------------------------------------------------------------


def filter_mask(index: SparseIndex, filters: dict[str, list[str]] | None) -> np.ndarray | None:
    """Documents passing ``filters`` (as :func:`~rempart.practices.search._filter_sql`: any
    value within a kind, every kind), None without a filter."""
    from rempart.practices.search import FACET_BITS, FACET_KINDS

    mask: np.ndarray | None = None
    for kind, given in (filters or {}).items():
        wanted = list(dict.fromkeys(v for v in given if v))
        if kind not in FACET_KINDS or not wanted:
            continue
        if kind in TEXT_KINDS:
            known_codes = [index.values[kind].index(v) for v in wanted if v in index.values[kind]]
            passing = np.isin(index.codes[kind], known_codes)
        else:
            bitmask = sum(1 << FACET_BITS[kind].index(v) for v in wanted if v in FACET_BITS[kind])
            passing = (index.bits[kind] & bitmask) != 0
            unknown = {v for v in wanted if v not in FACET_BITS[kind]}
            for row, items in index.extra.items():
                if any(k == kind and v in unknown for k, v in items):
                    passing[row] = True
        mask = passing if mask is None else mask & passing
    return mask


def scores(index: SparseIndex, query: Query, idf: Sequence[float]) -> np.ndarray:
    """The score of :func:`~rempart.practices.search.rank` of every document (0: no match),
    phrases of three terms or more matched by their pairs."""
    from rempart.practices import search as rules

    n = index.size
    norm = index.norm
    total = np.zeros(n)
    matched = np.zeros(n, dtype=np.int32)
    best = np.zeros(n)
    for group, weight in zip(query.groups, idf, strict=True):
        best.fill(0.0)
        touched: list[np.ndarray] = []
        for alternative in group.alternatives:
            found = index.frequency(alternative.terms)
            if found is None:
                continue
            rows, frequency = found
            best[rows] = np.maximum(best[rows], alternative.weight * frequency)
            touched.append(rows)
        if not touched:
            continue
        rows = np.flatnonzero(best)  # one pass over the documents, no sort of the rows
        value = best[rows]
        matched[rows] += 1
        total[rows] += weight * value * (rules.BM25_K1 + 1) / (value + norm[rows])
    groups = len(query.groups)
    if groups > 1:
        total *= 1 + rules.COVERAGE_BONUS * np.maximum(matched - 1, 0) / (groups - 1)
        total[matched == groups] *= rules.ALL_GROUPS_BONUS
    phrase = np.zeros(n, dtype=bool)
    for sequence in query.sequences:
        found = index.frequency(sequence) if sequence else None
        if found is not None:
            phrase[found[0]] = True
    total[phrase & (matched > 0)] *= rules.PHRASE_BONUS
    return np.round(total, 6)


def best_rows(index: SparseIndex, score: np.ndarray, rows: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` best of ``rows`` by score, then practice id (rows follow the ids)."""
    if count <= 0 or not rows.size:
        return rows[:0]
    values = score[rows]
    if rows.size > count:
        kth = np.partition(values, rows.size - count)[rows.size - count]
        keep = values >= kth
        rows, values = rows[keep], values[keep]
    order = np.lexsort((rows, -values))
    return rows[order][:count]


def facet_counts(index: SparseIndex, rows: np.ndarray) -> dict[str, list[tuple[str, int]]]:
    """Facet counts over the documents ``rows``, most frequent first (as
    :func:`~rempart.practices.search._count_facets`)."""
    from rempart.practices.search import FACET_BITS, FACET_KINDS

    counts: dict[str, dict[str, int]] = {kind: {} for kind in FACET_KINDS}
    for kind in TEXT_KINDS:
        numbers = np.bincount(index.codes[kind][rows], minlength=len(index.values[kind]))
        for value, n in zip(index.values[kind], numbers.tolist(), strict=True):
            if n and (value or kind != "country"):
                counts[kind][value] = n
    for kind, known in FACET_BITS.items():
        held = index.bits[kind][rows]
        for position, value in enumerate(known):
            n = int(np.count_nonzero(held & (1 << position)))
            if n:
                counts[kind][value] = n
    if index.extra:
        extra_rows = np.fromiter(index.extra, dtype=np.int64, count=len(index.extra))
        for row in np.intersect1d(extra_rows, rows).tolist():
            for kind, value in index.extra[row]:
                counts[kind][value] = counts[kind].get(value, 0) + 1
    return {
        kind: sorted(found.items(), key=lambda item: (-item[1], item[0]))
        for kind, found in counts.items()
    }


def exact_top(
    cursor: Any,
    index: SparseIndex,
    query: Query,
    bound: np.ndarray,
    rows: np.ndarray,
    wanted: int,
    idf: Sequence[float],
) -> list[Any]:
    """The ``wanted`` best of ``rows`` by the exact score of
    :func:`~rempart.practices.search.rank` ("bound then exact").

    ``bound`` (:func:`scores` with phrases of three terms or more matched by their pairs) is
    never below the exact score: the score grows with each frequency, the number of groups
    matched and the phrase bonus, and a phrase's frequency is at most that of its least
    frequent pair. The documents of highest bound are ranked exactly from their terms, by
    batches of growing size, until the lowest bound of the batch is below the ``wanted``-th
    exact score: no other document can then enter the top. At most :data:`EXACT_MAX` documents
    are ranked exactly (then the result is the best of them)."""
    from rempart.practices import search as rules

    exact: dict[int, Any] = {}
    count = max(wanted, RERANK_BATCH)
    while True:
        top = best_rows(index, bound, rows, count)
        ids = [int(pk) for pk in index.ids[top] if int(pk) not in exact]
        if ids:
            cursor.execute(
                "SELECT practice_id, title_terms, body_terms, length FROM "
                f"practices_searchdocument WHERE practice_id IN ({', '.join(['%s'] * len(ids))})",
                ids,
            )
            for hit in rules.rank(query, cursor.fetchall(), list(idf), index.mean_length):
                exact[hit.practice_id] = hit
            for pk in ids:
                exact.setdefault(pk, None)  # no exact match (a long phrase's pairs apart)
        ranked = sorted(
            (h for h in exact.values() if h is not None),
            key=lambda h: (-h.score, h.practice_id),
        )
        if top.size >= rows.size or top.size >= EXACT_MAX:
            return ranked
        if len(ranked) >= wanted and bound[top[-1]] < ranked[wanted - 1].score - 1e-6:
            return ranked
        count *= 4


def long_phrases(query: Query) -> bool:
    """Whether the query holds a phrase of three terms or more (matched approximately)."""
    alternatives: Iterable[tuple[str, ...]] = (
        a.terms for g in query.groups for a in g.alternatives
    )
    return any(len(terms) > 2 for terms in [*alternatives, *query.sequences])


def search(
    cursor: Any,
    text: str,
    query: Query,
    *,
    filters: dict[str, list[str]] | None,
    limit: int,
    offset: int,
    facets: bool,
    exclude: Sequence[int],
) -> Any:
    """:func:`rempart.practices.search.search` over the index of this process: every match
    scored, the total and the facet counts exact; None while the index is being rebuilt
    (search the database)."""
    from rempart.practices import search as rules

    index = INDEX.get(cursor)
    if index is None:
        return None
    result = rules.SearchResult(hits=[], total=0)
    result.corrected = [t for g in query.groups for t in g.corrected]
    documents = {t: index.documents(t) for g in query.groups for t in g.terms()}
    idf = rules._idf(query, index.size, documents)
    score = scores(index, query, idf)
    passing = score > 0
    mask = filter_mask(index, filters)
    if mask is not None:
        passing &= mask
    if exclude:
        passing &= ~np.isin(index.ids, np.asarray(list(exclude), dtype=np.int64))
    rows = np.flatnonzero(passing)
    result.total = int(rows.size)
    if facets:
        result.facets = facet_counts(index, rows)
    if not rows.size:
        return result
    wanted = offset + limit
    if long_phrases(query):
        hits = exact_top(cursor, index, query, score, rows, max(wanted, 1), idf)
    else:
        top = best_rows(index, score, rows, wanted)
        hits = [rules.Hit(int(index.ids[r]), float(score[r])) for r in top]
    where, where_params = rules._filter_sql(filters)
    if exclude:
        where += " AND d.practice_id NOT IN (" + ", ".join(["%s"] * len(exclude)) + ")"
        where_params += list(exclude)
    hits = rules._exact_first(cursor, text, hits, where, where_params, len(hits))
    result.hits = hits[offset : offset + limit]
    return result
