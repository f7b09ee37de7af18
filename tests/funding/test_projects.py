"""Funded projects: import all or nothing, budget against spent, spending linked to what it
bought (the city's objects only), the calendar feed, reminders across time zones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import icalendar
import pytest
from django.core import mail
from django.test import Client

from rempart.core.models import City
from rempart.funding.models import Deadline, FundedProject, Spending
from rempart.funding.project_io import ProjectFileError, import_project
from rempart.funding.reminders import remind

pytestmark = pytest.mark.django_db

PROJECT = {
    "programme": "isf",
    "grant_agreement": "101100200",
    "acronym": "SAFE-PROM",
    "title": "Protecting the promenade",
    "starts_on": "2026-01-01",
    "ends_on": "2027-12-31",
    "eu_contribution_eur": "270000.00",
    "funding_rate": "0.9",
    "indirect_rate": "0.07",
    "partners": [
        {"name": "Ville de Nice", "country": "FR", "role": "coordinator"},
        {"name": "Comune di Torino", "country": "IT"},
    ],
    "work_packages": [{"number": 1, "title": "Barriers"}, {"number": 2, "title": "Exercises"}],
    "budget": [
        {
            "partner": "Ville de Nice",
            "category": "equipment",
            "amount_eur": "200000.00",
            "work_package": 1,
        },
        {
            "partner": "Ville de Nice",
            "category": "personnel",
            "amount_eur": "60000.00",
            "person_months": "12",
        },
        {
            "partner": "Comune di Torino",
            "category": "travel",
            "amount_eur": "20000.00",
            "work_package": 2,
        },
    ],
    "deadlines": [
        {
            "kind": "report",
            "code": "R1",
            "title": "First periodic report",
            "due_at": "2026-12-10T17:00:00",
        },
    ],
}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def project(city: Any, organisation: Any) -> FundedProject:
    return import_project(PROJECT, city, organisation)


def test_import_is_all_or_nothing(city: Any, organisation: Any) -> None:
    broken = {
        **PROJECT,
        "budget": [
            *PROJECT["budget"],
            {"partner": "Ghost", "category": "travel", "amount_eur": "1"},
        ],
    }
    with pytest.raises(ProjectFileError, match="budget line 4: partner 'Ghost'"):
        import_project(broken, city, organisation)
    with pytest.raises(ProjectFileError, match="eu_contribution_eur 1.5 must be a decimal string"):
        import_project({**PROJECT, "eu_contribution_eur": 1.5}, city, organisation)
    assert FundedProject.objects.count() == 0


def test_budget_against_spent_and_the_checks(make_user: Any, project: FundedProject) -> None:
    page = client_for(make_user("viewer")).get(f"/funding/projects/{project.pk}/").content.decode()
    # Direct 280,000; indirect 7 % of it (no subcontracting) = 19,600; eligible 299,600;
    # 90 % = 269,640 < 270,000 claimed: flagged.
    assert "is above the funding rate times the eligible costs, 269640.00 EUR" in page
    assert "280000.00" in page  # total budget


def test_spending_links_only_the_citys_objects(
    make_user: Any, project: FundedProject, site: Any, other_city: Any
) -> None:
    from rempart.core.models import Site

    editor = client_for(make_user("editor"))
    partner = project.partners.get(name="Ville de Nice")
    lyon_site = Site.objects.create(city=other_city, name="Place Bellecour", boundary=site.boundary)
    url = f"/funding/projects/{project.pk}/spending/"
    values = {
        "partner": partner.pk,
        "category": "equipment",
        "amount_eur": "150000.00",
        "spent_on": "2026-06-01",
        "description": "Retractable bollards",
    }
    refused = editor.post(url, {**values, "link": f"core.site:{lyon_site.pk}"})
    assert refused.status_code == 400 and Spending.objects.count() == 0
    editor.post(url, {**values, "link": f"core.site:{site.pk}"})
    line = Spending.objects.get()
    assert line.link_id == site.pk and line.amount_eur == Decimal("150000.00")
    page = editor.get(f"/funding/projects/{project.pk}/").content.decode()
    assert f"site: {site}" in page and "150000.00" in page
    # 200,000 budgeted, 150,000 spent, 50,000 left for Nice's equipment
    assert "50000.00" in page


def test_calendar_feed(make_user: Any, project: FundedProject) -> None:
    answer = client_for(make_user("viewer")).get(f"/funding/projects/{project.pk}/calendar.ics")
    assert answer["Content-Type"] == "text/calendar"
    calendar = icalendar.Calendar.from_ical(answer.content)
    (event,) = calendar.walk("VEVENT")
    # 17:00 in Brussels on 10 December (CET, UTC+1) is 16:00 UTC.
    assert event.decoded("dtstart") == dt.datetime(2026, 12, 10, 16, 0, tzinfo=dt.UTC)
    assert "First periodic report" in str(event["summary"])


def test_reminders_across_time_zones(
    make_user: Any, project: FundedProject, django_capture_on_commit_callbacks: Any
) -> None:
    helsinki = City.objects.create(
        name="Helsinki", slug="hel", country="FI", timezone="Europe/Helsinki"
    )
    project.city = helsinki
    project.save()
    editor = make_user("editor")
    editor.email = "editor@example.org"
    editor.save()
    due = Deadline.objects.get()
    # Due 16:00 UTC on the 10th; a week before is 16:00 UTC on the 3rd.
    with django_capture_on_commit_callbacks(execute=True):
        assert remind(dt.datetime(2026, 12, 3, 15, 59, tzinfo=dt.UTC)) == 0
        assert remind(dt.datetime(2026, 12, 3, 16, 0, tzinfo=dt.UTC)) == 1
        assert remind(dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)) == 0  # once only
    (message,) = mail.outbox
    # Shown in Helsinki time (UTC+2): 18:00, "6 p.m." in English.
    assert "Dec. 10, 2026, 6 p.m." in message.body and "Europe/Helsinki" in message.body
    assert "SAFE-PROM" in message.subject
    due.refresh_from_db()
    assert due.reminded_at is not None


def test_dashboard_waiting(make_user: Any, project: FundedProject) -> None:
    from tests.conftest import dashboard_waiting

    Deadline.objects.update(due_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=5))
    rows = dashboard_waiting(client_for(make_user("viewer")), make_user("viewer", username="v2"))
    assert any("Project deadlines" in label and count == 1 for label, count, _url in rows)
