"""Turns checked against the drivable raster (docs/method.md section 7, "Turns checked against
obstacles"; issue 10 item 2): the arc sampler shared by the bends of open ground
(:mod:`bends`) and the turn of a road start onto an edge ray (:func:`offroad._ray_best`), and
the bounded search that checks road starts' turns.

A turn by ``delta`` from heading ``ui`` onto heading ``uo`` at the corner ``p`` (where the two
straight lines meet) with radius ``R`` is the circular arc from ``p - T ui`` to ``p + T uo``,
``T = R tan(delta / 2)``; it lies in the triangle of those two points and ``p``, so within
``T`` of ``p``. It is free for a vehicle when every point checked along it (every
:data:`ARC_STEP_M`) lies in a cell whose clearance is at least half the vehicle's width and
no rated barrier that stops the vehicle at the arc's speed lies on it.

Road starts (:func:`road_turns`): every start turns at its widest radius (the module docstring
of :mod:`offroad`); a start whose widest arc is blocked takes the widest free radius to
within :data:`TURN_RADIUS_TOL` of it (the first free of :data:`RADIUS_FRACTIONS`, bisected
towards the blocked one above), or gives nothing. Exact, at a bounded cost:

- **quick accept**: a start whose corner's clearance is at least ``T + w / 2`` plus one cell
  diagonal is free without sampling (clearance is 1-Lipschitz between cell centres);
- **bound**: each unchecked start carries an upper bound of its run-up (table-free at first,
  then the best of the fractions not yet ruled out; charged the ray's kerb and barriers); one
  that cannot beat its ray's best checked start (on the edge rays: its sample's best checked
  normal speed) is dropped unchecked: it cannot win;
- **coarse to fine**: an arc's points are looked up in blocks (:func:`_road_arc_free`);
- **doubling rounds**: per round, on every ray at once (every edge sample, when the rays are
  grouped by sample: by normal speed), the ``2^m`` best unchecked starts (round ``m``) are
  checked at their current radius; a blocked one moves to the next fraction (or, being
  bisected, halves its interval), a free one below a blocked one is bisected upwards. Rounds
  are logarithmic in the starts a ray needs, checks at most about twice them (plus at most 3
  bisection steps per start that needs them);
- **every vehicle at once** (:func:`road_turns_all`): the starts of all vehicles of a batch in
  one pass, each vehicle's rays numbered apart and its constants stacked
  (:class:`VehicleStack`), with the same arithmetic and rounds as one vehicle alone.

Distances in metres in the network's local CRS, speeds in m/s.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from .speed import Kinematics
from .vehicles import Vehicle

if TYPE_CHECKING:
    from .offroad import _Search

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Fractions of the widest radius that are tried for a turn whose widest arc is not free (a
#: corner of an obstacle inside the turn may cut the widest arc): bends (:mod:`bends`) and
#: road starts' turns onto a ray.
RADIUS_FRACTIONS = (1.0, 0.7, 0.5, 0.35, 0.25)
#: Width of the bisection (fraction of the widest radius ``R0``) at which a road start's turn
#: keeps the free radius found: a start whose widest arc is blocked and whose first free
#: fraction is not the widest bisects between that fraction and the blocked one above it, so
#: its radius is within ``TURN_RADIUS_TOL R0`` below the widest that fits (a speed at most
#: about 2.5 % low at ``R0``, 5 % at ``R0 / 4``). ASSUMPTION (accuracy against cost).
TURN_RADIUS_TOL = 0.05
#: Spacing (m) of an arc's checked points: every obstacle is wrapped in at least 2.8 m of
#: cells too close for any vehicle (offroad.RAY_STEP_M), so 2 m cannot step over one.
ARC_STEP_M = 2.0
#: A road start's turn onto a ray by less than this (degrees) is not checked: its arc stays
#: within ``R (1 - cos(delta / 2))`` of the road's line and the ray (0.2 m at R = 200 m), less
#: than one cell. ASSUMPTION (budget).
TURN_CHECK_MIN_DEG = 5.0
#: Points per block of a road start's arc checked coarse to fine (:func:`_road_arc_free`;
#: the answer does not depend on it, only the lookups: 4 fewest on the synthetic city).
ARC_BLOCK = 4

#: Switch for the benchmark only (benchmarks/offroad_city.py ``--no-turn-check``): False
#: leaves road starts' turns unchecked (the answers before the check).
CHECK_TURNS = True
#: Deterministic counts of the road starts' turn checks (the benchmark reads and resets
#: them): arcs checked, raster cells looked up, road starts met, starts turning by more than
#: :data:`TURN_CHECK_MIN_DEG`, of those the ones whose bound may win, starts quick-accepted,
#: doubling rounds.
STATS = {"arcs": 0, "lookups": 0, "starts": 0, "turning": 0, "hopeful": 0, "quick": 0, "rounds": 0}


def arc_points(
    px: FloatArray,
    py: FloatArray,
    uix: FloatArray,
    uiy: FloatArray,
    uox: FloatArray,
    uoy: FloatArray,
    R: FloatArray,
    delta: FloatArray,
    step_m: float = ARC_STEP_M,
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Points every about ``step_m`` (its end included, its start not) of the arcs of radius
    ``R`` (m) turning by ``delta`` (rad) from heading ``ui`` to ``uo`` (unit travel
    directions) at the corner ``p`` (m, local CRS; the arc runs from ``p - T ui`` to
    ``p + T uo``, ``T = R tan(delta / 2)``): the arc of each point and its position (m)."""
    arcs = _Arcs.of(px, py, uix, uiy, uox, uoy, R, delta, step_m)
    n = arcs.n
    item = np.repeat(np.arange(n.size), n)
    j = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n) + 1
    x, y = arcs.xy(item, j)
    return item, x, y


