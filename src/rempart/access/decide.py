"""The access decision engine: who may pass a barrier, now, and why.

Pure functions over frozen dataclasses: no database, no clock, no I/O. The Django models
mirror ``Zone``, ``Lane``, ``Permit`` and ``ScheduledMode`` and convert to them; the daemon
calls ``decide`` for each camera read, keypad entry or operator action and drives the barriers.

Order of evaluation (first rule that applies wins)
    1. An operator's explicit action (after an intercom call, Palermo style) is final.
    2. Zone mode ``emergency_open``: grant everything, barriers held down (evacuation/rescue).
    3. Zone mode ``maintenance``: refer everything to the operator.
    4. Exit lanes (direction ``out``): grant, whoever it is; in ``lockdown`` the zone's
       ``lockdown_exit`` policy applies (default ``free``: vehicles leaving do not threaten the
       protected space and holding them inside mixes traffic with the crowd; a city may choose
       ``refer`` or ``closed``).
    5. Entry lanes: a credential is needed. Unreadable plate or confidence below
       ``DecisionPolicy.min_confidence`` (default 0.9) -> refer. Two-factor lanes (Manchester:
       keypad PIN must match the plate read) deny a plate alone with ``pin_required`` -- the
       daemon shows "type your PIN" rather than paging the operator -- and deny a PIN alone
       with ``plate_required``.
    6. Permits of the plate (or of the PIN on PIN-only lanes) are evaluated one by one:
       status, zone, validity dates, exception dates, weekly windows, mass, PIN.
    7. ``lockdown`` admits only a valid permit of category ``emergency``.

Several permits for one plate
    * ``suspended`` *overrides* any grant for that plate in that zone ("deny overrides grant",
      as in Genetec Synergis): suspension is a live sanction on the vehicle.
    * ``revoked`` permits are history: they are ignored when the plate has any other permit, so
      an old revoked permit never shadows the new active one; alone, they explain the denial.
    * Otherwise one valid permit grants. When none is valid, the reason comes from the permit
      that passed the most checks (the one closest to being valid explains best).

Times: ``AccessRequest.at`` is an aware instant; windows and dates are compared in the zone's
local time (see ``rempart.access.schedule`` for midnight and daylight-saving rules).

Reason codes are stable snake_case identifiers (``Reason``); the message is a human sentence in
English for logs and the control room; translations key on the reason code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo

from rempart.access.drivers.base import Barrier
from rempart.access.plates import InvalidPlateError, normalise_plate, verify_pin
from rempart.access.schedule import (
    ScheduledMode,
    TimeWindow,
    ZoneMode,
    effective_mode,
    local_service_day,
)

__all__ = [
    "REASON_OUTCOME",
    "AccessRequest",
    "Decision",
    "DecisionPolicy",
    "Direction",
    "ExitPolicy",
    "IdentificationMethod",
    "Lane",
    "OperatorAction",
    "Outcome",
    "Permit",
    "PermitCategory",
    "PermitStatus",
    "PlateRead",
    "Reason",
    "Zone",
    "ZoneMode",
    "decide",
    "evaluate_permit",
]


class Direction(StrEnum):
    """Traffic direction of a lane relative to the protected zone."""

    IN = "in"
    OUT = "out"


class IdentificationMethod(StrEnum):
    """How a driver identifies at a lane (domain.md section 3)."""

    ANPR = "anpr"
    PIN = "pin"
    INTERCOM = "intercom"
    BADGE = "badge"


class PermitCategory(StrEnum):
    """Who holds a permit; ``emergency`` alone enters during a lockdown."""

    RESIDENT = "resident"
    DELIVERY = "delivery"
    EMERGENCY = "emergency"
    PUBLIC_SERVICE = "public_service"
    TAXI = "taxi"
    EVENT_STAFF = "event_staff"
    WORKS = "works"


class PermitStatus(StrEnum):
    """Life cycle of a permit."""

    ACTIVE = "active"
    #: Temporarily blocked; overrides other permits of the same plate in the same zone.
    SUSPENDED = "suspended"
    #: Ended for good; ignored when the plate holds another permit.
    REVOKED = "revoked"


class ExitPolicy(StrEnum):
    """What exit lanes do while the zone is in lockdown."""

    FREE = "free"
    REFER = "refer"
    CLOSED = "closed"


class Outcome(StrEnum):
    """The decision: lower the barrier, keep it up, or ask the operator."""

    GRANT = "grant"
    DENY = "deny"
    REFER = "refer"


class Reason(StrEnum):
    """Why. Stable identifiers: logs, APIs and translations key on them."""

    # grant
    PERMIT_VALID = "permit_valid"
    EMERGENCY_IN_LOCKDOWN = "emergency_in_lockdown"
    ZONE_EMERGENCY_OPEN = "zone_emergency_open"
    EXIT_FREE = "exit_free"
    OPERATOR_GRANT = "operator_grant"
    # deny
    NO_PERMIT = "no_permit"
    PERMIT_REVOKED = "permit_revoked"
    PERMIT_SUSPENDED = "permit_suspended"
    PERMIT_WRONG_ZONE = "permit_wrong_zone"
    PERMIT_NOT_YET_VALID = "permit_not_yet_valid"
    PERMIT_EXPIRED = "permit_expired"
    PERMIT_EXCEPTION_DATE = "permit_exception_date"
    OUTSIDE_WINDOW = "outside_window"
    MASS_EXCEEDED = "mass_exceeded"
    PIN_REQUIRED = "pin_required"
    PLATE_REQUIRED = "plate_required"
    PIN_MISMATCH = "pin_mismatch"
    PIN_NOT_ENROLLED = "pin_not_enrolled"
    ZONE_LOCKDOWN = "zone_lockdown"
    EXIT_CLOSED_LOCKDOWN = "exit_closed_lockdown"
    OPERATOR_DENY = "operator_deny"
    # refer
    LOW_CONFIDENCE = "low_confidence"
    UNREADABLE_PLATE = "unreadable_plate"
    NO_CREDENTIAL = "no_credential"
    METHOD_NOT_ENABLED = "method_not_enabled"
    ZONE_MAINTENANCE = "zone_maintenance"
    EXIT_REFER_LOCKDOWN = "exit_refer_lockdown"


_GRANTS = {
    Reason.PERMIT_VALID,
    Reason.EMERGENCY_IN_LOCKDOWN,
    Reason.ZONE_EMERGENCY_OPEN,
    Reason.EXIT_FREE,
    Reason.OPERATOR_GRANT,
}
_REFERS = {
    Reason.LOW_CONFIDENCE,
    Reason.UNREADABLE_PLATE,
    Reason.NO_CREDENTIAL,
    Reason.METHOD_NOT_ENABLED,
    Reason.ZONE_MAINTENANCE,
    Reason.EXIT_REFER_LOCKDOWN,
}
#: The outcome each reason always carries.
REASON_OUTCOME: dict[Reason, Outcome] = {
    reason: Outcome.GRANT
    if reason in _GRANTS
    else Outcome.REFER
    if reason in _REFERS
    else Outcome.DENY
    for reason in Reason
}


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lane:
    """One traffic lane through a zone's perimeter.

    ``two_factor`` lanes need a plate read *and* a PIN matching that plate's permit.
    """

    id: str
    direction: Direction = Direction.IN
    identification: frozenset[IdentificationMethod] = frozenset({IdentificationMethod.ANPR})
    two_factor: bool = False
    barriers: tuple[Barrier, ...] = ()


@dataclass(frozen=True)
class Zone:
    """A protected area with its lanes.

    Attributes
    ----------
    timezone:
        IANA name, e.g. ``"Europe/Paris"``; windows and dates are read in it.
    mode:
        Base mode; active ``schedules`` override it (see ``schedule.effective_mode``).
    lockdown_exit:
        What exit lanes do during a lockdown.
    """

    id: str
    timezone: str = "Europe/Paris"
    mode: ZoneMode = ZoneMode.NORMAL
    lanes: tuple[Lane, ...] = ()
    schedules: tuple[ScheduledMode, ...] = ()
    lockdown_exit: ExitPolicy = ExitPolicy.FREE
    name: str = ""

    @cached_property
    def tz(self) -> ZoneInfo:
        """The zone's ``ZoneInfo``."""
        return ZoneInfo(self.timezone)

    def lane(self, lane_id: str) -> Lane:
        """The lane ``lane_id``; ``KeyError`` naming the zone's lanes if absent."""
        for lane in self.lanes:
            if lane.id == lane_id:
                return lane
        known = ", ".join(lane.id for lane in self.lanes) or "none"
        raise KeyError(f"lane {lane_id!r} is not in zone {self.id!r}; its lanes: {known}")


