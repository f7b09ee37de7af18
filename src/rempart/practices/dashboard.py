"""Figures of the practices module on the dashboard."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _

from rempart.core.roles import has_role
from rempart.practices.models import (
    Event,
    HelpRequest,
    Practice,
    ReviewAssignment,
    SiteLink,
    Status,
)


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


def waiting(user: Any, city: Any) -> list[tuple[str, int, str]]:
    """For a member: reviews assigned to them and not yet decided (the current round of a
    practice in review), and open "who has done this?" requests routed to them that they have
    not answered."""
    if not has_role(user, "practices", "viewer"):
        return []
    reviews = ReviewAssignment.objects.filter(
        reviewer=user,
        decision="",
        practice__status=Status.IN_REVIEW,
        round=F("practice__review_round"),
    ).count()
    questions = (
        HelpRequest.objects.filter(routed_to=user, closed=False)
        .exclude(answers__author=user)
        .count()
    )
    return [
        (_("reviews to give"), reviews, reverse("practices:mine")),
        (_("“who has done this?” questions for you"), questions, reverse("practices:requests")),
    ]
