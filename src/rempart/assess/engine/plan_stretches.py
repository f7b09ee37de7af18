"""Every edge stretch covered by the barrier plan (issue 10 items 5, 6; docs/method.md section
4, "Edge stretches in the plan").

The road-graph cut (:func:`.plan.plan_sites`) is placed first: it may stop the run-up of
crossings and frontage further out, cheaper. Then, stretch by stretch (most energetic
requirement first), the governing vehicle's worst path (:func:`.entries.runup_xy`, start to
edge), then every other vehicle's, is tested against the plan (a line made for a vehicle's
path alone is rated for that vehicle; a line a heavier vehicle's path meets is raised to it):

- it is intercepted where it crosses a position's line, or where it leaves the road network
  behind the cut (its road start lies on a link both of whose nodes are behind the cut, or on a
  cut link beyond the position from the side the vehicles come from);
- otherwise the stretch gets a position of its own: a barrier line across the drivable gap
  its path uses (:func:`.plan_lines.barrier_lines`, across the path where it passes the
  stand-off line, turned or slid outward where the gap is narrower, so closing between
  building fronts, walls, water or rated barriers,
  stopping at other carriageways, within the planning radius) or, where that line would be
  open-ended or clipped, a line along the stretch at the stand-off. It is priced by its length
  at the required rating per metre (``CostTable.price`` of ``linear_eur_per_m``; the part
  across a designated access route as active bollards, so the route stays passable).

A stretch whose required rating exceeds every tested speed is never priced as if a tested
product existed: its line moves out along the path, where the run-up is shorter, to the first
point at which the governing vehicle's speed ``V(x - d)`` (its acceleration curve, ``x`` the
equivalent run-up at the edge, ``d`` the distance back along the path) has a tested rating,
within the planning radius; where there is none the position is not costed and says so
(:data:`.ratings.EXCEEDS_ADVICE`). Local CRS (metres) throughout.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from .drivable import Drivable, Features
from .entries import Entry, PieceCache, VehicleEntry, runup_path, runup_xy, runups
from .field import VehicleField
from .graph import FloatArray, Network
from .offroad import RatedShape
from .plan import CostTable, Plan, Position, StretchCover, _away_from_site
from .plan_lines import Lines, Origins, along_path, barrier_lines, carriageway_links, slide_origins
from .ratings import (
    EXCEEDS,
    EXCEEDS_ADVICE,
    TEST_SPEEDS_KMH,
    Rating,
    parse_rating,
    required_rating,
)

#: Tolerance (m) within which a path meets a position's line (the lines are built on the
#: 1 m raster and the paths on 2 m edge samples). ASSUMPTION: a quarter of a raster cell.
MEET_M = 0.25
#: The own line of a stretch stands this far (m) outside the stand-off line along the path, so
#: that its march starts on free ground (one raster cell).
CLEAR_M = 1.0
#: Step (m) of the search outward along the path for a tested speed.
OUTWARD_STEP_M = 1.0
#: A road start lies on its way's carriageway or pavement: the links of its way within this
#: distance (m) of it are its candidates, the nearest taken. ASSUMPTION: half of a wide
#: carriageway plus the pavement allowance (graph.MAX_PAVEMENT_WIDTH_M) is under 20 m.
ROAD_START_M = 20.0
#: A line across the gap shorter than this (m) is no line (the path runs on a carriageway or
#: between closed cells): the stretch gets a line along it instead.
MIN_LINE_M = 1.0


@dataclass(frozen=True)
class StretchContext:
    """What the stretch positions of one site are built from (local metres)."""

    net: Network
    site: BaseGeometry
    fields: Sequence[VehicleField]
    costs: CostTable
    drv: Drivable
    access: NDArray[np.bool_]
    grade: NDArray[np.bool_]
    standoff_m: float
    plan_radius_m: float
    features: Features | None = None
    trees: Any = None
    rated: Sequence[RatedShape] = ()
    _cache: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)
    #: what does not depend on the site (road run-up walks, road starts, paths, road pieces'
    #: points): the same dict may be given to the contexts of sites on one network with the
    #: same ``fields``, so that they share it (:func:`_walk_roads`)
    shared: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    def pieces(self) -> PieceCache:
        """The road pieces' geometry, built once (:func:`.entries.runup_xy`)."""
        return self.shared.setdefault("pieces", {})  # type: ignore[no-any-return]

    def usable(self) -> NDArray[np.bool_]:
        """(L,) bool: links some vehicle can use (computed once per context)."""
        cache = self._cache
        if "usable" not in cache:
            usable = np.zeros(self.net.n_links, dtype=bool)
            for vf in self.fields:
                usable |= vf.link_ok
            cache["usable"] = usable
        return cache["usable"]  # type: ignore[no-any-return]