@dataclass(frozen=True)
class Permit:
    """An authorisation for one vehicle.

    Attributes
    ----------
    plate:
        Normalised on construction (``plates.normalise_plate``).
    zones:
        Zone ids where it applies.
    windows:
        Weekly windows in each zone's local time; empty means at any time.
    valid_from, valid_to:
        Inclusive local dates (compared with the service day); None means open-ended.
    exception_dates:
        Service days on which the permit does not apply.
    max_mass_kg:
        Maximum authorised vehicle mass, kg; None means no limit.
    pin_hash:
        ``plates.hash_pin`` output, or None when no PIN is enrolled.
    holder:
        Who holds it (personal data): carried for the load file, never written into a
        decision's message.
    """

    id: str
    plate: str
    category: PermitCategory
    zones: frozenset[str]
    holder: str = ""
    windows: tuple[TimeWindow, ...] = ()
    valid_from: date | None = None
    valid_to: date | None = None
    exception_dates: frozenset[date] = frozenset()
    max_mass_kg: int | None = None
    pin_hash: str | None = field(default=None, repr=False)
    status: PermitStatus = PermitStatus.ACTIVE

    def __post_init__(self) -> None:
        object.__setattr__(self, "plate", normalise_plate(self.plate))

    def describe(self) -> str:
        """``"delivery permit p-17"``: never the holder, who is personal data that only access
        editors may read (the message is shown to viewers and returned to cameras)."""
        return f"{self.category.replace('_', ' ')} permit {self.id}"

    def describe_windows(self) -> str:
        """``"Mon-Sat 05:00-10:30"``, ``"at any time"``."""
        return "; ".join(w.describe() for w in self.windows) or "at any time"


