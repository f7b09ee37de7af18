"""Permit holders are personal data for access editors: never inside a decision's reason.

Viewers read reasons in the decision log, the control room's live stream and the API, and
cameras receive them: a reason names the permit (``emergency permit samu``), never its holder.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

from rempart.access import services
from rempart.access.models import AccessDecision
from tests.access.test_models_fixtures import camera_read as read
from tests.access.test_models_fixtures import permits, token_for, zone  # noqa: F401

pytestmark = pytest.mark.django_db

HOLDERS = ("SAMU 06", "Boulangerie du Port", "Mme Martin")


def test_reasons_name_the_permit_not_its_holder(
    client: Any,
    make_user: Any,
    permits: Any,  # noqa: F811
) -> None:
    granted = services.submit_request("old-town-in", plate="EM-112-AA", confidence=0.97).decision
    assert granted.outcome == "grant" and granted.permit_ident == "samu"
    assert "emergency permit samu" in granted.message
    services.submit_request("old-town-in", plate="RE-456-ZZ", confidence=0.97)  # a resident
    camera = token_for(make_user("operator", modules=("access",)), ["access:request"])
    answer = client.post(
        "/api/v1/access/requests",
        read(),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {camera}",
    ).json()
    assert answer["decision"] == "grant" and "permit samu" in answer["reason"]
    viewer = make_user("viewer", modules=("access",))
    client.force_login(viewer)
    log = client.get("/access/decisions/").content.decode()
    assert "emergency permit samu" in log
    reader = token_for(viewer, ["access:read"])
    api = client.get(
        f"/api/v1/access/requests/{granted.request_id.hex}", HTTP_AUTHORIZATION=f"Bearer {reader}"
    ).json()
    assert "permit samu" in api["reason"]
    texts = [log, json.dumps(answer), json.dumps(api)]
    texts += list(AccessDecision.objects.values_list("message", flat=True))
    for text in texts:
        for holder in HOLDERS:
            assert holder not in text


def test_the_migration_removes_holders_from_stored_reasons(permits: Any) -> None:  # noqa: F811
    migration = importlib.import_module(
        "rempart.access.migrations.0007_decision_messages_without_holders"
    )
    old = {
        "emergency permit samu (SAMU 06) valid at any time; it is Tue 02 Mar 2027 11:12 in "
        "Europe/Paris": "samu",
        "delivery permit bakery (Boulangerie (du) Port) expired on 2027-12-31; it is ...": "bakery",
        "the PIN typed does not match resident permit resident (Mme Martin)": "resident",
        "zone in lockdown: only emergency vehicles enter; works permit night (N. Works) is not one": (
            "night"
        ),
        "no permit for AB123CD in zone old-town (plate read)": "",
    }
    decision = services.submit_request("old-town-in", plate="ZZ-999-ZZ", confidence=0.97).decision
    for message, ident in old.items():
        AccessDecision.objects.filter(pk=decision.pk).update(message=message, permit_ident=ident)
        migration.scrub(django_apps(), None)
        scrubbed = AccessDecision.objects.get(pk=decision.pk).message
        for holder in ("SAMU 06", "Boulangerie", "Mme Martin", "N. Works"):
            assert holder not in scrubbed
        if ident:
            assert f"permit {ident} " in scrubbed + " "
        else:
            assert scrubbed == message  # nothing to remove, nothing changed


def django_apps() -> Any:
    from django.apps import apps

    return apps
