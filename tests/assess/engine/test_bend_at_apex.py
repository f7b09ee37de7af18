"""A bend's cap applies at the bend, not at the junction before it (issue 10 item 7, table row
"a 10-degree turn at a junction, the site edge 5 m later, a bend only inside the site")."""

from __future__ import annotations

import math

import pytest

from rempart.assess.engine.run import AssessOptions

from ._netbuild import road, square, vehicle
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
    crossings = [e for e in res.entries if e.kind == "crossing"]
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
    speeds = [e.vehicles[0].speed_kmh for e in res.entries if e.kind == "crossing"]
    assert speeds and max(s or 0.0 for s in speeds) < 75.0
