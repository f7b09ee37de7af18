"""Figures of the exercises module on the dashboard, and what waits for each person."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from rempart.core.roles import has_role
from rempart.exercises import evaluation, msel, training
from rempart.exercises.models import CorrectiveAction, Evaluation, Exercise

#: a corrective action falls due on the dashboard this many days before its due date
ACTION_NOTICE_DAYS = 14


def counts(city: Any) -> list[tuple[str, int]]:
    today = training.local_today(city)
    return [
        (_("Exercises"), Exercise.objects.filter(city=city).count()),
        (
            _("Open corrective actions"),
            CorrectiveAction.objects.filter(
                exercise__city=city, status__in=CorrectiveAction.OPEN_STATUSES
            ).count(),
        ),
        (
            _("Certificates lapsing in 90 days"),
            training.lapsing(city, 90).count(),
        ),
        (
            _("Overdue corrective actions"),
            CorrectiveAction.objects.filter(
                exercise__city=city,
                status__in=CorrectiveAction.OPEN_STATUSES,
                due_on__lt=today,
            ).count(),
        ),
    ]


def actions_due(city: Any, user: Any, today: Any) -> int:
    """Open actions of the user's organisation due within :data:`ACTION_NOTICE_DAYS` (or late)."""
    import datetime as dt

    profile = getattr(user, "profile", None)
    organisation = getattr(profile, "organisation_id", None)
    rows = CorrectiveAction.objects.filter(
        exercise__city=city,
        status__in=CorrectiveAction.OPEN_STATUSES,
        due_on__lte=today + dt.timedelta(days=ACTION_NOTICE_DAYS),
    )
    if not user.is_superuser:
        rows = rows.filter(owner_id=organisation)
    return rows.count()


def waiting(user: Any, city: Any) -> list[tuple[str, int, str]]:
    """Injects due to release (operators), evaluations to write (assigned evaluators and
    supervisors, during or after conduct), corrective actions due for the user's organisation,
    the user's own certificates lapsing within the reminder window."""
    if not has_role(user, "exercises", "viewer"):
        return []
    today = training.local_today(city)
    items: list[tuple[str, int, str]] = []
    running = Exercise.objects.filter(city=city, stage=Exercise.Stage.CONDUCT)
    if has_role(user, "exercises", "operator"):
        due = sum(len(msel.due(e)) for e in running)
        first = running.first()
        items.append(
            (
                _("injects to release"),
                due,
                reverse("exercises:conduct", args=[first.pk]) if first else "",
            )
        )
    if has_role(user, "exercises", "editor"):
        to_rate = 0
        where = ""
        for exercise in Exercise.objects.filter(
            city=city, stage__in=[Exercise.Stage.CONDUCT, Exercise.Stage.EVALUATION]
        ):
            assigned = evaluation.objectives_to_rate(exercise, user)
            rated = set(
                Evaluation.objects.filter(evaluator=user, objective__in=assigned).values_list(
                    "objective_id", flat=True
                )
            )
            missing = len([o for o in assigned if o.pk not in rated])
            if missing and not where:
                where = reverse("exercises:evaluate", args=[exercise.pk])
            to_rate += missing
        items.append((_("evaluations to write"), to_rate, where))
    items.append(
        (_("corrective actions due"), actions_due(city, user, today), reverse("exercises:index"))
    )
    mine = training.lapsing(city, training.REMINDER_DAYS).filter(Q(person=user)).count()
    items.append((_("of your certificates lapsing"), mine, reverse("exercises:certifications")))
    return items
