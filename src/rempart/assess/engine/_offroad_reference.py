"""Pure-Python reference of the off-road search (:func:`offroad.edge_threats`), for the
benchmark's comparison (benchmarks/offroad.py) and the consistency test: the same rays, starts,
turn rule (every road start's turn checked against the raster at every fraction until one
is free: no quick accept, no bound, no rounds), barriers and kerbs, written as plain loops over
samples, headings and steps with the exact kinematics (no tables). Slow by design; use on a
few edge samples.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np

from .drivable import RADIUS_M, Drivable
from .field import VehicleField
from .offroad import (
    FAN_MAX_DEG,
    FAN_STEP_DEG,
    KERB_SPEED_LOSS_KMH,
    RAY_STEP_M,
    EdgeSamples,
    RatedShape,
    RoadSeeds,
    barrier_labels,
)
from .speed import Kinematics
from .turns import ARC_STEP_M, RADIUS_FRACTIONS, TURN_CHECK_MIN_DEG, TURN_RADIUS_TOL


def edge_speeds_reference(
    samples: EdgeSamples,
    indices: Sequence[int],
    drv: Drivable,
    seeds: RoadSeeds,
    fields: Sequence[VehicleField],
    barriers: Sequence[RatedShape] = (),
    radius_m: float = RADIUS_M,
) -> list[list[float | None]]:
    """Highest impact speed component normal to the edge (km/h) at each sample of
    ``indices``, per vehicle; ``None`` where no run reaches it."""
    grid = drv.grid
    c = max(RAY_STEP_M, grid.cell_m)
    n_steps = int(math.ceil(radius_m / c))
    clear = drv.clearance_m.ravel()
    inside = drv.inside.ravel()
    kerb = drv.kerb.ravel()
    lab = barrier_labels(drv, barriers).ravel() if barriers else None
    by_cell: dict[int, list[int]] = {}
    for q, cell in enumerate(seeds.cell.tolist()):
        by_cell.setdefault(int(cell), []).append(q)
    n_fan = int(round(FAN_MAX_DEG / FAN_STEP_DEG))
    fan = [math.radians(k * FAN_STEP_DEG) for k in range(-n_fan, n_fan + 1)]
    out: list[list[float | None]] = []
    for vi, vf in enumerate(fields):
        kin, veh = vf.kin, vf.vehicle
        half_w = veh.width_m / 2.0
        a_lat = veh.lateral_accel_ms2
        row: list[float | None] = []
        for i in indices:
            best_score, best_kmh = -1.0, None
            for ang in fan:
                ux = math.cos(ang) * samples.nx[i] + math.sin(ang) * samples.tx[i]
                uy = math.cos(ang) * samples.ny[i] + math.sin(ang) * samples.ty[i]
                cells = []
                for k in range(n_steps):
                    d = (k + 0.25) * c
                    x, y = samples.x[i] - ux * d, samples.y[i] - uy * d
                    j = math.floor((x - grid.x0) / grid.cell_m)
                    r = math.floor((y - grid.y0) / grid.cell_m)
                    if not (0 <= r < grid.ny and 0 <= j < grid.nx):
                        break
                    cell = r * grid.nx + j
                    if inside[cell] or clear[cell] < half_w:
                        break
                    cells.append((k, d, cell))
                if not cells:
                    continue
                kk = next((k for k, _, cell in cells if kerb[cell]), None)
                kb, bx = None, math.inf
                if lab is not None:
                    for k, _, cell in cells:
                        b = int(lab[cell])
                        if b and veh.mass_kg <= barriers[b - 1].mass_kg + 1e-9:
                            kb = k
                            bx = float(kin.x_of_v(barriers[b - 1].speed_kmh / 3.6))
                            break
                cands: list[tuple[int, float]] = []
                for k, d, cell in cells:
                    for q in by_cell.get(cell, []):
                        xq = float(seeds.x_m[vi, q])
                        if not math.isfinite(xq):
                            continue
                        vq = float(kin.v_of_x(max(xq, 0.0)))
                        cosd = max(-1.0, min(1.0, seeds.ux[q] * ux + seeds.uy[q] * uy))
                        t = math.sqrt(max((1.0 - cosd) / (1.0 + cosd + 1e-12), 0.0))
                        wide = t * vq * vq / a_lat <= d
                        r0 = vq * vq / a_lat if wide else d / max(t, 1e-12)
                        delta = 2.0 * math.atan(t)
                        check = delta > math.radians(TURN_CHECK_MIN_DEG)
                        corner = (samples.x[i] - ux * d, samples.y[i] - uy * d)

                        free = functools.partial(
                            _free_at,
                            (*corner, seeds.ux[q], seeds.uy[q], ux, uy, delta),
                            drv,
                            half_w,
                            lab,
                            barriers,
                            veh.mass_kg,
                            kin,
                            a_lat,
                        )
                        rad = _widest_free_radius(r0, free) if check else r0
                        if math.isnan(rad):
                            continue
                        x_rad = float(kin.x_of_v(min(math.sqrt(a_lat * rad), kin.top_speed_ms)))
                        x_arc = xq if (wide and rad == r0) else min(xq, x_rad)
                        xc = x_arc + max(d - rad * t, 0.0)
                        cands.append((k, min(xc, kin.x_top_m)))
                last_k, last_d, _ = cells[-1]
                cands.append((last_k, last_d))
                if kb is not None and kb > 0:
                    cands.append((kb - 1, (kb - 1 + 0.25) * c))
                best_x = -math.inf
                for k, xc in cands:
                    if kb is not None and k > kb and not (xc - (kb + 0.25) * c > bx):
                        continue
                    if kk is not None and k > kk:
                        dk = (kk + 0.25) * c
                        v_k = float(kin.v_of_x(max(xc - dk, 0.0)))
                        xc = float(kin.x_of_v(max(v_k - KERB_SPEED_LOSS_KMH / 3.6, 0.0))) + dk
                    best_x = max(best_x, xc)
                if not math.isfinite(best_x):
                    continue
                kmh = float(kin.v_of_x(max(best_x, 0.0))) * 3.6
                score = kmh * math.cos(ang)
                if score > best_score:
                    best_score, best_kmh = score, score
            row.append(best_kmh)
        out.append(row)
    return out


def _widest_free_radius(r0: float, free: Callable[[float], bool]) -> float:
    """The radius (m) a road start turns at (docs/method.md section 7): the widest ``r0``
    (m) if ``free``, else the first free fraction of it, bisected towards the blocked one
    above until they are within ``TURN_RADIUS_TOL r0`` (the free end kept); NaN if none."""
    hi = math.nan
    for f in RADIUS_FRACTIONS:
        lo = f * r0
        if free(lo):
            break
        hi = lo
    else:
        return math.nan
    while hi - lo > TURN_RADIUS_TOL * r0:
        mid = 0.5 * (lo + hi)
        if free(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _free_at(
    base: tuple[float, float, float, float, float, float, float],
    drv: Drivable,
    half_w: float,
    lab: np.ndarray | None,
    barriers: Sequence[RatedShape],
    mass_kg: float,
    kin: Kinematics,
    a_lat: float,
    rad: float,
) -> bool:
    """:func:`_turn_free` of the turn ``base`` (corner, heading in, out, angle) at the radius
    ``rad`` (m), at the arc's speed ``sqrt(a_lat rad)`` (``a_lat`` m/s2)."""
    px, py, uix, uiy, uox, uoy, delta = base
    x_rad = float(kin.x_of_v(min(math.sqrt(a_lat * rad), kin.top_speed_ms)))
    turn = (px, py, uix, uiy, uox, uoy, rad, delta)
    return _turn_free(turn, drv, half_w, lab, barriers, mass_kg, x_rad, kin)


