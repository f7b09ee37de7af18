"""Recall@k of the search on the labelled query set (``data/labelled_queries.json``).

The queries are labelled against ``data/eval_catalogue.json``, short synthetic records written
for evaluation in the six languages (not demo data). ``same`` queries share (inflected) words with
their relevant records; ``cross`` queries are in another language or paraphrase them, which
full-text search cannot match and the semantic extra is meant to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Recall:
    overall: float
    same: float
    cross: float
    queries: int


def recall_at(k: int = 10, *, semantic: bool = False) -> Recall:
    """Mean over queries of (relevant found in the top k) / min(k, relevant), by kind."""
    refs = dict(Practice.objects.values_list("pk", "ref"))
    per_kind: dict[str, list[float]] = {"same": [], "cross": []}
    for item in labelled_queries():
        found = {
            refs.get(pk)
            for pk in search(item["query"], limit=k, facets=False, semantic=semantic).ids
        }
        relevant = set(item["relevant"])
        per_kind[item["kind"]].append(len(found & relevant) / min(k, len(relevant)))
    everything = per_kind["same"] + per_kind["cross"]

    def mean(values: list[float]) -> float:
        return round(sum(values) / len(values), 3) if values else 0.0

    return Recall(
        mean(everything), mean(per_kind["same"]), mean(per_kind["cross"]), len(everything)
    )
