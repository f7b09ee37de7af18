"""Speed model: exact run-up kinematics and the worst-case speed propagation.

Hand-written because no library does this: the closed-form distance/speed relation for a
piecewise-linear acceleration curve a(v), and a label-correcting max-propagation over directed
link states that yields, for every street, the highest speed a hostile vehicle can reach over
*all* routes (loops included), not along one chosen route.

Everything runs in "equivalent run-up" space: ``x = X(v)`` is the distance needed to reach
speed ``v`` from rest at full throttle, ``X(v) = integral_0^v u / a(u) du``. Accelerating over a
distance ``d`` maps ``x -> x + d`` exactly (the motion equation is autonomous in distance), and a
speed cap ``c`` maps ``x -> min(x, X(c))``. A directed link of length ``L`` whose bends cap the
speed therefore transfers ``x_out = min(x_in + L, K, X_top)`` with ``K`` a per-link constant, and
the whole propagation is additions and minima over numpy arrays. Units: metres, m/s, m/s2.

After a capped turn the vehicle holds the cap speed along the second half of the widest-line
arc, ``h`` metres into the next link, before it accelerates: at ``p`` metres into that link the
run-up is ``min(x + p, C + max(0, p - h))`` for a transition with cap ``C`` from a link whose
exit run-up is ``x``. Per directed link the propagation keeps the near label
``x_in = max_t min(x_t, C_t)`` and the far label ``x_far = max_t min(x_t, C_t - h_t)``: with
``H = max_t h_t`` the run-up is exactly ``x_far + p`` for ``p >= H`` and at most
``min(x_in + p, x_far + H)`` before (exact for one incoming transition, the safe side for
several).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .vehicles import Vehicle

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_EPS_M = 1e-6


@dataclass(frozen=True)
class Kinematics:
    """Full-throttle kinematics of one vehicle: ``X(v)`` and its inverse ``V(x)``.

    Attributes
    ----------
    knots_ms : array
        Speeds (m/s) bounding the linear pieces of a(v), from 0 to the top speed.
    accel_ms2 : array
        a(v) at the knots, m/s2.
    x_knots_m : array
        X(v) at the knots, m (equivalent run-up from rest).
    top_speed_ms : float
    x_top_m : float
        X(top speed): beyond this distance from rest the vehicle is at top speed.
    """

    knots_ms: FloatArray
    accel_ms2: FloatArray
    x_knots_m: FloatArray
    top_speed_ms: float
    x_top_m: float

    @classmethod
    def of(cls, vehicle: Vehicle) -> Kinematics:
        top = vehicle.top_speed_ms
        pts_v = np.array([p[0] / 3.6 for p in vehicle.acceleration])
        pts_a = np.array([p[1] for p in vehicle.acceleration])
        inner = pts_v[(pts_v > 0) & (pts_v < top)]
        knots = np.concatenate([[0.0], inner, [top]])
        accel = np.interp(knots, pts_v, pts_a)  # held constant beyond the curve's ends
        x_knots = np.concatenate(
            [[0.0], np.cumsum(_piece_distance(knots[:-1], knots[1:], accel[:-1], accel[1:]))]
        )
        return cls(knots, accel, x_knots, top, float(x_knots[-1]))

    def x_of_v(self, speed_ms: FloatArray | float) -> FloatArray:
        """Equivalent run-up X(v) in m for speeds in m/s (closed form, capped at top speed)."""
        v = np.clip(np.asarray(speed_ms, dtype=float), 0.0, self.top_speed_ms)
        i = np.clip(np.searchsorted(self.knots_ms, v, side="right") - 1, 0, len(self.knots_ms) - 2)
        v0 = self.knots_ms[i]
        a0 = self.accel_ms2[i]
        a1 = np.interp(v, self.knots_ms, self.accel_ms2)
        return np.asarray(self.x_knots_m[i] + _piece_distance(v0, v, a0, a1), dtype=float)

    def v_of_x(self, x_m: FloatArray | float) -> FloatArray:
        """Speed V(x) in m/s reached after an equivalent run-up of ``x_m`` metres from rest.

        Inverse of the closed form: per piece, Newton iterations on the exact distance
        function inside the piece's speed bracket (monotone, so safeguarded Newton converges).
        """
        x = np.asarray(x_m, dtype=float)
        flat = np.atleast_1d(x).ravel()
        out = np.full(flat.shape, self.top_speed_ms)
        finite = flat < self.x_top_m
        out[flat <= 0] = 0.0
        work = finite & (flat > 0)
        if np.any(work):
            xs = flat[work]
            i = np.clip(
                np.searchsorted(self.x_knots_m, xs, side="right") - 1, 0, len(self.knots_ms) - 2
            )
            lo = self.knots_ms[i]
            hi = self.knots_ms[i + 1]
            a_lo = self.accel_ms2[i]
            slope = (self.accel_ms2[i + 1] - a_lo) / (hi - lo)
            dx = xs - self.x_knots_m[i]
            v = np.sqrt(lo * lo + 2.0 * a_lo * dx)  # constant-acceleration guess
            v = np.clip(v, lo, hi)
            # Iterate only the points not yet converged: each point then gets the same result
            # whether it is solved alone or in a batch (the batched entries rely on it).
            # (the live points' inputs are kept compacted, cut only when some converge)
            live = np.arange(v.size)
            vl, lol, hil, al, sl, dxl = v.copy(), lo, hi, a_lo, slope, dx
            for _ in range(30):
                a_v = al + sl * (vl - lol)
                f = _piece_distance(lol, vl, al, a_v) - dxl
                fprime = vl / a_v
                step = np.where(fprime > 1e-12, f / np.maximum(fprime, 1e-12), 0.0)
                v_new = np.clip(vl - step, lol, hil)
                v[live] = v_new
                go = np.abs(v_new - vl) >= 1e-10
                if go.all():
                    vl = v_new
                    continue
                live = live[go]
                if live.size == 0:
                    break
                vl, lol, hil, al, sl, dxl = v_new[go], lol[go], hil[go], al[go], sl[go], dxl[go]
            out[work] = v
        return out.reshape(x.shape) if x.shape else out[:1].reshape(())

    def run_up_speed_ms(self, distance_m: float, from_speed_ms: float = 0.0) -> float:
        """Speed after accelerating over ``distance_m`` from ``from_speed_ms`` (capped)."""
        return float(self.v_of_x(self.x_of_v(from_speed_ms) + distance_m))


def _piece_distance(
    v0: FloatArray | float, v1: FloatArray | float, a0: FloatArray | float, a1: FloatArray | float
) -> FloatArray:
    """Exact distance to go from ``v0`` to ``v1`` when a(v) is linear from ``a0`` to ``a1``.

    ``integral v / (b + k v) dv = v/k - b/k^2 ln(b + k v)``; for ``k -> 0`` it is
    ``(v1^2 - v0^2) / (2a)``. A series form is used when ``k`` is tiny to avoid cancellation.
    """
    v0, v1, a0, a1 = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (v0, v1, a0, a1)))
    shape = v0.shape
    v0, v1, a0, a1 = (np.ravel(a) for a in (v0, v1, a0, a1))
    dv = v1 - v0
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(np.abs(dv) > 1e-12, (a1 - a0) / np.where(dv == 0, 1.0, dv), 0.0)
        r = (a1 - a0) / a0
    # each form is evaluated only where it is used (elementwise: the same floats as
    # evaluating all three everywhere and selecting)
    const = np.abs(k) < 1e-12
    small = ~const & (np.abs(r) < 1e-4)
    exact = ~const & ~small
    result = np.empty(v0.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        if const.any():
            c0, c1, ca = v0[const], v1[const], a0[const]
            result[const] = (c1 * c1 - c0 * c0) / (2.0 * ca)
        if exact.any():
            e0, e1, ea0, ea1 = v0[exact], v1[exact], a0[exact], a1[exact]
            ek = k[exact]
            # With u = a(v): distance = dv/k - (a0 - k v0)/k^2 * ln(a1/a0).
            result[exact] = (e1 - e0) / ek - (ea0 - ek * e0) / (ek * ek) * np.log(ea1 / ea0)
        if small.any():
            # Near-constant acceleration: expand ln to third order in (a1-a0)/a0.
            # distance = integral v/(a0 (1 + k (v-v0)/a0)) dv, expand 1/(1+e) ~ 1 - e + e^2.
            s0, s1, sa, sk = v0[small], v1[small], a0[small], k[small]
            m0 = (s1 * s1 - s0 * s0) / 2.0
            m1 = (2 * s1**3 - 3 * s0 * s1**2 + s0**3) / 6.0
            m2 = (3 * s1**4 - 8 * s0 * s1**3 + 6 * s0**2 * s1**2 - s0**4) / 12.0
            result[small] = (m0 - (sk / sa) * m1 + (sk / sa) ** 2 * m2) / sa
    return result.reshape(shape)


@dataclass(frozen=True)
class SpeedField:
    """Result of the propagation for one vehicle on one network.

    Attributes
    ----------
    x_in_m : array (D,)
        Equivalent run-up at the tail of each directed link, after the turn into it; ``-inf``
        where the link cannot be entered.
    x_out_m : array (D,)
        Equivalent run-up at the head of each directed link; ``-inf`` if not traversable.
    pred : array (D,) int
        Best predecessor directed link, ``-1`` for a start from rest at the tail.
    pred_turn_x_m : array (D,)
        Turn cap (equivalent run-up) of the transition from ``pred``; ``inf`` if none.
    traversable : array (D,) bool
    rounds : int
        Relaxation rounds until convergence.
    x_far_m : array (D,)
        Far label: the run-up at ``p >= hold_m`` into the link is ``x_far_m + p`` (before the
        link's own bends), m; ``x_far_m <= x_in_m``.
    hold_m : array (D,)
        Hold of each link (m): the longest hold of the capping turns into it, or what is
        left of a hold from a link before it; it may exceed the link's length.
    """

    x_in_m: FloatArray
    x_out_m: FloatArray
    pred: IntArray
    pred_turn_x_m: FloatArray
    traversable: NDArray[np.bool_]
    rounds: int
    x_far_m: FloatArray
    hold_m: FloatArray

    def x_free_m(self, directed: IntArray, s_m: FloatArray) -> FloatArray:
        """Run-up (m) at ``s_m`` metres into each directed link before its own bends: the
        turn's hold, then acceleration (``min(x_in + s, x_far + H)`` before ``H``,
        ``x_far + s`` from it)."""
        d = np.asarray(directed, dtype=np.int64)
        s = np.asarray(s_m, dtype=float)
        h = self.hold_m[d]
        far = self.x_far_m[d]
        with np.errstate(invalid="ignore"):
            near = np.minimum(self.x_in_m[d] + s, far + h)
        return np.asarray(np.where(s >= h, far + s, near), dtype=float)


def propagate(
    length_m: FloatArray,
    exit_cap_x_m: FloatArray,
    traversable: NDArray[np.bool_],
    trans_from: IntArray,
    trans_to: IntArray,
    trans_cap_x_m: FloatArray,
    x_top_m: float,
    seed: NDArray[np.bool_] | None = None,
    trans_hold_m: FloatArray | None = None,
    exit_hold_m: FloatArray | None = None,
    exit_hold_x_m: FloatArray | None = None,
) -> SpeedField:
    """Maximum equivalent run-up on every directed link over all routes.

    Label-correcting max-propagation: every traversable directed link starts at ``x_in = 0``
    (a start from rest at its tail dominates a start anywhere further along), then rounds of
    vectorised relaxation over the transitions leaving the links whose exit grew. The
    transfer functions are monotone and bounded by ``x_top_m``, so the labels only grow and
    converge (loops add length until a cap binds).

    Each directed link carries a near label ``x_in`` (just after the turn into it) and a far
    label ``x_far`` valid from its hold ``H`` (m): the run-up ``p`` m into it is
    ``min(x_in + p, x_far + H)`` before ``H`` and ``x_far + p`` from it (before its own bends).
    ``H`` is the longest hold of the capping turns into the link, or what is left of a hold
    (a turn's or a bend's) of a link before it that did not end on that link: a hold is not
    cut at a link's end (docs/method.md, "After a bend").

    Parameters
    ----------
    length_m : (D,) directed link lengths, m.
    exit_cap_x_m : (D,) per-link exit constant K (bends inside the link), m.
    traversable : (D,) bool, links this vehicle may use.
    trans_from, trans_to : (T,) directed link indices of each transition, sorted by ``trans_from``.
    trans_cap_x_m : (T,) turn cap of each transition as an equivalent run-up, m.
    x_top_m : float, X(top speed), m.
    seed : (D,) bool or None, links entered at top speed (``x_in = x_top_m``): the boundary of a
        screening tile, where a vehicle may arrive from outside (rempart.screen).
    trans_hold_m : (T,) or None, hold of each transition on its outgoing link (m): the second
        half of the turn's widest-line arc, driven at the cap before accelerating; what is
        longer than the outgoing link goes on to the links after it. Ignored where the turn
        caps nothing.
    exit_hold_m, exit_hold_x_m : (D,) or None, the hold of the link's own bends left at its end
        (m, 0 where none) and the bound it carries, ``min_b X(cap_b) - r_b`` (m, ``inf`` where
        none): past the link's end the run-up is at most ``X(cap_b) + max(0, p - r_b)``.
    """
    n = len(length_m)
    # every link can be started on from rest, even one a barrier blocks (the speed reaching
    # the barrier matters); only traversable links pass their speed on
    x_in = np.zeros(n)
    if seed is not None:
        x_in[seed] = x_top_m
    x_in0 = x_in.copy()
    x_far = x_in.copy()
    bend_r = np.zeros(n) if exit_hold_m is None else np.asarray(exit_hold_m, dtype=float)
    k_far = np.asarray(exit_cap_x_m, dtype=float)
    if exit_hold_x_m is not None:
        k_far = np.minimum(k_far, exit_hold_x_m)
    starts = np.searchsorted(trans_from, np.arange(n + 1))
    if trans_hold_m is None:
        h_t = np.zeros(trans_cap_x_m.shape)
    else:
        h_t = np.where(np.isfinite(trans_cap_x_m), trans_hold_m, 0.0)
    cap_far = trans_cap_x_m - h_t
    hold = _holds(length_m, h_t, bend_r, trans_from, trans_to, starts)
    # the near label matters only on links whose hold outlasts them (elsewhere the exit is
    # x_far + L <= x_in + L): it is propagated for those alone
    long = hold > length_m
    any_long = bool(long.any())
    # links whose far exit differs from their exit: a hold outlasting them, or a bend's hold
    # left at their end (elsewhere both are min(x_far + L, K); most links)
    special = long | (k_far < exit_cap_x_m)
    any_special = bool(special.any())

    def exits(d: IntArray) -> tuple[FloatArray, FloatArray]:
        """Near exit ``min(x_in + L, x_far + max(L, H), K)`` and far exit
        ``min(x_far + L, K, K_far)`` of the links ``d`` (``-inf`` where not traversable)."""
        far_l = x_far[d] + length_m[d]
        near = np.where(
            traversable[d], np.minimum(np.minimum(far_l, exit_cap_x_m[d]), x_top_m), -np.inf
        )
        if not any_special:
            return near, near
        far = near.copy()
        sp = special[d] & traversable[d]
        ds = d[sp]
        far[sp] = np.minimum(np.minimum(far_l[sp], k_far[ds]), x_top_m)
        lg = sp & long[d]
        dl = d[lg]
        near[lg] = np.minimum(
            np.minimum(np.minimum(x_in[dl] + length_m[dl], x_far[dl] + hold[dl]), exit_cap_x_m[dl]),
            x_top_m,
        )
        return near, far

    x_out, f_out = exits(np.arange(n))
    if not any_special:
        f_out = x_out  # one array: every far exit is the exit
    # Transitions into non-traversable links are kept so that x_in is known at a blocked link
    # (the register needs the speed arriving at a barrier); they never propagate further.
    frontier = np.flatnonzero(traversable)
    best_f = np.full(n, -np.inf)
    best_n = np.full(n, -np.inf)
    rounds = 0
    while frontier.size:
        rounds += 1
        offs = _transitions_from(starts, frontier)
        if offs.size == 0:
            break
        t_to = trans_to[offs]
        cand = np.minimum(f_out[trans_from[offs]], cap_far[offs])
        best_f[t_to] = -np.inf
        np.maximum.at(best_f, t_to, cand)
        winners = (cand > x_far[t_to] + _EPS_M) & (cand >= best_f[t_to])
        x_far[t_to[winners]] = cand[winners]
        # sorted unique targets via a mask: O(D) and much faster than np.unique's hashing
        mark = np.zeros(n, dtype=bool)
        mark[t_to[winners]] = True
        if any_long:
            lt = np.flatnonzero(long[t_to])
            n_to = t_to[lt]
            cand_n = np.minimum(x_out[trans_from[offs[lt]]], trans_cap_x_m[offs[lt]])
            best_n[n_to] = -np.inf
            np.maximum.at(best_n, n_to, cand_n)
            win_n = (cand_n > x_in[n_to] + _EPS_M) & (cand_n >= best_n[n_to])
            x_in[n_to[win_n]] = cand_n[win_n]
            mark[n_to[win_n]] = True
        targets = np.flatnonzero(mark)
        if targets.size == 0:
            break
        targets = targets[traversable[targets]]
        new_out, new_f = exits(targets)
        grew = new_out > x_out[targets] + _EPS_M
        x_out[targets] = np.maximum(x_out[targets], new_out)
        if any_special:
            grew |= new_f > f_out[targets] + _EPS_M
            f_out[targets] = np.maximum(f_out[targets], new_f)
        frontier = targets[grew]
    # The near label (run-up just after the turn) and the best predecessor follow from the
    # converged exits in one pass: x_in = max_t min(x_out[from], C_t).
    x_in = x_in0
    pred = np.full(n, -1, dtype=np.int64)
    pred_cap = np.full(n, np.inf)
    cand = np.minimum(x_out[trans_from], trans_cap_x_m)
    best = np.full(n, -np.inf)
    np.maximum.at(best, trans_to, cand)
    improved_t = cand > x_in[trans_to] + _EPS_M
    winners = improved_t & (cand >= best[trans_to])
    w_to = trans_to[winners]
    x_in[w_to] = cand[winners]
    pred[w_to] = trans_from[winners]
    pred_cap[w_to] = trans_cap_x_m[winners]
    return SpeedField(x_in, x_out, pred, pred_cap, traversable.copy(), rounds, x_far, hold)


def _transitions_from(starts: np.ndarray, frontier: np.ndarray) -> np.ndarray:
    """Offsets of every transition leaving the directed links ``frontier``, with ``starts``
    the CSR row starts of the transitions by source link (one vectorised gather)."""
    counts = starts[frontier + 1] - starts[frontier]
    total = int(counts.sum())
    return np.repeat(starts[frontier] - np.cumsum(counts) + counts, counts) + np.arange(total)


def _holds(
    length_m: FloatArray,
    trans_hold_m: FloatArray,
    bend_hold_m: FloatArray,
    trans_from: IntArray,
    trans_to: IntArray,
    starts: IntArray,
) -> FloatArray:
    """Hold ``H`` (m) of every directed link: the longest hold of the capping turns into it
    (``trans_hold_m``, 0 where a turn caps nothing) or of what is left past the end of a link
    before it, ``max(H - L, the link's own bend hold left at its end)``, carried on from link
    to link until it ends (a fixed point over the links where something is left)."""
    n = len(length_m)
    hold = np.zeros(n)
    np.maximum.at(hold, trans_to, trans_hold_m)
    left = np.maximum(hold - length_m, bend_hold_m)
    frontier = np.flatnonzero(left > 0)
    while frontier.size:
        offs = _transitions_from(starts, frontier)
        if offs.size == 0:
            break
        t_to = trans_to[offs]
        cand = left[trans_from[offs]]
        grow = cand > hold[t_to] + _EPS_M
        if not np.any(grow):
            break
        np.maximum.at(hold, t_to[grow], cand[grow])
        mark = np.zeros(n, dtype=bool)
        mark[t_to[grow]] = True
        targets = np.flatnonzero(mark)
        new_left = np.maximum(hold[targets] - length_m[targets], bend_hold_m[targets])
        frontier = targets[new_left > left[targets] + _EPS_M]
        left[targets] = np.maximum(left[targets], new_left)
    return hold
