"""Barrier lines of the plan: each position's line across the whole drivable gap
(docs/method.md, section 4, "Barrier lines").

From the road's cross-section at a candidate position, the line is extended on both sides,
perpendicular to the road, across drivable ground until it meets ground closed to the
smallest vehicle (a building front, a wall, water... of the obstacle raster of
:mod:`.drivable`), a rated barrier of the register that is rated for the position, another
carriageway, the protected area (site plus stand-off) or the edge of the planning area; at most
:data:`CAP_M` per side, beyond which the end is "open-ended" (priced to the cap). Where the gap
is narrower on a skew, the line may turn (up to :data:`TURN_MAX_DEG` either way) and an edge
stretch's own line slide outward along its path (up to :data:`SLIDE_MAX_M`): the shortest line
closed at both ends on obstacles, crossing no other carriageway, is kept.

Hand-written: the march along the raster (numpy, all candidates of one site at once); the
crossings with other carriageways and rated barriers are shapely STRtree queries.
Coordinates are the network's local CRS (azimuthal equidistant, metres).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from .drivable import Drivable, Features, fill_polygons
from .graph import TAG_WIDTH_ONLY, FloatArray, IntArray, Network
from .offroad import RatedShape

#: Longest extension of a line on each side of the road centre (m). Beyond it the line is
#: "open-ended": it is priced to this length and the report says so. ASSUMPTION: 60 m is about
#: the widest street space of a European city centre (an avenue with its pavements); a wider
#: open gap needs an assessor's line, not an automatic one.
CAP_M = 60.0
#: March step along a line (m): half the 1 m raster cell, so no closed cell is skipped.
STEP_M = 0.5
#: Shortest extension on each side of the road centre (m), even where the raster is closed at
#: the centre (a building passage): the line is at least 1 m long.
MIN_HALF_M = 0.5
#: Depth (m) a line may run inside the protected area before it stops there: a line through
#: a crossing of the stand-off line runs along that line (two raster cells of tolerance).
STANDOFF_TOLERANCE_M = 2.0
#: Distance (m) within which a line end's nearest mapped obstacle names what it closes on.
NAME_DISTANCE_M = 3.0
#: Largest turn (degrees) of a line from square to its road or path, either way. ASSUMPTION:
#: beyond 45 degrees a line runs more along the path than across it (a vehicle meeting it
#: would glance off rather than strike it head-on, which the rating assumes).
TURN_MAX_DEG = 45.0
#: Step (degrees) between the turns tried. ASSUMPTION: at 5 degrees a 60 m half-line's end
#: moves 5 m, a few raster cells, between neighbouring turns.
TURN_STEP_DEG = 5.0
#: The turns tried (degrees), square first.
_TURNS = np.arange(1, int(round(TURN_MAX_DEG / TURN_STEP_DEG)) + 1) * TURN_STEP_DEG
TURN_DEG = np.concatenate([[0.0], np.column_stack([-_TURNS, _TURNS]).ravel()])
#: Farthest (m) an edge stretch's own line may slide outward along its path from its first
#: point clear of the stand-off, looking for a narrower gap. ASSUMPTION: 10 m, a few car
#: lengths; further out the run-up and the plan's layout change too much to call it the
#: same position.
SLIDE_MAX_M = 10.0
#: Step (m) of the slide: two raster cells.
SLIDE_STEP_M = 2.0
#: A turned or slid line replaces the square one (where that closes acceptably) only if it
#: is at least this much shorter (m): two march steps, so that raster noise does not turn
#: lines that gain nothing.
MIN_GAIN_M = 1.0
#: End codes of a line that is not closed there (open ground, or clipped at the planning
#: radius): a square line with such an end is searched for a turned one.
OPEN_ENDS = frozenset({"open_end", "planning_radius"})
#: End codes on which a turned or slid line must close at both ends: ground closed to the
#: smallest vehicle (named later) or a rated barrier rated for the position.
CLOSED_ENDS = frozenset({"obstacle", "rated_barrier"})
#: Rounds of the search for the shortest turned line that no carriageway stops, one line per
#: candidate each (its shortest left), before the rest are tested at once (a speed setting:
#: the same line is found either way).
_ROUNDS = 3
#: Samples marched at a time along a line (a speed setting: the lines that stopped in a
#: block are not marched on).
_BLOCK = 40
#: Why a line stops at a raster cell (:func:`_raster`), and the end code it gives.
_OBSTACLE, _RADIUS, _STANDOFF, _OFF = 1, 2, 3, 4
_WHY = np.array(["open_end", "obstacle", "planning_radius", "standoff", "open_end"], dtype=object)
#: Classes that are not carriageways: a line crosses them (pedestrian space).
NOT_CARRIAGEWAY = frozenset(TAG_WIDTH_ONLY | {"pedestrian"})

#: Line-end codes -> (English, French). The web layer translates the codes.
END_WORDS: dict[str, tuple[str, str]] = {
    "building": ("a building front", "une façade"),
    "wall": ("a wall", "un mur"),
    "water": ("water", "l'eau"),
    "cliff": ("a cliff or rock", "une falaise ou un rocher"),
    "steps": ("steps", "des marches"),
    "platform": ("a platform", "un quai"),
    "obstacle": ("an obstacle", "un obstacle"),
    "rated_barrier": ("a rated barrier of the register", "une barrière homologuée du registre"),
    "road": (
        "another carriageway (closed by its own position, or open)",
        "une autre chaussée (fermée par sa propre position, ou ouverte)",
    ),
    "open_end": (
        "open ground: open-ended, priced to 60 m",
        "terrain ouvert : ligne ouverte, chiffrée sur 60 m",
    ),
    "standoff": ("the stand-off line around the site", "la ligne de recul autour du site"),
    "planning_radius": (
        "the edge of the planning area (line clipped)",
        "la limite de la zone de planification (ligne coupée)",
    ),
    "stretch_end": (
        "the end of the edge stretch (a line along it at the stand-off)",
        "l'extrémité du tronçon de bordure (ligne le long du tronçon, au recul)",
    ),
    "carriageway_only": (
        "no obstacle data: the carriageway and the pavement allowance",
        "pas de données d'obstacles : la chaussée et la marge de trottoir",
    ),
}

ObjArray = NDArray[np.object_]


@dataclass
class Lines:
    """Lines of ``n`` candidate positions: end points ``a`` (left of the road's direction)
    and ``b`` (right), in local metres; ``length_m``; ``end_a``/``end_b`` codes of
    :data:`END_WORDS`; ``crossed_access_m`` the width (m) of designated access links other than
    the position's own that the line crosses (made active); ``clipped`` where the stand-off or
    the planning radius cut the line short. ``priced_m`` is the length priced: an end clipped
    at the planning radius is open there and priced to :data:`CAP_M`, like an open end.
    ``origin`` is the index of the origin each line stands on (:class:`Origins`, 0: the
    candidate's point), ``turn_deg`` its turn from square (degrees, anticlockwise),
    ``marched`` the number of lines marched to choose them."""

    ax: FloatArray
    ay: FloatArray
    bx: FloatArray
    by: FloatArray
    length_m: FloatArray
    priced_m: FloatArray
    end_a: ObjArray
    end_b: ObjArray
    crossed_access_m: FloatArray
    clipped: NDArray[np.bool_]
    origin: IntArray | None = None
    turn_deg: FloatArray | None = None
    marched: int = 0


def carriageway_links(net: Network, usable: NDArray[np.bool_], grade: NDArray[np.bool_]) -> Any:
    """(L,) bool: usable links at ground level that are carriageways (not footways or
    pedestrian streets): a line stops at them."""
    return usable & ~grade & _carriageway_class(net)


#: the carriageway-class mask of the last network seen (plans are built site by site)
_CLASS_CACHE: dict[int, tuple[weakref.ref[Network], NDArray[np.bool_]]] = {}


def _carriageway_class(net: Network) -> NDArray[np.bool_]:
    """(L,) bool: links whose highway class is a carriageway (computed once per network)."""
    hit = _CLASS_CACHE.get(id(net))
    if hit is not None and hit[0]() is net:
        return hit[1]
    hw = np.asarray(net.link_highway).astype(str)
    mask = ~np.isin(hw, sorted(NOT_CARRIAGEWAY))
    _CLASS_CACHE.clear()
    _CLASS_CACHE[id(net)] = (weakref.ref(net), mask)
    return mask


def _first_hits(
    seg: ObjArray,
    origin: ObjArray,
    tree: shapely.STRtree,
    geoms: ObjArray,
    allowed: Any,
    margin: FloatArray,
) -> FloatArray:
    """Per segment, the distance (m) from its origin to its nearest intersection with an
    allowed geometry, less that geometry's ``margin``; inf if none."""
    out = np.full(seg.size, np.inf)
    if geoms.size == 0 or seg.size == 0:
        return out
    i_seg, i_geom = tree.query(seg, predicate="intersects")
    keep = allowed(i_seg, i_geom)
    i_seg, i_geom = i_seg[keep], i_geom[keep]
    if i_seg.size == 0:
        return out
    hit = shapely.intersection(seg[i_seg], geoms[i_geom])
    d = shapely.distance(origin[i_seg], hit) - margin[i_geom]
    np.minimum.at(out, i_seg, d)
    return out


def _kinds(ends_x: FloatArray, ends_y: FloatArray, features: Features | None, trees: Any) -> Any:
    """Kind of the mapped obstacle nearest each point (within NAME_DISTANCE_M), else obstacle."""
    out = np.full(ends_x.size, "obstacle", dtype=object)
    if features is None or trees is None or ends_x.size == 0:
        return out
    best = np.full(ends_x.size, np.inf)
    pts = shapely.points(ends_x, ends_y)
    for name, kinds in (("areas", features.area_kinds), ("lines", features.line_kinds)):
        arr, tree = trees[name]
        if arr.size == 0:
            continue
        i_pt, i_g = tree.query(pts, predicate="dwithin", distance=NAME_DISTANCE_M)
        if i_pt.size == 0:
            continue
        d = shapely.distance(pts[i_pt], arr[i_g])
        kind = np.array([kinds[g] if g < len(kinds) else "obstacle" for g in i_g], dtype=object)
        order = np.argsort(-d)  # nearest written last
        for p, k, dist in zip(i_pt[order], kind[order], d[order], strict=True):
            if dist < best[p]:
                best[p] = dist
                out[p] = k
    return out


@dataclass
class Origins:
    """Alternative origins of each candidate's line, ``(n, k)`` arrays (local m): points
    ``x, y`` on the path the line must cross and the path's direction ``dx, dy`` there;
    column 0 is the candidate's own point. ``back_m`` (k,) their distance back along the path
    from the edge, for the caller to rate the chosen one."""

    x: FloatArray
    y: FloatArray
    dx: FloatArray
    dy: FloatArray
    back_m: FloatArray


def along_path(
    path: Sequence[tuple[float, float]], back_m: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Points (local m) ``back_m`` metres back from the path's end (linear in the vertices)."""
    xy = np.asarray(path, dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    t = cum[-1] - back_m
    return np.interp(t, cum, xy[:, 0]), np.interp(t, cum, xy[:, 1])


def slide_origins(path: Sequence[tuple[float, float]], back_m: float, ok: Any) -> Origins:
    """The origins of one line crossing ``path`` (start to edge, local m): its point
    ``back_m`` metres back from the edge, then every :data:`SLIDE_STEP_M` further out up to
    :data:`SLIDE_MAX_M`, those where ``ok(x, y)`` (bool array: clear of the stand-off, within
    the planning radius) holds; the path's direction at each over +-0.5 m."""
    length = float(shapely.LineString(path).length)
    back = back_m + np.arange(0.0, SLIDE_MAX_M + 1e-9, SLIDE_STEP_M)
    back = back[back <= length]
    x, y = along_path(path, back)
    keep = np.asarray(ok(x, y), dtype=bool)
    keep[0] = True
    back, x, y = back[keep], x[keep], y[keep]
    ax, ay = along_path(path, np.minimum(back + 0.5, length))
    bx, by = along_path(path, np.maximum(back - 0.5, 0.0))
    return Origins(x[None], y[None], (bx - ax)[None], (by - ay)[None], back)


def barrier_lines(
    net: Network,
    links: IntArray,
    px: FloatArray,
    py: FloatArray,
    dx: FloatArray,
    dy: FloatArray,
    drv: Drivable,
    site: BaseGeometry,
    protected: BaseGeometry,
    plan_radius_m: float,
    min_width_m: float,
    carriageway: NDArray[np.bool_],
    access: NDArray[np.bool_],
    rated: Sequence[RatedShape] = (),
    req_mass_kg: FloatArray | None = None,
    req_speed_kmh: FloatArray | None = None,
    features: Features | None = None,
    trees: Any = None,
    cache: dict[str, Any] | None = None,
    origins: Origins | None = None,
) -> Lines:
    """Lines of the candidate positions of one site (local CRS, m).

    Each line crosses the candidate's road or path at its point, square to it; where that
    line is open-ended or clipped at the planning radius, or where ``origins`` are given (an
    edge stretch's own line), also turned by up to :data:`TURN_MAX_DEG` either way and, with
    ``origins``, slid outward along the path: the shortest line closed at both ends on
    obstacles or rated barriers replaces the square one when it is :data:`MIN_GAIN_M` shorter
    (docs/method.md section 4, "Barrier lines").

    Parameters
    ----------
    links, px, py, dx, dy : each candidate's link (-1: none, a line across an edge stretch's
        approach path), point (m) and the link's (or path's) direction there.
    drv : the site's drivable space; a cell is closed where its clearance is below half of
        ``min_width_m`` (m, the smallest vehicle: no vehicle passes the gap left).
    protected : the site buffered by the stand-off; a line stops before it.
    carriageway, access : (L,) bool link masks (other carriageways stop a line; designated
        access links it crosses are made active).
    rated : the barrier register; a rated barrier ends a line when it is rated for at least
        the candidate's governing ``req_mass_kg`` and ``req_speed_kmh`` (km/h, the test speed).
    cache : where the raster masks of the protected area and the planning area are kept
        between calls for the same site, ``drv``, stand-off and radius (the edge stretches' lines
        are marched one by one).
    origins : alternative origins along each candidate's path (:func:`slide_origins`);
        ``Lines.origin`` says which one the line stands on.
    """
    n = links.size
    given = origins is not None
    masks = cache if cache is not None else {}
    key = f"stops {min_width_m!r}"
    if key not in masks:
        # per cell, why a line stops there (0: it does not), the protected area first, then
        # the edge of the planning area, then ground closed to the smallest vehicle
        grid = drv.grid
        inner = protected.buffer(-STANDOFF_TOLERANCE_M)
        in_protected = (
            fill_polygons(grid, [inner]).ravel()
            if not inner.is_empty
            else np.zeros(grid.nx * grid.ny, dtype=bool)
        )
        in_radius = fill_polygons(grid, [site.buffer(plan_radius_m)]).ravel()
        stops = np.zeros(grid.nx * grid.ny + 1, dtype=np.uint8)
        stops[:-1][(drv.clearance_m < 0.5 * min_width_m).ravel()] = _OBSTACLE
        stops[:-1][~in_radius] = _RADIUS
        stops[:-1][in_protected] = _STANDOFF
        stops[-1] = _OFF  # off the raster (cell -1)
        masks.clear()
        masks[key] = stops
    rated_geoms = np.asarray([r.geometry for r in rated], dtype=object)
    rated_ok = None
    if rated and req_mass_kg is not None and req_speed_kmh is not None:
        mass = np.array([r.mass_kg for r in rated])
        speed = np.array([r.speed_kmh for r in rated])
        req_m, req_v = req_mass_kg, req_speed_kmh

        def rated_ok(i_s: IntArray, i_g: IntArray) -> Any:
            return (mass[i_g] >= req_m[i_s] - 1e-6) & (speed[i_g] >= req_v[i_s] - 1e-6)

    world = _World(
        net,
        drv,
        masks[key],
        carriageway,
        rated_geoms,
        shapely.STRtree(rated_geoms),
        rated_ok,
    )
    idx = np.arange(n)
    if origins is None:
        origins = Origins(px[:, None], py[:, None], dx[:, None], dy[:, None], np.zeros(1))
    norm = np.hypot(origins.dx, origins.dy)
    norm = np.where(norm > 0, norm, 1.0)
    # left of the direction of travel u -> v, per candidate and origin
    lx, ly = -origins.dy / norm, origins.dx / norm
    # the square line at each candidate's own point
    reach, code, clipped = _march(
        world, idx, links, origins.x[:, 0], origins.y[:, 0], lx[:, 0], ly[:, 0]
    )
    sq_ok = ~np.isin(code, list(OPEN_ENDS)).any(axis=0)
    search = idx if given else np.flatnonzero(~sq_ok)
    k = origins.x.shape[1]
    origin = np.zeros(n, dtype=np.int64)
    turn_deg = np.zeros(n)
    marched = n
    if search.size:
        # every origin x every turn of the searched candidates (the square one at its own
        # point included: it was marched above)
        ang = np.deg2rad(TURN_DEG)
        cand = np.repeat(search, k * ang.size)
        j = np.tile(np.repeat(np.arange(k), ang.size), search.size)
        a = np.tile(ang, search.size * k)
        first = (j == 0) & (a == 0.0)
        cand, j, a = cand[~first], j[~first], a[~first]
        c, s = np.cos(a), np.sin(a)
        vx = lx[cand, j] * c - ly[cand, j] * s
        vy = lx[cand, j] * s + ly[cand, j] * c
        v_reach, v_code, v_clip = _march(
            world, cand, links, origins.x[cand, j], origins.y[cand, j], vx, vy, c
        )
        marched += cand.size
        # the square line where it is acceptable, less the gain a turned one must beat
        best = np.where(sq_ok, reach.sum(axis=0) - MIN_GAIN_M, np.inf)
        win = _shortest_closed(
            world,
            _Turned(cand, links, origins.x[cand, j], origins.y[cand, j], vx, vy, c),
            v_reach,
            v_code,
            best,
        )
        w = cand[win]
        reach[:, w], code[:, w], clipped[w] = v_reach[:, win], v_code[:, win], v_clip[win]
        origin[w] = j[win]
        turn_deg[w] = np.rad2deg(a[win])
        lx_w, ly_w = vx[win], vy[win]
    ox, oy = origins.x[idx, origin], origins.y[idx, origin]
    ux, uy = lx[idx, origin], ly[idx, origin]
    if search.size:
        ux[w], uy[w] = lx_w, ly_w
    ax, ay = ox + ux * reach[0], oy + uy * reach[0]
    bx, by = ox - ux * reach[1], oy - uy * reach[1]
    for side, (ex, ey) in enumerate(((ax, ay), (bx, by))):
        obst = code[side] == "obstacle"
        if np.any(obst):
            code[side][obst] = _kinds(ex[obst], ey[obst], features, trees)
    # designated access links crossed by the line other than its own: active there
    whole = shapely.linestrings(np.stack([np.column_stack([ax, ay]), np.column_stack([bx, by])], 1))
    crossed = np.zeros(n)
    if np.any(access):
        i_s, i_g = net.link_tree.query(whole, predicate="intersects")
        keep = (i_g != links[i_s]) & access[i_g]
        np.add.at(crossed, i_s[keep], net.link_width_m[i_g[keep]])
    priced = np.where(code == "planning_radius", CAP_M, reach).sum(axis=0)
    return Lines(
        ax,
        ay,
        bx,
        by,
        reach[0] + reach[1],
        priced,
        code[0],
        code[1],
        crossed,
        clipped,
        origin,
        turn_deg,
        marched,
    )


@dataclass(frozen=True)
class _World:
    """What a line is marched against (:func:`_march`): the network, the drivable raster and
    per cell why a line stops there (``stops``, one more for off the raster), the carriageway
    links and
    the barrier register with its test (None: no rated barrier ends a line)."""

    net: Network
    drv: Drivable
    stops: NDArray[np.uint8]
    carriageway: NDArray[np.bool_]
    rated_geoms: ObjArray
    rated_tree: Any
    rated_ok: Any


def _march(
    world: _World,
    cand: IntArray,
    links: IntArray,
    px: FloatArray,
    py: FloatArray,
    ux: FloatArray,
    uy: FloatArray,
    cos_turn: FloatArray | None = None,
) -> tuple[FloatArray, ObjArray, NDArray[np.bool_]]:
    """March ``m`` lines from points ``px, py`` (m) both ways along unit vectors ``+-(ux, uy)``
    (``cand``: each line's candidate, for its link and requirement). Returns the reach (2, m)
    on each side (m), the end codes (2, m) and whether the line was clipped.

    ``cos_turn`` (the cosine of each line's turn from square, which lengthens the crossing of
    its own carriageway) marks turned or slid lines, which count only if closed at both ends
    (:data:`CLOSED_ENDS`): a line that is not has its codes left ``open_end`` without the
    carriageway test (the costly one), and its second side is not marched where its first
    side is open and no rated barrier could close it."""
    m = cand.size
    reach = np.full((2, m), CAP_M)
    code = np.full((2, m), "open_end", dtype=object)
    clipped = np.zeros(m, dtype=bool)
    alive = np.arange(m)
    for side, sign in enumerate((1.0, -1.0)):
        r, kind, cut = _raster(world, px[alive], py[alive], sign * ux[alive], sign * uy[alive])
        reach[side, alive], code[side, alive] = r, kind
        clipped[alive] |= cut
        if cos_turn is not None and world.rated_ok is None:
            alive = alive[kind == "obstacle"]
    rated_ok = world.rated_ok
    if rated_ok is not None:
        for side, sign in enumerate((1.0, -1.0)):
            seg = _segments(
                px[alive], py[alive], sign * ux[alive], sign * uy[alive], reach[side, alive]
            )
            bar_d = _first_hits(
                seg,
                shapely.points(px[alive], py[alive]),
                world.rated_tree,
                world.rated_geoms,
                lambda i_s, i_g: rated_ok(cand[alive][i_s], i_g),
                np.zeros(world.rated_geoms.size),
            )
            bar_d = np.maximum(bar_d, MIN_HALF_M)
            hit = bar_d < reach[side, alive]
            reach[side, alive[hit]] = bar_d[hit]
            code[side, alive[hit]] = "rated_barrier"
    if cos_turn is not None:
        closed = np.isin(code[:, alive], list(CLOSED_ENDS)).all(axis=0)
        code[:, alive[~closed]] = "open_end"
        return reach, code, clipped
    _roads(world, _Turned(cand, links, px, py, ux, uy, None), alive, reach, code)
    return reach, code, clipped


@dataclass(frozen=True)
class _Turned:
    """``m`` lines marched: each one's candidate (``cand``) and the candidates' ``links``,
    origin ``px, py`` (m), unit vector ``ux, uy`` and cosine of the turn from square
    (None: square)."""

    cand: IntArray
    links: IntArray
    px: FloatArray
    py: FloatArray
    ux: FloatArray
    uy: FloatArray
    cos_turn: FloatArray | None


def _roads(world: _World, ln: _Turned, rows: IntArray, reach: FloatArray, code: ObjArray) -> None:
    """Stop the lines ``rows`` of ``ln`` at other carriageways (in place: ``reach`` (2, m) in
    m, ``code`` (2, m) ``road``), never inside their own carriageway."""
    net = world.net
    own = ln.links[ln.cand[rows]]
    # a line of an edge stretch (link -1) stands on no carriageway of its own
    half_own = np.where(own >= 0, 0.5 * net.link_width_m[np.maximum(own, 0)], 0.0)
    if ln.cos_turn is not None:
        half_own = half_own / ln.cos_turn[rows]
    px, py, ux, uy = ln.px[rows], ln.py[rows], ln.ux[rows], ln.uy[rows]
    origin = shapely.points(px, py)
    for side, sign in enumerate((1.0, -1.0)):
        seg = _segments(px, py, sign * ux, sign * uy, reach[side, rows])
        road_d = _first_hits(
            seg,
            origin,
            net.link_tree,
            net.link_lines,
            lambda i_s, i_g: (i_g != own[i_s]) & world.carriageway[i_g],
            0.5 * net.link_width_m,
        )
        road_d = np.maximum(road_d, half_own)
        hit = road_d < reach[side, rows]
        reach[side, rows[hit]] = road_d[hit]
        code[side, rows[hit]] = "road"


def _crosses_road(world: _World, ln: _Turned, rows: IntArray, reach: FloatArray) -> Any:
    """(rows,) bool: whether the line ``rows`` of ``ln`` (``reach`` (2, m) on each side, m)
    crosses the centreline of a carriageway other than its own (where :func:`_roads` would
    stop it)."""
    whole = _segments(
        ln.px[rows] - ln.ux[rows] * reach[1, rows],
        ln.py[rows] - ln.uy[rows] * reach[1, rows],
        ln.ux[rows],
        ln.uy[rows],
        reach[0, rows] + reach[1, rows],
    )
    i_s, i_g = world.net.link_tree.query(whole, predicate="intersects")
    keep = (i_g != ln.links[ln.cand[rows[i_s]]]) & world.carriageway[i_g]
    out = np.zeros(rows.size, dtype=bool)
    out[i_s[keep]] = True
    return out


def _shortest_closed(
    world: _World, ln: _Turned, reach: FloatArray, code: ObjArray, best: FloatArray
) -> IntArray:
    """Per candidate, the shortest of its turned lines ``ln`` (raster and rated barriers
    marched: ``reach``, ``code``) that closes at both ends and is shorter than ``best`` (m,
    per candidate) and crosses no other carriageway (a line stopped at one is not closed at
    that end). The carriageway test (the costly one) is run on each candidate's shortest line
    first, then on the next where that one met a
    carriageway, for :data:`_ROUNDS` rounds, then on all the rest. Returns the indices into
    ``ln`` of the winners (at most one per candidate)."""
    length = reach.sum(axis=0)
    pending = np.flatnonzero(
        np.isin(code, list(CLOSED_ENDS)).all(axis=0) & (length < best[ln.cand])
    )
    won: list[IntArray] = []
    for round_ in range(_ROUNDS + 1):
        if pending.size == 0:
            break
        order = pending[np.lexsort((length[pending], ln.cand[pending]))]
        head = np.r_[True, ln.cand[order][1:] != ln.cand[order][:-1]]
        rows = order[head] if round_ < _ROUNDS else order
        ok = rows[~_crosses_road(world, ln, rows, reach)]
        if round_ == _ROUNDS and ok.size:  # all the rest at once: the shortest closed
            ok = ok[np.lexsort((length[ok], ln.cand[ok]))]
            ok = ok[np.r_[True, ln.cand[ok][1:] != ln.cand[ok][:-1]]]
        won.append(ok)
        done = np.isin(ln.cand[pending], ln.cand[ok])
        pending = np.setdiff1d(pending[~done], rows)
    return np.concatenate(won) if won else np.zeros(0, dtype=np.int64)


def _segments(
    px: FloatArray, py: FloatArray, ux: FloatArray, uy: FloatArray, reach: FloatArray
) -> ObjArray:
    """Segments from points ``px, py`` along ``ux, uy`` (unit) over ``reach`` (m)."""
    ends = np.column_stack([px + ux * reach, py + uy * reach])
    return shapely.linestrings(np.stack([np.column_stack([px, py]), ends], axis=1))


def _raster(
    world: _World, px: FloatArray, py: FloatArray, ux: FloatArray, uy: FloatArray
) -> tuple[FloatArray, ObjArray, NDArray[np.bool_]]:
    """One side of lines from ``px, py`` (m) along unit vectors ``ux, uy``, marched every
    :data:`STEP_M` over the raster up to :data:`CAP_M`: the reach (m), the end code and
    whether it was clipped (stand-off or planning radius). Marched :data:`_BLOCK` samples at a
    time, the lines still running only (most stop within a few metres)."""
    m = px.size
    t_all = np.arange(1, int(round(CAP_M / STEP_M)) + 1) * STEP_M
    why = np.zeros(m, dtype=np.uint8)
    k_all = np.zeros(m, dtype=np.int64)
    run = np.arange(m)
    for b0 in range(0, t_all.size, _BLOCK):
        if run.size == 0:
            break
        t = t_all[b0 : b0 + _BLOCK]
        cell = world.drv.grid.cell_of(
            px[run, None] + ux[run, None] * t, py[run, None] + uy[run, None] * t
        )
        st = world.stops[cell]  # cell -1: the last entry, off the raster
        k = np.argmax(st > 0, axis=1)
        got = st[np.arange(run.size), k]
        hit = got > 0
        why[run[hit]], k_all[run[hit]] = got[hit], b0 + k[hit]
        run = run[~hit]
    t_k = t_all[k_all]
    cut = (why == _RADIUS) | (why == _STANDOFF)
    # clipped at the stand-off or the radius: the last free sample; an obstacle: its cell;
    # off the raster (a planning radius wider than the drivable space): open ground, the cap
    dist = np.where(cut, np.maximum(t_k - STEP_M, MIN_HALF_M), t_k)
    dist = np.where((why == 0) | (why == _OFF), CAP_M, dist)
    return np.maximum(dist, MIN_HALF_M), _WHY[why], cut


def words(code: str, lang: str = "en") -> str:
    """The words of a line-end code in English or French."""
    en, fr = END_WORDS.get(code, (code, code))
    return fr if lang == "fr" else en