def cover_stretches(plan: Plan, ctx: StretchContext, stretches: Sequence[Entry]) -> None:
    """Add to ``plan`` a position for every stretch whose governing threat the placed
    positions do not intercept, and record per stretch how it is covered
    (``plan.stretches``, positions' ``covers_stretches``)."""
    order = sorted(stretches, key=lambda e: -_energy(e))
    # per stretch its threats, governing vehicle first, then every other vehicle's worst path
    # (a lighter vehicle may come by another path, a gap only it fits through, that no position
    # intercepts; its line is rated for it)
    threats: list[tuple[Entry, list[VehicleEntry]]] = []
    for e in order:
        ve = e.governing()
        vs = [] if ve is None else [ve]
        if ve is not None:
            vs += [
                o for o in e.vehicles if not (o is ve or o.speed_kmh is None or o.name == ve.name)
            ]
        threats.append((e, vs))
    flat = [(e, v) for e, vs in threats for v in vs]
    meets = _Meets(flat, [runup_xy(ctx.net, v, ctx.pieces()) for _, v in flat], plan.positions)
    covers: dict[int, StretchCover] = {}
    own: set[int] = set()  # indices of the stretches' own positions
    j = 0  # the threat's index in ``flat``
    for e, vs in threats:
        number = int(e.number or 0)
        if not vs:
            covers[number] = StretchCover(number, True, "unreached")
            continue
        how, positions = _cover_threat(plan, ctx, e, vs[0], own, False, meets, j)
        for k, other in enumerate(vs[1:], start=1):
            positions += _cover_threat(plan, ctx, e, other, own, True, meets, j + k)[1]
        j += len(vs)
        for k in sorted(set(positions)):
            if number not in plan.positions[k - 1].covers_stretches:
                plan.positions[k - 1].covers_stretches.append(number)
        covers[number] = StretchCover(number, True, how, sorted(set(positions)))
    plan.stretches = [covers[k] for k in sorted(covers)]
    for p in plan.positions:
        p.covers_stretches.sort()
    plan.total_cost_eur = float(sum(p.cost_eur for p in plan.positions if p.costed))


class _Meets:
    """The worst paths of a site's threats (stretch and vehicle entry; the path start to
    edge, local m) and, per path, the indices of the positions whose line it meets (within
    ``MEET_M``, ascending), kept up to date as positions are appended (:meth:`add`): one bulk
    query of a tree of the paths per line instead of one test of every line per path (a tree
    query with a margin, then the same ``shapely.dwithin`` test)."""

    def __init__(
        self,
        threats: list[tuple[Entry, VehicleEntry]],
        paths: list[list[tuple[float, float]]],
        positions: Sequence[Position],
    ):
        self.threats = threats  # (stretch, vehicle entry) of each path
        self.paths = paths
        self.lines = np.full(len(paths), None, dtype=object)
        ok = np.array([len(p) >= 2 for p in paths], dtype=bool)
        if np.any(ok):
            sizes = [len(p) for p in paths if len(p) >= 2]
            coords = np.array([xy for p in paths if len(p) >= 2 for xy in p], dtype=float)
            idx = np.repeat(np.arange(len(sizes)), sizes)
            self.lines[ok] = shapely.linestrings(coords, indices=idx)
        self.tree = shapely.STRtree(self.lines)
        # the positions placed at the start met by each path: ``first[bounds[j]:bounds[j + 1]]``
        self.first = np.zeros(0, dtype=np.int64)
        self.bounds = np.zeros(len(paths) + 1, dtype=np.int64)
        self.added: dict[int, list[int]] = {}  # path -> positions appended since that it meets
        if not positions or not np.any(ok):
            return
        lines = np.array([_line_or_none(p.geometry_xy) for p in positions], dtype=object)
        pos, path = self.tree.query(lines, predicate="dwithin", distance=MEET_M + 1.0)
        near = shapely.dwithin(self.lines[path], lines[pos], MEET_M)
        pos, path = pos[near], path[near]
        order = np.lexsort((pos, path))
        self.first = pos[order]
        self.bounds = np.searchsorted(path[order], np.arange(len(paths) + 1))

    def hits(self, j: int) -> list[int]:
        """Indices of the positions whose line path ``j`` meets, ascending (a new list)."""
        out: list[int] = self.first[self.bounds[j] : self.bounds[j + 1]].tolist()
        return out + self.added.get(j, [])

    def add(self, k: int, xy: list[tuple[float, float]]) -> None:
        """Position ``k`` (the last appended) with line points ``xy`` placed."""
        if len(xy) < 2:
            return
        line = shapely.LineString(xy)
        path = self.tree.query(line, predicate="dwithin", distance=MEET_M + 1.0)
        for t in path[shapely.dwithin(self.lines[path], line, MEET_M)].tolist():
            self.added.setdefault(t, []).append(k)


def _walk_ahead(ctx: StretchContext, meets: _Meets, j: int) -> None:
    """Before the path ``j``, which no position meets, needs its road run-up (:func:`_route`):
    if that is not walked yet, walk it together with the run-ups of every later path of the
    same vehicle that no position meets yet (:func:`_walk_roads`: one vectorised walk; most
    of them will need theirs, unless a position placed meanwhile meets them). A path met by
    a position never needs its walk: the paths met at the start are not walked at all."""
    e, ve = meets.threats[j]
    if not (ve.runup_start == "road" and not ve.runup_pieces and len(ve.runup_tail_xy) >= 2):
        return
    start = _road_start(ctx, e, ve)
    if start is None or (ve.name, *start) in ctx.shared.get("walks", {}):
        return
    later = [
        meets.threats[k]
        for k in range(j, len(meets.threats))
        if meets.threats[k][1].name == ve.name and not meets.hits(k)
    ]
    _walk_roads(ctx, later)


