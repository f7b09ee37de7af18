"""API of the prevention unit: the observatory's anonymised statistics only.

Casework has no API on purpose: every read of a case must carry a person, a purpose and a
second factor, which a token does not have.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router

from rempart.core import audit
from rempart.core.access_rules import Hidden, check_city, require_scope
from rempart.core.models import City
from rempart.prevention import statistics

router = Router(tags=["prevention"])


@router.get("/statistics")
def observatory(request: HttpRequest, city: str, since: dt.date, until: dt.date) -> dict[str, Any]:
    """Counts of referrals, actions and closures in ``city`` between ``since`` and ``until``
    (dates, inclusive); cells under 5 are ``null`` (suppressed)."""
    require_scope(request, "prevention:statistics")
    found = City.objects.filter(slug=city).first()
    if found is None:
        raise Hidden(f"city {city!r} does not exist")
    check_city(request, found, f"city {city!r}")
    tables = statistics.observatory(found, since, until)
    audit.record(
        "export",
        object_type="prevention.statistics",
        object_repr=f"observatory {since}..{until}",
        city=found,
        detail={"via": "api"},
    )
    return {
        "city": found.slug,
        "since": since,
        "until": until,
        "suppressed_below": statistics.K,
        "tables": [
            {"title": title, "rows": [{"category": c, "count": n} for c, n in rows]}
            for title, rows in tables
        ],
    }
