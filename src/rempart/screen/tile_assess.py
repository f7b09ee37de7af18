"""Speed fields of one tile with its boundary seeded conservatively.

Every link of the tile network with a point outside the tile box (the ways crossing the box edge,
kept whole by :mod:`.extract`) is entered at the vehicle's top speed in both directions. Any
whole-network route to a point of the tile either stays on tile links (present in the tile too)
or last enters through such a link, where the seed dominates it: the tile's speed is never
lower than the whole network's. Labels compose as ``min(x + D, C)`` with ``C <= x_top``, so after
a path of ``D >= x_top`` metres (the halo) from the boundary, the seed no longer matters and the
tile answer equals the whole-network answer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from rempart.assess.engine.field import VehicleField, segment_speeds_ms, vehicle_field
from rempart.assess.engine.graph import Network
from rempart.assess.engine.vehicles import Vehicle

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
