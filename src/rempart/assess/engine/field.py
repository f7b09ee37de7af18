"""The speed field of one vehicle on a network: caps, propagation, queries.

Hand-written glue between :mod:`graph` (geometry) and :mod:`speed` (kinematics and the
propagation): per-vehicle traversability (width, rated barriers of the register), bend and turn
caps as equivalent run-ups, and evaluation of the speed anywhere along a directed link.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .graph import Network
from .speed import FloatArray, IntArray, Kinematics, SpeedField, propagate
from .vehicles import Vehicle

_KEY = 1e6  # directed link index scale in sorted (directed link, position) keys; links < 1000 km


@dataclass(frozen=True)
class BarrierOnLink:
    """An existing rated barrier of the register, snapped to a link.

    ``s_m`` is its distance from the link's start (u end); ``mass_kg``/``speed_kmh`` its rating.
    """

    link: int
    s_m: float
    mass_kg: float
    speed_kmh: float
    label: str


@dataclass(frozen=True)
class VehicleField:
    """Speed field of one vehicle.

    Attributes
    ----------
    vehicle, kin : the vehicle and its kinematics.
    link_ok : (L,) bool, links this vehicle can drive end to end (wide enough, no barrier of
        the register stopping it); only these pass a speed on to other links.
    blocked_by : list of barriers that stop this vehicle.
    barrier_s_m : (D,) distance (m) from the tail of each directed link to the first barrier
        stopping this vehicle on it (``inf`` where none): the link can be driven up to it,
        not beyond.
    field : the propagation result over directed links.
    bend_key, bend_min, bend_dir, bend_apex : the bends of every directed link sorted by the
        end of their hold ``e`` (the apex plus the second half of the widest-line arc,
        ``R theta / 2``, clipped to the link's end), keys ``directed * _KEY + e``, with the
        running minima of ``X(cap) - e`` per directed link (past ``e`` the vehicle accelerates
        from the cap), the directed link of each key and the bend's apex (m from the tail).
    hold_key, hold_dir, hold_x, hold_apex : the held stretches, from each bend's apex to the
        end of its hold ``e`` (the speed stays at the cap there), cut at every apex and hold end
        of the link into pieces keyed ``directed * _KEY + start`` (sorted), with their directed
        link, the least ``X(cap)`` (m) of the bends holding over the piece (``inf``: none) and
        that bend's apex (m from the tail).
    """

    vehicle: Vehicle
    kin: Kinematics
    link_ok: NDArray[np.bool_]
    blocked_by: tuple[BarrierOnLink, ...]
    field: SpeedField
    trans_cap_x_m: FloatArray
    bend_key: FloatArray
    bend_min: FloatArray
    bend_dir: IntArray
    bend_apex: FloatArray
    barrier_s_m: FloatArray
    hold_key: FloatArray
    hold_dir: IntArray
    hold_x: FloatArray
    hold_apex: FloatArray

    def x_at(self, directed: IntArray, s_m: FloatArray, allow_blocked: bool = False) -> FloatArray:
        """Equivalent run-up (m) at ``s_m`` metres from the tail of each directed link;
        ``-inf`` on links the vehicle does not fit and beyond a barrier of the register that
        stops it (unless ``allow_blocked``: the speed at which it would get there)."""
        d = np.asarray(directed, dtype=np.int64)
        s = np.asarray(s_m, dtype=float)
        link = d // 2
        x = self.field.x_free_m(d, s)
        kp = np.minimum(self._bend_slope_x(d, s)[0], self._hold_x(d, s)[0])
        out = np.minimum(np.minimum(x, kp), self.kin.x_top_m)
        ok = np.isfinite(self.field.x_in_m[d])
        if not allow_blocked:
            # a barrier blocks only beyond its position: the stretch before it is driven
            ok &= self.width_ok[link] & (s <= self.barrier_s_m[d] + 1e-9)
        return np.where(ok, out, -np.inf)

    def _bend_slope_x(self, d: IntArray, s: FloatArray) -> tuple[FloatArray, IntArray]:
        """Bound (m) from the bends whose hold ended at or before ``s``:
        ``min_b X(c_b) - e_b + s`` (``inf`` where none), and the index of the last such key
        (``-1`` where none)."""
        key = self.bend_key
        if key.size == 0:
            return np.full(d.shape, np.inf), np.full(d.shape, -1, dtype=np.int64)
        pos = np.searchsorted(key, d * _KEY + s + 1e-9, side="right") - 1
        p0 = np.maximum(pos, 0)
        ok = (pos >= 0) & (self.bend_dir[p0] == d)
        return np.where(ok, self.bend_min[p0] + s, np.inf), np.where(ok, pos, -1)

    def _hold_x(self, d: IntArray, s: FloatArray) -> tuple[FloatArray, IntArray]:
        """Bound (m) from the bends whose hold ``s`` is on (from the apex to the end of the
        second half of the arc): the least of their ``X(cap)``; ``inf`` elsewhere. Also the
        index of the held piece (``-1`` where none; its bend's apex is ``hold_apex``)."""
        key = self.hold_key
        if key.size == 0:
            return np.full(d.shape, np.inf), np.full(d.shape, -1, dtype=np.int64)
        pos = np.maximum(np.searchsorted(key, d * _KEY + s + 1e-9, side="right") - 1, 0)
        ok = (
            (self.hold_dir[pos] == d)
            & (key[pos] <= d * _KEY + s + 1e-9)
            & np.isfinite(self.hold_x[pos])
        )
        return np.where(ok, self.hold_x[pos], np.inf), np.where(ok, pos, -1)

    @property
    def width_ok(self) -> NDArray[np.bool_]:
        """(L,) bool, links this vehicle fits on (a link is blocked by a barrier only if it
        fits; see :func:`vehicle_field`)."""
        return self.link_ok | np.isfinite(self.barrier_s_m[0::2])

    def speed_at_ms(
        self, directed: IntArray, s_m: FloatArray, allow_blocked: bool = False
    ) -> FloatArray:
        """Speed (m/s) at ``s_m`` from the tail of each directed link; NaN where unreachable."""
        x = self.x_at(directed, s_m, allow_blocked)
        v = self.kin.v_of_x(np.maximum(x, 0.0))
        return np.where(np.isfinite(x), v, np.nan)

    def binding_bends(
        self, directed: IntArray, s_m: FloatArray
    ) -> tuple[NDArray[np.bool_], FloatArray, FloatArray]:
        """Vectorised :meth:`binding_bend_s`: (a bend limits the speed at ``s_m``, its position
        from the tail m, x at the bend m) per point; position and x are NaN where none does."""
        d = np.asarray(directed, dtype=np.int64)
        s = np.asarray(s_m, dtype=float)
        has = np.zeros(d.shape, dtype=bool)
        s_bend = np.full(d.shape, np.nan)
        x_bend = np.full(d.shape, np.nan)
        # on the second half of a bend's arc the run-up starts at its apex, at the cap
        x_free = self.field.x_free_m(d, s)
        x_hold, hpos = self._hold_x(d, s)
        kp, last = self._bend_slope_x(d, s)
        held = x_hold < np.minimum(x_free, kp) - 1e-6
        at = np.flatnonzero(held)
        has[at] = True
        s_bend[at] = self.hold_apex[hpos[at]]
        x_bend[at] = x_hold[at]
        bind = ~held & (last >= 0) & (kp < x_free - 1e-6)
        at = np.flatnonzero(bind)
        if at.size:
            mins = self.bend_min
            last = last[at]
            lo = np.searchsorted(self.bend_key, d[at] * _KEY)
            # the limiting bend is where the running minimum (non-increasing along the link)
            # first came within 1e-9 of its final value: binary search in [lo, last]
            thr = mins[last] + 1e-9
            a, b = lo.copy(), last.copy()
            while np.any(a < b):
                mid = (a + b) // 2
                below = mins[mid] <= thr
                b = np.where(below, mid, b)
                a = np.where(below, a, mid + 1)
            e = self.bend_key[a] - d[at] * _KEY
            has[at] = True
            # the run-up starts at the bend's apex, at its cap (held to the arc's end ``e``)
            s_bend[at] = self.bend_apex[a]
            x_bend[at] = mins[last] + e
        return has, s_bend, x_bend

    def binding_bend_s(self, directed: int, s_m: float) -> tuple[float, float] | None:
        """If a bend on the link limits the speed at ``s_m``: (apex position from the tail, x
        at the bend) of the limiting bend; else ``None``."""
        has, s_bend, x_bend = self.binding_bends(np.array([directed]), np.array([s_m]))
        if not has[0]:
            return None
        return float(s_bend[0]), float(x_bend[0])

    def barrier_before(self, directed: int, s_m: float) -> bool:
        """Whether a rated barrier of the register stops this vehicle before ``s_m`` m along
        ``directed`` (on a link it is wide enough for)."""
        return bool(s_m > self.barrier_s_m[directed] + 1e-9)


def _grouped_cummin(values: FloatArray, groups: IntArray) -> FloatArray:
    """Running minimum of ``values`` restarting at each new group (groups contiguous)."""
    out = values.copy()
    if out.size == 0:
        return out
    start = np.ones(out.size, dtype=bool)
    start[1:] = groups[1:] != groups[:-1]
    gidx = np.cumsum(start) - 1
    rank = np.arange(out.size) - np.flatnonzero(start)[gidx]
    for r in range(1, int(rank.max()) + 1):
        at = np.flatnonzero(rank == r)
        out[at] = np.minimum(out[at], out[at - 1])
    return out


def _held_pieces(
    bdir: IntArray, apex: FloatArray, end: FloatArray, x_cap: FloatArray
) -> tuple[FloatArray, IntArray, FloatArray, FloatArray]:
    """The held stretches ``[apex, end)`` of the bends (directed link ``bdir``, m from its
    tail, cap ``x_cap`` as X(cap) m) cut at every apex and end of the same link into pieces:
    (keys ``directed * _KEY + start`` sorted, directed link, least ``x_cap`` over the bends
    holding on the piece (``inf`` where none), that bend's apex). Overlapping holds all count
    (a stabbing minimum)."""
    if bdir.size == 0:
        z = np.zeros(0)
        return z, np.zeros(0, dtype=np.int64), z, z
    pd = np.concatenate([bdir, bdir])
    pp = np.concatenate([apex, end])
    order = np.lexsort((pp, pd))
    pd, pp = pd[order], pp[order]
    new = np.ones(pd.size, dtype=bool)
    new[1:] = (pd[1:] != pd[:-1]) | (pp[1:] > pp[:-1])
    pd, pp = pd[new], pp[new]
    key = np.asarray(pd * _KEY + pp, dtype=np.float64)
    lo = np.searchsorted(key, bdir * _KEY + apex)
    hi = np.searchsorted(key, bdir * _KEY + end)
    n = np.maximum(hi - lo, 0)
    bend = np.repeat(np.arange(bdir.size), n)
    piece = lo[bend] + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
    value = np.full(key.size, np.inf)
    arg_apex = np.full(key.size, np.nan)
    if piece.size:
        first = np.lexsort((x_cap[bend], piece))
        piece, bend = piece[first], bend[first]
        head = np.ones(piece.size, dtype=bool)
        head[1:] = piece[1:] != piece[:-1]
        value[piece[head]] = x_cap[bend[head]]
        arg_apex[piece[head]] = apex[bend[head]]
    return key, pd.astype(np.int64), value, arg_apex


def transition_caps_x(net: Network, kin: Kinematics, lateral_accel_ms2: float) -> FloatArray:
    """Turn caps of every transition as equivalent run-ups (m): ``X(sqrt(a_lat R))``."""
    with np.errstate(invalid="ignore"):
        v = np.sqrt(lateral_accel_ms2 * net.trans_radius_m)
    out = np.full(v.shape, np.inf)
    # only turns slower than top speed cap anything; X(v) is evaluated for those alone
    capped = np.isfinite(v) & (v < kin.top_speed_ms)
    out[capped] = kin.x_of_v(v[capped])
    return out


def vehicle_field(
    net: Network,
    vehicle: Vehicle,
    barriers: tuple[BarrierOnLink, ...] = (),
    seed_links: NDArray[np.bool_] | None = None,
) -> VehicleField:
    """Propagate the worst-case speed of ``vehicle`` over ``net``.

    Barriers of the register stop the vehicle if rated for it (its mass at most the rated
    mass) *and* the speed it can reach at the barrier is at most the rated speed. Because that
    speed depends on the propagation, barriers start as blocking and those the vehicle could
    hit too fast are released, repeating until stable (releasing only raises speeds).

    ``seed_links`` (L,) bool: links entered at top speed in both directions (the boundary of a
    screening tile, rempart.screen); ``None`` for a whole network.
    """
    kin = Kinematics.of(vehicle)
    a_lat = vehicle.lateral_accel_ms2
    width_ok = net.link_width_m >= vehicle.width_m - 1e-9
    # bend caps as x, and per-link running minima of X(cap) - s in both directions
    with np.errstate(invalid="ignore"):
        v_bend = np.sqrt(a_lat * net.bend_radius_m)
    xc = np.where(
        v_bend < kin.top_speed_ms, kin.x_of_v(np.minimum(v_bend, kin.top_speed_ms)), np.inf
    )
    bl = net.bend_link
    length = net.link_length_m[bl]
    # the vehicle holds the cap along the second half of the widest-line arc past the apex
    half_arc = net.bend_radius_m * net.bend_deflection_rad / 2.0
    bdir = np.concatenate([2 * bl, 2 * bl + 1]).astype(np.int64)
    apex = np.concatenate([net.bend_s_m, length - net.bend_s_m])
    end = np.minimum(apex + np.tile(half_arc, 2), np.tile(length, 2))
    xc2 = np.tile(xc, 2)
    by_end = np.lexsort((end, bdir))
    bend_dir = bdir[by_end]
    bend_key = np.asarray(bend_dir * _KEY + end[by_end], dtype=np.float64)
    bend_min = _grouped_cummin((xc2 - end)[by_end], bend_dir)
    hold_key, hold_dir, hold_x, hold_apex = _held_pieces(bdir, apex, end, xc2)
    exit_cap = np.full(net.n_directed, np.inf)
    if bend_dir.size:
        last = np.ones(bend_dir.size, dtype=bool)
        last[:-1] = bend_dir[1:] != bend_dir[:-1]
        exit_cap[bend_dir[last]] = bend_min[last] + net.dl_length_m[bend_dir[last]]
    trans_cap = transition_caps_x(net, kin, a_lat)
    # a bend's hold not over at its link's end goes on to the links after it
    left = apex + np.tile(half_arc, 2) - np.tile(length, 2)
    on = (left > 0) & np.isfinite(xc2)
    exit_hold = np.zeros(net.n_directed)
    exit_hold_x = np.full(net.n_directed, np.inf)
    np.maximum.at(exit_hold, bdir[on], left[on])
    np.minimum.at(exit_hold_x, bdir[on], xc2[on] - left[on])

    relevant = [b for b in barriers if vehicle.mass_kg <= b.mass_kg + 1e-9]
    active = list(relevant)
    while True:
        link_ok = width_ok.copy()
        barrier_s = np.full(net.n_directed, np.inf)
        for b in active:
            if not width_ok[b.link]:
                continue  # the vehicle does not fit there anyway
            link_ok[b.link] = False
            fwd, bwd = 2 * b.link, 2 * b.link + 1
            barrier_s[fwd] = min(barrier_s[fwd], b.s_m)
            barrier_s[bwd] = min(barrier_s[bwd], float(net.link_length_m[b.link]) - b.s_m)
        sf = propagate(
            net.dl_length_m,
            exit_cap,
            np.repeat(link_ok, 2),
            net.trans_from,
            net.trans_to,
            trans_cap,
            kin.x_top_m,
            None if seed_links is None else np.repeat(seed_links, 2),
            net.trans_hold_m,
            exit_hold,
            exit_hold_x,
        )
        vf = VehicleField(
            vehicle,
            kin,
            link_ok,
            tuple(active),
            sf,
            trans_cap,
            bend_key,
            bend_min,
            bend_dir,
            apex[by_end],
            barrier_s,
            hold_key,
            hold_dir,
            hold_x,
            hold_apex,
        )
        released = []
        for b in active:
            if not width_ok[b.link]:
                continue
            d = np.array([2 * b.link, 2 * b.link + 1])
            s = np.array([b.s_m, net.link_length_m[b.link] - b.s_m])
            v = vf.speed_at_ms(d, s, allow_blocked=True)
            v_max = float(np.nanmax(v)) if np.any(np.isfinite(v)) else 0.0
            if v_max * 3.6 > b.speed_kmh + 1e-9:
                released.append(b)
        if not released:
            return vf
        active = [b for b in active if b not in released]


def segment_speeds_ms(net: Network, vf: VehicleField) -> FloatArray:
    """Maximum speed (m/s) on every drawn segment, either direction; NaN if unreachable.

    Segments are indexed like ``pt_x[:-1]`` within links: segment ``j`` joins points ``j`` and
    ``j+1`` of the same link (entries at the last point of a link are meaningless -> NaN).
    """
    n = net.pt_x.size
    link = np.repeat(np.arange(net.n_links), np.diff(net.link_offsets))
    s = net.pt_s
    length = net.link_length_m[link]
    x_f = vf.x_at(2 * link, s)  # arriving at point j going u->v
    x_b = vf.x_at(2 * link + 1, length - s)  # arriving at point j going v->u
    out = np.full(n, np.nan)
    last = np.zeros(n, dtype=bool)
    last[net.link_offsets[1:] - 1] = True
    j = np.flatnonzero(~last)
    best = np.maximum(x_f[j + 1], x_b[j])
    ok = np.isfinite(best)
    vals = np.full(j.size, np.nan)
    vals[ok] = vf.kin.v_of_x(np.maximum(best[ok], 0.0))
    out[j] = vals
    return out


def dead_heading_deg(bearing_rad: float) -> float:
    """Bearing in degrees clockwise from north, 0..360."""
    return math.degrees(bearing_rad) % 360.0
