"""Fictional demo cases for the demo city, so that ``make run`` shows the prevention unit.

Every person, referrer and story here is invented and says so in its name ("FICTIONAL"); every
case is marked ``is_demo``. The assessment framework gets the three dimensions of the UK's
Vulnerability Assessment Framework (engagement, intent, capability; its 22 factors support,
not replace, professional judgement: domain reference, section 4). The cases are led by
``demo-editor`` and approved by ``demo-supervisor`` (made by the core demo); loading twice
duplicates nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from rempart.prevention import workflow
from rempart.prevention.models import Case, Consent, Factor, Status

FACTORS = [
    (
        "Engagement",
        "Needs, susceptibilities and motivations that draw a person to a group or cause.",
    ),
    ("Intent", "Readiness to use or support violence or other illegal means."),
    ("Capability", "Knowledge, skills and means to cause harm."),
]

CASES: list[dict[str, Any]] = [
    {
        "person_name": "FICTIONAL Alex Example",
        "age_band": "13_17",
        "source": "education",
        "concern": "FICTIONAL: a teacher noticed repeated sharing of extremist memes in class.",
        "referrer_name": "FICTIONAL teacher",
        "to": Status.MONITORING,
    },
    {
        "person_name": "FICTIONAL Sam Sample",
        "age_band": "18_25",
        "source": "family",
        "concern": "FICTIONAL: a parent is worried about new online contacts and isolation.",
        "referrer_name": "FICTIONAL parent",
        "to": Status.CONSENTED,
    },
    {
        "person_name": "FICTIONAL Robin Placeholder",
        "age_band": "over_25",
        "source": "community",
        "concern": "FICTIONAL: a neighbour reported a heated argument about a news event.",
        "referrer_name": "FICTIONAL neighbour",
        "to": "nfa",
    },
]


def load(city: Any, stdout: Any) -> None:
    users = get_user_model().objects
    worker = users.filter(username="demo-editor").first()
    coordinator = users.filter(username="demo-supervisor").first()
    organisation = getattr(getattr(worker, "profile", None), "organisation", None)
    with transaction.atomic():
        for position, (name, guidance) in enumerate(FACTORS):
            Factor.objects.get_or_create(
                city=city, name=name, defaults={"guidance": guidance, "position": position}
            )
        if worker is None or coordinator is None or organisation is None:
            return
        if Case.objects.filter(city=city, is_demo=True).exists():
            return
        today = dt.date.today()
        for number, item in enumerate(CASES):
            item = dict(item)
            to = item.pop("to")
            case = workflow.refer(
                city=city,
                user=worker,
                organisation=organisation,
                referred_on=today - dt.timedelta(days=60 - 15 * number),
                person_informed=True,
                person_informed_on=today - dt.timedelta(days=58 - 15 * number),
                **item,
            )
            case.is_demo = True
            case.save()
            if to == "nfa":
                workflow.screen(case, worker, "nfa", "FICTIONAL: not a radicalisation concern.")
                continue
            workflow.screen(case, worker, "accept", "FICTIONAL: specific, recent concern.")
            workflow.record_consent(
                case,
                worker,
                purpose=Consent.Purpose.SHARE_WITH_PARTNERS,
                recipients=[organisation],
                notice_version="demo-1",
                given_on=today - dt.timedelta(days=40 - 15 * number),
                given_by_name="FICTIONAL parent" if case.is_minor else item["person_name"],
                parental=case.is_minor,
            )
            if to == Status.MONITORING:
                workflow.consult(
                    case,
                    worker,
                    held_on=today - dt.timedelta(days=30),
                    agencies=[organisation],
                    attendees="FICTIONAL case worker, FICTIONAL school nurse",
                    minutes="FICTIONAL minutes: discussed school attendance and interests.",
                    decisions="FICTIONAL: offer mentoring.",
                )
                workflow.add_action(
                    case,
                    worker,
                    kind="mentoring",
                    description="FICTIONAL weekly mentoring",
                    partner=organisation,
                    owner=worker,
                    due_on=today + dt.timedelta(days=60),
                    consent=case.consents.first(),
                )
                workflow.approve_plan(case, coordinator)
    stdout.write(f"Prevention demo: {len(CASES)} fictional cases in {city.name}\n")
