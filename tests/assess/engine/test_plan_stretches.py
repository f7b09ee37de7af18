"""The barrier plan covers every edge stretch (issue 10 items 5, 6; docs/method.md section 4,
"Edge stretches in the plan"). Hand-built OSM worlds; expected lengths from the geometry built,
ratings from the standard's test speeds, speeds from the vehicle's acceleration curve, prices
from the cost table.

Square world: the site x in [-30, 30], y in [0, 40], closed by buildings 1 m off on its west,
north and east sides (their fronts at x = -31 and x = +31 down to y = -3); an avenue from the
south, x = 0, y from -600 to -112, in a 12 m canyon of buildings (x = -6 to 6) up to y = -120,
then an open square (unmapped ground, buildings at x = -40 and x = 40 to the sides) up to the
site. The avenue ends 112 m short of the site: no road crossing, no frontage; the straight-on
run across the square reaches the south edge at the truck's 90 km/h.
"""

from __future__ import annotations

import dataclasses
import gc
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import shapely

from rempart.assess.engine import drivable as drivable_mod
from rempart.assess.engine import plan_stretches
from rempart.assess.engine import run as run_mod
from rempart.assess.engine.entries import Entry, VehicleEntry
from rempart.assess.engine.plan import Plan, Position, default_costs
from rempart.assess.engine.ratings import EXCEEDS, TEST_SPEEDS_KMH
from rempart.assess.engine.run import AssessOptions, SiteResult, assess
from rempart.assess.engine.speed import Kinematics

from ._netbuild import Way, lonlat, road, square, vehicle, write_osm

SITE = square(-30.0, 0.0, 30.0, 40.0)
SITE_XY = shapely.box(-10.0, 0.0, 10.0, 20.0)
TRUCK = vehicle("T", width=2.0)  # 7.2 t N2A, 90 km/h top
WIDTH_M = 2.0
CELL_M = 1.0
#: the fronts either side of the site's south edge: a 62 m gap
GAP_M = 62.0


def block(x0: float, y0: float, x1: float, y1: float) -> Way:
    return ({"building": "yes"}, [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)])


SQUARE_WORLD: list[Way] = [
    road([(0.0, -600.0), (0.0, -112.0)]),
    block(-400.0, -620.0, -6.0, -120.0),
    block(6.0, -620.0, 400.0, -120.0),
    block(-6.0, -700.0, 6.0, -621.0),
    block(-400.0, -120.0, -40.0, 400.0),
    block(40.0, -120.0, 400.0, 400.0),
    block(-40.0, -3.0, -31.0, 400.0),
    block(31.0, -3.0, 40.0, 400.0),
    block(-31.0, 41.0, 31.0, 400.0),
]


def run(tmp_path: Path, ways: list[Way], vehicles: list[Any], **options: Any) -> SiteResult:
    osm = write_osm(tmp_path / "case.osm", ways)
    return assess(osm, [("site", SITE)], vehicles, options=AssessOptions(**options))[0]


def local_y(res: SiteResult, y: float) -> float:
    """The network's local y (m) of a point of this file's metric frame (on x = 0)."""
    lon, lat = lonlat(0.0, y)
    _, py = res.net.project(np.array([lon]), np.array([lat]))
    return float(py[0])


def south_stretch(res: SiteResult) -> Any:
    """The stretch along the south edge (the one facing the square): the most energetic."""
    reached = [e for e in res.entries if e.governing() is not None]
    return max(reached, key=lambda e: e.governing().speed_kmh)


