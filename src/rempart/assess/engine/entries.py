"""Entries of a site: crossings of traversable ways and exposed frontage, per vehicle.

Hand-written because no library assesses hostile-vehicle entries. shapely finds the crossings
and distances (STRtree over links); the speed at each entry comes from :mod:`field`.

Frontage swerve model (docs/method.md, "Frontage"): a vehicle at speed ``v`` on a way turns
towards the boundary at its lateral acceleration limit ``a`` without braking. With lateral room
``c`` (distance from the far edge of the carriageway to the boundary) it meets the boundary at
angle ``phi`` with ``cos(phi) = 1 - c a / v^2`` (90 degrees if ``v^2 <= c a``). The barrier
must absorb the speed component normal to it, ``v sin(phi) = sqrt(2 c a - (c a / v)^2)``; that
normal speed is the one rated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from .drivable import BoolArray, Drivable, Features
from .field import VehicleField
from .graph import FloatArray, IntArray, Network
from .ratings import required_rating

DEFAULT_FRONTAGE_M = 15.0
FRONTAGE_STEP_M = 5.0
MAX_BACKTRACK = 100000


@dataclass(slots=True)
class VehicleEntry:
    """Assessment of one entry for one vehicle (speeds km/h, energy kJ, lengths m)."""

    name: str
    test_class: str
    mass_kg: float
    speed_kmh: float | None
    energy_kj: float | None
    rating: str | None
    pas68: str | None
    runup_m: float | None = None
    equivalent_runup_m: float | None = None
    runup_start: str | None = None
    runup_start_speed_kmh: float | None = None
    runup_pieces: list[tuple[int, float, float]] = field(default_factory=list)
    runup_tail_xy: list[tuple[float, float]] = field(default_factory=list)
    approach_bearing_deg: float | None = None
    impact_speed_kmh: float | None = None
    impact_angle_deg: float | None = None
    worst_xy: tuple[float, float] | None = None
    blocked: str | None = None
    rating_speed_kmh: int | None = None
    #: the source of this vehicle's worst point in an edge stretch (``road crossing``,
    #: ``frontage`` or ``off-road``); None for the road-graph entries
    source: str | None = None


@dataclass
class Entry:
    """A crossing or a frontage stretch of a site boundary (geometry in local metres)."""

    kind: str  # "crossing" | "frontage"
    x: float
    y: float
    bearing_deg: float | None
    link: int | None
    way_id: int | None
    street: str
    geometry_xy: list[tuple[float, float]]
    length_m: float
    vehicles: list[VehicleEntry]
    directed: int | None = None
    s_m: float | None = None
    attack_links: list[int] = field(default_factory=list)
    width_m: float = 0.0
    #: edge stretches (:func:`edges.edge_stretches`): the source of the governing vehicle's
    #: worst point, the number (1.. from the north-most point, clockwise), the stretch's
    #: length of edge (m) and its name in words, ``{"en": ..., "fr": ...}``
    source: str | None = None
    number: int | None = None
    stretch_m: float | None = None
    place: dict[str, str] | None = None
    #: the OSM way the governing vehicle's worst path comes along (None: from rest) and its
    #: name ("" unnamed)
    approach_way_id: int | None = None
    approach_street: str | None = None

    def governing(self) -> VehicleEntry | None:
        """The vehicle whose required test has the highest kinetic energy."""
        best: VehicleEntry | None = None
        best_e = -1.0
        for ve in self.vehicles:
            if ve.speed_kmh is None:
                continue
            r = required_rating_from(ve)
            e = r if r is not None else -1.0
            if e > best_e:
                best, best_e = ve, e
        return best


def cut_points(
    lines: np.ndarray, boundaries: np.ndarray
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Every point where each line meets the boundary paired with it, vectorised (shapely 2).

    A stretch running along the boundary counts by its two ends. Returns the pair index, the
    distance along the line (m) and the point's local x, y (m), one row per point.
    """
    inter = shapely.intersection(lines, boundaries)
    parts, part_pair = shapely.get_parts(inter, return_index=True)
    tid = shapely.get_type_id(parts)
    is_pt = tid == 0
    is_ln = (tid == 1) | (tid == 2)
    sel = (is_pt | is_ln) & ~shapely.is_empty(parts)
    parts, part_pair, is_pt, is_ln = parts[sel], part_pair[sel], is_pt[sel], is_ln[sel]
    cnt = np.where(is_ln, 2, 1)
    pos = np.cumsum(cnt) - cnt
    xy = np.empty((int(cnt.sum()), 2))
    if np.any(is_pt):
        xy[pos[is_pt]] = shapely.get_coordinates(parts[is_pt])
    if np.any(is_ln):
        xy[pos[is_ln]] = shapely.get_coordinates(shapely.get_point(parts[is_ln], 0))
        xy[pos[is_ln] + 1] = shapely.get_coordinates(shapely.get_point(parts[is_ln], -1))
    pt_pair = np.repeat(part_pair, cnt).astype(np.int64)
    s = shapely.line_locate_point(lines[pt_pair], shapely.points(xy))
    return pt_pair, np.asarray(s, dtype=float), xy


def required_rating_from(ve: VehicleEntry) -> float | None:
    """Kinetic energy (kJ) of the required test of a vehicle entry (inf above 112 km/h)."""
    if ve.rating_speed_kmh is None and ve.speed_kmh is None:
        return None
    if ve.rating_speed_kmh is None:
        return math.inf
    return 0.5 * ve.mass_kg * (ve.rating_speed_kmh / 3.6) ** 2 / 1000.0


def _bearing_deg(dx: float, dy: float) -> float:
    return math.degrees(math.atan2(dx, dy)) % 360.0


def _vehicle_entry(vf: VehicleField, speed_ms: float) -> VehicleEntry:
    v = vf.vehicle
    kmh = speed_ms * 3.6
    rating = required_rating(v, kmh)
    return VehicleEntry(
        name=v.name,
        test_class=v.test_class,
        mass_kg=v.mass_kg,
        speed_kmh=round(kmh, 1),
        energy_kj=round(0.5 * v.mass_kg * speed_ms**2 / 1000.0, 1),
        rating=rating.iwa,
        pas68=rating.pas68,
        rating_speed_kmh=rating.speed_kmh,
    )


def _blocked_entry(vf: VehicleField, reason: str) -> VehicleEntry:
    v = vf.vehicle
    return VehicleEntry(v.name, v.test_class, v.mass_kg, None, None, None, None, blocked=reason)


#: Road pieces' points (local m) by (directed link, s0 m, s1 m), for :func:`runup_xy`.
PieceCache = dict[tuple[int, float, float], list[tuple[float, float]]]


def runup_xy(
    net: Network, ve: VehicleEntry, cache: PieceCache | None = None
) -> list[tuple[float, float]]:
    """Run-up geometry (local metres, start to entry) from its pieces, built on demand;
    ``cache``: each piece's points kept there and reused (many run-ups share their links)."""
    cache = {} if cache is None else cache
    pts: list[tuple[float, float]] = []
    for d, s0, s1 in ve.runup_pieces:
        key = (d, s0, s1)
        if key not in cache:
            cache[key] = _directed_piece(net, d, s0, s1)
        piece = cache[key]
        if pts and piece and piece[0] == pts[-1]:
            piece = piece[1:]
        pts.extend(piece)
    return pts + ve.runup_tail_xy


@dataclass
class Runups:
    """Run-ups of many points of one vehicle's field (see :func:`runups`).

    ``pieces[i]`` lists ``(directed link, s0 m, s1 m)`` from start to point ``i``;
    ``length_m``, ``start_kind`` (``"rest" | "turn" | "bend"``) and ``start_x_m`` (equivalent
    run-up at the start, m) are per point.
    """

    pieces: list[list[tuple[int, float, float]]]
    length_m: FloatArray
    start_kind: list[str]
    start_x_m: FloatArray


_REST, _TURN, _BEND = 0, 1, 2
_KIND_NAMES = ("rest", "turn", "bend")


