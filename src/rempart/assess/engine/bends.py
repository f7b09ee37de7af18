"""Bent runs through open ground: one bend around an obstacle (docs/method.md section 7,
"Bent runs"; issue 10 item 2).

The straight search (:func:`offroad.edge_threats`) marches a fan of rays back from every edge
sample. A bent run has two straight legs joined by a circular arc: a first leg arriving at a
pivot ``P`` in heading ``h_in`` (from rest or from the road field, exactly as a straight run
arrives at an edge sample) and the edge ray itself, from ``P`` (at distance ``s`` from the
edge) to the sample in heading ``h_out``. Method:

- **pivots**: the points of each edge ray blocked within :data:`PIVOT_MAX_M` of the edge,
  every 4 m in the last 8 m before its obstacle (:data:`PIVOT_DEPTH_STEPS`), merged on a
  lattice of :data:`PIVOT_CELL_M` cells: a cell's point is the pivot of the lowest-numbered
  edge sample whose rays place one in it (then ray, vehicle, depth), which the batch size
  cannot change, the samples being searched in increasing order;
- **first legs**: from each pivot, :data:`BEND_HEADINGS` rays (every 22.5 degrees) are searched
  like the edge rays (same march, starts, turn rule for road starts, barriers and kerbs):
  ``S(P, h_in)`` the equivalent run-up arriving at ``P`` and ``L(P, h_in)`` the straight
  length of the leg behind it (from its rest start, or after the turn of its road start: two
  arcs never share a stretch of the leg); computed once per pivot, heading and site, only for
  the pairs a bent run may need;
- **the bend**: turning by ``delta`` at radius ``R`` needs the tangent length
  ``T = R tan(delta / 2) <= min(s, L)`` and the arc free for the vehicle (clearance at least
  half its width every :data:`turns.ARC_STEP_M` along it, outside the site). ``R`` is tried at the
  widest the legs allow, ``R_max = min(s, L) / tan(delta / 2)`` (at most the radius of top
  speed), and at the fractions :data:`RADIUS_FRACTIONS` of it (a corner cuts the widest arc).
  The vehicle enters the arc with ``S - T``, may accelerate along it up to the arc's speed
  limit ``sqrt(a_lat R)`` (braking before the bend allowed), and accelerates again over the
  ``s - T`` left: ``x_edge = min(S - T + R delta, X(sqrt(a_lat R))) + s - T``. Counting the
  whole arc length at full acceleration is in the threat's favour;
- **where**: only rays on which the vehicle's top speed would beat the sample's straight
  normal speed; first legs only for the (pivot, heading) pairs whose bound without the first
  leg, ``X(sqrt(a_lat min(s / tan(delta / 2), v_top^2 / a_lat))) + s``, beats it (an upper
  bound of the next one, so no answer changes); only pivots whose bound (widest radius, no arc
  check) beats it, and per ray only the :data:`TOP_PER_RAY` best bends before their arc is
  checked. A bend found is a lower bound of the truth (fewer pivots, headings and radii
  than the continuum); one bend only (docs/method.md says so).

Distances in metres in the network's local CRS, speeds in m/s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .offroad import (
    REST,
    ROAD,
    EdgeThreat,
    FloatArray,
    IntArray,
    _Extra,
    _ray_best,
    _Rays,
    _rays,
    _Search,
)
from .turns import RADIUS_FRACTIONS, arc_free

#: First-leg headings per pivot (every 22.5 degrees): a corridor's axis within 11.25 degrees
#: of one of them (the bend itself is exact for the heading kept; a first leg off the axis is
#: shorter, a lower bound). 16 rather than 24 for the budget (docs/performance.md).
BEND_HEADINGS = 16
#: Pivots every this many march steps of an edge ray (2 m steps: every 4 m).
PIVOT_STRIDE = 2
#: Pivots lie in the last this many march steps (8 m) of an edge ray before the obstacle that
#: ends it: a bend is needed where the straight ray is blocked, and the widest arc pivots as
#: far from the edge as the ray allows (the tangent length T <= s grows with s).
PIVOT_DEPTH_STEPS = 4
#: Lattice cell (m) on which pivots are merged (one first-leg search per cell; 6 rather than
#: 4 m for the budget, docs/performance.md).
PIVOT_CELL_M = 6.0
#: Rays free for more than this (m) are not bent. ASSUMPTION (budget): such a ray already
#: gives a straight run-up from rest of more than 100 m (V = 56 km/h for the test truck);
#: longer bent approaches arrive through the road field, which follows the streets.
PIVOT_MAX_M = 100.0
# RADIUS_FRACTIONS and the arc check (turns.py) are shared with road starts' turns.
#: Best bends per ray whose arc is checked (the rest are dropped: a lower bound).
TOP_PER_RAY = 4
#: First-leg rays (pivot, heading) per batch.
FIRST_LEG_BATCH = 2048
#: Margin (m/s) of the per-heading bound of :meth:`PivotField.pivots_of`: a (pivot, heading)
#: pair is dropped only when its bound is this much below the floor, so table rounding can
#: never drop a pair the exact filter of :meth:`PivotField.candidates` would keep.
BOUND_MARGIN_MS = 1e-6
#: Slack of the screen before that bound (:meth:`PivotField.pivots_of`): the arc exit speed
#: the bound needs is taken this much lower (run-up in m, share of the speed, m/s), far more
#: than the tables' error (below 0.01 km/h, 0.5 m), so the screen never drops a pair the
#: bound keeps; it only spares the bound's arithmetic on the pairs it drops.
SCREEN_RUNUP_M = 1.0
SCREEN_SPEED_SHARE = 0.99
SCREEN_SPEED_MS = 0.05


@dataclass
class _Pivots:
    """Pivots wanted on a batch's edge rays by one vehicle: ray, march step, distance to the
    edge (m), position (m), lattice cell, and the rays' floors (m/s); then the (pivot,
    first-leg heading) pairs the screen keeps, in row-major order (pivot ``pi``, heading
    ``hi``), each with its turn ``delta`` (rad), ``tan(delta / 2)`` and ``want``, whether the
    bend's bound beats the floor whatever the first leg (only these first legs are computed)."""

    r: IntArray
    k: IntArray
    sd: FloatArray
    px: FloatArray
    py: FloatArray
    lat: IntArray
    floor_ms: FloatArray
    pi: IntArray
    hi: IntArray
    delta: FloatArray
    tan_half: FloatArray
    want: NDArray[np.bool_]