def assert_every_stretch_covered(res: SiteResult) -> None:
    d = res.to_dict()
    numbers = sorted(e.number for e in res.entries)
    cover = {c["number"]: c for c in d["plan"]["stretches"]}
    assert sorted(cover) == numbers
    assert all(c["covered"] for c in cover.values())
    for c in cover.values():
        for k in c["positions"]:
            assert c["number"] in d["plan"]["positions"][k - 1]["covers_stretches"]
    # a reached stretch is either behind the road cut or on a listed position's line
    for e in res.entries:
        c = cover[e.number]
        if e.governing() is None:
            assert c["how"] == "unreached"
        else:
            assert c["how"] in ("road_plan", "stretch_line", "own_line", "along")
            # a reader sees which position protects it, also behind the road cut
            assert c["positions"]


def test_open_square_stretch_gets_a_line_across_the_gap(tmp_path):
    res = run(tmp_path, SQUARE_WORLD, [TRUCK])
    assert res.plan is not None
    stretch = south_stretch(res)
    gov = stretch.governing()
    assert gov.speed_kmh >= 89.0  # straight on across the square at the truck's top speed
    # the required rating: the lowest standard test speed at or above 90 km/h, head-on
    assert gov.rating == "V/7200[N2A]/96/90"
    # no road crossing and no frontage: the road plan has nothing to cut
    assert not [p for p in res.plan.positions if p.link is not None]
    mine = [p for p in res.plan.positions if stretch.number in p.covers_stretches]
    assert len(mine) == 1
    p = mine[0]
    assert p.kind == "linear"
    assert p.closes_between == ["building", "building"]
    # across the gap between the fronts x = -31 and x = +31, each end within the vehicle's
    # half width and one raster cell of its front
    assert GAP_M - WIDTH_M - 2 * CELL_M <= p.length_m <= GAP_M
    (ax, ay), (bx, by) = p.geometry_xy
    assert abs(abs(ax - bx) - p.length_m) < 0.2 and abs(ay - by) < 0.2
    # in front of the site (stand-off 0): between the edge and the fronts' south end (y = -3)
    assert local_y(res, -3.0) <= ay <= local_y(res, 0.0)
    # rated at the stretch's requirement, priced per metre at that rating for the truck's mass
    assert p.rating == gov.rating
    costs = default_costs()
    unit = costs.linear_eur_per_m[96] * costs.factor(7200.0)
    assert p.cost_eur == round(p.length_m * unit)
    assert p.costed
    d = res.to_dict()
    pd = d["plan"]["positions"][res.plan.positions.index(p)]
    assert pd["covers_stretches"] == [stretch.number]
    assert pd["closes_between"] == ["building", "building"] and pd["open_ended"] is False
    assert pd["geometry"]["type"] == "LineString"
    cover = {c["number"]: c for c in d["plan"]["stretches"]}
    assert cover[stretch.number]["how"] == "own_line"
    assert cover[stretch.number]["positions"] == [pd["number"]]
    assert d["plan"]["total_cost_eur"] == round(sum(q.cost_eur for q in res.plan.positions))
    assert_every_stretch_covered(res)


def test_site_with_only_road_crossings_keeps_the_road_plan(tmp_path):
    # a street into the site between building fronts 20 m apart (x = -10 and 10, up to y = -5),
    # the other sides closed 1 m off: every approach comes along the street, so the road cut
    # (one position on the outer way, between the fronts) covers every stretch: no extra line
    site_world = [
        road([(0.0, -600.0), (0.0, -100.0)]),
        road([(0.0, -100.0), (0.0, 20.0)]),
        block(-400.0, -400.0, -10.0, -5.0),
        block(10.0, -400.0, 400.0, -5.0),
        block(-400.0, -5.0, -31.0, 400.0),
        block(31.0, -5.0, 400.0, 400.0),
        block(-31.0, 41.0, 31.0, 400.0),
    ]
    res = run(tmp_path, site_world, [TRUCK])
    assert res.plan is not None
    assert [(p.kind, p.way_id) for p in res.plan.positions] == [("bollards", 1)]
    assert res.plan.positions[0].closes_between == ["building", "building"]
    # the same plan as the road graph alone gives (its lines need the drivable space: same run)
    alone = run(tmp_path, site_world, [TRUCK], offroad=False)
    assert alone.plan is not None
    assert [(p.kind, p.way_id, p.rating) for p in alone.plan.positions] == [
        (p.kind, p.way_id, p.rating) for p in res.plan.positions
    ]
    assert {c.how for c in res.plan.stretches} <= {"road_plan", "unreached"}
    # every reached stretch names the street's position that cuts its road approach
    reached = [c for c in res.plan.stretches if c.how == "road_plan"]
    assert reached and all(c.positions == [1] for c in reached)
    assert_every_stretch_covered(res)