def runups(net: Network, vf: VehicleField, directed: IntArray, s_m: FloatArray) -> Runups:
    """The run-ups achieving the speed at ``s_m`` m along each of the ``directed`` links.

    Walks the best-predecessor pointers backwards from every point at once (one vectorised
    step per link of the longest run-up, instead of a Python loop per point and link) until
    each run-up starts: from rest (no better predecessor), at a junction turn whose cap binds
    (at the apex of a bend merged through the junction when it lies on the incoming link,
    reported as a bend), at a bend whose cap binds, or where the walk would revisit a link
    (a loop driven at top speed: the walk stops before the first repeated link, reported as a
    turn). Loops are found
    with Brent's cycle detection per point and trimmed back to that first repeat afterwards.
    The semantics and the floating-point order of the length sums are those of a
    point-by-point walk, so results are identical to it.
    """
    d = np.asarray(directed, dtype=np.int64).copy()
    s = np.asarray(s_m, dtype=float).copy()
    n = d.size
    item = np.arange(n)
    length = np.zeros(n)
    kind = np.full(n, _REST, dtype=np.int8)
    start_x = np.zeros(n)
    x_in, x_out, pred = vf.field.x_in_m, vf.field.x_out_m, vf.field.pred
    # Brent's cycle detection state per point (tortoise link, power, steps since last move)
    tort = np.full(n, -1, dtype=np.int64)
    power = np.ones(n, dtype=np.int64)
    lam = np.ones(n, dtype=np.int64)
    looped: list[tuple[int, int]] = []  # (point, cycle length)
    # transitions through a bend whose apex lies before the junction, by (from, to) key
    n_dir = net.n_directed
    apex_key, apex_m = net.apex_by_key
    rec_item, rec_step, rec_d, rec_s0, rec_s1 = [], [], [], [], []
    step = 0
    while item.size and step < MAX_BACKTRACK:
        has_bend, s_bend, x_bend = vf.binding_bends(d, s)
        s0 = np.where(has_bend, s_bend, 0.0)
        rec_item.append(item)
        rec_step.append(np.full(item.size, step))
        rec_d.append(d)
        rec_s0.append(s0)
        rec_s1.append(s)
        length[item] += s - s0
        kind[item[has_bend]] = _BEND
        start_x[item[has_bend]] = x_bend[has_bend]
        xi = x_in[d]
        p = pred[d]
        at_rest = ~has_bend & ((p < 0) | (xi <= 1e-6))
        cont = ~has_bend & ~at_rest
        pc = np.where(cont, p, 0)
        turn = cont & (xi < x_out[pc] - 1e-6)
        kind[item[turn]] = _TURN
        start_x[item[turn]] = xi[turn]
        if apex_key.size and np.any(turn):
            # a bend merged through the junction with its apex on the incoming link: the
            # run-up starts at that apex, at the cap (the cap's hold runs from there)
            ti = np.flatnonzero(turn)
            pos = np.minimum(np.searchsorted(apex_key, pc[ti] * n_dir + d[ti]), apex_key.size - 1)
            hit = apex_key[pos] == pc[ti] * n_dir + d[ti]
            ti, back = ti[hit], apex_m[pos[hit]]
            end = net.dl_length_m[pc[ti]]
            rec_item.append(item[ti])
            rec_step.append(np.full(ti.size, step + 1))
            rec_d.append(pc[ti])
            rec_s0.append(end - back)
            rec_s1.append(end)
            length[item[ti]] += back
            kind[item[ti]] = _BEND
        go = np.flatnonzero(cont & ~turn)
        it_go = item[go]
        move = power[it_go] == lam[it_go]
        tort[it_go[move]] = d[go[move]]
        power[it_go[move]] *= 2
        lam[it_go[move]] = 0
        lam[it_go] += 1
        nxt = p[go]
        cyc = nxt == tort[it_go]
        looped.extend(zip(it_go[cyc].tolist(), lam[it_go[cyc]].tolist(), strict=True))
        item, d = it_go[~cyc], nxt[~cyc]
        s = net.dl_length_m[d]
        step += 1
    pieces: list[list[tuple[int, float, float]]] = [[] for _ in range(n)]
    if rec_item:
        it = np.concatenate(rec_item)
        order = np.lexsort((-np.concatenate(rec_step), it))
        it = it[order]
        dd = np.concatenate(rec_d)[order].tolist()
        a = np.concatenate(rec_s0)[order].tolist()
        b = np.concatenate(rec_s1)[order].tolist()
        bounds = np.searchsorted(it, np.arange(n + 1)).tolist()
        for i in range(n):
            lo, hi = bounds[i], bounds[i + 1]
            pieces[i] = list(zip(dd[lo:hi], a[lo:hi], b[lo:hi], strict=True))
    for i, cycle in looped:
        # pieces run start -> point: walk order is reversed; mu = first link of the cycle
        walk = pieces[i][::-1]
        links = [w[0] for w in walk]
        # the walk stopped on the link before the tortoise came round again: its last
        # ``cycle`` links are the loop
        on_loop = set(links[len(links) - cycle :])
        mu = next(k for k, lk in enumerate(links) if lk in on_loop)
        # a point-by-point walk stops before revisiting; a one-link loop is walked twice
        stop = mu + max(cycle, 2) - 1
        if stop >= len(walk):
            walk.append((links[mu], 0.0, float(net.dl_length_m[links[mu]])))
        walk = walk[: stop + 1]
        total = 0.0
        for _, w0, w1 in walk:
            total += w1 - w0
        pieces[i] = walk[::-1]
        length[i] = total
        kind[i] = _TURN
        start_x[i] = x_in[walk[-1][0]]
    return Runups(pieces, length, [_KIND_NAMES[k] for k in kind.tolist()], start_x)


def runup_path(
    net: Network, vf: VehicleField, directed: int, s_m: float
) -> tuple[list[tuple[int, float, float]], float, str, float]:
    """Run-up of one point: (pieces start to point, length m, start kind, start speed m/s)."""
    r = runups(net, vf, np.array([directed]), np.array([s_m]))
    return (
        r.pieces[0],
        float(r.length_m[0]),
        r.start_kind[0],
        float(vf.kin.v_of_x(r.start_x_m)[0]),
    )


class _RunupQueue:
    """Run-up requests of vehicle entries, resolved together: one walk per vehicle."""

    def __init__(self, n_fields: int) -> None:
        self.items: list[list[tuple[int, float, VehicleEntry, bool]]] = [
            [] for _ in range(n_fields)
        ]

    def add(self, fi: int, directed: int, s_m: float, ve: VehicleEntry, set_x: bool) -> None:
        self.items[fi].append((directed, s_m, ve, set_x))

    def resolve(self, net: Network, fields: list[VehicleField]) -> None:
        for vf, reqs in zip(fields, self.items, strict=True):
            if not reqs:
                continue
            d_arr = np.array([q[0] for q in reqs], dtype=np.int64)
            s_arr = np.array([q[1] for q in reqs], dtype=float)
            r = runups(net, vf, d_arr, s_arr)
            v0 = vf.kin.v_of_x(r.start_x_m)
            x_eq = vf.x_at(d_arr, s_arr)
            for j, (_, _, ve, set_x) in enumerate(reqs):
                ve.runup_pieces = r.pieces[j]
                ve.runup_m = round(float(r.length_m[j]), 1)
                if set_x:
                    ve.equivalent_runup_m = round(float(x_eq[j]), 1)
                ve.runup_start = r.start_kind[j]
                ve.runup_start_speed_kmh = round(float(v0[j]) * 3.6, 1)
        self.items = [[] for _ in self.items]


def _directed_piece(net: Network, d: int, s0: float, s1: float) -> list[tuple[float, float]]:
    link = d // 2
    length = float(net.link_length_m[link])
    line = net.link_lines[link]
    part = substring(line, s0, s1) if d % 2 == 0 else substring(line, length - s1, length - s0)
    coords = [(float(a), float(b)) for a, b in np.asarray(part.coords)] if not part.is_empty else []
    if d % 2 == 1:
        coords.reverse()
    return coords


@dataclass
class CrossingTable:
    """Inbound crossings of links over site boundaries, one row per crossing (arrays).

    ``site`` index into the sites, ``link``, inbound ``directed`` link, ``s_m`` from its tail,
    ``x``/``y`` of the crossing point (m, local CRS). Rows are grouped by site, then by link.
    """

    site: IntArray
    link: IntArray
    directed: IntArray
    s_m: FloatArray
    x: FloatArray
    y: FloatArray


def _empty_crossings() -> CrossingTable:
    zi = np.zeros(0, dtype=np.int64)
    z = np.zeros(0)
    return CrossingTable(zi, zi, zi, z, z, z)


