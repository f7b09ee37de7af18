"""A road start's turn onto an edge ray checked against the raster (issue 10 item 2,
docs/method.md section 7 "Turns checked against obstacles"): the arc rule of
:func:`rempart.assess.engine.turns.road_turns` on hand-built ground, against v^2 = a_lat R.

The turn: a street heading east meets the ray heading north at the corner (0, 0), 40 m
before the ray's origin (the edge point (0, 40)); the road speed is high, so the widest turn
the ray leaves is the quarter circle of R0 = d / tan(45 deg) = 40 m from (-40, 0) to (0, 40),
centre (-40, 40). The test truck: a_lat = 4 m/s2, 2 m wide. Expected speeds from the test
vehicle's curve integrated numerically (test_offroad.x_num / v_num).
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import shapely

from rempart.assess.engine import turns
from rempart.assess.engine.drivable import Features, drivable_space
from rempart.assess.engine.offroad import RoadSeeds, _Search
from rempart.assess.engine.speed import Kinematics

from .test_offroad import TRUCK, v_num, x_num

A_LAT = 4.0
D_M = 40.0  # corner to the ray's origin


def search(obstacles: list[Any]) -> _Search:
    """The search inputs over hand-made ground: ``obstacles`` polygons (m) around a small
    site north of the corner (a far building keeps the distance transform finite)."""
    far = shapely.box(140.0, -140.0, 150.0, -130.0)
    site = shapely.box(-2.0, D_M + 5.0, 2.0, D_M + 9.0)
    drv = drivable_space(site, Features(areas=[far, *obstacles]), radius_m=150.0)
    field = SimpleNamespace(vehicle=TRUCK, kin=Kinematics.of(TRUCK))
    empty_i, empty = np.zeros(0, dtype=np.int64), np.zeros(0)
    seeds = RoadSeeds(
        empty_i, empty, empty, np.zeros((1, 0)), np.zeros((1, 0)), empty_i, empty, empty
    )
    return _Search.of(drv, seeds, [field], [], 150.0)  # type: ignore[list-item]


def quarter_turn(s: _Search, floor: float = -math.inf) -> tuple[float, float, float]:
    """The one start (corner (0, 0), east onto north, 40 m to the origin, at top speed):
    run-up at the origin (m), its speed there (km/h) and the turn's radius (m)."""
    one = np.ones(1)
    kin = s.fields[0].kin
    x, _room, rad = turns.road_turns(
        s,
        0,
        0.0 * one,
        0.0 * one,
        one,
        0.0 * one,
        0.0 * one,
        one,
        kin.x_top_m * one,
        kin.top_speed_ms * one,
        math.tan(math.pi / 4.0) * one,
        D_M * one,
        np.zeros(1, dtype=np.int64),
        np.full(1, floor),
        lambda i, xx: xx,
    )
    kmh = float(kin.v_of_x(max(float(x[0]), 0.0))) * 3.6 if np.isfinite(x[0]) else math.nan
    return float(x[0]), kmh, float(rad[0])


@pytest.fixture(autouse=True)
def _counts():
    turns.STATS.update(dict.fromkeys(turns.STATS, 0))


def test_turn_on_open_ground_is_quick_accepted_at_its_widest_radius():
    # nothing within 43 m of the corner (T + half width + a cell diagonal): no arc sampled,
    # the speed is the widest turn's, sqrt(a_lat R0) = sqrt(4 * 40) = 12.6 m/s = 45.5 km/h
    s = search([])
    _, kmh, rad = quarter_turn(s)
    assert rad == pytest.approx(D_M)
    assert kmh == pytest.approx(math.sqrt(A_LAT * D_M) * 3.6, abs=0.1)
    assert turns.STATS["quick"] == 1 and turns.STATS["arcs"] == 0


def test_turn_that_fits_beside_a_building_keeps_its_speed():
    # a building 4 m outside the arc's outer side (east of x = 5, north of y = 20: the arc
    # stays within the square [-40, 0] x [0, 40]) is nearer the corner than the quick accept
    # allows: the arc is sampled, found free, and the speed is unchanged
    s = search([shapely.box(5.0, 20.0, 60.0, 36.0)])
    _, kmh, rad = quarter_turn(s)
    assert rad == pytest.approx(D_M)
    assert kmh == pytest.approx(math.sqrt(A_LAT * D_M) * 3.6, abs=0.1)
    assert turns.STATS["quick"] == 0 and turns.STATS["arcs"] == 1


def test_corner_inside_the_turn_forces_a_tighter_radius():
    # a building x <= -10, y >= 10 (its corner (-10, 10)) inside the turn. An arc of radius R
    # (centre (-R, R)) passes the corner at R - sqrt(2) (R - 10): at R = 40 it is 2.4 m
    # inside the building; the widest arc clearing it by the half width (1 m) has
    # R_fit = (10 sqrt(2) - 1) / (sqrt(2) - 1) = 31.7 m = 0.79 R0, between the fractions 0.7
    # and 1. The turn is taken at the widest free radius to within TURN_RADIUS_TOL R0 (2 m)
    # below R_fit, give or take the raster's cell (clearance is measured between cell
    # centres): its speed sqrt(a_lat R), then accelerating over the 40 - R m left.
    s = search([shapely.box(-100.0, 10.0, -10.0, 100.0)])
    r_fit = (10.0 * math.sqrt(2.0) - 1.0) / (math.sqrt(2.0) - 1.0)
    assert 0.7 * D_M < r_fit < D_M
    tol_m = turns.TURN_RADIUS_TOL * D_M
    cell_m = s.grid.cell_m
    _, kmh, rad = quarter_turn(s)
    assert r_fit - tol_m - cell_m <= rad <= r_fit + cell_m
    expected = v_num(x_num(math.sqrt(A_LAT * rad) * 3.6) + D_M - rad)
    assert kmh == pytest.approx(expected, abs=0.3)
    # the speed at the arc is sqrt(a_lat R_fit) to within the tolerance: at most about
    # TURN_RADIUS_TOL / 2 (plus the cell) below it
    v_fit = math.sqrt(A_LAT * r_fit)
    assert math.sqrt(A_LAT * rad) >= v_fit * math.sqrt(1.0 - (tol_m + cell_m) / r_fit)
    assert kmh < math.sqrt(A_LAT * D_M) * 3.6 - 1.0  # below the unchecked turn (45.5 km/h)
    # the widest (blocked), 0.7 R0 (free), then at most 3 bisection steps (0.3 R0 -> 0.05 R0)
    assert 2 <= turns.STATS["arcs"] <= 5


