"""The prevention unit on the dashboard: only for the unit's own members, and nothing about a
case for anyone else (the core shows a module's figures only to holders of its roles; these
count only what the user may open)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _


def counts(city: Any) -> list[tuple[str, int]]:
    """No city-wide figure: the number of cases would tell other users that cases exist."""
    return []


def waiting(user: Any, city: Any) -> list[tuple[str, int, str]]:
    from rempart.prevention.access import is_coordinator, my_cases, unit_rank
    from rempart.prevention.models import Alert, Status

    if unit_rank(user) < 0:
        return []
    where = reverse("prevention:index")
    items = [
        (
            _("prevention alerts"),
            Alert.objects.filter(user=user, read_at__isnull=True).count(),
            where,
        )
    ]
    if is_coordinator(user, city):
        waiting_cases = my_cases(user, city).filter(
            status__in=[Status.CONSULTED, Status.CLOSURE_REQUESTED, Status.REFERRED]
        )
        items.append((_("cases waiting for a coordinator"), waiting_cases.count(), where))
    return items
