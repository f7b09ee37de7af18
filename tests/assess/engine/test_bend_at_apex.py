"""A bend's cap applies at the bend, not at the junction before it (issue 10 item 7, table row
"a 10-degree turn at a junction, the site edge 5 m later, a bend only inside the site")."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rempart.assess.engine.run import AssessOptions

from ._netbuild import lonlat, road, square, vehicle
from .test_speed import run

NO_PLAN = AssessOptions(plan=False)


def _ways(bend_deg: float) -> list:
    """600 m straight from the west to junction J (0, 0); there the street turns 10 degrees
    left; 20 m on, inside the site, it bends left by ``bend_deg`` over two vertices 10 m apart."""
    h = math.radians(10.0)
    p1 = (20 * math.cos(h), 20 * math.sin(h))
    h2 = h + math.radians(bend_deg / 2)
    p2 = (p1[0] + 10 * math.cos(h2), p1[1] + 10 * math.sin(h2))
    h3 = h2 + math.radians(bend_deg / 2)
    p3 = (p2[0] + 40 * math.cos(h3), p2[1] + 40 * math.sin(h3))
    return [
        road([(-600.0, 0.0), (0.0, 0.0)], "secondary"),
        road([(0.0, 0.0), p1, p2, p3], "secondary"),
    ]


# the site's west edge crosses the turned street 5 m after the junction
EDGE_X = 5 * math.cos(math.radians(10.0))


@pytest.mark.parametrize("bend_deg", [60.0, 90.0])
def test_ten_degree_turn_then_edge_then_bend_inside_the_site(bend_deg):
    # 600 m from rest takes this 90 km/h truck to its top speed (X(90 km/h) is about 500 m);
    # the 10-degree corner's widest line (R = w / (1 - cos 5 deg), thousands of metres) caps
    # nothing, and the bend lies beyond the edge: the truck meets the edge at 90 km/h
    truck = vehicle("truck", top_kmh=90.0, lat=4.0, width=2.5)
    res, _ = run(_ways(bend_deg), square(EDGE_X, -100, 200, 200), [truck], options=NO_PLAN)
    crossings = [e for e in res.road_entries if e.kind == "crossing"]
    assert crossings, "the turned street crosses the site's edge"
    speed = max(e.vehicles[0].speed_kmh or 0.0 for e in crossings)
    assert speed == pytest.approx(90.0, abs=0.05)


def test_the_bend_still_caps_beyond_it():
    # the same street, the site edge now after the 90-degree bend: the bend caps the speed
    # below top speed there (v = sqrt(a_lat R) with R of a few tens of metres)
    truck = vehicle("truck", top_kmh=90.0, lat=4.0, width=2.5)
    ways = _ways(90.0)
    end = ways[1][1][-1]
    # a site around the street's last 10 m, after the bend
    res, _ = run(
        ways, square(end[0] - 15, end[1] - 8, end[0] + 15, end[1] + 30), [truck], options=NO_PLAN
    )
    speeds = [e.vehicles[0].speed_kmh for e in res.road_entries if e.kind == "crossing"]
    assert speeds and max(s or 0.0 for s in speeds) < 75.0


def _speed_after(curve, top_ms: float, v0_ms: float, distance_m: float) -> float:
    """Speed (m/s) after ``distance_m`` at full throttle from ``v0_ms``: dv/dx = a(v) / v,
    integrated with RK4 in 1 cm steps (a(v) linear between the curve's points)."""
    pts = np.array(curve, dtype=float)

    def slope(v: float) -> float:
        if v >= top_ms:
            return 0.0
        return float(np.interp(v * 3.6, pts[:, 0], pts[:, 1])) / v

    v, step = v0_ms, 0.01
    for _ in range(int(round(distance_m / step))):
        k1 = slope(v)
        k2 = slope(v + step * k1 / 2)
        k3 = slope(v + step * k2 / 2)
        k4 = slope(v + step * k3)
        v = min(top_ms, v + step * (k1 + 2 * k2 + 2 * k3 + k4) / 6)
    return v


def test_acceleration_resumes_where_the_widest_line_arc_ends():
    # one 60-degree corner vertex on a 6 m street: widest line R = w / (1 - cos 30 deg)
    # = 44.78 m, cap c = sqrt(a_lat R); the arc R theta is 46.9 m, its second half ends
    # 23.4 m past the apex; the site edge 60 m past the apex is reached after accelerating
    # from c over 60 - 23.4 m, not over 60 m
    w, theta, a_lat, past_apex = 6.0, math.radians(60.0), 4.0, 60.0
    radius = w / (1 - math.cos(theta / 2))
    cap = math.sqrt(a_lat * radius)
    truck = vehicle("truck", top_kmh=90.0, lat=a_lat, width=2.5)
    apex = (0.0, 0.0)
    out = (math.cos(theta), math.sin(theta))
    far = (400 * out[0], 400 * out[1])
    ways = [road([(-600.0, 0.0), apex, far], "secondary", width="6")]
    edge = (past_apex * out[0], past_apex * out[1])
    # a square site whose edge crosses the street 60 m past the apex, at right angles
    # the crossing at the edge 60 m past the apex, entered heading 30 degrees (clockwise from
    # north); the street's far end crosses the opposite edge too, heading 210 degrees
    crossing = crossing_heading_30(ways, edge, out, truck)
    expected = _speed_after(truck.acceleration, 25.0, cap, past_apex - radius * theta / 2)
    assert crossing.vehicles[0].speed_kmh == pytest.approx(expected * 3.6, abs=0.15)
    # the old rule (accelerating from the apex) would give a clearly higher speed
    assert _speed_after(truck.acceleration, 25.0, cap, past_apex) * 3.6 > expected * 3.6 + 2


def _zigzag() -> list[tuple[float, float]]:
    """600 m straight, then single-vertex corners of 60 (left), 90 (right) and 45 (left)
    degrees 100 m apart, then 300 m on: each corner's half arc (R theta / 2 with
    R = w / (1 - cos(theta/2)), 16-31 m on a 6 m street) ends well before the next corner."""
    pts = [(-600.0, 0.0), (0.0, 0.0)]
    heading = 0.0  # radians from east, anticlockwise
    for turn_deg, leg_m in ((60.0, 100.0), (-90.0, 100.0), (45.0, 300.0)):
        heading += math.radians(turn_deg)
        x, y = pts[-1]
        pts.append((x + leg_m * math.cos(heading), y + leg_m * math.sin(heading)))
    return pts


def _speeds_along(ways: list, pts: list[tuple[float, float]], step_m: float) -> np.ndarray:
    """Speed (km/h) of the test truck at every ``step_m`` along the polyline ``pts`` (both
    directions of travel, sampled between vertices), on the network drawn as ``ways``."""
    import shapely
    from shapely.geometry import LineString

    from rempart.assess.engine.field import vehicle_field

    from ._netbuild import network

    net = network(ways)
    truck = vehicle("truck", top_kmh=90.0, lat=4.0, width=2.5)
    vf = vehicle_field(net, truck)
    line = LineString(pts)
    out = []
    for reverse in (False, True):
        for q in np.arange(step_m / 2, line.length, step_m):
            px, py = line.interpolate(line.length - q if reverse else q).coords[0]
            lon, lat = lonlat(px, py)
            x, y = net.project(np.array([lon]), np.array([lat]))
            p = shapely.Point(float(x[0]), float(y[0]))
            dist = shapely.distance(net.link_lines, p)
            link = int(np.argmin(dist))
            s = float(net.link_lines[link].project(p))
            # travelling along the polyline (or against it) is u->v when the link's start is
            # the end of the link nearer the polyline's start (or its end)
            q2 = line.length - q - 0.5 if reverse else q + 0.5
            lon2, lat2 = lonlat(*line.interpolate(q2).coords[0])
            x2, y2 = net.project(np.array([lon2]), np.array([lat2]))
            s2 = float(net.link_lines[link].project(shapely.Point(float(x2[0]), float(y2[0]))))
            fwd = s2 > s
            d = 2 * link if fwd else 2 * link + 1
            s_dir = s if fwd else float(net.link_length_m[link]) - s
            out.append(float(vf.speed_at_ms(np.array([d]), np.array([s_dir]))[0]) * 3.6)
    return np.array(out)


def test_splitting_a_polyline_at_its_vertices_changes_no_speed():
    # the same geometry drawn as one way and as one way per segment (a junction at every
    # vertex): a corner is a bend inside a link in the first, a turn at a junction in the
    # second; the speeds everywhere, both directions, must agree (the earlier failure mode of
    # the arc-end hold: 89.0 instead of 85.9 km/h once a junction was drawn)
    pts = _zigzag()
    whole = [road(pts, "secondary", width="6")]
    split = [road([a, b], "secondary", width="6") for a, b in zip(pts[:-1], pts[1:], strict=True)]
    one = _speeds_along(whole, pts, 5.0)
    many = _speeds_along(split, pts, 5.0)
    assert one.shape == many.shape and np.all(np.isfinite(one))
    np.testing.assert_allclose(one, many, atol=0.05)
    # the corners cap the speed somewhere (the test is not vacuous)
    assert one.min() < 60.0


def crossing_heading_30(ways, edge, out, truck):
    """Run ``ways`` with an 80 m square site whose near edge is centred on ``edge`` (m) and
    square to the unit vector ``out``; the road crossing entered heading 30 degrees."""
    half = 40.0
    n = (-out[1], out[0])
    corners = [
        (edge[0] + n[0] * s + out[0] * t, edge[1] + n[1] * s + out[1] * t)
        for s, t in ((-half, 0), (half, 0), (half, 2 * half), (-half, 2 * half))
    ]
    site = {
        "type": "Polygon",
        "coordinates": [[list(lonlat(*c)) for c in [*corners, corners[0]]]],
    }
    res, _ = run(ways, site, [truck], options=NO_PLAN)
    (crossing,) = [
        e
        for e in res.road_entries
        if e.kind == "crossing" and e.bearing_deg is not None and abs(e.bearing_deg - 30) < 1
    ]
    return crossing


def curve_with_side_street(junction_vertex: int):
    """A 90-degree, 60 m curve drawn with 30 vertices (test_limits._bend), a site 50 m on, run
    for a 4 m/s2 truck as one way (``plain``) and split at ``junction_vertex`` where a side
    street joins (``split``); returns (plain, split, the curve's points in metres)."""
    from .test_limits import _bend

    truck = vehicle(lat=4.0)
    pts = _bend(30)
    end_x, end_y = pts[-1]
    site = square(end_x - 50, end_y - 150, end_x + 50, end_y + 50)
    plain, _ = run([road(pts, width="7")], site, [truck], options=NO_PLAN)
    mx, my = pts[junction_vertex]
    side = road([(mx, my), (mx + 0.6 * mx, my + 0.6 * (my - 60.0))], width="6")
    split, _ = run(
        [road(pts[: junction_vertex + 1], width="7"), road(pts[junction_vertex:], width="7"), side],
        site,
        [truck],
        options=NO_PLAN,
    )
    return plain, split, pts


@pytest.mark.parametrize("junction_vertex", [17, 24])
def test_a_side_street_at_or_after_the_apex_of_a_drawn_curve_changes_no_speed(junction_vertex):
    # a 90-degree, 60 m curve drawn with 30 vertices (test_limits._bend), then a site 50 m on;
    # a side street joining at the curve's middle vertex or after it: the curve is one bend
    # capped at the junction, and the hold after it must start from the bend's apex (its
    # drawn position on the incoming link), so the speed at the edge is the same as without
    # the side street
    from .test_speed import _northbound

    plain, split, _ = curve_with_side_street(junction_vertex)

    def north(res):
        return [e for e in res.road_entries if e.kind == "crossing" and _northbound(e)][0].vehicles[
            0
        ]

    assert north(split).speed_kmh == pytest.approx(north(plain).speed_kmh, abs=0.05)
