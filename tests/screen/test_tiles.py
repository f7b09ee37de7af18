"""Clustering sites into tiles and the halo width."""

from __future__ import annotations

import math

import pytest

from rempart.assess.engine.vehicles import Vehicle
from rempart.screen.candidates import Candidate
from rempart.screen.tiles import EARTH_RADIUS_M, HALO_M, halo_m, make_tiles


def test_halo_constant_vehicle() -> None:
    # Constant 2 m/s2 up to 72 km/h (20 m/s): run-up v^2/2a = 400 / 4 = 100 m;
    # ×1.25 = 125 m, rounded up to 200 m.
    v = Vehicle("test", "N1", 1500.0, 72.0, 4.0, 2.0, ((0.0, 2.0), (72.0, 2.0)))
    assert halo_m([v]) == pytest.approx(200.0)


def test_builtin_halo_covers_lorry_run_up() -> None:
    # The slowest-to-top vehicle, N3F-30t, needs about 1.2 km; 25 % margin rounds up to 1.6 km.
    assert HALO_M == 1600.0


def _site(i: int, lon: float, lat: float) -> Candidate:
    return Candidate(f"n{i}", "place=square", "", lon, lat)


def test_tiles_group_near_sites_and_widen_by_halo() -> None:
    # Two sites 100 m apart and one 50 km east: two tiles with 5 km cells.
    deg_100m = math.degrees(100.0 / EARTH_RADIUS_M)
    sites = [_site(1, 0.0, 0.0), _site(2, deg_100m, 0.0), _site(3, 0.45, 0.0)]
    tiles = make_tiles(sites, tile_m=5_000.0, halo=1_000.0)
    assert sorted(len(t.sites) for t in tiles) == [1, 2]
    pair = next(t for t in tiles if len(t.sites) == 2)
    halo_deg = math.degrees(1_000.0 / EARTH_RADIUS_M)
    assert pair.min_lat == pytest.approx(-halo_deg)
    assert pair.max_lon == pytest.approx(deg_100m + halo_deg)
    assert sum(len(t.sites) for t in tiles) == 3


def test_bad_tile_size_is_refused() -> None:
    with pytest.raises(ValueError, match="tile size -1"):
        make_tiles([_site(1, 0.0, 0.0)], tile_m=-1.0)
