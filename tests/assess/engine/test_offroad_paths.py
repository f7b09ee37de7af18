"""Paths drawn for off-road approaches (issue 10 item 2): a bent run is drawn through its bend,
a road start's turn as its arc, and the run-up reported is the length of what is drawn.
Geometry built here (metres, local CRS); expected lengths from the circle."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rempart.assess.engine.offroad import (
    ARC_STEP_M,
    REST,
    ROAD,
    EdgeThreat,
    approach_path_xy,
    path_length_m,
)


def threat(start: tuple[float, float], kind: int = REST) -> EdgeThreat:
    th = EdgeThreat.empty(1)
    th.x_m[0] = 100.0
    th.start_x[0], th.start_y[0] = start
    th.kind[0] = kind
    return th


def test_straight_run_is_start_to_edge():
    th = threat((0.0, -30.0))
    pts = approach_path_xy(th, 0, 0.0, 0.0)
    assert pts == [(0.0, -30.0), (0.0, 0.0)]
    assert path_length_m(pts) == pytest.approx(30.0)


def test_bent_run_without_radius_has_the_via_point_and_the_legs_length():
    # start 100 m south of the bend point, then 50 m east to the edge
    th = threat((0.0, -100.0))
    th.via_x[0], th.via_y[0] = 0.0, 0.0
    pts = approach_path_xy(th, 0, 50.0, 0.0)
    assert pts == [(0.0, -100.0), (0.0, 0.0), (50.0, 0.0)]
    assert path_length_m(pts) == pytest.approx(150.0)


def test_bent_run_is_drawn_along_its_arc():
    # a quarter turn of radius 20 m at the bend (0, 0): tangent T = R tan(45 deg) = 20 m; the
    # path runs 80 m north, a quarter circle (pi R / 2 = 31.4 m), 30 m east
    r = 20.0
    th = threat((0.0, -100.0))
    th.via_x[0], th.via_y[0] = 0.0, 0.0
    th.bend_r_m[0] = r
    pts = approach_path_xy(th, 0, 50.0, 0.0)
    assert pts[0] == (0.0, -100.0) and pts[-1] == (50.0, 0.0)
    assert pts[1] == pytest.approx((0.0, -r))  # the arc's start, T before the bend
    assert pts[-2] == pytest.approx((r, 0.0))  # its end, T after it
    # every arc point at R from the centre (R, -R), no step longer than ARC_STEP_M
    arc = np.asarray(pts[1:-1])
    assert np.hypot(arc[:, 0] - r, arc[:, 1] + r) == pytest.approx(np.full(len(arc), r))
    assert np.max(np.hypot(*np.diff(arc, axis=0).T)) <= ARC_STEP_M + 1e-9
    # the legs and the arc (its chords: within 0.1 % of pi R / 2)
    assert path_length_m(pts) == pytest.approx(80.0 + math.pi * r / 2.0 + 30.0, rel=1e-3)


def test_road_start_turn_is_drawn_from_where_it_leaves_the_road():
    # a street heading east meets the run north at the start (10, -60): a quarter turn of
    # 15 m leaves the street 15 m before it, joins the run 15 m after it, 45 m to the edge
    r = 15.0
    th = threat((10.0, -60.0), ROAD)
    th.turn_r_m[0] = r
    th.turn_ux[0], th.turn_uy[0] = 1.0, 0.0
    pts = approach_path_xy(th, 0, 10.0, 0.0)
    assert pts[0] == pytest.approx((10.0 - r, -60.0))
    assert pts[-2] == pytest.approx((10.0, -60.0 + r))
    assert path_length_m(pts) == pytest.approx(math.pi * r / 2.0 + 45.0, rel=1e-3)
    assert len(pts) > 3