def test_open_street_every_stretch_covered(tmp_path):
    # a street into the site across open ground (nothing mapped around): vehicles can come
    # from anywhere, the road positions are open-ended; every stretch still gets a position
    street = [road([(0.0, -600.0), (0.0, -100.0)]), road([(0.0, -100.0), (0.0, 20.0)])]
    res = run(tmp_path, street, [TRUCK], plan_radius_m=120.0)
    assert_every_stretch_covered(res)
    costs = default_costs()
    for p in res.plan.positions:
        if p.link is None and p.costed:
            speed = int(p.rating.split("/")[2])
            unit = costs.linear_eur_per_m[speed] * costs.factor(7200.0)
            # no designated route here: the whole line at the linear price
            assert p.active_length_m == 0.0
            assert p.cost_eur == round(p.length_m * unit)


#: a vehicle faster than every tested speed: 140 km/h top, 2 m/s2 throughout, so
#: V(x) = sqrt(2 a x): the highest tested speed, 112 km/h, is reached after x = v^2 / (2 a)
FAST = vehicle("F", top_kmh=140.0, curve=((0.0, 2.0), (140.0, 2.0)))
A_MS2 = 2.0
X_112_M = (112.0 / 3.6) ** 2 / (2 * A_MS2)


def test_stretch_beyond_tested_speeds_moves_out_to_a_tested_speed(tmp_path):
    res = run(tmp_path, SQUARE_WORLD, [FAST])
    assert res.plan is not None
    stretch = south_stretch(res)
    gov = stretch.governing()
    assert gov.speed_kmh > max(TEST_SPEEDS_KMH)
    assert gov.rating.endswith(EXCEEDS)
    mine = [p for p in res.plan.positions if stretch.number in p.covers_stretches]
    assert len(mine) == 1
    p = mine[0]
    # never priced as the stretch's untested requirement: a tested rating where the line is
    assert not p.rating.endswith(EXCEEDS) and p.costed
    assert int(p.rating.split("/")[2]) == 112
    # the line stands where the run-up (straight, from rest, along the governing path) gives
    # at most 112 km/h: V(x) <= 112 with x the distance run from the path's start
    sx, sy = gov.runup_tail_xy[0]
    run_m = math.hypot(p.x - sx, p.y - sy)
    assert run_m <= X_112_M + 1e-6
    assert run_m >= X_112_M - 1.5  # the first such point, 1 m steps outward
    assert p.speed_kmh <= 112.0
    assert math.sqrt(2 * A_MS2 * run_m) * 3.6 == pytest.approx(p.speed_kmh, abs=0.2)
    # a line across the 12 m canyon there (the avenue closed with it)
    assert p.closes_between == ["building", "building"]
    assert 12.0 - WIDTH_M - 2 * CELL_M <= p.length_m <= 12.0
    costs = default_costs()
    assert p.cost_eur == round(p.length_m * costs.linear_eur_per_m[112] * costs.factor(7200.0))