def _cover_threat(
    plan: Plan,
    ctx: StretchContext,
    e: Entry,
    ve: VehicleEntry,
    own: set[int],
    alone: bool,
    meets: _Meets,
    j: int,
) -> tuple[str, list[int]]:
    """Cover one vehicle's worst path to the stretch (``meets.paths[j]``): how, and the
    1-based numbers of the positions that intercept it (a new own position where none does).
    ``alone``: rate a new line for this vehicle only (its requirement), else for every vehicle
    on the stretch."""
    path = meets.paths[j]
    hit = meets.hits(j)
    if not hit:
        _walk_ahead(ctx, meets, j)
    walked = not hit and ve.runup_start == "road" and not ve.runup_pieces
    met = path  # the path that met the positions' lines
    if walked:
        # an off-road run from a road: its road run-up to the run's start may meet a line
        route = _route(ctx, e, ve)
        met = route.xy(ctx.net, ctx.pieces()) if route else path
        hit = _crossing_positions(ctx, plan.positions, met) if route else []
    if hit or _sealed(plan, ctx.net, e, ve, path):
        how = "stretch_line" if hit and set(hit) <= own else "road_plan"
        # the lines the vehicle could raise: rated (or listing it) below its requirement at the
        # edge (its speed where it meets a line is taken at most its speed there)
        hit_low = [i for i in hit if _raisable(ctx, plan.positions[i], ve)]
        if hit_low:
            met_by = [plan.positions[i] for i in hit_low]
            line = None if walked else meets.lines[j]  # the path's line, built once
            speeds = _speeds_at_lines(ctx, e, ve, route if walked else None, met, met_by, line)
            for pos, speed in zip(met_by, speeds, strict=True):
                _raise_to(ctx, pos, ve, float(speed))
        if not hit:
            # the road run-up is walked once: the one just walked, if any, is reused
            hit = _cutting_positions(plan, ctx, route if walked else _route(ctx, e, ve))
        return how, [i + 1 for i in hit]
    pos, how = _own_position(ctx, e, ve, alone)
    own.add(len(plan.positions))
    plan.positions.append(pos)
    meets.add(len(plan.positions) - 1, pos.geometry_xy)
    return how, [len(plan.positions)]


def _field(ctx: StretchContext, name: str) -> VehicleField | None:
    """The first of ``ctx.fields`` for the vehicle named ``name`` (None: none)."""
    by_name: dict[str, VehicleField] = ctx._cache.get("fields_by_name") or {}
    if not by_name:
        for vf in ctx.fields:
            by_name.setdefault(vf.vehicle.name, vf)
        ctx._cache["fields_by_name"] = by_name
    return by_name.get(name)


#: :func:`.ratings.parse_rating`, once per text (a plan parses the same few ratings
#: thousands of times; a :class:`.ratings.Rating` is immutable, so it may be shared)
_parse_rating = functools.lru_cache(maxsize=1024)(parse_rating)


def _raisable(ctx: StretchContext, pos: Position, ve: VehicleEntry) -> bool:
    """Whether the vehicle could raise the position (:func:`_raise_to`): its rating, or its
    listing for the vehicle, is below the vehicle's requirement at the edge (its speed where
    it meets the line is taken at most that, :func:`_speeds_at_lines`)."""
    vf = _field(ctx, ve.name)
    current = _parse_rating(pos.rating)
    if vf is None or current is None or ve.speed_kmh is None:
        return False
    edge = required_rating(vf.vehicle, float(ve.speed_kmh))
    listed = _parse_rating(pos.ratings.get(ve.name, ""))
    low = listed is not None and listed.energy_kj < edge.energy_kj
    return low or current.energy_kj < edge.energy_kj


def _speeds_at_lines(
    ctx: StretchContext,
    e: Entry,
    ve: VehicleEntry,
    route: _Route | None,
    path: list[tuple[float, float]],
    positions: Sequence[Position],
    line: shapely.LineString | None = None,
) -> FloatArray:
    """The speed (km/h) a position's line is rated at for the vehicle whose worst ``path``
    (start to edge, local m) meets it: its speed there, ``V(x - d)``, ``d`` the distance back
    along the path from the edge to the meeting point, as the outward search rates a line
    (:func:`_rating_at`), given as the lowest test speed at or above it (the same rating,
    :meth:`_Route.test_speed_back_kmh`), at most the speed at the edge (both bound the speed
    there from above on a path that does not brake before the edge); at the edge, or without
    a route, the speed at the edge. ``route``: the path's route where it was walked with its
    road run-up, else built from the entry; ``line``: ``path`` as a line, if built already."""
    edge_kmh = float(ve.speed_kmh or 0.0)
    along = shapely.LineString(path) if line is None else line
    lines = np.array([shapely.LineString(p.geometry_xy) for p in positions], dtype=object)
    meet = shapely.get_point(shapely.shortest_line(along, lines), 0)
    back_m = along.length - shapely.line_locate_point(along, meet)
    if route is None and np.any(back_m > 0.0):
        route = _route(ctx, e, ve, road=False)
    if route is None or ve.speed_kmh is None:
        return np.full(len(positions), edge_kmh)
    # at most the speed at the edge: V(x - d) ignores a straight run's kerbs and its bend, the
    # edge speed counts them (a path braking between the line and the edge is not modelled)
    there = route.test_speed_back_kmh(np.maximum(back_m, 0.0))
    return np.where(back_m > 0.0, np.minimum(there, edge_kmh), edge_kmh)


