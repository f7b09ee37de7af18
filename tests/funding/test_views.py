"""The funding pages: eligibility in words, suggestions that fix a failed rule, other cities."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rempart.core.audit_models import AuditEntry
from rempart.funding.models import Call, Consortium, ConsortiumMember
from rempart.funding.views import call_status

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_consortium_sees_why_and_the_partner_that_fixes_it(
    make_user: Any, city: Any, organisation: Any, horizon_call: Call, cordis_record: None
) -> None:
    editor = client_for(make_user("editor"))
    response = editor.post("/funding/consortia/new/", {"name": "Safe squares"})
    consortium = Consortium.objects.get(name="Safe squares")
    assert response.status_code == 302 and consortium.city == city
    for name, country in (("Ville de Nice", "FR"), ("Comune di Torino", "IT")):
        editor.post(
            f"/funding/consortia/{consortium.pk}/members/",
            {"name": name, "country": country, "legal_type": "municipality", "role": "beneficiary"},
        )
    page = editor.get(f"/funding/consortia/{consortium.pk}/").content.decode()
    assert "Not eligible" in page
    assert "at least 3 different eligible countries; the consortium covers 2" in page
    # Stuttgart is suggested (a third country); Torino is already in; the Latvian roofing company
    # has no security research.
    assert "LANDESHAUPTSTADT STUTTGART" in page and "ROOFS SIA" not in page
    assert page.count("COMUNE DI TORINO") == 0
    editor.post(f"/funding/consortia/{consortium.pk}/candidates/", {"organisation_id": "3"})
    added = ConsortiumMember.objects.get(consortium=consortium, name="LANDESHAUPTSTADT STUTTGART")
    assert (added.country, added.legal_type, added.role) == ("DE", "municipality", "beneficiary")
    page = editor.get(f"/funding/consortia/{consortium.pk}/").content.decode()
    assert "Eligible: the consortium meets every rule of this call." in page
    assert AuditEntry.objects.filter(object_type="funding.consortiummember").count() >= 3


def test_bad_member_input_is_one_sentence(make_user: Any, city: Any, organisation: Any) -> None:
    editor = client_for(make_user("editor"))
    consortium = Consortium.objects.create(city=city, organisation=organisation, name="C")
    response = editor.post(
        f"/funding/consortia/{consortium.pk}/members/",
        {"name": "X", "country": "FRA", "legal_type": "municipality", "role": "beneficiary"},
    )
    assert response.status_code == 400
    assert consortium.members.count() == 0
    response = editor.post(
        f"/funding/consortia/{consortium.pk}/candidates/", {"organisation_id": "404"}
    )
    assert (
        response.status_code == 400
        and b"No organisation with the CORDIS id 404" in response.content
    )


def test_another_citys_consortium_is_hidden(
    make_user: Any, other_city: Any, organisation: Any
) -> None:
    from rempart.core.models import Organisation

    lyon = Organisation.objects.create(name="Ville de Lyon", kind="municipality", city=other_city)
    lyon.cities.add(other_city)
    theirs = Consortium.objects.create(city=other_city, organisation=lyon, name="Lyon's plan")
    mine = client_for(make_user("admin"))
    assert mine.get(f"/funding/consortia/{theirs.pk}/").status_code == 404
    assert (
        mine.post(
            f"/funding/consortia/{theirs.pk}/members/",
            {"name": "X", "country": "FR", "legal_type": "police", "role": "beneficiary"},
        ).status_code
        == 404
    )
    assert theirs.members.count() == 0


def test_status_comes_from_the_dates_in_brussels_time(horizon_call: Call) -> None:
    # The deadline 17:00 Brussels (CET, UTC+1 in November) is 16:00 UTC.
    before = dt.datetime(2026, 11, 20, 15, 59, tzinfo=dt.UTC)
    after = dt.datetime(2026, 11, 20, 16, 0, tzinfo=dt.UTC)
    assert call_status(horizon_call, before) == "open"
    assert call_status(horizon_call, after) == "closed"
    horizon_call.opens_at = timezone.now() + dt.timedelta(days=3)
    assert call_status(horizon_call, timezone.now()) == "forthcoming"


def test_french_reader(make_user: Any, city: Any, organisation: Any, horizon_call: Call) -> None:
    viewer = client_for(make_user("viewer"))
    page = viewer.get(f"/funding/calls/{horizon_call.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content
    text = page.decode()
    assert "Qui peut déposer" in text and "20 novembre 2026 17:00" in text