def test_stretch_beyond_tested_speeds_is_never_priced_as_tested(tmp_path):
    # with a 100 m planning radius no point of the path within it is slow enough (112 km/h is
    # reached X_112_M m after the start, further than 100 m from the site): not costed
    res = run(tmp_path, SQUARE_WORLD, [FAST], plan_radius_m=100.0)
    assert res.plan is not None
    stretch = south_stretch(res)
    (sx, sy), (ex, ey) = stretch.governing().runup_tail_xy[0], stretch.governing().runup_tail_xy[-1]
    assert math.hypot(ex - sx, ey - sy) - 100.0 > X_112_M  # the premise
    mine = [p for p in res.plan.positions if stretch.number in p.covers_stretches]
    assert len(mine) == 1
    p = mine[0]
    assert p.rating.endswith(EXCEEDS)
    assert not p.costed and p.cost_eur == 0 and p.advice
    d = res.to_dict()
    assert d["plan"]["not_costed"] >= 1
    assert d["plan"]["total_cost_eur"] == round(sum(q.cost_eur for q in res.plan.positions))
    for q in res.plan.positions:
        assert q.costed != q.rating.endswith(EXCEEDS)


def test_assess_sites_keeps_no_raster_per_site(tmp_path, monkeypatch):
    # the drivable rasters of a chunk of sites are dropped once their plans are made: count
    # the live ones when each site's drivable space is built. With chunks of 2, at most the
    # other site of the chunk is alive, never one per site assessed before
    import weakref

    live: list[int] = []
    made: list[Any] = []
    original = drivable_mod.drivable_space

    def counting(*args: Any, **kwargs: Any) -> Any:
        gc.collect()
        live.append(sum(1 for r in made if r() is not None))
        out = original(*args, **kwargs)
        made.append(weakref.ref(out))
        return out

    monkeypatch.setattr(run_mod, "drivable_space", counting)
    monkeypatch.setattr(run_mod, "SITE_CHUNK", 2)
    osm = write_osm(tmp_path / "case.osm", SQUARE_WORLD)
    other = square(-30.0, 60.0, 30.0, 100.0)
    sites = [("a", SITE), ("b", other), ("c", SITE), ("d", other), ("e", SITE)]
    results = assess(osm, sites, [TRUCK])
    assert len(results) == 5 and len(made) == 5
    assert live == [0, 1, 0, 1, 0]
    gc.collect()
    assert all(r() is None for r in made)
    # the same plans as one site at a time
    monkeypatch.setattr(run_mod, "SITE_CHUNK", 1)
    alone = assess(osm, sites, [TRUCK])
    for a, b in zip(results, alone, strict=True):
        assert a.to_dict()["plan"] == b.to_dict()["plan"]


def test_report_renders_a_stretch_position(tmp_path):
    # a position with no road link: named by the stretches it covers, in the HTML and text
    from rempart.assess.engine import report

    res = run(tmp_path, SQUARE_WORLD, [TRUCK])
    stretch = south_stretch(res)
    html = report.to_html([res])
    assert f"in front of edge stretch {stretch.number}" in html
    assert "Edge stretches covered" in html
    assert "linear" in report.to_text([res])
    features = report.to_geojson([res])["features"]
    plan = [f for f in features if f["properties"].get("layer") == "plan"]
    assert plan and plan[0]["properties"]["covers_stretches"] == [stretch.number]


def test_route_run_up_back_along_the_path():
    # the run-up x (m) back along a governing path: on its straight tail (5 m, from x = 100 at
    # its start) x grows with the distance run; on the road pieces, the field's x at the
    # point (a stand-in field: x = s + 1000 * directed link)
    from rempart.assess.engine.plan_stretches import _Route

    class Field:
        def x_at(self, d: Any, s: Any) -> Any:
            return np.asarray(s, dtype=float) + 1000.0 * np.asarray(d)

    route = _Route(Field(), [(0, 0.0, 10.0), (1, 5.0, 25.0)], [(0.0, 0.0), (0.0, 5.0)], 100.0)  # type: ignore[arg-type]
    got = route.x_back_m(np.array([0.0, 3.0, 10.0, 24.0, 30.0, 100.0]))
    # edge: 100 + 5; 3 m back: 102; 5 m into the last piece (s 25 -> 20); 19 m into it
    # (s 6); 5 m into the first piece (s 10 -> 5); beyond the path's start: its start (s 0)
    assert got.tolist() == [105.0, 102.0, 1020.0, 1006.0, 5.0, 0.0]


