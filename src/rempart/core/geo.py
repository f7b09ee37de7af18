"""Validate site boundaries given as GeoJSON (RFC 7946: WGS84 longitude, latitude).

A boundary must be a Polygon or MultiPolygon whose rings are closed, that is valid in the
OGC sense (no self-intersection), lies within longitude/latitude bounds (coordinates in a
projected CRS such as Lambert-93 or Web Mercator are caught here) and has a plausible area
for a public space: from 10 m² to 25 km² by default. A boundary has at most
``REMPART_MAX_VERTICES`` positions (:func:`rempart.inputs.max_vertices`, default 10,000): a
public space needs hundreds at most, and a 400,000-vertex site made the dashboard 16 MB.
:func:`check_in_area` refuses a boundary outside a city's map data, suggesting the swap when
longitude and latitude were given the other way round.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.utils.translation import gettext as _
from pyproj import Geod
from shapely.geometry import shape
from shapely.validation import explain_validity

from rempart.inputs import InputError, load_json, max_vertices

MIN_AREA_M2 = 10.0
MAX_AREA_M2 = 25_000_000.0
_GEOD = Geod(ellps="WGS84")


class BoundaryError(ValueError):
    """The boundary cannot be used; the message is one line saying why and what is expected."""


def _rings(geometry: dict[str, Any]) -> list[list[Any]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


def parse_boundary(value: Any) -> dict[str, Any]:
    """Return the GeoJSON geometry dict, or raise :class:`BoundaryError`.

    Accepts a geometry, a Feature, or a JSON string of either.
    """
    if isinstance(value, str):
        try:
            value = load_json(value, "boundary")
        except InputError as exc:
            raise BoundaryError(str(exc)) from None
    if not isinstance(value, dict):
        raise BoundaryError(_("boundary: expected a GeoJSON Polygon or MultiPolygon object"))
    if value.get("type") == "Feature":
        value = value.get("geometry") or {}
    kind = value.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise BoundaryError(
            _("boundary type %(kind)s: expected Polygon or MultiPolygon") % {"kind": repr(kind)}
        )
    coordinates = value.get("coordinates")
    if not coordinates:
        raise BoundaryError(
            _("boundary is empty: expected at least one ring of 4 or more positions")
        )
    try:
        rings = _rings(value)
    except (TypeError, KeyError) as exc:
        raise BoundaryError(
            _("boundary coordinates are malformed: expected nested lists of [lon, lat]")
        ) from exc
    vertices = sum(len(ring) for ring in rings if isinstance(ring, list))
    if vertices > max_vertices():
        raise BoundaryError(
            _(
                "boundary has %(count)d positions: expected at most %(limit)d "
                "(REMPART_MAX_VERTICES; simplify the outline)"
            )
            % {"count": vertices, "limit": max_vertices()}
        )
    for index, ring in enumerate(rings):
        if not isinstance(ring, list) or len(ring) < 4:
            raise BoundaryError(
                _(
                    "boundary ring %(index)d has %(count)d positions: expected at least 4 "
                    "(a closed ring)"
                )
                % {"index": index, "count": len(ring) if isinstance(ring, list) else 0}
            )
        for position in ring:
            if (
                not isinstance(position, (list, tuple))
                or len(position) < 2
                or not all(isinstance(c, (int, float)) and math.isfinite(c) for c in position[:2])
            ):
                raise BoundaryError(
                    _("boundary position %(position).40s: expected [longitude, latitude] numbers")
                    % {"position": repr(position)}
                )
            lon, lat = position[0], position[1]
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                if -180 <= lat <= 180 and -90 <= lon <= 90:
                    raise BoundaryError(
                        _(
                            "boundary position [%(lon)s, %(lat)s] has a latitude outside -90..90: "
                            "longitude and latitude look swapped; expected [longitude, latitude] "
                            "(here [%(lat)s, %(lon)s])"
                        )
                        % {"lon": lon, "lat": lat}
                    )
                raise BoundaryError(
                    _(
                        "boundary position [%(lon)s, %(lat)s] is outside WGS84 longitude/latitude: "
                        "expected degrees (projected coordinates such as metres must be converted "
                        "to WGS84)"
                    )
                    % {"lon": lon, "lat": lat}
                )
        if list(ring[0][:2]) != list(ring[-1][:2]):
            raise BoundaryError(
                _("boundary ring %(index)d is not closed: its first and last positions differ")
                % {"index": index}
            )
    geometry = shape(value)
    if geometry.is_empty:
        raise BoundaryError(_("boundary is empty: expected a polygon with an area"))
    if not geometry.is_valid:
        raise BoundaryError(
            _("boundary is not a valid polygon: %(reason)s (e.g. self-intersecting edges)")
            % {"reason": explain_validity(geometry)}
        )
    area_m2 = abs(_GEOD.geometry_area_perimeter(geometry)[0])
    if area_m2 < MIN_AREA_M2:
        raise BoundaryError(
            _("boundary area %(area).1f m² is too small: expected at least %(limit).0f m²")
            % {"area": area_m2, "limit": MIN_AREA_M2}
        )
    if area_m2 > MAX_AREA_M2:
        raise BoundaryError(
            _(
                "boundary area %(area).1f km² is too large for a public space: expected at most "
                "%(limit).0f km² (were coordinates given in the wrong order or CRS?)"
            )
            % {"area": area_m2 / 1e6, "limit": MAX_AREA_M2 / 1e6}
        )
    return {"type": kind, "coordinates": json.loads(json.dumps(coordinates))}


def area_m2(geometry: dict[str, Any]) -> float:
    """Geodesic area (m²) of a GeoJSON polygon on the WGS84 ellipsoid."""
    return abs(_GEOD.geometry_area_perimeter(shape(geometry))[0])


def bounds(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of a GeoJSON geometry (WGS84)."""
    west, south, east, north = shape(geometry).bounds
    return west, south, east, north


def _swapped(geometry: dict[str, Any]) -> dict[str, Any]:
    def swap(node: Any) -> Any:
        if node and isinstance(node[0], (int, float)):
            return [node[1], node[0], *node[2:]]
        return [swap(child) for child in node]

    return {"type": geometry["type"], "coordinates": swap(geometry["coordinates"])}


def check_in_area(
    geometry: dict[str, Any], area: tuple[float, float, float, float], what: str
) -> None:
    """Refuse a boundary that is not wholly inside ``area`` (west, south, east, north, degrees).

    ``what`` names the area in the sentence (e.g. "Helsinki's map data"). When the boundary with
    longitude and latitude exchanged would lie inside, the sentence says so.
    """
    west, south, east, north = area
    w, s, e, n = bounds(geometry)
    if west <= w and e <= east and south <= s and n <= north:
        return
    where = _(
        "boundary (%(w).4f..%(e).4f E, %(s).4f..%(n).4f N) lies outside %(what)s "
        "(%(west).4f..%(east).4f E, %(south).4f..%(north).4f N)"
    ) % {
        "w": w,
        "e": e,
        "s": s,
        "n": n,
        "what": what,
        "west": west,
        "east": east,
        "south": south,
        "north": north,
    }
    sw, ss, se, sn = bounds(_swapped(geometry))
    if west <= sw and se <= east and south <= ss and sn <= north:
        raise BoundaryError(
            _(
                "%(where)s: longitude and latitude look swapped; expected [longitude, latitude] "
                "positions (GeoJSON order)"
            )
            % {"where": where}
        )
    raise BoundaryError(_("%(where)s: expected a site inside it") % {"where": where})
