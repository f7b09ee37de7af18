"""The demo city's fictional cases: marked fictional, idempotent, at different steps."""

from __future__ import annotations

import io

from rempart.prevention import demo
from rempart.prevention.models import Case, Status
from tests.prevention.conftest import Unit, _user


def test_demo_cases_are_fictional_and_load_once(unit: Unit) -> None:
    _user("demo-editor", unit.unit_org, "prevention:editor")
    _user("demo-supervisor", unit.unit_org, "prevention:supervisor")
    demo.load(unit.city, io.StringIO())
    demo.load(unit.city, io.StringIO())
    cases = Case.objects.filter(city=unit.city)
    assert cases.count() == len(demo.CASES) and all(c.is_demo for c in cases)
    assert all(c.person_name.startswith("FICTIONAL") for c in cases)
    assert {c.status for c in cases} == {Status.MONITORING, Status.CONSENTED, Status.CLOSED}
