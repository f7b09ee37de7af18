"""From the barrier plan to access control: active positions become access points (lanes).

An *active* position is a retractable bollard line or road blocker placed on a designated access
route (emergency, deliveries) so the route stays usable. Each becomes a lane of a zone of the
access-control module, with one barrier device rated as the plan requires; the operator then
sets its driver (Modbus, MQTT) and identification methods. Needs the assess:editor and
access:editor roles; the lanes are created through the access module's service, so they are
audited like any other change.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from rempart.assess.models import Assessment
from rempart.core.roles import has_role


class LinkError(Exception):
    """The access points cannot be created; the message is one line saying why."""


def active_positions(run: Assessment) -> list[dict[str, Any]]:
    plan = (run.result or {}).get("plan") or {}
    return [p for p in plan.get("positions", []) if p.get("barrier") == "active"]


def zones_for(user: Any, city: Any) -> list[Any]:
    if not has_role(user, "access", "editor"):
        return []
    from rempart.access.models import Zone

    return list(Zone.objects.filter(city=city).order_by("ident"))


def create_access_points(run: Assessment, zone_ident: str, user: Any) -> list[Any]:
    from rempart.access.models import Zone
    from rempart.access.services import create_access_point

    if not has_role(user, "access", "editor"):
        raise LinkError("creating access points needs the access:editor role")
    zone = Zone.objects.filter(ident=zone_ident, city=run.site.city).first()
    if zone is None:
        raise LinkError(f"zone {zone_ident!r} is not an access-control zone of {run.site.city}")
    positions = active_positions(run)
    if not positions:
        raise LinkError(
            "the plan has no active position: designate access routes and run the assessment again"
        )
    lanes = []
    with transaction.atomic():
        for number, position in enumerate(positions, start=1):
            street = position.get("street") or "unnamed street"
            lanes.append(
                create_access_point(
                    zone,
                    f"{zone.ident}-plan{run.pk}-{number}",
                    float(position["lon"]),
                    float(position["lat"]),
                    position["rating"],
                    float(position["width_m"]),
                    name=f"{street} (plan of assessment #{run.pk})",
                )
            )
    return lanes