def test_corner_between_two_fractions_gives_sqrt_a_lat_r_fit():
    # a building x <= -6, y >= 6 (its corner (-6, 6)): R_fit = (6 sqrt(2) - 1) /
    # (sqrt(2) - 1) = 18.1 m = 0.45 R0, between the fractions 0.35 and 0.5 (0.5 R0 = 20 m
    # passes the corner 0.2 m inside the building). The fraction ladder alone would turn at
    # 0.35 R0 = 14 m (7.5 m/s); the bisection gives sqrt(a_lat R_fit) = 8.5 m/s within the
    # tolerance.
    s = search([shapely.box(-100.0, 6.0, -6.0, 100.0)])
    r_fit = (6.0 * math.sqrt(2.0) - 1.0) / (math.sqrt(2.0) - 1.0)
    assert 0.35 * D_M < r_fit < 0.5 * D_M
    tol_m = turns.TURN_RADIUS_TOL * D_M
    _, kmh, rad = quarter_turn(s)
    assert r_fit - tol_m - s.grid.cell_m <= rad <= r_fit + s.grid.cell_m
    assert rad > 0.35 * D_M + 1.0
    v_fit = math.sqrt(A_LAT * r_fit)
    assert math.sqrt(A_LAT * rad) == pytest.approx(v_fit, rel=0.05)
    assert kmh == pytest.approx(v_num(x_num(math.sqrt(A_LAT * rad) * 3.6) + D_M - rad), abs=0.3)


def test_closed_turn_gives_no_start():
    # a building over the whole inside of the turn down to 1.5 m off both legs: every arc of
    # the fractions (R = 40 down to 10 m) runs through it at its middle (-0.29 R, 0.29 R)
    s = search([shapely.box(-100.0, 1.5, -1.5, 100.0)])
    x, _, _ = quarter_turn(s)
    assert x == -math.inf
    assert turns.STATS["arcs"] == len(turns.RADIUS_FRACTIONS)


def test_start_that_cannot_beat_its_ray_is_not_checked():
    # the ray's best unchecked start already runs up more than this one's bound: it is dropped
    # before any raster lookup
    s = search([shapely.box(-100.0, 10.0, -10.0, 100.0)])
    x, _, _ = quarter_turn(s, floor=1000.0)
    assert x == -math.inf
    assert turns.STATS["arcs"] == 0 and turns.STATS["quick"] == 0 and turns.STATS["hopeful"] == 0


def test_arc_points_lie_on_the_circle_every_arc_step():
    # the sampler shared with the bends: a quarter turn of 40 m at the corner (0, 0) from
    # east to north, points on the circle of centre (-40, 40), its end (0, 40) included
    one = np.ones(1)
    item, x, y = turns.arc_points(
        0.0 * one, 0.0 * one, one, 0.0 * one, 0.0 * one, one, D_M * one, (math.pi / 2) * one
    )
    assert np.all(item == 0)
    assert np.hypot(x + D_M, y - D_M) == pytest.approx(np.full(x.size, D_M))
    assert (x[-1], y[-1]) == pytest.approx((0.0, D_M))
    steps = np.hypot(np.diff(np.r_[-D_M, x]), np.diff(np.r_[0.0, y]))
    assert steps.max() <= turns.ARC_STEP_M + 1e-9


def test_path_drawn_from_where_the_turn_leaves_the_road():
    # a street heading east meets the run north at the corner (10, -60): a quarter turn of
    # 15 m leaves the street 15 m before it, joins the run 15 m after it, 45 m to the edge
    r = 15.0
    pts = turns.approach_path_xy((10.0, -60.0), (1.0, 0.0), r, None, (10.0, 0.0))
    assert pts[0] == pytest.approx((10.0 - r, -60.0))
    assert pts[-2] == pytest.approx((10.0, -60.0 + r))
    assert pts[-1] == (10.0, 0.0)
    assert turns.path_length_m(pts) == pytest.approx(math.pi * r / 2.0 + 45.0, rel=1e-3)
    # a straight run: start to edge; a bent run: through its bend point
    assert turns.approach_path_xy((0.0, -30.0), (0.0, 0.0), math.nan, None, (0.0, 0.0)) == [
        (0.0, -30.0),
        (0.0, 0.0),
    ]
    bent = turns.approach_path_xy((0.0, -100.0), (0.0, 0.0), math.nan, (0.0, 0.0), (50.0, 0.0))
    assert bent == [(0.0, -100.0), (0.0, 0.0), (50.0, 0.0)]
    assert turns.path_length_m(bent) == pytest.approx(150.0)
