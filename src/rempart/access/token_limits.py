"""What an API token can be limited to: the lanes and zones of its owner's cities.

The core's ``token_limits`` plug-in: the token form (:class:`rempart.core.forms.TokenForm`)
offers these; :class:`rempart.core.access_rules.TokenLimits` enforces them on every request,
the camera path included.
"""

from __future__ import annotations

from typing import Any

from rempart.access.models import Lane, Zone
from rempart.core.roles import user_cities


def lanes(user: Any) -> list[tuple[str, str, str]]:
    """(lane id, its zone's id, label) of every lane in the cities ``user`` works for."""
    rows = Lane.objects.filter(zone__city__in=user_cities(user)).select_related("zone")
    return [
        (lane.ident, lane.zone.ident, f"{lane.zone.ident} · {lane.name or lane.ident}")
        for lane in rows.order_by("zone__ident", "ident")
    ]


def zones(user: Any) -> list[tuple[str, str]]:
    """(zone id, label) of every zone in the cities ``user`` works for."""
    rows = Zone.objects.filter(city__in=user_cities(user)).order_by("ident")
    return [(zone.ident, zone.name or zone.ident) for zone in rows]
