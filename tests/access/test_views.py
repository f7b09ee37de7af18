"""Control-room pages: the permission matrix, holders hidden from viewers, actions with reasons,
the live stream."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rempart.access.models import AccessDecision, Alarm, Passage, Permit
from rempart.core.audit_models import AuditEntry
from tests.access.test_models import CSV_BAD
from tests.access.test_models_fixtures import make_zone, permits, zone  # noqa: F401

pytestmark = pytest.mark.django_db

PAGES = [
    ("/access/", "viewer"),
    ("/access/decisions/", "viewer"),
    ("/access/permits/", "viewer"),
    ("/access/zones/old-town/", "viewer"),
    ("/access/permits/export.csv", "editor"),
]
POSTS = [
    ("/access/lanes/old-town-in/open/", "operator"),
    ("/access/lanes/old-town-in/close/", "operator"),
    ("/access/zones/old-town/mode/", "operator"),
]
ACTION = {"reason": "intercom call", "confirm": "on", "mode": "maintenance"}


@pytest.mark.parametrize(("url", "role"), PAGES)
def test_page_permission_matrix(
    client: Any,
    make_user: Any,
    permits: Any,  # noqa: F811
    url: str,
    role: str,
) -> None:
    assert client.get(url).status_code == 302  # anonymous: to the login page
    weaker = {"viewer": None, "editor": "viewer"}[role]
    client.force_login(make_user(weaker, modules=("access",)) if weaker else make_user(None))
    assert client.get(url).status_code == 403
    client.force_login(make_user(role, modules=("access",)))
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(("url", "role"), POSTS)
def test_action_permission_matrix(
    client: Any,
    make_user: Any,
    zone: Any,  # noqa: F811
    other_city: Any,
    url: str,
    role: str,
) -> None:
    assert client.post(url, ACTION).status_code == 302
    assert "/accounts/login/" in client.post(url, ACTION)["Location"]
    client.force_login(make_user("viewer", modules=("access",)))
    assert client.post(url, ACTION).status_code == 403
    # another city's zone: 404 (as a zone that does not exist) even for a supervisor of Lyon
    from rempart.core.models import Organisation

    lyon = Organisation.objects.create(name="Lyon", kind="municipality", city=other_city)
    lyon.cities.add(other_city)
    client.force_login(make_user("supervisor", modules=("access",), org=lyon, username="lyon-sup"))
    assert client.post(url, ACTION).status_code == 404
    client.force_login(make_user(role, modules=("access",)))
    response = client.post(url, ACTION)
    assert response.status_code == 302 and response["Location"] == "/access/"


def test_holders_hidden_from_viewers(client: Any, make_user: Any, permits: Any) -> None:  # noqa: F811
    client.force_login(make_user("viewer", modules=("access",)))
    page = client.get("/access/permits/").content.decode()
    assert "AB123CD" in page and "Delivery" in page
    assert "Boulangerie du Port" not in page and "+33 4 93" not in page
    client.force_login(make_user("editor", modules=("access",)))
    page = client.get("/access/permits/").content.decode()
    assert "Boulangerie du Port" in page and "+33 4 93" in page
    assert AuditEntry.objects.filter(action="sensitive_read").count() == 1


def test_lockdown_by_hand_needs_supervisor_reason_and_confirmation(
    client: Any,
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    url = "/access/zones/old-town/mode/"
    client.force_login(make_user("operator", modules=("access",)))
    lockdown = {"mode": "lockdown", "reason": "threat", "confirm": "on"}
    assert client.post(url, lockdown).status_code == 403
    client.force_login(make_user("supervisor", modules=("access",)))
    client.post(url, {"mode": "lockdown", "reason": "", "confirm": "on"})
    client.post(url, {"mode": "lockdown", "reason": "threat"})  # not confirmed
    zone.refresh_from_db()
    assert zone.mode == "normal"
    client.post(url, lockdown)
    zone.refresh_from_db()
    assert zone.mode == "lockdown" and zone.mode_reason == "threat"
    entry = AuditEntry.objects.get(action="access_mode")
    assert entry.detail["reason"] == "threat" and entry.actor.startswith("supervisor")
    assert AuditEntry.objects.filter(action="permission_denied").exists()


def test_open_lane_and_acknowledge_alarm(
    client: Any,
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    operator = make_user("operator", modules=("access",))
    client.force_login(operator)
    client.post(
        "/access/lanes/old-town-in/open/", {"reason": "taxi at the intercom", "confirm": "on"}
    )
    decision = AccessDecision.objects.get()
    assert (
        decision.reason == "operator_grant" and Passage.objects.filter(decision=decision).exists()
    )
    alarm = Alarm.objects.create(zone=zone, kind="link_lost", message="barrier x: link lost")
    client.post(f"/access/alarms/{alarm.pk}/ack/", {"note": "technician called"})
    alarm.refresh_from_db()
    assert alarm.acknowledged_by == operator and alarm.acknowledgement == "technician called"


def test_decision_log_filters(client: Any, make_user: Any, permits: Any) -> None:  # noqa: F811
    from rempart.access import services

    services.submit_request("old-town-in", plate="EM-112-AA", confidence=0.99)
    services.submit_request("old-town-in", plate="ZZ-999-ZZ", confidence=0.99)
    client.force_login(make_user("viewer", modules=("access",)))
    page = client.get("/access/decisions/?outcome=deny").content.decode()
    assert "ZZ999ZZ" in page and "EM112AA" not in page
    page = client.get("/access/decisions/?plate=em-112").content.decode()
    assert "EM112AA" in page and "ZZ999ZZ" not in page


def test_permit_import_page_reports_rows_and_writes_nothing(
    client: Any,
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    client.force_login(make_user("editor", modules=("access",)))
    upload = SimpleUploadedFile("p.csv", CSV_BAD.encode(), content_type="text/csv")
    response = client.post("/access/permits/import/", {"file": upload})
    assert response.status_code == 400
    assert "row 3.plate" in response.content.decode()
    assert Permit.objects.count() == 0


def test_stream_sends_lane_states(client: Any, make_user: Any, permits: Any) -> None:  # noqa: F811
    from rempart.access import services

    services.submit_request("old-town-in", plate="EM-112-AA", confidence=0.99)
    client.force_login(make_user("viewer", modules=("access",)))
    response = client.get("/access/stream/")
    assert response["Content-Type"] == "text/event-stream"
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"retry:")
    event = next(chunks).decode()
    response.close()
    assert event.startswith("event: update\ndata: ")
    data = json.loads(event.split("data: ", 1)[1])
    lane = next(lane for lane in data["lanes"] if lane["id"] == "old-town-in")
    assert lane["passage"] == "granted" and lane["last_decision"]["outcome"] == "grant"
    assert "Boulangerie" not in event  # plates and categories only


def test_site_panel_and_dashboard(client: Any, make_user: Any, site: Any, zone: Any) -> None:  # noqa: F811
    from rempart.access import dashboard

    zone.site = site
    zone.save()
    client.force_login(make_user("viewer"))
    page = client.get(site.get_absolute_url()).content.decode()
    assert 'id="access-panel"' in page and "Vieille ville" in page
    figures = dict(dashboard.counts(zone.city))
    assert figures["Controlled lanes"] == 3


def test_the_live_view_gets_its_words_translated(client: Any, make_user: Any, zone: Any) -> None:  # noqa: F811
    """control_room.js writes no English of its own: the page hands it translated labels."""
    client.force_login(make_user("viewer", modules=("access",)))
    page = client.get("/access/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    for attribute in (
        'data-label-live="en direct"',
        'data-label-reconnecting="reconnexion…"',
        'data-label-link-lost="liaison perdue"',
        'data-label-scheduled="Programmé : {label}"',
        'data-label-acknowledge="Acquitter"',
        'data-label-no-alarm="Aucune alarme."',
    ):
        assert attribute in page, attribute
