"""Frontage sees buildings (issue 10 item 1): the swerve from a way to the site's edge counts
only where its path is drivable for the vehicle.

A street runs parallel to the site's south edge (y = 0) 8 m out, 4 m wide (carriageway
y in [-10, -6]), from x = -600 to 600 m; buildings close the ground south of it (y <= -12).
Between the street and the edge a row of buildings (y in [-4, -2]) may stand, with or without
a gap. Expected values from the swerve model's closed form (docs/method.md section 2): from
the far edge of the carriageway, with lateral room ``c`` = 8 + 2 = 10 m, a vehicle at ``v``
turns at ``R = v^2 / a_lat``; its path is the arc ``R (1 - cos theta)`` across and
``R (sin theta - sin phi)`` along, ``cos phi = 1 - c / R``, and it meets the edge with the
normal speed ``v_n = sqrt(2 c a_lat - (c a_lat / v)^2)`` (``v`` when ``v^2 <= c a_lat``, a full
turn). Road speeds from ``v^2 = 2 a s`` (constant acceleration ``a``, from rest at the far end
of the street).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from rempart.assess.engine.drivable import drivable_space
from rempart.assess.engine.entries import Obstacles, frontage_at, site_entries
from rempart.assess.engine.run import AssessOptions, assess, load_network
from rempart.assess.engine.sites import site_geometry

from ._netbuild import lonlat, road, vehicle, write_osm
from .test_offroad import ENCLOSE, SITE, block

ACCEL_MS2 = 1.5
LAT_MS2 = 4.0
WIDTH_M = 2.0
#: constant acceleration, top speed out of reach: road speed sqrt(2 a s)
FAST = vehicle(
    "fast", top_kmh=250.0, lat=LAT_MS2, width=WIDTH_M, curve=((0, ACCEL_MS2), (250, ACCEL_MS2))
)
#: 20 km/h top (reached after v^2 / 2a = 10.3 m): v^2 = 30.9 <= c a_lat = 40, a full turn
SLOW_KMH = 20.0
SLOW = vehicle(
    "slow", top_kmh=SLOW_KMH, lat=LAT_MS2, width=WIDTH_M, curve=((0, ACCEL_MS2), (250, ACCEL_MS2))
)
STREET_Y, STREET_W, ROOM_M = -8.0, 4.0, 10.0
ROW_Y0, ROW_Y1 = -4.0, -2.0
XS = np.arange(-30.0, 30.5, 1.0)  # edge points tested (m east), on the south edge y = 0


def street_case(row: list[tuple[float, float]] | None) -> list:
    """The street, the ground closed south of it and the row's buildings (x ranges)."""
    ways = [
        road([(-600.0, STREET_Y), (600.0, STREET_Y)], width=str(int(STREET_W))),
        block(-400.0, -400.0, 400.0, -12.0),
    ]
    for x0, x1 in row or []:
        ways.append(block(x0, ROW_Y0, x1, ROW_Y1))
    return ways


def frontage_kmh(tmp_path, ways, vehicles, raster=True):
    """Normal frontage speed (km/h, NaN none) per vehicle at the edge points XS."""
    network = load_network(write_osm(tmp_path / "case.osm", ways + ENCLOSE))
    net = network.net
    site = site_geometry("site", SITE, net)
    fields = network.fields(vehicles)
    x, y = net.project(*np.array([lonlat(float(v), 0.0) for v in XS]).T)
    drv = drivable_space(site, network.features, network.feature_trees, radius_m=100.0)
    excluded = np.zeros(net.n_links, dtype=bool)
    res = frontage_at(net, site, x, y, fields, [], excluded, drivable=drv if raster else None)
    return [r.normal_kmh for r in res]


def swerve_kmh(v_ms: float) -> float:
    c = ROOM_M * LAT_MS2
    if v_ms * v_ms <= c:
        return v_ms * 3.6
    return math.sqrt(2 * c - (c / v_ms) ** 2) * 3.6


def fast_speed_ms(x: float, eastbound: bool) -> float:
    """Road speed at x: from rest at the west (eastbound) or east end, v^2 = 2 a s."""
    return math.sqrt(2 * ACCEL_MS2 * (600.0 + x if eastbound else 600.0 - x))


