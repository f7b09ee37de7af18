"""Figures of the practices module on the dashboard."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from rempart.practices.models import Event, Practice, SiteLink, Status


def counts(city: Any) -> list[tuple[str, int]]:
    """(label, value): the shared catalogue, the city's own practices and site links."""
    from django.utils import timezone

    return [
        (_("Published practices"), Practice.objects.filter(status=Status.PUBLISHED).count()),
        (
            _("Practices applied at our sites"),
            SiteLink.objects.filter(site__city=city).values("practice").distinct().count(),
        ),
        (
            _("Practices awaiting review"),
            Practice.objects.filter(status__in=[Status.SUBMITTED, Status.IN_REVIEW]).count(),
        ),
        (
            _("Upcoming exchange events"),
            Event.objects.filter(starts_at__gte=timezone.now()).count(),
        ),
    ]
