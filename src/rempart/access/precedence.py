"""Lockdown precedence: a zone in lockdown overrides every operator action that would lower a
barrier into it.

In Genetec Synergis and Gallagher Command Centre a threat level overrides operator overrides
until someone with the right role lifts it; here the same holds for the three operator actions
that lower a barrier (:data:`ACTIONS`): *let one vehicle through* (``operator_open``), *grant a
referred request* (``answer_referral``) and, through them, the API's ``open`` and ``answer``.

While the mode in force (the live base mode, or a scheduled lockdown in progress) is
``lockdown`` such an action is refused (:class:`LockdownRefused`, HTTP 409, audited as
``access_lockdown_refused``) with one sentence naming the mode, who set it and when, in the
user's language and the zone's time zone -- except:

* **emergency vehicles under the existing rules**: granting a referral whose plate holds a
  valid ``emergency`` permit for the zone now (the read was referred only because the camera
  was unsure), or letting through a vehicle whose plate the operator gives and which holds
  one -- the engine's rule 7 would have granted it with a clear read;
* **exit lanes** follow the zone's ``lockdown_exit`` policy, as the engine does: ``free`` and
  ``refer`` leave the operator's hand free (``refer`` exists so that the operator checks each
  exit), ``closed`` refuses;
* **a supervisor's recorded exception**: a supervisor who asks for it (``lockdown_exception``)
  acts anyway; the reason is kept in an ``access_lockdown_exception`` audit entry. An operator
  asking for an exception is refused (403): the role is the point.

Closing a lane, acknowledging alarms and denying are never refused: they never lower a barrier.
Lifting the lockdown is a mode change (:func:`rempart.access.services.set_zone_mode`,
supervisor only).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from rempart.access import decide as engine
from rempart.access import labels
from rempart.access.schedule import ZoneMode, effective_mode
from rempart.core import audit
from rempart.core.roles import has_role

#: The actions that lower a barrier, with their words (translated when shown).
ACTIONS = ("open", "grant_referral")


def action_label(action: str) -> str:
    """The action in words, for the refusal sentence."""
    if action == "grant_referral":
        return pgettext("lockdown refusal", "granting a referred request")
    return pgettext("lockdown refusal", "letting a vehicle through")


def mode_label(mode: str) -> str:
    """A zone mode in words (the mode codes are never shown to a person)."""
    labels = {
        ZoneMode.NORMAL.value: pgettext("zone mode", "normal"),
        ZoneMode.LOCKDOWN.value: pgettext("zone mode", "lockdown"),
        ZoneMode.MAINTENANCE.value: pgettext("zone mode", "maintenance"),
        ZoneMode.EMERGENCY_OPEN.value: pgettext("zone mode", "emergency open"),
    }
    return labels.get(mode, mode.replace("_", " "))


@dataclass(frozen=True)
class ModeInForce:
    """The mode a zone is in at an instant, and who or what put it there.

    ``set_by`` is the user name that set the base mode or created the schedule (may be blank
    for a schedule from the load file); ``since`` the instant it took effect (UTC aware);
    ``until`` the end of a scheduled mode (None for a base mode, which lasts until changed).
    """

    mode: ZoneMode
    set_by: str
    since: dt.datetime | None
    until: dt.datetime | None
    reason: str
    schedule_label: str
    scheduled: bool


def mode_in_force(zone: Any, now: dt.datetime | None = None) -> ModeInForce:
    """The mode of ``zone`` (an :class:`~rempart.access.models.Zone`) at ``now``."""
    now = now or timezone.now()
    rows = list(zone.schedules.filter(start__lte=now, end__gt=now))
    mode, chosen = effective_mode(ZoneMode(zone.mode), [s.to_engine() for s in rows], now)
    if chosen is None:
        return ModeInForce(
            mode, zone.mode_changed_by, zone.mode_changed_at, None, zone.mode_reason, "", False
        )
    row = next(r for r in rows if r.start == chosen.start and r.mode == chosen.mode.value)
    return ModeInForce(
        mode,
        getattr(row, "created_by", "") or "",
        row.start,
        row.end,
        "",
        row.label,
        True,
    )


def when_text(instant: dt.datetime | None, zone: Any) -> str:
    """``instant`` as a date and time in the zone's time zone and the active language."""
    if instant is None:
        return _("an unrecorded time")
    local = timezone.localtime(instant, zoneinfo.ZoneInfo(zone.timezone))
    return formats.date_format(local, "DATETIME_FORMAT")


