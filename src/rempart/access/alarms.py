"""Alarm priorities, procedures and escalation for the control room.

* **Priority per alarm type** (``high``, ``medium``, ``low``): :data:`DEFAULT_PRIORITIES`,
  overridden per type by the setting ``ACCESS_ALARM_PRIORITIES`` (a dict, e.g.
  ``{"fault": "high"}``; from the environment ``REMPART_ACCESS_ALARM_PRIORITIES=fault=high,
  interlock=low``). High-priority alarms sound in the control room once the operator allows
  sound (browsers mute pages until a person clicks), and escalate.
* **Procedure text per type**: :func:`procedure` -- what the operator does, in the user's
  language; ``ACCESS_ALARM_PROCEDURES`` (a dict type -> text) replaces the defaults with the
  city's own instructions.
* **Escalation**: :func:`escalate` (run by the device daemon every few seconds) marks every
  high-priority alarm still unacknowledged ``ACCESS_ALARM_ESCALATE_AFTER_S`` seconds (default
  120, ``REMPART_ACCESS_ALARM_ESCALATE_AFTER_S``) after it was raised as escalated, e-mails the
  access supervisors of the zone's city (:mod:`rempart.core.notify`) and audits it
  (``access_alarm_escalated``). ``now`` is a parameter: tests pass a fake clock.
* **Acknowledgement** with an optional comment is
  :func:`rempart.access.services.acknowledge_alarm`; an alarm **clears** when its cause ends
  (the daemon's alarm book for devices, :mod:`rempart.access.intrusion` for detection inputs).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rempart.core import audit, notify

PRIORITIES = ("high", "medium", "low")

#: Loss of protection or a person in danger is high; a device problem that still leaves the
#: barrier safe is medium.
DEFAULT_PRIORITIES: dict[str, str] = {
    "forced_entry": "high",
    "tailgating": "high",
    "intrusion": "high",
    "panic": "high",
    "link_lost": "high",
    "power_loss": "high",
    "command_failed": "high",
    "fault": "medium",
    "interlock": "medium",
}

DEFAULT_PROCEDURES: dict[str, Any] = {
    "forced_entry": gettext_lazy(
        "Look at the lane's camera; if a vehicle forced its way in, close the zone's lanes and "
        "call the police (17 / 112). Note the plate and the time."
    ),
    "tailgating": gettext_lazy(
        "A second vehicle followed the granted one: look at the camera, note the plate and warn "
        "the patrol inside the zone."
    ),
    "intrusion": gettext_lazy(
        "A detection input is active: look at the camera of the place, send the nearest patrol "
        "and, if a vehicle is inside the perimeter, put the zone in lockdown (supervisor)."
    ),
    "panic": gettext_lazy(
        "Someone pressed a panic button: call them back on the intercom at once and send help "
        "(112 if a life is at risk)."
    ),
    "link_lost": gettext_lazy(
        "The barrier no longer answers: its fail mode applies. Send a technician and watch the "
        "lane on camera until the link is back."
    ),
    "power_loss": gettext_lazy(
        "The barrier runs on its backup: call the maintenance contractor and check that it is "
        "up (secure) on camera."
    ),
    "command_failed": gettext_lazy(
        "A command did not reach the barrier: check the lane on camera and retry; if it fails "
        "again call the maintenance contractor."
    ),
    "fault": gettext_lazy(
        "The barrier reports a fault: check it on camera and call the maintenance contractor."
    ),
    "interlock": gettext_lazy(
        "The barrier refused to rise over a vehicle on its loop (as it should): check the lane "
        "on camera; it rises once the loop is clear."
    ),
}


def _parse_pairs(text: str) -> dict[str, str]:
    pairs = {}
    for part in text.split(","):
        kind, sep, value = part.partition("=")
        if sep:
            pairs[kind.strip()] = value.strip()
    return pairs


def priorities() -> dict[str, str]:
    """Priority of every alarm type: the defaults, then the setting (unknown values refused)."""
    configured = getattr(settings, "ACCESS_ALARM_PRIORITIES", {}) or {}
    if isinstance(configured, str):
        configured = _parse_pairs(configured)
    out = dict(DEFAULT_PRIORITIES)
    for kind, value in configured.items():
        if value not in PRIORITIES:
            raise ValueError(
                f"ACCESS_ALARM_PRIORITIES[{kind!r}] = {value!r}; expected one of "
                f"{', '.join(PRIORITIES)}"
            )
        out[kind] = value
    return out


def priority(kind: str) -> str:
    """``high``, ``medium`` or ``low`` for an alarm type (``medium`` when not configured)."""
    return priorities().get(kind, "medium")


def priority_label(value: str) -> str:
    return {"high": _("high priority"), "medium": _("medium priority"), "low": _("low priority")}[
        value
    ]


def procedure(kind: str) -> str:
    """What the operator does for an alarm of this type, in the active language."""
    custom = getattr(settings, "ACCESS_ALARM_PROCEDURES", {}) or {}
    if kind in custom:
        return str(custom[kind])
    return str(DEFAULT_PROCEDURES.get(kind, _("Check the place on camera and tell a supervisor.")))


def escalate_after() -> dt.timedelta:
    return dt.timedelta(seconds=float(getattr(settings, "ACCESS_ALARM_ESCALATE_AFTER_S", 120.0)))


def _supervisors(city: Any) -> list[Any]:
    """Active users holding access supervisor (or admin) whose organisation serves ``city``."""
    users = get_user_model().objects.filter(is_active=True)
    role = Q(groups__name__in=["access:supervisor", "access:admin"])
    serves = Q(profile__organisation__cities=city)
    return list(users.filter(role & serves).distinct()) + list(
        users.filter(is_superuser=True).exclude(role & serves)
    )


def escalate(now: dt.datetime | None = None) -> list[int]:
    """Escalate high-priority alarms left unacknowledged past :func:`escalate_after`; returns
    the ids escalated now. Each alarm escalates once."""
    from rempart.access.models import Alarm

    now = now or timezone.now()
    high = [kind for kind, value in priorities().items() if value == "high"]
    due = Alarm.objects.filter(
        kind__in=high,
        acknowledged_at__isnull=True,
        escalated_at__isnull=True,
        raised_at__lte=now - escalate_after(),
    ).select_related("zone", "zone__city", "lane")
    done = []
    for alarm in due:
        updated = Alarm.objects.filter(pk=alarm.pk, escalated_at__isnull=True).update(
            escalated_at=now
        )
        if not updated:  # another process escalated it meanwhile
            continue
        waited_s = int((now - alarm.raised_at).total_seconds())
        recipients = _supervisors(alarm.zone.city)
        for user in recipients:
            notify.send(
                user.email,
                settings.LANGUAGE_CODE,
                lambda c: _("Unacknowledged alarm in %(zone)s") % {"zone": c["zone"]},
                "access/email/alarm_escalated.txt",
                {
                    "name": user.get_full_name() or user.get_username(),
                    "zone": alarm.zone.name or alarm.zone.ident,
                    "kind": alarm.get_kind_display(),
                    "message": alarm.message,
                    "waited_min": max(1, waited_s // 60),
                    "url": notify.absolute_url(reverse("access:control_room")),
                },
            )
        audit.record(
            "access_alarm_escalated",
            obj=alarm.zone,
            detail={
                "alarm": alarm.pk,
                "kind": alarm.kind,
                "waited_s": waited_s,
                "notified": [u.get_username() for u in recipients],
            },
        )
        done.append(alarm.pk)
    return done
