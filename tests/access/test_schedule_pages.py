"""Scheduled modes: change and cancel one not yet ended, with a reason; a lockdown needs a
supervisor; a cancelled lockdown no longer applies to the next read (general and camera paths)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from rempart.access import services
from rempart.access.models import ZoneSchedule
from rempart.core.audit_models import AuditEntry
from tests.access.test_models_fixtures import lyon_supervisor, permits, token_for, zone  # noqa: F401

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
CANCEL = {"reason": "scheduled by mistake", "confirm": "on"}


def schedule(zone: Any, mode: str, start: dt.timedelta, end: dt.timedelta) -> ZoneSchedule:  # noqa: F811
    now = timezone.now()
    return ZoneSchedule.objects.create(
        zone=zone, mode=mode, start=now + start, end=now + end, label=f"{mode} test"
    )


def cancel_url(s: ZoneSchedule) -> str:
    return f"/access/zones/{s.zone.ident}/schedules/{s.pk}/cancel/"


def edit_url(s: ZoneSchedule) -> str:
    return f"/access/zones/{s.zone.ident}/schedules/{s.pk}/edit/"


def local(value: dt.datetime) -> str:
    return timezone.localtime(value, dt.timezone(dt.timedelta(hours=1))).strftime("%Y-%m-%d %H:%M")


def edit_body(s: ZoneSchedule, **change: Any) -> dict[str, Any]:
    import zoneinfo

    tz = zoneinfo.ZoneInfo(s.zone.timezone)
    return {
        "mode": s.mode,
        "start": timezone.localtime(s.start, tz).strftime("%Y-%m-%d %H:%M"),
        "end": timezone.localtime(s.end, tz).strftime("%Y-%m-%d %H:%M"),
        "label": s.label,
        "reason": "moved by the prefecture",
        "confirm": "on",
        **change,
    }


def read(plate: str = "RE-456-ZZ") -> Any:
    """A resident's confident read now (granted in normal mode, denied in lockdown)."""
    return services.submit_request("old-town-in", plate=plate, confidence=0.99).decision


def test_permission_matrix(
    client: Any,
    make_user: Any,
    zone: Any,  # noqa: F811
    other_city: Any,
) -> None:
    maintenance = schedule(zone, "maintenance", 2 * HOUR, 3 * HOUR)
    lockdown = schedule(zone, "lockdown", 4 * HOUR, 5 * HOUR)
    assert "/accounts/login/" in client.post(cancel_url(maintenance), CANCEL)["Location"]
    assert "/accounts/login/" in client.get(edit_url(maintenance))["Location"]
    for role in ("viewer", "editor"):
        client.force_login(make_user(role, modules=("access",)))
        assert client.get(edit_url(maintenance)).status_code == 403
        assert client.post(edit_url(maintenance), edit_body(maintenance)).status_code == 403
        assert client.post(cancel_url(maintenance), CANCEL).status_code == 403
    client.force_login(lyon_supervisor(make_user, other_city))  # another city's: as none
    assert client.get(edit_url(lockdown)).status_code == 404
    assert client.post(cancel_url(lockdown), CANCEL).status_code == 404
    # an operator may change a maintenance schedule, not a lockdown, nor make one
    client.force_login(make_user("operator", modules=("access",)))
    assert client.get(edit_url(lockdown)).status_code == 200
    assert client.post(cancel_url(lockdown), CANCEL).status_code == 403
    assert client.post(edit_url(lockdown), edit_body(lockdown, label="x")).status_code == 403
    to_lockdown = edit_body(maintenance, mode="lockdown")
    assert client.post(edit_url(maintenance), to_lockdown).status_code == 403
    assert ZoneSchedule.objects.filter(mode="lockdown").count() == 1
    assert ZoneSchedule.objects.get(pk=lockdown.pk).label == "lockdown test"
    assert AuditEntry.objects.filter(action="permission_denied").count() == 11
    # a schedule of another zone under this zone's URL: 404
    from tests.access.test_models_fixtures import make_zone

    other = make_zone(zone.city, "harbour")
    assert (
        client.get(f"/access/zones/{other.ident}/schedules/{lockdown.pk}/edit/").status_code == 404
    )
    response = client.post(cancel_url(maintenance), CANCEL)
    assert response.status_code == 302 and response["Location"] == "/access/zones/old-town/"
    client.force_login(make_user("supervisor", modules=("access",)))
    assert client.post(cancel_url(lockdown), CANCEL).status_code == 302
    assert not ZoneSchedule.objects.exists()


