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
  bisection steps per start that needs them).

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
    road_start: bool = False,
) -> NDArray[np.bool_]:
    """Whether each arc (:func:`arc_points`) is free for vehicle ``vi``: clearance at least
    half its width at every point, and no rated barrier that stops it at the arc's speed (it is
    no heavier than the barrier's rated mass and ``X(sqrt(a_lat R))`` is at most the run-up of
    the barrier's rated speed). A bend's arc must stay on the raster and outside the site; a
    road start's arc (``road_start``) is not checked off the raster (unknown ground beyond the
    search radius: in the threat's favour) nor inside the site (an arc reaching into the site
    meets the edge at no more than the speed counted at the ray's origin: in the threat's
    favour)."""
    if road_start and s.lab is None:
        return _road_arc_free(s, vi, _Arcs.of(px, py, uix, uiy, uox, uoy, R, delta, ARC_STEP_M))
    item, x, y = arc_points(px, py, uix, uiy, uox, uoy, R, delta)
    if road_start:
        STATS["arcs"] += int(R.size)
        STATS["lookups"] += int(item.size)
    cell = s.grid.cell_of(x, y)
    safe = np.maximum(cell, 0)
    c = s.clear[safe]
    bad = c < s.half_w[vi]
    if road_start:
        bad &= (cell >= 0) & (c >= 0.0)  # clearance -1: inside the site
    else:
        bad |= cell < 0
    if s.lab is not None:
        b = s.lab[safe] - 1
        x_r = s.tables[vi].x(np.sqrt(s.fields[vi].vehicle.lateral_accel_ms2 * R))[item]
        bad |= (cell >= 0) & (b >= 0) & (s.mass[vi] <= s.b_mass[b] + 1e-9) & (x_r <= s.b_x[vi][b])
    return np.asarray(np.bincount(item[bad], minlength=R.size) == 0)


