"""Access figures for the dashboard."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rempart.access import services
from rempart.access.models import AccessDecision, Alarm, Lane, Zone
from rempart.core.roles import has_role


def counts(city: Any) -> list[tuple[str, int]]:
    since = timezone.now() - dt.timedelta(hours=24)
    return [
        (_("Access zones"), Zone.objects.filter(city=city, is_exercise=False).count()),
        (
            _("Controlled lanes"),
            Lane.objects.filter(zone__city=city, zone__is_exercise=False).count(),
        ),
        (
            _("Access decisions, 24 h"),
            AccessDecision.objects.filter(
                zone__city=city, zone__is_exercise=False, received_at__gte=since
            ).count(),
        ),
        (
            _("Open access alarms"),
            Alarm.objects.filter(zone__city=city, zone__is_exercise=False)
            .filter(Q(acknowledged_at__isnull=True) | Q(cleared_at__isnull=True))
            .count(),
        ),
    ]


def waiting(user: Any, city: Any) -> list[tuple[str, int, str]]:
    """For an operator: alarms not yet acknowledged and referred requests (a driver waiting at
    a lane) not yet answered, in the city's zones."""
    if not has_role(user, "access", "operator"):
        return []
    zones = Zone.objects.filter(city=city, is_exercise=False)
    room = reverse("access:control_room")
    return [
        (
            _("drivers waiting for an answer"),
            services.pending_referrals(zones).count(),
            room,
        ),
        (
            _("access alarms to acknowledge"),
            Alarm.objects.filter(
                zone__city=city, zone__is_exercise=False, acknowledged_at__isnull=True
            ).count(),
            room,
        ),
    ]