def test_stretch_line_across_an_access_route_is_active(tmp_path):
    # the open square crossed north-south into the site by a pedestrian way designated
    # an access route (emergency vehicles): the stretch's own line across the square crosses
    # it; over the route's width it is active bollards plus the controller, like a road
    # position, and the run page lists it among the positions to make access points
    world = SQUARE_WORLD + [road([(10.0, -100.0), (10.0, 20.0)], "pedestrian")]
    res = run(tmp_path, world, [TRUCK], access_way_ids=(len(world),))
    assert res.plan is not None
    lines = [p for p in res.plan.positions if p.link is None and p.active_length_m > 0]
    assert lines, [(p.kind, p.link, p.closes_between) for p in res.plan.positions]
    costs = default_costs()
    d = res.to_dict()
    from rempart.assess.access_link import active_positions  # noqa: PLC0415

    for p in lines:
        assert p.active
        speed = int(p.rating.split("/")[2])
        unit = costs.linear_eur_per_m[speed] * costs.factor(7200.0)
        active = (
            costs.bollards(p.active_length_m)
            * costs.active_bollard_eur[speed]
            * costs.factor(7200.0)
        )
        expected = (p.length_m - p.active_length_m) * unit + active + costs.active_position_eur
        assert p.cost_eur == pytest.approx(expected, abs=1.0)
        pd = d["plan"]["positions"][res.plan.positions.index(p)]
        assert pd["barrier"] == "active"
        assert pd in active_positions(SimpleNamespace(result=d))


def _linear_position(geom: list[tuple[float, float]], rating: str) -> Position:
    return Position(
        "linear", 0.0, 0.0, 40.0, 0, rating, "", {}, 0.0, False, 0, None, None, geom, length_m=40.0
    )


def _two_paths() -> tuple[VehicleEntry, VehicleEntry, Entry]:
    """Stretch 1 (edge y = 0, x in [-10, 10]): the truck straight up x = 0 from (0, -100), the
    car diagonally from (-100, -50) to (-5, 0)."""
    truck = VehicleEntry(
        "T", "N2A", 7200.0, 60.0, 1000.0, "V/7200[N2A]/64/90", None,
        runup_start="rest", runup_tail_xy=[(0.0, -100.0), (0.0, 0.0)], rating_speed_kmh=64,
    )  # fmt: skip
    car = VehicleEntry(
        "C", "M1", 1500.0, 100.0, 580.0, "V/1500[M1]/112/90", None,
        runup_start="rest", runup_tail_xy=[(-100.0, -50.0), (-5.0, 0.0)], rating_speed_kmh=112,
    )  # fmt: skip
    stretch = Entry(
        "frontage", 0.0, 0.0, None, None, None, "", [(-10.0, 0.0), (10.0, 0.0)], 20.0,
        [car, truck], number=1,
    )  # fmt: skip
    return truck, car, stretch


def _plan_with_truck_line(truck: VehicleEntry) -> Plan:
    """A plan with one line, y = -10, x in [-20, 20], rated for the truck."""
    line = _linear_position([(-20.0, -10.0), (20.0, -10.0)], str(truck.rating))
    return Plan([line], 0.0, 0.0, "EUR", [], [])