def _road_arc_free(s: _Search, vi: int, arcs: _Arcs) -> NDArray[np.bool_]:
    """:func:`arc_free` for road starts without rated barriers, coarse to fine with the same
    answer: the points are taken in blocks of :data:`ARC_BLOCK`; the middle point of each block
    is looked up first: where it is blocked, so is its arc; where its clearance is at least
    half the width plus ``ARC_BLOCK // 2`` steps plus a cell diagonal, every point of the block
    is free (clearance is 1-Lipschitz between cell centres; points inside the site or off the
    raster are free anyway); only the other blocks' points are looked up."""
    n = arcs.n
    half_w = s.half_w[vi]
    nb = (n + ARC_BLOCK - 1) // ARC_BLOCK
    item = np.repeat(np.arange(n.size), nb)
    q = np.arange(int(nb.sum())) - np.repeat(np.cumsum(nb) - nb, nb)
    j = np.minimum(q * ARC_BLOCK + 1 + ARC_BLOCK // 2, n[item])
    x, y = arcs.xy(item, j)
    cell = s.grid.cell_of(x, y)
    c = np.where(cell >= 0, s.clear[np.maximum(cell, 0)], -1.0)
    bad = (c >= 0.0) & (c < half_w)
    blocked = np.bincount(item[bad], minlength=n.size) > 0
    sure = c >= half_w + (ARC_BLOCK // 2) * ARC_STEP_M + math.sqrt(2.0) * s.grid.cell_m
    refine = np.flatnonzero(~sure & ~bad & ~blocked[item])
    # every point of the blocks to refine (their middle again: simpler, same answer)
    lo = q[refine] * ARC_BLOCK + 1
    cnt = np.minimum(lo + ARC_BLOCK - 1, n[item[refine]]) - lo + 1
    it2 = np.repeat(item[refine], cnt)
    j2 = np.repeat(lo, cnt) + np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    x2, y2 = arcs.xy(it2, j2)
    cell2 = s.grid.cell_of(x2, y2)
    c2 = np.where(cell2 >= 0, s.clear[np.maximum(cell2, 0)], -1.0)
    bad2 = (c2 >= 0.0) & (c2 < half_w)
    STATS["arcs"] += int(n.size)
    STATS["lookups"] += int(item.size + it2.size)
    return np.asarray(~blocked & (np.bincount(it2[bad2], minlength=n.size) == 0))


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
    """Road starts turning onto their rays, checked (module docstring; not with ``check``
    False, nor with :data:`CHECK_TURNS` False): run-up at the ray's
    origin ``x`` (m, ``-inf``: no free turn, or dropped because it cannot win its ray), the
    straight ``room`` (m) left after the turn and the turn's radius (m), per start.

    Per start: corner ``p`` (m) where the ray meets the road's line, road heading ``ui``, ray
    heading ``uo``, the road field's run-up ``xq`` (m) and speed ``vq = V(xq)`` (m/s),
    ``t = tan(delta / 2)``, distance
    ``dq`` (m) from the corner to the ray's origin and its ray. ``floor``: per ray, the best
    charged run-up of the starts that need no turn check (rest); ``charge(i, x)``: start
    ``i``'s run-up ``x`` charged the ray's kerb and barriers (``-inf`` stopped), monotone in
    ``x`` (None: nothing to charge). ``group``: the number of rays per edge sample (the rays
    of a sample are consecutive) and the sine of each ray's angle to the edge; a
    start is then dropped unchecked when its bound cannot beat the best speed normal to the
    edge checked on any ray of its sample (the search keeps, per sample, the ray with the
    highest normal speed), and a ray's run-up is exact only where it may be its sample's
    best (elsewhere a lower bound)."""
    nf = len(RADIUS_FRACTIONS)
    n = xq.size
    if charge is None:
        charge = _uncharged
    if not (check and CHECK_TURNS) or n == 0:
        a1, r1, room1 = _widest(s, vi, xq, vq, t, dq)
        return np.minimum(a1 + room1, s.fields[vi].kin.x_top_m), room1, r1
    STATS["starts"] += n
    x, room, rad = np.full(n, -np.inf), np.zeros(n), np.full(n, np.nan)

    def widest(i: IntArray) -> tuple[FloatArray, FloatArray]:
        """Starts ``i`` at their widest turn (in ``x, room, rad``): their run-up at the arc
        and radius."""
        a, r, rm = _widest(s, vi, xq[i], vq[i], t[i], dq[i])
        x[i] = np.minimum(a + rm, s.fields[vi].kin.x_top_m)
        room[i], rad[i] = rm, r
        return a, r

    # turns too slight to check: their widest arc, unchecked
    pending = t > math.tan(math.radians(TURN_CHECK_MIN_DEG) / 2.0)
    done = np.flatnonzero(~pending)
    widest(done)
    ref = floor.copy()
    np.maximum.at(ref, ray[done], charge(done, x[done]))
    STATS["turning"] += n - done.size
    # bounds without tables, dropping the starts that cannot win (charged only where the
    # bound itself beats the floor: the charge only lowers it): first the arc's run-up is at
    # most x_q and, X being convex in v^2 from X(0) = 0, at most ``X(v^2) <= k v^2`` with
    # ``k = X(top) / top^2`` at ``v^2 <= a_lat dq / t`` (every arc that fits before the
    # origin), then at most dq to the origin; then over every fraction the widest arc's
    # run-up plus dq less the tightest tangent length
    fl = _floor(s, vi, ref, group)
    if _convex(s.fields[vi].vehicle):
        kin = s.fields[vi].kin
        k = s.fields[vi].vehicle.lateral_accel_ms2 * kin.x_top_m / kin.top_speed_ms**2
        with np.errstate(divide="ignore"):  # (+ 0.01 m: the tables' round trip x -> v -> x)
            cheap = np.minimum(xq, k * dq / t + 0.01) + dq
    else:
        cheap = xq + dq
    live = np.flatnonzero(pending & (cheap > fl[ray]))
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
        quick = c >= r1 * t[live] + s.half_w[vi] + math.sqrt(2.0) * s.grid.cell_m
        STATS["quick"] += int(quick.sum())
        np.maximum.at(ref, ray[live[quick]], charge(live[quick], x[live[quick]]))
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
    rf = r1[:, None] * np.asarray(RADIUS_FRACTIONS)[None, :]
    tol = TURN_RADIUS_TOL * r1  # bisection's width (m) at which the free radius is kept
    convex = _convex(s.fields[vi].vehicle)
    tail = _tighter(s, vi, xq[rows], t[rows], dq[rows], rf[:, -1:])[:, 0] if convex else ub
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
    tab = s.tables[vi]

    def check_at(j: IntArray, r: FloatArray) -> None:
        """Rows ``j`` are next checked at radii ``r`` (m): their run-up and bound (the best
        run-up of the radii left: a bisected row's lies in ``[rlo, rhi)``, a descending one's
        in the fractions left or between the current one and ``rhi``; ``x`` is convex in the
        radius where the vehicle's ``X`` is convex in ``v^2``)."""
        i = rows[j]
        rcur[j] = r
        cur[j] = _tighter(s, vi, xq[i], t[i], dq[i], r[:, None])[:, 0]
        if not convex:
            bound[j] = tail[j]
            return
        bis = np.isfinite(rlo[j])
        bound[j] = np.where(
            bis, np.maximum(xlo[j], xhi[j]), np.maximum(np.maximum(cur[j], tail[j]), xhi[j])
        )

    def accept(j: IntArray, r: FloatArray, xx: FloatArray) -> None:
        """Rows ``j`` keep the free radii ``r`` (m) and run-ups ``xx`` (m)."""
        keep_r[j], keep_x[j] = r, xx
        np.maximum.at(ref, ray[rows[j]], charge(rows[j], xx))

    jl = np.arange(rows.size)  # the rows still to check
    m = 0
    while jl.size:
        cx = charge(rows[jl], bound[jl])
        hope = cx > _floor(s, vi, ref, group)[ray[rows[jl]]]
        jl, cx = jl[hope], cx[hope]
        if jl.size == 0:
            break
        STATS["rounds"] += 1
        # per ray (per edge sample with ``group``), the 2^m best by bound (by its normal speed)
        rj = ray[rows[jl]]
        if group is None:
            unit, key = rj, cx
        else:
            unit, key = rj // group[0], tab.v(np.maximum(cx, 0.0)) * group[1][rj]
        order = np.lexsort((-key, unit))
        rs = unit[order]
        first = np.flatnonzero(np.r_[True, rs[1:] != rs[:-1]])
        rank = np.arange(rs.size) - np.repeat(first, np.diff(np.r_[first, rs.size]))
        taken = np.zeros(jl.size, dtype=bool)
        taken[order[rank < (1 << min(m, 30))]] = True
        pick = jl[taken]
        i = rows[pick]
        ok = arc_free(
            s, vi, px[i], py[i], uix[i], uiy[i], uox[i], uoy[i], rcur[pick], delta[pick], True
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
        jl = np.concatenate([jl[~taken], mid, nxt])
        m += 1
    # checked starts at their kept radius; the others (blocked, or unchecked because they
    # cannot win) keep no value
    kept = np.flatnonzero(np.isfinite(keep_r))
    i = rows[kept]
    x[i] = keep_x[kept]
    rad[i] = keep_r[kept]
    room[i] = np.maximum(dq[i] - rad[i] * t[i], 0.0)
    return x, room, rad


def _floor(
    s: _Search, vi: int, ref: FloatArray, group: tuple[int, FloatArray] | None
) -> FloatArray:
    """Per ray, the run-up (m) a start must beat to matter: its ray's best checked ``ref``,
    and with ``group`` the run-up at which its normal speed equals the best checked normal
    speed of its sample (``+inf`` where that is above the top speed)."""
    if group is None:
        return ref
    nh, w = group
    tab = s.tables[vi]
    score = np.where(ref > -np.inf, tab.v(np.maximum(ref, 0.0)) * w, -1.0)
    best = np.repeat(score.reshape(-1, nh).max(axis=1), nh)
    need = best / w  # speed along the ray (m/s) that equals the sample's best
    top = s.fields[vi].kin.top_speed_ms
    with np.errstate(invalid="ignore"):
        x_need = np.where(need >= top, np.inf, tab.x(np.maximum(need, 0.0)))
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
    s: _Search, vi: int, xq: FloatArray, vq: FloatArray, t: FloatArray, dq: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The widest turn of road starts (docs/method.md section 7): run-up at the arc (m), its
    radius ``R0`` (m) and the straight room after it (m). ``R0 = v_q^2 / a_lat`` if its tangent
    length ``T`` fits before the origin: the vehicle keeps ``x_q`` and has ``dq - T`` left;
    else ``R0 = dq / t``: it brakes to ``sqrt(a_lat R0)`` and arrives at the origin with
    ``X(sqrt(a_lat R0))`` (braking before the bend allowed)."""
    vf = s.fields[vi]
    a_lat = vf.vehicle.lateral_accel_ms2
    tq = t * vq * vq / a_lat
    wide = tq <= dq  # the road speed's own turn fits before the origin
    with np.errstate(divide="ignore", invalid="ignore"):
        r0 = np.where(wide, vq * vq / a_lat, dq / np.maximum(t, 1e-12))
    x_arc = xq.copy()
    tight = np.flatnonzero(~wide)
    if tight.size:
        v_cap = np.minimum(np.sqrt(a_lat * r0[tight]), vf.kin.top_speed_ms)
        x_arc[tight] = np.minimum(xq[tight], s.tables[vi].x(v_cap))
    return x_arc, r0, np.where(wide, np.maximum(dq - tq, 0.0), 0.0)


def _tighter(
    s: _Search, vi: int, xq: FloatArray, t: FloatArray, dq: FloatArray, R: FloatArray
) -> FloatArray:
    """Run-up at the ray's origin (m) of road starts turning at the radii ``R`` (m, (starts,
    radii)), tighter than their widest (:func:`_widest`): the vehicle enters the arc at
    ``min(v_q, sqrt(a_lat R))`` (braking before it allowed) and accelerates over the
    ``dq - R t`` left, ``x = min(x_q, X(sqrt(a_lat R))) + dq - R t`` (docs/method.md
    section 7)."""
    vf = s.fields[vi]
    v_r = np.minimum(np.sqrt(vf.vehicle.lateral_accel_ms2 * R), vf.kin.top_speed_ms)
    room = np.maximum(dq[:, None] - R * t[:, None], 0.0)
    x_arc = np.minimum(xq[:, None], s.tables[vi].x(v_r))
    return np.asarray(np.minimum(x_arc + room, vf.kin.x_top_m))


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
