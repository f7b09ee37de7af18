"""Assessment figures for the dashboard."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from rempart.assess.models import Assessment


def counts(city: Any) -> list[tuple[str, int]]:
    done = Assessment.objects.filter(site__city=city, status=Assessment.Status.DONE)
    assessed_sites = done.values("site").distinct().count()
    return [(_("Sites assessed"), assessed_sites)]