def _fake_context(monkeypatch: Any, vehicles: list[Any]) -> Any:
    """A stretch context without a network: a new line is the vehicle's path itself, at its
    rating on the stretch (``_cache["made"]`` lists (vehicle, alone) per line made)."""
    made: list[tuple[str, bool]] = []

    def own(ctx: Any, e: Entry, ve: VehicleEntry, alone: bool = False) -> tuple[Position, str]:
        made.append((ve.name, alone))
        return _linear_position(list(ve.runup_tail_xy), str(ve.rating)), "own_line"

    monkeypatch.setattr(plan_stretches, "_own_position", own)
    fields = [SimpleNamespace(vehicle=v, kin=Kinematics.of(v)) for v in vehicles]
    ctx = plan_stretches.StretchContext(
        None,
        SITE_XY,
        fields,
        default_costs(),
        None,
        np.zeros(0, bool),
        np.zeros(0, bool),
        0.0,
        200.0,
    )  # type: ignore[arg-type]
    ctx._cache["made"] = made
    return ctx


def test_every_vehicle_worst_path_is_covered(monkeypatch):
    # one stretch (edge y = 0, x in [-10, 10]): the truck (governing) comes straight up x = 0,
    # the car diagonally from (-100, -50), e.g. through a gap only it fits through. A line
    # y = -10, x in [-20, 20] meets the truck's path, not the car's (it crosses y = -10 at
    # x = -100 + 95 * 40 / 50 = -24): the car's path gets a line of its own, rated for the car
    truck, car, stretch = _two_paths()
    assert stretch.governing() is truck  # 7.2 t at 64 km/h outweighs 1.5 t at 112 km/h
    plan = _plan_with_truck_line(truck)
    ctx = _fake_context(monkeypatch, [])
    made = ctx._cache["made"]
    plan_stretches.cover_stretches(plan, ctx, [stretch])
    # the car's path only, rated for the car alone; the truck's path is intercepted
    assert made == [("C", True)]
    assert [p.rating for p in plan.positions] == [truck.rating, car.rating]
    assert plan.stretches[0].positions == [1, 2]
    assert [p.covers_stretches for p in plan.positions] == [[1], [1]]


def test_a_line_rated_for_one_vehicle_is_raised_for_a_heavier_one(monkeypatch):
    # stretch 1 as above: the car's path gets a line rated for the car alone (M1 at 112 km/h,
    # 726 kJ). Stretch 2's truck (7.2 t, constant 1 m/s2 from rest) comes up x = -60 from
    # y = -180 and meets that line where the car's path crosses x = -60, at
    # y = -50 + 50 * 40 / 95, d = 28.95 m back from the edge: there it has run 151.05 m,
    # sqrt(2 * 1 * 151.05) = 62.6 km/h (test speed 64: 1138 kJ), not the 68.3 km/h it
    # reaches at the edge (test speed 80). The line is raised to /64/ and repriced per metre
    # (stretch 1's truck at 75 km/h, 1563 kJ, so that stretch 1 is covered first)
    truck, car, stretch = _two_paths()
    truck = dataclasses.replace(truck, speed_kmh=75.0, rating="V/7200[N2A]/80/90")
    stretch = dataclasses.replace(stretch, vehicles=[car, truck])
    d_m = -(-50.0 + 50.0 * 40.0 / 95.0)
    edge_kmh = math.sqrt(2 * 1.0 * 180.0) * 3.6
    line_kmh = math.sqrt(2 * 1.0 * (180.0 - d_m)) * 3.6
    assert 48.0 < line_kmh <= 64.0 < edge_kmh <= 80.0  # the premise: two test speeds apart
    truck2 = VehicleEntry(
        "T", "N2A", 7200.0, edge_kmh, 1296.0, "V/7200[N2A]/80/90", None,
        runup_start="rest", runup_tail_xy=[(-60.0, -180.0), (-60.0, 0.0)], rating_speed_kmh=80,
    )  # fmt: skip
    second = Entry(
        "frontage", -60.0, 0.0, None, None, None, "", [(-70.0, 0.0), (-50.0, 0.0)], 20.0,
        [truck2], number=2,
    )  # fmt: skip
    plan = _plan_with_truck_line(truck)
    t = vehicle("T", curve=((0.0, 1.0), (90.0, 1.0)))
    ctx = _fake_context(monkeypatch, [t, vehicle("C", mass=1500, test_class="M1")])
    plan_stretches.cover_stretches(plan, ctx, [second, stretch])
    car_line = plan.positions[1]
    assert car_line.rating == "V/7200[N2A]/64/90"
    assert car_line.ratings["T"] == "V/7200[N2A]/64/90"
    costs = default_costs()
    assert car_line.cost_eur == round(40.0 * costs.linear_eur_per_m[64] * costs.factor(7200.0))
    cover = {c.number: c for c in plan.stretches}
    assert cover[2].how == "stretch_line" and cover[2].positions == [2]
    assert car_line.covers_stretches == [1, 2]


