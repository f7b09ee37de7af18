"""Off-road approaches: the highest impact speed at every point of a site's edge, per vehicle,
over straight runs through the drivable space and runs with one bend around an obstacle
(:mod:`bends`; docs/method.md, "Off-road model").

Hand-written because no library computes hostile-vehicle approaches over open ground. The
search is a vectorised ray fan (numpy):

- the edge is sampled every :data:`EDGE_STEP_M` m; at each sample a fan of approach headings
  every :data:`FAN_STEP_DEG` degrees (up to :data:`FAN_MAX_DEG` from the edge's normal) is
  marched back from the edge in steps of one raster cell, through cells where the vehicle fits
  (clearance >= half its width) and outside the site;
- a start on a ray is either rest at the farthest free point (equivalent run-up ``x`` = the
  distance to the edge) or a point of the road network carrying the road speed field's
  equivalent run-up ``x_q`` in a heading ``h``. Turning from ``h`` onto the ray by ``delta``
  at the speed ``v_q = V(x_q)`` needs the radius ``R = v_q^2 / a_lat`` and a tangent length
  ``T = R tan(delta / 2)``; if ``T <= d`` (``d`` the distance from the start to the edge) the
  vehicle keeps ``x_q`` through the turn and accelerates over ``d - T``: ``x = x_q + d - T``;
  otherwise it turns at the tightest radius the ray leaves, ``R = d / tan(delta / 2)``, at
  ``v = sqrt(a_lat R)``, arriving with ``x = X(sqrt(a_lat d / tan(delta / 2)))``. The speed at
  the edge is ``V(x)`` (the engine's exact kinematics, :mod:`speed`). Acceleration during the
  arc is not counted and the road speed at the arc's start is taken as the one at its apex,
  both in the threat's favour. On the edge rays the arc is checked against the raster
  (:mod:`turns`: a blocked one is tried tighter, at fractions of its radius, or dropped);
- a rated barrier of the register across a ray stops the starts beyond it that reach it at no
  more than its rated speed, for vehicles no heavier than its rated mass;
- a mapped kerb (``barrier=kerb``) costs :data:`KERB_SPEED_LOSS_KMH`; only the kerb nearest the
  edge is charged (fewer losses: in the threat's favour).

Speeds in m/s internally, km/h in outputs; distances in metres in the network's local CRS.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from .drivable import RADIUS_M, Drivable, Grid, burn_labelled_lines
from .field import BarrierOnLink, VehicleField
from .graph import Network
from .ratings import credited_speed_kmh, register_rating
from .speed import Kinematics
from .turns import Charge, VehicleStack, road_turn_hopes, road_turns, road_turns_all
from .vehicles import Vehicle

if TYPE_CHECKING:
    from .bends import PivotField

#: Spacing of the edge samples (m) (issue 10: "sampled at 2 m or finer").
EDGE_STEP_M = 2.0
#: Angular step of the approach fan (degrees).
FAN_STEP_DEG = 3.0
#: Widest approach angle from the edge's normal (degrees); 90 - 84 = 6 degrees to the edge.
FAN_MAX_DEG = 84.0
#: Spacing of the road-field samples along each link and across its width (m).
ROAD_STEP_M = 1.0
#: Step (m) of the march along a ray. Twice the 1 m cell is safe: every obstacle is wrapped
#: in cells too close for any vehicle (clearance < half its width, >= 0.9 m each side), so a
#: blocked band is at least 2.8 m deep along any ray.
RAY_STEP_M = 2.0
#: Heading bins per raster cell for road seeds (5.6 degrees each; see docs/method.md).
HEADING_BINS = 64
#: Speed lost mounting a mapped kerb (km/h). ASSUMPTION, no published source: a 100-150 mm
#: upstand kerb does not stop a truck (CPNI/NPSA: kerbs are not hostile-vehicle mitigation);
#: 5 km/h is a small, explicit allowance for the jolt, to be replaced by crash-test data.
KERB_SPEED_LOSS_KMH = 5.0
#: Edge samples per vectorised batch (memory: batch x headings x steps cells, 48 x 57 x 200
#: x 8 B = 4.4 MB per array). No answer depends on it (a pivot lattice cell of the bent
#: search is represented by the pivot of its lowest-numbered sample, bends.PivotField.prefetch;
#: the samples are searched in increasing order). 48 was the fastest of 24,
#: 48, 96 and 200 on six sites of the synthetic city before the bent search
#: (benchmarks/offroad_city.py; 24: 0.99 s, 48: 0.82 s, 96: 1.14 s CPU).
BATCH_SAMPLES = 48

#: Spacing (m) of the tabulated V(x) and (m/s)^2 of the tabulated X(v^2) used inside the
#: search (linear interpolation of v^2 in x and of x in v^2: both nearly linear, error below
#: 0.01 km/h); reported speeds are recomputed exactly with :class:`speed.Kinematics`.
TABLE_X_STEP_M = 0.5
TABLE_V2_STEP = 0.5

REST, ROAD = 1, 2
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class _Tables:
    """Tabulated kinematics of one vehicle (see :data:`TABLE_X_STEP_M`)."""

    xs: FloatArray
    v2_of_x: FloatArray
    v2s: FloatArray
    x_of_v2: FloatArray

    @classmethod
    def of(cls, kin: Kinematics) -> _Tables:
        xs = np.arange(0.0, kin.x_top_m + TABLE_X_STEP_M, TABLE_X_STEP_M)
        v2s = np.arange(0.0, kin.top_speed_ms**2 + TABLE_V2_STEP, TABLE_V2_STEP)
        return cls(xs, kin.v_of_x(xs) ** 2, v2s, kin.x_of_v(np.sqrt(v2s)))

    def v(self, x_m: FloatArray) -> FloatArray:
        """V(x) in m/s (x in m, clamped to [0, X(top)])."""
        return np.sqrt(_lerp(self.v2_of_x, TABLE_X_STEP_M, x_m))

    def x(self, v_ms: FloatArray) -> FloatArray:
        """X(v) in m (v in m/s, clamped to [0, top])."""
        return _lerp(self.x_of_v2, TABLE_V2_STEP, np.square(v_ms))


@functools.lru_cache(maxsize=64)
def _tables(vehicle: Vehicle) -> _Tables:
    """Tables of a vehicle (cached: vehicles are frozen and hashable)."""
    return _Tables.of(Kinematics.of(vehicle))


def _lerp(table: FloatArray, step: float, q: FloatArray) -> FloatArray:
    """Linear interpolation in a table sampled every ``step`` from 0 (clamped at its ends)."""
    f = np.clip(np.asarray(q, dtype=float) / step, 0.0, table.size - 1.000001)
    i = f.astype(np.int64)
    t = f - i
    return table[i] * (1.0 - t) + table[i + 1] * t


@dataclass(frozen=True)
class RatedShape:
    """A rated barrier of the register as geometry (local CRS) with its rating."""

    geometry: BaseGeometry
    mass_kg: float
    speed_kmh: float
    label: str


@dataclass(frozen=True)
class RoadSeeds:
    """Road speed-field starts of one site's raster, one row per (cell, heading bin).

    ``cell`` sorted; ``ux, uy`` travel direction (unit); ``x_m[v]`` equivalent run-up of
    vehicle ``v`` (m, ``-inf`` unreachable); ``v_ms[v]`` the matching speed; ``link`` and
    ``px, py`` the link and position of the sample kept.
    """

    cell: IntArray
    ux: FloatArray
    uy: FloatArray
    x_m: FloatArray
    v_ms: FloatArray
    link: IntArray
    px: FloatArray
    py: FloatArray


def road_seeds(
    net: Network, fields: Sequence[VehicleField], drv: Drivable, excluded: NDArray[np.bool_]
) -> RoadSeeds:
    """Sample the road speed field on the raster: every :data:`ROAD_STEP_M` along each link and
    across its width, both directions; links marked in ``excluded`` (grade-separated, the
    site's own outline) seed nothing."""
    grid = drv.grid
    nv = len(fields)
    links = np.unique(net.link_tree.query(grid.box, predicate="intersects"))
    links = links[~excluded[links]] if links.size else links
    empty = np.zeros(0)
    if links.size == 0:
        ei = np.zeros(0, dtype=np.int64)
        return RoadSeeds(ei, empty, empty, np.zeros((nv, 0)), np.zeros((nv, 0)), ei, empty, empty)
    length = net.link_length_m[links]
    n_s = np.floor(length / ROAD_STEP_M).astype(np.int64) + 1
    width = np.maximum(net.link_width_m[links], ROAD_STEP_M)
    n_o = np.maximum(np.floor(width / ROAD_STEP_M).astype(np.int64), 1)
    # along: sample index per link
    li = np.repeat(np.arange(links.size), n_s)
    s = _within(n_s) * ROAD_STEP_M
    s = np.minimum(s, length[li])
    x, y, dx, dy = net.segments_at(links[li], s)
    norm = np.hypot(dx, dy)
    norm = np.where(norm > 0, norm, 1.0)
    tx, ty = dx / norm, dy / norm
    # heading bin of each centre-line sample, both ways (elementwise: the same floats as on
    # the rows across the width that repeat them)
    hb_fwd = _heading_bin(tx, ty)
    hb_back = _heading_bin(-tx, -ty)
    # across: offsets centred on the centre line
    no = n_o[li]
    ai = np.repeat(np.arange(li.size), no)
    k = _within(no)
    off = (k - 0.5 * (no[ai] - 1)) * ROAD_STEP_M
    px = x[ai] + off * ty[ai]
    py = y[ai] - off * tx[ai]
    cell = grid.cell_of(px, py)
    keep = cell >= 0
    # only cells some vehicle fits in, outside the site: no ray reaches the others
    narrowest = min(vf.vehicle.width_m for vf in fields) / 2.0
    flat_ok = (drv.clearance_m.ravel() >= narrowest) & ~drv.inside.ravel()
    keep[keep] = flat_ok[cell[keep]]
    ai, px, py, cell = ai[keep], px[keep], py[keep], cell[keep]
    # the field on the centre-line samples some kept cell uses (a link crossing the raster's
    # box is sampled along its whole length), then spread across the width
    fresh = np.ones(ai.size, dtype=bool)  # ai ascending: a new sample where it changes
    fresh[1:] = ai[1:] != ai[:-1]
    used, ai_u = ai[fresh], np.cumsum(fresh) - 1
    link_c = links[li[used]]
    s_u = s[used]
    d_c = np.concatenate([2 * link_c, 2 * link_c + 1])
    s_c = np.concatenate([s_u, net.link_length_m[link_c] - s_u])
    xv_c = np.vstack([vf.x_at(d_c, s_c) for vf in fields])
    n_c = used.size
    both = np.concatenate([ai_u, ai_u + n_c])
    rows_cell = np.concatenate([cell, cell])
    # every row's run-ups are those of its centre-line sample ``both``: gathered once, below
    best = xv_c.max(axis=0)[both]
    ok = np.isfinite(best)
    both = both[ok]
    rows_cell, best = rows_cell[ok], best[ok]
    row_sample = np.concatenate([ai, ai])[ok]  # centre-line sample (index into li) per row
    back = np.flatnonzero(ok) >= ai.size  # the row travels v->u
    hbin = np.where(back, hb_back[row_sample], hb_fwd[row_sample])
    key = rows_cell * HEADING_BINS + hbin
    # rows grouped by key (stable: in row order within a key); each key's row is the first of
    # its rows with the highest run-up (the order of lexsort((-best, key)))
    order = np.argsort(key, kind="stable")
    key_s = key[order]
    first = np.ones(key_s.size, dtype=bool)
    first[1:] = key_s[1:] != key_s[:-1]
    starts = np.flatnonzero(first)
    size = np.diff(np.append(starts, key_s.size))
    best_s = best[order]
    top = np.repeat(np.maximum.reduceat(best_s, starts), size) if starts.size else best_s
    hit = np.flatnonzero(best_s == top)
    grp = np.cumsum(first)[hit]
    lead = np.ones(hit.size, dtype=bool)
    lead[1:] = grp[1:] != grp[:-1]
    pick = order[hit[lead]]
    # per vehicle the best run-up of each (cell, heading bin) and its speed: most bins hold
    # one row, whose values are its centre-line sample's (speeds computed once per sample);
    # the others take the maximum over their rows (V is increasing: the speed of the maximum)
    vms_c = np.vstack([_seed_speed_ms(vf, xv_c[i]) for i, vf in enumerate(fields)])
    c_pick = both[pick]
    xmax = xv_c[:, c_pick]
    vms = vms_c[:, c_pick]
    multi = np.flatnonzero(size > 1)
    if multi.size:
        rows = np.repeat(starts[multi], size[multi]) + _within(size[multi])
        xm = np.maximum.reduceat(
            xv_c[:, both[order[rows]]], np.cumsum(size[multi]) - size[multi], axis=1
        )
        xmax[:, multi] = xm
        vms[:, multi] = np.vstack([_seed_speed_ms(vf, xm[i]) for i, vf in enumerate(fields)])
    sign = np.where(back[pick], -1.0, 1.0)
    q = row_sample[pick]
    rows_px = np.concatenate([px, px])[ok][pick]
    rows_py = np.concatenate([py, py])[ok][pick]
    return RoadSeeds(
        rows_cell[pick],
        sign * tx[q],
        sign * ty[q],
        xmax,
        vms,
        d_c[c_pick] // 2,
        rows_px,
        rows_py,
    )


def _heading_bin(ux: FloatArray, uy: FloatArray) -> IntArray:
    """Heading bin (of :data:`HEADING_BINS`, from north clockwise) of travel directions."""
    ang = np.mod(np.arctan2(ux, uy), 2 * math.pi)
    return np.minimum((ang / (2 * math.pi) * HEADING_BINS).astype(np.int64), HEADING_BINS - 1)


def _within(counts: IntArray) -> IntArray:
    """Position of each element within its group, for consecutive groups of ``counts``."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


def _seed_speed_ms(vf: VehicleField, x_m: FloatArray) -> FloatArray:
    """Speed (m/s, search tables) at the run-ups ``x_m`` (m) of a road seed; 0 unreachable."""
    return np.where(np.isfinite(x_m), _tables(vf.vehicle).v(np.maximum(x_m, 0.0)), 0.0)


@dataclass
class EdgeSamples:
    """Points of a site's edge: ``x, y`` (m), inward normal ``nx, ny``, tangent ``tx, ty``,
    ring index and distance along the ring (m)."""

    x: FloatArray
    y: FloatArray
    nx: FloatArray
    ny: FloatArray
    tx: FloatArray
    ty: FloatArray
    ring: IntArray
    s_m: FloatArray


def edge_samples(site: BaseGeometry, step_m: float = EDGE_STEP_M) -> EdgeSamples:
    """Sample every ring of ``site`` at about ``step_m`` (centred intervals)."""
    rings = shapely.get_rings(shapely.get_parts(np.asarray([site], dtype=object)))
    xs, ys, txs, tys, ri, ss = [], [], [], [], [], []
    for r, ring in enumerate(rings):
        length = float(ring.length)
        n = max(int(math.ceil(length / step_m)), 1)
        s = (np.arange(n) + 0.5) * length / n
        a = shapely.get_coordinates(shapely.line_interpolate_point(ring, np.maximum(s - 0.5, 0)))
        b = shapely.get_coordinates(
            shapely.line_interpolate_point(ring, np.minimum(s + 0.5, length))
        )
        p = shapely.get_coordinates(shapely.line_interpolate_point(ring, s))
        t = b - a
        t /= np.maximum(np.hypot(t[:, 0], t[:, 1]), 1e-9)[:, None]
        xs.append(p[:, 0])
        ys.append(p[:, 1])
        txs.append(t[:, 0])
        tys.append(t[:, 1])
        ri.append(np.full(n, r))
        ss.append(s)
    x, y = np.concatenate(xs), np.concatenate(ys)
    tx, ty = np.concatenate(txs), np.concatenate(tys)
    nx, ny = -ty, tx  # left normal; flipped where it points out of the site
    inside = shapely.contains_xy(site, x + 0.25 * nx, y + 0.25 * ny)
    sign = np.where(inside, 1.0, -1.0)
    return EdgeSamples(
        x, y, nx * sign, ny * sign, tx, ty, np.concatenate(ri).astype(np.int64), np.concatenate(ss)
    )


@dataclass
class EdgeThreat:
    """Worst approach of one vehicle at every edge sample (arrays over samples).

    ``x_m``: equivalent run-up at impact (``-inf``: no approach); ``speed_kmh``; ``angle_deg``
    to the edge (90 = head-on); ``ux, uy`` travel direction; ``start_x, start_y`` where the
    straight run starts; ``kind``: 0 none, 1 from rest, 2 from the road field;
    ``start_speed_kmh``; ``link``: the road link of a road start (-1 otherwise);
    ``kerb``: a kerb was charged; ``normal_kmh``: the impact speed's component normal to
    the edge (the heading kept at each sample is the one maximising it); ``via_x, via_y``:
    the bend of a bent run (its pivot: the path is start -> via -> edge point; NaN for a
    straight run, whose path is start -> edge point). ``kind`` and the start describe the
    first leg of a bent run. ``turn_r_m, turn_ux, turn_uy``: a road start's turn onto its run
    (radius m, NaN none; the road's heading before it, the start being the corner where the
    road's line meets the run).
    """

    x_m: FloatArray
    speed_kmh: FloatArray
    angle_deg: FloatArray
    ux: FloatArray
    uy: FloatArray
    start_x: FloatArray
    start_y: FloatArray
    kind: IntArray
    start_speed_kmh: FloatArray
    link: IntArray
    kerb: NDArray[np.bool_]
    normal_kmh: FloatArray
    via_x: FloatArray
    via_y: FloatArray
    turn_r_m: FloatArray
    turn_ux: FloatArray
    turn_uy: FloatArray

    @classmethod
    def empty(cls, ne: int) -> EdgeThreat:
        """No approach at any of ``ne`` samples."""
        nan = np.full(ne, np.nan)
        return cls(
            np.full(ne, -np.inf),
            nan.copy(),
            nan.copy(),
            np.zeros(ne),
            np.zeros(ne),
            nan.copy(),
            nan.copy(),
            np.zeros(ne, dtype=np.int64),
            nan.copy(),
            np.full(ne, -1, dtype=np.int64),
            np.zeros(ne, dtype=bool),
            nan.copy(),
            nan.copy(),
            nan.copy(),
            nan.copy(),
            np.zeros(ne),
            np.zeros(ne),
        )


def _fan() -> FloatArray:
    n = int(round(FAN_MAX_DEG / FAN_STEP_DEG))
    return np.radians(np.arange(-n, n + 1) * FAN_STEP_DEG)


def barrier_labels(drv: Drivable, barriers: Sequence[RatedShape]) -> NDArray[np.int32]:
    """(ny, nx) raster: 0 free, ``i + 1`` cells of rated barrier ``i``."""
    return burn_labelled_lines(drv.grid, [b.geometry for b in barriers])


#: Steps of a ray marched at a time (:func:`_march`).
MARCH_CHUNK = 16


def _march(
    grid: Grid,
    clear: NDArray[np.floating],
    x: FloatArray,
    y: FloatArray,
    ufx: FloatArray,
    ufy: FloatArray,
    dist: NDArray[np.floating],
    min_w: float,
) -> tuple[IntArray, NDArray[np.floating]]:
    """Cells (flat index, -1 outside) and clearance (m, -1 outside) of the rays of ``E``
    edge points ``x, y`` and ``H`` travel directions each (``ufx, ufy`` flat over E x H),
    marched back from the edge at the distances ``dist``.

    Marched :data:`MARCH_CHUNK` steps at a time, only for the rays the narrowest vehicle
    (half width ``min_w``) can still use: past a ray's first cell with less clearance no
    vehicle uses the ray, so those cells are left at -1 (outside), which no result depends
    on; the arrays stop after the last step any ray reaches (``<= dist.size``).
    """
    nr = ufx.size
    nh = nr // max(x.size, 1)
    px = np.repeat(x, nh)
    py = np.repeat(y, nh)
    n_steps = dist.size
    cells = np.full((nr, n_steps), -1, dtype=np.int64)
    cl = np.full((nr, n_steps), -1.0, dtype=clear.dtype)
    # compared in double precision, as the search compares clearances with half widths
    w = np.float64(min_w)
    active = np.arange(nr)
    k0 = 0
    while active.size and k0 < n_steps:
        k1 = min(n_steps, k0 + MARCH_CHUNK)
        d = dist[None, k0:k1]
        rx = px[active, None] - ufx[active, None] * d
        ry = py[active, None] - ufy[active, None] * d
        c = grid.cell_of(rx, ry)
        v = np.where(c >= 0, clear[np.maximum(c, 0)], -1.0)
        cells[active, k0:k1] = c
        cl[active, k0:k1] = v
        active = active[~(v < w).any(axis=1)]
        k0 = k1
    return cells[:, :k0], cl[:, :k0]


@dataclass
class _Search:
    """Inputs of one site's ray search shared by every batch and vehicle (m, local CRS)."""

    grid: Grid
    clear: NDArray[np.floating]  # clearance per flat cell (m), -1 inside the site
    dist: NDArray[np.floating]  # distance of march step k from the ray's origin (m)
    half_w: FloatArray  # half width per vehicle (m)
    kerb_flat: NDArray[np.bool_]
    lab: NDArray[np.int32] | None  # rated barrier label per flat cell (0 none)
    mass: FloatArray
    b_mass: FloatArray
    b_x: list[FloatArray]  # per vehicle, X(rated speed) per barrier (m)
    tables: list[_Tables]
    seeds: RoadSeeds
    seed_count: IntArray
    seed_start: IntArray
    fields: Sequence[VehicleField]
    any_kerb: bool

    @property
    def n_steps(self) -> int:
        return int(self.dist.size)

    @functools.cached_property
    def stack(self) -> VehicleStack:
        """The per-vehicle constants as arrays (:class:`turns.VehicleStack`)."""
        return VehicleStack.of(self)

    @classmethod
    def of(
        cls,
        drv: Drivable,
        seeds: RoadSeeds,
        fields: Sequence[VehicleField],
        barriers: Sequence[RatedShape],
        radius_m: float | None,
    ) -> _Search:
        grid = drv.grid
        c = max(RAY_STEP_M, grid.cell_m)
        radius = radius_m if radius_m is not None else RADIUS_M
        n_steps = int(math.ceil(radius / c))
        clear = drv.clearance_m.ravel().copy()
        clear[drv.inside.ravel()] = -1.0
        seed_count = np.bincount(seeds.cell, minlength=grid.nx * grid.ny)
        return cls(
            grid,
            clear,
            (np.arange(n_steps) + 0.25) * c,
            np.array([vf.vehicle.width_m / 2.0 for vf in fields]),
            drv.kerb.ravel(),
            barrier_labels(drv, barriers).ravel() if barriers else None,
            np.array([vf.vehicle.mass_kg for vf in fields]),
            np.array([b.mass_kg for b in barriers] + [0.0]),
            [
                np.array([vf.kin.x_of_v(b.speed_kmh / 3.6) for b in barriers] + [0.0])
                for vf in fields
            ],
            [_tables(vf.vehicle) for vf in fields],
            seeds,
            seed_count,
            np.concatenate([[0], np.cumsum(seed_count)]),
            fields,
            bool(drv.kerb.any()),
        )


@dataclass
class _Rays:
    """Rays of one batch marched back from their origins: cells, free length per vehicle
    (steps), nearest kerb step, and the road-seed candidates (ray ``cr``, step ``ck``, seed
    row ``q``, ``tan(delta / 2)`` of the turn onto the ray)."""

    cells: IntArray
    valid: NDArray[np.bool_]
    free_len: IntArray  # (V, R)
    lmax: int
    kk: IntArray
    cr: IntArray
    ck: IntArray
    q: IntArray
    tan_half: FloatArray
    blab: NDArray[np.int32] | None
    ufx: FloatArray
    ufy: FloatArray
    ox: FloatArray  # origin of every ray (m)
    oy: FloatArray

    @property
    def nr(self) -> int:
        return int(self.cells.shape[0])


def _rays(s: _Search, x: FloatArray, y: FloatArray, ufx: FloatArray, ufy: FloatArray) -> _Rays:
    """March the rays of origins ``x, y`` (``H`` travel directions each, ``ufx, ufy`` flat over
    origins x H) and gather their road-seed candidates."""
    n_steps = s.n_steps
    cells, cl = _march(s.grid, s.clear, x, y, ufx, ufy, s.dist, float(s.half_w.min()))
    nr = cells.shape[0]
    valid = cells >= 0
    free_len = np.empty((s.half_w.size, nr), dtype=np.int64)
    for w in np.unique(s.half_w):
        blocked = cl < w
        free_len[s.half_w == w] = np.where(blocked.any(axis=1), blocked.argmax(axis=1), n_steps)
    lmax = int(free_len.max()) if nr else 0
    cells_c = cells[:, :lmax]
    safe = np.maximum(cells_c, 0)
    if s.any_kerb and lmax:
        kerb_here = valid[:, :lmax] & s.kerb_flat[safe]
        kk = np.where(kerb_here.any(axis=1), kerb_here.argmax(axis=1), n_steps)
    else:
        kk = np.full(nr, n_steps, dtype=np.int64)
    reach = np.arange(lmax)[None, :] < free_len.max(axis=0)[:, None]
    cnt = np.where(reach, s.seed_count[safe], 0).ravel()
    flat_rs = np.repeat(np.arange(cnt.size), cnt)
    q = s.seed_start[safe.ravel()[flat_rs]] + (
        np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    )
    cr, ck = np.divmod(flat_rs, max(lmax, 1))
    cosd = np.clip(s.seeds.ux[q] * ufx[cr] + s.seeds.uy[q] * ufy[cr], -1.0, 1.0)
    tan_half = np.sqrt(np.maximum((1.0 - cosd) / (1.0 + cosd + 1e-12), 0.0))
    blab = np.where(valid[:, :lmax], s.lab[safe], 0) if s.lab is not None else None
    nh = nr // max(x.size, 1)
    ox, oy = np.repeat(x, nh), np.repeat(y, nh)
    return _Rays(cells, valid, free_len, lmax, kk, cr, ck, q, tan_half, blab, ufx, ufy, ox, oy)


@dataclass
class _Extra:
    """Extra starts of a batch's rays (bent runs): ray, step of the bend (the pivot), run-up
    at the edge (m), and a row of the caller's own table (``code``)."""

    r: IntArray
    k: IntArray
    x: FloatArray
    code: IntArray


@dataclass
class _Best:
    """Best start per ray of one vehicle: ``x`` run-up at the origin (m, -inf none),
    ``kerb`` charged, and the winning start's step ``k`` and ``q`` (seed row >= 0, -1 rest,
    ``-2 - code`` an extra start); ``room``: the straight length (m) the winning start leaves
    before the origin (the run from a rest start; after the turn of a road start; 0 for an
    extra start), the room a further bend at the origin may use; ``kb, bx``: the step of the
    rated barrier nearest the origin that stops this vehicle (``n_steps`` none) and the run-up
    of its rated speed (m); ``rad``: the radius (m) of a winning road start's turn onto the
    ray (NaN otherwise)."""

    x: FloatArray
    kerb: NDArray[np.bool_]
    k: IntArray
    q: IntArray
    room: FloatArray
    kb: IntArray
    bx: FloatArray
    rad: FloatArray


def _charged(
    s: _Search,
    rays: _Rays,
    vi: int,
    kb: IntArray,
    bx: FloatArray,
    r: IntArray,
    k: IntArray,
    x: FloatArray,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Run-ups ``x`` (m) at the origin of starts at steps ``k`` of rays ``r`` for vehicle
    ``vi``, charged their ray's rated barrier (``kb, bx``: :class:`_Best`; ``-inf`` for a
    start beyond one that stops it) and the kerb nearest the origin (:data:`KERB_SPEED_LOSS_KMH`
    for a start beyond it); and whether each start is beyond that kerb. Monotone in ``x``."""
    dist, n_steps, tab = s.dist, s.n_steps, s.tables[vi]
    ok = (k <= kb[r]) | (x - dist[np.minimum(kb[r], n_steps - 1)] > bx[r])
    far = k > rays.kk[r]
    out = np.where(ok, x, -np.inf)
    f = far & np.isfinite(out)
    if f.any():
        dk = dist[np.minimum(rays.kk[r[f]], n_steps - 1)]
        v_k = tab.v(np.maximum(out[f] - dk, 0.0))
        out[f] = tab.x(np.maximum(v_k - KERB_SPEED_LOSS_KMH / 3.6, 0.0)) + dk
    return out, far


def _charged_all(
    s: _Search,
    rays: _Rays,
    veh: IntArray,
    kb: FloatArray,
    bx: FloatArray,
    r: IntArray,
    k: IntArray,
    x: FloatArray,
) -> FloatArray:
    """:func:`_charged`'s run-ups for starts of vehicles ``veh`` (``kb, bx`` flat over
    (vehicle, ray)): the same arithmetic per start."""
    dist, n_steps, st = s.dist, s.n_steps, s.stack
    g = veh * rays.nr + r
    ok = (k <= kb[g]) | (x - dist[np.minimum(kb[g], n_steps - 1)] > bx[g])
    far = k > rays.kk[r]
    out = np.where(ok, x, -np.inf)
    f = far & np.isfinite(out)
    if f.any():
        dk = dist[np.minimum(rays.kk[r[f]], n_steps - 1)]
        vf = veh[f]
        v_k = st.v(vf, np.maximum(out[f] - dk, 0.0))
        out[f] = st.x(vf, np.maximum(v_k - KERB_SPEED_LOSS_KMH / 3.6, 0.0)) + dk
    return out


@dataclass
class _Starts:
    """The starts of one vehicle on a batch's rays before the road starts' turns
    (:func:`_ray_best`): the stopping barrier per ray (``kb, bx``: :class:`_Best`), the rest
    steps (2, rays) and which exist, the road candidates (ray ``cr``, step ``ck``, seed row
    ``qc``, distance ``dq`` (m) to the origin, the road field's run-up ``xq`` (m), ``sel`` their rows in ``rays``' candidates),
    the rays' best rest start charged (``floor``, m) and whether anything is charged on the
    rays (a kerb, or a barrier stopping the vehicle)."""

    kb: IntArray
    bx: FloatArray
    rest_k: IntArray
    rest_ok: NDArray[np.bool_]
    sel: IntArray
    cr: IntArray
    ck: IntArray
    qc: IntArray
    dq: FloatArray
    xq: FloatArray
    floor: FloatArray
    charges: bool


def _starts(s: _Search, rays: _Rays, vi: int, roads: bool = True) -> _Starts:
    """The starts of vehicle ``vi`` on the rays (:class:`_Starts`; without ``roads``, no road
    candidates: the caller gathers them)."""
    dist, n_steps = s.dist, s.n_steps
    nr, lmax = rays.nr, rays.lmax
    lv = rays.free_len[vi]
    # barrier stopping this vehicle nearest the origin on each ray
    kb = np.full(nr, n_steps, dtype=np.int64)
    bx = np.full(nr, np.inf)
    if rays.blab is not None and lmax:
        blab = rays.blab
        applies = (blab > 0) & (s.mass[vi] <= s.b_mass[np.maximum(blab - 1, 0)] + 1e-9)
        has = applies.any(axis=1)
        kb = np.where(has, applies.argmax(axis=1), n_steps)
        bid = blab[np.arange(nr), np.minimum(kb, lmax - 1)] - 1
        bx = np.where(has, s.b_x[vi][bid], np.inf)
    # rest candidates: the farthest free step, and the step before a barrier
    rest_k = np.stack([lv - 1, np.minimum(lv, kb) - 1])  # (2, R)
    rest_ok = rest_k >= 0
    # road candidates: the seeds this vehicle reaches, on the free part of the ray, turning
    # onto it (their arcs checked against the raster where they may win the ray: turns.py)
    q, cr, ck = rays.q, rays.cr, rays.ck
    xq_all = s.seeds.x_m[vi, q] if roads else np.zeros(0)
    sel = np.flatnonzero(np.isfinite(xq_all) & (ck < lv[cr])) if roads else q[:0]
    cr_s, ck_s = cr[sel], ck[sel]
    rr = np.tile(np.arange(nr), 2)[rest_ok.ravel()]
    rk = rest_k.ravel()[rest_ok.ravel()]
    floor = np.full(nr, -np.inf)
    np.maximum.at(floor, rr, _charged(s, rays, vi, kb, bx, rr, rk, dist[rk])[0])
    charges = bool((rays.kk < n_steps).any() or (kb < n_steps).any())
    return _Starts(
        kb,
        bx,
        rest_k,
        rest_ok,
        sel,
        cr_s,
        ck_s,
        q[sel],
        np.asarray(dist[ck_s], dtype=float),
        xq_all[sel],
        floor,
        charges,
    )


def _ray_best_all(
    s: _Search, rays: _Rays, group: tuple[int, FloatArray], check_turns: bool = True
) -> list[_Best]:
    """:func:`_ray_best` of every vehicle (no extra starts), the road starts' turns of all
    vehicles checked in one pass (:func:`turns.road_turns_all`, given only the starts
    :func:`turns.road_turn_hopes` keeps; the same answers as one vehicle at a time)."""
    nv, nr = len(s.fields), rays.nr
    pre = [_starts(s, rays, vi, roads=False) for vi in range(nv)]
    q, cr_all, ck_all = rays.q, rays.cr, rays.ck
    # road candidates of every vehicle, (vehicle, candidate): reached, on the free part
    xq2 = s.seeds.x_m[:, q]
    valid = np.isfinite(xq2) & (ck_all[None, :] < rays.free_len[:, cr_all])
    dq_all = np.asarray(s.dist[ck_all], dtype=float)
    ray_veh = np.repeat(np.arange(nv), nr)
    floor = np.concatenate([p.floor for p in pre])
    groups = (group[0], np.tile(group[1], nv))
    charges = any(p.charges for p in pre)
    kb = np.concatenate([p.kb for p in pre])
    bx = np.concatenate([p.bx for p in pre])

    def charge_of(vv: IntArray, cc: IntArray) -> Charge | None:
        """The charge of the starts of vehicles ``vv`` at the candidates ``cc``."""
        if not charges:
            return None
        return lambda i, x: _charged_all(s, rays, vv[i], kb, bx, cr_all[cc[i]], ck_all[cc[i]], x)

    hope, settled = road_turn_hopes(
        s,
        xq2,
        valid,
        q,
        s.seeds.v_ms,
        rays.tan_half,
        dq_all,
        cr_all,
        floor,
        charge_of,
        groups,
        check_turns,
    )
    veh, c = np.nonzero(hope)
    cr, ck, qc, dq = cr_all[c], ck_all[c], q[c], dq_all[c]
    uox, uoy = rays.ufx[cr], rays.ufy[cr]
    xc, room, rad = road_turns_all(
        s,
        veh,
        rays.ox[cr] - uox * dq,
        rays.oy[cr] - uoy * dq,
        s.seeds.ux[qc],
        s.seeds.uy[qc],
        uox,
        uoy,
        xq2[veh, c],
        s.seeds.v_ms[veh, qc],
        rays.tan_half[c],
        dq,
        veh * nr + cr,
        ray_veh,
        floor,
        charge_of(veh, c),
        groups,
        check_turns,
        settled,
    )
    cut = np.searchsorted(veh, np.arange(nv + 1))
    out = []
    for vi in range(nv):
        v = slice(cut[vi], cut[vi + 1])
        out.append(_ray_finish(s, rays, vi, pre[vi], cr[v], ck[v], qc[v], xc[v], room[v], rad[v]))
    return out


def _ray_best(s: _Search, rays: _Rays, vi: int) -> _Best:
    """Best start per ray for vehicle ``vi``: rest at the farthest free step (or just before a
    barrier that stops it) and road seeds turning onto the ray at their widest turn, unchecked
    (a bent run's first legs, docs/method.md section 7; the edge rays check their turns in
    :func:`_ray_best_all`); rated barriers and the kerb nearest the origin applied (module
    docstring)."""
    p = _starts(s, rays, vi)
    cr_s, ck_s, qc, dq_s = p.cr, p.ck, p.qc, p.dq
    kb, bx = p.kb, p.bx
    uox, uoy = rays.ufx[cr_s], rays.ufy[cr_s]
    xc, room, rad = road_turns(
        s,
        vi,
        rays.ox[cr_s] - uox * dq_s,
        rays.oy[cr_s] - uoy * dq_s,
        s.seeds.ux[qc],
        s.seeds.uy[qc],
        uox,
        uoy,
        p.xq,
        s.seeds.v_ms[vi, qc],
        rays.tan_half[p.sel],
        dq_s,
        cr_s,
        p.floor,
        # no kerb nor stopping barrier on any ray: nothing to charge
        (lambda i, x: _charged(s, rays, vi, kb, bx, cr_s[i], ck_s[i], x)[0]) if p.charges else None,
        check=False,
    )
    return _ray_finish(s, rays, vi, p, cr_s, ck_s, qc, xc, room, rad)


def _ray_finish(
    s: _Search,
    rays: _Rays,
    vi: int,
    p: _Starts,
    cr: IntArray,
    ck: IntArray,
    qc: IntArray,
    xc: FloatArray,
    room: FloatArray,
    rad: FloatArray,
) -> _Best:
    """:func:`_ray_best` after the road starts' turns: the road starts (ray ``cr``, step
    ``ck``, seed row ``qc``; in the order of ``rays``' candidates) and their run-ups ``xc`` (m,
    ``-inf`` none), straight room (m) and turn radius (m), against the rest starts, barriers
    and kerb (extra starts: :func:`_with_extra`)."""
    tab, dist, n_steps = s.tables[vi], s.dist, s.n_steps
    nr = rays.nr
    lv = rays.free_len[vi]
    kb, bx, rest_k, rest_ok = p.kb, p.bx, p.rest_k, p.rest_ok.copy()
    fin = np.flatnonzero(np.isfinite(xc))
    cr_s, ck_s, qc = cr[fin], ck[fin], qc[fin]
    xc, room, rad = xc[fin], room[fin], rad[fin]
    if not (kb < n_steps).any() and not (rays.kk < n_steps).any():
        return _plain_best(dist, lv, kb, bx, cr_s, ck_s, xc, qc, room, rad)
    ok = (ck_s <= kb[cr_s]) | (xc - dist[np.minimum(kb[cr_s], n_steps - 1)] > bx[cr_s])
    rest_ok[0] &= (rest_k[0] <= kb) | (
        dist[np.maximum(rest_k[0], 0)] - dist[np.minimum(kb, n_steps - 1)] > bx
    )
    cand_r = np.concatenate([cr_s[ok], np.tile(np.arange(nr), 2)[rest_ok.ravel()]])
    cand_k = np.concatenate([ck_s[ok], rest_k.ravel()[rest_ok.ravel()]])
    cand_x = np.concatenate([xc[ok], dist[rest_k.ravel()[rest_ok.ravel()]]])
    cand_q = np.concatenate([qc[ok], np.full(int(rest_ok.sum()), -1)])
    cand_room = np.concatenate([room[ok], dist[rest_k.ravel()[rest_ok.ravel()]]])
    cand_rad = np.concatenate([rad[ok], np.full(int(rest_ok.sum()), np.nan)])
    far = cand_k > rays.kk[cand_r]
    best_near = np.full(nr, -np.inf)
    best_far = np.full(nr, -np.inf)
    np.maximum.at(best_near, cand_r[~far], cand_x[~far])
    np.maximum.at(best_far, cand_r[far], cand_x[far])
    # kerb nearest the origin: charge the loss to the starts beyond it
    has_far = np.isfinite(best_far)
    adj = np.full(nr, -np.inf)
    if np.any(has_far):
        dk = dist[np.minimum(rays.kk[has_far], n_steps - 1)]
        v_k = tab.v(np.maximum(best_far[has_far] - dk, 0.0))
        adj[has_far] = tab.x(np.maximum(v_k - KERB_SPEED_LOSS_KMH / 3.6, 0.0)) + dk
    ray_best = np.maximum(best_near, adj)
    use_far = adj > best_near
    # the candidate that produced each ray's best
    target = np.where(use_far, best_far, best_near)
    is_win = (cand_x == target[cand_r]) & (far == use_far[cand_r])
    win = np.full(nr, -1, dtype=np.int64)
    idx = np.flatnonzero(is_win)
    win[cand_r[idx[::-1]]] = idx[::-1]
    if cand_x.size == 0:  # no start on any ray
        cand_k, cand_q, cand_room = np.zeros(1, np.int64), np.full(1, -1), np.zeros(1)
        cand_rad = np.full(1, np.nan)
    w0 = np.maximum(win, 0)
    wk = np.where(win >= 0, cand_k[w0], 0)
    wq = np.where(win >= 0, cand_q[w0], -1)
    wroom = np.where(win >= 0, cand_room[w0], 0.0)
    wrad = np.where(win >= 0, cand_rad[w0], np.nan)
    return _Best(np.where(win >= 0, ray_best, -np.inf), use_far, wk, wq, wroom, kb, bx, wrad)


def _plain_best(
    dist: NDArray[np.floating],
    lv: IntArray,
    kb: IntArray,
    bx: FloatArray,
    cr: IntArray,
    ck: IntArray,
    xc: FloatArray,
    qc: IntArray,
    room: FloatArray,
    rad: FloatArray,
) -> _Best:
    """:func:`_ray_best` where no rated barrier stops the vehicle and no kerb lies on any ray of
    the batch: every candidate stands and none is charged a kerb, so each ray's best is the
    larger of its road (or extra) candidates ``cr, ck, xc, qc, room, rad`` and its rest start at
    the farthest free step (the rest start before a barrier is the same step). The winner is
    chosen as :func:`_ray_best` does: the first road or extra candidate reaching the best, else
    the rest start."""
    nr = lv.size
    top = np.full(nr, -np.inf)
    np.maximum.at(top, cr, xc)
    rest = lv >= 1
    k_rest = np.maximum(lv - 1, 0)
    best = np.maximum(top, np.where(rest, dist[k_rest], -np.inf))
    win = np.full(nr, -1, dtype=np.int64)
    idx = np.flatnonzero(xc == best[cr])[::-1]
    win[cr[idx]] = idx
    road = win >= 0
    rest &= ~road
    w = np.maximum(win, 0)
    if not xc.size:  # no road or extra candidate on any ray
        ck, qc, room = np.zeros(1, np.int64), np.full(1, -1), np.zeros(1)
        rad = np.full(1, np.nan)
    return _Best(
        np.where(road | rest, best, -np.inf),
        np.zeros(nr, dtype=bool),
        np.where(road, ck[w], np.where(rest, k_rest, 0)),
        np.where(road, qc[w], -1),
        np.where(road, room[w], np.where(rest, dist[k_rest], 0.0)),
        kb,
        bx,
        np.where(road, rad[w], np.nan),
    )


def _scores(tab: _Tables, rb: FloatArray, sin_edge: FloatArray) -> FloatArray:
    """Speed normal to the edge (m/s) of the best run of every (sample, heading); -1 none."""
    return np.where(np.isfinite(rb), tab.v(rb) * sin_edge[None, :], -1.0)


def _with_extra(s: _Search, rays: _Rays, vi: int, best: _Best, extra: _Extra) -> _Best:
    """``best`` with the ``extra`` starts added, by the rules of :func:`_ray_best` applied to
    each extra start alone (the kerb loss is monotone in the run-up, so charging it per start
    and taking the best equals charging it to the best start beyond the kerb)."""
    xe, far = _charged(s, rays, vi, best.kb, best.bx, extra.r, extra.k, extra.x)
    ok = np.isfinite(xe)
    r, k, xe, code, far = extra.r[ok], extra.k[ok], xe[ok], extra.code[ok], far[ok]
    top = np.full(rays.nr, -np.inf)
    np.maximum.at(top, r, xe)
    win = np.full(rays.nr, -1, dtype=np.int64)
    idx = np.flatnonzero(xe == top[r])[::-1]
    win[r[idx]] = idx
    better = (win >= 0) & (top > best.x)
    w = win[better]
    x, k2, q, room = best.x.copy(), best.k.copy(), best.q.copy(), best.room.copy()
    kerb = best.kerb.copy()
    x[better] = top[better]
    k2[better] = k[w]
    q[better] = -2 - code[w]
    room[better] = 0.0
    kerb[better] = far[w]
    rad = best.rad.copy()
    rad[better] = np.nan
    return _Best(x, kerb, k2, q, room, best.kb, best.bx, rad)


def edge_threats(
    samples: EdgeSamples,
    drv: Drivable,
    seeds: RoadSeeds,
    fields: Sequence[VehicleField],
    barriers: Sequence[RatedShape] = (),
    radius_m: float | None = None,
    bends: bool = True,
) -> list[EdgeThreat]:
    """Worst approach at every edge sample, per vehicle (see module docstring): straight runs
    and (``bends``) runs with one bend in open ground on the rays where a bend may beat the
    sample's straight answer (:mod:`bends`)."""
    from .bends import PivotField

    s = _Search.of(drv, seeds, fields, barriers, radius_m)
    ne = samples.x.size
    out = [EdgeThreat.empty(ne) for _ in fields]
    _search(s, samples, np.arange(ne), out, PivotField(s) if bends else None)
    return out


