"""Words for the codes of the access module: one place for templates, the live feed and CSV.

A person never reads a raw code (``low_confidence``, ``vehicle_passing``, ``up``): every code
shown in the control room, the decision log, the alarm log, the zone page and the exports goes
through :func:`label` (or the ``access_label`` template filter), in the language of the request
(English or French, Django's ``gettext``). The live feed carries the words next to the codes
(``mode_label``...), so the page's script shows words it never has to translate.

Reason *sentences* (:data:`REASON_SENTENCES`) explain a decision in the operator's language; the
engine's own message (``AccessDecision.message``, English, with the plate and the permit) is kept
for the record and shown as the decision's detail.

Kinds of labels (the ``kind`` argument): ``mode``, ``outcome``, ``reason``, ``direction``,
``position``, ``barrier_kind``, ``fail_mode``, ``category``, ``permit_status``, ``exit_policy``,
``passage``, ``source``, ``alarm``, ``fault``, ``identification``, ``day``. An unknown code answers the
code with its underscores replaced by spaces (never an error: a new code must not break the
control room; the translation test lists every code of every enum and fails on a missing one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rempart.access import decide as engine
from rempart.access.drivers.base import BarrierKind, FailMode, Position
from rempart.access.schedule import ZoneMode

MODES: dict[str, Promise] = {
    ZoneMode.NORMAL: _("Normal"),
    ZoneMode.LOCKDOWN: _("Lockdown"),
    ZoneMode.EMERGENCY_OPEN: _("Emergency open"),
    ZoneMode.MAINTENANCE: _("Maintenance"),
}

OUTCOMES: dict[str, Promise] = {
    engine.Outcome.GRANT: _("Granted"),
    engine.Outcome.DENY: _("Denied"),
    engine.Outcome.REFER: _("Referred to an operator"),
}

#: Short names of the reasons (badges, filters, CSV).
REASONS: dict[str, Promise] = {
    engine.Reason.PERMIT_VALID: _("Valid permit"),
    engine.Reason.EMERGENCY_IN_LOCKDOWN: _("Emergency vehicle in lockdown"),
    engine.Reason.ZONE_EMERGENCY_OPEN: _("Zone in emergency opening"),
    engine.Reason.EXIT_FREE: _("Free exit"),
    engine.Reason.OPERATOR_GRANT: _("Let through by an operator"),
    engine.Reason.NO_PERMIT: _("No permit"),
    engine.Reason.PERMIT_REVOKED: _("Permit revoked"),
    engine.Reason.PERMIT_SUSPENDED: _("Permit suspended"),
    engine.Reason.PERMIT_WRONG_ZONE: _("Permit for another zone"),
    engine.Reason.PERMIT_NOT_YET_VALID: _("Permit not yet valid"),
    engine.Reason.PERMIT_EXPIRED: _("Permit expired"),
    engine.Reason.PERMIT_EXCEPTION_DATE: _("Day without access"),
    engine.Reason.OUTSIDE_WINDOW: _("Outside the permit's hours"),
    engine.Reason.MASS_EXCEEDED: _("Vehicle too heavy"),
    engine.Reason.PIN_REQUIRED: _("PIN required"),
    engine.Reason.PLATE_REQUIRED: _("Plate read required"),
    engine.Reason.PIN_MISMATCH: _("Wrong PIN"),
    engine.Reason.PIN_NOT_ENROLLED: _("No PIN enrolled"),
    engine.Reason.ZONE_LOCKDOWN: _("Zone in lockdown"),
    engine.Reason.EXIT_CLOSED_LOCKDOWN: _("Exits closed in lockdown"),
    engine.Reason.OPERATOR_DENY: _("Refused by an operator"),
    engine.Reason.LOW_CONFIDENCE: _("Plate read uncertain"),
    engine.Reason.UNREADABLE_PLATE: _("Plate unreadable"),
    engine.Reason.NO_CREDENTIAL: _("No plate and no PIN"),
    engine.Reason.METHOD_NOT_ENABLED: _("Method not enabled on this lane"),
    engine.Reason.ZONE_MAINTENANCE: _("Zone in maintenance"),
    engine.Reason.EXIT_REFER_LOCKDOWN: _("Exit checked in lockdown"),
}

#: One sentence per reason, for the operator deciding what to do.
REASON_SENTENCES: dict[str, Promise] = {
    engine.Reason.PERMIT_VALID: _("The vehicle has a valid permit for this zone at this time."),
    engine.Reason.EMERGENCY_IN_LOCKDOWN: _(
        "The zone is in lockdown; emergency vehicles with a valid permit still enter."
    ),
    engine.Reason.ZONE_EMERGENCY_OPEN: _("The zone is in emergency opening: every vehicle passes."),
    engine.Reason.EXIT_FREE: _("Vehicles leave freely by this exit."),
    engine.Reason.OPERATOR_GRANT: _("An operator let the vehicle through."),
    engine.Reason.NO_PERMIT: _("No permit for this vehicle in this zone."),
    engine.Reason.PERMIT_REVOKED: _("The vehicle's permit has been revoked."),
    engine.Reason.PERMIT_SUSPENDED: _("The vehicle's permit is suspended."),
    engine.Reason.PERMIT_WRONG_ZONE: _("The vehicle's permit is for another zone."),
    engine.Reason.PERMIT_NOT_YET_VALID: _("The vehicle's permit is not valid yet."),
    engine.Reason.PERMIT_EXPIRED: _("The vehicle's permit has expired."),
    engine.Reason.PERMIT_EXCEPTION_DATE: _("The permit gives no access on this day."),
    engine.Reason.OUTSIDE_WINDOW: _("The permit gives no access at this hour."),
    engine.Reason.MASS_EXCEEDED: _("The vehicle is heavier than its permit allows."),
    engine.Reason.PIN_REQUIRED: _("This lane needs the PIN with the plate."),
    engine.Reason.PLATE_REQUIRED: _("This lane needs a plate read with the PIN."),
    engine.Reason.PIN_MISMATCH: _("The PIN typed does not match the permit."),
    engine.Reason.PIN_NOT_ENROLLED: _("The permit has no PIN enrolled."),
    engine.Reason.ZONE_LOCKDOWN: _("The zone is in lockdown: only emergency vehicles enter."),
    engine.Reason.EXIT_CLOSED_LOCKDOWN: _("The zone is in lockdown: exits are closed."),
    engine.Reason.OPERATOR_DENY: _("An operator refused the vehicle."),
    engine.Reason.LOW_CONFIDENCE: _(
        "The camera is not sure of the plate: check it with the driver."
    ),
    engine.Reason.UNREADABLE_PLATE: _("The camera could not read a plausible plate."),
    engine.Reason.NO_CREDENTIAL: _("No plate read and no PIN typed."),
    engine.Reason.METHOD_NOT_ENABLED: _("This lane is not set up for this identification method."),
    engine.Reason.ZONE_MAINTENANCE: _("The zone is in maintenance: the operator decides."),
    engine.Reason.EXIT_REFER_LOCKDOWN: _("The zone is in lockdown: the operator checks each exit."),
}

DIRECTIONS: dict[str, Promise] = {
    engine.Direction.IN: _("Entry"),
    engine.Direction.OUT: _("Exit"),
}

POSITIONS: dict[str, Promise] = {
    Position.UP: _("Raised (blocking)"),
    Position.DOWN: _("Lowered (open)"),
    Position.RISING: _("Rising"),
    Position.LOWERING: _("Lowering"),
    Position.UNKNOWN: _("Position unknown"),
}

BARRIER_KINDS: dict[str, Promise] = {
    BarrierKind.RETRACTABLE_BOLLARD: _("Retractable bollard"),
    BarrierKind.ROAD_BLOCKER: _("Road blocker"),
    BarrierKind.GATE: _("Gate"),
    BarrierKind.WEDGE: _("Wedge barrier"),
}

FAIL_MODES: dict[str, Promise] = {
    FailMode.SECURE: _("Stays raised on failure"),
    FailMode.SAFE: _("Lowers on failure"),
}

CATEGORIES: dict[str, Promise] = {
    engine.PermitCategory.RESIDENT: _("Resident"),
    engine.PermitCategory.DELIVERY: _("Delivery"),
    engine.PermitCategory.EMERGENCY: _("Emergency services"),
    engine.PermitCategory.PUBLIC_SERVICE: _("Public service"),
    engine.PermitCategory.TAXI: _("Taxi"),
    engine.PermitCategory.EVENT_STAFF: _("Event staff"),
    engine.PermitCategory.WORKS: _("Works"),
}

PERMIT_STATUSES: dict[str, Promise] = {
    engine.PermitStatus.ACTIVE: _("Active"),
    engine.PermitStatus.SUSPENDED: _("Suspended"),
    engine.PermitStatus.REVOKED: _("Revoked"),
}

EXIT_POLICIES: dict[str, Promise] = {
    engine.ExitPolicy.FREE: _("Free"),
    engine.ExitPolicy.REFER: _("Checked by an operator"),
    engine.ExitPolicy.CLOSED: _("Closed"),
}

FAULTS: dict[str, Promise] = {
    "hydraulic": _("Hydraulic or motor fault"),
    "travel_timeout": _("End stop not reached in time"),
    "power_loss": _("Mains power lost"),
    "loop_interlock": _("Raise refused over an occupied loop"),
    "link_watchdog": _("Controller lost its link"),
}

IDENTIFICATION: dict[str, Promise] = {
    engine.IdentificationMethod.ANPR: _("Plate camera"),
    engine.IdentificationMethod.PIN: _("PIN keypad"),
    engine.IdentificationMethod.INTERCOM: _("Intercom"),
    engine.IdentificationMethod.BADGE: _("Badge"),
}


#: Days of a permit's weekly windows (``mon``...``sun`` in the load file and the form).
DAYS: dict[str, Promise] = {
    "mon": _("Mon"),
    "tue": _("Tue"),
    "wed": _("Wed"),
    "thu": _("Thu"),
    "fri": _("Fri"),
    "sat": _("Sat"),
    "sun": _("Sun"),
}


def _model_choices(model_choices: Any) -> dict[str, Any]:
    """A model's ``TextChoices`` labels (already lazy translations), first letter capital."""
    from django.utils.text import capfirst

    return {value: capfirst(text) for value, text in model_choices.choices}


