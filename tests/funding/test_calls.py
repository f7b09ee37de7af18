"""Calls edited in the page and moved as JSON: rules checked one by one, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from rempart.funding.models import Call

pytestmark = pytest.mark.django_db

RULES = [{"kind": "eligible_countries", "countries": "MS"}, {"kind": "min_countries", "count": 2}]


def admin_client(make_user: Any) -> Client:
    client = Client()
    client.force_login(make_user("admin"))
    return client


def form(**extra: Any) -> dict[str, Any]:
    return {
        "programme": "isf",
        "call_id": "ISF-2027-TF1-AG-PROTECT",
        "topic_id": "ISF-2027-TF1-AG-PROTECT-01",
        "title": "Protection of public spaces",
        "grant_min_eur": "500000",
        "grant_max_eur": "3000000",
        "cofunding_rate": "0.9",
        "rules_json": json.dumps(RULES),
        **extra,
    }


def test_an_admin_creates_and_edits_a_call(make_user: Any, city: Any) -> None:
    client = admin_client(make_user)
    response = client.post("/funding/calls/new/", form())
    call = Call.objects.get(topic_id="ISF-2027-TF1-AG-PROTECT-01")
    assert response.status_code == 302 and call.rules == RULES and call.source == "manual"
    page = client.get(f"/funding/calls/{call.pk}/").content.decode()
    assert "different eligible countries" in page  # the rules in words
    edited = [*RULES, {"kind": "required_type", "legal_type": "police", "count": 2}]
    client.post(f"/funding/calls/{call.pk}/edit/", form(rules_json=json.dumps(edited)))
    call.refresh_from_db()
    assert call.rules[-1]["legal_type"] == "police"


@pytest.mark.parametrize(
    "rules, words",
    [
        ("[{", "The rules are not valid JSON."),
        ('[{"kind": "min_countries", "count": 0}]', "count 0 must be a whole number"),
        ('[{"kind": "max_budget"}]', "kind &#x27;max_budget&#x27; is not one of"),
    ],
)
def test_bad_rules_are_refused_with_a_sentence(
    make_user: Any, city: Any, rules: str, words: str
) -> None:
    response = admin_client(make_user).post("/funding/calls/new/", form(rules_json=rules))
    assert response.status_code == 400 and words in response.content.decode()
    assert not Call.objects.exists()


def test_grants_and_dates_in_order(make_user: Any, city: Any) -> None:
    response = admin_client(make_user).post("/funding/calls/new/", form(grant_min_eur="3000001"))
    assert response.status_code == 400 and not Call.objects.exists()


def test_json_round_trip_and_all_or_nothing(tmp_path: Path) -> None:
    good = [
        {
            "programme": "horizon",
            "call_id": "HORIZON-CL3-2027-FCT-01",
            "topic_id": "HORIZON-CL3-2027-FCT-01-01",
            "title": "Crowded places",
            "budget_eur": "6000000.00",
            "deadline_at": "2027-11-20T17:00:00",
            "rules": RULES,
        }
    ]
    path = tmp_path / "calls.json"
    path.write_text(json.dumps(good))
    call_command("funding", "calls-import", str(path))
    call = Call.objects.get()
    # no offset: Brussels time (CET in November, UTC+1) -> 16:00 UTC
    assert call.deadline_at.isoformat() == "2027-11-20T16:00:00+00:00"
    out = tmp_path / "out.json"
    call_command("funding", "calls-export", str(out))
    exported = json.loads(out.read_text())
    assert exported[0]["deadline_at"] == "2027-11-20T17:00:00+01:00"
    assert exported[0]["rules"] == RULES and exported[0]["budget_eur"] == "6000000.00"
    bad = [*good, {**good[0], "topic_id": "T2", "rules": [{"kind": "nope"}]}]
    path.write_text(json.dumps(bad))
    with pytest.raises(CommandError, match=r"call 2 \(T2\): rule 1: kind 'nope'"):
        call_command("funding", "calls-import", str(path))
    assert Call.objects.count() == 1
