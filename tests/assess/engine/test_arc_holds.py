"""A hold longer than its link is not cut at the link's end (issue 10 item 7; docs/method.md
section 2, "After a bend"): past a bend's apex the vehicle holds the cap over the second half
of the widest-line arc, ``R theta / 2``, wherever junctions split the street.

Expected values: the widest line of a single-vertex corner, ``R = w / (1 - cos(theta / 2))``,
the cap ``sqrt(a_lat R)`` and the test vehicle's acceleration curve integrated with RK4
(test_bend_at_apex._speed_after), independent of the engine's closed form.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ._netbuild import LAT0, LON0, M_PER_DEG_LAT, road, vehicle
from .test_bend_at_apex import (
    _speed_after,
    _speeds_along,
    _zigzag,
    crossing_heading_30,
    curve_with_side_street,
)


def _split_points(pts, after_m=(5.0, 12.0)):
    """The polyline with a vertex added ``after_m`` m past each interior vertex (on the
    straight leg after it): where the extra junctions go."""
    out = [pts[0]]
    extra = []
    for k in range(1, len(pts)):
        a, b = pts[k - 1], pts[k]
        if k > 1:
            leg = math.dist(a, b)
            for q in after_m:
                t = q / leg
                p = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
                out.append(p)
                extra.append(p)
        out.append(b)
    return out, extra


def _ways_split_at(pts, cuts):
    """One way per piece of the polyline between consecutive ``cuts`` (vertices of it)."""
    ways, piece = [], [pts[0]]
    for p in pts[1:]:
        piece.append(p)
        if p in cuts:
            ways.append(road(piece, "secondary", width="6"))
            piece = [p]
    if len(piece) > 1:
        ways.append(road(piece, "secondary", width="6"))
    return ways


@pytest.mark.parametrize("corners_at_junctions", [True, False])
def test_junctions_inside_a_hold_change_no_speed(corners_at_junctions):
    # the zigzag's corners hold 16-31 m; junctions 5 and 12 m past every corner split each
    # hold over three links. With the corners at junctions too, the turn's hold goes on past
    # two junctions; with the corners inside ways, a bend's hold goes on past its link's end.
    # Either way the speeds everywhere, both directions, equal those of the street drawn as one
    # way (before the fix a hold was cut at the first junction: higher speeds after it)
    base = _zigzag()
    pts, extra = _split_points(base)
    whole = [road(pts, "secondary", width="6")]
    cuts = set(extra) | (set(base[1:-1]) if corners_at_junctions else set())
    split = _ways_split_at(pts, cuts)
    assert len(split) == len(cuts) + 1
    # every 2.5 m from 1.25 m: no sample falls on a junction (5 and 12 m past vertices 100 m
    # apart), where the nearest link is ambiguous
    one = _speeds_along(whole, pts, 2.5)
    many = _speeds_along(split, pts, 2.5)
    assert one.shape == many.shape and np.all(np.isfinite(one))
    np.testing.assert_allclose(many, one, atol=0.05)
    assert one.min() < 60.0


@pytest.mark.parametrize("junctions", [(10.0,), (8.0, 16.0)])
def test_a_hold_past_junctions_ends_where_the_arc_ends(junctions):
    # one 60-degree corner vertex on a 6 m street: R = 44.78 m, cap sqrt(a_lat R), the arc's
    # second half ends 23.4 m past the apex; side streets join 10 m (or 8 and 16 m) past the
    # apex. The site edge 60 m past the apex is reached after accelerating from the cap over
    # 60 - 23.4 m, as without the side streets (test_bend_at_apex), not over 60 - 10 m
    w, theta, a_lat, past_apex = 6.0, math.radians(60.0), 4.0, 60.0
    radius = w / (1 - math.cos(theta / 2))
    cap = math.sqrt(a_lat * radius)
    truck = vehicle("truck", top_kmh=90.0, lat=a_lat, width=2.5)
    out = (math.cos(theta), math.sin(theta))
    n = (-out[1], out[0])
    stops = [(q * out[0], q * out[1]) for q in junctions]
    line = [(-600.0, 0.0), (0.0, 0.0), *stops, (400 * out[0], 400 * out[1])]
    ways = [road(line[:3], "secondary", width="6")]
    for k in range(2, len(line) - 1):
        ways.append(road([line[k], line[k + 1]], "secondary", width="6"))
    for sx, sy in stops:  # side streets to the right, 200 m long
        ways.append(road([(sx, sy), (sx - 200 * n[0], sy - 200 * n[1])], width="6"))
    edge = (past_apex * out[0], past_apex * out[1])
    crossing = crossing_heading_30(ways, edge, out, truck)
    expected = _speed_after(truck.acceleration, 25.0, cap, past_apex - radius * theta / 2)
    assert crossing.vehicles[0].speed_kmh == pytest.approx(expected * 3.6, abs=0.15)
    # cutting the hold at the first junction would give a clearly higher speed
    cut = _speed_after(truck.acceleration, 25.0, cap, past_apex - junctions[0])
    assert cut * 3.6 > expected * 3.6 + 1.0


@pytest.mark.parametrize("junction_vertex", [17, 24])
def test_a_run_up_capped_by_a_bend_through_a_junction_starts_at_its_apex(junction_vertex):
    # a 90-degree, 60 m curve drawn with 30 vertices (apex: its middle vertex, 15), a site
    # 50 m on, and a side street joining at vertex 17 or 24, after the apex: the bend is capped
    # at the junction (test_bend_at_apex), and the run-up reported at the edge starts at the
    # bend's apex, at its cap, exactly as without the side street (it started at the junction,
    # shorter by the drawn distance from the apex, reported as a turn)
    from rempart.assess.engine.entries import runup_xy

    from .test_speed import _northbound

    plain, split, pts = curve_with_side_street(junction_vertex)

    def north(res):
        (entry,) = [e for e in res.road_entries if e.kind == "crossing" and _northbound(e)]
        return entry.vehicles[0], res.net

    (a, net_a), (b, net_b) = north(plain), north(split)
    assert a.runup_start == "bend"
    assert b.runup_start == a.runup_start
    assert b.runup_m == pytest.approx(a.runup_m, abs=0.15)
    assert b.runup_start_speed_kmh == pytest.approx(a.runup_start_speed_kmh, abs=0.05)

    # both start at the curve's apex (compared in the test's metres: each network
    # has its own local CRS)
    def start_m(net, ve):
        x, y = runup_xy(net, ve)[0]
        lon, lat = net.unproject(np.array([x]), np.array([y]))
        return (float(lon[0]) - LON0) * M_PER_DEG_LAT * math.cos(math.radians(LAT0)), (
            float(lat[0]) - LAT0
        ) * M_PER_DEG_LAT

    apex = start_m(net_a, a)
    assert min(math.dist(apex, p) for p in pts[13:18]) < 0.1  # a middle vertex of the curve
    assert math.dist(start_m(net_b, b), apex) < 0.1
    # not at the junction, where it started before
    assert math.dist(start_m(net_b, b), pts[junction_vertex]) > 3.0  # a vertex or more back


def test_an_earlier_corner_still_holding_caps_past_a_later_apex():
    # a jog on one 6 m street: 600 m east, a 90-degree left corner at (0, 0) (R1 = w / (1 -
    # cos 45 deg) = 20.49 m, cap c1 = sqrt(a_lat R1) = 9.05 m/s, hold R1 pi / 4 = 16.09 m),
    # then 5 m on a 60-degree right corner (R2 = 44.78 m, c2 = 13.38 m/s, hold 23.45 m). From
    # the second apex to the end of the first hold (5 to 16.09 m past the first apex) the
    # speed is still c1, not c2 (only the last apex's hold used to count); after it the
    # vehicle accelerates from c1 (RK4), still below c2
    from rempart.assess.engine.field import vehicle_field

    from ._netbuild import network

    w, a_lat = 6.0, 4.0
    r1, r2 = w / (1 - math.cos(math.radians(45))), w / (1 - math.cos(math.radians(30)))
    c1, c2 = math.sqrt(a_lat * r1), math.sqrt(a_lat * r2)
    h1 = r1 * math.pi / 4
    heading = math.radians(60.0)  # from north, clockwise, after the right turn
    far = (400 * math.sin(heading), 5.0 + 400 * math.cos(heading))
    net = network([road([(-600.0, 0.0), (0.0, 0.0), (0.0, 5.0), far], "secondary", width="6")])
    truck = vehicle("truck", top_kmh=90.0, lat=a_lat, width=2.5)
    vf = vehicle_field(net, truck)
    assert net.n_links == 1
    apex = float(net.pt_s[1])  # the first corner, 600 m from the way's start
    past = np.array([7.0, 10.0, 15.0, h1 + 6.0])
    got = vf.speed_at_ms(np.zeros(past.size, dtype=np.int64), apex + past)
    np.testing.assert_allclose(got[:3], c1, atol=0.01)
    want = _speed_after(truck.acceleration, 25.0, c1, 6.0)
    assert got[3] == pytest.approx(want, abs=0.02)
    assert want < c2 - 1.0
