"""Speed fields of one tile with its boundary seeded conservatively.

Every link of the tile network with a point outside the tile box (the ways crossing the box edge,
kept whole by :mod:`.extract`) is entered at the vehicle's top speed in both directions. Any
whole-network route to a point of the tile either stays on tile links (present in the tile too)
or last enters through such a link, where the seed dominates it: the tile's speed is never
lower than the whole network's. Labels compose as ``min(x + D, C)`` with ``C <= x_top``, so after
a path of ``D >= x_top`` metres (the halo) from the boundary, the seed no longer matters and the
tile answer equals the whole-network answer.

Per site (:func:`assess_site`): the governing vehicle and rating on the site's approaches (near
its point and, for an area, along its outline), the exposed edge length (:func:`exposed_edge_m`)
and the crowd capacity (:func:`crowd_capacity`); docs/method.md section 8 gives the definitions
and constants. Lengths in the tile network's local metric projection, outlines in WGS84.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod

from rempart.assess.engine.field import VehicleField, segment_speeds_ms, vehicle_field
from rempart.assess.engine.graph import FloatArray, IntArray, Network
from rempart.assess.engine.ratings import required_rating
from rempart.assess.engine.vehicles import Vehicle

from .candidates import Candidate
from .tiles import Tile


def boundary_links(net: Network, tile: Tile) -> NDArray[np.bool_]:
    """(L,) bool: links with at least one point outside the tile box."""
    lon, lat = net.unproject(net.pt_x, net.pt_y)
    outside = (
        (lon < tile.min_lon) | (lon > tile.max_lon) | (lat < tile.min_lat) | (lat > tile.max_lat)
    )
    link = np.repeat(np.arange(net.n_links), np.diff(net.link_offsets))
    mask = np.zeros(net.n_links, dtype=bool)
    mask[link[outside]] = True
    return mask


def tile_fields(net: Network, tile: Tile, vehicles: Sequence[Vehicle]) -> list[VehicleField]:
    """Speed fields of ``vehicles`` on a tile network, boundary seeded at top speed."""
    seed = boundary_links(net, tile)
    return [vehicle_field(net, v, (), seed) for v in vehicles]


def site_speed_kmh(
    net: Network, fields: Sequence[VehicleField], lon: float, lat: float, radius_m: float
) -> float:
    """Highest speed (km/h) of any vehicle on segments starting within ``radius_m`` m of the
    site point (WGS84 degrees); 0 when no reachable segment is that close."""
    x, y = net.project(np.array([lon]), np.array([lat]))
    near = np.hypot(net.pt_x - x[0], net.pt_y - y[0]) <= radius_m
    best = 0.0
    for vf in fields:
        v = segment_speeds_ms(net, vf)[near]
        v = v[np.isfinite(v)]
        if v.size:
            best = max(best, float(v.max()) * 3.6)
    return best


#: A road segment whose centreline passes within this distance (m) of a site's outline crosses
#: it or runs along it. ASSUMPTION: half a wide urban carriageway (9 m, ``DEFAULT_WIDTH_M``
#: primary) plus a pavement of about 5 m, rounded to 10 m.
EDGE_REACH_M = 10.0
#: Crowd density (persons/m2) used to estimate a site's capacity from its area when OSM has no
#: ``capacity=*``. ASSUMPTION: a dense standing crowd; Jacobs' crowd-counting rule gives about
#: 2.4 persons/m2 (one per 4.5 sq ft) for a dense crowd and G. K. Still, *Introduction to Crowd
#: Science* (2014), places 2 persons/m2 at the start of a dense, still-mobile crowd.
CROWD_DENSITY_PER_M2 = 2.0


@dataclass
class TileSpeeds:
    """A tile's reachable drawn segments (local metres) and each vehicle's highest speed on
    them, km/h, ``(S, V)`` (NaN where that vehicle cannot reach): computed once per tile."""

    start: IntArray
    kmh: FloatArray
    x0: FloatArray
    y0: FloatArray
    x1: FloatArray
    y1: FloatArray

    @cached_property
    def lines(self) -> NDArray[np.object_]:
        coords = np.stack(
            [np.column_stack([self.x0, self.y0]), np.column_stack([self.x1, self.y1])], axis=1
        )
        return np.asarray(shapely.linestrings(coords))

    @cached_property
    def tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.lines)


def tile_speeds(net: Network, fields: Sequence[VehicleField]) -> TileSpeeds:
    """The :class:`TileSpeeds` of a tile network (segments reachable by at least one vehicle)."""
    last = np.zeros(net.pt_x.size, dtype=bool)
    last[net.link_offsets[1:] - 1] = True
    j = np.flatnonzero(~last)
    if fields:
        kmh = np.column_stack([segment_speeds_ms(net, vf)[j] * 3.6 for vf in fields])
    else:
        kmh = np.full((j.size, 0), np.nan)
    ok = np.isfinite(kmh).any(axis=1) if kmh.shape[1] else np.zeros(j.size, dtype=bool)
    j, kmh = j[ok], kmh[ok]
    return TileSpeeds(j, kmh, net.pt_x[j], net.pt_y[j], net.pt_x[j + 1], net.pt_y[j + 1])


def _max_kmh(kmh: FloatArray, n_vehicles: int) -> FloatArray:
    """(V,) highest finite speed per vehicle over the rows of ``kmh``; 0 where none."""
    if kmh.shape[0] == 0:
        return np.zeros(n_vehicles)
    return np.asarray(np.nan_to_num(np.nanmax(np.where(np.isfinite(kmh), kmh, -1.0), axis=0)))


def point_speeds_kmh(
    net: Network, speeds: TileSpeeds, lon: float, lat: float, radius_m: float
) -> FloatArray:
    """(V,) per vehicle: the highest speed (km/h) on segments starting within ``radius_m`` m of
    the site point (WGS84 degrees), 0 when none (the values of :func:`site_speed_kmh`)."""
    x, y = net.project(np.array([lon]), np.array([lat]))
    near = np.hypot(speeds.x0 - x[0], speeds.y0 - y[0]) <= radius_m
    return np.maximum(_max_kmh(speeds.kmh[near], speeds.kmh.shape[1]), 0.0)


def _outline(net: Network, ring: Sequence[tuple[float, float]]) -> shapely.LineString:
    lon = np.array([p[0] for p in ring], dtype=float)
    lat = np.array([p[1] for p in ring], dtype=float)
    x, y = net.project(lon, lat)
    return shapely.LineString(np.column_stack([x, y]))


def _along(speeds: TileSpeeds, outline: shapely.LineString) -> IntArray:
    if speeds.start.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(
        speeds.tree.query(outline, predicate="dwithin", distance=EDGE_REACH_M), dtype=np.int64
    )


def edge_speeds_kmh(
    net: Network, speeds: TileSpeeds, ring: Sequence[tuple[float, float]]
) -> FloatArray:
    """(V,) per vehicle: the highest speed (km/h) on segments crossing or running along the
    site's outline (``ring``, WGS84), i.e. within :data:`EDGE_REACH_M` of it; 0 when none."""
    near = _along(speeds, _outline(net, ring))
    return np.maximum(_max_kmh(speeds.kmh[near], speeds.kmh.shape[1]), 0.0)


