"""Lockdown precedence (issue 11 item 1): a zone in lockdown refuses every operator action that
would lower a barrier into it -- letting a vehicle through and granting a referral -- through
the web and the API, for every role, with a sentence naming the mode, who set it and when;
emergency vehicles still enter under the existing rules; a supervisor lifts it or makes a
recorded, reasoned exception."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from rempart.access import precedence, services
from rempart.access.models import AccessDecision, Passage, ZoneSchedule
from rempart.core.audit_models import AuditEntry
from tests.access.test_models_fixtures import make_zone, permits, zone  # noqa: F401

pytestmark = pytest.mark.django_db

REASON = {"reason": "driver known, talked on the intercom", "confirm": "on"}


def lock(zone: Any, make_user: Any) -> Any:  # noqa: F811
    supervisor = make_user("supervisor", modules=("access",), username="chief-dupont")
    services.set_zone_mode(zone, "lockdown", supervisor, "threat on the promenade")
    zone.refresh_from_db()
    return supervisor


def refer(plate: str) -> AccessDecision:
    decision = services.submit_request("old-town-in", plate=plate, confidence=0.5).decision
    assert decision.outcome == "refer"
    return decision


def web(client: Client, action: str, decision: AccessDecision | None, **extra: Any) -> Any:
    if action == "open":
        return client.post("/access/lanes/old-town-in/open/", {**REASON, **extra})
    assert decision is not None
    return client.post(
        f"/access/requests/{decision.request_id}/answer/", {**REASON, "answer": "grant", **extra}
    )


def api(client: Client, user: Any, action: str, decision: AccessDecision | None, **extra: Any):  # type: ignore[no-untyped-def]
    """The API with the user's session (a command token's scopes follow its owner's role)."""
    client.force_login(user)
    headers: dict[str, str] = {}
    if action == "open":
        path, body = "/api/v1/access/lanes/old-town-in/open", {"reason": "intercom", **extra}
    else:
        assert decision is not None
        path = f"/api/v1/access/requests/{decision.request_id.hex}/answer"
        body = {"grant": True, "reason": "intercom", **extra}
    return client.post(path, body, content_type="application/json", **headers)


def lowered() -> int:
    """Passages that would lower a barrier (the daemon drives only these)."""
    return Passage.objects.filter(state__in=Passage.ACTIVE).count()


@pytest.mark.parametrize("channel", ["web", "api"])
@pytest.mark.parametrize("action", ["open", "grant_referral"])
@pytest.mark.parametrize("role", ["viewer", "editor", "operator", "supervisor"])
def test_lockdown_refuses_every_lowering_action_for_every_role(
    client: Client,
    make_user: Any,
    zone: Any,  # noqa: F811
    permits: Any,  # noqa: F811
    role: str,
    action: str,
    channel: str,
) -> None:
    lock(zone, make_user)
    decision = refer("RE-456-ZZ") if action == "grant_referral" else None  # a resident
    user = make_user(role, modules=("access",), username=f"{role}-1")
    before = AccessDecision.objects.count()
    if channel == "web":
        client.force_login(user)
        response = web(client, action, decision)
    else:
        response = api(client, user, action, decision)
    # the role refuses before the mode is read (the API's access:command is a supervisor's)
    if role in ("viewer", "editor") or (channel == "api" and role == "operator"):
        assert response.status_code == 403
    else:
        if channel == "web":
            assert response.status_code in (302, 409)
            shown = client.get("/access/") if response.status_code == 302 else response
            page = shown.content.decode()
        else:
            assert response.status_code == 409, response.content
            page = response.json()["detail"]
        assert "lockdown" in page and "chief-dupont" in page
        assert "Only a supervisor can lift it" in page
        refused = AuditEntry.objects.filter(action="access_lockdown_refused").get()
        assert refused.detail["action"] == action and refused.detail["set_by"] == "chief-dupont"
    assert AccessDecision.objects.count() == before  # nothing decided
    assert lowered() == 0