def _search(
    s: _Search,
    samples: EdgeSamples,
    idx: IntArray,
    out: list[EdgeThreat],
    pivots: PivotField | None,
) -> None:
    """Search the edge samples ``idx`` (ascending: the bent search's pivot cells take the
    lowest-numbered sample's point) in batches and write their worst approach into ``out``
    (with ``pivots``, bent runs are candidates too)."""
    fan = _fan()
    nh = fan.size
    cos_f, sin_f = np.cos(fan), np.sin(fan)
    sin_edge = np.cos(fan)  # sine of the angle to the edge
    for b0 in range(0, idx.size, BATCH_SAMPLES):
        es_all = idx[b0 : b0 + BATCH_SAMPLES]
        ne = es_all.size
        # travel directions (E, H): rotate the inward normal by the fan angle
        ux = cos_f[None, :] * samples.nx[es_all, None] + sin_f[None, :] * samples.tx[es_all, None]
        uy = cos_f[None, :] * samples.ny[es_all, None] + sin_f[None, :] * samples.ty[es_all, None]
        ufx, ufy = ux.ravel(), uy.ravel()
        rays = _rays(s, samples.x[es_all], samples.y[es_all], ufx, ufy)
        if rays.lmax == 0:
            continue
        ox = np.repeat(samples.x[es_all], nh)
        oy = np.repeat(samples.y[es_all], nh)
        nv = len(s.fields)
        group = (nh, np.tile(sin_edge, ne))
        straight = _ray_best_all(s, rays, group)
        wanted = []
        if pivots is not None:
            # bent runs: each ray's must beat its sample's straight normal speed
            for vi in range(nv):
                sc = _scores(s.tables[vi], straight[vi].x.reshape(ne, nh), sin_edge)
                floor_ms = np.repeat(np.maximum(sc.max(axis=1), 0.0), nh) / np.tile(sin_edge, ne)
                wanted.append(pivots.pivots_of(vi, rays, ox, oy, floor_ms))
            pivots.prefetch([(vi, w) for vi, w in enumerate(wanted) if w is not None])
        for vi in range(nv):
            tab = s.tables[vi]
            th = out[vi]
            best = straight[vi]
            piv = wanted[vi] if wanted else None
            if pivots is not None and piv is not None:
                extra = pivots.candidates(vi, rays, piv)
                if extra is not None:
                    best = _with_extra(s, rays, vi, best, extra)
            rb = best.x.reshape(ne, nh)
            # per sample, the heading with the highest speed normal to the edge
            score = _scores(tab, rb, sin_edge)
            h_best = np.argmax(score, axis=1)
            r_best = np.arange(ne) * nh + h_best
            x_best = rb[np.arange(ne), h_best]
            got = np.isfinite(x_best)
            es = es_all[got]
            rbg = r_best[got]
            th.x_m[es] = x_best[got]
            th.speed_kmh[es] = tab.v(x_best[got]) * 3.6
            th.angle_deg[es] = 90.0 - np.degrees(np.abs(fan[h_best[got]]))
            th.normal_kmh[es] = th.speed_kmh[es] * sin_edge[h_best[got]]
            th.ux[es], th.uy[es] = ufx[rbg], ufy[rbg]
            qk = best.q[rbg]
            kdist = s.dist[best.k[rbg]]
            road = qk >= 0
            th.kind[es] = np.where(road, ROAD, REST)
            th.start_x[es] = samples.x[es] - ufx[rbg] * kdist
            th.start_y[es] = samples.y[es] - ufy[rbg] * kdist
            th.via_x[es] = np.nan
            th.via_y[es] = np.nan
            th.turn_r_m[es] = np.where(road, best.rad[rbg], np.nan)
            if s.seeds.cell.size:
                qs = np.maximum(qk, 0)
                th.turn_ux[es] = np.where(road, s.seeds.ux[qs], 0.0)
                th.turn_uy[es] = np.where(road, s.seeds.uy[qs], 0.0)
                th.start_speed_kmh[es] = np.where(road, s.seeds.v_ms[vi, qs] * 3.6, 0.0)
                th.link[es] = np.where(road, s.seeds.link[qs], -1)
            else:
                th.start_speed_kmh[es] = 0.0
                th.link[es] = -1
            th.kerb[es] = best.kerb[rbg]
            bent = qk <= -2
            if pivots is not None and bent.any():
                pivots.write_path(vi, th, es[bent], -2 - qk[bent])


