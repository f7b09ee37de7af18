"""Funding fixtures: the Horizon Europe and ISF rules, and a small CORDIS record built here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from rempart.funding.models import Call, CordisParticipation, CordisProject

HORIZON_RULES = [
    {"kind": "eligible_countries", "countries": "MS+AC"},
    {"kind": "min_beneficiaries", "count": 3},
    {"kind": "min_countries", "count": 3},
    {"kind": "min_member_states", "count": 1},
]


@pytest.fixture
def horizon_call(db: Any) -> Call:
    return Call.objects.create(
        programme="horizon",
        call_id="HORIZON-CL3-2026-FCT-01",
        topic_id="HORIZON-CL3-2026-FCT-01-03",
        title="Protection of public spaces",
        deadline_at=dt.datetime(2026, 11, 20, 16, 0, tzinfo=dt.UTC),  # 17:00 in Brussels
        rules=HORIZON_RULES,
    )


@pytest.fixture
def cordis_record(db: Any) -> None:
    icarus = CordisProject.objects.create(
        grant_id=882749,
        acronym="IcARUS",
        title="Innovative AppRoaches to Urban Security",
        start_date=dt.date(2020, 9, 1),
        topics="SU-GM01-2018-2019-2020",
        security_related=True,
        ec_max_contribution_eur=Decimal("4999996.25"),
    )
    roofs = CordisProject.objects.create(
        grant_id=101000001, acronym="GREENROOF", title="Roofs", security_related=False
    )
    for oid, name, country, legal_type in (
        ("1", "EUROPEAN FORUM FOR URBAN SECURITY", "FR", "other"),
        ("2", "COMUNE DI TORINO", "IT", "municipality"),
        ("3", "LANDESHAUPTSTADT STUTTGART", "DE", "municipality"),
    ):
        CordisParticipation.objects.create(
            project=icarus,
            organisation_id=oid,
            name=name,
            country=country,
            role="beneficiary",
            legal_type=legal_type,
        )
    # A Latvian company with only non-security projects: never suggested.
    CordisParticipation.objects.create(
        project=roofs,
        organisation_id="9",
        name="ROOFS SIA",
        country="LV",
        role="coordinator",
        legal_type="company",
    )
