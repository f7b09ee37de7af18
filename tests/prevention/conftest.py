"""Fixtures of the prevention tests: a unit in Nice with its coordinator, a case worker, a
partner agency, a unit member outside the team, another module's admin, a worker of Lyon, and a
helper that takes a case to any step of the workflow."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from rempart.core.models import City, Organisation, Profile
from rempart.core.roles import grant
from rempart.prevention import workflow
from rempart.prevention.models import Case, Consent, Factor, Status, TeamMember

NAME = "Zéphyrin Quellec-Marchand"
CONCERN = "Shares extremist videos in class and talks of Kestrel-Vigil groups"


@dataclass
class Unit:
    city: City
    other_city: City
    unit_org: Organisation
    school: Organisation
    lyon_org: Organisation
    coordinator: Any
    worker: Any
    bystander: Any
    partner: Any
    access_admin: Any
    superuser: Any
    lyon_worker: Any


def _user(name: str, org: Organisation, *roles: str, **flags: Any) -> Any:
    user = get_user_model().objects.create_user(username=name, password="pw-not-used", **flags)
    Profile.objects.create(user=user, organisation=org)
    for role in roles:
        module, _, rank = role.partition(":")
        grant(user, module, rank)
    return user


@pytest.fixture
def unit(db: Any) -> Unit:
    nice = City.objects.create(name="Nice", slug="nice", country="FR", timezone="Europe/Paris")
    lyon = City.objects.create(name="Lyon", slug="lyon", country="FR", timezone="Europe/Paris")
    orgs = {}
    for key, name, city in (
        ("unit", "Ville de Nice", nice),
        ("school", "Lycée Masséna", nice),
        ("lyon", "Ville de Lyon", lyon),
    ):
        orgs[key] = Organisation.objects.create(name=name, kind="municipality", city=city)
        orgs[key].cities.add(city)
    for factor in ("Engagement", "Intent", "Capability"):
        Factor.objects.create(city=nice, name=factor)
    return Unit(
        city=nice,
        other_city=lyon,
        unit_org=orgs["unit"],
        school=orgs["school"],
        lyon_org=orgs["lyon"],
        coordinator=_user("coordinator", orgs["unit"], "prevention:supervisor"),
        worker=_user("worker", orgs["unit"], "prevention:editor"),
        bystander=_user("bystander", orgs["unit"], "prevention:editor"),
        partner=_user("teacher", orgs["school"], "prevention:viewer"),
        access_admin=_user(
            "access-admin", orgs["unit"], *(f"{m}:admin" for m in ("core", "access"))
        ),
        superuser=_user("root", orgs["unit"], is_superuser=True, is_staff=True),
        lyon_worker=_user("lyon-worker", orgs["lyon"], "prevention:editor"),
    )


STEPS = [s.value for s in Status]


def make_case(unit: Unit, to: str = Status.REFERRED, *, minor: bool = False) -> Case:
    """A case of Nice, led by ``unit.worker``, taken to status ``to`` through the workflow."""
    case = workflow.refer(
        city=unit.city,
        user=unit.worker,
        organisation=unit.unit_org,
        person_name=NAME,
        age_band="13_17" if minor else "18_25",
        source="education",
        concern=CONCERN,
        referrer_name="Mme Héloïse Brancard",
        referrer_organisation=unit.school,
        referred_on=dt.date(2026, 3, 2),
        person_informed=True,
        person_informed_on=dt.date(2026, 3, 3),
    )
    TeamMember.objects.create(
        case=case,
        user=unit.partner,
        organisation=unit.school,
        role=TeamMember.Role.PARTNER,
        starts_at=case.created_at,
    )
    order = STEPS.index(to)
    if order >= STEPS.index(Status.ACCEPTED):
        workflow.screen(case, unit.worker, "accept", "Concern is specific and recent")
    if order >= STEPS.index(Status.CONSENTED):
        workflow.record_consent(
            case,
            unit.worker,
            purpose=Consent.Purpose.SHARE_WITH_PARTNERS,
            recipients=[unit.school],
            notice_version="2026-01",
            given_on=dt.date(2026, 3, 10),
            given_by_name="Parent: M. Quellec" if minor else NAME,
            parental=minor,
        )
    if order >= STEPS.index(Status.CONSULTED):
        workflow.consult(
            case,
            unit.worker,
            held_on=dt.date(2026, 3, 20),
            agencies=[unit.unit_org, unit.school],
            attendees="Worker (city), teacher (school)",
            minutes="Discussed the videos and the family situation",
            decisions="Offer mentoring and a school follow-up",
        )
    if order >= STEPS.index(Status.MONITORING):
        workflow.add_action(
            case,
            unit.worker,
            kind="mentoring",
            description="Weekly mentoring with a trained mentor",
            partner=unit.school,
            owner=unit.partner,
            due_on=dt.date(2026, 6, 30),
            consent=case.consents.first(),
        )
        workflow.approve_plan(case, unit.coordinator)
    if order >= STEPS.index(Status.CLOSURE_REQUESTED):
        workflow.request_closure(case, unit.worker, "goals_met", "Back in school, no concern")
    if order >= STEPS.index(Status.CLOSED):
        workflow.decide_closure(case, unit.coordinator, approve=True)
    case.refresh_from_db()
    assert case.status == to
    return case