def crossing_table(net: Network, sites: Sequence[BaseGeometry]) -> CrossingTable:
    """Inbound crossings of every site at once.

    One STRtree bulk query of all site boundaries against the links, vectorised
    intersections, projections and point-in-polygon tests (shapely 2); only the removal of
    repeated points (closer than 1 m along a link, where a way touches a corner) is a Python
    loop over the crossing points.
    """
    if net.n_links == 0 or not sites:
        return _empty_crossings()
    geoms = np.empty(len(sites), dtype=object)
    geoms[:] = list(sites)
    shapely.prepare(geoms)
    boundaries = shapely.boundary(geoms)
    cut = _cut_crossings(net, geoms, boundaries)
    ends = _outline_end_crossings(net, geoms, boundaries)
    if ends.site.size == 0:
        return cut
    # a way ending on the outline where another carries on inside is one crossing, not two
    keep = np.array(
        [
            not np.any(
                (cut.site == ends.site[k]) & (np.hypot(cut.x - ends.x[k], cut.y - ends.y[k]) < 1.0)
            )
            for k in range(ends.site.size)
        ],
        dtype=bool,
    )
    cols = [
        np.concatenate((a, b[keep])) for a, b in zip(_columns(cut), _columns(ends), strict=True)
    ]
    order = np.lexsort((cols[1], cols[0]))
    return CrossingTable(*(c[order] for c in cols))


def _columns(t: CrossingTable) -> list[np.ndarray]:
    """The columns of a crossing table, in field order."""
    return [t.site, t.link, t.directed, t.s_m, t.x, t.y]


ON_OUTLINE_M = 0.5
"""m: a link's end this close to a site's boundary lies on the outline (ASSUMPTION)."""
OUTLINE_BACK_M = 2.0
"""m: how far back along a link ending on the outline it must lie outside (ASSUMPTION)."""
OUTLINE_AHEAD_M = ON_OUTLINE_M + 2.0
"""m: how far on its last direction a link ending on the outline is produced (ASSUMPTION)."""
OUTLINE_INSIDE_M = 0.25
"""m: how far inside the produced point must lie: a way pointing in, not along the edge, at
more than asin(0.25 / 2.5), about 6 degrees, to it (ASSUMPTION)."""


def _outline_end_crossings(
    net: Network, geoms: np.ndarray, boundaries: np.ndarray
) -> CrossingTable:
    """Links ending on a site's outline (within ``ON_OUTLINE_M``) pointing inwards.

    The street stops at a node of the outline, so it has no point inside the site and the
    boundary-intersection test finds no crossing; it is one all the same when the point
    ``OUTLINE_BACK_M`` before its end lies outside, farther than ``ON_OUTLINE_M`` from the
    boundary (not along it: the outline itself is no way in), and its last direction produced
    ``OUTLINE_AHEAD_M`` past the end lies inside, at least ``OUTLINE_INSIDE_M`` from the
    boundary (it points into the site, not along the edge). A link starting on the outline and
    leaving it is the same crossing in reverse. Local CRS, m.
    """
    q_site, q_link = net.link_tree.query(boundaries, predicate="dwithin", distance=ON_OUTLINE_M)
    if q_site.size == 0:
        return _empty_crossings()
    q_site, q_link = q_site.astype(np.int64), q_link.astype(np.int64)
    lines = net.link_lines[q_link]
    length = net.link_length_m[q_link]
    site_g, bnd = geoms[q_site], boundaries[q_site]
    back_m = np.minimum(OUTLINE_BACK_M, length)
    out: list[CrossingTable] = []
    for at_end in (True, False):
        tip = shapely.line_interpolate_point(lines, length if at_end else 0.0)
        back = shapely.line_interpolate_point(lines, length - back_m if at_end else back_m)
        txy, bxy = shapely.get_coordinates(tip), shapely.get_coordinates(back)
        step = txy - bxy
        norm = np.hypot(step[:, 0], step[:, 1])
        ahead = shapely.points(txy + step / np.maximum(norm, 1e-9)[:, None] * OUTLINE_AHEAD_M)
        ok = (
            (shapely.distance(tip, bnd) <= ON_OUTLINE_M)
            & (norm > 0.1)
            & ~shapely.contains_xy(site_g, bxy[:, 0], bxy[:, 1])
            & (shapely.distance(back, bnd) > ON_OUTLINE_M)
            & shapely.contains(site_g, ahead)
            & (shapely.distance(ahead, bnd) >= OUTLINE_INSIDE_M)
        )
        link = q_link[ok]
        out.append(
            CrossingTable(
                q_site[ok],
                link,
                2 * link if at_end else 2 * link + 1,
                length[ok],
                txy[ok, 0],
                txy[ok, 1],
            )
        )
    cols = [np.concatenate(c) for c in zip(*(_columns(t) for t in out), strict=True)]
    return CrossingTable(*cols)


ON_BOUNDARY_M = 1e-3
"""m: a point this close to the boundary is on it, not inside (rounding of the projection)."""


