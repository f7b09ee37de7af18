"""The access card on a site's page: the zones on this site and the mode they are in."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import HttpRequest
from django.template.loader import render_to_string

from rempart.access.models import Zone
from rempart.core.roles import has_role


def panel(request: HttpRequest, site: Any) -> str:
    if not has_role(request.user, "access", "viewer"):
        return ""
    zones = (
        Zone.objects.filter(site=site, city=site.city)
        .annotate(lane_count=Count("lanes"))
        .order_by("ident")
    )
    return render_to_string("access/_site_panel.html", {"zones": zones}, request=request)
