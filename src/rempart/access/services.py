"""The access service layer: every way in (camera API, command line, control room, simulated
traffic) goes through these functions, so they all decide and store alike.

* :func:`submit_request` checks a request (lane, plate, time), asks the pure engine
  (:func:`rempart.access.decide.decide`), and stores the decision -- with a passage for a grant --
  in one committed transaction *before* the daemon can send any command to a device (the daemon
  only acts on stored passages).
* Operator actions (:func:`operator_open`, :func:`operator_close`, :func:`set_zone_mode`,
  :func:`acknowledge_alarm`) check roles and reasons here, not only in the views, and write one
  audit entry each.
* :func:`load_config` writes a validated load file; :func:`import_permits_csv` and
  :func:`export_permits_csv` move permits in and out as CSV; :func:`create_access_point` turns
  an assessment plan's active barrier position into a lane with its barrier.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from rempart.access import decide as engine
from rempart.access.config import AccessConfig, _Checker
from rempart.access.drivers.base import BarrierKind, FailMode
from rempart.access.models import (
    AccessDecision,
    Alarm,
    Barrier,
    BarrierStatus,
    Lane,
    Passage,
    Permit,
    Zone,
    ZoneSchedule,
    driver_to_json,
    windows_to_json,
)
from rempart.access.plates import InvalidPlateError, normalise_plate
from rempart.access.schedule import DAY_NAMES, ZoneMode
from rempart.core import audit
from rempart.core.roles import can_see_city, has_role

#: A read stamped further in the future than this is refused (camera clock wrong), seconds.
MAX_FUTURE_S = 120.0


def max_read_age_s() -> float:
    """Oldest read accepted, seconds (``REMPART_ACCESS_MAX_READ_AGE_S``, default 300).

    A read older than that is no longer about a vehicle waiting at the barrier: deciding it
    would lower a barrier for whoever is there now.
    """
    return float(os.environ.get("REMPART_ACCESS_MAX_READ_AGE_S", "300"))


class RequestError(Exception):
    """A request the service refuses before deciding; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ActionDenied(Exception):
    """An operator action refused: the role or city (``status`` 403) or the input (422)."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


# --- requests -------------------------------------------------------------------------------


def find_lane(lane_ident: str) -> Lane:
    lane = Lane.objects.select_related("zone", "zone__city").filter(ident=lane_ident).first()
    if lane is None:
        raise RequestError(404, f"lane {lane_ident!r} does not exist")
    return lane


def parse_read_at(raw: str) -> dt.datetime:
    """ISO 8601 with a UTC offset (``Z`` allowed); ``RequestError`` (422) otherwise."""
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, AttributeError):
        raise RequestError(
            422, f"read_at {raw!r} is not a date and time; expected ISO 8601 with an offset"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise RequestError(
            422, f"read_at {raw!r} has no UTC offset; expected e.g. 2027-07-14T18:00:03+02:00"
        )
    return value


def check_read_time(read_at: dt.datetime, now: dt.datetime) -> None:
    ahead = (read_at - now).total_seconds()
    if ahead > MAX_FUTURE_S:
        raise RequestError(
            422,
            f"read_at {read_at.isoformat()} is {ahead:.0f} s in the future; "
            f"expected at most {MAX_FUTURE_S:.0f} s ahead (check the camera's clock)",
        )
    age = -ahead
    if age > max_read_age_s():
        raise RequestError(
            422,
            f"read_at {read_at.isoformat()} is {age:.0f} s old; "
            f"expected a read from the last {max_read_age_s():.0f} s",
        )


def check_plate(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return normalise_plate(raw)
    except InvalidPlateError as exc:
        raise RequestError(422, f"plate: {exc}") from None


def _permits_for(zone: Zone, plate: str | None, pin_only: bool) -> list[engine.Permit]:
    if plate is not None:
        rows = Permit.objects.filter(city_id=zone.city_id, plate=plate)
    elif pin_only:
        rows = Permit.objects.filter(zones=zone).exclude(pin_hash="")
    else:
        return []
    rows = rows.prefetch_related("zones")
    return [row.to_engine([z.ident for z in row.zones.all()]) for row in rows]


def engine_zone(lane: Lane, at: dt.datetime) -> engine.Zone:
    """The engine's view of ``lane``'s zone for a decision at ``at``: the lane, the live mode and
    the schedules active at that instant (the engine needs nothing else)."""
    zone = lane.zone
    schedules = ZoneSchedule.objects.filter(zone=zone, start__lte=at, end__gt=at)
    return engine.Zone(
        id=zone.ident,
        timezone=zone.timezone,
        mode=ZoneMode(zone.mode),
        lanes=(lane.to_engine(barriers=[]),),
        schedules=tuple(s.to_engine() for s in schedules),
        lockdown_exit=engine.ExitPolicy(zone.lockdown_exit),
        name=zone.name,
    )


@dataclass(frozen=True)
class Submitted:
    """What :func:`submit_request` stored (or, for a dry run, would have stored)."""

    decision: AccessDecision
    passage: Passage | None
    stored: bool

    def answer(self) -> dict[str, Any]:
        return self.decision.as_answer()


def submit_request(
    lane_ident: str,
    *,
    plate: str | None = None,
    confidence: float | None = None,
    read_at: dt.datetime | None = None,
    pin: str | None = None,
    mass_kg: int | None = None,
    operator: engine.OperatorAction | None = None,
    source: str = AccessDecision.Source.API,
    actor: str = "",
    dry_run: bool = False,
    check_time: bool = True,
    now: dt.datetime | None = None,
    lane: Lane | None = None,
) -> Submitted:
    """Decide a request at ``lane_ident`` and store it (unless ``dry_run``).

    The decision row and, for a grant, its passage (state ``granted``) are written in one
    transaction and committed before this returns; the daemon lowers a barrier only for a
    stored passage, so no command can leave before its decision is durable.

    Raises
    ------
    RequestError
        Unknown lane (404), malformed plate, PIN or time (422); nothing is stored.
    """
    now = now or timezone.now()
    lane = lane or find_lane(lane_ident)
    normalised = check_plate(plate)
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        raise RequestError(422, f"confidence {confidence!r} is not between 0 and 1")
    if pin is not None and not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise RequestError(422, "pin: expected 4 to 8 digits")
    at = read_at or now
    if check_time:
        check_read_time(at, now)
    if operator is None and plate is None and pin is None:
        raise RequestError(422, "a request needs a plate, a PIN or an operator decision")
    zone = lane.zone
    read = (
        engine.PlateRead(plate=normalised, confidence=confidence or 0.0, mass_kg=mass_kg)
        if normalised is not None
        else None
    )
    permits = (
        _permits_for(zone, normalised, pin_only=read is None and pin is not None)
        if operator is None
        else []
    )
    decision = engine.decide(
        engine.AccessRequest(lane_id=lane.ident, at=at, plate=read, pin=pin, operator=operator),
        engine_zone(lane, at),
        permits,
    )
    # Every permit of the plate in the city, whatever its status or zone: a permit holder's
    # reads are kept as the record of the permit's use; the others are pseudonymised.
    has_permit = bool(normalised) and bool(permits)
    row = AccessDecision(
        lane=lane,
        zone=zone,
        received_at=now,
        read_at=at,
        source=source,
        actor=actor[:150],
        plate=normalised or "",
        confidence=confidence,
        pin_given=pin is not None,
        has_permit=has_permit,
        outcome=decision.outcome.value,
        reason=decision.reason.value,
        message=decision.message,
        mode=decision.mode.value,
        local_time=decision.local_time.isoformat(timespec="seconds"),
        permit_ident=decision.permit_id or "",
    )
    if dry_run:
        return Submitted(row, None, stored=False)
    passage = None
    with transaction.atomic():
        row.save()
        if decision.granted:
            passage = Passage.objects.create(
                decision=row,
                lane=lane,
                state=Passage.State.GRANTED,
                created_at=now,
                updated_at=now,
            )
    return Submitted(row, passage, stored=True)


# --- operator actions -------------------------------------------------------------------------


def _require(user: Any, role: str, city: Any, what: str) -> None:
    if not has_role(user, "access", role):
        raise ActionDenied(f"{what} requires the access:{role} role")
    if not can_see_city(user, city):
        raise ActionDenied(f"{what}: this zone belongs to a city your organisation does not serve")


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ActionDenied(f"{what} needs a reason", 422)
    return reason[:500]


def operator_open(lane: Lane, user: Any, reason: str) -> Submitted:
    """Let one vehicle through ``lane`` (after an intercom call): an operator grant, decided and
    stored like a camera read, then driven by the daemon."""
    _require(user, "operator", lane.zone.city, "opening a lane")
    note = _reason(reason, "opening a lane")
    result = submit_request(
        lane.ident,
        operator=engine.OperatorAction(operator_id=user.get_username(), grant=True, note=note),
        source=AccessDecision.Source.OPERATOR,
        actor=user.get_username(),
        check_time=False,
        lane=lane,
    )
    audit.record(
        "access_open",
        obj=lane,
        detail={"reason": note, "request_id": result.decision.request_id.hex},
    )
    return result


def operator_close(lane: Lane, user: Any, reason: str) -> int:
    """Close ``lane`` now: its unfinished passages go to ``closing`` (the daemon raises the
    barriers as soon as the loop is clear). Returns how many passages were closed."""
    _require(user, "operator", lane.zone.city, "closing a lane")
    note = _reason(reason, "closing a lane")
    now = timezone.now()
    count = close_passages(Passage.objects.filter(lane=lane), f"operator: {note}", now)
    audit.record("access_close", obj=lane, detail={"reason": note, "passages_closed": count})
    return count


def close_passages(passages: QuerySet[Passage], why: str, now: dt.datetime) -> int:
    """Move unfinished passages to ``closing`` (a passage already closing is left alone)."""
    return passages.filter(
        state__in=[
            Passage.State.REQUESTED,
            Passage.State.GRANTED,
            Passage.State.LOWERING,
            Passage.State.OPEN,
            Passage.State.VEHICLE_PASSING,
        ]
    ).update(state=Passage.State.CLOSING, closing_since=now, updated_at=now, close_reason=why[:200])


def set_zone_mode(zone: Zone, mode: str, user: Any, reason: str) -> None:
    """Change a zone's base mode by hand.

    Entering or leaving ``lockdown`` needs the supervisor role; other changes the operator
    role. Every change needs a reason and is audited. Entering ``lockdown`` closes the zone's
    unfinished passages (the barriers rise once their loops are clear).
    """
    try:
        new = ZoneMode(mode)
    except ValueError:
        raise ActionDenied(
            f"mode {mode!r} is not one of {', '.join(m.value for m in ZoneMode)}", 422
        ) from None
    old = ZoneMode(zone.mode)
    lockdown = ZoneMode.LOCKDOWN in (old, new)
    what = "entering or leaving lockdown" if lockdown else "changing the zone mode"
    _require(user, "supervisor" if lockdown else "operator", zone.city, what)
    note = _reason(reason, what)
    now = timezone.now()
    with transaction.atomic():
        zone.mode = new.value
        zone.mode_reason = note
        zone.mode_changed_at = now
        zone.mode_changed_by = user.get_username()[:150]
        zone.save()
        closed = 0
        if new is ZoneMode.LOCKDOWN:
            closed = close_passages(Passage.objects.filter(lane__zone=zone), "lockdown", now)
        audit.record(
            "access_mode",
            obj=zone,
            detail={"from": old.value, "to": new.value, "reason": note, "passages_closed": closed},
        )


def acknowledge_alarm(alarm: Alarm, user: Any, note: str = "") -> None:
    _require(user, "operator", alarm.zone.city, "acknowledging an alarm")
    if alarm.acknowledged_at is not None:
        return
    alarm.acknowledged_at = timezone.now()
    alarm.acknowledged_by = user
    alarm.acknowledgement = (note or "").strip()[:500]
    alarm.save()  # audited by the generic signal (who, when, note)


def add_schedule(
    zone: Zone, mode: str, start: dt.datetime, end: dt.datetime, label: str, user: Any
) -> ZoneSchedule:
    """Schedule a mode; a scheduled lockdown needs a supervisor like a manual one."""
    new = ZoneMode(mode)
    _require(
        user,
        "supervisor" if new is ZoneMode.LOCKDOWN else "operator",
        zone.city,
        "scheduling a mode",
    )
    if end <= start:
        raise ActionDenied("the end of a scheduled mode must be after its start", 422)
    return ZoneSchedule.objects.create(zone=zone, mode=new.value, start=start, end=end, label=label)


# --- access points from an assessment -------------------------------------------------------


def create_access_point(
    zone: Zone,
    lane_id: str,
    lon: float,
    lat: float,
    rating: str,
    width_m: float,
    *,
    direction: str = "in",
    identification: Iterable[str] = ("anpr", "intercom"),
    kind: str = BarrierKind.RETRACTABLE_BOLLARD,
    fail_mode: str = FailMode.SECURE,
    driver: dict[str, Any] | None = None,
    name: str = "",
) -> Lane:
    """Create (or update) lane ``lane_id`` of ``zone`` at ``lon``/``lat`` (WGS84, degrees) with
    one barrier device ``<lane_id>-b1`` rated ``rating`` across ``width_m`` metres.

    Meant for the assessment's barrier plan: each *active* position (a retractable bollard or
    road blocker on a route that must stay usable) becomes an access point. One controller
    drives the whole group of bollards across the width, so one barrier device per lane.
    Idempotent by ``lane_id``.
    """
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"access point {lane_id}: ({lon}, {lat}) is not WGS84 lon/lat")
    if not (width_m > 0 and math.isfinite(width_m)):
        raise ValueError(f"access point {lane_id}: width {width_m!r} m must be positive")
    methods = sorted(set(identification))
    for method in methods:
        engine.IdentificationMethod(method)
    with transaction.atomic():
        lane, _ = Lane.objects.update_or_create(
            ident=lane_id,
            defaults={
                "zone": zone,
                "name": name,
                "direction": engine.Direction(direction).value,
                "identification": methods,
                "lon": lon,
                "lat": lat,
                "width_m": width_m,
                "required_rating": rating,
            },
        )
        Barrier.objects.update_or_create(
            ident=f"{lane_id}-b1",
            defaults={
                "lane": lane,
                "kind": BarrierKind(kind).value,
                "crash_rating": rating,
                "fail_mode": FailMode(fail_mode).value,
                "driver": driver or {"type": "simulator"},
            },
        )
    return lane


# --- load file ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadSummary:
    zones: int
    lanes: int
    barriers: int
    schedules: int
    permits: int


def load_config(config: AccessConfig, city: Any, *, is_demo: bool = False) -> LoadSummary:
    """Write a validated load file for ``city`` in one transaction (upsert by ids).

    A zone's schedules are replaced by the file's; lanes, barriers and permits are created or
    updated, none deleted (removing equipment is a deliberate act in the admin). Raises
    ``ValueError`` when an id already belongs to another city or zone.
    """
    counts = {"lanes": 0, "barriers": 0, "schedules": 0}
    with transaction.atomic():
        zones: dict[str, Zone] = {}
        for z in config.zones:
            existing = Zone.objects.filter(ident=z.id).first()
            if existing is not None and existing.city_id != city.pk:
                raise ValueError(f"zone {z.id!r} already belongs to city {existing.city.slug}")
            zone, _ = Zone.objects.update_or_create(
                ident=z.id,
                defaults={
                    "city": city,
                    "name": z.name,
                    "timezone": z.timezone,
                    "mode": z.mode.value,
                    "lockdown_exit": z.lockdown_exit.value,
                    "is_demo": is_demo,
                },
            )
            zones[z.id] = zone
            for ln in z.lanes:
                other = Lane.objects.filter(ident=ln.id).exclude(zone=zone).first()
                if other is not None and other.zone.city_id != city.pk:
                    raise ValueError(f"lane {ln.id!r} already belongs to another city")
                lane, _ = Lane.objects.update_or_create(
                    ident=ln.id,
                    defaults={
                        "zone": zone,
                        "direction": ln.direction.value,
                        "identification": sorted(m.value for m in ln.identification),
                        "two_factor": ln.two_factor,
                    },
                )
                counts["lanes"] += 1
                for b in ln.barriers:
                    Barrier.objects.update_or_create(
                        ident=b.id,
                        defaults={
                            "lane": lane,
                            "kind": b.kind.value,
                            "crash_rating": b.crash_rating or "",
                            "fail_mode": b.fail_mode.value,
                            "rise_time_s": b.rise_time_s,
                            "lower_time_s": b.lower_time_s,
                            "loop_detector": b.loop_detector,
                            "driver": driver_to_json(b.driver),
                        },
                    )
                    counts["barriers"] += 1
            zone.schedules.all().delete()
            for s in z.schedules:
                ZoneSchedule.objects.create(
                    zone=zone, mode=s.mode.value, start=s.start, end=s.end, label=s.label
                )
                counts["schedules"] += 1
        for p in config.permits:
            _save_permit(p, city, [zones[z] for z in sorted(p.zones)], is_demo=is_demo)
        audit.record(
            "access_load",
            object_type="access.config",
            object_repr=f"{len(config.zones)} zones, {len(config.permits)} permits",
            city=city,
            detail={**counts, "zones": len(config.zones), "permits": len(config.permits)},
        )
    return LoadSummary(
        zones=len(config.zones),
        lanes=counts["lanes"],
        barriers=counts["barriers"],
        schedules=counts["schedules"],
        permits=len(config.permits),
    )


def _save_permit(
    p: engine.Permit,
    city: Any,
    zones: list[Zone],
    *,
    holder_contact: str | None = None,
    is_demo: bool = False,
) -> Permit:
    defaults: dict[str, Any] = {
        "plate": p.plate,
        "holder": p.holder,
        "category": p.category.value,
        "max_mass_kg": p.max_mass_kg,
        "windows": windows_to_json(p.windows),
        "valid_from": p.valid_from,
        "valid_to": p.valid_to,
        "exception_dates": sorted(d.isoformat() for d in p.exception_dates),
        "status": p.status.value,
        "is_demo": is_demo,
    }
    if p.pin_hash:
        defaults["pin_hash"] = p.pin_hash  # a blank PIN in an import keeps the enrolled one
    if holder_contact is not None:
        defaults["holder_contact"] = holder_contact
    permit, _ = Permit.objects.update_or_create(city=city, ident=p.id, defaults=defaults)
    if {z.pk for z in permit.zones.all()} != {z.pk for z in zones}:
        permit.zones.set(zones)
    return permit


# --- permits as CSV ---------------------------------------------------------------------------

CSV_COLUMNS = (
    "id",
    "plate",
    "holder",
    "holder_contact",
    "category",
    "max_mass_kg",
    "zones",
    "windows",
    "valid_from",
    "valid_to",
    "exception_dates",
    "pin",
    "status",
)
_DAY_NUMBERS = {name: number for number, name in DAY_NAMES.items()}


def format_windows(windows: list[dict[str, Any]]) -> str:
    """``[{"days": ["mon".."sat"], "from": "05:00", "to": "10:30"}]`` -> ``mon-sat 05:00-10:30``."""
    parts = []
    for w in windows:
        numbers = sorted(_DAY_NUMBERS[d] for d in w["days"])
        if len(numbers) >= 3 and numbers == list(range(numbers[0], numbers[-1] + 1)):
            days = f"{DAY_NAMES[numbers[0]]}-{DAY_NAMES[numbers[-1]]}"
        else:
            days = ",".join(DAY_NAMES[n] for n in numbers)
        parts.append(f"{days} {w['from']}-{w['to']}")
    return "; ".join(parts)


def parse_windows(text: str, path: str, errors: list[str]) -> list[dict[str, Any]]:
    """Inverse of :func:`format_windows`; problems go to ``errors`` with ``path``."""
    windows = []
    for part in [p.strip() for p in text.split(";") if p.strip()]:
        pieces = part.split()
        if len(pieces) != 2 or pieces[1].count("-") != 1:
            errors.append(f"{path}: {part!r} is not a window; expected e.g. 'mon-sat 05:00-10:30'")
            continue
        days: list[str] = []
        for chunk in pieces[0].lower().split(","):
            if "-" in chunk:
                first, _, last = chunk.partition("-")
                if first not in _DAY_NUMBERS or last not in _DAY_NUMBERS:
                    errors.append(f"{path}: {chunk!r} is not a day range such as 'mon-fri'")
                    continue
                a, b = _DAY_NUMBERS[first], _DAY_NUMBERS[last]
                days += [DAY_NAMES[n] for n in range(a, b + 1)] if a <= b else []
                if a > b:
                    errors.append(f"{path}: {chunk!r} runs backwards; write e.g. 'mon-fri'")
            else:
                days.append(chunk)
        start, _, end = pieces[1].partition("-")
        windows.append({"days": days, "from": start, "to": end})
    return windows


@dataclass(frozen=True)
class CsvImport:
    errors: list[str]
    created: int = 0
    updated: int = 0


def import_permits_csv(text: str, city: Any, *, dry_run: bool = False) -> CsvImport:
    """Read permits from CSV (columns :data:`CSV_COLUMNS`; header required) for ``city``.

    Every row is checked first with the load file's rules; errors are reported one per line as
    ``row N, column: problem`` and then nothing is written. Otherwise all rows are upserted by
    ``id`` in one transaction. ``zones`` is space-separated zone ids of the city, ``windows``
    ``mon-sat 05:00-10:30; sun 07:00-09:00``, ``exception_dates`` space-separated ISO dates,
    ``pin`` a clear PIN to enrol (blank keeps the enrolled one; PINs are never exported).
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    missing = [c for c in ("plate", "holder", "category", "zones") if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing or unknown:
        errors = []
        if missing:
            errors.append(f"header: missing column(s) {', '.join(missing)}")
        if unknown:
            errors.append(
                f"header: unknown column(s) {', '.join(unknown)}; expected {', '.join(CSV_COLUMNS)}"
            )
        return CsvImport(errors)
    city_zones = {z.ident: z for z in Zone.objects.filter(city=city)}
    checker = _Checker()
    permit_ids: dict[str, str] = {}
    parsed: list[tuple[engine.Permit, str]] = []
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        path = f"row {number}"
        node: dict[str, Any] = {}
        for column in ("id", "plate", "holder", "category", "status", "valid_from", "valid_to"):
            value = (row.get(column) or "").strip()
            if value:
                node[column] = value
        node["zones"] = (row.get("zones") or "").split()
        mass = (row.get("max_mass_kg") or "").strip()
        if mass:
            node["max_mass_kg"] = int(mass) if mass.isdigit() else mass
        windows = (row.get("windows") or "").strip()
        if windows:
            node["windows"] = parse_windows(windows, f"{path}.windows", checker.errors)
        exceptions = (row.get("exception_dates") or "").split()
        if exceptions:
            node["exception_dates"] = exceptions
        pin = (row.get("pin") or "").strip()
        if pin:
            node["pin"] = pin
        permit = checker.permit(node, path, number - 2, set(city_zones), permit_ids)
        if permit is not None:
            parsed.append((permit, (row.get("holder_contact") or "").strip()))
    if checker.errors:
        return CsvImport(checker.errors)
    existing = set(
        Permit.objects.filter(city=city, ident__in=[p.id for p, _ in parsed]).values_list(
            "ident", flat=True
        )
    )
    if dry_run:
        return CsvImport([], len(parsed) - len(existing), len(existing))
    with transaction.atomic():
        for permit, contact in parsed:
            _save_permit(
                permit, city, [city_zones[z] for z in sorted(permit.zones)], holder_contact=contact
            )
        audit.record(
            "access_permits_import",
            object_type="access.permit",
            object_repr=f"{len(parsed)} permits from CSV",
            city=city,
            detail={"created": len(parsed) - len(existing), "updated": len(existing)},
        )
    return CsvImport([], len(parsed) - len(existing), len(existing))


def export_permits_csv(permits: Iterable[Permit], *, with_holders: bool) -> str:
    """CSV of ``permits`` (PINs never exported; holders only ``with_holders``)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for p in permits:
        writer.writerow(
            {
                "id": p.ident,
                "plate": p.plate,
                "holder": p.holder if with_holders else "",
                "holder_contact": p.holder_contact if with_holders else "",
                "category": p.category,
                "max_mass_kg": p.max_mass_kg or "",
                "zones": " ".join(sorted(z.ident for z in p.zones.all())),
                "windows": format_windows(p.windows),
                "valid_from": p.valid_from.isoformat() if p.valid_from else "",
                "valid_to": p.valid_to.isoformat() if p.valid_to else "",
                "exception_dates": " ".join(p.exception_dates),
                "pin": "",
                "status": p.status,
            }
        )
    return out.getvalue()


# --- what the control room shows -------------------------------------------------------------


def visible_zones(user: Any) -> QuerySet[Zone]:
    from rempart.core.roles import user_cities

    return Zone.objects.filter(city__in=user_cities(user)).select_related("city")


def lane_states(zones: Iterable[Zone]) -> list[dict[str, Any]]:
    """One dict per lane: barriers with their reported state, the passage in progress, the last
    decision. Plates only (no holders): everyone who sees the control room may see this."""
    zone_list = list(zones)
    lanes = list(
        Lane.objects.filter(zone__in=zone_list)
        .select_related("zone")
        .prefetch_related("barriers")
        .order_by("zone__ident", "ident")
    )
    statuses = {s.barrier_id: s for s in BarrierStatus.objects.filter(barrier__lane__in=lanes)}
    active: dict[int, Passage] = {}
    for passage in Passage.objects.filter(lane__in=lanes, state__in=Passage.ACTIVE).order_by(
        "created_at", "pk"
    ):
        active.setdefault(passage.lane_id, passage)
    last: dict[int, AccessDecision] = {}
    for lane in lanes:
        decision = AccessDecision.objects.filter(lane=lane).order_by("-received_at", "-pk").first()
        if decision is not None:
            last[lane.pk] = decision
    now = timezone.now()
    out = []
    for lane in lanes:
        barriers = []
        for barrier in lane.barriers.all():
            status = statuses.get(barrier.pk)
            stale = (
                status is None
                or status.reported_at is None
                or (now - status.reported_at).total_seconds() > 10
            )
            barriers.append(
                {
                    "id": barrier.ident,
                    "position": "unknown" if stale or status is None else status.position,
                    "position_pct": status.position_pct if status else None,
                    "faults": status.faults if status else [],
                    "loop_occupied": bool(status and status.loop_occupied),
                    "link_ok": bool(status and status.link_ok and not stale),
                    "power_ok": bool(status.power_ok) if status else True,
                    "fail_mode": barrier.fail_mode,
                }
            )
        current = active.get(lane.pk)
        decision = last.get(lane.pk)
        out.append(
            {
                "id": lane.ident,
                "name": lane.name or lane.ident,
                "zone": lane.zone.ident,
                "direction": lane.direction,
                "barriers": barriers,
                "passage": current.state if current else None,
                "last_decision": (
                    {
                        "outcome": decision.outcome,
                        "reason": decision.reason,
                        "plate": decision.plate,
                        "at": timezone.localtime(
                            decision.received_at, timezone=_tz(lane.zone)
                        ).strftime("%H:%M:%S"),
                    }
                    if decision
                    else None
                ),
            }
        )
    return out


def _tz(zone: Zone) -> Any:
    import zoneinfo

    return zoneinfo.ZoneInfo(zone.timezone)


def open_alarms(zones: Iterable[Zone]) -> QuerySet[Alarm]:
    return (
        Alarm.objects.filter(zone__in=list(zones))
        .filter(Q(acknowledged_at__isnull=True) | Q(cleared_at__isnull=True))
        .select_related("lane", "barrier")
    )
