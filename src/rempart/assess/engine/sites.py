"""Site, barrier-register and access-route inputs (GeoJSON, WGS84) and their validation.

shapely validates and projects geometry; what is hand-written is the mapping of GeoJSON
features to sites, register barriers to links and access routes to links.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from rempart.inputs import (
    InputError,
    check_positions,
    check_size,
    load_json,
    max_features,
)

from .errors import InputFileError, InputLimitError, SiteError
from .field import BarrierOnLink
from .graph import Network
from .ratings import (
    credited_speed_kmh,
    register_rating,
)

SiteInput = tuple[str, dict[str, Any]]
BARRIER_SNAP_M = 10.0
ACCESS_SNAP_M = 4.0
#: A site must touch the extent of the data's streets widened by this margin (m), and lie
#: within twice the margin of it: beyond, nothing leads to its edge, and a site around the
#: whole extract is a city, not a crowded place.
SITE_MARGIN_M = 500.0


def _read_geojson(path: str | Path, what: str) -> Any:
    """Read GeoJSON within :mod:`rempart.inputs`' limits (size, depth, finite numbers)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            check_size(size, f"{what} {path}")
            return load_json(handle.read(), f"{what} {path}")
    except OSError as err:
        raise InputFileError(what, str(path), f"a readable GeoJSON file ({err.strerror})") from None
    except InputError as err:
        raise InputLimitError(str(err)) from None