@dataclass
class _Arcs:
    """Arcs (:func:`arc_points`): centre ``c`` and start relative to it ``v0`` (m), signed
    angle turned (rad, + left), and ``n`` points each (every about ``step_m``)."""

    cx: FloatArray
    cy: FloatArray
    vx0: FloatArray
    vy0: FloatArray
    phi: FloatArray
    n: IntArray

    @classmethod
    def of(
        cls,
        px: FloatArray,
        py: FloatArray,
        uix: FloatArray,
        uiy: FloatArray,
        uox: FloatArray,
        uoy: FloatArray,
        R: FloatArray,
        delta: FloatArray,
        step_m: float,
    ) -> _Arcs:
        T = R * np.tan(0.5 * delta)
        ax, ay = px - T * uix, py - T * uiy  # arc start, on the first leg
        sg = np.sign(uix * uoy - uiy * uox)  # +1 turning left
        cx, cy = ax - sg * R * uiy, ay + sg * R * uix  # centre: left normal of ui times sg
        n = np.maximum(np.ceil(R * delta / step_m).astype(np.int64), 1)
        return cls(cx, cy, ax - cx, ay - cy, sg * delta, n)

    def xy(self, item: IntArray, j: IntArray) -> tuple[FloatArray, FloatArray]:
        """Position (m) of point ``j`` (1..n) of arc ``item``."""
        phi = self.phi[item] * j / self.n[item]
        c, sn = np.cos(phi), np.sin(phi)
        vx0, vy0 = self.vx0[item], self.vy0[item]
        return self.cx[item] + c * vx0 - sn * vy0, self.cy[item] + sn * vx0 + c * vy0


def arc_free(
    s: _Search,
    vi: int,
    px: FloatArray,
    py: FloatArray,
    uix: FloatArray,
    uiy: FloatArray,
    uox: FloatArray,
    uoy: FloatArray,
    R: FloatArray,
    delta: FloatArray,
) -> NDArray[np.bool_]:
    """Whether each bend's arc (:func:`arc_points`) is free for vehicle ``vi``: on the raster,
    outside the site, clearance at least half its width at every point, and no rated barrier
    that stops it at the arc's speed (it is no heavier than the barrier's rated mass and
    ``X(sqrt(a_lat R))`` is at most the run-up of the barrier's rated speed). Road starts'
    arcs, which are not checked off the raster nor inside the site: :func:`_road_arcs_free`."""
    item, x, y = arc_points(px, py, uix, uiy, uox, uoy, R, delta)
    cell = s.grid.cell_of(x, y)
    safe = np.maximum(cell, 0)
    c = s.clear[safe]
    bad = (c < s.half_w[vi]) | (cell < 0)
    if s.lab is not None:
        b = s.lab[safe] - 1
        x_r = s.tables[vi].x(np.sqrt(s.fields[vi].vehicle.lateral_accel_ms2 * R))[item]
        bad |= (cell >= 0) & (b >= 0) & (s.mass[vi] <= s.b_mass[b] + 1e-9) & (x_r <= s.b_x[vi][b])
    return np.asarray(np.bincount(item[bad], minlength=R.size) == 0)


@dataclass(frozen=True)
class VehicleStack:
    """The per-vehicle constants of a search stacked into arrays (index ``v``: vehicle ``v`` of
    ``_Search.fields``), so that the road starts of every vehicle are checked in one pass
    (:func:`road_turns_all`) with the same arithmetic as one vehicle's: the search tables of
    :class:`offroad._Tables` (``V(x)^2`` in (m/s)^2 every ``TABLE_X_STEP_M`` m and ``X(v^2)``
    in m every ``TABLE_V2_STEP`` (m/s)^2) as rows padded to a common width, each row's clamp
    (last index less 1e-6, as :func:`offroad._lerp`), lateral acceleration (m/s^2), top speed
    (m/s), its run-up (m), the convex bound's slope ``k = X(top) / top^2`` (m s^2/m^2), half
    width (m), mass (kg), the run-up of each rated barrier's speed (m, (vehicle, barrier + 1))
    and whether ``X`` is convex in ``v^2`` (:func:`_convex`)."""

    v2_of_x: FloatArray  # flat (V * wx)
    wx: int
    v2_hi: FloatArray
    x_of_v2: FloatArray  # flat (V * wv)
    wv: int
    x_hi: FloatArray
    a_lat: FloatArray
    top: FloatArray
    x_top: FloatArray
    k: FloatArray
    half_w: FloatArray
    mass: FloatArray
    b_x: FloatArray
    convex: NDArray[np.bool_]

    @classmethod
    def of(cls, s: _Search) -> VehicleStack:
        tabs = s.tables
        wx = max(t.v2_of_x.size for t in tabs)
        wv = max(t.x_of_v2.size for t in tabs)
        v2x = np.zeros((len(tabs), wx))
        xv2 = np.zeros((len(tabs), wv))
        for i, t in enumerate(tabs):
            v2x[i, : t.v2_of_x.size] = t.v2_of_x
            xv2[i, : t.x_of_v2.size] = t.x_of_v2
        vf = s.fields
        return cls(
            v2x.ravel(),
            wx,
            np.array([t.v2_of_x.size - 1.000001 for t in tabs]),
            xv2.ravel(),
            wv,
            np.array([t.x_of_v2.size - 1.000001 for t in tabs]),
            np.array([f.vehicle.lateral_accel_ms2 for f in vf], dtype=float),
            np.array([f.kin.top_speed_ms for f in vf], dtype=float),
            np.array([f.kin.x_top_m for f in vf], dtype=float),
            np.array(
                [f.vehicle.lateral_accel_ms2 * f.kin.x_top_m / f.kin.top_speed_ms**2 for f in vf],
                dtype=float,
            ),
            np.asarray(s.half_w, dtype=float),
            np.asarray(s.mass, dtype=float),
            np.vstack(s.b_x) if s.b_x else np.zeros((0, 1)),
            np.array([_convex(f.vehicle) for f in vf], dtype=bool),
        )

    def v(self, veh: IntArray, x_m: FloatArray) -> FloatArray:
        """V(x) in m/s of vehicles ``veh`` (x in m, clamped; :meth:`offroad._Tables.v`)."""
        from .offroad import TABLE_X_STEP_M

        return np.sqrt(_lerp_rows(self.v2_of_x, self.wx, self.v2_hi, TABLE_X_STEP_M, veh, x_m))

    def x(self, veh: IntArray, v_ms: FloatArray) -> FloatArray:
        """X(v) in m of vehicles ``veh`` (v in m/s, clamped; :meth:`offroad._Tables.x`)."""
        from .offroad import TABLE_V2_STEP

        return _lerp_rows(self.x_of_v2, self.wv, self.x_hi, TABLE_V2_STEP, veh, np.square(v_ms))