def refusal_sentence(zone: Any, state: ModeInForce, action: str) -> str:
    """One sentence: what was refused, the mode, who set it and when, and the way out."""
    values = {
        "action": action_label(action),
        "zone": zone.name or zone.ident,
        "mode": mode_label(state.mode.value),
        "who": state.set_by or _("the load file"),
        "when": when_text(state.since, zone),
        "label": state.schedule_label,
        "until": when_text(state.until, zone),
    }
    if state.scheduled:
        head = _(
            "Refused, %(action)s: zone %(zone)s has been in %(mode)s since %(when)s, by the "
            "schedule “%(label)s” set by %(who)s (until %(until)s)."
        )
    else:
        head = _(
            "Refused, %(action)s: zone %(zone)s has been in %(mode)s since %(when)s, set by "
            "%(who)s."
        )
    tail = _("Only a supervisor can lift it or make a recorded exception.")
    return f"{head % values} {tail}"


class LockdownRefused(Exception):
    """An action that would lower a barrier during a lockdown (``status`` 409), or an exception
    asked for without the supervisor role (403)."""

    def __init__(self, message: str, status: int = 409, detail: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.detail = detail or {}


def record_refusal(lane: Any, refused: LockdownRefused) -> None:
    """Audit a refusal (``access_lockdown_refused``); call it after the refused transaction
    rolled back, so that the entry stays."""
    audit.record(
        "access_lockdown_refused",
        obj=lane,
        detail={**refused.detail, "status": refused.status, "sentence": str(refused)},
    )


def _emergency_plate(zone: Any, lane: Any, plate: str, now: dt.datetime) -> bool:
    """True when ``plate`` holds a permit the engine would admit in lockdown at ``lane`` now
    (a valid ``emergency`` permit for the zone: rule 7, with a clear read)."""
    from rempart.access.services import _permits_for, engine_zone

    if not plate:
        return False
    permits = _permits_for(zone, plate, pin_only=False)
    decision = engine.decide(
        engine.AccessRequest(
            lane_id=lane.ident, at=now, plate=engine.PlateRead(plate=plate, confidence=1.0)
        ),
        engine_zone(lane, now),
        permits,
    )
    return decision.reason is engine.Reason.EMERGENCY_IN_LOCKDOWN


def check_lowering(
    lane: Any,
    user: Any,
    action: str,
    *,
    lockdown_exception: bool = False,
    reason: str = "",
    plate: str = "",
    now: dt.datetime | None = None,
) -> bool:
    """Refuse ``action`` (one of :data:`ACTIONS`) at ``lane`` if the zone's mode forbids it.

    Returns True when the action goes ahead as a supervisor's lockdown exception (audited here,
    in the caller's transaction), False when no exception was needed. Raises
    :class:`LockdownRefused` otherwise (the caller audits it with :func:`record_refusal` once its
    transaction has rolled back). Call it inside the transaction that stores the action, after
    locking the zone row, so that a lockdown committed meanwhile is seen.
    """
    zone = lane.zone
    now = now or timezone.now()
    state = mode_in_force(zone, now)
    if state.mode is not ZoneMode.LOCKDOWN:
        return False
    if lane.direction == engine.Direction.OUT.value and zone.lockdown_exit != "closed":
        return False
    if _emergency_plate(zone, lane, plate, now):  # the referral's read, or the operator's
        return False
    detail = {
        "action": action,
        "lane": lane.ident,
        "mode": state.mode.value,
        "set_by": state.set_by,
        "since": state.since.isoformat() if state.since else None,
        "schedule": state.schedule_label,
    }
    if lockdown_exception:
        if not has_role(user, "access", "supervisor"):
            raise LockdownRefused(
                _(
                    "A lockdown exception requires the supervisor role; zone %(zone)s stays "
                    "in lockdown."
                )
                % {"zone": zone.name or zone.ident},
                403,
                {**detail, "exception_asked": True},
            )
        audit.record("access_lockdown_exception", obj=lane, detail={**detail, "reason": reason})
        return True
    raise LockdownRefused(refusal_sentence(zone, state, action), 409, detail)


def countdown_text(seconds: float) -> str:
    """A duration before a scheduled mode starts, in words (``2 h 05 min``, ``45 s``)."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return pgettext("duration", "%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min %(s)02d s") % {"m": minutes, "s": secs}
    return _("%(s)d s") % {"s": secs}


def zone_banner(zone: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    """What every page of a zone shows at the top: the mode in force in words, who set it and
    when, its reason, and the next scheduled mode with the time left before it starts (the page
    counts down from ``next_starts_at``, an ISO 8601 UTC instant)."""
    now = now or timezone.now()
    state = mode_in_force(zone, now)
    upcoming = zone.schedules.filter(start__gt=now).order_by("start").first()
    if state.scheduled:
        set_text = _("scheduled “%(label)s” by %(who)s, until %(until)s") % {
            "label": state.schedule_label,
            "who": state.set_by or _("the load file"),
            "until": when_text(state.until, zone),
        }
    elif state.set_by:
        set_text = _("set by %(who)s, since %(when)s") % {
            "who": state.set_by,
            "when": when_text(state.since, zone),
        }
    else:
        set_text = ""
    return {
        "zone": zone.ident,
        "zone_name": zone.name or zone.ident,
        "mode": state.mode.value,
        "mode_label": labels.label("mode", state.mode.value),  # a badge: the label's word
        "lockdown": state.mode is ZoneMode.LOCKDOWN,
        "set_text": set_text,
        "reason": state.reason,
        "next_mode": labels.label("mode", upcoming.mode) if upcoming else "",
        "next_label": upcoming.label if upcoming else "",
        "next_starts_at": upcoming.start.astimezone(dt.UTC).isoformat() if upcoming else "",
        "next_starts_text": when_text(upcoming.start, zone) if upcoming else "",
        "next_countdown": countdown_text((upcoming.start - now).total_seconds())
        if upcoming
        else "",
    }


def enforce_scheduled_lockdowns(
    now: dt.datetime | None = None, zone_idents: Any = None
) -> dict[str, int]:
    """Close the unfinished passages granted before a scheduled lockdown started, as entering a
    lockdown by hand does (:func:`rempart.access.services.set_zone_mode`): a grant made at
    17:59:59 must not lower a barrier at 18:00:01 of a lockdown. Passages granted during the
    lockdown passed :func:`check_lowering` (or the engine's emergency rule) and are left alone.
    Run by the device daemon every tick; one ``access_mode`` audit entry per schedule that
    closed something. Returns passages closed per zone identifier."""
    from rempart.access.models import Passage, ZoneSchedule
    from rempart.access.services import close_passages

    now = now or timezone.now()
    schedules = ZoneSchedule.objects.filter(
        mode=ZoneMode.LOCKDOWN.value, start__lte=now, end__gt=now
    ).select_related("zone", "zone__city")
    if zone_idents:
        schedules = schedules.filter(zone__ident__in=list(zone_idents))
    closed: dict[str, int] = {}
    for schedule in schedules:
        if mode_in_force(schedule.zone, now).mode is not ZoneMode.LOCKDOWN:
            continue  # emergency_open set by hand wins over a schedule
        count = close_passages(
            Passage.objects.filter(lane__zone=schedule.zone, created_at__lt=schedule.start),
            "scheduled lockdown",
            now,
        )
        if count:
            closed[schedule.zone.ident] = closed.get(schedule.zone.ident, 0) + count
            audit.record(
                "access_mode",
                obj=schedule.zone,
                detail={
                    "from": schedule.zone.mode,
                    "to": ZoneMode.LOCKDOWN.value,
                    "reason": f"scheduled lockdown {schedule.label!r} started",
                    "passages_closed": count,
                    "source": "schedule",
                },
            )
    return closed