@dataclass(frozen=True)
class PlateRead:
    """A camera's reading.

    ``confidence`` is 0-1 as reported by the ANPR engine; ``mass_kg`` is the maximum
    authorised mass of the vehicle class the camera recognised, kg (None: not classified).
    """

    plate: str
    confidence: float
    mass_kg: int | None = None


@dataclass(frozen=True)
class OperatorAction:
    """An operator's explicit decision, e.g. after talking to the driver on the intercom."""

    operator_id: str
    grant: bool
    note: str = ""


@dataclass(frozen=True)
class AccessRequest:
    """Something arrived at ``lane_id`` at instant ``at`` (aware)."""

    lane_id: str
    at: datetime
    plate: PlateRead | None = None
    pin: str | None = field(default=None, repr=False)
    operator: OperatorAction | None = None


@dataclass(frozen=True)
class DecisionPolicy:
    """Tunables. ``min_confidence``: ANPR reads below it are referred (0-1, default 0.9)."""

    min_confidence: float = 0.9


DEFAULT_POLICY = DecisionPolicy()


@dataclass(frozen=True)
class Decision:
    """The engine's answer.

    ``plate`` is the normalised plate when one was read; ``permit_id`` the permit that decided
    (granting or explaining the denial); ``mode`` the zone mode in force; ``local_time`` the
    request instant in the zone's time zone.
    """

    outcome: Outcome
    reason: Reason
    message: str
    mode: ZoneMode
    local_time: datetime
    plate: str | None = None
    permit_id: str | None = None

    @property
    def granted(self) -> bool:
        """True when the barrier should lower."""
        return self.outcome is Outcome.GRANT


