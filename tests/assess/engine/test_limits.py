"""Known limits fixed: barriers block only beyond their position, bends continue through
junctions, turns between carriageways of different widths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rempart.assess.engine.graph import widest_line_radius_m
from rempart.assess.engine.speed import Kinematics

from ._netbuild import lonlat, road, square, vehicle
from .test_speed import _bend, _northbound, run


def _crossing(res, bearing: float):
    return [
        e
        for e in res.road_entries
        if e.kind == "crossing" and e.bearing_deg is not None and abs(e.bearing_deg - bearing) < 5
    ][0]


@pytest.mark.parametrize(
    ("barrier_x", "east_blocked"),
    [(-20.0, True), (60.0, False), (300.0, False)],
)
def test_barrier_blocks_only_beyond_its_position(barrier_x, east_blocked):
    light = vehicle("light", mass=7200, test_class="N2A")
    ways = [road([(-400.0, 0.0), (500.0, 0.0)])]  # one link through the site
    site = square(0, -50, 100, 50)
    barrier = ({"type": "Point", "coordinates": list(lonlat(barrier_x, 0.0))}, 7200, 112)
    free, _ = run(ways, site, [light])
    with_b, _ = run(ways, site, [light], barriers=[barrier])
    east, west = _crossing(with_b, 90.0).vehicles[0], _crossing(with_b, 270.0).vehicles[0]
    if east_blocked:  # the barrier stands between the eastbound run-up and the site
        assert east.speed_kmh is None and east.blocked == "rated barrier"
    else:  # the barrier is past the entry: the run-up before it is untouched
        assert east.speed_kmh == _crossing(free, 90.0).vehicles[0].speed_kmh
    west_free = _crossing(free, 270.0).vehicles[0].speed_kmh
    if barrier_x > 100.0:  # between the westbound run-up (from x=500) and the site
        assert west.speed_kmh is None and west.blocked == "rated barrier"
    else:
        assert west.speed_kmh == west_free


def test_two_width_corner_radius_is_the_widest_line():
    for w1, w2, deg in ((4.0, 12.0, 90.0), (9.0, 3.0, 45.0), (6.0, 7.5, 130.0)):
        theta = math.radians(deg)
        r = float(
            widest_line_radius_m(np.array([w1]), np.array([theta]), width_out_m=np.array([w2]))[0]
        )
        # inner corner at the origin, in along +x (outer edge y = -w1), turning left by theta
        # (outer edge of the exit w2 to the right of its direction): the centre is at R from
        # both outer edges; the widest line also passes through the inner corner
        cy = r - w1
        cx = (cy * math.cos(theta) - (r - w2)) / math.sin(theta)
        assert math.hypot(cx, cy) == pytest.approx(r, rel=1e-9)
    same = widest_line_radius_m(np.array([8.0]), np.array([1.2]))
    assert widest_line_radius_m(
        np.array([8.0]), np.array([1.2]), width_out_m=np.array([8.0])
    ) == pytest.approx(same)


def test_turn_between_different_widths_uses_both():
    veh = vehicle(lat=4.0, top_kmh=90)
    ways = [
        road([(-600.0, 0.0), (0.0, 0.0)], width="4"),
        road([(0.0, 0.0), (0.0, 500.0)], width="12"),
    ]
    res, _ = run(ways, square(-50, 300, 50, 400), [veh])
    got = [e for e in res.road_entries if e.kind == "crossing" and _northbound(e)][0].vehicles[0]
    theta = math.pi / 2
    radius = (4 + 12 + 2 * math.sqrt(4 * 12) * math.cos(theta / 2)) / (1 - math.cos(theta))
    mean = 8.0 / (1 - math.cos(theta / 2))  # the former mean-width simplification
    assert radius < mean
    assert got.runup_start == "turn"
    assert got.runup_start_speed_kmh == pytest.approx(math.sqrt(4.0 * radius) * 3.6, abs=0.1)


def test_bend_through_a_junction_is_one_bend():
    veh = vehicle(lat=4.0)
    kin = Kinematics.of(veh)
    pts = _bend(30)
    end_x, end_y = pts[-1]
    site = square(end_x - 50, end_y - 150, end_x + 50, end_y + 50)
    plain, _ = run([road(pts, width="7")], site, [veh])
    # the same curve with a side street joining at a vertex in the middle of the bend
    k = 2 + 15
    mx, my = pts[k]
    side = road([(mx, my), (mx + 0.6 * (mx - 0.0), my + 0.6 * (my - 60.0))], width="6")
    split, _ = run([road(pts[: k + 1], width="7"), road(pts[k:], width="7"), side], site, [veh])

    def north(res):
        return [e for e in res.road_entries if e.kind == "crossing" and _northbound(e)][0].vehicles[
            0
        ]

    a, b = north(plain), north(split)
    assert b.speed_kmh == pytest.approx(a.speed_kmh, rel=0.03)
    assert b.runup_start_speed_kmh == pytest.approx(a.runup_start_speed_kmh, rel=0.05)
    assert b.runup_start_speed_kmh < kin.top_speed_ms * 3.6
