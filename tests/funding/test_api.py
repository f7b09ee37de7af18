"""Funding API: the eligibility of a consortium with a token, other cities, scopes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rempart.core.models import ApiToken
from rempart.funding.models import Call, Consortium, ConsortiumMember

pytestmark = pytest.mark.django_db


def bearer(user: Any, *scopes: str) -> dict[str, str]:
    _token, secret = ApiToken.issue(user, "test", list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_eligibility_with_a_token(
    make_user: Any, city: Any, organisation: Any, other_city: Any, horizon_call: Call
) -> None:
    viewer = make_user("viewer")
    consortium = Consortium.objects.create(city=city, organisation=organisation, name="C")
    for name, country in (("Nice", "FR"), ("Torino", "IT"), ("Oslo", "NO")):
        ConsortiumMember.objects.create(
            consortium=consortium, name=name, country=country, legal_type="municipality"
        )
    client = Client()
    url = f"/api/v1/funding/consortia/{consortium.pk}/eligibility"
    assert client.get(url).status_code == 401
    assert client.get(url, **bearer(viewer, "core:read")).status_code == 403
    answer = client.get(url, **bearer(viewer, "funding:read"))
    assert answer.status_code == 200
    assert answer.json() == [{"topic_id": horizon_call.topic_id, "eligible": True, "failures": []}]
    ConsortiumMember.objects.filter(name="Oslo").delete()
    (row,) = client.get(url, **bearer(viewer, "funding:read")).json()
    assert row["eligible"] is False
    assert [(f["rule"], f["found"], f["needed"]) for f in row["failures"]] == [
        ("min_beneficiaries", 2, 3),
        ("min_countries", 2, 3),
    ]
    lyon = Consortium.objects.create(city=other_city, organisation=organisation, name="L")
    hidden = client.get(
        f"/api/v1/funding/consortia/{lyon.pk}/eligibility", **bearer(viewer, "funding:read")
    )
    assert hidden.status_code == 404
    calls = client.get("/api/v1/funding/calls", **bearer(viewer, "funding:read")).json()
    assert calls[0]["topic_id"] == horizon_call.topic_id and calls[0]["rules"][1]["count"] == 3
