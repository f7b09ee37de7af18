"""The funding demo: the draft consortium is one country short, and the CORDIS sample offers
the partners that make it eligible for the example ISF call."""

from __future__ import annotations

import io
from typing import Any

import pytest

from rempart.funding import demo, partners
from rempart.funding.eligibility import check
from rempart.funding.models import Call, Consortium

pytestmark = pytest.mark.django_db


def test_demo_consortium_and_suggestions(city: Any, organisation: Any) -> None:
    organisation.is_demo = True
    organisation.save()
    demo.load(city, io.StringIO())
    demo.load(city, io.StringIO())  # idempotent
    consortium = Consortium.objects.get(city=city)
    assert Call.objects.count() == 2
    isf = Call.objects.get(programme="isf")
    failures = check(consortium.members_for_check(), isf.rules)
    # Two French members of one country: ISF needs 2 independent applicants from 2 countries.
    assert [f.kind for f in failures] == ["min_countries"]
    need = failures[0].need
    assert need is not None
    names = {c.name for c in partners.for_need(need, frozenset())}
    assert "Città di Torino" in names and "Ville de Nice" not in names  # France is covered