def path_clearance_m(x: float, v_ms: float, eastbound: bool, gap: tuple[float, float]) -> float:
    """Least distance (m) from the swerve path's centre line to the row's buildings either
    side of the gap ``(x0, x1)``, from the arc's closed form: at lateral offset ``u`` from the
    far kerb the path is ``R (sin theta - sin phi)`` along from the edge point, ``cos theta =
    1 - u / R``, sampled every 1 cm of ``u`` from the near kerb (``u`` = 4 m) to the edge."""
    r = v_ms * v_ms / LAT_MS2
    sin_phi = math.sin(math.acos(1 - ROOM_M / r)) if r > ROOM_M else 1.0
    u = np.arange(STREET_W, ROOM_M + 1e-9, 0.01)
    theta = np.arccos(np.clip(1 - u / r, -1.0, 1.0))
    along = np.where(u < r, r * (np.sin(theta) - sin_phi), 0.0)
    px = x + (1.0 if eastbound else -1.0) * along
    py = u - ROOM_M
    pts = shapely.points(px, py)
    walls = [
        shapely.box(-1000.0, ROW_Y0, gap[0], ROW_Y1),
        shapely.box(gap[1], ROW_Y0, 1000.0, ROW_Y1),
    ]
    return float(min(shapely.distance(pts, w).min() for w in walls))


#: a path this close to a building (m of its centre line) is shut whatever the raster's
#: rounding; one at least half the vehicle and a 1 m cell away is open
SHUT_M, OPEN_M = 0.25, WIDTH_M / 2 + 1.0


def test_without_buildings_the_swerve_formula_holds(tmp_path):
    (fast,) = frontage_kmh(tmp_path, street_case(None), [FAST])
    for x, got in zip(XS, fast, strict=True):
        want = swerve_kmh(fast_speed_ms(abs(x), True))  # the faster way: 600 + |x| m run
        assert got == pytest.approx(want, abs=0.2)
    assert 31.0 < float(np.nanmin(fast)) < 33.0


def test_a_continuous_building_row_shuts_the_frontage(tmp_path):
    fast, slow = frontage_kmh(tmp_path, street_case([(-400.0, 400.0)]), [FAST, SLOW])
    assert np.all(np.isnan(fast)) and np.all(np.isnan(slow))
    # without the raster (the former model) it was rated through the buildings
    fast0, _ = frontage_kmh(tmp_path, street_case([(-400.0, 400.0)]), [FAST, SLOW], False)
    assert np.all(fast0 > 31.0)


@pytest.mark.parametrize("gap_m", [1.5, 6.0])
def test_a_gap_opens_the_swerve_only_if_the_vehicle_fits(tmp_path, gap_m):
    # the slow vehicle turns a full 90 degrees (R = 7.7 m) and crosses the row within 0.2 m
    # of the normal through the edge point: at 20 km/h, head-on, opposite a gap it fits
    gap = (-gap_m / 2, gap_m / 2)
    (slow,) = frontage_kmh(tmp_path, street_case([(-400.0, gap[0]), (gap[1], 400.0)]), [SLOW])
    assert (SLOW_KMH / 3.6) ** 2 / LAT_MS2 < ROOM_M
    n_open = 0
    for x, got in zip(XS, slow, strict=True):
        clear = max(path_clearance_m(float(x), SLOW_KMH / 3.6, e, gap) for e in (True, False))
        if gap_m < WIDTH_M or clear <= SHUT_M:
            assert math.isnan(got), x  # narrower than the vehicle, or into a building
        elif clear >= OPEN_M:
            n_open += 1
            assert got == pytest.approx(SLOW_KMH, abs=0.1), x
    if gap_m > WIDTH_M:
        assert n_open >= 1 and slow[XS == 0.0][0] == pytest.approx(SLOW_KMH, abs=0.1)