def _lerp_rows(
    flat: FloatArray, width: int, hi: FloatArray, step: float, veh: IntArray, q: FloatArray
) -> FloatArray:
    """:func:`offroad._lerp` in row ``veh`` of a table of rows ``width`` wide (flat), each
    clamped at ``hi[veh]``: the same arithmetic per element."""
    f = np.asarray(q, dtype=float) / step
    np.maximum(f, 0.0, out=f)
    np.minimum(f, hi[veh], out=f)
    i = f.astype(np.int64)
    t = f - i
    j = veh * width + i
    return flat[j] * (1.0 - t) + flat[j + 1] * t


def _road_arc_free(s: _Search, half_w: FloatArray, arcs: _Arcs) -> NDArray[np.bool_]:
    """:func:`arc_free` for road starts without rated barriers (``half_w``: each arc's
    vehicle's half width, m), coarse to fine with the same
    answer: the points are taken in blocks of :data:`ARC_BLOCK`; the middle point of each block
    is looked up first: where it is blocked, so is its arc; where its clearance is at least
    half the width plus ``ARC_BLOCK // 2`` steps plus a cell diagonal, every point of the block
    is free (clearance is 1-Lipschitz between cell centres; points inside the site or off the
    raster are free anyway); only the other blocks' points are looked up."""
    n = arcs.n
    nb = (n + ARC_BLOCK - 1) // ARC_BLOCK
    item = np.repeat(np.arange(n.size), nb)
    q = np.arange(int(nb.sum())) - np.repeat(np.cumsum(nb) - nb, nb)
    j = np.minimum(q * ARC_BLOCK + 1 + ARC_BLOCK // 2, n[item])
    x, y = arcs.xy(item, j)
    cell = s.grid.cell_of(x, y)
    c = np.where(cell >= 0, s.clear[np.maximum(cell, 0)], -1.0)
    hw = half_w[item]
    bad = (c >= 0.0) & (c < hw)
    blocked = np.bincount(item[bad], minlength=n.size) > 0
    sure = c >= hw + (ARC_BLOCK // 2) * ARC_STEP_M + math.sqrt(2.0) * s.grid.cell_m
    refine = np.flatnonzero(~sure & ~bad & ~blocked[item])
    # every point of the blocks to refine (their middle again: simpler, same answer)
    lo = q[refine] * ARC_BLOCK + 1
    cnt = np.minimum(lo + ARC_BLOCK - 1, n[item[refine]]) - lo + 1
    it2 = np.repeat(item[refine], cnt)
    j2 = np.repeat(lo, cnt) + np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    x2, y2 = arcs.xy(it2, j2)
    cell2 = s.grid.cell_of(x2, y2)
    c2 = np.where(cell2 >= 0, s.clear[np.maximum(cell2, 0)], -1.0)
    bad2 = (c2 >= 0.0) & (c2 < half_w[it2])
    STATS["arcs"] += int(n.size)
    STATS["lookups"] += int(item.size + it2.size)
    return np.asarray(~blocked & (np.bincount(it2[bad2], minlength=n.size) == 0))


def _road_arcs_free(
    s: _Search,
    veh: IntArray,
    px: FloatArray,
    py: FloatArray,
    uix: FloatArray,
    uiy: FloatArray,
    uox: FloatArray,
    uoy: FloatArray,
    R: FloatArray,
    delta: FloatArray,
) -> NDArray[np.bool_]:
    """:func:`arc_free` of road starts' arcs, each for its vehicle ``veh``, except that a road
    start's arc is not checked off the raster (unknown ground beyond the search radius: in the
    threat's favour) nor inside the site (an arc reaching into the site meets the edge at no
    more than the speed counted at the ray's origin: in the threat's favour)."""
    st = s.stack
    if s.lab is None:
        arcs = _Arcs.of(px, py, uix, uiy, uox, uoy, R, delta, ARC_STEP_M)
        return _road_arc_free(s, st.half_w[veh], arcs)
    item, x, y = arc_points(px, py, uix, uiy, uox, uoy, R, delta)
    STATS["arcs"] += int(R.size)
    STATS["lookups"] += int(item.size)
    cell = s.grid.cell_of(x, y)
    safe = np.maximum(cell, 0)
    c = s.clear[safe]
    vit = veh[item]
    bad = c < st.half_w[vit]
    bad &= (cell >= 0) & (c >= 0.0)  # clearance -1: inside the site
    b = s.lab[safe] - 1
    x_r = st.x(veh, np.sqrt(st.a_lat[veh] * R))[item]
    bad |= (cell >= 0) & (b >= 0) & (st.mass[vit] <= s.b_mass[b] + 1e-9) & (x_r <= st.b_x[vit, b])
    return np.asarray(np.bincount(item[bad], minlength=R.size) == 0)


Charge = Callable[[IntArray, FloatArray], FloatArray]


def road_turns(
    s: _Search,
    vi: int,
    px: FloatArray,
    py: FloatArray,
    uix: FloatArray,
    uiy: FloatArray,
    uox: FloatArray,
    uoy: FloatArray,
    xq: FloatArray,
    vq: FloatArray,
    t: FloatArray,
    dq: FloatArray,
    ray: IntArray,
    floor: FloatArray,
    charge: Charge | None,
    group: tuple[int, FloatArray] | None = None,
    check: bool = True,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`road_turns_all` for the starts of one vehicle ``vi``."""
    return road_turns_all(
        s,
        np.full(xq.size, vi, dtype=np.int64),
        px,
        py,
        uix,
        uiy,
        uox,
        uoy,
        xq,
        vq,
        t,
        dq,
        ray,
        np.full(floor.size, vi, dtype=np.int64),
        floor,
        charge,
        group,
        check,
    )


def road_turns_all(
    s: _Search,
    veh: IntArray,
    px: FloatArray,
    py: FloatArray,
    uix: FloatArray,
    uiy: FloatArray,
    uox: FloatArray,
    uoy: FloatArray,
    xq: FloatArray,
    vq: FloatArray,
    t: FloatArray,
    dq: FloatArray,
    ray: IntArray,
    ray_veh: IntArray,
    floor: FloatArray,
    charge: Charge | None,
    group: tuple[int, FloatArray] | None = None,
    check: bool = True,
    settled: tuple[FloatArray, FloatArray] | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Road starts turning onto their rays, checked (module docstring; not with ``check``
    False, nor with :data:`CHECK_TURNS` False): run-up at the ray's
    origin ``x`` (m, ``-inf``: no free turn, or dropped because it cannot win its ray), the
    straight ``room`` (m) left after the turn and the turn's radius (m), per start.

    Per start: its vehicle ``veh`` (index into ``s.fields``), corner ``p`` (m) where the ray
    meets the road's line, road heading ``ui``, ray
    heading ``uo``, the road field's run-up ``xq`` (m) and speed ``vq = V(xq)`` (m/s),
    ``t = tan(delta / 2)``, distance
    ``dq`` (m) from the corner to the ray's origin and its ray. Rays are numbered per vehicle
    (a ray of two vehicles is two rays; ``ray_veh``: each ray's vehicle). ``floor``: per ray,
    the best
    charged run-up of the starts that need no turn check (rest); ``charge(i, x)``: start
    ``i``'s run-up ``x`` charged the ray's kerb and barriers (``-inf`` stopped), monotone in
    ``x`` (None: nothing to charge). ``group``: the number of rays per edge sample (the rays
    of a sample are consecutive, and a vehicle's rays whole samples) and the sine of each
    ray's angle to the edge; a
    start is then dropped unchecked when its bound cannot beat the best speed normal to the
    edge checked on any ray of its sample (the search keeps, per sample, the ray with the
    highest normal speed), and a ray's run-up is exact only where it may be its sample's
    best (elsewhere a lower bound). Every vehicle's starts are checked as they would be alone
    (same rounds, same arithmetic), in one pass. ``settled``: the starts are those
    :func:`road_turn_hopes` keeps (counted there), with its rays' best and floor."""
    nf = len(RADIUS_FRACTIONS)
    n = xq.size
    st = s.stack
    if charge is None:
        charge = _uncharged
    if not (check and CHECK_TURNS) or n == 0:
        a1, r1, room1 = _widest(s, veh, xq, vq, t, dq)
        return np.minimum(a1 + room1, st.x_top[veh]), room1, r1
    if settled is None:
        STATS["starts"] += n
        STATS["turning"] += int(np.count_nonzero(t > _T_MIN))
    x, room, rad = np.full(n, -np.inf), np.zeros(n), np.full(n, np.nan)

    def widest(i: IntArray) -> tuple[FloatArray, FloatArray]:
        """Starts ``i`` at their widest turn (in ``x, room, rad``): their run-up at the arc
        and radius."""
        a, r, rm = _widest(s, veh[i], xq[i], vq[i], t[i], dq[i])
        x[i] = np.minimum(a + rm, st.x_top[veh[i]])
        room[i], rad[i] = rm, r
        return a, r

    # turns too slight to check: their widest arc, unchecked; the others' table-free bound
    if settled is None:
        done, ref, fl, live = _first_stage(
            s, veh, xq, vq, t, dq, ray, ray_veh, floor, charge, group
        )
    else:  # every start hopeful (:func:`road_turn_hopes`)
        pending = t > _T_MIN
        done, live = np.flatnonzero(~pending), np.flatnonzero(pending)
        ref = settled[0].copy()
        fl = ref if group is None else settled[1].copy()
    widest(done)
    a1, r1 = widest(live)
    ub = a1 + np.maximum(dq[live] - RADIUS_FRACTIONS[-1] * r1 * t[live], 0.0)
    keep = ub > fl[ray[live]]
    keep[keep] = charge(live[keep], ub[keep]) > fl[ray[live[keep]]]
    live, ub, r1 = live[keep], ub[keep], r1[keep]
    STATS["hopeful"] += int(live.size)
    if s.lab is None and live.size:
        # quick accept: the whole arc lies within T of the corner
        cell = s.grid.cell_of(px[live], py[live])
        c = np.where(cell >= 0, s.clear[np.maximum(cell, 0)], -1.0)
        quick = c >= r1 * t[live] + st.half_w[veh[live]] + math.sqrt(2.0) * s.grid.cell_m
        STATS["quick"] += int(quick.sum())
        rq = ray[live[quick]]
        before = ref[rq]
        np.maximum.at(ref, rq, charge(live[quick], x[live[quick]]))
        _floor_raised(s, ray_veh, ref, group, fl, rq[ref[rq] > before])
        live, ub, r1 = live[~quick], ub[~quick], r1[~quick]
    # the starts to check (rows, below indexed by ``j``; they keep no value until one of their
    # arcs is found free): radius at each fraction, run-up ``cur`` at the fraction being
    # checked. The bound of a start is the best of the fractions not yet ruled out (the
    # widest free is taken, and a tighter arc leaves more straight room, so it may run up
    # more): the run-up ``x(f) = min(x_q, X(a_lat f R0)) + dq - f R0 t`` is convex in ``f``
    # where ``X`` is convex in ``v^2`` (acceleration not rising with speed), so that best is
    # the larger of the current fraction's and the tightest's; else ``ub``
    rows = live
    if rows.size == 0:
        return x, room, rad
    vr = veh[rows]
    rf = r1[:, None] * np.asarray(RADIUS_FRACTIONS)[None, :]
    tol = TURN_RADIUS_TOL * r1  # bisection's width (m) at which the free radius is kept
    convex = st.convex[vr]
    tail = np.where(convex, _tighter(s, vr, xq[rows], t[rows], dq[rows], rf[:, -1:])[:, 0], ub)
    # per row: the radius being checked and its run-up ``cur``; the widest fraction found
    # blocked ``rhi`` (NaN: none yet) and its run-up; the free radius below it ``rlo`` (NaN:
    # still descending the fractions) and its run-up; the radius kept (NaN: none yet)
    rcur, cur = rf[:, 0].copy(), x[rows].copy()
    x[rows] = -np.inf
    rhi, xhi = np.full(rows.size, np.nan), np.full(rows.size, -np.inf)
    rlo, xlo = np.full(rows.size, np.nan), np.full(rows.size, -np.inf)
    keep_r, keep_x = np.full(rows.size, np.nan), np.full(rows.size, -np.inf)
    bound = np.maximum(cur, tail)
    delta = 2.0 * np.arctan(t[rows])
    lev = np.zeros(rows.size, dtype=np.int64)

    def check_at(j: IntArray, r: FloatArray) -> None:
        """Rows ``j`` are next checked at radii ``r`` (m): their run-up and bound (the best
        run-up of the radii left: a bisected row's lies in ``[rlo, rhi)``, a descending one's
        in the fractions left or between the current one and ``rhi``; ``x`` is convex in the
        radius where the vehicle's ``X`` is convex in ``v^2``; else the row's ``tail``)."""
        i = rows[j]
        rcur[j] = r
        cur[j] = _tighter(s, vr[j], xq[i], t[i], dq[i], r[:, None])[:, 0]
        bis = np.isfinite(rlo[j])
        bound[j] = np.where(
            convex[j],
            np.where(
                bis, np.maximum(xlo[j], xhi[j]), np.maximum(np.maximum(cur[j], tail[j]), xhi[j])
            ),
            tail[j],
        )

    def accept(j: IntArray, r: FloatArray, xx: FloatArray) -> None:
        """Rows ``j`` keep the free radii ``r`` (m) and run-ups ``xx`` (m)."""
        keep_r[j], keep_x[j] = r, xx
        rj = ray[rows[j]]
        before = ref[rj]
        np.maximum.at(ref, rj, charge(rows[j], xx))
        _floor_raised(s, ray_veh, ref, group, fl, rj[ref[rj] > before])

    # the rows still to check, in the order they (re)entered the list (``seq``): ``old`` in
    # (unit, -key, seq) order (their keys known: a row's key changes only when it re-enters),
    # then ``new`` in seq order; per round, the 2^m best of each ray (each edge sample with
    # ``group``) by bound (by its normal speed), ties to the first entered
    unit_r = ray[rows] // group[0] if group is not None else ray[rows]
    key_r = np.zeros(rows.size)
    seq = np.arange(rows.size)
    old, new = np.zeros(0, dtype=np.int64), np.arange(rows.size)
    m = 0
    while old.size + new.size:
        jl = np.concatenate([old, new])
        cx = charge(rows[jl], bound[jl])
        hope = cx > fl[ray[rows[jl]]]
        no = old.size
        old, new, cx = old[hope[:no]], new[hope[no:]], cx[no:][hope[no:]]
        if old.size + new.size == 0:
            break
        STATS["rounds"] += int(np.count_nonzero(np.bincount(vr[np.concatenate([old, new])])))
        if group is None:
            key_r[new] = cx
        else:
            key_r[new] = st.v(vr[new], np.maximum(cx, 0.0)) * group[1][ray[rows[new]]]
        k = 1 << min(m, 30)
        if old.size == 0 and k == 1:
            taken = _best_per_unit(unit_r[new], key_r[new], 1)
            pick, rest_old, rest_new = new[taken], old, new[~taken]
        else:
            srt = _merge_sorted(old, new, unit_r, key_r)
            taken = _rank_in_unit(unit_r[srt]) < k
            pick = srt[taken]
            pick = pick[np.argsort(seq[pick])]
            rest_old, rest_new = srt[~taken], new[:0]
        i = rows[pick]
        ok = _road_arcs_free(
            s, vr[pick], px[i], py[i], uix[i], uiy[i], uox[i], uoy[i], rcur[pick], delta[pick]
        )
        # free: kept if no wider radius within the tolerance is left untried (the widest, or
        # within ``tol`` of the blocked one above), else bisected upwards
        good = pick[ok]
        done_g = ~(rhi[good] - rcur[good] > tol[good])  # NaN rhi: the widest, free
        accept(good[done_g], rcur[good[done_g]], cur[good[done_g]])
        up = good[~done_g]
        rlo[up], xlo[up] = rcur[up], cur[up]
        # blocked: bisected downwards (kept at ``rlo`` once within ``tol``), or the next fraction
        bad = pick[~ok]
        rhi[bad], xhi[bad] = rcur[bad], cur[bad]
        bis = np.isfinite(rlo[bad])
        down = bad[bis]
        done_b = ~(rhi[down] - rlo[down] > tol[down])
        accept(down[done_b], rlo[down[done_b]], xlo[down[done_b]])
        down = down[~done_b]
        nxt = bad[~bis]
        lev[nxt] += 1
        nxt = nxt[lev[nxt] < nf]
        mid = np.concatenate([up, down])
        check_at(mid, 0.5 * (rlo[mid] + rhi[mid]))
        check_at(nxt, rf[nxt, lev[nxt]])
        back = np.concatenate([mid, nxt])
        seq[back] = seq.size + m * seq.size + np.arange(back.size)
        old, new = rest_old, np.concatenate([rest_new, back])
        m += 1
    # checked starts at their kept radius; the others (blocked, or unchecked because they
    # cannot win) keep no value
    kept = np.flatnonzero(np.isfinite(keep_r))
    i = rows[kept]
    x[i] = keep_x[kept]
    rad[i] = keep_r[kept]
    room[i] = np.maximum(dq[i] - rad[i] * t[i], 0.0)
    return x, room, rad


_T_MIN = math.tan(math.radians(TURN_CHECK_MIN_DEG) / 2.0)


def _first_stage(
    s: _Search,
    veh: IntArray,
    xq: FloatArray,
    vq: FloatArray,
    t: FloatArray,
    dq: FloatArray,
    ray: IntArray,
    ray_veh: IntArray,
    floor: FloatArray,
    charge: Charge,
    group: tuple[int, FloatArray] | None,
) -> tuple[IntArray, FloatArray, FloatArray, IntArray]:
    """The first stage of :func:`road_turns_all`: the starts turning too slightly to be
    checked (``done``, kept at their widest arc, unchecked), the rays' best ``ref`` (m) with
    them, the floor ``fl`` (m, :func:`_floor`) and the starts turning more whose table-free
    bound beats their ray's floor (``live``; the others get no run-up).

    The bound: the arc's run-up is at
    most x_q and, X being convex in v^2 from X(0) = 0, at most ``X(v^2) <= k v^2`` with
    ``k = X(top) / top^2`` at ``v^2 <= a_lat dq / t`` (every arc that fits before the
    origin), then at most dq to the origin (``x_q + dq`` where ``X`` is not convex)."""
    st = s.stack
    pending = t > _T_MIN
    done = np.flatnonzero(~pending)
    a, _r, rm = _widest(s, veh[done], xq[done], vq[done], t[done], dq[done])
    ref = floor.copy()
    np.maximum.at(ref, ray[done], charge(done, np.minimum(a + rm, st.x_top[veh[done]])))
    fl = _floor(s, ray_veh, ref, group)
    p = np.flatnonzero(pending)
    vp, xp, dp, tp = veh[p], xq[p], dq[p], t[p]
    with np.errstate(divide="ignore"):  # (+ 0.01 m: the tables' round trip x -> v -> x)
        cheap = np.minimum(xp, st.k[vp] * dp / tp + 0.01) + dp
    if not st.convex.all():
        cheap = np.where(st.convex[vp], cheap, xp + dp)
    return done, ref, fl, p[cheap > fl[ray[p]]]


def road_turn_hopes(
    s: _Search,
    xq: FloatArray,
    valid: NDArray[np.bool_],
    q: IntArray,
    vms: FloatArray,
    t: FloatArray,
    dq: FloatArray,
    cr: IntArray,
    floor: FloatArray,
    charge_of: Callable[[IntArray, IntArray], Charge | None],
    group: tuple[int, FloatArray] | None = None,
    check: bool = True,
) -> tuple[NDArray[np.bool_], tuple[FloatArray, FloatArray] | None]:
    """The road starts that may get a run-up from :func:`road_turns_all`, as a (vehicle,
    candidate) mask, and the rays' best run-up (m) with the slight turns and their floor
    (:func:`_floor`; None where turns are not checked): candidates are seed rows ``q`` on the rays ``cr`` of a batch (``nr``
    rays per vehicle, numbered ``vehicle * nr + ray`` in ``floor``), ``t = tan(delta / 2)``,
    ``dq`` (m); ``xq`` (vehicle, candidate) the road field's run-up (m), ``valid`` where the
    vehicle may start there, ``vms`` (vehicle, seed row) the seeds' speeds (m/s);
    ``charge_of(veh, cand)`` the charge (:func:`road_turns_all`) of those starts. The starts
    left out get ``-inf`` whatever the others are, so a caller may leave them out (the same
    answers: call :func:`road_turns_all` with ``settled`` the best and floor returned, in
    (vehicle, candidate) order). Counts the starts in :data:`STATS`."""
    if not (check and CHECK_TURNS) or not valid.size:
        return valid, None
    st = s.stack
    nv = xq.shape[0]
    nr = floor.size // max(nv, 1)
    pending = t > _T_MIN
    STATS["starts"] += int(np.count_nonzero(valid))
    STATS["turning"] += int(np.count_nonzero(valid & pending[None, :]))
    # turns too slight to check: the rays' best with them, and the floor
    vd, cd = np.nonzero(valid & ~pending[None, :])
    a, _r, rm = _widest(s, vd, xq[vd, cd], vms[vd, q[cd]], t[cd], dq[cd])
    ref = floor.copy()
    charge = charge_of(vd, cd) or _uncharged
    np.maximum.at(
        ref, vd * nr + cr[cd], charge(np.arange(vd.size), np.minimum(a + rm, st.x_top[vd]))
    )
    fl = _floor(s, np.repeat(np.arange(nv), nr), ref, group)
    # the others: the table-free bound (:func:`_first_stage`)
    with np.errstate(divide="ignore"):  # (+ 0.01 m: the tables' round trip x -> v -> x)
        cheap = np.minimum(xq, st.k[:, None] * dq[None, :] / t[None, :] + 0.01) + dq[None, :]
    if not st.convex.all():
        cheap = np.where(st.convex[:, None], cheap, xq + dq[None, :])
    hope = cheap > fl.reshape(nv, nr)[:, cr]
    hope &= pending[None, :]
    hope |= ~pending[None, :]
    hope &= valid
    return hope, (ref, fl)


def _best_per_unit(unit: IntArray, key: FloatArray, k: int) -> NDArray[np.bool_]:
    """The ``k`` elements of highest ``key`` of each ``unit`` (ties: the first), as a mask.
    ``k = 1`` without sorting (the first round of :func:`road_turns_all`, the largest)."""
    taken = np.zeros(unit.size, dtype=bool)
    if k == 1:
        top = np.full(int(unit.max()) + 1, -np.inf)
        np.maximum.at(top, unit, key)
        cand = np.flatnonzero(key == top[unit])
        first = np.full(top.size, unit.size)
        np.minimum.at(first, unit[cand], cand)
        taken[first[first < unit.size]] = True
        return taken
    order = np.lexsort((-key, unit))
    rs = unit[order]
    first = np.flatnonzero(np.r_[True, rs[1:] != rs[:-1]])
    rank = np.arange(rs.size) - np.repeat(first, np.diff(np.r_[first, rs.size]))
    taken[order[rank < k]] = True
    return taken


def _rank_in_unit(unit: IntArray) -> IntArray:
    """Position of each element within its run of equal ``unit`` (sorted by unit)."""
    first = np.flatnonzero(np.r_[True, unit[1:] != unit[:-1]])
    return np.arange(unit.size) - np.repeat(first, np.diff(np.r_[first, unit.size]))


def _merge_sorted(old: IntArray, new: IntArray, unit: IntArray, key: FloatArray) -> IntArray:
    """Rows ``old`` (in (unit, -key, entry) order) and ``new`` (entered after them, in entry
    order) in (unit, -key, entry) order: ``np.lexsort((-key, unit))`` of their concatenation,
    sorting only ``new`` (a binary search per new row within its unit's run of ``old``)."""
    if new.size:
        new = new[np.lexsort((-key[new], unit[new]))]
    if old.size == 0 or new.size == 0:
        return np.concatenate([old, new])
    uo, ko = unit[old], -key[old]
    un, kn = unit[new], -key[new]
    lo = np.searchsorted(uo, un, "left")
    hi = np.searchsorted(uo, un, "right")
    act = np.flatnonzero(lo < hi)
    while act.size:  # the first of the unit's old rows with a lower key (ties: old first)
        mid = (lo[act] + hi[act]) // 2
        right = ko[mid] <= kn[act]
        lo[act[right]] = mid[right] + 1
        hi[act[~right]] = mid[~right]
        act = act[lo[act] < hi[act]]
    return np.insert(old, lo, new)


def _floor_raised(
    s: _Search,
    ray_veh: IntArray,
    ref: FloatArray,
    group: tuple[int, FloatArray] | None,
    fl: FloatArray,
    raised: IntArray,
) -> None:
    """Update ``fl`` (:func:`_floor` of ``ref``) after ``ref`` was raised at the rays
    ``raised``: recomputed on the rays of their samples (the others' are unchanged; without
    ``group`` the floor is ``ref`` itself)."""
    if group is None or raised.size == 0:
        return
    nh, w = group
    smp = np.unique(raised // nh)
    rr = (smp[:, None] * nh + np.arange(nh)[None, :]).ravel()
    fl[rr] = _floor(s, ray_veh[rr], ref[rr], (nh, w[rr]))


def _floor(
    s: _Search, ray_veh: IntArray, ref: FloatArray, group: tuple[int, FloatArray] | None
) -> FloatArray:
    """Per ray (of the vehicle ``ray_veh``), the run-up (m) a start must beat to matter: its
    ray's best checked ``ref``,
    and with ``group`` the run-up at which its normal speed equals the best checked normal
    speed of its sample (``+inf`` where that is above the top speed)."""
    if group is None:
        return ref
    nh, w = group
    st = s.stack
    score = np.where(ref > -np.inf, st.v(ray_veh, np.maximum(ref, 0.0)) * w, -1.0)
    best = np.repeat(score.reshape(-1, nh).max(axis=1), nh)
    need = best / w  # speed along the ray (m/s) that equals the sample's best
    top = st.top[ray_veh]
    with np.errstate(invalid="ignore"):
        x_need = np.where(need >= top, np.inf, st.x(ray_veh, np.maximum(need, 0.0)))
    return np.where(best >= 0.0, np.maximum(ref, x_need), ref)


def _uncharged(i: IntArray, x: FloatArray) -> FloatArray:
    """Run-ups with nothing to charge (no kerb nor rated barrier on the rays)."""
    return x


@functools.lru_cache(maxsize=64)
def _convex(vehicle: Vehicle) -> bool:
    """Whether the vehicle's tabulated ``X`` is convex in ``v^2`` up to its top speed (its
    acceleration does not rise with speed; :func:`road_turns`' bound)."""
    from .offroad import _tables

    tab = _tables(vehicle)
    top = Kinematics.of(vehicle).top_speed_ms
    return bool(np.all(np.diff(tab.x_of_v2[tab.v2s <= top * top], 2) >= -1e-9))


def _widest(
    s: _Search, veh: IntArray, xq: FloatArray, vq: FloatArray, t: FloatArray, dq: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The widest turn of road starts of vehicles ``veh`` (docs/method.md section 7): run-up
    at the arc (m), its
    radius ``R0`` (m) and the straight room after it (m). ``R0 = v_q^2 / a_lat`` if its tangent
    length ``T`` fits before the origin: the vehicle keeps ``x_q`` and has ``dq - T`` left;
    else ``R0 = dq / t``: it brakes to ``sqrt(a_lat R0)`` and arrives at the origin with
    ``X(sqrt(a_lat R0))`` (braking before the bend allowed)."""
    st = s.stack
    a_lat = st.a_lat[veh]
    tq = t * vq * vq / a_lat
    wide = tq <= dq  # the road speed's own turn fits before the origin
    with np.errstate(divide="ignore", invalid="ignore"):
        r0 = np.where(wide, vq * vq / a_lat, dq / np.maximum(t, 1e-12))
    x_arc = xq.copy()
    tight = np.flatnonzero(~wide)
    if tight.size:
        vt = veh[tight]
        v_cap = np.minimum(np.sqrt(a_lat[tight] * r0[tight]), st.top[vt])
        x_arc[tight] = np.minimum(xq[tight], st.x(vt, v_cap))
    return x_arc, r0, np.where(wide, np.maximum(dq - tq, 0.0), 0.0)


def _tighter(
    s: _Search, veh: IntArray, xq: FloatArray, t: FloatArray, dq: FloatArray, R: FloatArray
) -> FloatArray:
    """Run-up at the ray's origin (m) of road starts of vehicles ``veh`` turning at the radii
    ``R`` (m, (starts,
    radii)), tighter than their widest (:func:`_widest`): the vehicle enters the arc at
    ``min(v_q, sqrt(a_lat R))`` (braking before it allowed) and accelerates over the
    ``dq - R t`` left, ``x = min(x_q, X(sqrt(a_lat R))) + dq - R t`` (docs/method.md
    section 7)."""
    st = s.stack
    vc = veh[:, None]
    v_r = np.minimum(np.sqrt(st.a_lat[vc] * R), st.top[vc])
    room = np.maximum(dq[:, None] - R * t[:, None], 0.0)
    x_arc = np.minimum(xq[:, None], st.x(vc, v_r))
    return np.asarray(np.minimum(x_arc + room, st.x_top[vc]))


def approach_path_xy(
    start_xy: tuple[float, float],
    road_u: tuple[float, float],
    turn_r_m: float,
    via_xy: tuple[float, float] | None,
    edge_xy: tuple[float, float],
) -> list[tuple[float, float]]:
    """The path of an off-road approach (m, local CRS), from where it leaves the road to the
    edge point: a road start's turn (``start_xy`` its corner, ``road_u`` the road's heading,
    radius ``turn_r_m``; NaN: no turn) drawn through its arc every :data:`ARC_STEP_M`, the
    straight leg, a bent run's bend point ``via_xy`` (None: a straight run) and the edge
    point. Its length is the run-up drawn (:func:`path_length_m`)."""
    nxt = via_xy if via_xy is not None else edge_xy
    pts = _corner_arc(start_xy, road_u, nxt, turn_r_m)
    if via_xy is not None:
        pts.append(via_xy)
    pts.append(edge_xy)
    return pts


def _corner_arc(
    p: tuple[float, float], u_in: tuple[float, float], to: tuple[float, float], r_m: float
) -> list[tuple[float, float]]:
    """Points of the turn of radius ``r_m`` (m) at the corner ``p`` from heading ``u_in`` onto
    the leg towards ``to`` (:func:`arc_points`), from the arc's start; the corner itself when
    there is no turn (NaN radius, no heading or no angle)."""
    dx, dy = to[0] - p[0], to[1] - p[1]
    n = math.hypot(dx, dy)
    if n <= 0 or not (math.isfinite(r_m) and r_m > 0) or u_in == (0.0, 0.0):
        return [p]
    u_out = (dx / n, dy / n)
    delta = math.acos(max(-1.0, min(1.0, u_in[0] * u_out[0] + u_in[1] * u_out[1])))
    if delta <= 1e-6:
        return [p]
    one = np.ones(1)
    _, x, y = arc_points(
        p[0] * one,
        p[1] * one,
        u_in[0] * one,
        u_in[1] * one,
        u_out[0] * one,
        u_out[1] * one,
        r_m * one,
        delta * one,
    )
    t = r_m * math.tan(0.5 * delta)
    return [(p[0] - t * u_in[0], p[1] - t * u_in[1])] + list(
        zip(x.tolist(), y.tolist(), strict=True)
    )


def path_length_m(pts: list[tuple[float, float]]) -> float:
    """Length (m) of a polyline (m, local CRS)."""
    return float(sum(math.dist(a, b) for a, b in zip(pts[:-1], pts[1:], strict=True)))
