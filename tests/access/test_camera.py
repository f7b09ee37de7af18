"""The camera path (rempart.access.camera): same answers as the general path, no stale state.

``POST /api/v1/access/requests`` with a bearer token is served by hand-written SQL instead of
the ORM. These tests hold it to the general path (``services.submit_request``) and check that
every change is seen by the very next read: a revoked token, a lost role, a new permit, a mode
change, a schedule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from rempart.access import services
from rempart.access.models import AccessDecision, Passage, Permit, ZoneSchedule
from rempart.core.audit_models import AuditEntry
from tests.access.test_models_fixtures import (  # noqa: F401
    PIN,
    permits,
    token_for,
    zone,
)
from tests.access.test_models_fixtures import camera_read as read

pytestmark = pytest.mark.django_db

URL = "/api/v1/access/requests"


def post(client: Any, token: str, body: dict[str, Any]) -> Any:
    return client.post(
        URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


@pytest.fixture
def operator(make_user: Any) -> Any:
    return make_user("operator", modules=("access",))


@pytest.fixture
def camera(operator: Any, zone: Any) -> str:  # noqa: F811
    return token_for(operator, ["access:request"], ["old-town-in", "old-town-2f", "old-town-out"])


CASES = [
    ("old-town-in", "EM-112-AA", {}),  # emergency: grant
    ("old-town-in", "AB-123-CD", {}),  # bakery: not valid yet (2027) or outside its window
    ("old-town-in", "ZZ-999-ZZ", {}),  # no permit
    ("old-town-in", "EM-112-AA", {"confidence": 0.5}),  # refer
    ("old-town-in", "EM-112-AA", {"mass_kg": 20000}),
    ("old-town-2f", "RE-456-ZZ", {}),  # PIN required
    ("old-town-2f", "RE-456-ZZ", {"pin": PIN}),  # grant
    ("old-town-2f", "RE-456-ZZ", {"pin": "000000"}),  # PIN mismatch
    ("old-town-in", None, {"pin": PIN}),  # PIN only
    ("old-town-out", "ZZ-999-ZZ", {}),  # exit
]


@pytest.mark.parametrize("mode", ["normal", "lockdown", "emergency_open", "maintenance"])
def test_same_answer_and_row_as_the_general_path(
    client: Any,
    camera: str,
    zone: Any,  # noqa: F811
    permits: Any,  # noqa: F811
    operator: Any,
    mode: str,
) -> None:
    zone.mode = mode
    zone.save()
    granted: set[tuple[str, str]] = set()
    for lane, plate, extra in CASES:
        body = read(lane, plate, **extra)
        response = post(client, camera, body)
        assert response.status_code == 200, (lane, plate, extra, response.content)
        answer = response.json()
        expected = services.submit_request(
            lane,
            plate=plate,
            confidence=body["confidence"],
            read_at=services.parse_read_at(body["read_at"]),
            pin=extra.get("pin"),
            mass_kg=extra.get("mass_kg"),
            dry_run=True,
        ).decision
        assert (answer["decision"], answer["reason_code"], answer["reason"]) == (
            expected.outcome,
            expected.reason,
            expected.message,
        ), (lane, plate, extra)
        row = AccessDecision.objects.get(request_id=answer["request_id"])
        for field in ("plate", "has_permit", "pin_given", "mode", "local_time", "permit_ident"):
            assert getattr(row, field) == getattr(expected, field), (field, lane, plate)
        assert (row.lane.ident, row.zone_id, row.source, row.actor) == (
            lane,
            zone.pk,
            "api",
            operator.username,
        )
        assert row.confidence == body["confidence"]
        # a grant has its passage, but a plate granted again on the lane joins its first one
        repeat = answer["decision"] == "grant" and (lane, row.plate) in granted
        own = answer["decision"] == "grant" and not repeat
        assert Passage.objects.filter(decision=row).exists() == own, (lane, plate, extra)
        if own:
            assert Passage.objects.get(decision=row).state == "granted"
            if row.plate:
                granted.add((lane, row.plate))
        if repeat:
            assert Passage.objects.get(lane=row.lane, plate=row.plate).state == "granted"


def test_a_read_costs_six_statements_once_its_token_and_lane_are_known(
    client: Any,
    camera: str,
    permits: Any,  # noqa: F811
    django_assert_num_queries: Any,
) -> None:
    post(client, camera, read())  # reads token and lane; last_used_at is written once a minute
    # the state stamp, the permits, BEGIN (a savepoint here), 2 INSERT, COMMIT
    with django_assert_num_queries(6):
        assert post(client, camera, read()).json()["decision"] == "grant"
    with django_assert_num_queries(7):  # another lane: and that lane
        assert post(client, camera, read("old-town-out")).json()["decision"] == "grant"


def test_any_writer_changes_the_state_stamp_but_last_used_at_does_not(
    client: Any,
    camera: str,
    zone: Any,  # noqa: F811
    permits: Any,  # noqa: F811
) -> None:
    from django.db import connection

    from rempart.access.camera import STAMP_SQL
    from rempart.core.models import ApiToken
    from tests.core.test_state_stamp import stamp

    assert post(client, camera, read(plate="RE-456-ZZ")).json()["decision"] == "grant"
    before = stamp(STAMP_SQL)
    ApiToken.objects.update(last_used_at=timezone.now())  # the camera path's own bookkeeping
    assert stamp(STAMP_SQL) == before
    with connection.cursor() as cursor:  # raw SQL, no signal, no ORM
        cursor.execute("UPDATE access_zone SET mode = 'lockdown'")
    assert stamp(STAMP_SQL) != before
    assert post(client, camera, read(plate="RE-456-ZZ")).json()["decision"] == "deny"


def test_a_revoked_token_is_refused_on_the_next_read(
    client: Any,
    camera: str,
    permits: Any,  # noqa: F811
) -> None:
    from rempart.core.models import ApiToken

    assert post(client, camera, read()).status_code == 200
    ApiToken.objects.update(revoked_at=timezone.now())
    assert post(client, camera, read()).status_code == 401
    ApiToken.objects.update(revoked_at=None, expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert post(client, camera, read()).status_code == 401
    assert AccessDecision.objects.count() == 1


def test_a_token_whose_owner_lost_the_role_or_left_is_refused(
    client: Any,
    camera: str,
    operator: Any,
    permits: Any,  # noqa: F811
) -> None:
    assert post(client, camera, read()).status_code == 200
    operator.groups.clear()
    response = post(client, camera, read())
    assert response.status_code == 403
    assert "lacks the 'access:request' permission" in response.json()["detail"]
    denied = AuditEntry.objects.filter(action="permission_denied").last()
    assert denied is not None and denied.detail["scope"] == "access:request"
    operator.is_superuser = True  # superusers hold every role
    operator.save()
    assert post(client, camera, read()).status_code == 200
    operator.is_active = False
    operator.save()
    assert post(client, camera, read()).status_code == 401
    assert AccessDecision.objects.count() == 2


def test_another_lanes_token_is_refused_and_audited(
    client: Any,
    operator: Any,
    zone: Any,  # noqa: F811
) -> None:
    token = token_for(operator, ["access:request"], ["old-town-out"])
    response = post(client, token, read("old-town-in"))
    assert response.status_code == 403
    assert response.json()["detail"].startswith("this token may not act on lane 'old-town-in'")
    denied = AuditEntry.objects.get(action="permission_denied")
    assert denied.detail["lane"] == "old-town-in" and denied.actor.endswith(")")
    assert not AccessDecision.objects.exists()


def test_a_new_permit_is_seen_by_the_next_read(
    client: Any,
    camera: str,
    city: Any,
    zone: Any,  # noqa: F811
) -> None:
    assert post(client, camera, read(plate="NE-001-WW")).json()["decision"] == "deny"
    permit = Permit.objects.create(city=city, ident="new", plate="NE001WW", category="resident")
    permit.zones.add(zone)
    assert post(client, camera, read(plate="NE-001-WW")).json()["decision"] == "grant"
    permit.status = "suspended"
    permit.save()
    assert post(client, camera, read(plate="NE-001-WW")).json()["decision"] == "deny"


def test_a_mode_change_and_a_schedule_apply_to_the_next_read(
    client: Any,
    camera: str,
    zone: Any,  # noqa: F811
    permits: Any,  # noqa: F811
) -> None:
    assert post(client, camera, read(plate="RE-456-ZZ")).json()["decision"] == "grant"
    zone.mode = "lockdown"
    zone.save()
    locked = post(client, camera, read(plate="RE-456-ZZ")).json()
    assert locked["decision"] == "deny"
    zone.mode = "normal"
    zone.save()
    now = timezone.now()
    schedule = ZoneSchedule.objects.create(
        zone=zone,
        mode="lockdown",
        start=now - dt.timedelta(minutes=1),
        end=now + dt.timedelta(hours=1),
    )
    scheduled = post(client, camera, read(plate="RE-456-ZZ")).json()
    assert (scheduled["decision"], scheduled["reason_code"]) == ("deny", locked["reason_code"])
    assert "lockdown (scheduled until" in scheduled["reason"]
    # a schedule that has not started at read_at does not apply
    schedule.start = now + dt.timedelta(minutes=30)
    schedule.save()
    assert post(client, camera, read(plate="RE-456-ZZ")).json()["decision"] == "grant"


def test_a_session_caller_still_uses_the_general_path(
    client: Any,
    operator: Any,
    permits: Any,  # noqa: F811
) -> None:
    client.force_login(operator)
    response = client.post(URL, read(), content_type="application/json")
    assert response.status_code == 200, response.content
    assert AccessDecision.objects.get().actor == operator.username
