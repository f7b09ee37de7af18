"""Demo data of the funding module: two example calls with the programmes' general rules, the
partners of PRACTICIES and IcARUS that the domain reference names (a sample of CORDIS, not the
full record), and a draft consortium of the demo city that is one country short."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from rempart.core.models import Organisation
from rempart.funding.models import (
    Call,
    Consortium,
    ConsortiumMember,
    CordisParticipation,
    CordisProject,
    FundedProject,
    Spending,
)
from rempart.funding.project_io import import_project
from rempart.funding.sync import DEFAULT_RULES

CALLS = [
    {
        "programme": "horizon",
        "call_id": "EXAMPLE-HORIZON-CL3-FCT",
        "topic_id": "EXAMPLE-HORIZON-CL3-FCT-PUBLIC-SPACES",
        "title": "Example topic: protection of public spaces (Cluster 3, fighting crime and "
        "terrorism)",
        "grant_max_eur": Decimal("4000000.00"),
        "cofunding_rate": Decimal("1.000"),
        "action_type": "Research and Innovation Action",
        "rules": [
            *DEFAULT_RULES["horizon"],
            {"kind": "required_type", "legal_type": "police", "count": 2},
        ],
    },
    {
        "programme": "isf",
        "call_id": "EXAMPLE-ISF-PROTECT",
        "topic_id": "EXAMPLE-ISF-PROTECT-PUBLIC-SPACES",
        "title": "Example call: ISF Union action on the protection of public spaces (PROTECT)",
        "grant_min_eur": Decimal("500000.00"),
        "grant_max_eur": Decimal("3000000.00"),
        "cofunding_rate": Decimal("0.900"),
        "action_type": "Action grant",
        "rules": DEFAULT_RULES["isf"],
    },
]

#: From /work's domain reference (section 4): PRACTICIES (H2020 740072, coordinated by the
#: Université Toulouse - Jean Jaurès, Efus in charge of the cities' working group) and IcARUS
#: (H2020 882749, Efus, pilots in Turin, Lisbon, Stuttgart, Riga, Nice, Rotterdam).
PROJECTS = [
    (
        740072,
        "PRACTICIES",
        "Partnership against violent radicalisation in the cities",
        dt.date(2017, 5, 1),
        dt.date(2020, 4, 30),
        "SEC-06-FCT-2016",
        [
            ("demo-utj", "Université Toulouse - Jean Jaurès", "FR", "university", "coordinator"),
            ("demo-efus", "European Forum for Urban Security", "FR", "other", "beneficiary"),
        ],
    ),
    (
        882749,
        "IcARUS",
        "Innovative AppRoaches to Urban Security",
        dt.date(2020, 9, 1),
        dt.date(2024, 8, 31),
        "SU-GM01-2018-2019-2020",
        [
            ("demo-efus", "European Forum for Urban Security", "FR", "other", "coordinator"),
            ("demo-torino", "Città di Torino", "IT", "municipality", "beneficiary"),
            ("demo-lisboa", "Câmara Municipal de Lisboa", "PT", "municipality", "beneficiary"),
            ("demo-stuttgart", "Landeshauptstadt Stuttgart", "DE", "municipality", "beneficiary"),
            ("demo-riga", "Rīgas valstspilsētas pašvaldība", "LV", "municipality", "beneficiary"),
            ("demo-nice", "Ville de Nice", "FR", "municipality", "beneficiary"),
            ("demo-rotterdam", "Gemeente Rotterdam", "NL", "municipality", "beneficiary"),
        ],
    ),
]


def _demo_project(city: Any, organisation: Any) -> None:
    """An example ISF project of the demo city, shaped on Nice's (EUR 3.2 M from the ISF for
    barriers and joint exercises, domain reference section 1): budget, deadlines, and spending
    lines linked to the demo zone's barriers and the demo sites."""
    if FundedProject.objects.filter(city=city).exists():
        return
    project = import_project(
        {
            "programme": "isf",
            "grant_agreement": "EXAMPLE-ISF-0001",
            "acronym": "SAFE-SQUARES",
            "title": "Example: protecting the demo city's squares (barriers, joint exercises)",
            "starts_on": "2026-01-01",
            "ends_on": "2027-12-31",
            "eu_contribution_eur": "2773440.00",
            "funding_rate": "0.9",
            "indirect_rate": "0.07",
            "partners": [
                {"name": f"City of {city.name}", "country": city.country, "role": "coordinator"},
                {"name": f"{city.name} Police Department", "country": city.country},
            ],
            "work_packages": [
                {"number": 1, "title": "Barriers and access control"},
                {"number": 2, "title": "Joint exercises and training"},
            ],
            "budget": [
                {
                    "partner": f"City of {city.name}",
                    "category": "equipment",
                    "amount_eur": "2400000.00",
                    "work_package": 1,
                },
                {
                    "partner": f"City of {city.name}",
                    "category": "personnel",
                    "amount_eur": "180000.00",
                    "person_months": "36",
                    "work_package": 1,
                },
                {
                    "partner": f"{city.name} Police Department",
                    "category": "personnel",
                    "amount_eur": "240000.00",
                    "person_months": "48",
                    "work_package": 2,
                },
                {
                    "partner": f"{city.name} Police Department",
                    "category": "travel",
                    "amount_eur": "60000.00",
                    "work_package": 2,
                },
            ],
            "deadlines": [
                {
                    "kind": "report",
                    "code": "R1",
                    "title": "First interim report",
                    "due_at": "2026-12-31T17:00:00",
                },
                {
                    "kind": "deliverable",
                    "code": "D2.1",
                    "title": "Joint exercise after-action report",
                    "due_at": "2027-03-31T17:00:00",
                },
                {
                    "kind": "report",
                    "code": "R2",
                    "title": "Final report",
                    "due_at": "2028-02-29T17:00:00",
                },
            ],
        },
        city,
        organisation,
    )
    city_partner = project.partners.get(role="coordinator")
    police_partner = project.partners.exclude(role="coordinator").first() or city_partner
    bought = [
        (f"core.site:{site.pk}", f"Assessment of {site.name}") for site in city.sites.all()[:2]
    ]
    from rempart.funding import links

    choices = dict(links.choices(city))
    lanes = [key for key in choices if key.startswith("access.barrier:")][:2]
    bought += [(key, "Retractable bollards, supply and installation") for key in lanes]
    exercises = [key for key in choices if key.startswith("exercises.exercise:")][:1]
    bought += [(key, "Joint exercise with the police: facilitation and venue") for key in exercises]
    for index, (key, text) in enumerate(bought):
        resolved = links.resolve(key, city)
        Spending.objects.create(
            project=project,
            partner=police_partner if key.startswith("exercises.") else city_partner,
            category="equipment"
            if key.startswith("access.")
            else "travel"
            if key.startswith("exercises.")
            else "other_goods",
            amount_eur=Decimal("450000.00") if key.startswith("access.") else Decimal("25000.00"),
            spent_on=dt.date(2026, 3 + index, 15),
            description=text,
            link_type=resolved[0] if resolved else None,
            link_id=resolved[1] if resolved else None,
        )