class PivotField:
    """First legs arriving at the pivots of one site, per vehicle, computed on demand."""

    def __init__(self, s: _Search) -> None:
        self.s = s
        g = s.grid
        self.nlx = int(math.ceil(g.nx * g.cell_m / PIVOT_CELL_M))
        self.nly = int(math.ceil(g.ny * g.cell_m / PIVOT_CELL_M))
        self.lat2piv = np.full(self.nlx * self.nly, -1, dtype=np.int64)
        ang = np.arange(BEND_HEADINGS) * (2.0 * math.pi / BEND_HEADINGS)
        self.hx, self.hy = np.sin(ang), np.cos(ang)  # travel directions (bearing from north)
        nv = len(s.fields)
        self.n = 0
        cap = 256
        self.px = np.zeros(cap)
        self.py = np.zeros(cap)
        # per vehicle (V, pivots, headings): run-up at the pivot, the first leg's straight
        # length behind it (after its start's own turn: the room for the bend's tangent),
        # start of the first leg (position, kind, speed km/h, road link)
        self.x = np.full((nv, cap, BEND_HEADINGS), -np.inf)
        self.free = np.zeros((nv, cap, BEND_HEADINGS))
        self.sx = np.zeros((nv, cap, BEND_HEADINGS))
        self.sy = np.zeros((nv, cap, BEND_HEADINGS))
        self.kind = np.zeros((nv, cap, BEND_HEADINGS), dtype=np.int64)
        self.skmh = np.zeros((nv, cap, BEND_HEADINGS))
        self.link = np.full((nv, cap, BEND_HEADINGS), -1, dtype=np.int64)
        self.done = np.zeros((nv, cap, BEND_HEADINGS), dtype=bool)  # first legs computed
        self._last: tuple[IntArray, IntArray, FloatArray, FloatArray] | None = None

    def _grow(self, need: int) -> None:
        cap = self.px.size
        if need <= cap:
            return
        new = max(need, 2 * cap)
        for name in ("px", "py"):
            a = getattr(self, name)
            setattr(self, name, np.concatenate([a, np.zeros(new - cap)]))
        for name, fill in (
            ("done", False),
            ("x", -np.inf),
            ("free", 0.0),
            ("sx", 0.0),
            ("sy", 0.0),
            ("kind", 0),
            ("skmh", 0.0),
            ("link", -1),
        ):
            a = getattr(self, name)
            pad = np.full((a.shape[0], new - cap, a.shape[2]), fill, dtype=a.dtype)
            setattr(self, name, np.concatenate([a, pad], axis=1))

    def _lattice(self, x: FloatArray, y: FloatArray) -> IntArray:
        g = self.s.grid
        j = np.floor((x - g.x0) / PIVOT_CELL_M).astype(np.int64)
        i = np.floor((y - g.y0) / PIVOT_CELL_M).astype(np.int64)
        ok = (i >= 0) & (i < self.nly) & (j >= 0) & (j < self.nlx)
        return np.where(ok, i * self.nlx + j, -1)

    def _ensure(self, lat: IntArray, x: FloatArray, y: FloatArray) -> IntArray:
        """Pivot index of every lattice cell ``lat`` (>= 0), making new pivots at the first
        point (``x, y``) that falls in each, in the order given (their first legs are computed
        by :meth:`prefetch`)."""
        new_lat, first = np.unique(lat, return_index=True)
        fresh = self.lat2piv[new_lat] < 0
        new_lat, first = new_lat[fresh], first[fresh]
        if new_lat.size:
            n0 = self.n
            self._grow(n0 + new_lat.size)
            self.lat2piv[new_lat] = n0 + np.arange(new_lat.size)
            self.px[n0 : n0 + new_lat.size] = x[first]
            self.py[n0 : n0 + new_lat.size] = y[first]
            self.n = n0 + new_lat.size
        return self.lat2piv[lat]

    def _compute(self, pairs: IntArray, vis: list[int]) -> None:
        """First legs of the (pivot, heading) ``pairs`` (flat, ``pivot * BEND_HEADINGS +
        heading``) for the vehicles ``vis``: the straight search from each pivot in each
        heading (one march shared by the vehicles)."""
        s = self.s
        piv, h = np.divmod(pairs, BEND_HEADINGS)
        px, py = self.px[piv], self.py[piv]
        ufx, ufy = self.hx[h], self.hy[h]
        rays = _rays(s, px, py, ufx, ufy)
        for vi in vis:
            self.done[vi, piv, h] = True
            if rays.lmax == 0:
                continue
            best = _ray_best(s, rays, vi)
            d = s.dist[best.k]
            road = best.q >= 0
            self.x[vi, piv, h] = best.x
            self.free[vi, piv, h] = best.room
            self.sx[vi, piv, h] = px - ufx * d
            self.sy[vi, piv, h] = py - ufy * d
            self.kind[vi, piv, h] = np.where(road, ROAD, REST)
            if s.seeds.cell.size:
                qs = np.maximum(best.q, 0)
                self.skmh[vi, piv, h] = np.where(road, s.seeds.v_ms[vi, qs] * 3.6, 0.0)
                self.link[vi, piv, h] = np.where(road, s.seeds.link[qs], -1)

    def pivots_of(
        self, vi: int, rays: _Rays, ox: FloatArray, oy: FloatArray, floor_ms: FloatArray
    ) -> _Pivots | None:
        """The pivots of the edge rays ``rays`` (origins ``ox, oy``) on which vehicle ``vi``
        may beat ``floor_ms`` (per ray, the speed a bend must exceed), and per pivot the
        first-leg headings whose bend may beat it whatever the first leg: turning by
        ``delta`` at a radius ``R <= min(s / tan(delta / 2), v_top^2 / a_lat)`` the vehicle
        reaches the edge with at most ``X(sqrt(a_lat R)) + s`` (the widest-radius term of the
        bound of :meth:`candidates`, which is no larger), so the other headings cannot win."""
        s = self.s
        vf = s.fields[vi]
        tab = s.tables[vi]
        a_lat = vf.vehicle.lateral_accel_ms2
        top = vf.kin.top_speed_ms
        kmax = int(np.searchsorted(s.dist, PIVOT_MAX_M, side="right"))
        lv = rays.free_len[vi]
        # pivots in the last PIVOT_DEPTH_STEPS of each ray before its obstacle
        back = np.arange(0, PIVOT_DEPTH_STEPS, PIVOT_STRIDE)
        kk = lv[:, None] - 1 - back[None, :]
        hope = (floor_ms < top - 1e-6) & (lv <= kmax)
        r, kj = np.nonzero(hope[:, None] & (kk >= 0))
        if r.size == 0:
            return None
        k = kk[r, kj]
        sd = s.dist[k]
        px = ox[r] - rays.ufx[r] * sd
        py = oy[r] - rays.ufy[r] * sd
        lat = self._lattice(px, py)
        ok = lat >= 0
        r, k, sd, px, py, lat = r[ok], k[ok], sd[ok], px[ok], py[ok], lat[ok]
        # every pair (pivot of a ray, first-leg heading)
        cosd = np.clip(
            rays.ufx[r, None] * self.hx[None, :] + rays.ufy[r, None] * self.hy[None, :], -1, 1
        )
        # screen: the bound below needs an arc exit speed sqrt(a_lat R) above about
        # V(X(floor) - s), so R > V^2 / a_lat and tan(delta / 2) <= s / R < s a_lat / V^2; V
        # taken low (SCREEN_RUNUP_M, SCREEN_SPEED_SHARE, SCREEN_SPEED_MS), so the screen keeps
        # every pair the bound keeps and only spares the bound's arithmetic on the others
        floor_p = floor_ms[r] - BOUND_MARGIN_MS
        v_exit = np.maximum(
            SCREEN_SPEED_SHARE * tab.v(np.maximum(tab.x(floor_p) - sd - SCREEN_RUNUP_M, 0.0))
            - SCREEN_SPEED_MS,
            0.0,
        )
        with np.errstate(divide="ignore"):
            cos_lo = np.cos(2.0 * np.arctan(sd * a_lat / np.square(v_exit))) - 1e-9
        pi, hi = np.nonzero(
            (cosd >= cos_lo[:, None]) & (cosd <= math.cos(math.pi / BEND_HEADINGS) + 1e-9)
        )
        d = np.arccos(cosd[pi, hi])
        t = np.tan(0.5 * d)
        s_p = sd[pi]
        with np.errstate(divide="ignore"):
            r_top = np.minimum(s_p / t, top * top / a_lat)
        bound = np.minimum(tab.x(np.sqrt(a_lat * r_top)) + s_p, vf.kin.x_top_m)
        want = (d >= math.pi / BEND_HEADINGS) & (tab.v(bound) > floor_p[pi])
        return _Pivots(r, k, sd, px, py, lat, floor_ms, pi, hi, d, t, want)

    def prefetch(self, wanted: list[tuple[int, _Pivots]]) -> None:
        """Compute the first legs of every (pivot, heading) each vehicle wants that it lacks,
        marching each batch of them once for every vehicle that needs some of them. Every
        pivot point is placed on the lattice (whether or not a heading is wanted); a new
        cell's point is the batch's first in the order (ray, vehicle, depth). Rays are numbered
        sample by sample and batches follow the samples' order, so the point of a cell is that
        of the lowest-numbered sample reaching it, whatever the batch size."""
        need: dict[int, IntArray] = {}
        if wanted:
            r = np.concatenate([w.r for _, w in wanted])
            v = np.concatenate([np.full(w.r.size, vi) for vi, w in wanted])
            k = np.concatenate([w.k for _, w in wanted])
            order = np.lexsort((k, v, r))
            lat = np.concatenate([w.lat for _, w in wanted])[order]
            px = np.concatenate([w.px for _, w in wanted])[order]
            py = np.concatenate([w.py for _, w in wanted])[order]
            self._ensure(lat, px, py)
        for vi, w in wanted:
            p = self.lat2piv[w.lat]
            pairs = np.unique(p[w.pi[w.want]] * BEND_HEADINGS + w.hi[w.want])
            need[vi] = pairs[~self.done[vi].ravel()[pairs]]
        union = np.unique(np.concatenate(list(need.values()))) if need else np.zeros(0, int)
        # which vehicles need which of the union's pairs (each need is a subset of the union)
        vis_all = list(need)
        member = np.zeros((len(need), union.size), dtype=bool)
        for j, p in enumerate(need.values()):
            member[j, np.searchsorted(union, p)] = True
        for b0 in range(0, union.size, FIRST_LEG_BATCH):
            pairs = union[b0 : b0 + FIRST_LEG_BATCH]
            got = np.flatnonzero(member[:, b0 : b0 + FIRST_LEG_BATCH].any(axis=1))
            vis = [vis_all[j] for j in got.tolist()]
            self._compute(pairs, vis)

    def candidates(self, vi: int, rays: _Rays, piv: _Pivots) -> _Extra | None:
        """Bent starts of the edge rays ``rays`` through the pivots ``piv`` for vehicle ``vi``
        that beat the rays' floors, as extra starts."""
        s = self.s
        vf = s.fields[vi]
        tab = s.tables[vi]
        kin = vf.kin
        a_lat = vf.vehicle.lateral_accel_ms2
        top = kin.top_speed_ms
        floor_ms = piv.floor_ms
        r, k, sd, px, py, lat = piv.r, piv.k, piv.sd, piv.px, piv.py, piv.lat
        p = self.lat2piv[lat]  # computed for this vehicle by prefetch
        # the pairs (pivot of a ray, first-leg heading) whose bound may beat the floor
        w = np.flatnonzero(piv.want)
        flat = p[piv.pi[w]] * BEND_HEADINGS + piv.hi[w]
        S = self.x[vi].reshape(-1)[flat]
        L = self.free[vi].reshape(-1)[flat]
        got = np.isfinite(S) & (L > 0)
        w, S, L = w[got], S[got], L[got]
        if w.size == 0:
            return None
        pi, hi = piv.pi[w], piv.hi[w]
        delta = piv.delta[w]
        t = piv.tan_half[w]
        s_p = sd[pi]
        r_max = np.minimum(np.minimum(s_p, L) / t, top * top / a_lat)
        floor = floor_ms[r[pi]]
        # optimistic bound with the widest radius: drop the pairs that cannot beat the floor
        bound = np.minimum(
            tab.x(np.sqrt(a_lat * r_max)) + s_p,
            S + s_p + np.maximum(r_max * (delta - 2.0 * t), 0.0),
        )
        keep = tab.v(np.minimum(bound, kin.x_top_m)) > floor
        pi, hi = pi[keep], hi[keep]
        S, delta, t, s_p, r_max = S[keep], delta[keep], t[keep], s_p[keep], r_max[keep]
        if pi.size == 0:
            return None
        f = np.asarray(RADIUS_FRACTIONS)
        R = r_max[:, None] * f[None, :]
        T = R * t[:, None]
        x_exit = np.minimum(
            np.maximum(S[:, None] - T, 0.0) + R * delta[:, None], tab.x(np.sqrt(a_lat * R))
        )
        x_edge = np.minimum(x_exit + s_p[:, None] - T, kin.x_top_m)
        ci, fi = np.nonzero(tab.v(x_edge) > floor_ms[r[pi]][:, None])
        if ci.size == 0:
            return None
        xe = x_edge[ci, fi]
        rr = r[pi[ci]]
        # per ray the TOP_PER_RAY best, then their arcs checked
        order = np.lexsort((-xe, rr))
        rs = rr[order]
        start = np.flatnonzero(np.r_[True, rs[1:] != rs[:-1]])
        rank = np.arange(rs.size) - np.repeat(start, np.diff(np.r_[start, rs.size]))
        top_k = order[rank < TOP_PER_RAY]
        ci, fi, xe = ci[top_k], fi[top_k], xe[top_k]
        pair = pi[ci]
        h = hi[ci]
        ro = r[pair]
        free = arc_free(
            s,
            vi,
            px[pair],
            py[pair],
            self.hx[h],
            self.hy[h],
            rays.ufx[ro],
            rays.ufy[ro],
            R[ci, fi],
            delta[ci],
        )
        if not free.any():
            return None
        sel = np.flatnonzero(free)
        self._last = (p[pair[sel]], h[sel], px[pair[sel]], py[pair[sel]])
        return _Extra(ro[sel], k[pair[sel]], xe[sel], np.arange(sel.size))

    def write_path(self, vi: int, th: EdgeThreat, es: IntArray, codes: IntArray) -> None:
        """Start, kind and bend point of the bent runs that won at samples ``es``."""
        assert self._last is not None
        p, h, vx, vy = (a[codes] for a in self._last)
        th.kind[es] = self.kind[vi, p, h]
        th.start_x[es] = self.sx[vi, p, h]
        th.start_y[es] = self.sy[vi, p, h]
        th.start_speed_kmh[es] = self.skmh[vi, p, h]
        th.link[es] = self.link[vi, p, h]
        th.via_x[es] = vx
        th.via_y[es] = vy