def test_a_lighter_vehicle_from_the_road_is_checked_along_its_road_run_up(tmp_path):
    # the square world with the avenue from y = -400 (canyon closed there). The fast truck
    # (2.5 m wide, 2 m/s2 to 140 km/h) runs from rest up the canyon: its line stands where
    # sqrt(2 a x) = 112 km/h, x = X_112_M from its start. The car (1.8 m wide, 1.5 t M1,
    # 1 m/s2 to 110 km/h) drives the avenue and runs on across the square: 400 m from rest,
    # sqrt(2 * 1 * 400) = 101.8 km/h, test speed 112. Its straight run alone meets no line,
    # but its road run-up crosses the truck's line in the canyon: both paths intercepted, by
    # the one line, rated for the truck; no second line across the square
    fast = vehicle("F", top_kmh=140.0, width=2.5, curve=((0.0, 2.0), (140.0, 2.0)))
    car = vehicle("C", 110.0, width=1.8, mass=1500, test_class="M1", curve=((0, 1.0), (110, 1.0)))
    world = [road([(0.0, -400.0), (0.0, -112.0)]), block(-6.0, -700.0, 6.0, -401.0)] + [
        w for w in SQUARE_WORLD[1:] if w[1][0] != (-6.0, -700.0)
    ]
    res = run(tmp_path, world, [fast, car])
    assert res.plan is not None
    stretch = south_stretch(res)
    mine = {v.name: v for v in stretch.vehicles}
    assert stretch.governing() is mine["F"]
    assert mine["C"].speed_kmh == pytest.approx(math.sqrt(2 * 1.0 * 400.0) * 3.6, abs=0.5)
    assert mine["C"].rating == "V/1500[M1]/112/90"
    assert [p.covers_stretches for p in res.plan.positions] == [[stretch.number]]
    (p,) = res.plan.positions
    assert p.rating == "V/7200[N2A]/112/90" and p.ratings["C"] == "V/1500[M1]/112/90"
    assert p.closes_between == ["building", "building"]
    sx, sy = mine["F"].runup_tail_xy[0]  # where the truck starts from rest
    assert X_112_M - 1.5 <= math.hypot(p.x - sx, p.y - sy) <= X_112_M + 1e-6
    assert_every_stretch_covered(res)


