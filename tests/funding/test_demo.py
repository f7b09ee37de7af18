"""The funding demo: the draft consortium is one country short, and the CORDIS sample offers
the partners that make it eligible for the example ISF call."""

from __future__ import annotations

import io
from decimal import Decimal
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


def test_demo_project_spending_is_linked(city: Any, organisation: Any, site: Any) -> None:
    from rempart.funding.models import FundedProject
    from rempart.funding.projects import problems_in_words

    organisation.is_demo = True
    organisation.save()
    demo.load(city, io.StringIO())
    project = FundedProject.objects.get(city=city)
    line = project.spending.get(link_id=site.pk)
    assert line.link_type is not None and line.link_type.model == "site"
    # Direct costs 2,880,000; indirect 7 % = 201,600; eligible 3,081,600; 90 % = 2,773,440,
    # exactly what the example claims: no budget problem.
    assert project.eu_contribution_eur == Decimal("2773440.00")
    assert problems_in_words(project) == []
