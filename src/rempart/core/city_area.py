"""The area a city's sites must lie in: the extent of the city's map data (WGS84 degrees).

A site outside it cannot be assessed and blanks the dashboard map (issue 9), so sites are
refused at save (web form, GeoJSON import, API) with :func:`check_site_area`. The area is, in
order: the bounding box in the header of the city's OpenStreetMap file (``assess``'s
``CityOsmData``; .osm.pbf files carry one, osmium reads it without reading the data), else the
extent of the city's base map; a city with neither has no area and any site is accepted.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

from django.utils.translation import gettext as _

from rempart.core.geo import BoundaryError, check_in_area
from rempart.core.models import City

Area = tuple[float, float, float, float]


@functools.lru_cache(maxsize=32)
def _osm_header_box(path: str, mtime_ns: int) -> Area | None:
    import osmium

    reader = osmium.io.Reader(path, osmium.osm.osm_entity_bits.NOTHING)
    try:
        box = reader.header().box()
    finally:
        reader.close()
    if not box.valid():
        return None
    return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)


@functools.lru_cache(maxsize=32)
def _basemap_box(city_id: int, updated: str, text: str) -> Area | None:
    west = south = float("inf")
    east = north = float("-inf")

    def visit(node: Any) -> None:
        nonlocal west, south, east, north
        if node and isinstance(node[0], (int, float)):
            west, east = min(west, node[0]), max(east, node[0])
            south, north = min(south, node[1]), max(north, node[1])
        else:
            for child in node:
                visit(child)

    for feature in json.loads(text).get("features", []):
        coordinates = (feature.get("geometry") or {}).get("coordinates")
        if coordinates:
            visit(coordinates)
    return None if west == float("inf") else (west, south, east, north)


def city_area(city: City) -> tuple[Area, str] | None:
    """(area, a name for it in sentences), or None when the city has no map data."""
    osm = getattr(city, "osm_data", None)
    if osm is not None:
        try:
            path = osm.resolved_path()
            box = _osm_header_box(path, os.stat(path).st_mtime_ns)
        except Exception:  # noqa: BLE001 - an unreadable file: fall back to the base map
            box = None
        if box is not None:
            return box, _("the map data of %(city)s") % {"city": city.name}
    basemap = getattr(city, "basemap", None)
    if basemap is not None:
        box = _basemap_box(city.pk, str(basemap.updated_at), basemap.geojson)
        if box is not None:
            return box, _("the base map of %(city)s") % {"city": city.name}
    return None


def check_site_area(city: City, boundary: dict[str, Any]) -> None:
    """Raise :class:`BoundaryError` when ``boundary`` is outside the city's map data."""
    found = city_area(city)
    if found is not None:
        check_in_area(boundary, found[0], found[1])


__all__ = ["BoundaryError", "check_site_area", "city_area"]