def rated_shapes_from_links(net: Network, barriers: Sequence[BarrierOnLink]) -> list[RatedShape]:
    """Rated barriers known only by their link and position: a line across the link, as wide
    as the way plus 1 m each side (m, local CRS)."""
    out = []
    for b in barriers:
        x, y, bearing = net.point_at(b.link, b.s_m)
        half = 0.5 * float(net.link_width_m[b.link]) + 1.0
        nx, ny = math.cos(bearing), -math.sin(bearing)  # perpendicular to the way
        line = shapely.linestrings([[x - half * nx, y - half * ny], [x + half * nx, y + half * ny]])
        out.append(RatedShape(line, b.mass_kg, b.speed_kmh, b.label))
    return out


def load_rated_shapes(path: str | Path, net: Network) -> list[RatedShape]:
    """Rated barriers of a register file (GeoJSON points or lines, ``properties.rating``) as
    geometry in the local CRS; points become 2 m wide lines across nothing in particular
    (a point barrier is a bollard: 0.3 m, buffered to one cell)."""
    from .sites import _features, _read_geojson

    data = _read_geojson(path, "barrier register")
    out = []
    for i, (geom_d, props) in enumerate(_features(data, str(path), "barrier register")):
        text = props.get("rating")
        rating = register_rating(f"barrier register {path}: feature #{i + 1}", text)
        geom = shape(geom_d)
        local = shapely.transform(geom, lambda c: np.column_stack(net.project(c[:, 0], c[:, 1])))
        if local.geom_type in ("Point", "MultiPoint"):
            local = local.buffer(0.5).boundary
        out.append(
            RatedShape(
                local,
                float(rating.mass_kg),
                credited_speed_kmh(rating),
                str(props.get("name", text)),
            )
        )
    return out
