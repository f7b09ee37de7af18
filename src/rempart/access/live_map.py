"""The control room's live state in words, and its map.

:func:`worded` adds to the snapshot of :func:`rempart.access.services.lane_states` the words of
every code (``direction_label``, ``position_label``, ``state``...), in the request's language,
so the page's script shows them as they come. :func:`lane_features` are the lanes placed on the
map: GeoJSON points in WGS84 (``Lane.lon``/``Lane.lat``); lanes without a position are counted,
not drawn. The base map is the city's offline street layer (``core:basemap``).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from rempart.access import labels
from rempart.access.models import Lane, Zone


def worded_lanes(lanes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``lanes`` (from ``services.lane_states``) with a word next to each code.

    A barrier's ``state`` is ``up``, ``down``, ``moving``, ``fault`` or ``unknown``
    (:func:`labels.barrier_state`), the map's colour; a lane's ``state`` is its worst barrier's.
    """
    order = {"fault": 0, "unknown": 1, "down": 2, "moving": 3, "up": 4}
    out = []
    for lane in lanes:
        barriers = []
        for b in lane["barriers"]:
            state = labels.barrier_state(b["position"], b["link_ok"], b["faults"])
            barriers.append(
                b
                | {
                    "state": state,
                    "position_label": labels.label("position", b["position"]),
                    "fail_mode_label": labels.label("fail_mode", b["fail_mode"]),
                    "fault_labels": labels.fault_words(b["faults"]),
                }
            )
        decision = lane.get("last_decision")
        if decision:
            decision = decision | {
                "outcome_label": labels.label("outcome", decision["outcome"]),
                "reason_label": labels.label("reason", decision["reason"]),
            }
        states = [b["state"] for b in barriers]
        out.append(
            lane
            | {
                "barriers": barriers,
                "direction_label": labels.label("direction", lane["direction"]),
                "passage_label": labels.label("passage", lane["passage"]),
                "last_decision": decision,
                "state": min(states, key=order.__getitem__) if states else "unknown",
            }
        )
    return out


def lane_features(zones: list[Zone]) -> tuple[dict[str, Any], int]:
    """The zones' lanes as a GeoJSON FeatureCollection (WGS84 points) and how many have no
    position. Each feature's properties: ``id``, ``name``, ``zone``, ``direction_label``."""
    features = []
    missing = 0
    for lane in Lane.objects.filter(zone__in=zones).select_related("zone").order_by("ident"):
        if lane.lon is None or lane.lat is None:
            missing += 1
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lane.lon, lane.lat]},
                "properties": {
                    "id": lane.ident,
                    "name": lane.name or lane.ident,
                    "zone": lane.zone.ident,
                    "direction_label": labels.label("direction", lane.direction),
                    "zone_url": reverse("access:zone_detail", args=[lane.zone.ident]),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}, missing
