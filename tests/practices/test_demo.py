"""The demo catalogue: idempotent, marked demo, every record with a source or a note."""

from __future__ import annotations

import io

import pytest

from rempart.practices import demo
from rempart.practices.models import Practice, WorkingGroup
from rempart.practices.search import search

pytestmark = pytest.mark.django_db


def test_demo_load_twice(city: object) -> None:
    demo.load(city, io.StringIO())
    count = Practice.objects.count()
    assert count == len(demo.CATALOGUE)
    out = io.StringIO()
    demo.load(city, out)
    assert Practice.objects.count() == count
    assert WorkingGroup.objects.count() == 1
    assert "0 created" in out.getvalue()
    assert all(p.is_demo for p in Practice.objects.all())
    for practice in Practice.objects.all():
        assert practice.source_url or "Source" in practice.evaluation_references
    assert (
        search("Promenade des Anglais").ids[0]
        == Practice.objects.get(ref="demo-promenade-des-anglais").pk
    )
