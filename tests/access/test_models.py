"""The service layer over the stored zones and permits: decisions as stored rows, passages, modes,
the load file, CSV permits and access points (the pure engine's own tables are in test_decide)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rempart.access import load_file, services
from rempart.access.config import parse_config
from rempart.access.models import AccessDecision, Barrier, Lane, Passage, Permit, Zone, ZoneSchedule
from rempart.core.audit_models import AuditEntry
from tests.access.test_models_fixtures import PIN, paris, permits, zone  # noqa: F401

pytestmark = pytest.mark.django_db


def decide_at(lane: str, at: str, plate: str | None = "AB-123-CD", **kw: Any) -> AccessDecision:
    """Submit through the service layer as if the read arrived at ``at`` (zone local time)."""
    when = paris(at)
    kw.setdefault("confidence", 0.97)
    result = services.submit_request(lane, plate=plate, read_at=when, now=when, **kw)
    assert result.stored
    return AccessDecision.objects.get(pk=result.decision.pk)


# Tue 2 March 2027 (CET, +01:00); Sun 28 March 2027 is the spring-forward day (02:00 -> 03:00),
# Sun 31 October 2027 the fall-back day (03:00 -> 02:00).
TABLE = [
    # lane suffix, local instant, plate, extra, outcome, reason
    ("in", "2027-03-02T10:29:59+01:00", "AB-123-CD", {}, "grant", "permit_valid"),
    ("in", "2027-03-02T10:30:00+01:00", "AB-123-CD", {}, "deny", "outside_window"),
    ("in", "2027-03-02T04:59:00+01:00", "AB-123-CD", {}, "deny", "outside_window"),
    ("in", "2027-03-07T08:00:00+01:00", "AB-123-CD", {}, "deny", "outside_window"),  # Sunday
    ("in", "2027-03-02T08:00:00+01:00", "AB-123-CD", {"mass_kg": 19000}, "deny", "mass_exceeded"),
    ("in", "2027-07-14T08:00:00+02:00", "AB-123-CD", {}, "deny", "permit_exception_date"),
    ("in", "2028-01-04T08:00:00+01:00", "AB-123-CD", {}, "deny", "permit_expired"),
    ("in", "2027-03-02T08:00:00+01:00", "ZZ-999-ZZ", {}, "deny", "no_permit"),
    (
        "in",
        "2027-03-02T08:00:00+01:00",
        "AB-123-CD",
        {"confidence": 0.62},
        "refer",
        "low_confidence",
    ),
    ("in", "2027-03-02T03:00:00+01:00", "EM-112-AA", {}, "grant", "permit_valid"),
    ("out", "2027-03-02T03:00:00+01:00", "ZZ-999-ZZ", {}, "grant", "exit_free"),
    ("2f", "2027-03-02T09:00:00+01:00", "RE-456-ZZ", {}, "deny", "pin_required"),
    ("2f", "2027-03-02T09:00:00+01:00", "RE-456-ZZ", {"pin": PIN}, "grant", "permit_valid"),
    ("2f", "2027-03-02T09:00:00+01:00", "RE-456-ZZ", {"pin": "000000"}, "deny", "pin_mismatch"),
    # DST, spring forward: 01:30-03:30 lasts one hour of real time that night
    ("in", "2027-03-28T01:45:00+01:00", "NT-777-NT", {}, "grant", "permit_valid"),
    ("in", "2027-03-28T03:15:00+02:00", "NT-777-NT", {}, "grant", "permit_valid"),
    ("in", "2027-03-28T03:45:00+02:00", "NT-777-NT", {}, "deny", "outside_window"),
    # ... and 02:00-03:00 does not exist at all
    ("in", "2027-03-28T01:59:00+01:00", "DW-222-DW", {}, "deny", "outside_window"),
    ("in", "2027-03-28T03:00:00+02:00", "DW-222-DW", {}, "deny", "outside_window"),
    # DST, fall back: 02:30 happens twice, both inside 02:00-03:00
    ("in", "2027-10-31T02:30:00+02:00", "DW-222-DW", {}, "grant", "permit_valid"),
    ("in", "2027-10-31T02:30:00+01:00", "DW-222-DW", {}, "grant", "permit_valid"),
    ("in", "2027-10-31T03:10:00+01:00", "DW-222-DW", {}, "deny", "outside_window"),
]


@pytest.mark.parametrize(("suffix", "at", "plate", "extra", "outcome", "reason"), TABLE)
def test_decision_table_through_the_service_layer(
    permits: Any,  # noqa: F811
    suffix: str,
    at: str,
    plate: str,
    extra: dict[str, Any],
    outcome: str,
    reason: str,
) -> None:
    row = decide_at(f"old-town-{suffix}", at, plate, **extra)
    assert (row.outcome, row.reason) == (outcome, reason), row.message
    assert row.local_time.startswith(at[:16])  # the zone's local time is what was recorded
    # a passage exists for a grant and only for a grant
    assert Passage.objects.filter(decision=row).exists() == (outcome == "grant")
    if outcome == "grant":
        assert Passage.objects.get(decision=row).state == Passage.State.GRANTED


def test_lockdown_by_hand_overrides_permits_except_emergency(
    zone: Any,  # noqa: F811
    permits: Any,  # noqa: F811
    make_user: Any,
) -> None:
    supervisor = make_user("supervisor", modules=("access",))
    services.set_zone_mode(zone, "lockdown", supervisor, "suspicious vehicle reported")
    at = "2027-03-02T08:00:00+01:00"
    assert decide_at("old-town-in", at).reason == "zone_lockdown"
    assert decide_at("old-town-in", at, "EM-112-AA").reason == "emergency_in_lockdown"
    assert decide_at("old-town-out", at, "ZZ-999-ZZ").reason == "exit_free"
    zone.lockdown_exit = "closed"
    zone.save()
    assert decide_at("old-town-out", at, "ZZ-999-ZZ").reason == "exit_closed_lockdown"


def test_scheduled_lockdown_new_years_eve(zone: Any, permits: Any) -> None:  # noqa: F811
    ZoneSchedule.objects.create(
        zone=zone,
        mode="lockdown",
        start=paris("2027-12-31T20:00:00+01:00"),
        end=paris("2028-01-01T03:00:00+01:00"),
        label="New Year's Eve",
    )
    permits["bakery"].valid_to = None
    permits["bakery"].windows = []
    permits["bakery"].save()
    during = decide_at("old-town-in", "2027-12-31T23:30:00+01:00")
    assert during.reason == "zone_lockdown" and during.mode == "lockdown"
    assert "New Year" not in during.message or "scheduled" in during.message
    after = decide_at("old-town-in", "2028-01-01T03:00:00+01:00")
    assert after.reason == "permit_valid" and after.mode == "normal"


def test_emergency_open_grants_everyone_and_maintenance_refers(
    zone: Any,  # noqa: F811
    make_user: Any,
) -> None:
    operator = make_user("operator", modules=("access",))
    services.set_zone_mode(zone, "emergency_open", operator, "evacuation of the square")
    assert decide_at("old-town-in", "2027-03-02T08:00:00+01:00", "ZZ-999-ZZ").outcome == "grant"
    services.set_zone_mode(zone, "maintenance", operator, "bollard service visit")
    assert decide_at("old-town-in", "2027-03-02T08:00:00+01:00", "ZZ-999-ZZ").outcome == "refer"


def test_lockdown_needs_a_supervisor_and_a_reason_and_is_audited(
    zone: Any,  # noqa: F811
    make_user: Any,
) -> None:
    operator = make_user("operator", modules=("access",))
    supervisor = make_user("supervisor", modules=("access",))
    with pytest.raises(services.ActionDenied, match="access:supervisor"):
        services.set_zone_mode(zone, "lockdown", operator, "crowd")
    with pytest.raises(services.ActionDenied, match="needs a reason"):
        services.set_zone_mode(zone, "lockdown", supervisor, "   ")
    zone.refresh_from_db()
    assert zone.mode == "normal"
    services.set_zone_mode(zone, "lockdown", supervisor, "vehicle threat reported")
    # leaving it needs a supervisor too
    with pytest.raises(services.ActionDenied, match="access:supervisor"):
        services.set_zone_mode(zone, "normal", operator, "all clear")
    services.set_zone_mode(zone, "normal", supervisor, "all clear from police")
    entries = AuditEntry.objects.filter(action="access_mode").order_by("seq")
    assert [(e.detail["from"], e.detail["to"], e.detail["reason"]) for e in entries] == [
        ("normal", "lockdown", "vehicle threat reported"),
        ("lockdown", "normal", "all clear from police"),
    ]
    assert entries[0].actor == supervisor.username or entries[0].actor.startswith("cli:")


def test_entering_lockdown_closes_passages_in_progress(
    zone: Any,  # noqa: F811
    permits: Any,  # noqa: F811
    make_user: Any,
) -> None:
    grant = decide_at("old-town-in", "2027-03-02T08:00:00+01:00")
    services.set_zone_mode(zone, "lockdown", make_user("supervisor"), "threat")
    passage = Passage.objects.get(decision=grant)
    assert passage.state == Passage.State.CLOSING
    assert passage.close_reason == "lockdown"


def test_operator_open_is_a_stored_operator_grant(zone: Any, make_user: Any) -> None:  # noqa: F811
    operator = make_user("operator", modules=("access",))
    lane = Lane.objects.get(ident="old-town-in")
    result = services.operator_open(lane, operator, "ambulance at the intercom")
    row = AccessDecision.objects.get(pk=result.decision.pk)
    assert (row.outcome, row.reason, row.source) == ("grant", "operator_grant", "operator")
    assert "ambulance at the intercom" in row.message
    assert Passage.objects.get(decision=row).state == Passage.State.GRANTED
    assert AuditEntry.objects.filter(action="access_open").count() == 1
    viewer = make_user("viewer", modules=("access",))
    with pytest.raises(services.ActionDenied):
        services.operator_open(lane, viewer, "let me in")


def test_a_decision_is_committed_before_the_call_returns(
    zone: Any,  # noqa: F811
    permits: Any,  # noqa: F811
    django_assert_max_num_queries: Any,
) -> None:
    """Decision and passage are written in one atomic block (both or neither)."""
    from django.db import transaction

    at = paris("2027-03-02T08:00:00+01:00")
    with transaction.atomic():
        result = services.submit_request(
            "old-town-in", plate="AB-123-CD", confidence=0.97, read_at=at, now=at
        )
        assert AccessDecision.objects.filter(pk=result.decision.pk).exists()
        assert result.passage is not None and result.passage.decision_id == result.decision.pk
    with django_assert_max_num_queries(12):
        services.submit_request(
            "old-town-in", plate="AB-123-CD", confidence=0.97, read_at=at, now=at
        )


def test_bad_requests_store_nothing(zone: Any) -> None:  # noqa: F811
    now = paris("2027-03-02T08:00:00+01:00")
    cases = [
        (dict(lane_ident="nope", plate="AB-123-CD"), 404, "lane 'nope' does not exist"),
        (dict(lane_ident="old-town-in", plate="A"), 422, "plate"),
        (
            dict(
                lane_ident="old-town-in", plate="AB-123-CD", read_at=now + dt.timedelta(minutes=5)
            ),
            422,
            "in the future",
        ),
        (
            dict(lane_ident="old-town-in", plate="AB-123-CD", read_at=now - dt.timedelta(hours=1)),
            422,
            "old",
        ),
        (dict(lane_ident="old-town-in", plate="AB-123-CD", confidence=3.0), 422, "confidence"),
    ]
    for kwargs, status, text in cases:
        kwargs.setdefault("confidence", 0.9)
        with pytest.raises(services.RequestError) as info:
            services.submit_request(now=now, **kwargs)
        assert info.value.status == status
        assert text in info.value.message
        assert "\n" not in info.value.message
    assert AccessDecision.objects.count() == 0


LOAD_FILE = """
zones:
  - id: promenade
    name: Promenade des Anglais
    timezone: Europe/Paris
    lanes:
      - id: prom-in
        direction: in
        identification: [anpr, intercom]
        barriers:
          - {id: prom-in-1, kind: road_blocker, fail_mode: secure, crash_rating: "IWA 14-1:2013 V/7200[N2A]/48/90", driver: {type: modbus, host: 127.0.0.1, port: 5020, unit: 1}}
      - id: prom-out
        direction: out
        identification: [anpr]
        barriers:
          - {id: prom-out-1, kind: gate, fail_mode: safe, driver: {type: simulator}}
    schedules:
      - {mode: lockdown, start: 2027-07-14T18:00, end: 2027-07-15T02:00, label: 14 juillet}
