"""Halo seeding: a tile's answer is never lower than the whole network's, equal inside.

The network is a staircase of 60 m road steps turning 90° at every corner, so speeds are set by
turn caps and 60 m run-ups (below the test vehicle's 100 m run-up to top speed) and the seed at
the tile edge is visible near it.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from rempart.assess.engine.field import vehicle_field
from rempart.assess.engine.graph import build_network
from rempart.assess.engine.osm import read_osm
from rempart.assess.engine.vehicles import Vehicle
from rempart.screen.candidates import Candidate
from rempart.screen.extract import extract_tile
from rempart.screen.tile_assess import site_speed_kmh, tile_fields
from rempart.screen.tiles import EARTH_RADIUS_M, halo_m, make_tiles

from ._osmwrite import write_osm

STEP_M = 60.0
DEG_PER_M = math.degrees(1.0 / EARTH_RADIUS_M)
# Constant 2 m/s2 to 72 km/h (20 m/s): run-up 20^2 / (2 x 2) = 100 m; halo 125 -> 200 m.
VEHICLE = Vehicle("test-van", "N1", 2000.0, 72.0, 4.0, 2.0, ((0.0, 2.0), (72.0, 2.0)))


def _staircase(tmp_path: Path, steps: int = 30) -> tuple[Path, list[tuple[float, float]]]:
    corners = []
    x = y = 0.0
    for i in range(steps + 1):
        corners.append((x * DEG_PER_M, y * DEG_PER_M))
        if i % 2 == 0:
            x += STEP_M
        else:
            y += STEP_M
    nodes = [(k + 1, lon, lat, {}) for k, (lon, lat) in enumerate(corners)]
    ways = [(100 + k, [k + 1, k + 2], {"highway": "residential"}) for k in range(steps)]
    return write_osm(tmp_path / "region.osm", nodes, ways), corners


def test_tile_never_lower_and_equal_inside(tmp_path: Path) -> None:
    src, corners = _staircase(tmp_path)
    halo = halo_m([VEHICLE])
    assert halo == 200.0
    mid = corners[len(corners) // 2]
    tile = make_tiles([Candidate("n0", "place=square", "", mid[0], mid[1])], halo=halo)[0]
    out = tmp_path / "tile.osm"
    extract_tile(src, tile, out)
    whole_net = build_network(read_osm(src))
    whole = [vehicle_field(whole_net, VEHICLE)]
    tile_net = build_network(read_osm(out))
    seeded = tile_fields(tile_net, tile, [VEHICLE])

    def speeds(lon: float, lat: float) -> tuple[float, float]:
        w = site_speed_kmh(whole_net, whole, lon, lat, 1.0)
        t = site_speed_kmh(tile_net, seeded, lon, lat, 1.0)
        return w, t

    inside = [
        c
        for c in corners
        if tile.min_lon <= c[0] <= tile.max_lon and tile.min_lat <= c[1] <= tile.max_lat
    ]
    assert len(inside) >= 5
    greater = 0
    for lon, lat in inside:
        w, t = speeds(lon, lat)
        assert t >= w - 1e-6
        greater += t > w + 1e-6
    assert greater >= 1  # the seed shows at the edge
    # the site: > 100 m of road from the box edge, so the same answer as the whole network
    w, t = speeds(*mid)
    assert w > 0
    assert t == pytest.approx(w, abs=1e-6)