def _raise_to(ctx: StretchContext, pos: Position, ve: VehicleEntry, speed_kmh: float) -> None:
    """Raise a position whose line a vehicle's worst path meets (a stretch line, or a road
    position's line) to that vehicle's requirement at its speed where it meets the line
    (``speed_kmh``, :func:`_speeds_at_lines`) where it is rated lower, repriced at the new
    rating."""
    vf = _field(ctx, ve.name)
    current = _parse_rating(pos.rating)  # None: above tested speeds already
    if vf is None or ve.speed_kmh is None or current is None:
        return
    need = required_rating(vf.vehicle, speed_kmh)
    listed = _parse_rating(pos.ratings.get(ve.name, ""))
    if listed is not None and need.energy_kj > listed.energy_kj:
        pos.ratings[ve.name] = need.iwa
    if need.energy_kj <= current.energy_kj:
        return
    exceeds = need.iwa.endswith(EXCEEDS)
    pos.rating, pos.pas68 = need.iwa, need.pas68
    pos.ratings[ve.name] = need.iwa
    pos.costed = not exceeds
    pos.advice = EXCEEDS_ADVICE if exceeds else ""
    if pos.kind == "linear":
        cost = _linear_cost(ctx.costs, need, pos.length_m, pos.active_length_m)
    else:  # a road position's bollards: the fixed and the active ones at the new rating
        costs = ctx.costs
        active_n = costs.bollards(pos.active_length_m) if pos.active_length_m > 0 else 0
        cost = (pos.n_bollards - active_n) * costs.price(costs.fixed_bollard_eur, need)
        if active_n:
            cost += active_n * costs.price(costs.active_bollard_eur, need)
            cost += costs.active_position_eur
    pos.cost_eur = 0 if exceeds else round(cost)


def _energy(e: Entry) -> float:
    ve = e.governing()
    if ve is None or ve.speed_kmh is None:
        return -1.0
    return 0.5 * ve.mass_kg * (ve.speed_kmh / 3.6) ** 2


def _crossing_positions(
    ctx: StretchContext, positions: Sequence[Position], path: list[tuple[float, float]]
) -> list[int]:
    """Indices of the positions whose line the path (start to edge) meets."""
    if len(path) < 2 or not positions:
        return []
    lines = _position_lines(ctx, positions)
    near = shapely.dwithin(shapely.LineString(path), lines, MEET_M)
    return np.flatnonzero(near).tolist()  # type: ignore[no-any-return]


def _position_lines(ctx: StretchContext, positions: Sequence[Position]) -> NDArray[np.object_]:
    """(P,) the positions' lines (None where a position has fewer than two points), built
    once per context: rebuilt only for a position whose points are a new list (positions are
    appended to a plan, a raised position keeps its points)."""
    points, lines = ctx._cache.get("position_lines", ([], np.empty(0, dtype=object)))
    if len(points) == len(positions) and all(
        a is p.geometry_xy for a, p in zip(points, positions, strict=True)
    ):
        return lines  # type: ignore[no-any-return]
    old = dict(zip(map(id, points), lines, strict=True))
    lines = np.empty(len(positions), dtype=object)
    for i, p in enumerate(positions):
        xy = p.geometry_xy
        lines[i] = old.get(id(xy)) if id(xy) in old else _line_or_none(xy)
    ctx._cache["position_lines"] = ([p.geometry_xy for p in positions], lines)
    return lines


def _line_or_none(xy: list[tuple[float, float]]) -> shapely.LineString | None:
    return shapely.LineString(xy) if len(xy) >= 2 else None