def _features(data: Any, path: str, what: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(geometry, properties) pairs of a Feature, FeatureCollection or bare geometry."""
    if not isinstance(data, dict) or "type" not in data:
        raise InputFileError(what, path, "a GeoJSON object with a 'type'")
    if data["type"] == "FeatureCollection":
        out = []
        for f in data.get("features", []):
            if not isinstance(f, dict) or not isinstance(f.get("geometry"), dict):
                raise InputFileError(f"{what} {path}: feature", f, "a Feature with a geometry")
            out.append((f["geometry"], f.get("properties") or {}))
        return out
    if data["type"] == "Feature":
        if not isinstance(data.get("geometry"), dict):
            raise InputFileError(f"{what} {path}: feature", data.get("geometry"), "a geometry")
        return [(data["geometry"], data.get("properties") or {})]
    return [(data, {})]


def load_sites(path: str | Path) -> list[SiteInput]:
    """Sites of a GeoJSON file: one per feature, named by ``properties.name``."""
    data = _read_geojson(path, "site file")
    sites: list[SiteInput] = []
    stem = Path(path).stem
    feats = _features(data, str(path), "site file")
    if len(feats) > max_features():
        raise SiteError("site file", f"{len(feats)} features", f"at most {max_features()}")
    for i, (geom, props) in enumerate(feats):
        name = str(props.get("name") or (stem if len(feats) == 1 else f"{stem} #{i + 1}"))
        try:
            check_positions(geom.get("coordinates"), f"site {name!r}")
        except InputError as err:
            raise InputLimitError(f"site file {path}: {err}") from None
        sites.append((name, geom))
    if not sites:
        raise SiteError("site file", str(path), "at least one Polygon or MultiPolygon feature")
    return sites


def site_geometry(name: str, geometry: dict[str, Any], net: Network) -> BaseGeometry:
    """Validate a WGS84 site polygon and project it to the network's local CRS (m).

    Raises
    ------
    SiteError
        Not a polygon, invalid (e.g. self-intersecting), or outside the OSM data.
    """
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.GEOSException) as err:
        raise SiteError(
            f"site {name!r} geometry",
            str(geometry)[:60],
            f"GeoJSON Polygon or MultiPolygon ({err})",
        ) from None
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise SiteError(f"site {name!r} geometry type", geom.geom_type, "Polygon or MultiPolygon")
    if not geom.is_valid:
        raise SiteError(
            f"site {name!r} polygon",
            explain_validity(geom),
            "a valid polygon without self-intersection",
        )
    if geom.is_empty or geom.area <= 0:
        raise SiteError(f"site {name!r} geometry", "empty", "a polygon with an area")
    lon_min, lat_min, lon_max, lat_max = geom.bounds
    if not (-180 <= lon_min <= lon_max <= 180 and -90 <= lat_min <= lat_max <= 90):
        raise SiteError(
            f"site {name!r} coordinates", geom.bounds, "WGS84 longitude/latitude in degrees"
        )
    local = shapely.transform(geom, lambda c: np.column_stack(net.project(c[:, 0], c[:, 1])))
    if net.n_links == 0:
        raise SiteError(
            f"site {name!r}", "no traversable ways in the OSM data", "streets around the site"
        )
    hull = shapely.box(
        float(net.node_x.min()),
        float(net.node_y.min()),
        float(net.node_x.max()),
        float(net.node_y.max()),
    ).buffer(SITE_MARGIN_M)
    if not hull.intersects(local):
        c = geom.centroid
        swapped = shapely.transform(geom, lambda c: np.column_stack(net.project(c[:, 1], c[:, 0])))
        hint = " (longitude and latitude swapped?)" if hull.intersects(swapped) else ""
        raise SiteError(
            f"site {name!r} at lon {c.x:.5f} lat {c.y:.5f}",
            "outside the OSM data",
            f"a site within the data's extent{hint}",
        )
    # a site reaching far past the data (twice the margin) has edges nothing leads to, and a
    # site around the whole extract is a city, not a crowded place (minutes of work for
    # nothing); the farthest point from the (convex) extent is a vertex of the site
    coords = shapely.get_coordinates(local)
    beyond = float(shapely.distance(hull, shapely.points(coords)).max())
    if beyond > SITE_MARGIN_M:
        raise SiteError(
            f"site {name!r}",
            f"reaches about {beyond + SITE_MARGIN_M:,.0f} m beyond the extent of the OSM "
            "data's streets",
            f"a site within {2 * SITE_MARGIN_M:g} m of it (cut a wider extract)",
        )
    return local


def load_barriers(path: str | Path, net: Network) -> list[BarrierOnLink]:
    """Register of existing rated barriers (GeoJSON points or lines, ``properties.rating``).

    A point is snapped to the nearest link within 10 m; a line blocks every link it crosses.
    """
    data = _read_geojson(path, "barrier register")
    out: list[BarrierOnLink] = []
    for i, (geom_d, props) in enumerate(_features(data, str(path), "barrier register")):
        text = props.get("rating")
        rating = register_rating(f"barrier register {path}: feature #{i + 1}", text)
        # a barrier stops what arrives at no more than V sin(angle) (ratings.credited_speed_kmh)
        out.extend(
            barriers_on_links(
                net,
                geom_d,
                rating.mass_kg,
                credited_speed_kmh(rating),
                str(props.get("name", text)),
            )
        )
    return out


def barriers_on_links(
    net: Network, geometry: dict[str, Any], mass_kg: float, speed_kmh: float, label: str
) -> list[BarrierOnLink]:
    """Snap one rated barrier (WGS84 GeoJSON point or line) to links."""
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.GEOSException):
        # GEOS refuses a LineString of one point
        raise InputFileError(
            "barrier geometry", str(geometry)[:60], "a GeoJSON Point or LineString"
        ) from None
    local = shapely.transform(geom, lambda c: np.column_stack(net.project(c[:, 0], c[:, 1])))
    out: list[BarrierOnLink] = []
    if net.n_links == 0:
        return out
    if local.geom_type in ("Point", "MultiPoint"):
        pts = list(local.geoms) if local.geom_type == "MultiPoint" else [local]  # type: ignore[attr-defined]
        for p in pts:
            link = int(net.link_tree.nearest(p))
            line = net.link_lines[link]
            if line.distance(p) <= BARRIER_SNAP_M:
                out.append(BarrierOnLink(link, float(line.project(p)), mass_kg, speed_kmh, label))
    else:
        for link in np.unique(net.link_tree.query(local, predicate="intersects")):
            line = net.link_lines[link]
            inter = line.intersection(local)
            p = (
                inter.representative_point()
                if not inter.is_empty
                else line.interpolate(0.5, normalized=True)
            )
            out.append(BarrierOnLink(int(link), float(line.project(p)), mass_kg, speed_kmh, label))
    return out


def access_mask(
    net: Network, way_ids: list[int] | None = None, lines: list[dict[str, Any]] | None = None
) -> np.ndarray:
    """Links on designated access routes: given OSM way ids, or lying along GeoJSON lines
    (link midpoint within 4 m of a line)."""
    mask = np.zeros(net.n_links, dtype=bool)
    if way_ids:
        mask |= np.isin(net.link_way_id, np.asarray(way_ids, dtype=np.int64))
    for geometry in lines or []:
        local = shapely.transform(
            shape(geometry), lambda c: np.column_stack(net.project(c[:, 0], c[:, 1]))
        )
        cand = np.unique(net.link_tree.query(local, predicate="dwithin", distance=ACCESS_SNAP_M))
        for link in cand:
            mid = net.link_lines[link].interpolate(0.5, normalized=True)
            if mid.distance(local) <= ACCESS_SNAP_M:
                mask[link] = True
    return mask


def load_access_lines(path: str | Path) -> list[dict[str, Any]]:
    """Designated access routes of a GeoJSON file: its LineString / MultiLineString
    geometries (WGS84); any other geometry is refused in one line."""
    data = _read_geojson(path, "access routes")
    out = []
    for i, (g, _) in enumerate(_features(data, str(path), "access routes")):
        if g.get("type") not in ("LineString", "MultiLineString"):
            raise InputFileError(
                f"access routes {path}: feature #{i + 1} geometry type",
                g.get("type"),
                "a LineString or MultiLineString along the route",
            )
        out.append(g)
    return out


def check_access_routes(
    net: Network, way_ids: Sequence[int], lines: Sequence[dict[str, Any]]
) -> None:
    """Refuse designated routes the data does not have: a way id of no traversable way, or a
    line along no way (a route silently dropped would leave an emergency route unplanned).

    Raises
    ------
    InputFileError
        Naming the first way id or line that is not found.
    """
    known = set(np.unique(net.link_way_id).tolist())
    missing = [w for w in way_ids if w not in known]
    if missing:
        raise InputFileError(
            "--access-ways",
            ",".join(str(w) for w in missing),
            "ids of traversable ways (highway=*) in the OSM data",
        )
    for i, line in enumerate(lines):
        if not access_mask(net, lines=[line]).any():
            raise InputFileError(
                f"access routes: line #{i + 1}",
                "along no way of the OSM data",
                f"a line within {ACCESS_SNAP_M:g} m of the ways of the route",
            )