def _turn_free(
    turn: tuple[float, float, float, float, float, float, float, float],
    drv: Drivable,
    half_w: float,
    lab: np.ndarray | None,
    barriers: Sequence[RatedShape],
    mass_kg: float,
    x_rad: float,
    kin: Kinematics,
) -> bool:
    """Whether a road start's turn (corner ``p``, heading in ``ui``, out ``uo``, radius,
    angle) is free: every point of its arc every ``ARC_STEP_M`` (its start excluded) off the
    raster, inside the site or in a cell with clearance >= ``half_w``, and no rated barrier
    stopping the vehicle at the arc's speed (run-up ``x_rad``)."""
    px, py, uix, uiy, uox, uoy, rad, delta = turn
    grid = drv.grid
    tl = rad * math.tan(delta / 2.0)
    ax, ay = px - tl * uix, py - tl * uiy
    left = 1.0 if uix * uoy - uiy * uox > 0 else -1.0
    cx, cy = ax - left * rad * uiy, ay + left * rad * uix
    n = max(math.ceil(rad * delta / ARC_STEP_M), 1)
    for j in range(1, n + 1):
        phi = left * delta * j / n
        x = cx + math.cos(phi) * (ax - cx) - math.sin(phi) * (ay - cy)
        y = cy + math.sin(phi) * (ax - cx) + math.cos(phi) * (ay - cy)
        col = math.floor((x - grid.x0) / grid.cell_m)
        row = math.floor((y - grid.y0) / grid.cell_m)
        if not (0 <= row < grid.ny and 0 <= col < grid.nx) or drv.inside[row, col]:
            continue
        if drv.clearance_m[row, col] < half_w:
            return False
        b = int(lab[row * grid.nx + col]) if lab is not None else 0
        stops = b > 0 and mass_kg <= barriers[b - 1].mass_kg + 1e-9
        if stops and x_rad <= float(kin.x_of_v(barriers[b - 1].speed_kmh / 3.6)):
            return False
    return True


def compare(
    fast: Sequence[np.ndarray], ref: list[list[float | None]], indices: Sequence[int]
) -> float:
    """Largest absolute difference (km/h) between the vectorised normal speeds and the reference at
    ``indices`` (both missing counts as equal; one missing as infinite)."""
    worst = 0.0
    for vi, row in enumerate(ref):
        for j, i in enumerate(indices):
            a, b = fast[vi][i], row[j]
            if b is None or not np.isfinite(a):
                if (b is None) != (not np.isfinite(a)):
                    return math.inf
                continue
            worst = max(worst, abs(float(a) - b))
    return worst