permits:
  - {id: p1, plate: AB-123-CD, holder: Boulangerie, category: delivery, max_mass_kg: 12000, zones: [promenade],
     windows: [{days: [mon, tue, wed, thu, fri, sat], from: "05:00", to: "10:30"}]}
  - {id: p2, plate: EM-112-AA, holder: SAMU, category: emergency, zones: [promenade], pin: "1234"}
"""


def test_load_config_writes_everything_and_is_idempotent(city: Any) -> None:
    config = parse_config(LOAD_FILE)
    first = load_file.load_config(config, city)
    second = load_file.load_config(config, city)
    assert first == second
    assert (Zone.objects.count(), Lane.objects.count(), Barrier.objects.count()) == (1, 2, 2)
    assert ZoneSchedule.objects.count() == 1 and Permit.objects.count() == 2
    blocker = Barrier.objects.get(ident="prom-in-1")
    assert blocker.driver == {"type": "modbus", "host": "127.0.0.1", "port": 5020, "unit": 1}
    assert blocker.to_engine().driver.port == 5020
    p2 = Permit.objects.get(ident="p2")
    assert p2.pin_hash.startswith("scrypt$") and p2.plate == "EM112AA"
    schedule = ZoneSchedule.objects.get()
    assert schedule.start == paris("2027-07-14T18:00:00+02:00")
    # the round trip through the models gives the engine the same permit
    assert Permit.objects.get(ident="p1").to_engine() == config.permits[0]


def test_create_access_point_from_a_plan_position(zone: Any) -> None:  # noqa: F811
    lane = services.create_access_point(
        zone, "old-town-east", 7.2661, 43.6950, "IWA 14-1 V/7500[N2]/48/90", 4.5
    )
    again = services.create_access_point(
        zone, "old-town-east", 7.2661, 43.6950, "IWA 14-1 V/7500[N2]/48/90", 4.5
    )
    assert lane.pk == again.pk
    barrier = Barrier.objects.get(lane=lane)
    assert barrier.crash_rating == "IWA 14-1 V/7500[N2]/48/90"
    assert (lane.lon, lane.lat, lane.width_m) == (7.2661, 43.6950, 4.5)
    with pytest.raises(ValueError, match="WGS84"):
        services.create_access_point(zone, "bad", 700.0, 43.0, "x", 3.0)


CSV_GOOD = (
    "id,plate,holder,holder_contact,category,max_mass_kg,zones,windows,valid_from,valid_to,"
    "exception_dates,pin,status\n"
    "c1,AB-123-CD,Boulangerie,+33 4,delivery,12000,old-town,mon-sat 05:00-10:30,2027-01-01,"
    "2027-12-31,2027-07-14,,active\n"
    "c2,EM-112-AA,SAMU,,emergency,,old-town,,,,,1234,active\n"
)
CSV_BAD = (
    "id,plate,holder,category,zones,windows,max_mass_kg\n"
    "c1,AB-123-CD,Boulangerie,delivery,old-town,mon-sat 05:00-10:30,12000\n"
    "c2,A,SAMU,emergency,old-town,,\n"
    "c3,XY-111-ZZ,Taxi,spaceship,nowhere,mon-sun 25:00-26:00,-3\n"
)


def test_permits_csv_import_reports_every_row_and_writes_nothing(city: Any, zone: Any) -> None:  # noqa: F811
    result = services.import_permits_csv(CSV_BAD, city)
    text = "\n".join(result.errors)
    assert "row 3.plate:" in text
    assert "row 4.category: 'spaceship'" in text
    assert "row 4.zones[0]: 'nowhere'" in text
    assert "row 4.windows[0].from: '25:00'" in text
    assert "row 4.max_mass_kg" in text
    assert not any(line.startswith("row 2") for line in result.errors)
    assert Permit.objects.count() == 0


def test_permits_csv_round_trip(city: Any, zone: Any) -> None:  # noqa: F811
    result = services.import_permits_csv(CSV_GOOD, city)
    assert (result.errors, result.created, result.updated) == ([], 2, 0)
    c1 = Permit.objects.get(ident="c1")
    assert c1.windows == [
        {"days": ["mon", "tue", "wed", "thu", "fri", "sat"], "from": "05:00", "to": "10:30"}
    ]
    assert Permit.objects.get(ident="c2").pin_hash.startswith("scrypt$")
    exported = services.export_permits_csv(Permit.objects.order_by("ident"), with_holders=True)
    assert "mon-sat 05:00-10:30" in exported and "scrypt" not in exported
    again = services.import_permits_csv(exported, city)
    assert (again.errors, again.created, again.updated) == ([], 0, 2)
    # the PIN was not exported, and a blank PIN keeps the enrolled one
    assert Permit.objects.get(ident="c2").pin_hash.startswith("scrypt$")
    hidden = services.export_permits_csv(Permit.objects.all(), with_holders=False)
    assert "Boulangerie" not in hidden and "AB123CD" in hidden
