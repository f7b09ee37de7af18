"""Barrier lines close where the gap is narrowest: turned and slid lines (issue 10 item 5;
docs/method.md section 4, "Barrier lines"). Hand-built OSM worlds; expected lengths from the
geometry built, prices from the cost table.

The open-square world of test_plan_stretches (site x in [-30, 30], y in [0, 40], closed 1 m
off on three sides; an avenue ending 112 m short of the south edge, the truck straight on
across the square at 90 km/h) with a funnel in front of the south edge: two buildings whose
fronts are skewed, the west one's corner at (-10, -4), its front running south-west to
(-28, -45); the east one's corner at (10, -10), its front running south-east to (28, -51).
The gap is narrowest between the two corners (each front and each north face leaves the
corner-to-corner segment at more than 90 degrees), 20.9 m apart, a segment that crosses
the truck's path (x = 0) at y = -7, 6 m further out than the first point 1 m clear of the
edge; the line square to the path there runs 62 m between the fronts beside the site.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from rempart.assess.engine.plan import default_costs
from rempart.assess.engine.plan_lines import CAP_M, STANDOFF_TOLERANCE_M, TURN_MAX_DEG
from rempart.assess.engine.run import assess

from ._netbuild import Way, lonlat, road, write_osm
from .test_plan_lines import SITE as STREET_SITE
from .test_plan_lines import TRUCK as STREET_TRUCK
from .test_plan_lines import block, n_bollards
from .test_plan_stretches import (
    CELL_M,
    GAP_M,
    SQUARE_WORLD,
    TRUCK,
    WIDTH_M,
    run,
    south_stretch,
)

WEST_CORNER = (-10.0, -4.0)
EAST_CORNER = (10.0, -10.0)
WEST: Way = (
    {"building": "yes"},
    [(-40.0, -4.0), WEST_CORNER, (-28.0, -45.0), (-40.0, -45.0), (-40.0, -4.0)],
)
EAST: Way = (
    {"building": "yes"},
    [EAST_CORNER, (40.0, -10.0), (40.0, -51.0), (28.0, -51.0), EAST_CORNER],
)
FUNNEL = [*SQUARE_WORLD, WEST, EAST]


def local(res: Any, x: float, y: float) -> tuple[float, float]:
    """The network's local coordinates (m) of a point of this file's metric frame."""
    lon, lat = lonlat(x, y)
    px, py = res.net.project(np.array([lon]), np.array([lat]))
    return float(px[0]), float(py[0])


def governing_line(res: Any) -> Any:
    """The one position covering the south stretch (the truck straight on at 90 km/h)."""
    assert res.plan is not None
    stretch = south_stretch(res)
    mine = [p for p in res.plan.positions if stretch.number in p.covers_stretches]
    assert len(mine) == 1
    return stretch, mine[0]


def test_funnel_line_closes_between_the_skewed_corners(tmp_path: Path) -> None:
    res = run(tmp_path, FUNNEL, [TRUCK])
    stretch, p = governing_line(res)
    gov = stretch.governing()
    assert gov.rating == "V/7200[N2A]/96/90"  # straight on at 90 km/h
    corner_m = math.dist(local(res, *WEST_CORNER), local(res, *EAST_CORNER))
    assert abs(corner_m - math.hypot(20.0, 6.0)) < 0.1
    assert p.kind == "linear" and p.closes_between == ["building", "building"]
    # across the funnel's throat, not the 62 m between the fronts beside the site: each end
    # within the vehicle's half width and a raster cell of its corner's building
    assert corner_m - WIDTH_M - 2 * CELL_M <= p.length_m <= corner_m
    assert p.length_m < GAP_M - WIDTH_M - 2 * CELL_M
    line = shapely.LineString(p.geometry_xy)
    ends = [shapely.Point(xy) for xy in p.geometry_xy]
    for front in (WEST, EAST):
        building = shapely.Polygon([local(res, x, y) for x, y in front[1]])
        assert min(end.distance(building) for end in ends) <= WIDTH_M / 2 + 2 * CELL_M
    # it crosses the truck's path, and stands clear of the site (stand-off 0: outside it)
    assert line.intersects(shapely.LineString(gov.runup_tail_xy))
    assert line.distance(res.geometry_xy) > 0.0
    # priced per metre at the stretch's rating for the truck's mass
    assert p.rating == gov.rating and p.costed
    costs = default_costs()
    assert p.cost_eur == round(p.length_m * costs.linear_eur_per_m[96] * costs.factor(7200.0))
    d = res.to_dict()
    pd = d["plan"]["positions"][res.plan.positions.index(p)]
    assert pd["geometry"]["type"] == "LineString" and len(pd["geometry"]["coordinates"]) == 2
    assert pd["length_m"] == p.length_m and pd["open_ended"] is False
    # the report's map draws the line as it stands, turned: a two-point position line at the
    # line's angle (degrees modulo 180; the map's north is up, y pixels grow southward)
    from rempart.assess.engine import report

    html = report.to_html([res])
    (ax, ay), (bx, by) = p.geometry_xy
    want = math.degrees(math.atan2(by - ay, bx - ax)) % 180.0
    assert 3.0 < want < 177.0  # the premise: a skewed line, not east-west
    drawn = []
    for pts in re.findall(
        r'<polyline points="([^"]+)" stroke="#[0-9a-f]{6}" stroke-width="3"', html
    ):
        xy = [tuple(map(float, q.split(","))) for q in pts.split()]
        if len(xy) == 2:
            (x1, y1), (x2, y2) = xy
            drawn.append(math.degrees(math.atan2(y1 - y2, x2 - x1)) % 180.0)
    assert any(min(abs(a - want), 180.0 - abs(a - want)) < 1.0 for a in drawn), (want, drawn)


def test_a_turned_line_stays_clear_of_the_stand_off(tmp_path: Path) -> None:
    # 8 m stand-off: the west corner (4 m from the edge) lies inside it; no line comes closer
    # to the site than the stand-off less the 2 m tolerance along the stand-off line. The
    # truck's line still closes across the funnel on the two buildings, further out: no
    # shorter than the corners' distance (the shortest segment between the buildings) less
    # the half widths and a cell at each end
    standoff_m = 8.0
    res = run(tmp_path, FUNNEL, [TRUCK], standoff_m=standoff_m)
    assert res.plan is not None and res.plan.positions
    for q in res.plan.positions:
        line = shapely.LineString(q.geometry_xy)
        assert line.distance(res.geometry_xy) >= standoff_m - STANDOFF_TOLERANCE_M - 0.5
    _, p = governing_line(res)
    corner_m = math.dist(local(res, *WEST_CORNER), local(res, *EAST_CORNER))
    assert p.closes_between == ["building", "building"]
    assert corner_m - WIDTH_M - 2 * CELL_M <= p.length_m < GAP_M - WIDTH_M - 2 * CELL_M


def test_a_turned_line_never_crosses_another_carriageway(tmp_path: Path) -> None:
    # a street running north to 3.5 m short of the edge through the funnel's west half,
    # x = -7 at y = -40 to x = -6 at y = -3.5: it crosses the corner-to-corner segment (at
    # x = -6 that runs at y = -5.2). No line crosses its carriageway (or any other than its
    # own); the truck's line closes on buildings at both ends all the same, around it
    street = road([(-7.0, -40.0), (-6.0, -3.5)])
    res = run(tmp_path, [*FUNNEL, street], [TRUCK])
    assert res.plan is not None
    net = res.net
    for q in res.plan.positions:
        line = shapely.LineString(q.geometry_xy)
        crossed = net.link_tree.query(line, predicate="intersects")
        assert all(q.link is not None and int(k) == q.link for k in crossed), (q.kind, crossed)
    _, p = governing_line(res)
    assert p.closes_between == ["building", "building"]
    corner_line = shapely.LineString([local(res, *WEST_CORNER), local(res, *EAST_CORNER)])
    street_line = shapely.LineString([local(res, -7.0, -40.0), local(res, -6.0, -3.5)])
    assert corner_line.intersects(street_line)  # the premise
    assert not shapely.LineString(p.geometry_xy).intersects(street_line)


def test_a_road_position_turns_to_close_between_offset_fronts(tmp_path: Path) -> None:
    # the street of test_plan_lines (x = 0, from the south) split at y = -210; a building
    # west of it from y = -200 north (its south-east corner at (-20, -200)) and one east of it
    # from y = -208 south (its north-west corner at (20, -208)). Square to the street, a line
    # near y = -205 passes between them, open at both ends (priced 2 x 60 m); turned, it closes
    # on the two buildings: the cut takes it. Its length is at least the corners' distance
    # less the half widths and a cell at each end, and at most 40 m / cos 45 degrees
    ways = [
        road([(0.0, -600.0), (0.0, -210.0)]),
        road([(0.0, -210.0), (0.0, -100.0)]),
        road([(0.0, -100.0), (0.0, 20.0)]),
        block(-60.0, -200.0, -20.0, -170.0),
        block(20.0, -238.0, 60.0, -208.0),
    ]
    (res,) = assess(write_osm(tmp_path / "case.osm", ways), [("site", STREET_SITE)], [STREET_TRUCK])
    assert res.plan is not None
    (p,) = [q for q in res.plan.positions if q.way_id == 2]
    assert p.kind == "bollards" and p.closes_between == ["building", "building"]
    corner_m = math.dist(local(res, -20.0, -200.0), local(res, 20.0, -208.0))
    assert corner_m - WIDTH_M - 2 * CELL_M <= p.length_m
    assert p.length_m <= 40.0 / math.cos(math.radians(TURN_MAX_DEG))
    assert p.length_m < 2 * CAP_M  # cheaper than the open square line
    # it crosses its street at the position's point, turned from square (east-west)
    line = shapely.LineString(p.geometry_xy)
    assert line.distance(shapely.Point(p.x, p.y)) < 0.05
    (ax, ay), (bx, by) = p.geometry_xy
    assert 4.9 < math.degrees(math.atan2(by - ay, bx - ax)) % 180.0 < 175.1
    # bollards over its whole length, at the street's test
    costs = default_costs()
    speed = int(p.rating.split("/")[2])
    unit = costs.fixed_bollard_eur[speed] * costs.factor(STREET_TRUCK.mass_kg)
    assert p.n_bollards == n_bollards(p.length_m)
    assert p.cost_eur == round(p.n_bollards * unit)
