"""The access service layer: every way in (camera API, command line, control room, simulated
traffic) goes through these functions, so they all decide and store alike.

* :func:`submit_request` checks a request (lane, plate, time), asks the pure engine
  (:func:`rempart.access.decide.decide`), and stores the decision -- with a passage for a grant --
  in one committed transaction *before* the daemon can send any command to a device (the daemon
  only acts on stored passages).
* Operator actions (:func:`operator_open`, :func:`operator_close`, :func:`set_zone_mode`,
  :func:`acknowledge_alarm`) check roles and reasons here, not only in the views, and write one
  audit entry each.
* :func:`answer_referral` answers a referred request (a new operator decision linked to it,
  once, within :data:`REFERRAL_WINDOW`); :func:`pending_referrals` lists those waiting.
* :func:`edit_schedule` and :func:`cancel_schedule` change or cancel a scheduled mode not yet
  ended (a lockdown needs a supervisor, as :func:`add_schedule`).
* :func:`import_permits_csv` and
  :func:`export_permits_csv` move permits in and out as CSV (the load file is written by
  :mod:`rempart.access.load_file`); :func:`save_permit_fields` and
  :func:`set_permit_status` create, edit, suspend or revoke one permit from the web pages, with
  the same validator as the CSV import (:func:`check_permit_fields`);
  :func:`create_access_point` turns an assessment plan's active barrier position into a lane
  with its barrier.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from rempart.access import decide as engine
from rempart.access import grants, precedence
from rempart.access.config import MAX_MASS_KG, _Checker
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


def check_read_fields(
    plate: str | None,
    confidence: float | None,
    pin: str | None,
    at: dt.datetime | None,
    now: dt.datetime,
    *,
    operator: bool = False,
    mass_kg: int | None = None,
) -> str | None:
    """The normalised plate of a request whose fields are well formed; ``RequestError`` (422)
    naming the first that is not: the plate, the confidence (0-1), the vehicle class mass
    (1-100,000 kg, the range of a permit's maximum mass), the PIN (4-8 digits), the read time
    ``at`` (skipped when None) against ``now``, and at least a plate, a PIN or an ``operator``
    decision. Shared by :func:`submit_request` and the camera path."""
    normalised = check_plate(plate)
    if confidence is not None and not 0.0 <= confidence <= 1.0:  # also refuses NaN
        raise RequestError(422, f"confidence {confidence!r} is not between 0 and 1")
    if mass_kg is not None and (
        isinstance(mass_kg, bool) or not isinstance(mass_kg, int) or not 1 <= mass_kg <= MAX_MASS_KG
    ):
        raise RequestError(
            422,
            f"mass_kg {str(mass_kg)[:30]} is not a whole number of kilograms from 1 to "
            f"{MAX_MASS_KG:,} (the vehicle class's maximum authorised mass)",
        )
    if pin is not None and not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise RequestError(422, "pin: expected 4 to 8 digits")
    if at is not None:
        check_read_time(at, now)
    if not operator and plate is None and pin is None:
        raise RequestError(422, "a request needs a plate, a PIN or an operator decision")
    return normalised


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
    stored passage, so no command can leave before its decision is durable. A grant for a plate
    whose passage on the lane is unfinished joins that passage (``Submitted.passage`` is then
    the earlier one); a passage has an age limit after which it is never executed
    (:mod:`rempart.access.grants`).

    Raises
    ------
    RequestError
        Unknown lane (404), malformed plate, PIN or time (422); nothing is stored.
    """
    now = now or timezone.now()
    lane = lane or find_lane(lane_ident)
    at = read_at or now
    normalised = check_read_fields(
        plate,
        confidence,
        pin,
        at if check_time else None,
        now,
        operator=operator is not None,
        mass_kg=mass_kg,
    )
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
            passage = grants.open_passage(row, now)
    return Submitted(row, passage, stored=True)


# --- operator actions -------------------------------------------------------------------------


def _require(user: Any, role: str, city: Any, what: str) -> None:
    if not has_role(user, "access", role):
        raise ActionDenied(f"{what} requires the access:{role} role")
    if not can_see_city(user, city):
        raise ActionDenied(f"{what}: this zone belongs to a city your organisation does not serve")


def _gate(user: Any, city: Any, what: str) -> None:
    """Module gates on operating a lane (``operator_gate`` plug-ins, e.g. the exercises
    module's certificate the city requires): the first refusal, as a 403 naming it."""
    from rempart.core.plugins import plugins

    for _label, gate in plugins("operator_gate"):
        refusal = gate.refusal(user, city)
        if refusal:
            raise ActionDenied(f"{what}: {refusal}")


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ActionDenied(f"{what} needs a reason", 422)
    return reason[:500]


def _operator_decision(
    lane: Lane, user: Any, grant: bool, note: str, plate: str | None = None
) -> Submitted:
    """An operator's grant or deny at ``lane``, decided and stored like a camera read (a grant
    gets its passage in state ``granted``, which the daemon then drives); ``plate`` is the
    vehicle's plate when the operator gave one."""
    return submit_request(
        lane.ident,
        plate=plate,
        operator=engine.OperatorAction(operator_id=user.get_username(), grant=grant, note=note),
        source=AccessDecision.Source.OPERATOR,
        actor=user.get_username(),
        check_time=False,
        lane=lane,
    )


def _lock_zone(lane: Lane) -> None:
    """Lock ``lane``'s zone row (PostgreSQL; SQLite's write lock does the same) and reread its
    mode, so that a lockdown committed meanwhile is seen by :mod:`rempart.access.precedence`."""
    zone = Zone.objects.select_for_update().get(pk=lane.zone_id)
    lane.zone.mode = zone.mode
    lane.zone.mode_changed_by = zone.mode_changed_by
    lane.zone.mode_changed_at = zone.mode_changed_at
    lane.zone.mode_reason = zone.mode_reason
    lane.zone.lockdown_exit = zone.lockdown_exit


def operator_open(
    lane: Lane,
    user: Any,
    reason: str,
    *,
    lockdown_exception: bool = False,
    plate: str | None = None,
) -> Submitted:
    """Let one vehicle through ``lane`` (after an intercom call): an operator grant, decided and
    stored like a camera read, then driven by the daemon. ``plate`` (optional) is the plate the
    operator read on the camera or heard at the intercom; it is stored with the decision.

    Refused during a lockdown (:func:`rempart.access.precedence.check_lowering`: 409 with the
    sentence naming the mode, who set it and when; audited) unless ``plate`` holds a valid
    emergency permit for the zone (the engine's rule) or a supervisor asks for a recorded
    ``lockdown_exception``."""
    _require(user, "operator", lane.zone.city, "opening a lane")
    _gate(user, lane.zone.city, "opening a lane")
    note = _reason(reason, "opening a lane")
    try:
        normalised = check_plate(plate.strip() or None if plate else None)
    except RequestError as exc:
        raise ActionDenied(exc.message, 422) from None
    try:
        with transaction.atomic():
            _lock_zone(lane)
            excepted = precedence.check_lowering(
                lane,
                user,
                "open",
                lockdown_exception=lockdown_exception,
                reason=note,
                plate=normalised or "",
            )
            result = _operator_decision(lane, user, True, note, normalised)
            audit.record(
                "access_open",
                obj=lane,
                detail={
                    "reason": note,
                    "request_id": result.decision.request_id.hex,
                    "lockdown_exception": excepted,
                },
            )
    except precedence.LockdownRefused as refused:
        precedence.record_refusal(lane, refused)
        raise ActionDenied(str(refused), refused.status) from None
    return result


def operator_close(lane: Lane, user: Any, reason: str) -> int:
    """Close ``lane`` now: its unfinished passages go to ``closing`` (the daemon raises the
    barriers as soon as the loop is clear). Returns how many passages were closed."""
    _require(user, "operator", lane.zone.city, "closing a lane")
    _gate(user, lane.zone.city, "closing a lane")
    note = _reason(reason, "closing a lane")
    now = timezone.now()
    count = close_passages(Passage.objects.filter(lane=lane), f"operator: {note}", now)
    audit.record("access_close", obj=lane, detail={"reason": note, "passages_closed": count})
    return count


def close_passages(passages: QuerySet[Passage], why: str, now: dt.datetime) -> int:
    """Move unfinished passages to ``closing`` (a passage already closing is left alone)."""
    return (
        passages.filter(state__in=Passage.ACTIVE)
        .exclude(state=Passage.State.CLOSING)
        .update(
            state=Passage.State.CLOSING, closing_since=now, updated_at=now, close_reason=why[:200]
        )
    )


def _zone_mode(mode: str) -> ZoneMode:
    """``mode`` as a zone mode; ``ActionDenied`` (422) naming the modes otherwise."""
    try:
        return ZoneMode(mode)
    except ValueError:
        raise ActionDenied(
            f"mode {mode!r} is not one of {', '.join(m.value for m in ZoneMode)}", 422
        ) from None


def set_zone_mode(zone: Zone, mode: str, user: Any, reason: str) -> None:
    """Change a zone's base mode by hand.

    Entering or leaving ``lockdown`` needs the supervisor role; other changes the operator
    role. Every change needs a reason and is audited. Entering ``lockdown`` closes the zone's
    unfinished passages (the barriers rise once their loops are clear).
    """
    new = _zone_mode(mode)
    old = ZoneMode(zone.mode)
    lockdown = ZoneMode.LOCKDOWN in (old, new)
    what = "entering or leaving lockdown" if lockdown else "changing the zone mode"
    _require(user, "supervisor" if lockdown else "operator", zone.city, what)
    note = _reason(reason, what)
    with transaction.atomic():
        _apply_mode(zone, new, user.get_username(), note, timezone.now())


def _apply_mode(
    zone: Zone, new: ZoneMode, by: str, note: str, now: dt.datetime, **context: Any
) -> None:
    """Write ``zone``'s new base mode with who and why (the reason replaces the previous one,
    so a lifted lockdown leaves no stale reason), close its passages when it enters lockdown,
    and audit it (``context`` adds to the entry, e.g. the load file)."""
    old = ZoneMode(zone.mode)
    zone.mode = new.value
    zone.mode_reason = note
    zone.mode_changed_at = now
    zone.mode_changed_by = by[:150]
    zone.save()
    closed = 0
    if new is ZoneMode.LOCKDOWN:
        closed = close_passages(Passage.objects.filter(lane__zone=zone), "lockdown", now)
    audit.record(
        "access_mode",
        obj=zone,
        detail={
            "from": old.value,
            "to": new.value,
            "reason": note,
            "passages_closed": closed,
            **context,
        },
    )


def acknowledge_alarm(alarm: Alarm, user: Any, note: str = "") -> None:
    """Acknowledge ``alarm`` with an optional comment (who, when and the comment are kept and
    audited); an acknowledged alarm no longer sounds nor escalates, and leaves the list once its
    cause has cleared."""
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
    return ZoneSchedule.objects.create(
        zone=zone,
        mode=new.value,
        start=start,
        end=end,
        label=label,
        created_by=user.get_username()[:150],
    )


def _schedule_text(schedule: ZoneSchedule) -> dict[str, Any]:
    return {
        "mode": schedule.mode,
        "start": schedule.start.astimezone(dt.UTC).isoformat(),
        "end": schedule.end.astimezone(dt.UTC).isoformat(),
        "label": schedule.label,
    }


def _check_not_ended(schedule: ZoneSchedule, now: dt.datetime, what: str) -> None:
    if schedule.end <= now:
        ended = timezone.localtime(schedule.end, _tz(schedule.zone)).strftime("%Y-%m-%d %H:%M")
        name = schedule.label or f"#{schedule.pk}"
        raise ActionDenied(
            f"{what}: the {schedule.mode} schedule {name!r} ended at {ended} "
            f"({schedule.zone.timezone}); an ended schedule is history and stays as it is",
            409,
        )


def cancel_schedule(
    schedule: ZoneSchedule, user: Any, reason: str, *, now: dt.datetime | None = None
) -> str:
    """Cancel a scheduled mode that has not ended; returns ``"deleted"`` or ``"ended"``.

    A schedule that has not started is deleted; one in progress is ended now (its ``end`` set
    to now), so the record of what was in force until now stays. Either way the decision
    engine and the camera path stop applying it at once (both read ``start <= t < end`` from
    the table at every request) and one ``access_schedule_cancel`` audit entry keeps the whole
    schedule with the reason (the generic signal also records the delete or update). A
    lockdown schedule needs a supervisor, as scheduling one does.
    """
    now = now or timezone.now()
    what = "cancelling a scheduled mode"
    lockdown = schedule.mode == ZoneMode.LOCKDOWN
    _require(user, "supervisor" if lockdown else "operator", schedule.zone.city, what)
    note = _reason(reason, what)
    _check_not_ended(schedule, now, what)
    before = _schedule_text(schedule)
    pk = schedule.pk
    with transaction.atomic():
        if schedule.start > now:
            effect = "deleted"
            schedule.delete()
        else:
            effect = "ended"
            schedule.end = now
            schedule.save()
        audit.record(
            "access_schedule_cancel",
            object_type="access.zoneschedule",
            object_id=str(pk),
            object_repr=f"{before['mode']} {before['label']}".strip()[:200],
            city=schedule.zone.city,
            detail={
                "zone": schedule.zone.ident,
                "schedule": before,
                "effect": effect,
                "reason": note,
            },
        )
    return effect


def edit_schedule(
    schedule: ZoneSchedule,
    mode: str,
    start: dt.datetime,
    end: dt.datetime,
    label: str,
    user: Any,
    reason: str,
    *,
    now: dt.datetime | None = None,
) -> ZoneSchedule:
    """Change a scheduled mode that has not ended (mode, start, end, label), with a reason.

    Needs a supervisor when the schedule was or becomes a lockdown (as :func:`set_zone_mode`
    for entering or leaving lockdown), an operator otherwise. The new end must be after the
    start and in the future (to stop a schedule now, cancel it). Audited with the reason and
    the before/after (``access_schedule_edit``).
    """
    now = now or timezone.now()
    what = "changing a scheduled mode"
    new = _zone_mode(mode)
    lockdown = ZoneMode.LOCKDOWN in (ZoneMode(schedule.mode), new)
    _require(user, "supervisor" if lockdown else "operator", schedule.zone.city, what)
    note = _reason(reason, what)
    _check_not_ended(schedule, now, what)
    tz = _tz(schedule.zone)
    if end <= start:
        raise ActionDenied(
            f"end {timezone.localtime(end, tz):%Y-%m-%d %H:%M} is not after start "
            f"{timezone.localtime(start, tz):%Y-%m-%d %H:%M}; expected an end after the start",
            422,
        )
    if end <= now:
        raise ActionDenied(
            f"end {timezone.localtime(end, tz):%Y-%m-%d %H:%M} is in the past; expected a "
            "future end (to stop the schedule now, cancel it)",
            422,
        )
    before = _schedule_text(schedule)
    with transaction.atomic():
        schedule.mode = new.value
        schedule.start = start
        schedule.end = end
        schedule.label = label[:200]
        schedule.save()
        audit.record(
            "access_schedule_edit",
            obj=schedule,
            detail={
                "zone": schedule.zone.ident,
                "before": before,
                "after": _schedule_text(schedule),
                "reason": note,
            },
        )
    return schedule


# --- referred requests ----------------------------------------------------------------------

#: How long a referred request stays answerable, and listed in the control room: a driver
#: waits at the intercom for a minute or two, not more. After that the vehicle has gone (or
#: read again) and a late grant would lower the barrier for whoever is there now.
REFERRAL_WINDOW = dt.timedelta(minutes=10)


def pending_referrals(
    zones: Iterable[Zone], now: dt.datetime | None = None
) -> QuerySet[AccessDecision]:
    """Referred requests of ``zones`` from the last :data:`REFERRAL_WINDOW` not yet answered,
    oldest first (the driver who has waited longest)."""
    now = now or timezone.now()
    return (
        AccessDecision.objects.filter(
            zone__in=list(zones),
            outcome=engine.Outcome.REFER.value,
            received_at__gt=now - REFERRAL_WINDOW,
            answer__isnull=True,
        )
        .select_related("lane", "zone")
        .order_by("received_at", "pk")
    )


def expired_referrals(
    zones: Iterable[Zone], now: dt.datetime | None = None, *, within: dt.timedelta | None = None
) -> QuerySet[AccessDecision]:
    """Referred requests of ``zones`` that expired unanswered in the last ``within`` (default one
    hour) before their :data:`REFERRAL_WINDOW` ended, newest first: kept visible in the control
    room as "expired unanswered" instead of silently disappearing."""
    now = now or timezone.now()
    within = within or dt.timedelta(hours=1)
    return (
        AccessDecision.objects.filter(
            zone__in=list(zones),
            outcome=engine.Outcome.REFER.value,
            received_at__lte=now - REFERRAL_WINDOW,
            received_at__gt=now - REFERRAL_WINDOW - within,
            answer__isnull=True,
        )
        .select_related("lane", "zone")
        .order_by("-received_at", "-pk")
    )


def answer_referral(
    decision: AccessDecision,
    user: Any,
    grant: bool,
    reason: str,
    *,
    now: dt.datetime | None = None,
    lockdown_exception: bool = False,
) -> Submitted:
    """Answer a referred request: an operator grant or deny, stored as a new decision (source
    ``operator``) whose ``answers`` is the referred one.

    A grant creates the passage exactly as :func:`operator_open` (the daemon lowers the
    barrier from it). Needs the operator role in the zone's city and a reason; audited
    (``access_referral_answer``). Refused with :class:`ActionDenied`: a decision that was not
    referred or was already answered (409), one older than :data:`REFERRAL_WINDOW` (410).
    Nothing is written when refused. A grant during a lockdown is refused (409, audited) unless
    the plate holds a valid emergency permit or a supervisor asks for a recorded
    ``lockdown_exception`` (:mod:`rempart.access.precedence`).
    """
    from django.db import IntegrityError

    lane = decision.lane
    what = "answering a referred request"
    _require(user, "operator", decision.zone.city, what)
    note = _reason(reason, what)
    now = now or timezone.now()
    short = decision.request_id.hex[:8]
    if decision.outcome != engine.Outcome.REFER.value:
        raise ActionDenied(
            f"request {short} was decided {decision.outcome} ({decision.reason}); "
            "only a referred request can be answered",
            409,
        )
    earlier = AccessDecision.objects.filter(answers=decision).first()
    if earlier is not None:
        raise _already_answered(decision, earlier)
    age = now - decision.received_at
    if age > REFERRAL_WINDOW:
        raise ActionDenied(
            f"request {short} was referred {age.total_seconds() / 60:.0f} min ago; a referral "
            f"can be answered for {REFERRAL_WINDOW.total_seconds() / 60:.0f} min only "
            "(the vehicle has gone: open the lane if it is still there)",
            410,
        )
    try:
        with transaction.atomic():
            # Lock the referral (PostgreSQL) so that two operators cannot both answer it; on
            # SQLite the write lock and the unique ``answers`` column do the same.
            AccessDecision.objects.select_for_update().filter(pk=decision.pk).first()
            earlier = AccessDecision.objects.filter(answers=decision).first()
            if earlier is not None:
                raise _already_answered(decision, earlier)
            excepted = False
            if grant:
                _lock_zone(lane)
                excepted = precedence.check_lowering(
                    lane,
                    user,
                    "grant_referral",
                    lockdown_exception=lockdown_exception,
                    reason=note,
                    plate=decision.plate,
                    now=now,
                )
            result = _operator_decision(lane, user, grant, note)
            AccessDecision.objects.filter(pk=result.decision.pk).update(answers=decision)
            result.decision.answers = decision
            audit.record(
                "access_referral_answer",
                obj=lane,
                detail={
                    "referral": decision.request_id.hex,
                    "referral_reason": decision.reason,
                    "answer": "grant" if grant else "deny",
                    "reason": note,
                    "request_id": result.decision.request_id.hex,
                    "lockdown_exception": excepted,
                },
            )
    except precedence.LockdownRefused as refused:
        precedence.record_refusal(lane, refused)
        raise ActionDenied(str(refused), refused.status) from None
    except IntegrityError:  # another operator's answer committed in between
        earlier = AccessDecision.objects.filter(answers=decision).first()
        if earlier is None:
            raise
        raise _already_answered(decision, earlier) from None
    return result


def _already_answered(decision: AccessDecision, earlier: AccessDecision) -> ActionDenied:
    at = timezone.localtime(earlier.received_at, _tz(decision.zone)).strftime("%H:%M:%S")
    verb = "granted" if earlier.outcome == engine.Outcome.GRANT.value else "denied"
    return ActionDenied(
        f"request {decision.request_id.hex[:8]} was already answered: {earlier.actor or 'an operator'} "
        f"{verb} it at {at}",
        409,
    )


# --- permits, one by one --------------------------------------------------------------------

#: Who issues, edits, suspends and revokes permits in the web pages: the access ``editor``
#: (the city's permit office), and above it operators and supervisors (the control room
#: suspends a stolen vehicle's permit at night). The same role imports and exports them.
PERMIT_ROLE = "editor"


class PermitInvalid(Exception):
    """A permit refused by the load file's rules: ``errors`` one line each, ``field: problem``."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def save_permit_fields(
    city: Any,
    fields: Mapping[str, Any],
    user: Any,
    *,
    permit: Permit | None = None,
    clear_pin: bool = False,
) -> Permit:
    """Create (``permit`` None) or edit one permit of ``city`` from text fields.

    ``fields`` are the CSV columns (:func:`check_permit_fields`, the one validator of the load
    file, the CSV import and this form), except ``status`` (changed by :func:`set_permit_status`
    with a reason) and ``id`` on edit (the id is the permit's key in imports). A blank ``pin``
    keeps the enrolled PIN; ``clear_pin`` removes it. The PIN is stored only as its scrypt
    hash. Raises :class:`PermitInvalid` (nothing written) or :class:`ActionDenied` (role or
    city). Audited by the generic signal (create/update with before/after, the PIN hash
    redacted; the holder as in every other permit change).
    """
    _require(user, PERMIT_ROLE, city, "editing permits")
    values = dict(fields)
    values["status"] = permit.status if permit is not None else engine.PermitStatus.ACTIVE.value
    if permit is not None:
        values["id"] = permit.ident
    path = "permit"
    checker = _Checker()
    zones = {z.ident: z for z in Zone.objects.filter(city=city)}
    if clear_pin and str(values.get("pin") or "").strip():
        checker.error(f"{path}.pin", "give a new PIN or clear the PIN, not both")
    if permit is None and str(values.get("id") or "").strip():
        ident = str(values["id"]).strip()
        if Permit.objects.filter(city=city, ident=ident).exists():
            checker.error(f"{path}.id", f"{ident!r} is already a permit of this city")
    if permit is None and not str(values.get("id") or "").strip():
        checker.error(f"{path}.id", f"is required; expected {_id_rule()}")
    parsed = check_permit_fields(values, path, set(zones), checker)
    if checker.errors or parsed is None:
        raise PermitInvalid(checker.errors or [f"{path}: the permit is incomplete"])
    with transaction.atomic():
        row = _save_permit(
            parsed,
            city,
            [zones[z] for z in sorted(parsed.zones)],
            holder_contact=str(values.get("holder_contact") or "").strip()[:300],
            is_demo=permit.is_demo if permit is not None else False,
        )
        if clear_pin and row.pin_hash:
            row.pin_hash = ""
            row.save()
    return row


def _id_rule() -> str:
    from rempart.access.config import ID_RULE

    return ID_RULE


def set_permit_status(permit: Permit, status: str, user: Any, reason: str) -> str:
    """Suspend, revoke or reactivate ``permit`` with a reason; returns the previous status.

    The decision engine reads permits from the table at every request (both the general path
    and the camera path), so the change applies to the very next read. For a stolen vehicle,
    *suspend*: a suspended permit denies the plate in its zones even when the plate holds
    another valid permit (deny overrides grant); a revoked permit is history and is ignored
    when the plate has another permit. Audited (``access_permit_status`` with the reason, plus
    the generic update).
    """
    _require(user, PERMIT_ROLE, permit.city, "changing a permit's status")
    try:
        new = engine.PermitStatus(status)
    except ValueError:
        raise ActionDenied(
            f"status {status!r} is not one of {', '.join(s.value for s in engine.PermitStatus)}",
            422,
        ) from None
    note = _reason(reason, "changing a permit's status")
    old = permit.status
    if old == new.value:
        raise ActionDenied(f"permit {permit.ident} is already {old}", 409)
    with transaction.atomic():
        permit.status = new.value
        permit.save()
        audit.record(
            "access_permit_status",
            obj=permit,
            detail={"from": old, "to": new.value, "reason": note},
        )
    return old


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


def _permit_columns(p: engine.Permit) -> dict[str, Any]:
    """The stored columns of an engine permit, but its PIN, holder contact, zones and demo flag
    (for :func:`_save_permit` and the staged CSV import)."""
    return {
        "plate": p.plate,
        "holder": p.holder,
        "category": p.category.value,
        "max_mass_kg": p.max_mass_kg,
        "windows": windows_to_json(p.windows),
        "valid_from": p.valid_from,
        "valid_to": p.valid_to,
        "exception_dates": sorted(d.isoformat() for d in p.exception_dates),
        "status": p.status.value,
    }


def _save_permit(
    p: engine.Permit,
    city: Any,
    zones: list[Zone],
    *,
    holder_contact: str | None = None,
    is_demo: bool = False,
) -> Permit:
    defaults: dict[str, Any] = {**_permit_columns(p), "is_demo": is_demo}
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


def check_permit_fields(
    fields: Mapping[str, Any],
    path: str,
    zone_ids: set[str],
    checker: _Checker,
    *,
    index: int = 0,
    permit_ids: dict[str, str] | None = None,
) -> engine.Permit | None:
    """Check one permit given as text fields (a CSV row, or the permit form of the web pages).

    ``fields`` uses the CSV column names (:data:`CSV_COLUMNS`); ``zones`` and
    ``exception_dates`` are space-separated text or lists, ``windows`` is
    ``mon-sat 05:00-10:30; sun 07:00-09:00``, ``pin`` a clear PIN (blank: none given). The rules
    are the load file's (:meth:`rempart.access.config._Checker.permit`): one validator for the
    load file, the CSV import and the web form. Problems go to ``checker.errors`` as
    ``<path>.<field>: <problem>``; returns None when the permit is unusable.
    """

    def text(column: str) -> str:
        value = fields.get(column)
        return "" if value is None else str(value).strip()

    def words(column: str) -> list[str]:
        value = fields.get(column)
        if isinstance(value, list | tuple):
            return [str(v).strip() for v in value if str(v).strip()]
        return text(column).split()

    node: dict[str, Any] = {}
    for column in ("id", "plate", "holder", "category", "status", "valid_from", "valid_to"):
        if text(column):
            node[column] = text(column)
    node["zones"] = words("zones")
    mass = text("max_mass_kg")
    if mass:
        node["max_mass_kg"] = int(mass) if mass.isdigit() else mass
    if text("windows"):
        node["windows"] = parse_windows(text("windows"), f"{path}.windows", checker.errors)
    if words("exception_dates"):
        node["exception_dates"] = words("exception_dates")
    if text("pin"):
        node["pin"] = text("pin")
    return checker.permit(node, path, index, zone_ids, {} if permit_ids is None else permit_ids)


@dataclass(frozen=True)
class CsvImport:
    errors: list[str]
    created: int = 0
    updated: int = 0


def import_permits_csv(
    data: str | bytes, city: Any, *, dry_run: bool = False, what: str = "file"
) -> CsvImport:
    """Read permits from CSV (columns :data:`CSV_COLUMNS`; header required) for ``city``.

    ``data`` is the file's bytes (UTF-8, a byte-order mark allowed; anything else is one
    sentence) or its text. The file is read within :mod:`rempart.inputs`' limits (rows, field
    length, NUL bytes). Every row is checked first, outside any transaction, with the load
    file's rules; errors are reported one per line as ``row N, column: problem`` and then
    nothing is written. Otherwise the rows are upserted by ``id`` through
    :func:`rempart.core.bulk.staged_upsert` (staged in short transactions, then one short final
    transaction, so camera reads are not held up and nothing is visible half-way) and the import
    is one audit entry (counts, file name, SHA-256) committed with the rows. ``zones`` is
    space-separated zone ids of the city, ``windows`` ``mon-sat 05:00-10:30; sun 07:00-09:00``,
    ``exception_dates`` space-separated ISO dates, ``pin`` a clear PIN to enrol (blank keeps the
    enrolled one; PINs are never exported).
    """
    from rempart.inputs import InputError, csv_rows, decode_text

    try:
        text = decode_text(data, what) if isinstance(data, bytes) else data.lstrip("\ufeff")
        header, rows = csv_rows(text, what)
    except InputError as exc:
        return CsvImport([str(exc)])
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
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        path = f"row {number}"
        contact = (row.get("holder_contact") or "").strip()
        if len(contact) > 300:
            checker.errors.append(
                f"{path}.holder_contact: {len(contact)} characters; expected at most 300"
            )
        permit = check_permit_fields(
            row, path, set(city_zones), checker, index=number - 2, permit_ids=permit_ids
        )
        if permit is not None:
            parsed.append((permit, contact))
        if len(checker.errors) > 100:
            checker.errors.append("… (more errors not shown)")
            break
    if checker.errors:
        return CsvImport(checker.errors)
    if dry_run:
        stored = set(Permit.objects.filter(city=city).values_list("ident", flat=True))
        stored &= {p.id for p, _ in parsed}
        return CsvImport([], len(parsed) - len(stored), len(stored))
    from rempart.core.bulk import sha256_of

    digest = sha256_of(data)

    def entry(result: Any) -> None:
        audit.record(
            "import",
            object_type="access.permit",
            object_repr=f"{len(parsed)} permits from CSV",
            city=city,
            detail={
                "format": "csv",
                "file": what,
                "sha256": digest,
                "created": result.created,
                "updated": result.updated,
            },
        )

    done = _bulk_save_permits(city, parsed, city_zones, entry)
    return CsvImport([], done.created, done.updated)


def _bulk_save_permits(
    city: Any,
    parsed: list[tuple[engine.Permit, str]],
    city_zones: dict[str, Zone],
    audit_entry: Callable[[Any], None],
) -> Any:
    """Create or update ``parsed`` permits and their zones, all or nothing, nothing visible
    half-way: staged in TEMP tables in short transactions, then one short final transaction
    (:func:`rempart.core.bulk.staged_upsert`) that also replaces the zones of every imported
    permit and writes ``audit_entry``. Returns the :class:`~rempart.core.bulk.Upserted` counts.
    """
    from rempart.core.bulk import drop_stage, stage_table, staged_upsert

    now = timezone.now()
    rows = [
        {
            "city_id": city.pk,
            "ident": p.id,
            **_permit_columns(p),
            "holder_contact": contact,
            "pin_hash": p.pin_hash or "",
            "is_demo": False,
            "updated_at": now,
        }
        for p, contact in parsed
    ]
    links = [(p.id, city_zones[ident].pk) for p, _ in parsed for ident in sorted(p.zones)]
    name = "rempart_stage_permit_zones"
    zones_stage = stage_table(name, "ident varchar(64), zone_id integer", links)
    through = Permit.zones.through
    quote = connection.ops.quote_name
    link_table = quote(through._meta.db_table)
    permit_table = quote(Permit._meta.db_table)

    def replace_zones(cursor: Any, stage: str) -> None:
        cursor.execute(
            f"DELETE FROM {link_table} WHERE permit_id IN (SELECT t.id FROM {permit_table} t "
            f"JOIN {stage} s ON s.city_id = t.city_id AND s.ident = t.ident)"
        )
        cursor.execute(
            f"INSERT INTO {link_table} (permit_id, zone_id) SELECT t.id, z.zone_id "
            f"FROM {zones_stage} z JOIN {permit_table} t ON t.city_id = %s AND t.ident = z.ident",
            [city.pk],
        )

    try:
        return staged_upsert(
            Permit,
            rows,
            key=("city_id", "ident"),
            keep=("is_demo",),
            # a blank PIN in an import keeps the enrolled one
            merge={"pin_hash": "CASE WHEN {new} = '' THEN {old} ELSE {new} END"},
            final=replace_zones,
            audit_entry=audit_entry,
        )
    finally:
        drop_stage(name)


def export_permits_csv(permits: Iterable[Permit], *, with_holders: bool) -> str:
    """CSV of ``permits`` (PINs never exported; holders only ``with_holders``).

    Written by :func:`rempart.inputs.csv_text`: text cells that a spreadsheet would run as a
    formula get a leading apostrophe (read back without it by the import).
    """
    from rempart.inputs import csv_text

    return csv_text(CSV_COLUMNS, (_permit_row(p, with_holders) for p in permits))


def _permit_row(p: Permit, with_holders: bool) -> dict[str, Any]:
    return {
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
