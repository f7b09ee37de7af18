"""Decision tables for the access engine (rempart.access.decide), in Europe/Paris.

Calendar facts used below (2027): 14 July is a Wednesday; summer time starts Sunday 28 March
(02:00 CET -> 03:00 CEST) and ends Sunday 31 October (03:00 CEST -> 02:00 CET).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.access.decide import (
    REASON_OUTCOME,
    AccessRequest,
    Decision,
    DecisionPolicy,
    Direction,
    ExitPolicy,
    IdentificationMethod,
    Lane,
    OperatorAction,
    Outcome,
    Permit,
    PermitCategory,
    PermitStatus,
    PlateRead,
    Reason,
    Zone,
    decide,
)
from rempart.access.plates import hash_pin
from rempart.access.schedule import (
    ScheduledMode,
    TimeWindow,
    ZoneMode,
    effective_mode,
    format_days,
)

PARIS = ZoneInfo("Europe/Paris")
ANPR, PIN, INTERCOM = (
    IdentificationMethod.ANPR,
    IdentificationMethod.PIN,
    IdentificationMethod.INTERCOM,
)

NORTH_IN = Lane("north-in", Direction.IN, frozenset({ANPR, PIN, INTERCOM}))
NORTH_OUT = Lane("north-out", Direction.OUT, frozenset({ANPR}))
KEYPAD_IN = Lane("keypad-in", Direction.IN, frozenset({ANPR, PIN}), two_factor=True)
PIN_ONLY_IN = Lane("pin-only-in", Direction.IN, frozenset({PIN}))
CAMERA_ONLY_IN = Lane("camera-in", Direction.IN, frozenset({ANPR}))
OLD_TOWN = Zone(
    "old-town",
    "Europe/Paris",
    lanes=(NORTH_IN, NORTH_OUT, KEYPAD_IN, PIN_ONLY_IN, CAMERA_ONLY_IN),
)

CHEAP = 2**4  # scrypt cost for tests; verify_pin reads the cost from the stored hash
PIN_BAKERY = "482913"
PIN_DOCTOR = "170399"

BAKERY = Permit(
    id="p-bakery",
    plate="AB-123-CD",
    holder="Boulangerie du Port",
    category=PermitCategory.DELIVERY,
    zones=frozenset({"old-town"}),
    windows=(TimeWindow.of(["mon", "tue", "wed", "thu", "fri", "sat"], "05:00", "10:30"),),
    valid_from=date(2027, 1, 1),
    valid_to=date(2027, 12, 31),
    exception_dates=frozenset({date(2027, 7, 14)}),
    max_mass_kg=12_000,
    pin_hash=hash_pin(PIN_BAKERY, n=CHEAP),
)
RESIDENT = Permit(
    id="p-resident",
    plate="GH-456-JK",
    holder="M. Martin",
    category=PermitCategory.RESIDENT,
    zones=frozenset({"old-town"}),
)
AMBULANCE = Permit(
    id="p-samu",
    plate="EM-112-SU",
    holder="SAMU 06",
    category=PermitCategory.EMERGENCY,
    zones=frozenset({"old-town", "port"}),
)
NIGHT_WORKS = Permit(  # Friday night 22:00 to Saturday 02:00
    id="p-works",
    plate="WK-220-NT",
    holder="Voirie",
    category=PermitCategory.WORKS,
    zones=frozenset({"old-town"}),
    windows=(TimeWindow.of(["fri"], "22:00", "02:00"),),
    exception_dates=frozenset({date(2027, 7, 16)}),
)
DOCTOR = Permit(
    id="p-doctor",
    plate="DR-999-AA",
    holder="Dr Roux",
    category=PermitCategory.PUBLIC_SERVICE,
    zones=frozenset({"old-town"}),
    pin_hash=hash_pin(PIN_DOCTOR, n=CHEAP),
)
PORT_TAXI = Permit(
    id="p-taxi",
    plate="TX-001-NC",
    holder="Taxi 12",
    category=PermitCategory.TAXI,
    zones=frozenset({"port"}),
)
ALL_PERMITS = (BAKERY, RESIDENT, AMBULANCE, NIGHT_WORKS, DOCTOR, PORT_TAXI)


def paris(y: int, mo: int, d: int, h: int = 12, mi: int = 0, s: int = 0, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=PARIS, fold=fold)


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def plate_at(
    when: datetime,
    plate: str,
    *,
    lane: str = "north-in",
    confidence: float = 0.97,
    mass_kg: int | None = None,
    zone: Zone = OLD_TOWN,
    permits: tuple[Permit, ...] = ALL_PERMITS,
    pin: str | None = None,
) -> Decision:
    request = AccessRequest(lane, when, PlateRead(plate, confidence, mass_kg), pin=pin)
    return decide(request, zone, permits)


# --- decision table: categories, windows, validity, exceptions ------------------------------

TABLE = [
    # (why, when, plate, outcome, reason)
    ("delivery inside window", paris(2027, 3, 2, 9, 0), "AB-123-CD", "grant", "permit_valid"),
    ("window start inclusive", paris(2027, 3, 2, 5, 0), "AB-123-CD", "grant", "permit_valid"),
    ("window end exclusive", paris(2027, 3, 2, 10, 30), "AB-123-CD", "deny", "outside_window"),
    ("last second", paris(2027, 3, 2, 10, 29, 59), "AB-123-CD", "grant", "permit_valid"),
    ("delivery on Sunday", paris(2027, 3, 7, 9, 0), "AB-123-CD", "deny", "outside_window"),
    ("before valid_from", paris(2026, 12, 29, 9), "AB-123-CD", "deny", "permit_not_yet_valid"),
    ("after valid_to", paris(2028, 1, 4, 9), "AB-123-CD", "deny", "permit_expired"),
    ("valid_to inclusive", paris(2027, 12, 31, 9), "AB-123-CD", "grant", "permit_valid"),
    ("exception 14 July", paris(2027, 7, 14, 9), "AB-123-CD", "deny", "permit_exception_date"),
    ("day after exception", paris(2027, 7, 15, 9), "AB-123-CD", "grant", "permit_valid"),
    ("normalised match", paris(2027, 3, 2, 9), "ab 123 cd", "grant", "permit_valid"),
    ("resident at 3 am", paris(2027, 3, 7, 3, 0), "GH-456-JK", "grant", "permit_valid"),
    ("emergency any time", paris(2027, 3, 7, 4, 0), "EM-112-SU", "grant", "permit_valid"),
    ("unknown plate", paris(2027, 3, 2, 9), "ZZ-000-ZZ", "deny", "no_permit"),
    ("taxi of another zone", paris(2027, 3, 2, 9), "TX-001-NC", "deny", "permit_wrong_zone"),
    # Friday 16 July 2027 is an exception for the works; 23 July is a normal Friday.
    ("night window Fri 23:00", paris(2027, 7, 23, 23), "WK-220-NT", "grant", "permit_valid"),
    ("night window Sat 01:59", paris(2027, 7, 24, 1, 59), "WK-220-NT", "grant", "permit_valid"),
    ("night window Sat 02:00", paris(2027, 7, 24, 2, 0), "WK-220-NT", "deny", "outside_window"),
    ("night window Fri 21:59", paris(2027, 7, 23, 21, 59), "WK-220-NT", "deny", "outside_window"),
    ("Sat 23:00 not a start day", paris(2027, 7, 24, 23), "WK-220-NT", "deny", "outside_window"),
    # The exception date names the service day: the whole night 16-17 July is off.
    ("exception night, Fri", paris(2027, 7, 16, 23), "WK-220-NT", "deny", "permit_exception_date"),
    ("exception night, Sat", paris(2027, 7, 17, 1), "WK-220-NT", "deny", "permit_exception_date"),
]


@pytest.mark.parametrize(
    ("why", "when", "plate", "outcome", "reason"), TABLE, ids=[row[0] for row in TABLE]
)
def test_decision_table(why: str, when: datetime, plate: str, outcome: str, reason: str) -> None:
    decision = plate_at(when, plate)
    assert (decision.outcome.value, decision.reason.value) == (outcome, reason), decision.message


def test_outside_window_message_names_the_window_and_the_local_time() -> None:
    decision = plate_at(paris(2027, 3, 2, 11, 12), "AB-123-CD")
    assert decision.reason is Reason.OUTSIDE_WINDOW
    assert "delivery permit p-bakery valid" in decision.message
    assert "Boulangerie" not in decision.message  # the holder is for access editors only
    assert "Mon-Sat 05:00-10:30" in decision.message
    assert "Tue 02 Mar 2027 11:12 in Europe/Paris" in decision.message
    assert decision.permit_id == "p-bakery"
    assert decision.plate == "AB123CD"


def test_time_is_read_in_the_zone_not_in_utc() -> None:
    # 08:30 UTC on 2 March is 09:30 in Paris (inside 05:00-10:30) ...
    assert plate_at(utc(2027, 3, 2, 8, 30), "AB-123-CD").granted
    # ... and 09:45 UTC is 10:45 in Paris (outside), though 09:45 is inside the window.
    assert plate_at(utc(2027, 3, 2, 9, 45), "AB-123-CD").reason is Reason.OUTSIDE_WINDOW
    # The same permit in a zone on Lisbon time (UTC+0 in winter) grants at 09:45 UTC.
    lisbon = replace(OLD_TOWN, timezone="Europe/Lisbon")
    assert plate_at(utc(2027, 3, 2, 9, 45), "AB-123-CD", zone=lisbon).granted


def test_naive_time_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        decide(AccessRequest("north-in", datetime(2027, 3, 2, 9)), OLD_TOWN, ALL_PERMITS)


def test_unknown_lane_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match="lane 'nowhere' is not in zone 'old-town'"):
        decide(AccessRequest("nowhere", paris(2027, 3, 2)), OLD_TOWN, ALL_PERMITS)


# --- daylight saving time --------------------------------------------------------------------


def _granted_minutes(window: TimeWindow, day_utc_start: datetime) -> list[datetime]:
    permit = Permit("p-dst", "DS-T00-00", PermitCategory.WORKS, frozenset({"old-town"}),
                    windows=(window,))  # fmt: skip
    minutes = (day_utc_start + timedelta(minutes=m) for m in range(36 * 60))
    return [t for t in minutes if plate_at(t, "DS-T00-00", permits=(permit,)).granted]


def test_spring_forward_window_in_the_missing_hour_is_empty() -> None:
    # 28 March 2027: 02:00-02:59 does not exist in Paris; a 02:00-03:00 window never opens.
    window = TimeWindow.of(["sun"], "02:00", "03:00")
    assert _granted_minutes(window, utc(2027, 3, 27, 12)) == []


def test_spring_forward_window_across_the_gap_lasts_one_hour_less() -> None:
    window = TimeWindow.of(["sun"], "01:30", "03:30")
    granted = _granted_minutes(window, utc(2027, 3, 27, 12))
    assert len(granted) == 60  # 01:30-01:59 CET then 03:00-03:29 CEST
    assert granted[0] == utc(2027, 3, 28, 0, 30)  # 01:30 CET
    assert granted[-1] == utc(2027, 3, 28, 1, 29)  # 03:29 CEST
    assert plate_at(utc(2027, 3, 28, 1, 0), "DS-T00-00").local_time.utcoffset() == timedelta(
        hours=2
    )


def test_fall_back_repeated_hour_is_inside_the_window_twice() -> None:
    # 31 October 2027: 02:00-02:59 happens twice; both occurrences are in a 02:00-03:00 window.
    window = TimeWindow.of(["sun"], "02:00", "03:00")
    granted = _granted_minutes(window, utc(2027, 10, 30, 12))
    assert len(granted) == 120
    assert granted[0] == utc(2027, 10, 31, 0, 0)  # 02:00 CEST
    assert granted[-1] == utc(2027, 10, 31, 1, 59)  # 02:59 CET


@pytest.mark.parametrize("fold", [0, 1])
def test_fall_back_0230_grants_on_both_occurrences(fold: int) -> None:
    permit = Permit("p-dst", "DS-T00-00", PermitCategory.WORKS, frozenset({"old-town"}),
                    windows=(TimeWindow.of(["sun"], "02:00", "03:00"),))  # fmt: skip
    when = paris(2027, 10, 31, 2, 30, fold=fold)
    decision = plate_at(when, "DS-T00-00", permits=(permit,))
    assert decision.granted
    assert decision.local_time.utcoffset() == timedelta(hours=2 if fold == 0 else 1)


def test_scheduled_mode_is_an_interval_of_real_time_across_fall_back() -> None:
    # Lockdown 01:00 to 04:00 local on 31 Oct 2027 lasts four real hours.
    schedule = ScheduledMode(ZoneMode.LOCKDOWN, paris(2027, 10, 31, 1), paris(2027, 10, 31, 4))
    assert schedule.end - schedule.start == timedelta(hours=4)
    zone = replace(OLD_TOWN, schedules=(schedule,))
    assert plate_at(utc(2027, 10, 31, 2, 30), "GH-456-JK", zone=zone).reason is Reason.ZONE_LOCKDOWN
    assert plate_at(utc(2027, 10, 31, 3, 0), "GH-456-JK", zone=zone).granted


# --- modes ------------------------------------------------------------------------------------

JULY_14 = ScheduledMode(
    ZoneMode.LOCKDOWN, paris(2027, 7, 14, 18), paris(2027, 7, 15, 2), "Fête nationale"
)
FESTIVAL_ZONE = replace(OLD_TOWN, schedules=(JULY_14,))


@pytest.mark.parametrize(
    ("when", "plate", "outcome", "reason"),
    [
        (paris(2027, 7, 14, 17, 59), "GH-456-JK", "grant", "permit_valid"),
        (paris(2027, 7, 14, 18, 0), "GH-456-JK", "deny", "zone_lockdown"),
        (paris(2027, 7, 15, 1, 59), "GH-456-JK", "deny", "zone_lockdown"),
        (paris(2027, 7, 15, 2, 0), "GH-456-JK", "grant", "permit_valid"),
        (paris(2027, 7, 14, 20), "EM-112-SU", "grant", "emergency_in_lockdown"),
        (paris(2027, 7, 14, 20), "ZZ-000-ZZ", "deny", "no_permit"),
    ],
)
def test_scheduled_lockdown_overrides_permits(
    when: datetime, plate: str, outcome: str, reason: str
) -> None:
    decision = plate_at(when, plate, zone=FESTIVAL_ZONE)
    assert (decision.outcome.value, decision.reason.value) == (outcome, reason), decision.message


def test_lockdown_message_names_the_schedule_end() -> None:
    decision = plate_at(paris(2027, 7, 14, 20), "GH-456-JK", zone=FESTIVAL_ZONE)
    assert decision.mode is ZoneMode.LOCKDOWN
    assert "scheduled until 15 Jul 02:00" in decision.message
    assert "only emergency vehicles enter" in decision.message


def test_lockdown_still_refers_low_confidence_reads() -> None:
    # An operator looks at the camera: it could be an ambulance.
    decision = plate_at(paris(2027, 7, 14, 20), "EM-112-SU", confidence=0.6, zone=FESTIVAL_ZONE)
    assert decision.reason is Reason.LOW_CONFIDENCE


def test_emergency_permit_revoked_does_not_pass_lockdown() -> None:
    revoked = replace(AMBULANCE, status=PermitStatus.REVOKED)
    decision = plate_at(paris(2027, 7, 14, 20), "EM-112-SU", zone=FESTIVAL_ZONE,
                        permits=(revoked,))  # fmt: skip
    assert decision.reason is Reason.PERMIT_REVOKED


@pytest.mark.parametrize("lane", ["north-in", "north-out", "keypad-in", "camera-in"])
@pytest.mark.parametrize("plate", ["ZZ-000-ZZ", "AB-123-CD", "?"])
def test_emergency_open_lets_everything_through(lane: str, plate: str) -> None:
    zone = replace(OLD_TOWN, mode=ZoneMode.EMERGENCY_OPEN)
    decision = plate_at(paris(2027, 3, 7, 4), plate, lane=lane, zone=zone, confidence=0.2)
    assert (decision.outcome, decision.reason) == (Outcome.GRANT, Reason.ZONE_EMERGENCY_OPEN)


def test_emergency_open_set_live_beats_a_scheduled_lockdown() -> None:
    zone = replace(FESTIVAL_ZONE, mode=ZoneMode.EMERGENCY_OPEN)
    assert plate_at(paris(2027, 7, 14, 20), "ZZ-000-ZZ", zone=zone).reason is (
        Reason.ZONE_EMERGENCY_OPEN
    )


@pytest.mark.parametrize("lane", ["north-in", "north-out"])
def test_maintenance_refers_everything(lane: str) -> None:
    zone = replace(OLD_TOWN, mode=ZoneMode.MAINTENANCE)
    decision = plate_at(paris(2027, 3, 2, 9), "AB-123-CD", lane=lane, zone=zone)
    assert (decision.outcome, decision.reason) == (Outcome.REFER, Reason.ZONE_MAINTENANCE)


def test_overlapping_schedules_resolve_by_precedence() -> None:
    maintenance = ScheduledMode(ZoneMode.MAINTENANCE, paris(2027, 7, 14, 8), paris(2027, 7, 15, 8))
    open_ = ScheduledMode(ZoneMode.NORMAL, paris(2027, 7, 14, 0), paris(2027, 7, 16))
    schedules = (open_, maintenance, JULY_14)
    assert effective_mode(ZoneMode.NORMAL, schedules, paris(2027, 7, 14, 7))[0] is ZoneMode.NORMAL
    assert effective_mode(ZoneMode.NORMAL, schedules, paris(2027, 7, 14, 9))[0] is (
        ZoneMode.MAINTENANCE
    )
    mode, source = effective_mode(ZoneMode.NORMAL, schedules, paris(2027, 7, 14, 19))
    assert (mode, source) == (ZoneMode.LOCKDOWN, JULY_14)
    # a scheduled "normal" lifts a base lockdown while it runs
    assert effective_mode(ZoneMode.LOCKDOWN, (open_,), paris(2027, 7, 15))[0] is ZoneMode.NORMAL


# --- exits ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "mode", "outcome", "reason"),
    [
        (ExitPolicy.FREE, ZoneMode.NORMAL, Outcome.GRANT, Reason.EXIT_FREE),
        (ExitPolicy.CLOSED, ZoneMode.NORMAL, Outcome.GRANT, Reason.EXIT_FREE),
        (ExitPolicy.FREE, ZoneMode.LOCKDOWN, Outcome.GRANT, Reason.EXIT_FREE),
        (ExitPolicy.REFER, ZoneMode.LOCKDOWN, Outcome.REFER, Reason.EXIT_REFER_LOCKDOWN),
        (ExitPolicy.CLOSED, ZoneMode.LOCKDOWN, Outcome.DENY, Reason.EXIT_CLOSED_LOCKDOWN),
    ],
)
def test_exit_lanes(policy: ExitPolicy, mode: ZoneMode, outcome: Outcome, reason: Reason) -> None:
    zone = replace(OLD_TOWN, mode=mode, lockdown_exit=policy)
    decision = plate_at(paris(2027, 3, 7, 4), "ZZ-000-ZZ", lane="north-out", zone=zone)
    assert (decision.outcome, decision.reason) == (outcome, reason)


def test_exit_needs_no_credential() -> None:
    decision = decide(AccessRequest("north-out", paris(2027, 3, 2)), OLD_TOWN, ())
    assert decision.reason is Reason.EXIT_FREE


# --- reads, credentials, two-factor -----------------------------------------------------------


@pytest.mark.parametrize(
    ("confidence", "policy", "reason"),
    [
        (0.89, DecisionPolicy(), Reason.LOW_CONFIDENCE),
        (0.90, DecisionPolicy(), Reason.PERMIT_VALID),
        (0.95, DecisionPolicy(min_confidence=0.96), Reason.LOW_CONFIDENCE),
        (0.50, DecisionPolicy(min_confidence=0.4), Reason.PERMIT_VALID),
    ],
)
def test_low_confidence_reads_are_referred(
    confidence: float, policy: DecisionPolicy, reason: Reason
) -> None:
    request = AccessRequest("north-in", paris(2027, 3, 2, 9), PlateRead("AB-123-CD", confidence))
    decision = decide(request, OLD_TOWN, ALL_PERMITS, policy)
    assert decision.reason is reason
    if reason is Reason.LOW_CONFIDENCE:
        assert decision.outcome is Outcome.REFER
        assert f"{confidence:.2f}" in decision.message


def test_low_confidence_read_of_unknown_plate_is_referred_not_denied() -> None:
    assert plate_at(paris(2027, 3, 2, 9), "ZZ-000-ZZ", confidence=0.5).outcome is Outcome.REFER


def test_unreadable_plate_is_referred() -> None:
    decision = plate_at(paris(2027, 3, 2, 9), "#?")
    assert (decision.outcome, decision.reason) == (Outcome.REFER, Reason.UNREADABLE_PLATE)


def test_request_without_credential_is_referred() -> None:
    decision = decide(AccessRequest("north-in", paris(2027, 3, 2)), OLD_TOWN, ALL_PERMITS)
    assert (decision.outcome, decision.reason) == (Outcome.REFER, Reason.NO_CREDENTIAL)


def test_pin_on_a_lane_without_keypad_is_referred() -> None:
    request = AccessRequest("camera-in", paris(2027, 3, 2), pin=PIN_DOCTOR)
    assert decide(request, OLD_TOWN, ALL_PERMITS).reason is Reason.METHOD_NOT_ENABLED


def test_plate_on_a_lane_without_camera_is_referred() -> None:
    request = AccessRequest("pin-only-in", paris(2027, 3, 2), PlateRead("AB-123-CD", 0.99))
    assert decide(request, OLD_TOWN, ALL_PERMITS).reason is Reason.METHOD_NOT_ENABLED


@pytest.mark.parametrize(
    ("plate", "pin", "outcome", "reason"),
    [
        ("AB-123-CD", PIN_BAKERY, Outcome.GRANT, Reason.PERMIT_VALID),
        ("AB-123-CD", "000000", Outcome.DENY, Reason.PIN_MISMATCH),
        ("AB-123-CD", PIN_DOCTOR, Outcome.DENY, Reason.PIN_MISMATCH),  # another permit's PIN
        ("AB-123-CD", None, Outcome.DENY, Reason.PIN_REQUIRED),
        (None, PIN_BAKERY, Outcome.DENY, Reason.PLATE_REQUIRED),
        ("GH-456-JK", "123456", Outcome.DENY, Reason.PIN_NOT_ENROLLED),
        ("ZZ-000-ZZ", PIN_BAKERY, Outcome.DENY, Reason.NO_PERMIT),
    ],
)
def test_two_factor_lane_plate_and_pin(
    plate: str | None, pin: str | None, outcome: Outcome, reason: Reason
) -> None:
    read = PlateRead(plate, 0.97) if plate else None
    request = AccessRequest("keypad-in", paris(2027, 3, 2, 9), read, pin=pin)
    decision = decide(request, OLD_TOWN, ALL_PERMITS)
    assert (decision.outcome, decision.reason) == (outcome, reason), decision.message


def test_two_factor_pin_required_message_is_clear() -> None:
    decision = plate_at(paris(2027, 3, 2, 9), "AB-123-CD", lane="keypad-in")
    assert "needs the PIN of plate AB123CD" in decision.message


def test_two_factor_right_pin_outside_window_still_denied() -> None:
    decision = plate_at(paris(2027, 3, 2, 11), "AB-123-CD", lane="keypad-in", pin=PIN_BAKERY)
    assert decision.reason is Reason.OUTSIDE_WINDOW


@pytest.mark.parametrize(
    ("pin", "reason"),
    [(PIN_DOCTOR, Reason.PERMIT_VALID), (PIN_BAKERY, Reason.OUTSIDE_WINDOW), ("555555", None)],
)
def test_pin_only_lane(pin: str, reason: Reason | None) -> None:
    # 2 March 2027 11:00: the doctor (no windows) passes, the bakery (05:00-10:30) does not.
    decision = decide(AccessRequest("pin-only-in", paris(2027, 3, 2, 11), pin=pin), OLD_TOWN,
                      ALL_PERMITS)  # fmt: skip
    assert decision.reason is (reason or Reason.NO_PERMIT)


# --- mass ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mass_kg", "reason"),
    [(None, Reason.PERMIT_VALID), (3_500, Reason.PERMIT_VALID), (12_000, Reason.PERMIT_VALID),
     (19_000, Reason.MASS_EXCEEDED)],
)  # fmt: skip
def test_vehicle_mass_against_permit(mass_kg: int | None, reason: Reason) -> None:
    decision = plate_at(paris(2027, 3, 2, 9), "AB-123-CD", mass_kg=mass_kg)
    assert decision.reason is reason
    if reason is Reason.MASS_EXCEEDED:
        assert "12000 kg" in decision.message and "19000 kg" in decision.message


def test_permit_without_mass_limit_accepts_any_class() -> None:
    assert plate_at(paris(2027, 3, 2, 9), "GH-456-JK", mass_kg=44_000).granted


# --- several permits for one plate ----------------------------------------------------------


def _second(permit: Permit, **changes: object) -> Permit:
    return replace(permit, id=permit.id + "-b", **changes)  # type: ignore[arg-type]


def test_revoked_old_permit_does_not_shadow_new_active_one() -> None:
    old = replace(RESIDENT, id="p-2026", status=PermitStatus.REVOKED)
    new = replace(RESIDENT, id="p-2027")
    decision = plate_at(paris(2027, 3, 2, 9), "GH-456-JK", permits=(old, new))
    assert (decision.reason, decision.permit_id) == (Reason.PERMIT_VALID, "p-2027")


def test_revoked_alone_explains_the_denial() -> None:
    old = replace(RESIDENT, status=PermitStatus.REVOKED)
    decision = plate_at(paris(2027, 3, 2, 9), "GH-456-JK", permits=(old,))
    assert (decision.outcome, decision.reason) == (Outcome.DENY, Reason.PERMIT_REVOKED)


def test_suspension_overrides_an_active_permit_of_the_same_plate() -> None:
    suspended = _second(BAKERY, category=PermitCategory.RESIDENT, status=PermitStatus.SUSPENDED,
                        windows=())  # fmt: skip
    decision = plate_at(paris(2027, 3, 2, 9), "AB-123-CD", permits=(BAKERY, suspended))
    assert (decision.outcome, decision.reason) == (Outcome.DENY, Reason.PERMIT_SUSPENDED)
    assert decision.permit_id == "p-bakery-b"


def test_suspension_in_another_zone_does_not_block_this_one() -> None:
    elsewhere = _second(BAKERY, zones=frozenset({"port"}), status=PermitStatus.SUSPENDED)
    decision = plate_at(paris(2027, 3, 2, 9), "AB-123-CD", permits=(BAKERY, elsewhere))
    assert decision.reason is Reason.PERMIT_VALID


def test_any_valid_permit_grants_when_others_do_not_apply_now() -> None:
    # delivery permit outside its window, resident permit of the same plate valid at any time
    resident = _second(BAKERY, category=PermitCategory.RESIDENT, windows=())
    decision = plate_at(paris(2027, 3, 2, 22), "AB-123-CD", permits=(BAKERY, resident))
    assert (decision.reason, decision.permit_id) == (Reason.PERMIT_VALID, "p-bakery-b")


def test_closest_permit_explains_the_denial() -> None:
    # expired permit (fails early) vs current one outside its window (fails later)
    expired = _second(BAKERY, valid_from=date(2025, 1, 1), valid_to=date(2025, 12, 31))
    decision = plate_at(paris(2027, 3, 2, 22), "AB-123-CD", permits=(expired, BAKERY))
    assert (decision.reason, decision.permit_id) == (Reason.OUTSIDE_WINDOW, "p-bakery")


def test_permits_of_other_plates_are_ignored() -> None:
    assert plate_at(paris(2027, 3, 2, 9), "AB-123-CD", permits=(RESIDENT,)).reason is (
        Reason.NO_PERMIT
    )


# --- operator -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(ZoneMode))
@pytest.mark.parametrize("grant", [True, False])
def test_operator_decision_is_final(mode: ZoneMode, grant: bool) -> None:
    zone = replace(OLD_TOWN, mode=mode)
    action = OperatorAction("op-7", grant=grant, note="ambulance from Cannes, no permit")
    decision = decide(AccessRequest("north-in", paris(2027, 3, 2), operator=action), zone, ())
    assert decision.reason is (Reason.OPERATOR_GRANT if grant else Reason.OPERATOR_DENY)
    assert "op-7" in decision.message and "Cannes" in decision.message


# --- invariants ---------------------------------------------------------------------------


def test_every_reason_has_an_outcome_and_is_snake_case() -> None:
    assert set(REASON_OUTCOME) == set(Reason)
    for reason in Reason:
        assert reason.value == reason.name.lower()
    assert REASON_OUTCOME[Reason.LOW_CONFIDENCE] is Outcome.REFER
    assert REASON_OUTCOME[Reason.PIN_REQUIRED] is Outcome.DENY


def test_format_days() -> None:
    assert format_days([1, 2, 3, 4, 5, 6]) == "Mon-Sat"
    assert format_days([1, 3, 5]) == "Mon, Wed, Fri"
    assert format_days([6, 7]) == "Sat, Sun"
    assert format_days(range(1, 8)) == "every day"


instants = st.datetimes(
    min_value=datetime(2027, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
plates = st.sampled_from([p.plate for p in ALL_PERMITS] + ["ZZ000ZZ", "AA111AA"])


@settings(max_examples=300, deadline=None)
@given(when=instants, plate=plates, confidence=st.floats(0.0, 1.0))
def test_lockdown_never_lets_a_non_emergency_vehicle_in(
    when: datetime, plate: str, confidence: float
) -> None:
    zone = replace(OLD_TOWN, mode=ZoneMode.LOCKDOWN)
    decision = plate_at(when, plate, confidence=confidence, zone=zone)
    assert decision.outcome is REASON_OUTCOME[decision.reason]
    if decision.granted:
        assert decision.reason is Reason.EMERGENCY_IN_LOCKDOWN
        assert plate == AMBULANCE.plate


@settings(max_examples=300, deadline=None)
@given(when=instants, plate=plates)
def test_adding_a_suspended_permit_never_turns_deny_into_grant(when: datetime, plate: str) -> None:
    before = plate_at(when, plate)
    suspended = Permit("p-susp", plate, PermitCategory.RESIDENT, frozenset({"old-town"}),
                       status=PermitStatus.SUSPENDED)  # fmt: skip
    after = plate_at(when, plate, permits=(*ALL_PERMITS, suspended))
    assert not after.granted
    if not before.granted:
        assert after.outcome in (Outcome.DENY, Outcome.REFER)