# --- permit evaluation ------------------------------------------------------------------------

# Checks in order; a permit failing at a later stage is "closer to valid".
_STAGES = (
    Reason.PERMIT_REVOKED,
    Reason.PERMIT_SUSPENDED,
    Reason.PERMIT_WRONG_ZONE,
    Reason.PERMIT_NOT_YET_VALID,
    Reason.PERMIT_EXPIRED,
    Reason.PERMIT_EXCEPTION_DATE,
    Reason.OUTSIDE_WINDOW,
    Reason.MASS_EXCEEDED,
    Reason.PIN_NOT_ENROLLED,
    Reason.PIN_MISMATCH,
)


@dataclass(frozen=True)
class PermitEvaluation:
    """Result of checking one permit; ``reason`` is None when it is valid."""

    permit: Permit
    reason: Reason | None
    message: str

    @property
    def valid(self) -> bool:
        return self.reason is None

    @property
    def progress(self) -> int:
        """How many checks passed (higher: closer to valid)."""
        return len(_STAGES) if self.reason is None else _STAGES.index(self.reason)


def _clock(local: datetime, zone: Zone) -> str:
    return f"it is {local:%a %d %b %Y %H:%M} in {zone.timezone}"


def evaluate_permit(
    permit: Permit,
    zone: Zone,
    local: datetime,
    *,
    mass_kg: int | None = None,
    pin: str | None = None,
    check_pin: bool = False,
) -> PermitEvaluation:
    """Check one permit for ``zone`` at local wall-clock time ``local``.

    ``check_pin`` makes a missing or wrong PIN fail (two-factor lanes); the PIN hash is
    computed last, only for permits that passed every other check (scrypt costs ~65 ms).
    """
    what = permit.describe()
    if permit.status is PermitStatus.REVOKED:
        return PermitEvaluation(permit, Reason.PERMIT_REVOKED, f"{what} is revoked")
    if permit.status is PermitStatus.SUSPENDED:
        return PermitEvaluation(permit, Reason.PERMIT_SUSPENDED, f"{what} is suspended")
    if zone.id not in permit.zones:
        zones = ", ".join(sorted(permit.zones))
        return PermitEvaluation(
            permit, Reason.PERMIT_WRONG_ZONE, f"{what} covers {zones}, not {zone.id}"
        )
    service_day = local_service_day(permit.windows, local)
    day = service_day or local.date()
    if permit.valid_from is not None and day < permit.valid_from:
        return PermitEvaluation(
            permit,
            Reason.PERMIT_NOT_YET_VALID,
            f"{what} is valid from {permit.valid_from:%Y-%m-%d}; {_clock(local, zone)}",
        )
    if permit.valid_to is not None and day > permit.valid_to:
        return PermitEvaluation(
            permit,
            Reason.PERMIT_EXPIRED,
            f"{what} expired on {permit.valid_to:%Y-%m-%d}; {_clock(local, zone)}",
        )
    if day in permit.exception_dates:
        return PermitEvaluation(
            permit,
            Reason.PERMIT_EXCEPTION_DATE,
            f"{what} does not apply on {day:%a %d %b %Y} (exception date); {_clock(local, zone)}",
        )
    if service_day is None:
        return PermitEvaluation(
            permit,
            Reason.OUTSIDE_WINDOW,
            f"{what} valid {permit.describe_windows()}; {_clock(local, zone)}",
        )
    if mass_kg is not None and permit.max_mass_kg is not None and mass_kg > permit.max_mass_kg:
        return PermitEvaluation(
            permit,
            Reason.MASS_EXCEEDED,
            f"{what} allows {permit.max_mass_kg} kg; the vehicle class read is {mass_kg} kg",
        )
    if check_pin:
        if permit.pin_hash is None:
            return PermitEvaluation(
                permit, Reason.PIN_NOT_ENROLLED, f"{what} has no PIN enrolled for this lane"
            )
        if pin is None or not verify_pin(pin, permit.pin_hash):
            return PermitEvaluation(
                permit, Reason.PIN_MISMATCH, f"the PIN typed does not match {what}"
            )
    return PermitEvaluation(
        permit, None, f"{what} valid {permit.describe_windows()}; {_clock(local, zone)}"
    )


