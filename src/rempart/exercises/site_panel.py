"""The exercises card of a site's page: exercises held there and their open corrective actions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from rempart.core.roles import has_role
from rempart.exercises import training
from rempart.exercises.models import CorrectiveAction


def panel(request: HttpRequest, site: Any) -> str:
    if not has_role(request.user, "exercises", "viewer"):
        return ""
    exercises = list(site.exercises.all()[:10])
    actions = CorrectiveAction.objects.filter(
        exercise__site=site, status__in=CorrectiveAction.OPEN_STATUSES
    ).select_related("owner", "exercise")
    return render_to_string(
        "exercises/site_panel.html",
        {
            "site": site,
            "exercises": exercises,
            "actions": actions,
            "today": training.local_today(site.city),
        },
        request=request,
    )
