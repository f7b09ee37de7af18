"""The off-road model attacked with hand-made cases whose answer physics gives (issue 10,
adversarial review): approaches at an angle to the edge, a gap the vehicle's width +/- 0.1 m,
a barrier rated for exactly the vehicle's mass.

The site is test_offroad's rectangle x in [-50, 50], y in [0, 40] m, open only on its south
edge y = 0; the test truck is 7.2 t, 2 m wide, 4 m/s2 lateral, 90 km/h top.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from shapely.geometry import Polygon, box

from ._netbuild import Way, lonlat, road, vehicle
from .test_offroad import block, canyon, edge_best, run, v_num

LAT_MS2 = 4.0  # the test truck's lateral limit (m/s2)


def _area(poly: Any) -> Way:
    return ({"building": "yes"}, [(float(x), float(y)) for x, y in poly.exterior.coords])


def slanted_street(theta_deg: float, half_m: float, length_m: float, short_m: float) -> list[Way]:
    """A street 2 ``half_m`` wide between buildings, meeting the edge at ``theta_deg`` (its
    axis through the edge point (0, 0)), closed ``length_m`` back along the axis; the road
    runs on the axis from the closed end to ``short_m`` before the edge. The buildings stop
    1 m short of the edge (y = -1)."""
    th = math.radians(theta_deg)
    u = (math.cos(th), math.sin(th))
    n = (-math.sin(th), math.cos(th))

    def at(t: float, o: float) -> tuple[float, float]:
        return (t * u[0] + o * n[0], t * u[1] + o * n[1])

    south = box(-2000.0, -2000.0, 2000.0, -1.0)
    far = -length_m - 80.0
    ways = []
    for o1, o2 in ((half_m, half_m + 300.0), (-half_m - 300.0, -half_m)):
        wall = Polygon([at(far, o1), at(60.0, o1), at(60.0, o2), at(far, o2)])
        ways.append(_area(wall.intersection(south)))
    end = Polygon(
        [
            at(far, -half_m),
            at(-length_m - 1.0, -half_m),
            at(-length_m - 1.0, half_m),
            at(far, half_m),
        ]
    )
    ways.append(_area(end))
    ways.append(road([at(-length_m, 0.0), at(-short_m, 0.0)]))
    return ways


def steered_bound_kmh(theta_deg: float, v_max_kmh: float, room_m: float) -> float:
    """Highest normal speed (km/h) of a vehicle arriving at up to ``v_max_kmh`` in a heading
    ``theta_deg`` to the edge that may turn towards the edge within ``room_m`` of lateral
    room: a turn by ``delta`` at ``v`` needs ``R = v^2 / a_lat`` and moves it ``R (1 - cos
    delta)`` sideways, so ``v sin(theta + delta)`` with ``cos delta >= 1 - room a_lat / v^2``
    (braking first allowed: the best over ``v``)."""
    best = 0.0
    for k in range(1, 4001):
        v = v_max_kmh / 3.6 * k / 4000
        c = 1.0 - room_m * LAT_MS2 / (v * v)
        delta = math.pi if c <= -1.0 else math.acos(c)
        best = max(best, v * math.sin(min(math.radians(theta_deg) + delta, math.pi / 2)))
    return best * 3.6


@pytest.mark.parametrize("theta_deg", [90.0, 60.0, 30.0])
@pytest.mark.parametrize("short_m", [10.0, 50.0])
def test_a_street_at_an_angle_to_the_edge(tmp_path, theta_deg, short_m):
    # a 6 m street 150 m long at theta to the edge: straight on, V(150 m) = 64.7 km/h at theta,
    # normal speed V sin(theta); turning towards the edge at the mouth gains some, within
    # the street's lateral room (2 x (3 - 1) m for the 2 m truck, + 1 m of strip before the
    # edge and 0.5 m of raster precision)
    length = 150.0
    res = run(tmp_path, slanted_street(theta_deg, 3.0, length, short_m))
    best = edge_best(res)
    v = v_num(length)
    straight = v * math.sin(math.radians(theta_deg))
    assert best.speed_kmh >= straight - 0.5
    assert best.speed_kmh <= steered_bound_kmh(theta_deg, v, 4.0 + 1.5) + 0.5
    assert best.impact_speed_kmh <= v + 0.5
    if theta_deg == 90.0:
        assert best.speed_kmh == pytest.approx(v, abs=0.5)
        assert best.impact_angle_deg >= 87.0


def _passage(lo_m: float, hi_m: float) -> list[Way]:
    """A passage x in [lo, hi] from y = -200 to 12 m short of the edge, closed behind, no
    road in it (the one road of the file is out of reach)."""
    return [
        road([(500.0, -100.0), (900.0, -100.0)]),
        block(-400.0, -200.0, lo_m, -12.0),
        block(hi_m, -200.0, 400.0, -12.0),
        block(lo_m, -280.0, hi_m, -201.0),
    ]


@pytest.mark.parametrize("offset_m", [0.0, 0.5])
def test_a_gap_a_little_narrower_than_the_vehicle_closes(tmp_path, offset_m):
    # a 2.5 m truck, a 2.4 m gap: closed; the 12 m strip before the buildings gives glancing
    # runs only (test_offroad's gap test)
    truck = vehicle("T", width=2.5)
    best = edge_best(run(tmp_path, _passage(offset_m - 1.2, offset_m + 1.2), [truck]))
    assert best is None or best.speed_kmh < v_num(30.0)


@pytest.mark.parametrize(
    "offset_m",
    [
        0.0,
        0.5,
        pytest.param(
            0.75,
            marks=pytest.mark.xfail(
                strict=True,
                reason="raster clearance is exact to half a cell only: a 2.6 m gap at this "
                "position closes for a 2.5 m truck (docs/method.md, Not modelled yet)",
            ),
        ),
    ],
)
def test_a_gap_a_little_wider_than_the_vehicle_is_open(tmp_path, offset_m):
    # a 2.5 m truck, a 2.6 m gap 188 m long: it drives through, V(about 200 m) head-on
    truck = vehicle("T", width=2.5)
    best = edge_best(run(tmp_path, _passage(offset_m - 1.3, offset_m + 1.3), [truck]))
    assert best is not None and best.speed_kmh >= v_num(195.0) - 0.5


def test_a_barrier_rated_for_exactly_the_vehicles_mass_stops_it(tmp_path):
    # V/7200[N2A]/80/90 across a 12 m street 20 m before the edge; the street 190 m long from
    # a dead start: the truck arrives at V(180 m) = 69 km/h < 80. At 7,200 kg (the rated mass)
    # it is stopped; at 7,201 kg it is not (a rating covers no heavier vehicle)
    exact = vehicle("T", mass=7200.0)
    heavier = vehicle("H", mass=7201.0)
    a, b = lonlat(-6.0, -20.0), lonlat(6.0, -20.0)
    barrier = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [list(a), list(b)]},
        "properties": {"rating": "V/7200[N2A]/80/90", "name": "gate"},
    }
    ways = [road([(0.0, -200.0), (0.0, -10.0)]), *canyon(6.0, -12.0, bottom_y=-200.0)]
    res = run(tmp_path, ways, [exact, heavier], [barrier])
    stopped = edge_best(res, "T")
    passed = edge_best(res, "H")
    glancing = math.sqrt(2.0 * LAT_MS2 * 11.5) * 3.6  # test_offroad's bound for the strip
    assert stopped.speed_kmh <= max(v_num(21.0) + 0.2, glancing)
    assert passed.speed_kmh >= v_num(196.0) - 0.2


@pytest.mark.parametrize("gap_m", [10.0, 30.0, 100.0])
def test_a_street_along_the_edge(tmp_path, gap_m):
    # a 1,200 m street parallel to the edge gap_m in front of it, at top speed (90 km/h) in
    # front of the site; buildings 5 m behind its centre line, open ground up to the edge.
    # At least the frontage swerve: one arc at the speed v, R = v^2 / a_lat, moving it
    # gap_m towards the edge, normal speed sqrt(2 c a_lat - (c a_lat / v)^2) (section 2).
    # At most what the normal acceleration allows over the depth D free in front of the
    # buildings (D = gap + 5 - 1 m for the truck's half width): the normal component grows at
    # no more than a_lat + the truck's full throttle (2 m/s2), v_n^2 <= 2 (a_lat + 2) D.
    ways = [road([(-600.0, -gap_m), (600.0, -gap_m)]), block(-400.0, -700.0, 400.0, -gap_m - 5.0)]
    best = edge_best(run(tmp_path, ways))
    v = 90.0 / 3.6
    swerve = math.sqrt(2.0 * gap_m * LAT_MS2 - (gap_m * LAT_MS2 / v) ** 2) * 3.6
    ceiling = math.sqrt(2.0 * (LAT_MS2 + 2.0) * (gap_m + 4.0)) * 3.6
    assert swerve - 0.5 <= best.speed_kmh <= ceiling + 0.5


@pytest.mark.parametrize(("street_m", "stopped"), [(60.0, True), (200.0, False)])
def test_a_barrier_tested_at_45_degrees_is_credited_its_normal_speed(tmp_path, street_m, stopped):
    # V/7200[N2A]/80/45 proves 80 sin 45 = 56.6 km/h head-on (ratings.credited_speed_kmh).
    # Across a 12 m street 20 m before the edge: from a dead start street_m - 10 m back the
    # truck arrives at V(street_m - 20 m): V(40) = 45 km/h is stopped, V(180) = 69 km/h is not
    a, b = lonlat(-6.0, -20.0), lonlat(6.0, -20.0)
    barrier = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [list(a), list(b)]},
        "properties": {"rating": "V/7200[N2A]/80/45", "name": "gate"},
    }
    assert (v_num(street_m - 20.0) < 80.0 * math.sin(math.radians(45.0))) == stopped
    ways = [road([(0.0, -street_m), (0.0, -10.0)]), *canyon(6.0, -12.0, bottom_y=-street_m)]
    best = edge_best(run(tmp_path, ways, barriers=[barrier]))
    glancing = math.sqrt(2.0 * LAT_MS2 * 11.5) * 3.6  # test_offroad's bound for the strip
    if stopped:
        assert best.speed_kmh <= max(v_num(21.0) + 0.2, glancing)
    else:
        assert best.speed_kmh >= v_num(street_m - 4.0) - 0.2