# --- the decision -------------------------------------------------------------------------------


def decide(
    request: AccessRequest,
    zone: Zone,
    permits: Iterable[Permit],
    policy: DecisionPolicy = DEFAULT_POLICY,
) -> Decision:
    """Decide whether the vehicle in ``request`` may pass.

    Parameters
    ----------
    request:
        Lane, aware instant and credential (plate read, PIN, or operator action).
    zone:
        The zone owning ``request.lane_id``.
    permits:
        Candidate permits: those of the plate read (any status, any zone), or on PIN-only
        lanes those with a PIN enrolled for the zone. Others are filtered out here, so passing
        more is safe but costs time (each PIN check is one scrypt hash).
    policy:
        Thresholds.

    Raises
    ------
    ValueError
        ``request.at`` is naive.
    KeyError
        ``request.lane_id`` is not a lane of ``zone``.
    """
    if request.at.tzinfo is None or request.at.utcoffset() is None:
        raise ValueError(f"request time {request.at.isoformat()} has no time zone")
    lane = zone.lane(request.lane_id)
    local = request.at.astimezone(zone.tz)
    mode, schedule = effective_mode(zone.mode, zone.schedules, request.at)
    plate_text = _normalised_or_none(request.plate.plate) if request.plate else None

    def verdict(reason: Reason, message: str, permit: Permit | None = None) -> Decision:
        return Decision(
            outcome=REASON_OUTCOME[reason],
            reason=reason,
            message=message,
            mode=mode,
            local_time=local,
            plate=plate_text,
            permit_id=permit.id if permit else None,
        )

    mode_note = f"zone {zone.id} is in {mode}" + (
        f" (scheduled until {schedule.end.astimezone(zone.tz):%d %b %H:%M})" if schedule else ""
    )

    # 1. operator
    if request.operator is not None:
        op = request.operator
        reason = Reason.OPERATOR_GRANT if op.grant else Reason.OPERATOR_DENY
        note = f": {op.note}" if op.note else ""
        return verdict(
            reason,
            f"operator {op.operator_id} {'granted' if op.grant else 'denied'} passage{note}",
        )
    # 2-3. modes that ignore credentials
    if mode is ZoneMode.EMERGENCY_OPEN:
        return verdict(Reason.ZONE_EMERGENCY_OPEN, f"{mode_note}: every vehicle passes")
    if mode is ZoneMode.MAINTENANCE:
        return verdict(Reason.ZONE_MAINTENANCE, f"{mode_note}: the operator decides")
    # 4. exits
    if lane.direction is Direction.OUT:
        if mode is ZoneMode.LOCKDOWN and zone.lockdown_exit is ExitPolicy.CLOSED:
            return verdict(Reason.EXIT_CLOSED_LOCKDOWN, f"{mode_note}; exits are closed")
        if mode is ZoneMode.LOCKDOWN and zone.lockdown_exit is ExitPolicy.REFER:
            return verdict(
                Reason.EXIT_REFER_LOCKDOWN, f"{mode_note}; the operator checks each exit"
            )
        return verdict(Reason.EXIT_FREE, f"exit lane {lane.id}: vehicles leave freely")
    # 5. credentials on entry lanes
    read, pin = request.plate, request.pin
    if read is None and pin is None:
        return verdict(Reason.NO_CREDENTIAL, f"no plate read and no PIN at lane {lane.id}")
    if read is not None and IdentificationMethod.ANPR not in lane.identification:
        return verdict(Reason.METHOD_NOT_ENABLED, f"lane {lane.id} is not set up for ANPR")
    if pin is not None and IdentificationMethod.PIN not in lane.identification:
        return verdict(Reason.METHOD_NOT_ENABLED, f"lane {lane.id} has no PIN keypad")
    if read is not None:
        if plate_text is None:
            return verdict(
                Reason.UNREADABLE_PLATE, f"plate read {read.plate!r} is not a plausible plate"
            )
        if read.confidence < policy.min_confidence:
            return verdict(
                Reason.LOW_CONFIDENCE,
                f"plate {plate_text} read with confidence {read.confidence:.2f}, "
                f"below {policy.min_confidence:.2f}",
            )
    if lane.two_factor and pin is None:
        return verdict(
            Reason.PIN_REQUIRED,
            f"lane {lane.id} needs the PIN of plate {plate_text} (plate + PIN)",
        )
    if lane.two_factor and read is None:
        return verdict(
            Reason.PLATE_REQUIRED, f"lane {lane.id} needs a plate read with the PIN (plate + PIN)"
        )

    # 6. permits
    mass_kg = read.mass_kg if read is not None else None
    if plate_text is not None:
        own = [p for p in permits if p.plate == plate_text]
        who = f"plate {plate_text}"
        check_pin = lane.two_factor
    else:
        assert pin is not None  # guaranteed by the checks above
        own = [
            p
            for p in permits
            if zone.id in p.zones and p.pin_hash is not None and verify_pin(pin, p.pin_hash)
        ]
        who = "the PIN typed"
        check_pin = False
    if not own:
        return verdict(Reason.NO_PERMIT, f"no permit for {who} in zone {zone.id}")
    own.sort(key=lambda p: p.id)
    suspended = [p for p in own if p.status is PermitStatus.SUSPENDED and zone.id in p.zones]
    if suspended:
        permit = suspended[0]
        return verdict(
            Reason.PERMIT_SUSPENDED,
            f"{permit.describe()} is suspended; a suspension overrides other permits",
            permit,
        )
    considered = [p for p in own if p.status is not PermitStatus.REVOKED] or own
    evaluations = _evaluate_all(considered, zone, local, mass_kg, pin, check_pin)
    valid = [e for e in evaluations if e.valid]

    # 7. lockdown: emergency only
    if mode is ZoneMode.LOCKDOWN:
        emergency = [e for e in valid if e.permit.category is PermitCategory.EMERGENCY]
        if emergency:
            e = emergency[0]
            return verdict(Reason.EMERGENCY_IN_LOCKDOWN, f"{mode_note}; {e.message}", e.permit)
        if valid:
            e = valid[0]
            return verdict(
                Reason.ZONE_LOCKDOWN,
                f"{mode_note}: only emergency vehicles enter; {e.permit.describe()} is not one",
                e.permit,
            )
        best = max(evaluations, key=lambda e: e.progress)
        assert best.reason is not None
        return verdict(best.reason, f"{mode_note}; {best.message}", best.permit)

    if valid:
        return verdict(Reason.PERMIT_VALID, valid[0].message, valid[0].permit)
    best = max(evaluations, key=lambda e: e.progress)
    assert best.reason is not None
    return verdict(best.reason, best.message, best.permit)


def _evaluate_all(
    permits: Sequence[Permit],
    zone: Zone,
    local: datetime,
    mass_kg: int | None,
    pin: str | None,
    check_pin: bool,
) -> list[PermitEvaluation]:
    # Check everything but the PIN first, then hash the PIN only for the permits still valid:
    # one scrypt per plausible permit, not per permit.
    first = [evaluate_permit(p, zone, local, mass_kg=mass_kg) for p in permits]
    if not check_pin:
        return first
    return [
        evaluate_permit(e.permit, zone, local, mass_kg=mass_kg, pin=pin, check_pin=True)
        if e.valid
        else e
        for e in first
    ]


def _normalised_or_none(raw: str) -> str | None:
    try:
        return normalise_plate(raw)
    except InvalidPlateError:
        return None