def test_the_sentence_names_mode_who_and_when_in_french_and_zone_time(
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    supervisor = make_user("supervisor", modules=("access",), username="chief-dupont")
    set_at = dt.datetime(2027, 7, 14, 16, 5, tzinfo=dt.UTC)  # 18:05 in Paris (CEST, UTC+2)
    services._apply_mode(zone, services.ZoneMode.LOCKDOWN, "chief-dupont", "threat", set_at)
    operator = make_user("operator", modules=("access",))
    lane = zone.lanes.get(ident="old-town-in")
    with translation.override("fr"), pytest.raises(services.ActionDenied) as refused:
        services.operator_open(lane, operator, "livraison")
    text = str(refused.value)
    assert refused.value.status == 409
    assert "bouclage" in text and "chief-dupont" in text and "18:05" in text
    assert "14 juillet 2027" in text
    with translation.override("en"), pytest.raises(services.ActionDenied) as refused:
        services.operator_open(lane, operator, "delivery")
    text = str(refused.value)
    assert "lockdown" in text and "chief-dupont" in text and "July 14, 2027" in text
    assert "6:05" in text  # en: 6:05 p.m.
    del supervisor


def test_a_scheduled_lockdown_refuses_and_names_the_schedule_and_who_set_it(
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    supervisor = make_user("supervisor", modules=("access",), username="chief-dupont")
    now = timezone.now()
    services.add_schedule(
        zone, "lockdown", now - dt.timedelta(minutes=5), now + dt.timedelta(hours=2),
        "14 July fireworks", supervisor,
    )  # fmt: skip
    assert ZoneSchedule.objects.get().created_by == "chief-dupont"
    operator = make_user("operator", modules=("access",))
    with pytest.raises(services.ActionDenied) as refused:
        services.operator_open(zone.lanes.get(ident="old-town-in"), operator, "delivery")
    assert "14 July fireworks" in str(refused.value) and "chief-dupont" in str(refused.value)
    assert lowered() == 0


def test_emergency_vehicles_still_enter_under_the_existing_rules(
    make_user: Any,
    zone: Any,  # noqa: F811
    permits: Any,  # noqa: F811
) -> None:
    lock(zone, make_user)
    # a confident read of the SAMU's emergency permit: granted by the engine itself
    samu = services.submit_request("old-town-in", plate="EM-112-AA", confidence=0.97).decision
    assert (samu.outcome, samu.reason) == ("grant", "emergency_in_lockdown")
    # an unsure read of it is referred; the operator may grant it (the permit is valid)
    referred = refer("EM-112-AA")
    operator = make_user("operator", modules=("access",))
    services.answer_referral(referred, operator, True, "SAMU, checked on the camera")
    assert lowered() == 2
    # denying is never refused, nor closing
    resident = refer("RE-456-ZZ")
    services.answer_referral(resident, operator, False, "lockdown")
    services.operator_close(zone.lanes.get(ident="old-town-in"), operator, "lockdown")
    assert not AuditEntry.objects.filter(action="access_lockdown_refused").exists()


def test_an_operator_lets_an_emergency_vehicle_through_by_its_plate(
    client: Client,
    make_user: Any,
    zone: Any,  # noqa: F811
    permits: Any,  # noqa: F811
) -> None:
    lock(zone, make_user)
    client.force_login(make_user("operator", modules=("access",)))
    response = client.post("/access/lanes/old-town-in/open/", {**REASON, "plate": "RE-456-ZZ"})
    assert response.status_code == 302 and lowered() == 0  # a resident: refused
    assert AuditEntry.objects.filter(action="access_lockdown_refused").count() == 1
    response = client.post("/access/lanes/old-town-in/open/", {**REASON, "plate": "em-112-aa"})
    assert response.status_code == 302 and lowered() == 1  # the SAMU's emergency permit
    decision = AccessDecision.objects.get(source="operator")
    assert decision.plate == "EM112AA" and decision.outcome == "grant"
    response = client.post("/access/lanes/old-town-in/open/", {**REASON, "plate": "??"})
    assert lowered() == 1  # a malformed plate: 422, one line, nothing written


def test_exit_lanes_follow_the_zones_lockdown_exit_policy(
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    lock(zone, make_user)
    operator = make_user("operator", modules=("access",))
    exit_lane = zone.lanes.get(ident="old-town-out")
    services.operator_open(exit_lane, operator, "a resident leaves")  # free (default)
    zone.lockdown_exit = "closed"
    zone.save()
    exit_lane.refresh_from_db()
    with pytest.raises(services.ActionDenied) as refused:
        services.operator_open(exit_lane, operator, "a resident leaves")
    assert refused.value.status == 409


@pytest.mark.parametrize("channel", ["web", "api"])
@pytest.mark.parametrize("action", ["open", "grant_referral"])
def test_a_supervisor_makes_a_recorded_reasoned_exception_an_operator_cannot(
    client: Client,
    make_user: Any,
    zone: Any,  # noqa: F811
    permits: Any,  # noqa: F811
    action: str,
    channel: str,
) -> None:
    supervisor = lock(zone, make_user)
    operator = make_user("operator", modules=("access",))
    decision = refer("RE-456-ZZ") if action == "grant_referral" else None

    def attempt(user: Any) -> Any:
        if channel == "web":
            client.force_login(user)
            return web(client, action, decision, lockdown_exception="on")
        return api(client, user, action, decision, lockdown_exception=True)

    assert attempt(operator).status_code == 403  # an exception is the supervisor's
    if channel == "web":
        assert AuditEntry.objects.filter(action="access_lockdown_refused").count() == 1
    assert lowered() == 0
    response = attempt(supervisor)
    assert response.status_code in (200, 302), response.content
    assert lowered() == 1
    exception = AuditEntry.objects.get(action="access_lockdown_exception")
    assert exception.detail["reason"] == "intercom" if channel == "api" else True
    assert exception.detail["action"] == action and exception.detail["lane"] == "old-town-in"


def test_the_supervisor_lifts_the_lockdown_then_operators_act_again(
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    supervisor = lock(zone, make_user)
    operator = make_user("operator", modules=("access",))
    lane = zone.lanes.get(ident="old-town-in")
    with pytest.raises(services.ActionDenied):
        services.operator_open(lane, operator, "delivery")
    with pytest.raises(services.ActionDenied) as refused:  # operators cannot lift it
        services.set_zone_mode(zone, "normal", operator, "over")
    assert refused.value.status == 403
    services.set_zone_mode(zone, "normal", supervisor, "threat over")
    lane.zone.refresh_from_db()
    services.operator_open(lane, operator, "delivery")
    assert lowered() == 1


def test_every_zone_page_shows_the_mode_with_who_set_it_and_a_countdown(
    client: Client,
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    supervisor = make_user("supervisor", modules=("access",), username="chief-dupont")
    start = timezone.now() + dt.timedelta(hours=2, minutes=30)
    services.add_schedule(zone, "lockdown", start, start + dt.timedelta(hours=4), "14 juillet",
                          supervisor)  # fmt: skip
    client.force_login(make_user("viewer", modules=("access",)))
    for path in ("/access/", "/access/zones/old-town/"):
        page = client.get(path).content.decode()
        assert 'data-mode-banner="old-town"' in page and 'data-mode="normal"' in page
        assert "14 juillet" in page and "data-countdown=" in page
        assert "2 h 29 min" in page or "2 h 30 min" in page
    services.set_zone_mode(zone, "lockdown", supervisor, "threat on the promenade")
    for path in ("/access/", "/access/zones/old-town/"):
        page = client.get(path).content.decode()
        assert 'data-mode="lockdown"' in page and "chief-dupont" in page
        assert "threat on the promenade" in page


def test_countdown_words() -> None:
    assert precedence.countdown_text(45) == "45 s"
    assert precedence.countdown_text(3 * 60 + 7) == "3 min 07 s"
    assert precedence.countdown_text(2 * 3600 + 5 * 60) == "2 h 05 min"
    assert precedence.countdown_text(2 * 86400 + 3 * 3600) == "2 d 3 h"


def test_a_scheduled_lockdown_closes_passages_granted_before_it_started(
    make_user: Any,
    zone: Any,  # noqa: F811
    permits: Any,  # noqa: F811
) -> None:
    supervisor = make_user("supervisor", modules=("access",), username="chief-dupont")
    operator = make_user("operator", modules=("access",))
    before = services.operator_open(zone.lanes.get(ident="old-town-in"), operator, "delivery")
    start = timezone.now() + dt.timedelta(seconds=1)
    services.add_schedule(
        zone, "lockdown", start, start + dt.timedelta(hours=1), "fireworks", supervisor
    )
    assert precedence.enforce_scheduled_lockdowns(start - dt.timedelta(seconds=1)) == {}
    # the schedule starts: an emergency vehicle enters under the engine's rule, later
    samu = services.submit_request(
        "old-town-in", plate="EM-112-AA", confidence=0.97, now=start + dt.timedelta(seconds=2)
    )
    Passage.objects.filter(pk=samu.passage.pk).update(created_at=start + dt.timedelta(seconds=2))
    closed = precedence.enforce_scheduled_lockdowns(start + dt.timedelta(seconds=3))
    assert closed == {"old-town": 1}
    assert Passage.objects.get(pk=before.passage.pk).state == "closing"
    assert Passage.objects.get(pk=samu.passage.pk).state == "granted"  # granted in lockdown
    entry = AuditEntry.objects.filter(action="access_mode").latest("pk")
    assert entry.detail["source"] == "schedule" and entry.detail["passages_closed"] == 1
    assert precedence.enforce_scheduled_lockdowns(start + dt.timedelta(seconds=4)) == {}


def test_the_schedules_table_keeps_the_camera_state_stamp_triggers() -> None:
    """Migration 0008 rebuilds the table on SQLite; the triggers that tell the camera path a
    schedule changed must survive it (else a cancelled lockdown would go on denying)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                ["access_zoneschedule"],
            )
            names = {row[0] for row in cursor.fetchall()}
            assert {
                f"access_zoneschedule_state_stamp_{e}" for e in ("insert", "update", "delete")
            } <= names
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'access_zoneschedule'::regclass"
            )
            assert "access_zoneschedule_state_stamp" in {row[0] for row in cursor.fetchall()}