def _passages() -> dict[str, Any]:
    from rempart.access.models import Passage

    return _model_choices(Passage.State)


def _sources() -> dict[str, Any]:
    from rempart.access.models import AccessDecision

    return _model_choices(AccessDecision.Source)


def _alarms() -> dict[str, Any]:
    from rempart.access.models import Alarm

    return _model_choices(Alarm.Kind)


_STATIC: dict[str, Mapping[str, Any]] = {
    "mode": MODES,
    "outcome": OUTCOMES,
    "reason": REASONS,
    "reason_sentence": REASON_SENTENCES,
    "direction": DIRECTIONS,
    "position": POSITIONS,
    "barrier_kind": BARRIER_KINDS,
    "fail_mode": FAIL_MODES,
    "category": CATEGORIES,
    "permit_status": PERMIT_STATUSES,
    "exit_policy": EXIT_POLICIES,
    "fault": FAULTS,
    "identification": IDENTIFICATION,
    "day": DAYS,
}
_FROM_MODELS = {"passage": _passages, "source": _sources, "alarm": _alarms}

KINDS = tuple(_STATIC) + tuple(_FROM_MODELS)


def table(kind: str) -> Mapping[str, Any]:
    """Every code of ``kind`` with its (lazy) label."""
    if kind in _STATIC:
        return _STATIC[kind]
    if kind in _FROM_MODELS:
        return _FROM_MODELS[kind]()
    raise KeyError(f"label kind {kind!r} is not one of {', '.join(KINDS)}")


def label(kind: str, code: str | None) -> str:
    """The word for ``code`` in the active language ("" for no code)."""
    if code is None or code == "":
        return ""
    found = table(kind).get(str(code))
    return str(found) if found is not None else str(code).replace("_", " ")


def labels(kind: str) -> dict[str, str]:
    """``{code: word}`` for ``kind`` in the active language (for a page's script and filters)."""
    return {code: str(text) for code, text in table(kind).items()}


def choices(kind: str, blank: str | None = None) -> list[tuple[str, str]]:
    """Form choices ``(code, word)``; a first blank choice when ``blank`` is given."""
    head = [("", blank)] if blank is not None else []
    return head + [(str(code), str(text)) for code, text in table(kind).items()]


def fault_words(codes: list[str]) -> list[str]:
    return [label("fault", c) for c in codes]


def barrier_state(position: str, link_ok: bool, faults: list[str]) -> str:
    """``up``, ``down``, ``moving``, ``fault`` or ``unknown``: what the map colours a barrier by."""
    if not link_ok or faults:
        return "fault"
    if position in (Position.UP, Position.DOWN):
        return str(position)
    if position in (Position.RISING, Position.LOWERING):
        return "moving"
    return "unknown"