def test_cancel_a_future_lockdown_deletes_it_and_the_audit_trail_keeps_it(
    client: Any,
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    lockdown = schedule(zone, "lockdown", 2 * HOUR, 6 * HOUR)
    supervisor = make_user("supervisor", modules=("access",))
    client.force_login(supervisor)
    page = client.get("/access/zones/old-town/").content.decode()
    assert cancel_url(lockdown) in page and "Cancel this schedule" in page
    client.post(cancel_url(lockdown), CANCEL)
    assert not ZoneSchedule.objects.exists()
    entry = AuditEntry.objects.get(action="access_schedule_cancel")
    assert entry.detail["effect"] == "deleted" and entry.detail["reason"] == CANCEL["reason"]
    assert entry.detail["schedule"]["mode"] == "lockdown"
    assert entry.detail["schedule"]["start"] == lockdown.start.isoformat()
    assert entry.detail["schedule"]["label"] == "lockdown test"
    assert entry.object_id == str(lockdown.pk) and entry.actor == supervisor.username
    assert entry.city == "nice"
    assert AuditEntry.objects.filter(action="delete", object_type="access.zoneschedule").exists()


def test_a_cancelled_lockdown_no_longer_applies(
    client: Any,
    make_user: Any,
    permits: Any,  # noqa: F811
    zone: Any,  # noqa: F811
) -> None:
    running = schedule(zone, "lockdown", -HOUR, 3 * HOUR)
    later = schedule(zone, "lockdown", 5 * HOUR, 6 * HOUR)
    denied = read()
    assert (denied.outcome, denied.reason, denied.mode) == ("deny", "zone_lockdown", "lockdown")
    client.force_login(make_user("supervisor", modules=("access",)))
    page = client.get("/access/zones/old-town/").content.decode()
    assert "End this schedule now" in page
    assert client.post(cancel_url(running), CANCEL).status_code == 302
    running.refresh_from_db()  # in force: ended now, kept as the record of what ran
    assert running.end <= timezone.now() and running.start < running.end
    granted = read()
    assert (granted.outcome, granted.reason, granted.mode) == ("grant", "permit_valid", "normal")
    entry = AuditEntry.objects.get(action="access_schedule_cancel")
    assert entry.detail["effect"] == "ended"
    # the later one still applies when its time comes
    at = later.start + dt.timedelta(minutes=1)
    future = services.submit_request(
        "old-town-in", plate="RE-456-ZZ", confidence=0.99, read_at=at, now=at
    ).decision
    assert future.reason == "zone_lockdown"
    # an ended schedule is history: it cannot be cancelled or changed again
    response = client.post(cancel_url(running), CANCEL)
    assert response.status_code == 409 and "ended at" in response.content.decode()
    response = client.post(edit_url(running), edit_body(running, end=local(later.end)))
    assert response.status_code == 409
    assert AuditEntry.objects.filter(action="access_schedule_cancel").count() == 1


def test_a_cancelled_lockdown_no_longer_applies_to_the_camera_path(
    client: Any,
    make_user: Any,
    permits: Any,  # noqa: F811
    zone: Any,  # noqa: F811
) -> None:
    camera = token_for(make_user("operator", modules=("access",)), ["access:request"])
    running = schedule(zone, "lockdown", -HOUR, 3 * HOUR)

    def post() -> dict[str, Any]:
        body = {
            "lane": "old-town-in",
            "plate": "RE-456-ZZ",
            "confidence": 0.99,
            "read_at": timezone.now().isoformat(),
        }
        response = client.post(
            "/api/v1/access/requests",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {camera}",
        )
        assert response.status_code == 200, response.content
        return response.json()

    assert post()["reason_code"] == "zone_lockdown"
    services.cancel_schedule(running, make_user("supervisor", modules=("access",)), "mistake")
    assert post()["reason_code"] == "permit_valid"


def test_cancel_needs_a_reason_and_a_confirmation(
    client: Any,
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    lockdown = schedule(zone, "lockdown", HOUR, 2 * HOUR)
    client.force_login(make_user("supervisor", modules=("access",)))
    assert client.post(cancel_url(lockdown), {"reason": "", "confirm": "on"}).status_code == 422
    assert client.post(cancel_url(lockdown), {"reason": "mistake"}).status_code == 422
    with pytest.raises(services.ActionDenied) as refused:
        services.cancel_schedule(lockdown, make_user("admin", modules=("access",)), "  ")
    assert refused.value.status == 422
    assert ZoneSchedule.objects.filter(pk=lockdown.pk).exists()
    assert not AuditEntry.objects.filter(action="access_schedule_cancel").exists()


def test_edit_a_schedule(client: Any, make_user: Any, zone: Any) -> None:  # noqa: F811
    maintenance = schedule(zone, "maintenance", 2 * HOUR, 3 * HOUR)
    operator = make_user("operator", modules=("access",))
    client.force_login(operator)
    page = client.get(edit_url(maintenance))
    assert page.status_code == 200 and "maintenance test" in page.content.decode()
    body = edit_body(maintenance, start="2030-07-14 18:00", end="2030-07-15 02:00", label="14")
    response = client.post(edit_url(maintenance), body)
    assert response.status_code == 302
    maintenance.refresh_from_db()
    # typed in the zone's time (Europe/Paris, summer: +02:00)
    assert maintenance.start == dt.datetime(2030, 7, 14, 16, 0, tzinfo=dt.UTC)
    assert maintenance.end == dt.datetime(2030, 7, 15, 0, 0, tzinfo=dt.UTC)
    assert maintenance.label == "14" and maintenance.mode == "maintenance"
    entry = AuditEntry.objects.get(action="access_schedule_edit")
    assert entry.detail["reason"] == "moved by the prefecture"
    assert entry.detail["after"]["start"] == "2030-07-14T16:00:00+00:00"
    assert entry.detail["before"]["label"] == "maintenance test"
    assert entry.actor == operator.username
    # a supervisor may turn it into a lockdown
    client.force_login(make_user("supervisor", modules=("access",)))
    assert client.post(edit_url(maintenance), {**body, "mode": "lockdown"}).status_code == 302
    maintenance.refresh_from_db()
    assert maintenance.mode == "lockdown"


@pytest.mark.parametrize(
    ("change", "status", "text"),
    [
        ({"end": "2030-07-14 17:00"}, 422, "is not after start"),
        ({"start": "2020-01-01 10:00", "end": "2020-01-01 11:00"}, 422, "is in the past"),
        ({"end": "tomorrow"}, 400, "Enter a valid date/time"),
        ({"mode": "party"}, 400, "party"),
        ({"reason": ""}, 400, "This field is required"),
        ({"confirm": ""}, 400, "This field is required"),
    ],
)
def test_bad_edits_change_nothing(
    client: Any,
    make_user: Any,
    zone: Any,  # noqa: F811
    change: dict[str, str],
    status: int,
    text: str,
) -> None:
    maintenance = schedule(zone, "maintenance", 2 * HOUR, 3 * HOUR)
    client.force_login(make_user("operator", modules=("access",)))
    body = {**edit_body(maintenance, start="2030-07-14 18:00", end="2030-07-15 02:00"), **change}
    response = client.post(edit_url(maintenance), body)
    assert response.status_code == status
    assert text in response.content.decode()
    stored = ZoneSchedule.objects.get(pk=maintenance.pk)
    assert (stored.start, stored.end, stored.label) == (
        maintenance.start,
        maintenance.end,
        maintenance.label,
    )
    assert not AuditEntry.objects.filter(action="access_schedule_edit").exists()
