"""Relevance of the search on the labelled query set: recall@k and nDCG@k, per language and kind.

``data/eval_catalogue.json`` holds 36 evaluation records (six per language, four with an English
translation), written for evaluation, not demo data. ``data/labelled_queries.json`` holds 161
queries in the six languages; each names the records relevant to what it means, chosen by
reading the records (a person's judgement), never from the engine's results. Kinds: ``same``
(words of the relevant record's language), ``variant`` (spelling, accents), ``typo`` and
``cross`` (another language than the relevant records', or a synonym).

recall@k: relevant records found in the top k over min(k, number relevant). nDCG@k: binary
gains, discount log2(rank + 1), over the ideal ordering. Both averaged over queries.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rempart.practices.models import Practice
from rempart.practices.search import search

DATA = Path(__file__).resolve().parent / "data"


def eval_catalogue() -> list[dict[str, Any]]:
    return list(json.loads((DATA / "eval_catalogue.json").read_text(encoding="utf-8")))


def labelled_queries() -> list[dict[str, Any]]:
    return list(json.loads((DATA / "labelled_queries.json").read_text(encoding="utf-8"))["queries"])


def load_eval_catalogue() -> int:
    """Import the evaluation records (published); returns how many were written."""
    from rempart.practices.io import import_rows

    report = import_rows(eval_catalogue())
    if report.rejected:
        raise ValueError("; ".join(report.rejected))
    return report.written


@dataclass
class Scores:
    """Mean recall@k and nDCG@k over a set of queries."""

    queries: int = 0
    recall: float = 0.0
    ndcg: float = 0.0


@dataclass
class Relevance:
    k: int
    overall: Scores
    by_language: dict[str, Scores] = field(default_factory=dict)
    by_kind: dict[str, Scores] = field(default_factory=dict)
    #: queries whose recall is below 1, with what came back (to read, not to tune labels on)
    misses: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        def one(s: Scores) -> dict[str, Any]:
            return {"queries": s.queries, "recall": s.recall, "ndcg": s.ndcg}

        return {
            "k": self.k,
            "overall": one(self.overall),
            "by_language": {key: one(s) for key, s in self.by_language.items()},
            "by_kind": {key: one(s) for key, s in self.by_kind.items()},
        }


def _mean(pairs: list[tuple[float, float]]) -> Scores:
    if not pairs:
        return Scores()
    return Scores(
        len(pairs),
        round(sum(r for r, _n in pairs) / len(pairs), 3),
        round(sum(n for _r, n in pairs) / len(pairs), 3),
    )


def relevance(k: int = 10) -> Relevance:
    """Run every labelled query through :func:`~rempart.practices.search.search`."""
    refs = dict(Practice.objects.values_list("pk", "ref"))
    per_language: dict[str, list[tuple[float, float]]] = {}
    per_kind: dict[str, list[tuple[float, float]]] = {}
    everything: list[tuple[float, float]] = []
    misses: list[dict[str, Any]] = []
    for item in labelled_queries():
        found = [refs.get(pk) for pk in search(item["query"], limit=k, facets=False).ids]
        relevant = set(item["relevant"])
        recall = len(set(found) & relevant) / min(k, len(relevant))
        gains = sum(1 / math.log2(rank + 2) for rank, ref in enumerate(found) if ref in relevant)
        ideal = sum(1 / math.log2(rank + 2) for rank in range(min(k, len(relevant))))
        pair = (recall, gains / ideal)
        everything.append(pair)
        per_language.setdefault(item["language"], []).append(pair)
        per_kind.setdefault(item["kind"], []).append(pair)
        if recall < 1:
            misses.append({**item, "found": found})
    return Relevance(
        k,
        _mean(everything),
        {key: _mean(v) for key, v in sorted(per_language.items())},
        {key: _mean(v) for key, v in sorted(per_kind.items())},
        misses,
    )
