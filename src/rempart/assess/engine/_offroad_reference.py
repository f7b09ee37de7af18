"""Pure-Python reference of the off-road search (:func:`offroad.edge_threats`), for the
benchmark's comparison (benchmarks/offroad.py) and the consistency test: the same rays, starts,
turn rule, barriers and kerbs, written as plain loops over samples, headings and steps with
the exact kinematics (no tables). Slow by design; use on a few edge samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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
                        tq = t * vq * vq / a_lat
                        if tq <= d:
                            xc = xq + d - tq
                        else:
                            cap = min(math.sqrt(a_lat * d / max(t, 1e-12)), kin.top_speed_ms)
                            xc = float(kin.x_of_v(cap))
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
