"""Validate site boundaries given as GeoJSON (RFC 7946: WGS84 longitude, latitude).

A boundary must be a Polygon or MultiPolygon whose rings are closed, that is valid in the
OGC sense (no self-intersection), lies within longitude/latitude bounds (coordinates in a
projected CRS such as Lambert-93 or Web Mercator are caught here) and has a plausible area
for a public space: from 10 m² to 25 km² by default.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pyproj import Geod
from shapely.geometry import shape
from shapely.validation import explain_validity

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
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise BoundaryError(
                f"boundary is not valid JSON ({exc.msg} at character {exc.pos})"
            ) from exc
    if not isinstance(value, dict):
        raise BoundaryError("boundary: expected a GeoJSON Polygon or MultiPolygon object")
    if value.get("type") == "Feature":
        value = value.get("geometry") or {}
    kind = value.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise BoundaryError(f"boundary type {kind!r}: expected Polygon or MultiPolygon")
    coordinates = value.get("coordinates")
    if not coordinates:
        raise BoundaryError("boundary is empty: expected at least one ring of 4 or more positions")
    try:
        rings = _rings(value)
    except (TypeError, KeyError) as exc:
        raise BoundaryError(
            "boundary coordinates are malformed: expected nested lists of [lon, lat]"
        ) from exc
    for index, ring in enumerate(rings):
        if not isinstance(ring, list) or len(ring) < 4:
            raise BoundaryError(
                f"boundary ring {index} has {len(ring) if isinstance(ring, list) else 0} positions: expected at least 4 (a closed ring)"
            )
        for position in ring:
            if (
                not isinstance(position, (list, tuple))
                or len(position) < 2
                or not all(isinstance(c, (int, float)) and math.isfinite(c) for c in position[:2])
            ):
                raise BoundaryError(
                    f"boundary position {position!r}: expected [longitude, latitude] numbers"
                )
            lon, lat = position[0], position[1]
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise BoundaryError(
                    f"boundary position [{lon}, {lat}] is outside WGS84 longitude/latitude: "
                    "expected degrees (projected coordinates such as metres must be converted to WGS84)"
                )
        if list(ring[0][:2]) != list(ring[-1][:2]):
            raise BoundaryError(
                f"boundary ring {index} is not closed: its first and last positions differ"
            )
    geometry = shape(value)
    if geometry.is_empty:
        raise BoundaryError("boundary is empty: expected a polygon with an area")
    if not geometry.is_valid:
        raise BoundaryError(
            f"boundary is not a valid polygon: {explain_validity(geometry)} (e.g. self-intersecting edges)"
        )
    area_m2 = abs(_GEOD.geometry_area_perimeter(geometry)[0])
    if area_m2 < MIN_AREA_M2:
        raise BoundaryError(
            f"boundary area {area_m2:.1f} m² is too small: expected at least {MIN_AREA_M2:.0f} m²"
        )
    if area_m2 > MAX_AREA_M2:
        raise BoundaryError(
            f"boundary area {area_m2 / 1e6:.1f} km² is too large for a public space: expected at most "
            f"{MAX_AREA_M2 / 1e6:.0f} km² (were coordinates given in the wrong order or CRS?)"
        )
    return {"type": kind, "coordinates": json.loads(json.dumps(coordinates))}


def area_m2(geometry: dict[str, Any]) -> float:
    """Geodesic area (m²) of a GeoJSON polygon on the WGS84 ellipsoid."""
    return abs(_GEOD.geometry_area_perimeter(shape(geometry))[0])
