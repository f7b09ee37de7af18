"""Clustering candidate sites into tiles, each with a halo no vehicle can gain speed beyond.

Halo (``HALO_M``): the longest full-throttle run-up from rest to top speed among the built-in
vehicles (``Kinematics.x_top_m``; the N3F-30t lorry, about 1,210 m from its acceleration table in
``assess/engine/data/vehicles.toml``), plus a 25 % margin, rounded up to 100 m: 1,600 m. A
vehicle entering the tile from beyond the halo has at most its top speed, which the conservative
boundary seed assumes anyway, so the halo only decides how many sites are "interior".

Tiles: sites are binned on a square grid of ``tile_m`` metres in a local equirectangular frame
(x = R·Δlon·cos(lat0), y = R·Δlat, R = 6,371,008.8 m, lat0 = mean latitude of the sites); each
non-empty cell is a tile whose box is its sites' bounding box widened by the halo on every side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rempart.assess.engine.speed import Kinematics
from rempart.assess.engine.vehicles import Vehicle, builtin_vehicles

from .candidates import Candidate

EARTH_RADIUS_M = 6_371_008.8
HALO_MARGIN = 0.25
DEFAULT_TILE_M = 5_000.0


def halo_m(vehicles: Sequence[Vehicle], margin: float = HALO_MARGIN) -> float:
    """Halo width in m: max run-up to top speed × (1 + margin), rounded up to 100 m."""
    run_up = max(Kinematics.of(v).x_top_m for v in vehicles)
    return math.ceil(run_up * (1.0 + margin) / 100.0) * 100.0


#: Halo of the built-in vehicles, m (1,600 m; see module docstring).
HALO_M = halo_m(builtin_vehicles())


@dataclass(frozen=True)
class Tile:
    """A tile: its sites and its box (sites' bounds widened by the halo), WGS84 degrees."""

    tile_id: str
    sites: tuple[Candidate, ...]
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


def make_tiles(
    sites: Sequence[Candidate], tile_m: float = DEFAULT_TILE_M, halo: float = HALO_M
) -> list[Tile]:
    """Group ``sites`` into grid tiles of ``tile_m`` m with a ``halo`` m margin, sorted by id.

    Raises
    ------
    ValueError
        When ``tile_m`` or ``halo`` is not a positive / non-negative finite number.
    """
    if not (math.isfinite(tile_m) and tile_m > 0):
        raise ValueError(
            f"The tile size {tile_m} m is not valid; expected a positive number of metres."
        )
    if not (math.isfinite(halo) and halo >= 0):
        raise ValueError(
            f"The halo {halo} m is not valid; expected zero or a positive number of metres."
        )
    if not sites:
        return []
    lat0 = sum(s.lat for s in sites) / len(sites)
    lon0 = sum(s.lon for s in sites) / len(sites)
    cos0 = math.cos(math.radians(lat0))
    cells: dict[tuple[int, int], list[Candidate]] = {}
    for s in sites:
        x = EARTH_RADIUS_M * math.radians(s.lon - lon0) * cos0
        y = EARTH_RADIUS_M * math.radians(s.lat - lat0)
        cells.setdefault((math.floor(x / tile_m), math.floor(y / tile_m)), []).append(s)
    tiles = []
    for (i, j), members in sorted(cells.items()):
        dlat = math.degrees(halo / EARTH_RADIUS_M)
        lats = [m.lat for m in members]
        lons = [m.lon for m in members]
        dlon = math.degrees(halo / (EARTH_RADIUS_M * math.cos(math.radians(max(map(abs, lats))))))
        tiles.append(
            Tile(
                f"t{i}_{j}",
                tuple(members),
                min(lons) - dlon,
                min(lats) - dlat,
                max(lons) + dlon,
                max(lats) + dlat,
            )
        )
    return tiles
