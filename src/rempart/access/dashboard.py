"""Access figures for the dashboard."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rempart.access.models import AccessDecision, Alarm, Lane, Zone


def counts(city: Any) -> list[tuple[str, int]]:
    since = timezone.now() - dt.timedelta(hours=24)
    return [
        (_("Access zones"), Zone.objects.filter(city=city).count()),
        (_("Controlled lanes"), Lane.objects.filter(zone__city=city).count()),
        (
            _("Access decisions, 24 h"),
            AccessDecision.objects.filter(zone__city=city, received_at__gte=since).count(),
        ),
        (
            _("Open access alarms"),
            Alarm.objects.filter(zone__city=city)
            .filter(Q(acknowledged_at__isnull=True) | Q(cleared_at__isnull=True))
            .count(),
        ),
    ]