def _cutting_positions(plan: Plan, ctx: StretchContext, route: _Route | None) -> list[int]:
    """Indices of the road positions that cut a path sealed behind the cut: those whose line
    its whole ``route`` (:func:`_route`: with the road run-up to an off-road run's start)
    meets, else those on the links of its road run-up."""
    if route is None:
        return []
    hit = _crossing_positions(ctx, plan.positions, route.xy(ctx.net, ctx.pieces()))
    if hit:
        return hit
    links = {d // 2 for d, _, _ in route.pieces}
    return [i for i, p in enumerate(plan.positions) if p.link is not None and p.link in links]


def _sealed(
    plan: Plan, net: Network, e: Entry, ve: VehicleEntry, path: list[tuple[float, float]]
) -> bool:
    """Whether the path leaves the road network behind the road-graph cut: its last point on
    a road (a crossing's link at the edge, an off-road run's road start, a frontage swerve's
    road point) lies on a link behind the cut."""
    if plan.behind_nodes.size == 0 or not path:
        return False
    if e.link is not None:
        link, point = int(e.link), (e.x, e.y)
    elif ve.runup_pieces:
        d, _, s1 = ve.runup_pieces[-1]
        link = d // 2
        length = float(net.link_length_m[link])
        x, y = net.points_at(np.array([link]), np.array([s1 if d % 2 == 0 else length - s1]))
        point = (float(x[0]), float(y[0]))
    elif ve.runup_start == "road":
        link, point = _nearest_link(net, path[0], e.approach_way_id)
    else:
        return False
    if link < 0:
        return False
    behind = plan.behind_nodes
    bu, bv = bool(behind[net.link_u[link]]), bool(behind[net.link_v[link]])
    if bu and bv:
        return True
    line = net.link_lines[link]
    s_pt = float(shapely.line_locate_point(line, shapely.Point(point)))
    cuts = [
        float(shapely.line_locate_point(line, shapely.Point(p.x, p.y)))
        for p in plan.positions
        if p.link == link
    ]
    if not cuts:
        return False
    if bv and not bu:  # vehicles come from u: beyond a position towards v
        return any(s_pt >= c - MEET_M for c in cuts)
    if bu and not bv:
        return any(s_pt <= c + MEET_M for c in cuts)
    return min(cuts) - MEET_M <= s_pt <= max(cuts) + MEET_M and len(cuts) > 1


def _nearest_link(
    net: Network, xy: tuple[float, float], way_id: int | None
) -> tuple[int, tuple[float, float]]:
    """The link (of ``way_id`` where given) nearest a road start point, and the point."""
    pt = shapely.Point(xy)
    cand = net.link_tree.query(pt, predicate="dwithin", distance=ROAD_START_M)
    if way_id is not None:
        own = [int(k) for k in cand if int(net.link_way_id[k]) == way_id]
        cand = np.asarray(own or cand, dtype=np.int64)
    if len(cand) == 0:
        return -1, xy
    d = shapely.distance(net.link_lines[cand], pt)
    return int(cand[int(np.argmin(d))]), xy


@dataclass
class _Route:
    """The governing vehicle's whole path to the edge: its road run-up ``pieces`` (directed
    link, s0, s1 m; start to end) then a straight ``tail`` (points, local m) from the end of
    the road part, where its equivalent run-up is ``x_tail_m``, to the edge."""

    vf: VehicleField
    pieces: list[tuple[int, float, float]]
    tail: list[tuple[float, float]]
    x_tail_m: float
    _xy: list[tuple[float, float]] | None = dataclasses.field(default=None, repr=False)

    def xy(self, net: Network, pieces: PieceCache | None = None) -> list[tuple[float, float]]:
        """The whole path's points (local m, start to edge), built once (a copy returned);
        ``pieces``: a cache of the road pieces' geometry (:func:`.entries.runup_xy`)."""
        if self._xy is None:
            ve = VehicleEntry("", "", 0.0, None, None, None, None, runup_pieces=self.pieces)
            pts = runup_xy(net, ve, pieces)
            tail = self.tail[1:] if pts and self.tail and self.tail[0] == pts[-1] else self.tail
            self._xy = pts + tail
        return list(self._xy)

    def speed_back_kmh(self, back_m: FloatArray) -> FloatArray:
        """The vehicle's speed (km/h) ``back_m`` metres back from the edge along the path:
        ``V(x)`` of its equivalent run-up there (:meth:`x_back_m`, at most top speed)."""
        x = np.minimum(self.x_back_m(back_m), float(self.vf.kin.x_top_m))
        return self.vf.kin.v_of_x(x) * 3.6

    def test_speed_back_kmh(self, back_m: FloatArray) -> FloatArray:
        """The lowest standard test speed (km/h, :data:`.ratings.TEST_SPEEDS_KMH`) at or above
        the vehicle's speed ``back_m`` metres back from the edge (inf: above every one): the
        rating of :meth:`speed_back_kmh` without inverting ``X`` (its run-up there compared
        with ``X`` of the test speeds, closed form)."""
        x = np.minimum(self.x_back_m(back_m), float(self.vf.kin.x_top_m))
        tests = np.asarray(TEST_SPEEDS_KMH, dtype=float)
        x_tests = self.vf.kin.x_of_v(tests / 3.6)  # non-decreasing; x_top above top speed
        k = np.searchsorted(x_tests, x - 1e-9, side="left")
        return np.append(tests, np.inf)[k]

    def x_back_m(self, back_m: FloatArray) -> FloatArray:
        """Equivalent run-up (m) ``back_m`` metres back from the edge along the path: on the
        straight tail the run-up at its start plus the distance run (a kerb's charge ignored,
        so never lower than the vehicle's real speed there), on the road the speed field's
        (before the first piece: the run-up at the path's start)."""
        back = np.asarray(back_m, dtype=float)
        tail_m = float(shapely.LineString(self.tail).length) if len(self.tail) >= 2 else 0.0
        out = np.maximum(0.0, self.x_tail_m + tail_m - back)
        road = back > tail_m
        if not self.pieces or not np.any(road):
            return out
        d = np.array([p[0] for p in self.pieces], dtype=np.int64)
        s0 = np.array([p[1] for p in self.pieces])
        s1 = np.array([p[2] for p in self.pieces])
        # distance back from the road part's end to the end of each piece (last piece first)
        end_back = np.concatenate([[0.0], np.cumsum((s1 - s0)[::-1])])[:-1][::-1]
        rest = np.minimum(back[road] - tail_m, end_back[0] + (s1 - s0)[0])
        # the piece holding each point: the first whose end lies at or before it, going back
        k = np.clip(np.searchsorted(-end_back, -rest, side="left"), 0, len(self.pieces) - 1)
        s = np.maximum(s1[k] - (rest - end_back[k]), s0[k])
        out[road] = self.vf.x_at(d[k], s)
        return out


def _route(ctx: StretchContext, e: Entry, ve: VehicleEntry, road: bool = True) -> _Route | None:
    """The governing vehicle's whole path (:class:`_Route`): a road-graph run-up as recorded,
    an off-road run from the road with the road run-up to its start added (``road``; without
    it the straight run only, enough where the line stands on it). Built once for what
    determines it, in ``ctx.shared`` (the same path of another stretch, vehicle entry or
    site is reused)."""
    key = (
        ve.name,
        tuple(ve.runup_pieces),
        tuple(ve.runup_tail_xy),
        ve.runup_start,
        ve.runup_start_speed_kmh,
        e.approach_way_id,
        road,
    )
    routes: dict[Any, _Route | None] = ctx.shared.setdefault("routes", {})
    if key not in routes:
        routes[key] = _new_route(ctx, e, ve, road)
    return routes[key]


def _new_route(ctx: StretchContext, e: Entry, ve: VehicleEntry, road: bool) -> _Route | None:
    """:func:`_route`, computed."""
    net = ctx.net
    vf = _field(ctx, ve.name)
    if vf is None:
        return None
    if ve.runup_pieces:
        d, _, s1 = ve.runup_pieces[-1]
        x_end = float(vf.x_at(np.array([d]), np.array([s1]))[0])
        end = runup_xy(net, dataclasses.replace(ve, runup_tail_xy=[]), ctx.pieces())[-1:]
        return _Route(vf, list(ve.runup_pieces), end + list(ve.runup_tail_xy), max(x_end, 0.0))
    tail = list(ve.runup_tail_xy)
    if len(tail) < 2:
        return None
    v0 = float(ve.runup_start_speed_kmh or 0.0) / 3.6
    x_of_v: dict[tuple[str, float], float] = ctx.shared.setdefault("x_of_v", {})
    if (ve.name, v0) not in x_of_v:  # the start speeds repeat (rest, a few turn caps)
        x_of_v[(ve.name, v0)] = float(vf.kin.x_of_v(np.array([v0]))[0])
    x0 = x_of_v[(ve.name, v0)]
    pieces: list[tuple[int, float, float]] = []
    if ve.runup_start == "road" and road:
        start = _road_start(ctx, e, ve)
        if start is not None:
            walks: dict[Any, list[tuple[int, float, float]]] = ctx.shared.setdefault("walks", {})
            walk = (ve.name, *start)
            if walk not in walks:
                walks[walk] = runup_path(net, vf, *start)[0]
            pieces = walks[walk]
    return _Route(vf, pieces, tail, x0)


def _road_start(ctx: StretchContext, e: Entry, ve: VehicleEntry) -> tuple[int, float] | None:
    """Where an off-road run from the road leaves it: the directed link of its way nearest
    the run's start (:func:`_nearest_link`), in the run's direction, and the distance (m)
    from its tail (None: no link within ``ROAD_START_M``)."""
    tail = ve.runup_tail_xy
    found: dict[Any, Any] = ctx.shared.setdefault("road_links", {})
    key = (tail[0], e.approach_way_id)
    if key not in found:
        link, _ = _nearest_link(ctx.net, tail[0], e.approach_way_id)
        if link < 0:
            found[key] = None
        else:
            line = ctx.net.link_lines[link]
            s_u = float(shapely.line_locate_point(line, shapely.Point(tail[0])))
            a = line.interpolate(max(s_u - 0.5, 0.0))
            b = line.interpolate(min(s_u + 0.5, line.length))
            found[key] = (link, s_u, b.x - a.x, b.y - a.y)
    if found[key] is None:
        return None
    link, s_u, lx, ly = found[key]
    ux, uy = tail[-1][0] - tail[0][0], tail[-1][1] - tail[0][1]
    forward = lx * ux + ly * uy >= 0
    d = 2 * link + (0 if forward else 1)
    s = s_u if forward else float(ctx.net.link_length_m[link]) - s_u
    return d, s


def _walk_roads(ctx: StretchContext, threats: Sequence[tuple[Entry, VehicleEntry]]) -> None:
    """Walk the road run-up of every off-road run from a road among ``threats`` (stretch,
    vehicle entry) not walked yet: one vectorised walk per vehicle (:func:`.entries.runups`,
    the same pieces as one walk per point) instead of one per path."""
    want: dict[str, set[tuple[int, float]]] = {}
    for e, ve in threats:
        if (
            ve.speed_kmh is not None
            and ve.runup_start == "road"
            and not ve.runup_pieces
            and len(ve.runup_tail_xy) >= 2
        ):
            start = _road_start(ctx, e, ve)
            if start is not None:
                want.setdefault(ve.name, set()).add(start)
    walks: dict[Any, list[tuple[int, float, float]]] = ctx.shared.setdefault("walks", {})
    for vf in ctx.fields:
        name = vf.vehicle.name
        todo = sorted(k for k in want.get(name, ()) if (name, *k) not in walks)
        if not todo:
            continue
        d = np.array([k[0] for k in todo], dtype=np.int64)
        s = np.array([k[1] for k in todo], dtype=float)
        for k, pieces in zip(todo, runups(ctx.net, vf, d, s).pieces, strict=True):
            walks[(name, *k)] = pieces


def _rating_at(
    ctx: StretchContext,
    e: Entry,
    ve: VehicleEntry,
    route: _Route | None,
    back_m: float,
    alone: bool = False,
) -> tuple[Rating, float]:
    """Governing rating of a line ``back_m`` (m) back along the governing path from the edge,
    and the governing vehicle's speed there (km/h). At the edge (``back_m`` 0) the stretch's
    own requirement; further out the governing vehicle at ``V(x)`` head-on (the line is across
    its path, ``x`` its equivalent run-up there, :meth:`_Route.x_back_m`) and every other
    vehicle at its requirement on the stretch (an upper bound further out); ``alone``: the
    vehicle ``ve`` only (a line on its own path, which the others do not take)."""
    best: Rating | None = None
    speed = float(ve.speed_kmh or 0.0)
    for vf in ctx.fields:
        if alone and vf.vehicle.name != ve.name:
            continue
        mine = next((v for v in e.vehicles if v.name == vf.vehicle.name), None)
        if mine is None or mine.speed_kmh is None:
            continue
        kmh = float(mine.speed_kmh)
        if vf.vehicle.name == ve.name and back_m > 0.0 and route is not None:
            kmh = speed = float(route.speed_back_kmh(np.array([back_m]))[0])
        r = required_rating(vf.vehicle, kmh)
        if best is None or r.energy_kj > best.energy_kj:
            best = r
    assert best is not None  # the governing vehicle is one of the fields
    return best, speed


def _line_point(
    ctx: StretchContext, e: Entry, ve: VehicleEntry, route: _Route | None, alone: bool = False
) -> tuple[Origins, float, Rating, bool] | None:
    """Where the stretch's own line stands on the governing path: its origins (the point,
    then the points it may slide to outward, :func:`.plan_lines.slide_origins`), the
    governing vehicle's speed at the point (km/h), its rating, and whether it is settled (a
    point clear of the stand-off with a tested rating, or none further out on this path).
    First the point ``CLEAR_M`` outside the stand-off line, the rating being the stretch's;
    then, if that exceeds every tested speed, outward to the first point with a tested
    rating within the planning radius."""
    path = route.xy(ctx.net, ctx.pieces()) if route is not None else runup_xy(ctx.net, ve)
    if len(path) < 2 or shapely.LineString(path).length <= 0:
        return None
    length = float(shapely.LineString(path).length)
    protected = ctx.site.buffer(ctx.standoff_m) if ctx.standoff_m > 0 else ctx.site
    back = np.arange(0.0, length + 1e-9, OUTWARD_STEP_M)
    px, py = along_path(path, back)
    pts = shapely.points(px, py)
    dist = shapely.distance(pts, protected)
    radius = shapely.distance(pts, ctx.site) <= ctx.plan_radius_m
    clear = np.flatnonzero((dist >= CLEAR_M) & radius)
    k0 = int(clear[0]) if clear.size else int(np.argmax(dist))
    rating, speed = _rating_at(ctx, e, ve, route, 0.0, alone)
    k = k0
    if rating.speed_kmh is None and route is not None:
        # the first point out where the governing vehicle's head-on speed is tested
        cand = clear[clear >= k0]
        kmh = route.speed_back_kmh(back[cand])
        ok = np.flatnonzero(kmh <= max(TEST_SPEEDS_KMH) + 1e-9)
        if ok.size:
            j = int(cand[ok[0]])
            r, v = _rating_at(ctx, e, ve, route, float(back[j]), alone)
            if r.speed_kmh is not None:
                k, rating, speed = j, r, v
    # unsettled: no clear point on this path, or still above tested speeds where the path
    # (without its road run-up) has not yet left the planning radius
    settled = bool(clear.size) and (rating.speed_kmh is not None or not bool(radius[-1]))

    def allowed(x: FloatArray, y: FloatArray) -> NDArray[np.bool_]:
        pts = shapely.points(x, y)
        return (shapely.distance(pts, protected) >= CLEAR_M) & (
            shapely.distance(pts, ctx.site) <= ctx.plan_radius_m
        )

    return slide_origins(path, float(back[k]), allowed), speed, rating, settled


def _own_link(ctx: StretchContext, px: float, py: float, usable: NDArray[np.bool_]) -> int:
    """The usable ground-level link whose carriageway the point lies on (-1: none): a line
    standing on a road is that road's line across it."""
    net = ctx.net
    cand = net.link_tree.query(shapely.Point(px, py), predicate="dwithin", distance=ROAD_START_M)
    cand = np.asarray([k for k in cand if usable[k] and not ctx.grade[k]], dtype=np.int64)
    if cand.size == 0:
        return -1
    d = shapely.distance(net.link_lines[cand], shapely.Point(px, py))
    on = d <= 0.5 * net.link_width_m[cand]
    return int(cand[on][np.argmin(d[on])]) if np.any(on) else -1


def _own_position(
    ctx: StretchContext, e: Entry, ve: VehicleEntry, alone: bool = False
) -> tuple[Position, str]:
    """The position of a stretch the plan does not cover, and how it covers it (``alone``:
    rated for the vehicle ``ve`` only, :func:`_rating_at`)."""
    net = ctx.net
    route = _route(ctx, e, ve, road=False)
    got = _line_point(ctx, e, ve, route, alone)
    if (got is None or not got[-1]) and ve.runup_start == "road" and not ve.runup_pieces:
        # the line needs the road run-up before the straight run (further out)
        route = _route(ctx, e, ve)
        got = _line_point(ctx, e, ve, route, alone)
    if got is not None:
        origins, speed, rating, _settled = got
        px, py = float(origins.x[0, 0]), float(origins.y[0, 0])
        usable = ctx.usable()
        protected = ctx.site.buffer(ctx.standoff_m) if ctx.standoff_m > 0 else ctx.site
        carriageway = carriageway_links(net, usable, ctx.grade)

        def march(own: int) -> Lines:
            return barrier_lines(
                net,
                np.array([own]),
                origins.x[:, 0],
                origins.y[:, 0],
                origins.dx[:, 0],
                origins.dy[:, 0],
                ctx.drv,
                ctx.site,
                protected,
                ctx.plan_radius_m,
                min(float(vf.vehicle.width_m) for vf in ctx.fields),
                carriageway,
                ctx.access,
                ctx.rated,
                np.array([float(rating.mass_kg)]),
                np.array([float(rating.speed_kmh) if rating.speed_kmh is not None else math.inf]),
                ctx.features,
                ctx.trees,
                ctx._cache.setdefault("masks", {}),
                origins,
            )

        own = _own_link(ctx, px, py, usable)
        lines = march(own)
        if own < 0:
            # a path along a road (beside its carriageway): the line closes across that road
            # too, which no position of the cut closes
            for end, ex, ey in (
                (lines.end_a, lines.ax, lines.ay),
                (lines.end_b, lines.bx, lines.by),
            ):
                if end[0] == "road":
                    own = _nearest_carriageway(net, float(ex[0]), float(ey[0]), carriageway)
                    lines = march(own) if own >= 0 else lines
                    break
        ends = [str(lines.end_a[0]), str(lines.end_b[0])]
        length_m = float(lines.length_m[0])
        if length_m >= MIN_LINE_M and not ({"open_end", "planning_radius"} & set(ends)):
            geom = [
                (float(lines.ax[0]), float(lines.ay[0])),
                (float(lines.bx[0]), float(lines.by[0])),
            ]
            crossed = float(lines.crossed_access_m[0])
            if own >= 0 and ctx.access[own]:
                # standing on a designated route: active over its own carriageway too
                crossed += float(net.link_width_m[own])
            crossed = min(crossed, length_m)
            j = int(lines.origin[0]) if lines.origin is not None else 0
            if j > 0:
                # slid outward: rated at the governing vehicle's speed there too (never below)
                px, py = float(origins.x[0, j]), float(origins.y[0, j])
                there = _rating_at(ctx, e, ve, route, float(origins.back_m[j]), alone)
                if there[0].energy_kj > rating.energy_kj:
                    rating, speed = there
            pos = _linear(
                ctx, e, (rating, speed), geom, length_m, ends, crossed, (px, py), ve, alone
            )
            return pos, "own_line"
    rating, speed = _rating_at(ctx, e, ve, None, 0.0, alone)
    geom = _away_from_site(list(e.geometry_xy), ctx.site, ctx.standoff_m)
    length_m = float(shapely.LineString(geom).length) if len(geom) >= 2 else 0.0
    length_m = max(length_m, float(e.stretch_m or e.length_m or 0.0))
    crossed = _crossed_access(net, ctx.access, geom)
    ends = ["stretch_end", "stretch_end"]
    pos = _linear(ctx, e, (rating, speed), geom, length_m, ends, crossed, (e.x, e.y), ve, alone)
    return pos, "along"


def _nearest_carriageway(net: Network, x: float, y: float, carriageway: NDArray[np.bool_]) -> int:
    """The carriageway link nearest a line's end that stopped at it (-1: none)."""
    pt = shapely.Point(x, y)
    cand = net.link_tree.query(pt, predicate="dwithin", distance=ROAD_START_M)
    cand = np.asarray([k for k in cand if carriageway[k]], dtype=np.int64)
    if cand.size == 0:
        return -1
    return int(cand[int(np.argmin(shapely.distance(net.link_lines[cand], pt)))])


def _crossed_access(
    net: Network, access: NDArray[np.bool_], geom: list[tuple[float, float]]
) -> float:
    """Width (m) of the designated access links a line crosses (made active there)."""
    if len(geom) < 2 or not np.any(access):
        return 0.0
    hit = net.link_tree.query(shapely.LineString(geom), predicate="intersects")
    hit = hit[access[hit]]
    return float(net.link_width_m[hit].sum())


def _linear_cost(costs: CostTable, rating: Rating, length_m: float, crossed_m: float) -> float:
    """Price of a line of ``length_m`` (m) at ``rating``: per metre, the part across designated
    access routes (``crossed_m``) as active bollards plus the controller."""
    cost = (length_m - crossed_m) * costs.price(costs.linear_eur_per_m, rating)
    if crossed_m > 0:
        cost += costs.bollards(crossed_m) * costs.price(costs.active_bollard_eur, rating)
        cost += costs.active_position_eur
    return cost


def _linear(
    ctx: StretchContext,
    e: Entry,
    required: tuple[Rating, float],
    geom: list[tuple[float, float]],
    length_m: float,
    ends: list[str],
    crossed_m: float,
    xy: tuple[float, float],
    ve: VehicleEntry | None = None,
    alone: bool = False,
) -> Position:
    """A linear position of ``length_m`` (m) at ``rating``, priced per metre; the part across
    designated access routes (``crossed_m``) as active bollards, so the route stays open.
    ``required``: the rating and the governing vehicle's speed (km/h) at the line."""
    costs = ctx.costs
    rating, speed = required
    cost = _linear_cost(costs, rating, length_m, crossed_m)
    per = {
        v.name: v.rating
        for v in e.vehicles
        if v.rating is not None and (not alone or ve is None or v.name == ve.name)
    }
    exceeds = rating.iwa.endswith(EXCEEDS)
    return Position(
        "linear",
        float(xy[0]),
        float(xy[1]),
        round(length_m, 1),
        costs.bollards(crossed_m) if crossed_m > 0 else 0,
        rating.iwa,
        rating.pas68,
        per,
        round(speed, 1),
        crossed_m > 0,  # active over the access route it crosses, as road positions are
        0 if exceeds else round(cost),
        None,
        None,
        geom,
        e.street,
        costed=not exceeds,
        advice=EXCEEDS_ADVICE if exceeds else "",
        length_m=round(length_m, 1),
        closes_between=ends,
        active_length_m=round(crossed_m, 1),
    )