def load(city: Any, stdout: Any) -> None:
    with transaction.atomic():
        for values in CALLS:
            Call.objects.get_or_create(
                topic_id=values["topic_id"], defaults={**values, "source": "demo"}
            )
        for grant_id, acronym, title, start, end, topic, partners in PROJECTS:
            project, created = CordisProject.objects.get_or_create(
                grant_id=grant_id,
                defaults={
                    "acronym": acronym,
                    "title": title,
                    "start_date": start,
                    "end_date": end,
                    "topics": topic,
                    "framework": "H2020",
                    "security_related": True,
                },
            )
            if created:
                for oid, name, country, legal_type, role in partners:
                    CordisParticipation.objects.create(
                        project=project,
                        organisation_id=oid,
                        name=name,
                        country=country,
                        legal_type=legal_type,
                        role=role,
                    )
        organisation = Organisation.objects.filter(cities=city, is_demo=True).order_by("pk").first()
        if organisation is None:
            return
        _demo_project(city, organisation)
        if Consortium.objects.filter(city=city).exists():
            return
        consortium = Consortium.objects.create(
            city=city, organisation=organisation, name=f"Safer squares of {city.name} (demo)"
        )
        for name, legal_type in (
            (f"City of {city.name}", "municipality"),
            (f"{city.name} Police Department", "police"),
        ):
            ConsortiumMember.objects.create(
                consortium=consortium, name=name, country=city.country, legal_type=legal_type
            )
    stdout.write(
        "Funding: 2 example calls, a CORDIS sample, an example project with its spending, a "
        "draft consortium one country short.\n"
    )
