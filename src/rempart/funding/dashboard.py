"""Figures of the funding module on the dashboard, and deadlines in "Waiting for you"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rempart.core.roles import has_role
from rempart.funding.models import Call, Deadline, FundedProject

#: Deadlines shown as waiting this many days ahead (and every overdue one).
WAITING_DAYS = 30


def counts(city: Any) -> list[tuple[str, int]]:
    now = timezone.now()
    return [
        (_("Open and forthcoming calls"), Call.objects.exclude(deadline_at__lte=now).count()),
        (_("Funded projects"), FundedProject.objects.filter(city=city).count()),
    ]


def waiting(user: Any, city: Any) -> list[tuple[str, int, str]]:
    """Project deadlines of the city not done and due within 30 days or overdue."""
    if not has_role(user, "funding", "viewer"):
        return []
    soon = timezone.now() + dt.timedelta(days=WAITING_DAYS)
    due = Deadline.objects.filter(project__city=city, done=False, due_at__lte=soon).count()
    if not due:
        return []
    return [(_("Project deadlines within 30 days or overdue"), due, reverse("funding:index"))]