def _clearly_inside(geoms: np.ndarray, boundaries: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Points inside their site and not on its boundary (a way along the outline, sharing its
    nodes, lies on it up to rounding and is no way in)."""
    inside = shapely.contains_xy(geoms, shapely.get_x(pts), shapely.get_y(pts))
    return inside & (shapely.distance(pts, boundaries) > ON_BOUNDARY_M)


def _cut_crossings(net: Network, geoms: np.ndarray, boundaries: np.ndarray) -> CrossingTable:
    """Inbound crossings where a link cuts a site's boundary (see ``crossing_table``)."""
    q_site, q_link = net.link_tree.query(boundaries, predicate="intersects")
    if q_site.size == 0:
        return _empty_crossings()
    order = np.lexsort((q_link, q_site))
    q_site, q_link = q_site[order].astype(np.int64), q_link[order].astype(np.int64)
    lines = net.link_lines[q_link]
    pt_pair, s_all, xy = cut_points(lines, boundaries[q_site])
    pt_lines = lines[pt_pair]
    # drop points within 1 m (along the link) of an earlier point of the same link and site
    keep = np.zeros(s_all.size, dtype=bool)
    prev = -1
    seen: list[float] = []
    for k, (pair, s) in enumerate(zip(pt_pair.tolist(), s_all.tolist(), strict=True)):
        if pair != prev:
            prev, seen = pair, []
        if any(abs(s - o) < 1.0 for o in seen):
            continue
        seen.append(s)
        keep[k] = True
    pt_pair, s_all, xy, pt_lines = pt_pair[keep], s_all[keep], xy[keep], pt_lines[keep]
    link = q_link[pt_pair]
    site = q_site[pt_pair]
    length = net.link_length_m[link]
    before = shapely.line_interpolate_point(pt_lines, np.maximum(s_all - 0.5, 0.0))
    after = shapely.line_interpolate_point(pt_lines, np.minimum(s_all + 0.5, length))
    in_b = _clearly_inside(geoms[site], boundaries[site], before)
    in_a = _clearly_inside(geoms[site], boundaries[site], after)
    fwd = in_a & ~in_b
    bwd = in_b & ~in_a
    rows = fwd | bwd
    directed = np.where(fwd, 2 * link, 2 * link + 1)
    s_dir = np.where(fwd, s_all, length - s_all)
    return CrossingTable(
        site[rows], link[rows], directed[rows], s_dir[rows], xy[rows, 0], xy[rows, 1]
    )


def find_crossings(net: Network, site: BaseGeometry) -> list[tuple[int, int, float, float, float]]:
    """Inbound crossings of links over the site boundary.

    Returns (link, inbound directed link, s from its tail m, x, y) for each crossing.
    """
    t = crossing_table(net, [site])
    return [
        (int(a), int(b), float(c), float(d), float(e))
        for a, b, c, d, e in zip(t.link, t.directed, t.s_m, t.x, t.y, strict=True)
    ]


def _blocked_reason(net: Network, vf: VehicleField, link: int, directed: int, s: float) -> str:
    if net.link_width_m[link] < vf.vehicle.width_m - 1e-9:
        return "too narrow"
    if vf.barrier_before(directed, s):
        return "rated barrier"
    return "unreachable"


def crossing_entries_bulk(
    net: Network,
    sites: Sequence[BaseGeometry],
    fields: list[VehicleField],
    queue: _RunupQueue | None = None,
) -> list[list[Entry]]:
    """Assess every inbound crossing of every site for every vehicle (vectorised over all
    crossings of all sites per vehicle); one list of crossing entries per site. Run-ups are
    filled in at the end, or by the caller's ``queue`` if given."""
    own = queue is None
    queue = queue or _RunupQueue(len(fields))
    t = crossing_table(net, sites)
    out: list[list[Entry]] = [[] for _ in sites]
    n = t.link.size
    if n == 0:
        return out
    per_vehicle: list[list[VehicleEntry]] = []
    for fi, vf in enumerate(fields):
        x = vf.x_at(t.directed, t.s_m)
        v = vf.kin.v_of_x(np.maximum(x, 0.0))
        reach = np.isfinite(x)
        rows: list[VehicleEntry] = []
        for i in range(n):
            if reach[i]:
                ve = _vehicle_entry(vf, float(v[i]))
                ve.equivalent_runup_m = round(float(x[i]), 1)
                ve.impact_speed_kmh = ve.speed_kmh
                ve.impact_angle_deg = 90.0
            else:
                reason = _blocked_reason(
                    net, vf, int(t.link[i]), int(t.directed[i]), float(t.s_m[i])
                )
                ve = _blocked_entry(vf, reason)
            rows.append(ve)
            if reach[i]:
                queue.add(fi, int(t.directed[i]), float(t.s_m[i]), ve, False)
        per_vehicle.append(rows)
    for i in range(n):
        link, d, s = int(t.link[i]), int(t.directed[i]), float(t.s_m[i])
        px, py = float(t.x[i]), float(t.y[i])
        _, _, bearing = net.point_at(link, float(net.link_length_m[link]) - s if d % 2 else s)
        if d % 2:
            bearing += math.pi
        bearing_deg = round(math.degrees(bearing) % 360.0, 1)
        vehicles = [rows[i] for rows in per_vehicle]
        for ve in vehicles:
            if ve.speed_kmh is not None:
                ve.approach_bearing_deg = bearing_deg
        out[int(t.site[i])].append(
            Entry(
                kind="crossing",
                x=px,
                y=py,
                bearing_deg=bearing_deg,
                link=link,
                way_id=int(net.link_way_id[link]),
                street=net.link_name[link],
                geometry_xy=[(px, py)],
                length_m=0.0,
                vehicles=vehicles,
                directed=d,
                s_m=s,
                attack_links=[link],
                width_m=float(net.link_width_m[link]),
            )
        )
    if own:
        queue.resolve(net, fields)
    return out


def crossing_entries(net: Network, site: BaseGeometry, fields: list[VehicleField]) -> list[Entry]:
    """Assess every inbound crossing of one site for every vehicle."""
    return crossing_entries_bulk(net, [site], fields)[0]


def swerve(
    speed_ms: np.ndarray, room_m: np.ndarray, lateral_ms2: float
) -> tuple[np.ndarray, np.ndarray]:
    """Normal impact speed (m/s) and approach angle (rad) of the frontage swerve model."""
    v = np.asarray(speed_ms, dtype=float)
    c = np.asarray(room_m, dtype=float) * lateral_ms2
    with np.errstate(divide="ignore", invalid="ignore"):
        full_turn = v * v <= c
        normal = np.where(
            full_turn, v, np.sqrt(np.maximum(2 * c - (c / np.where(v > 0, v, 1.0)) ** 2, 0.0))
        )
        cos_phi = np.clip(1.0 - c / np.where(v > 0, v * v, 1.0), -1.0, 1.0)
        angle = np.where(full_turn, math.pi / 2, np.arccos(cos_phi))
    return normal, angle


#: Spacing (m) of the points at which a frontage swerve path is checked against obstacles:
#: half the drivable raster's 1 m cell (drivable.CELL_M), so no obstacle cell is stepped over.
SWERVE_STEP_M = 0.5
#: Spacing (m) of the vertices of a swerve path checked against obstacle geometry (exact
#: distances to the polyline): its chords stay within 1.6 cm of the arc for radii of 7.7 m
#: (20 km/h at 4 m/s2) and up (sagitta ``step^2 / 8R``).
SWERVE_POLYLINE_STEP_M = 1.0


@dataclass
class SwervePaths:
    """Points (m, local CRS) of frontage swerve paths off the carriageway, ragged: ``x[k],
    y[k]`` belong to path ``path[k]`` (paths in input order; a path may have no point)."""

    x: FloatArray
    y: FloatArray
    path: IntArray
    n_paths: int


def swerve_paths(
    sx: FloatArray,
    sy: FloatArray,
    nx: FloatArray,
    ny: FloatArray,
    hx: FloatArray,
    hy: FloatArray,
    road_width_m: FloatArray,
    speed_ms: FloatArray,
    lateral_ms2: float,
    step_m: float = SWERVE_STEP_M,
) -> SwervePaths:
    """The path of the frontage swerve (module docstring) from the way's nearest point
    ``(nx, ny)`` to the edge point ``(sx, sy)`` (m, local CRS), sampled every ``step_m`` m
    from where it leaves the carriageway (its near edge) to the edge point.

    Frame: ``n`` the unit vector from the way's point to the edge point, ``t`` the heading
    ``(hx, hy)`` with its ``n`` component removed (any perpendicular when the heading points at
    the edge point). Lateral offset ``u`` is measured from the carriageway's far edge (``u = 0``)
    to the edge point (``u = c``, ``c`` = distance + half the width). The swerve is the arc of
    radius ``R = v^2 / a_lat`` tangent to ``t`` at ``u = 0``: at turn angle ``theta`` it is
    ``R (1 - cos theta)`` across and ``R (sin theta - sin phi)`` along ``t`` from the edge point,
    up to the swerve angle ``phi`` (``cos phi = 1 - c / R``); when ``R <= c`` the arc turns
    90 degrees and a straight run along ``n`` follows. The carriageway itself is trusted
    drivable (the road field trusts the width tags), so points with ``u`` below the
    carriageway width are left out.
    """
    dx, dy = sx - nx, sy - ny
    dist = np.hypot(dx, dy)
    ux = np.where(dist > 0, dx / np.where(dist > 0, dist, 1.0), 0.0)
    uy = np.where(dist > 0, dy / np.where(dist > 0, dist, 1.0), 0.0)
    along = hx * ux + hy * uy
    tx, ty = hx - along * ux, hy - along * uy
    tn = np.hypot(tx, ty)
    flat = tn < 1e-9
    tx = np.where(flat, -uy, tx / np.where(flat, 1.0, tn))
    ty = np.where(flat, ux, ty / np.where(flat, 1.0, tn))
    half = road_width_m / 2.0
    c = dist + half
    u0 = np.minimum(road_width_m, c)
    radius = np.asarray(speed_ms, dtype=float) ** 2 / lateral_ms2
    r_safe = np.where(radius > 0, radius, 1.0)
    # turn angle where the arc reaches the lateral offset u (pi/2 beyond R)
    th0 = np.where(radius > u0, np.arccos(np.clip(1.0 - u0 / r_safe, -1.0, 1.0)), math.pi / 2)
    phi = np.where(radius > c, np.arccos(np.clip(1.0 - c / r_safe, -1.0, 1.0)), math.pi / 2)
    arc_m = np.where(radius > 0, radius * (phi - th0), 0.0)
    straight_m = np.maximum(c - np.maximum(radius, u0), 0.0)
    total = arc_m + straight_m
    n_pts = np.where(c > u0, np.ceil(total / step_m).astype(np.int64) + 1, 0)
    path = np.repeat(np.arange(sx.size), n_pts)
    first = np.cumsum(n_pts) - n_pts
    # per-path terms computed per path, then repeated (elementwise: the same floats)
    arc_p = arc_m[path]
    sigma = np.minimum((np.arange(path.size) - first[path]) * step_m, total[path])
    on_arc = sigma < arc_p
    r = radius[path]
    theta = np.where(on_arc, th0[path] + sigma / r_safe[path], phi[path])
    a = np.where(on_arc, r * (np.sin(theta) - np.sin(phi)[path]), 0.0)
    u = np.where(
        on_arc,
        r * (1.0 - np.cos(theta)),
        np.maximum(radius, u0)[path] + (sigma - arc_p),
    )
    lat = np.minimum(u - c[path], 0.0)
    x = sx[path] + a * tx[path] + lat * ux[path]
    y = sy[path] + a * ty[path] + lat * uy[path]
    return SwervePaths(x, y, path, int(sx.size))


def clear_on_raster(paths: SwervePaths, drivable: Drivable, half_width_m: float) -> BoolArray:
    """Per path: every point lies on the raster where the vehicle fits (clearance at least
    ``half_width_m``, outside the site's interior)."""
    cell = drivable.grid.cell_of(paths.x, paths.y)
    clear = np.where(
        cell >= 0,
        drivable.clearance_m.ravel()[np.maximum(cell, 0)].astype(float),
        -1.0,
    )
    clear = np.where((cell >= 0) & drivable.inside.ravel()[np.maximum(cell, 0)], -1.0, clear)
    bad = np.zeros(paths.n_paths, dtype=bool)
    bad[paths.path[clear < half_width_m]] = True
    return ~bad


@dataclass
class Obstacles:
    """Obstacle geometry (buildings, walls, water, ... of :class:`drivable.Features`) for the
    road-graph frontage, without a raster: one STRtree over areas and lines (local CRS)."""

    geoms: NDArray[np.object_]
    tree: shapely.STRtree | None

    @classmethod
    def of(cls, features: Features, sites: Sequence[BaseGeometry] = ()) -> Obstacles:
        """The obstacles of ``features``, less those lying more than half inside one of
        ``sites`` (a site's own building, as :func:`drivable.drivable_space` leaves out)."""
        geoms = np.asarray(list(features.areas) + list(features.lines), dtype=object)
        if geoms.size and sites:
            site_arr = np.asarray(list(sites), dtype=object)
            tree = shapely.STRtree(site_arr)
            g_idx, s_idx = tree.query(geoms, predicate="intersects")
            if g_idx.size:
                area = shapely.area(geoms[g_idx])
                share = shapely.area(shapely.intersection(geoms[g_idx], site_arr[s_idx]))
                own = np.unique(g_idx[(area > 0) & (share > 0.5 * area)])
                geoms = np.delete(geoms, own)
        return cls(geoms, shapely.STRtree(geoms) if geoms.size else None)


def clear_of_obstacles(paths: SwervePaths, obstacles: Obstacles, half_width_m: float) -> BoolArray:
    """Per path: no obstacle within ``half_width_m`` of the polyline through its points."""
    ok = np.ones(paths.n_paths, dtype=bool)
    if paths.path.size == 0 or obstacles.tree is None:
        return ok
    counts = np.bincount(paths.path, minlength=paths.n_paths)
    coords = np.column_stack([paths.x, paths.y])
    # a one-point path is its point drawn twice
    single = counts[paths.path] == 1
    coords = np.vstack([coords, coords[single]])
    index = np.concatenate([paths.path, paths.path[single]])
    order = np.argsort(index, kind="stable")
    has, dense = np.unique(index[order], return_inverse=True)
    lines = shapely.linestrings(coords[order], indices=dense)
    hit, _ = obstacles.tree.query(lines, predicate="dwithin", distance=half_width_m)
    ok[has[np.unique(hit)]] = False
    return ok


PathCheck = Callable[[SwervePaths, float], BoolArray]


@dataclass
class _SwerveGeometry:
    """Pairs (edge point, link) of the frontage model: the edge point ``sx, sy``, the link's
    nearest point ``nx, ny``, its u->v direction ``dx, dy`` there (any length) and its
    carriageway width (m, local CRS); ``check`` tells which swerve paths are drivable."""

    sx: FloatArray
    sy: FloatArray
    nx: FloatArray
    ny: FloatArray
    dx: FloatArray
    dy: FloatArray
    width_m: FloatArray
    check: PathCheck
    step_m: float = SWERVE_STEP_M

    def passable(self, vf: VehicleField, v_ms: FloatArray, forward: bool) -> BoolArray:
        """Whether the swerve at ``v_ms`` (m/s, travelling u->v if ``forward``) reaches the
        edge point through drivable ground for the vehicle of ``vf``; True where ``v_ms``
        gives no swerve (NaN or 0: nothing to check)."""
        go = np.flatnonzero(np.isfinite(v_ms) & (v_ms > 0))
        ok = np.ones(v_ms.size, dtype=bool)
        if go.size == 0:
            return ok
        sign = 1.0 if forward else -1.0
        norm = np.hypot(self.dx[go], self.dy[go])
        norm = np.where(norm > 0, norm, 1.0)
        paths = swerve_paths(
            self.sx[go],
            self.sy[go],
            self.nx[go],
            self.ny[go],
            sign * self.dx[go] / norm,
            sign * self.dy[go] / norm,
            self.width_m[go],
            v_ms[go],
            vf.vehicle.lateral_accel_ms2,
            self.step_m,
        )
        ok[go] = self.check(paths, vf.vehicle.width_m / 2.0)
        return ok


def _swerve_both_ways(
    vf: VehicleField,
    pair_link: IntArray,
    s_link: FloatArray,
    length_m: FloatArray,
    room_m: FloatArray,
    geometry: _SwerveGeometry | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
    """The frontage swerve of one vehicle from every pair (link, ``s_link`` m from its start)
    in the better of its two directions of travel: road speed (m/s), normal speed (m/s, -1
    where the way is not reached or, with ``geometry``, the swerve path is not drivable),
    swerve angle (rad) and whether travelling u->v is the better direction (ties: the faster
    road speed, then u->v)."""
    a_lat = vf.vehicle.lateral_accel_ms2
    if geometry is None:
        # the normal speed grows with the road speed: the faster direction is the better one
        v_f = vf.speed_at_ms(2 * pair_link, s_link)
        v_b = vf.speed_at_ms(2 * pair_link + 1, length_m - s_link)
        fwd = np.nan_to_num(v_f, nan=-1.0) >= np.nan_to_num(v_b, nan=-1.0)
        v = np.where(fwd, v_f, v_b)
        normal, angle = swerve(np.nan_to_num(v, nan=0.0), room_m, a_lat)
        return v, np.where(np.isfinite(v), normal, -1.0), angle, fwd
    ways = []
    for d, s in ((2 * pair_link, s_link), (2 * pair_link + 1, length_m - s_link)):
        v = vf.speed_at_ms(d, s)
        normal, angle = swerve(np.nan_to_num(v, nan=0.0), room_m, a_lat)
        ways.append((v, np.where(np.isfinite(v), normal, -1.0), angle))
    (v_f, n_f, a_f), (v_b, n_b, a_b) = ways
    # only the swerve paths that decide are checked (a blocked path counts -1): the leading
    # direction's everywhere, the other's where the leader's is blocked or the two tie; where
    # the leader's passes and is faster, the other cannot win whatever its path
    lead_f = n_f >= n_b
    ok_f = geometry.passable(vf, np.where(lead_f, v_f, np.nan), True)
    ok_b = geometry.passable(vf, np.where(lead_f, np.nan, v_b), False)
    other = ~np.where(lead_f, ok_f, ok_b) | (n_f == n_b)
    ok_f &= geometry.passable(vf, np.where(other & ~lead_f, v_f, np.nan), True)
    ok_b &= geometry.passable(vf, np.where(other & lead_f, v_b, np.nan), False)
    n_f, n_b = np.where(ok_f, n_f, -1.0), np.where(ok_b, n_b, -1.0)
    fwd = (n_f > n_b) | (
        (n_f == n_b) & (np.nan_to_num(v_f, nan=-1.0) >= np.nan_to_num(v_b, nan=-1.0))
    )
    return np.where(fwd, v_f, v_b), np.where(fwd, n_f, n_b), np.where(fwd, a_f, a_b), fwd


def _rings(site: BaseGeometry) -> list[LineString]:
    rings: list[LineString] = []
    polys = list(site.geoms) if site.geom_type == "MultiPolygon" else [site]  # type: ignore[attr-defined]
    for poly in polys:
        rings.append(LineString(poly.exterior.coords))
        rings.extend(LineString(r.coords) for r in poly.interiors)
    return rings


def frontage_entries_bulk(
    net: Network,
    sites: Sequence[BaseGeometry],
    fields: list[VehicleField],
    crossings: Sequence[Sequence[Entry]],
    frontage_m: float = DEFAULT_FRONTAGE_M,
    step_m: float = FRONTAGE_STEP_M,
    queue: _RunupQueue | None = None,
    obstacles: Obstacles | None = None,
) -> list[list[Entry]]:
    """Boundary stretches within ``frontage_m`` (m) of a traversable way outside each site.

    With ``obstacles`` (buildings, walls, water, ...: :meth:`Obstacles.of`) a swerve counts
    only where its path (:func:`swerve_paths`) keeps half the vehicle's width clear of every
    obstacle, so a façade row between the way and the site shuts the frontage.

    The boundary rings of all sites are sampled every ``step_m`` m and queried against the
    links in one STRtree bulk query; nearest points, the swerve model and the best sample per
    vehicle are numpy operations over all samples of all sites; the run-ups of the reported
    vehicle entries are reconstructed together per vehicle (:func:`runups`). ``crossings``
    (per site) are excluded: a vehicle on a crossing way is assessed as a crossing.
    """
    out: list[list[Entry]] = [[] for _ in sites]
    own = queue is None
    queue = queue or _RunupQueue(len(fields))
    ring_site: list[int] = []
    ring_geoms: list[LineString] = []
    for si, site in enumerate(sites):
        for ring in _rings(site):
            ring_site.append(si)
            ring_geoms.append(ring)
    if not ring_geoms or net.n_links == 0:
        if own:
            queue.resolve(net, fields)
        return out
    site_arr = np.empty(len(sites), dtype=object)
    site_arr[:] = list(sites)
    shapely.prepare(site_arr)
    ring_len = [float(r.length) for r in ring_geoms]
    n_r = [max(int(math.ceil(length / step_m)), 3) for length in ring_len]
    ring_off = np.concatenate([[0], np.cumsum(n_r)]).astype(np.int64)
    dist = np.concatenate(
        [
            np.linspace(0.0, length, n, endpoint=False)
            for length, n in zip(ring_len, n_r, strict=True)
        ]
    )
    ring_arr = np.empty(len(ring_geoms), dtype=object)
    ring_arr[:] = ring_geoms
    sample_ring = np.repeat(np.arange(len(ring_geoms)), n_r)
    samples = shapely.line_interpolate_point(ring_arr[sample_ring], dist)
    n_samples = samples.size
    pair_pt, pair_link = net.link_tree.query(samples, predicate="dwithin", distance=frontage_m)
    pair_pt = pair_pt.astype(np.int64)
    pair_link = pair_link.astype(np.int64)
    ring_site_arr = np.asarray(ring_site, dtype=np.int64)
    pair_site = ring_site_arr[sample_ring[pair_pt]]
    lines = net.link_lines[pair_link]
    s_link = shapely.line_locate_point(lines, samples[pair_pt])
    near = shapely.line_interpolate_point(lines, s_link)
    nx, ny = shapely.get_x(near), shapely.get_y(near)
    sample_x, sample_y = shapely.get_x(samples), shapely.get_y(samples)
    sx, sy = sample_x[pair_pt], sample_y[pair_pt]
    keep = ~shapely.contains_xy(site_arr[pair_site], nx, ny)
    dist_m = np.hypot(sx - nx, sy - ny)
    # a sample next to a crossing of the same way belongs to the crossing, not to frontage
    cross_pts: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for si, site_crossings in enumerate(crossings):
        for e in site_crossings:
            if e.link is not None:
                cross_pts.setdefault((si, e.link), []).append((e.x, e.y))
    if cross_pts:
        keys = np.array([si * net.n_links + lk for si, lk in cross_pts], dtype=np.int64)
        cand = keep & np.isin(pair_site * net.n_links + pair_link, keys)
        for kk in np.flatnonzero(cand):
            k = int(kk)
            link = int(pair_link[k])
            for cx, cy in cross_pts[(int(pair_site[k]), link)]:
                if math.hypot(sx[k] - cx, sy[k] - cy) < net.link_width_m[link] / 2 + 2.0:
                    keep[k] = False
                    break
    pair_pt, pair_link, s_link, dist_m = pair_pt[keep], pair_link[keep], s_link[keep], dist_m[keep]
    if pair_pt.size == 0:
        if own:
            queue.resolve(net, fields)
        return out
    room = dist_m + net.link_width_m[pair_link] / 2.0
    length = net.link_length_m[pair_link]
    geometry = None
    if obstacles is not None:
        _, _, road_dx, road_dy = net.segments_at(pair_link, s_link)
        blocked = obstacles

        def check(paths: SwervePaths, half_width_m: float) -> BoolArray:
            return clear_of_obstacles(paths, blocked, half_width_m)

        geometry = _SwerveGeometry(
            sx[keep],
            sy[keep],
            nx[keep],
            ny[keep],
            road_dx,
            road_dy,
            net.link_width_m[pair_link],
            check,
            SWERVE_POLYLINE_STEP_M,
        )
    # per vehicle, per sample: best normal speed and the pair (speed/angle) achieving it
    per_vehicle = []
    exposed = np.zeros(n_samples, dtype=bool)
    for vf in fields:
        v, normal, angle, fwd_better = _swerve_both_ways(
            vf, pair_link, s_link, length, room, geometry
        )
        best = np.full(n_samples, -1.0)
        np.maximum.at(best, pair_pt, normal)
        win = normal >= best[pair_pt] - 1e-12
        arg = np.full(n_samples, -1, dtype=np.int64)
        # the last winning pair of a sample is kept (pairs are in query order per sample)
        arg[pair_pt[win]] = np.flatnonzero(win)
        per_vehicle.append((best, arg, v, angle, fwd_better))
        exposed |= best > 0
    pair_ptr = np.searchsorted(pair_pt, np.arange(n_samples + 1))
    best_all = np.vstack([pv[0] for pv in per_vehicle]) if per_vehicle else np.zeros((0, 0))
    # approach bearings need the road direction at each worst pair: computed at the end
    bearing_rows: list[tuple[VehicleEntry, int, float, bool, float, float, float]] = []
    for r, ring in enumerate(ring_geoms):
        off, n = int(ring_off[r]), n_r[r]
        rdist = dist[off : off + n]
        ring_xy, ring_cum = _ring_steps(ring)
        for run in _runs(exposed[off : off + n]):
            local = np.asarray(run)
            idx = local + off
            d0 = max(rdist[local[0]] - step_m / 2, 0.0)
            d1 = min(rdist[local[-1]] + step_m / 2, ring_len[r])
            if local[-1] < local[0]:  # the run wraps past the ring's start
                head = _substring_xy(ring, ring_xy, ring_cum, d0, ring_len[r])
                tail = _substring_xy(ring, ring_xy, ring_cum, 0.0, d1)
                geometry_xy = head + tail[1:]
                run_length = (ring_len[r] - d0) + d1
            else:
                geometry_xy = _substring_xy(ring, ring_xy, ring_cum, d0, d1)
                run_length = d1 - d0
            vehicles = []
            best_energy, worst_sample = -1.0, int(idx[0])
            sub = best_all[:, idx]
            reached = np.any(sub > 0, axis=1).tolist()
            worst = idx[np.argmax(sub, axis=1)].tolist()
            for fi, (vf, (best, arg, v, angle, fwd_better)) in enumerate(
                zip(fields, per_vehicle, strict=True)
            ):
                if not reached[fi]:
                    vehicles.append(_blocked_entry(vf, "no traversable way within reach"))
                    continue
                jw = int(worst[fi])
                k = int(arg[jw])
                ve = _vehicle_entry(vf, float(best[jw]))
                ve.impact_speed_kmh = round(float(v[k]) * 3.6, 1)
                ve.impact_angle_deg = round(math.degrees(float(angle[k])), 1)
                link = int(pair_link[k])
                fwd = bool(fwd_better[k])
                d = 2 * link if fwd else 2 * link + 1
                s = float(s_link[k]) if fwd else float(length[k] - s_link[k])
                queue.add(fi, d, s, ve, True)
                wx_, wy_ = float(sample_x[jw]), float(sample_y[jw])
                ve.runup_tail_xy = [(wx_, wy_)]
                ve.worst_xy = (wx_, wy_)
                bearing_rows.append((ve, link, float(s_link[k]), fwd, float(angle[k]), wx_, wy_))
                if ve.energy_kj is not None and ve.energy_kj > best_energy:
                    best_energy, worst_sample = ve.energy_kj, jw
                vehicles.append(ve)
            lo, hi = int(pair_ptr[off]), int(pair_ptr[off + n])
            in_run = np.zeros(n_samples, dtype=bool)
            in_run[idx] = True
            links = sorted(set(pair_link[lo:hi][in_run[pair_pt[lo:hi]]].tolist()))
            wx = float(sample_x[worst_sample])
            wy = float(sample_y[worst_sample])
            out[ring_site[r]].append(
                Entry(
                    kind="frontage",
                    x=wx,
                    y=wy,
                    bearing_deg=None,
                    link=None,
                    way_id=None,
                    street=", ".join(
                        sorted({net.link_name[lk] for lk in links if net.link_name[lk]})
                    ),
                    geometry_xy=geometry_xy,
                    length_m=round(float(run_length), 1),
                    vehicles=vehicles,
                    attack_links=links,
                )
            )
    if bearing_rows:
        px, py, dx, dy = net.segments_at(
            np.array([b[1] for b in bearing_rows], dtype=np.int64),
            np.array([b[2] for b in bearing_rows], dtype=float),
        )
        for j, (ve, _, _, fwd, angle_k, wx_, wy_) in enumerate(bearing_rows):
            road_bearing = math.atan2(float(dx[j]), float(dy[j]))
            heading = road_bearing if fwd else road_bearing + math.pi
            side = math.sin(heading) * (wy_ - float(py[j])) - math.cos(heading) * (
                wx_ - float(px[j])
            )
            # turn towards the boundary point by the swerve angle
            turn = angle_k if side < 0 else -angle_k
            ve.approach_bearing_deg = round(math.degrees(heading + turn) % 360.0, 1)
    if own:
        queue.resolve(net, fields)
    return out


def frontage_entries(
    net: Network,
    site: BaseGeometry,
    fields: list[VehicleField],
    crossings: list[Entry],
    frontage_m: float = DEFAULT_FRONTAGE_M,
    step_m: float = FRONTAGE_STEP_M,
) -> list[Entry]:
    """Boundary stretches of one site within ``frontage_m`` of a traversable way outside it."""
    return frontage_entries_bulk(net, [site], fields, [crossings], frontage_m, step_m)[0]


@dataclass
class FrontageAt:
    """The frontage model at given edge points for one vehicle (arrays over the points).

    ``normal_kmh`` the normal impact speed (NaN: no traversable way within reach),
    ``impact_kmh`` the road speed at the swerve, ``angle_deg`` the swerve angle to the edge
    (90 = head-on), ``directed``/``s_m`` the point of the road where the swerve starts (for the
    run-up), ``bearing_deg`` the approach bearing.
    """

    normal_kmh: FloatArray
    impact_kmh: FloatArray
    angle_deg: FloatArray
    directed: IntArray
    s_m: FloatArray
    bearing_deg: FloatArray


def frontage_at(
    net: Network,
    site: BaseGeometry,
    x: FloatArray,
    y: FloatArray,
    fields: Sequence[VehicleField],
    crossings: Sequence[Entry],
    excluded: np.ndarray,
    frontage_m: float = DEFAULT_FRONTAGE_M,
    *,
    drivable: Drivable | None = None,
) -> list[FrontageAt]:
    """The frontage swerve model (module docstring) at the edge points ``x, y`` (m, local
    CRS) of ``site``: per vehicle the best over the links within ``frontage_m`` m outside the
    site, as :func:`frontage_entries_bulk` rates its 5 m samples. Links flagged in
    ``excluded`` (grade-separated, the site's own outline) give nothing; a point within half
    the carriageway plus 2 m of a crossing of the same link belongs to the crossing. With the
    site's ``drivable`` raster a swerve counts only where its path (:func:`swerve_paths`) runs
    through cells where the vehicle fits (clearance at least half its width), so a building,
    wall or water between the way and the edge shuts it."""
    n = x.size
    pts = shapely.points(np.column_stack([x, y])) if n else np.zeros(0, dtype=object)
    pair_pt, pair_link = (
        net.link_tree.query(pts, predicate="dwithin", distance=frontage_m)
        if n and net.n_links
        else (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    )
    pair_pt, pair_link = pair_pt.astype(np.int64), pair_link.astype(np.int64)
    keep = ~excluded[pair_link] if pair_link.size else np.zeros(0, dtype=bool)
    lines = net.link_lines[pair_link]
    s_link = np.asarray(shapely.line_locate_point(lines, pts[pair_pt]), dtype=float)
    near = shapely.line_interpolate_point(lines, s_link)
    nx, ny = shapely.get_x(near), shapely.get_y(near)
    sx, sy = x[pair_pt], y[pair_pt]
    if pair_pt.size:
        keep &= ~shapely.contains_xy(site, nx, ny)
    for e in crossings:
        if e.link is None:
            continue
        half = net.link_width_m[e.link] / 2 + 2.0
        keep &= ~((pair_link == e.link) & (np.hypot(sx - e.x, sy - e.y) < half))
    pair_pt, pair_link, s_link = pair_pt[keep], pair_link[keep], s_link[keep]
    sx, sy, nx, ny = sx[keep], sy[keep], nx[keep], ny[keep]
    room = np.hypot(sx - nx, sy - ny) + net.link_width_m[pair_link] / 2.0
    length = net.link_length_m[pair_link]
    if pair_link.size:
        _, _, dx, dy = net.segments_at(pair_link, s_link)
        road_bearing = np.arctan2(dx, dy)
    else:
        dx = dy = road_bearing = np.zeros(0)
    geometry = None
    if drivable is not None:
        raster = drivable

        def check(paths: SwervePaths, half_width_m: float) -> BoolArray:
            return clear_on_raster(paths, raster, half_width_m)

        geometry = _SwerveGeometry(sx, sy, nx, ny, dx, dy, net.link_width_m[pair_link], check)
    out: list[FrontageAt] = []
    for vf in fields:
        v, normal, angle, fwd = _swerve_both_ways(vf, pair_link, s_link, length, room, geometry)
        normal = np.where(np.isfinite(v) & (v > 0), normal, -1.0)
        best = np.full(n, -1.0)
        np.maximum.at(best, pair_pt, normal)
        win = (normal >= best[pair_pt] - 1e-12) & (normal > 0)
        arg = np.full(n, -1, dtype=np.int64)
        arg[pair_pt[win]] = np.flatnonzero(win)
        ok = arg >= 0
        k = arg[ok]
        heading = np.where(fwd[k], road_bearing[k], road_bearing[k] + math.pi)
        side = np.sin(heading) * (y[ok] - ny[k]) - np.cos(heading) * (x[ok] - nx[k])
        turn = np.where(side < 0, angle[k], -angle[k])
        res = FrontageAt(
            np.full(n, np.nan),
            np.full(n, np.nan),
            np.full(n, np.nan),
            np.full(n, -1, dtype=np.int64),
            np.full(n, np.nan),
            np.full(n, np.nan),
        )
        res.normal_kmh[ok] = best[ok] * 3.6
        res.impact_kmh[ok] = v[k] * 3.6
        res.angle_deg[ok] = np.degrees(angle[k])
        res.directed[ok] = np.where(fwd[k], 2 * pair_link[k], 2 * pair_link[k] + 1)
        res.s_m[ok] = np.where(fwd[k], s_link[k], length[k] - s_link[k])
        res.bearing_deg[ok] = np.degrees(heading + turn) % 360.0
        out.append(res)
    return out


def site_entries(
    net: Network,
    sites: Sequence[BaseGeometry],
    fields: list[VehicleField],
    frontage_m: float = DEFAULT_FRONTAGE_M,
    obstacles: Obstacles | None = None,
) -> list[tuple[list[Entry], list[Entry]]]:
    """(crossings, frontage) of every site (local CRS polygons), computed in bulk; with
    ``obstacles`` the frontage swerve must pass them (:func:`frontage_entries_bulk`)."""
    queue = _RunupQueue(len(fields))
    crossings = crossing_entries_bulk(net, sites, fields, queue)
    frontage = frontage_entries_bulk(
        net, sites, fields, crossings, frontage_m, queue=queue, obstacles=obstacles
    )
    queue.resolve(net, fields)
    return list(zip(crossings, frontage, strict=True))


def _ring_steps(ring: LineString) -> tuple[list[tuple[float, float]], list[float]]:
    """Vertices of a ring and their distances along it (m), accumulated like
    :func:`shapely.ops.substring` does, so :func:`_substring_xy` selects the same vertices."""
    coords = [(float(a), float(b)) for a, b in ring.coords]
    cum = [0.0]
    for p1, p2 in zip(coords, coords[1:], strict=False):
        cum.append(cum[-1] + ((p2[0] - p1[0]) ** 2 + (p2[1] - p1[1]) ** 2) ** 0.5)
    return coords, cum


def _substring_xy(
    ring: LineString,
    coords: list[tuple[float, float]],
    cum: list[float],
    d0: float,
    d1: float,
) -> list[tuple[float, float]]:
    """Coordinates of ``shapely.ops.substring(ring, d0, d1)`` for ``0 <= d0 < d1 <= length``
    (m), without building intermediate geometries: the interpolated ends and the vertices
    strictly between them."""
    ends = shapely.line_interpolate_point(ring, np.array([d0, d1]))
    ex, ey = shapely.get_x(ends), shapely.get_y(ends)
    out = [(float(ex[0]), float(ey[0]))]
    for p, c in zip(coords[:-1], cum[:-1], strict=True):
        if d0 < c < d1:
            out.append(p)
        elif c >= d1:
            break
    out.append((float(ex[1]), float(ey[1])))
    return out


def _runs(mask: np.ndarray) -> list[list[int]]:
    """Runs of consecutive True indices on a closed ring (the last run may wrap to the first)."""
    n = mask.size
    if not np.any(mask):
        return []
    if np.all(mask):
        return [list(range(n))]
    start = int(np.flatnonzero(~mask)[0])
    runs: list[list[int]] = []
    current: list[int] = []
    for k in range(n):
        i = (start + k) % n
        if mask[i]:
            current.append(i)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


#: The one entry type (issue 10 item 3) and the source of each former kind of entry.
EDGE_STRETCH = "edge_stretch"
ENTRY_SOURCES: dict[str, str] = {
    "crossing": "road crossing",
    "frontage": "frontage",
    "edge": "off-road",
}


def entries_to_dicts(entries: list[Entry], net: Network) -> list[dict[str, Any]]:
    """JSON-ready entries (WGS84), numbered from 1 in order.

    Every entry is an ``edge_stretch`` of the site's edge: its ``number``, ``street`` (OSM
    name of the nearest street, or ""), ``place`` (the stretch's name in words, English and
    French: the street, else e.g. "open ground north-east"), ``source`` (road crossing,
    frontage or off-road: the source of the governing vehicle's worst point; the former
    ``kind`` is kept), ``stretch_length_m`` (m of edge: a crossing's carriageway width, a
    stretch's length) and ``stretch_geometry`` (the stretch of edge, a LineString). Each
    vehicle adds its own ``source``. Additive: every former key is kept.
    """
    out = []
    pieces: PieceCache = {}  # the run-ups of a site's entries share their road pieces
    # every point of every entry projected to WGS84 in one call (one transform setup)
    groups = [
        _entry_groups(
            e, net, pieces, [e.geometry_xy if len(e.geometry_xy) > 1 else e.geometry_xy * 2]
        )
        for e in entries
    ]
    flat = _lonlat_many(net, [g for gs in groups for g in gs])
    bounds = np.cumsum([0] + [len(gs) for gs in groups]).tolist()
    for number, e in enumerate(entries, start=1):
        d, (stretch_ll,) = _entry_dict_from(e, flat[bounds[number - 1] : bounds[number]])
        d["entry_type"] = EDGE_STRETCH
        d["number"] = e.number if e.number is not None else number
        d["source"] = e.source or ENTRY_SOURCES.get(e.kind, e.kind)
        if e.stretch_m is not None:
            d["stretch_length_m"] = round(e.stretch_m, 1)
        else:
            d["stretch_length_m"] = round(e.width_m if e.kind == "crossing" else e.length_m, 1)
        d["place"] = e.place or {"en": e.street, "fr": e.street}
        if e.kind == "crossing":
            d["approach_way_id"], d["approach_street"] = e.way_id, e.street
        else:
            d["approach_way_id"], d["approach_street"] = e.approach_way_id, e.approach_street
        d["stretch_geometry"] = {"type": "LineString", "coordinates": stretch_ll}
        for vd, ve in zip(d["vehicles"], e.vehicles, strict=True):
            vd["source"] = ve.source or d["source"]
        out.append(d)
    return out


def _lonlat(net: Network, pts: list[tuple[float, float]]) -> list[list[float]]:
    return _lonlat_many(net, [pts])[0]


def round7(values: FloatArray) -> list[float]:
    """Python's ``round(v, 7)`` of every value (degrees), vectorised and the same floats:
    ``rint(v * 1e7) / 1e7`` is the double nearest the decimal, as Python's, whenever the
    product's rounding cannot move it across a half (the few within 1e-6 of one, and
    non-finite values, are rounded by Python itself)."""
    v = np.asarray(values, dtype=float)
    scaled = v * 1e7
    k = np.rint(scaled)
    out = (k / 1e7).tolist()
    with np.errstate(invalid="ignore"):  # inf - inf: non-finite values are Python's below
        frac = scaled - np.floor(scaled)
    unsure = ~np.isfinite(scaled) | (np.abs(frac - 0.5) <= 1e-6 + np.abs(scaled) * 1e-15)
    for i in np.flatnonzero(unsure).tolist():
        out[i] = round(float(v[i]), 7)
    return out


def _lonlat_many(
    net: Network, groups: Sequence[Sequence[tuple[float, float]]]
) -> list[list[list[float]]]:
    """Each group of points (local m) as ``[lon, lat]`` lists (WGS84 degrees, 7 decimals),
    all projected in one call."""
    sizes = [len(g) for g in groups]
    if not any(sizes):
        return [[] for _ in groups]
    arr = np.asarray([p for g in groups for p in g], dtype=float)
    lon, lat = net.unproject(arr[:, 0], arr[:, 1])
    flat = [[a, b] for a, b in zip(round7(lon), round7(lat), strict=True)]
    bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def entry_to_dict(e: Entry, net: Network) -> dict[str, Any]:
    """JSON-ready entry (WGS84): its point, geometry and every vehicle's run-up."""
    return _entry_dict_from(e, _lonlat_many(net, _entry_groups(e, net, {}, [])))[0]


def _entry_groups(
    e: Entry,
    net: Network,
    pieces: PieceCache,
    extra: Sequence[Sequence[tuple[float, float]]],
) -> list[Sequence[tuple[float, float]]]:
    """The groups of points (local m) of :func:`entry_to_dict`: the entry's point, its
    geometry, each live vehicle's run-up (``pieces``: :func:`runup_xy`'s cache), the live
    vehicles' worst points, then the ``extra`` groups."""
    live = [ve for ve in e.vehicles if not ve.blocked]
    worst = [ve.worst_xy for ve in live if ve.worst_xy is not None]
    groups: list[Sequence[tuple[float, float]]] = [[(e.x, e.y)], e.geometry_xy]
    return groups + [runup_xy(net, ve, pieces) for ve in live] + [worst] + list(extra)


def _entry_dict_from(
    e: Entry, ll: list[list[list[float]]]
) -> tuple[dict[str, Any], list[list[list[float]]]]:
    """:func:`entry_to_dict` from its groups (:func:`_entry_groups`) projected as
    ``[lon, lat]`` lists (WGS84); also returns the ``extra`` groups, projected."""
    live = [ve for ve in e.vehicles if not ve.blocked]
    (lon, lat), geometry_ll = ll[0][0], ll[1]
    runups_ll = iter(ll[2 : 2 + len(live)])
    worst_ll = iter(ll[2 + len(live)])
    out: dict[str, Any] = {
        "kind": e.kind,
        "lon": lon,
        "lat": lat,
        "bearing_deg": e.bearing_deg,
        "street": e.street,
    }
    if e.kind == "crossing":
        out["way_id"] = e.way_id
        out["width_m"] = round(e.width_m, 1)
    else:
        out["length_m"] = e.length_m
        out["geometry"] = {"type": "LineString", "coordinates": geometry_ll}
        out["worst_point"] = {"lon": lon, "lat": lat}
    vehicles = []
    for ve in e.vehicles:
        d: dict[str, Any] = {
            "name": ve.name,
            "test_class": ve.test_class,
            "mass_kg": ve.mass_kg,
            "speed_kmh": ve.speed_kmh,
            "energy_kj": ve.energy_kj,
            "rating": ve.rating,
            "pas68": ve.pas68,
            "runup_m": ve.runup_m,
        }
        if ve.blocked:
            d["blocked"] = ve.blocked
        else:
            d.update(
                {
                    "equivalent_runup_m": ve.equivalent_runup_m,
                    "runup_start": ve.runup_start,
                    "runup_start_speed_kmh": ve.runup_start_speed_kmh,
                    "approach_bearing_deg": ve.approach_bearing_deg,
                    "impact_speed_kmh": ve.impact_speed_kmh,
                    "impact_angle_deg": ve.impact_angle_deg,
                    "runup_geometry": {"type": "LineString", "coordinates": next(runups_ll)},
                }
            )
            if ve.worst_xy is not None:
                wl = next(worst_ll)
                d["worst_point"] = {"lon": wl[0], "lat": wl[1]}
        vehicles.append(d)
    out["vehicles"] = vehicles
    return out, ll[3 + len(live) :]
