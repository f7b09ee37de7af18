"""Barrier lines of the plan: each position's line across the whole drivable gap
(docs/method.md, section 4, "Barrier lines").

From the road's cross-section at a candidate position, the line is extended on both sides,
perpendicular to the road, across drivable ground until it meets ground closed to the
smallest vehicle (a building front, a wall, water... of the obstacle raster of
:mod:`.drivable`), a rated barrier of the register that is rated for the position, another
carriageway, the protected area (site plus stand-off) or the edge of the planning area; at most
:data:`CAP_M` per side, beyond which the end is "open-ended" (priced to the cap).

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
    at the planning radius is open there and priced to :data:`CAP_M`, like an open end."""

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
) -> Lines:
    """Lines of the candidate positions of one site (local CRS, m).

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
    """
    n = links.size
    norm = np.hypot(dx, dy)
    norm = np.where(norm > 0, norm, 1.0)
    nx_, ny_ = -dy / norm, dx / norm  # left of the direction of travel u -> v
    grid = drv.grid
    closed = (drv.clearance_m < 0.5 * min_width_m).ravel()
    masks = cache if cache is not None else {}
    if "in_protected" not in masks:
        inner = protected.buffer(-STANDOFF_TOLERANCE_M)
        masks["in_protected"] = (
            fill_polygons(grid, [inner]).ravel()
            if not inner.is_empty
            else np.zeros(grid.nx * grid.ny, dtype=bool)
        )
        masks["in_radius"] = fill_polygons(grid, [site.buffer(plan_radius_m)]).ravel()
    in_protected, in_radius = masks["in_protected"], masks["in_radius"]
    t = np.arange(1, int(round(CAP_M / STEP_M)) + 1) * STEP_M
    reach = np.empty((2, n))
    code = np.empty((2, n), dtype=object)
    clipped = np.zeros(n, dtype=bool)
    for side, sign in enumerate((1.0, -1.0)):
        qx = px[:, None] + sign * nx_[:, None] * t[None, :]
        qy = py[:, None] + sign * ny_[:, None] * t[None, :]
        cell = grid.cell_of(qx, qy)
        off = cell < 0
        c = np.maximum(cell, 0)
        prot = ~off & in_protected[c]
        out_r = ~off & ~in_radius[c]
        obst = ~off & closed[c]
        # off the raster (a planning radius wider than the drivable space): open ground
        stop = prot | out_r | obst
        first_off = np.where(off.any(axis=1), np.argmax(off, axis=1), t.size)
        k = np.argmax(stop, axis=1)
        any_stop = stop.any(axis=1) & (k < first_off)
        rows = np.arange(n)
        dist = np.where(any_stop, t[k], CAP_M)
        cut = prot[rows, k] | out_r[rows, k]
        # clipped at the stand-off or the radius: the last free sample; an obstacle: its cell
        dist = np.where(any_stop & cut, np.maximum(t[k] - STEP_M, MIN_HALF_M), dist)
        kind = np.full(n, "open_end", dtype=object)
        kind[any_stop & obst[rows, k]] = "obstacle"
        kind[any_stop & out_r[rows, k]] = "planning_radius"
        kind[any_stop & prot[rows, k]] = "standoff"
        clipped |= any_stop & cut
        reach[side], code[side] = np.maximum(dist, MIN_HALF_M), kind
    # other carriageways and rated barriers along the marched segments
    rated_geoms = np.asarray([r.geometry for r in rated], dtype=object)
    rated_tree = shapely.STRtree(rated_geoms)
    rated_ok = None
    if rated and req_mass_kg is not None and req_speed_kmh is not None:
        mass = np.array([r.mass_kg for r in rated])
        speed = np.array([r.speed_kmh for r in rated])
        req_m, req_v = req_mass_kg, req_speed_kmh

        def rated_ok(i_s: IntArray, i_g: IntArray) -> Any:
            return (mass[i_g] >= req_m[i_s] - 1e-6) & (speed[i_g] >= req_v[i_s] - 1e-6)

    origin = shapely.points(px, py)
    # a line of an edge stretch (link -1) stands on no carriageway of its own
    half_own = np.where(links >= 0, 0.5 * net.link_width_m[np.maximum(links, 0)], 0.0)
    for side, sign in enumerate((1.0, -1.0)):
        seg = shapely.linestrings(
            np.stack(
                [
                    np.column_stack([px, py]),
                    np.column_stack([px + sign * nx_ * reach[side], py + sign * ny_ * reach[side]]),
                ],
                axis=1,
            )
        )
        road_d = _first_hits(
            seg,
            origin,
            net.link_tree,
            net.link_lines,
            lambda i_s, i_g: (i_g != links[i_s]) & carriageway[i_g],
            0.5 * net.link_width_m,
        )
        road_d = np.maximum(road_d, half_own)
        hit = road_d < reach[side]
        reach[side] = np.where(hit, road_d, reach[side])
        code[side] = np.where(hit, "road", code[side])
        if rated_ok is not None:
            bar_d = _first_hits(
                seg, origin, rated_tree, rated_geoms, rated_ok, np.zeros(rated_geoms.size)
            )
            bar_d = np.maximum(bar_d, MIN_HALF_M)
            hit = bar_d < reach[side]
            reach[side] = np.where(hit, bar_d, reach[side])
            code[side] = np.where(hit, "rated_barrier", code[side])
    ax, ay = px + nx_ * reach[0], py + ny_ * reach[0]
    bx, by = px - nx_ * reach[1], py - ny_ * reach[1]
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
    return Lines(ax, ay, bx, by, reach[0] + reach[1], priced, code[0], code[1], crossed, clipped)


def words(code: str, lang: str = "en") -> str:
    """The words of a line-end code in English or French."""
    en, fr = END_WORDS.get(code, (code, code))
    return fr if lang == "fr" else en