def test_a_position_met_by_a_faster_path_is_raised_to_its_rating(tmp_path):
    # a site closed 1 m off on three sides; from the south a street in a 20 m canyon closed
    # 200 m out, and beside it a 3.2 m passage between buildings running 400 m south into open
    # ground (straight at the edge x = -20): vehicles run up the passage from rest further than
    # along the street. The road cut's line across the whole south front was rated for the
    # street's speeds; every vehicle's worst path to every stretch must meet a position rated
    # at least its required test (lowest standard test speed at or above its speed, test mass)
    truck = vehicle("T", width=2.5)
    car = vehicle("C", 110.0, width=1.8, mass=1500, test_class="M1", curve=((0, 1.0), (110, 1.0)))
    world = [
        road([(0.0, -200.0), (0.0, -100.0)]),
        road([(0.0, -100.0), (0.0, 20.0)]),
        block(-400.0, -400.0, -21.6, -5.0),
        block(-18.4, -400.0, -10.0, -5.0),
        block(-10.0, -400.0, 10.0, -201.0),
        block(10.0, -400.0, 400.0, -5.0),
        block(-400.0, -5.0, -31.0, 400.0),
        block(31.0, -5.0, 400.0, 400.0),
        block(-31.0, 41.0, 31.0, 400.0),
    ]
    res = run(tmp_path, world, [truck, car])
    assert res.plan is not None
    fastest = max(v.speed_kmh or 0.0 for e in res.entries for v in e.vehicles if v.name == "T")
    assert fastest > 80.0  # the premise: faster than the street allows (its cut was /80)
    cover = {c.number: c for c in res.plan.stretches}
    mass = {"T": 7200.0, "C": 1500.0}
    for e in res.entries:
        for v in e.vehicles:
            if v.speed_kmh is None:
                continue
            test_kmh = min(s for s in TEST_SPEEDS_KMH if s >= v.speed_kmh - 1e-9)
            need_kj = 0.5 * mass[v.name] * (test_kmh / 3.6) ** 2 / 1000.0
            got = [res.plan.positions[k - 1] for k in cover[e.number].positions]
            best = max(
                0.5 * mass_of(p.rating) * (speed_of(p.rating) / 3.6) ** 2 / 1000 for p in got
            )
            assert best >= need_kj - 1e-6, (e.number, v.name, v.speed_kmh, [p.rating for p in got])
    costs = default_costs()
    for p in res.plan.positions:
        if p.kind == "bollards" and p.active_length_m == 0 and p.costed:
            unit = costs.fixed_bollard_eur[speed_of(p.rating)] * costs.factor(mass_of(p.rating))
            assert p.cost_eur == round(p.n_bollards * unit)
    assert_every_stretch_covered(res)


def mass_of(rating: str) -> float:
    return float(rating.split("/")[1].split("[")[0])


def speed_of(rating: str) -> int:
    return int(rating.split("/")[2])


def test_road_walks_done_together_are_the_walks_one_by_one(tmp_path):
    # the world of the lighter-vehicle test: the car runs on from the avenue (y = -400 to
    # -112, from rest at its closed south end) across the square. The plan walks the road
    # run-up of every off-road run from a road once, all of them in one vectorised walk per
    # vehicle (_walk_roads). Each walk is the one-point-at-a-time reference walk, and the
    # car's is the whole avenue from rest: 288 m, the car's run-up from rest
    fast = vehicle("F", top_kmh=140.0, width=2.5, curve=((0.0, 2.0), (140.0, 2.0)))
    car = vehicle("C", 110.0, width=1.8, mass=1500, test_class="M1", curve=((0, 1.0), (110, 1.0)))
    world = [road([(0.0, -400.0), (0.0, -112.0)]), block(-6.0, -700.0, 6.0, -401.0)] + [
        w for w in SQUARE_WORLD[1:] if w[1][0] != (-6.0, -700.0)
    ]
    res = run(tmp_path, world, [fast, car])
    from rempart.assess.engine._reference import runup_path_reference  # noqa: PLC0415

    ctx = plan_stretches.StretchContext(
        res.net, SITE_XY, res.fields, default_costs(), None, np.zeros(0, bool),
        np.zeros(0, bool), 0.0, 200.0,
    )  # type: ignore[arg-type]  # fmt: skip
    plan_stretches._walk_roads(ctx, [(e, ve) for e in res.entries for ve in e.vehicles])
    walks = ctx.shared["walks"]
    assert any(name == "C" for name, _, _ in walks)
    fields = {vf.vehicle.name: vf for vf in res.fields}
    for (name, d, s), pieces in walks.items():
        ref = runup_path_reference(res.net, fields[name], d, s)
        assert pieces == ref[0]
        if name == "C":
            assert ref[2] == "rest" and ref[3] == 0.0
            assert sum(b - a for _, a, b in pieces) == pytest.approx(288.0, abs=1.0)
