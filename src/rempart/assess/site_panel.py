"""The assessment card on a site's page: the latest result and a button to run it again."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from rempart.assess import services
from rempart.assess.models import Assessment
from rempart.core.roles import has_role


def panel(request: HttpRequest, site: Any) -> str:
    if not has_role(request.user, "assess", "viewer"):
        return ""
    return render_to_string(
        "assess/_site_panel.html",
        {
            "site": site,
            "latest": services.latest_done(site),
            "current": Assessment.objects.filter(site=site).first(),
        },
        request=request,
    )