def test_a_fast_swerve_needs_the_gap_along_its_slanted_path(tmp_path):
    # at about 42 m/s the swerve meets the edge at 12 degrees: across the 2 m deep row its
    # path runs 11 m along the street, so a 6 m gap (wide enough head-on) shuts it, and a
    # 40 m gap opens it only where the arc (closed form) clears both buildings
    (shut,) = frontage_kmh(tmp_path, street_case([(-400.0, -3.0), (3.0, 400.0)]), [FAST])
    assert np.all(np.isnan(shut))
    gap = (-20.0, 20.0)
    (fast,) = frontage_kmh(tmp_path, street_case([(-400.0, gap[0]), (gap[1], 400.0)]), [FAST])
    n_open = n_shut = 0
    for x, got in zip(XS, fast, strict=True):
        best, unsure = math.nan, False
        for east in (True, False):
            v = fast_speed_ms(float(x), east)
            clear = path_clearance_m(float(x), v, east, gap)
            if clear >= OPEN_M:
                best = swerve_kmh(v) if math.isnan(best) else max(best, swerve_kmh(v))
            elif clear > SHUT_M:
                unsure = True  # close to a wall: the raster's precision decides
        if unsure:
            continue
        if math.isnan(best):
            n_shut += 1
            assert math.isnan(got), x
        else:
            n_open += 1
            assert got == pytest.approx(best, abs=0.2), x
    assert n_open >= 5 and n_shut >= 5


def test_the_assessment_has_no_frontage_through_the_row(tmp_path):
    # neither in the edge profile (raster) nor in the road-graph entries the plan is built on
    # (obstacle geometry); without the row both have it
    def assessed(row):
        osm = write_osm(tmp_path / "case.osm", street_case(row) + ENCLOSE)
        return assess(osm, [("site", SITE)], [FAST], options=AssessOptions(plan=False))[0]

    res = assessed([(-400.0, 400.0)])
    assert res.edge is not None
    assert "frontage" not in res.edge["sources"]["fast"]
    assert all(e.source != "frontage" for e in res.entries)
    assert [e for e in res.road_entries if e.kind == "frontage"] == []
    open_res = assessed(None)
    assert open_res.edge is not None
    # without the row the edge opposite the street is rated at least at the swerve's normal
    # speed: by the frontage model, or by a bent off-road run leaving the street that beats it
    # (since the one-bend search, it does: it counts the acceleration along its arc)
    normal = [v for v in open_res.edge["normal_speeds_kmh"]["fast"] if v is not None]
    swerve = swerve_kmh(fast_speed_ms(0.0, eastbound=True))
    assert max(normal) >= swerve - 0.5
    assert [e for e in open_res.road_entries if e.kind == "frontage"]


def _road_graph_frontage(tmp_path, ways, vehicles, obstacles: bool):
    network = load_network(write_osm(tmp_path / "case.osm", ways + ENCLOSE))
    net = network.net
    site = site_geometry("site", SITE, net)
    fields = network.fields(vehicles)
    obs = Obstacles.of(network.features, [site]) if obstacles else None
    ((_, frontage),) = site_entries(net, [site], fields, obstacles=obs)
    return [e for e in frontage if shapely.Point(e.x, e.y).distance(site.boundary) < 1.0]


def test_road_graph_frontage_sees_the_buildings(tmp_path):
    # without obstacles (the former model) the south edge is frontage; with the features'
    # obstacle geometry a continuous row shuts it, a 1.5 m gap too, a 6 m gap opens it for
    # the slow vehicle at its 20 km/h, head-on
    row = street_case([(-400.0, 400.0)])
    assert _road_graph_frontage(tmp_path, row, [SLOW], obstacles=False)
    assert _road_graph_frontage(tmp_path, row, [SLOW], obstacles=True) == []
    narrow = street_case([(-400.0, -0.75), (0.75, 400.0)])
    assert _road_graph_frontage(tmp_path, narrow, [SLOW], obstacles=True) == []
    wide = street_case([(-400.0, -3.0), (3.0, 400.0)])
    (entry,) = _road_graph_frontage(tmp_path, wide, [SLOW], obstacles=True)
    (ve,) = entry.vehicles
    assert ve.speed_kmh == pytest.approx(SLOW_KMH, abs=0.1)
    assert entry.length_m <= 5.0 + 1e-6  # the one 5 m sample opposite the gap
    # the site's own building is no obstacle
    own = street_case(None) + [block(-50.0, 0.0, 50.0, 40.0)]
    assert _road_graph_frontage(tmp_path, own, [SLOW], obstacles=True)