def exposed_edge_m(
    net: Network,
    speeds: TileSpeeds,
    ring: Sequence[tuple[float, float]],
    vehicles: Sequence[Vehicle],
    band_energy_kj: float,
) -> float:
    """Metres of the site's outline (``ring``, WGS84; lengths in the tile's local metric
    projection) lying within :data:`EDGE_REACH_M` of a road segment whose own requirement is
    at or above ``band_energy_kj``: the test energy (IWA 14-1 test mass and speed) of the
    highest rating any vehicle requires at its highest speed on that segment."""
    outline = _outline(net, ring)
    near = _along(speeds, outline)
    hot = []
    for s in near:
        demand = 0.0
        for v, vehicle in enumerate(vehicles):
            kmh = float(speeds.kmh[s, v])
            if np.isfinite(kmh) and kmh > 0:
                demand = max(demand, required_rating(vehicle, kmh).energy_kj)
        if demand > 0 and demand >= band_energy_kj - 1e-9:
            hot.append(s)
    if not hot:
        return 0.0
    reach = shapely.union_all(shapely.buffer(speeds.lines[np.array(hot)], EDGE_REACH_M))
    return float(outline.intersection(reach).length)


def ring_area_perimeter_m(ring: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Geodesic area (m2) and perimeter (m) of a WGS84 ring on the WGS84 ellipsoid (pyproj)."""
    area, perimeter = Geod(ellps="WGS84").geometry_area_perimeter(shapely.Polygon(ring))
    return abs(float(area)), float(perimeter)


def crowd_capacity(capacity: int | None, area_m2: float | None) -> tuple[int | None, str]:
    """(people, source): the OSM ``capacity`` when tagged (``"tagged"``), else the area times
    :data:`CROWD_DENSITY_PER_M2`, rounded down (``"estimate"``), else ``(None, "")``."""
    if capacity is not None:
        return capacity, "tagged"
    if area_m2 is not None and area_m2 > 0:
        return int(area_m2 * CROWD_DENSITY_PER_M2), "estimate"
    return None, ""


def assess_site(
    net: Network | None,
    speeds: TileSpeeds | None,
    site: Candidate,
    vehicles: Sequence[Vehicle],
    radius_m: float,
) -> dict[str, Any]:
    """The screening columns of one site.

    Per vehicle, the highest speed on the site's approaches: segments starting within
    ``radius_m`` of its point and, for an area, segments crossing or running along its outline.
    The governing vehicle is the one with the highest kinetic energy there; ``rating`` is its
    required rating (IWA 14-1, 90 degrees). ``exposed_edge_m`` (:func:`exposed_edge_m`, against
    that rating's test energy; NaN without an outline), ``perimeter_m``, ``area_m2`` and the
    crowd (:func:`crowd_capacity`) complete the row.
    """
    row: dict[str, Any] = {
        "speed_kmh": 0.0,
        "vehicle": "",
        "rating": "",
        "energy_kj": 0.0,
        "exposed_edge_m": float("nan"),
        "perimeter_m": float("nan"),
        "area_m2": float("nan"),
    }
    area = None
    if site.ring is not None:
        area, perimeter = ring_area_perimeter_m(site.ring)
        row.update(area_m2=round(area, 1), perimeter_m=round(perimeter, 1))
    people, source = crowd_capacity(site.capacity, area)
    row.update(crowd_capacity=people, crowd_source=source)
    if net is None or speeds is None:
        if site.ring is not None:
            row["exposed_edge_m"] = 0.0
        return row
    kmh = point_speeds_kmh(net, speeds, site.lon, site.lat, radius_m)
    if site.ring is not None:
        kmh = np.maximum(kmh, edge_speeds_kmh(net, speeds, site.ring))
    best = -1.0
    band = None
    for v, speed in zip(vehicles, kmh, strict=True):
        if speed <= 0:
            continue
        rating = required_rating(v, float(speed))
        energy = 0.5 * v.mass_kg * (float(speed) / 3.6) ** 2 / 1000.0
        if energy > best:
            best = energy
            band = rating
            row.update(
                speed_kmh=round(float(speed), 3),
                vehicle=v.name,
                rating=rating.iwa,
                energy_kj=round(energy, 3),
            )
    if site.ring is not None:
        edge = 0.0
        if band is not None:
            edge = exposed_edge_m(net, speeds, site.ring, vehicles, band.energy_kj)
        row["exposed_edge_m"] = round(edge, 1)
    return row


#: The columns :func:`assess_site` adds to the first screening's (``speed_kmh`` .. ``energy_kj``).
SITE_COLUMNS = [
    "exposed_edge_m",
    "perimeter_m",
    "area_m2",
    "crowd_capacity",
    "crowd_source",
]
