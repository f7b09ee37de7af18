"""The observatory: counts only, small cells (1 to 4) suppressed, complementary suppression."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rempart.prevention import statistics
from rempart.prevention.models import Case
from tests.prevention.conftest import Unit, make_case


def test_suppress_hides_small_cells_and_one_more_when_alone() -> None:
    assert statistics.suppress({"a": 12, "b": 5, "c": 0}) == [("a", 12), ("b", 5), ("c", 0)]
    # one small cell alone could be recovered from a total: the next smallest goes too
    assert statistics.suppress({"a": 12, "b": 3, "c": 7}) == [("a", 12), ("b", None), ("c", None)]
    assert statistics.suppress({"a": 1, "b": 4, "c": 9}) == [("a", None), ("b", None), ("c", 9)]


def test_the_observatory_counts_referrals_and_suppresses(unit: Unit) -> None:
    for _ in range(6):
        make_case(unit)
    Case.objects.filter(pk__in=list(Case.objects.values_list("pk", flat=True)[:2])).update(
        source="police"
    )
    tables = dict(statistics.observatory(unit.city, dt.date(2026, 1, 1), dt.date(2026, 12, 31)))
    by_source = dict(tables["Referrals by source"])
    # 4 from education and 2 from the police: both under 5, suppressed
    assert by_source["Education"] is None and by_source["Police"] is None
    assert by_source["Health"] == 0
    assert dict(tables["Referrals by month"]) == {"2026-03": 6}
    assert dict(tables["Referrals by age band"])["18 to 25"] == 6


@pytest.fixture
def coordinator_client(unit: Unit) -> Client:
    client = Client()
    client.force_login(unit.coordinator)
    return client


def test_the_export_for_the_prefecture(unit: Unit, coordinator_client: Client) -> None:
    make_case(unit)
    response = coordinator_client.get(
        reverse("prevention:statistics_csv"), {"since": "2026-01-01", "until": "2026-12-31"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Referrals by source,Education,<5" in body
    assert "Zéphyrin" not in body


def test_the_api_gives_the_same_tables(
    unit: Unit, coordinator_client: Client, settings: Any
) -> None:
    make_case(unit)
    response = coordinator_client.get(
        "/api/v1/prevention/statistics",
        {"city": "nice", "since": "2026-01-01", "until": "2026-12-31"},
    )
    assert response.status_code == 200
    source = response.json()["tables"][0]
    assert {"category": "Education", "count": None} in source["rows"]
    worker = Client()
    worker.force_login(unit.worker)
    assert (
        worker.get(
            "/api/v1/prevention/statistics",
            {"city": "nice", "since": "2026-01-01", "until": "2026-12-31"},
        ).status_code
        == 403
    )


def test_time_to_first_contact_comes_from_screening(unit: Unit, settings: Any) -> None:
    settings.PREVENTION_REQUIRE_2FA = False
    cases = [make_case(unit) for _ in range(5)]
    client = Client()
    client.force_login(unit.worker)
    for case in cases:  # referred on 2 March 2026, first contact 5 days later
        url = reverse("prevention:screen", kwargs={"pk": case.pk})
        answer = client.post(
            url, {"decision": "accept", "reasons": "Specific", "first_contact_on": "2026-03-07"}
        )
        assert answer.status_code == 302
    tables = dict(statistics.observatory(unit.city, dt.date(2026, 1, 1), dt.date(2026, 12, 31)))
    bands = dict(tables["Time from referral to first contact (accepted cases)"])
    assert bands == {
        "within 7 days": 5,
        "8 to 30 days": 0,
        "more than 30 days": 0,
        "no contact yet": 0,
    }
