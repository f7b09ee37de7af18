"""When a vehicle passes each point of its approach: a speed profile from its acceleration.

Pure (no Django). The vehicle accelerates at full throttle along the path, its acceleration a
function of speed (``(speed km/h, acceleration m/s²)`` points, linear between them and constant
beyond the first and last, as :class:`rempart.assess.engine.vehicles.Vehicle` gives it), from a
start speed, never above a cap (the vehicle's top speed, or the impact speed the assessment
engine computed, which already accounts for the bends it had to slow for).

Integration: steps of ``step_s`` seconds under a constant acceleration taken at the step's
start speed (exact for a constant acceleration); a step that crosses the cap or a requested
distance is solved exactly for that instant, so a straight run at constant acceleration from
rest gives t = √(2d/a) to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Passage:
    """A point of the approach: its distance from the start (m), time (s) and speed (km/h)."""

    distance_m: float
    time_s: float
    speed_kmh: float


def acceleration_at(curve: Sequence[tuple[float, float]], speed_kmh: float) -> float:
    """Acceleration in m/s² at ``speed_kmh`` on a piecewise-linear curve of (km/h, m/s²)."""
    if not curve:
        raise ValueError("acceleration curve is empty; expected at least one (km/h, m/s2) point")
    if speed_kmh <= curve[0][0]:
        return curve[0][1]
    for (v0, a0), (v1, a1) in zip(curve, curve[1:], strict=False):
        if speed_kmh <= v1:
            return a0 + (a1 - a0) * (speed_kmh - v0) / (v1 - v0)
    return curve[-1][1]


def _time_to_cover(distance_m: float, speed_ms: float, accel_ms2: float) -> float:
    """Smallest t ≥ 0 with speed·t + accel·t²/2 = distance (accel ≥ 0)."""
    if accel_ms2 <= 1e-12:
        return distance_m / speed_ms
    return (-speed_ms + math.sqrt(speed_ms**2 + 2 * accel_ms2 * distance_m)) / accel_ms2


def passages(
    curve: Sequence[tuple[float, float]],
    distances_m: Sequence[float],
    *,
    start_speed_kmh: float = 0.0,
    cap_kmh: float,
    step_s: float = 0.05,
) -> list[Passage]:
    """Time and speed at each of ``distances_m`` (metres from the start, any order)."""
    if cap_kmh <= 0:
        raise ValueError(f"speed cap {cap_kmh!r} km/h is not positive; expected > 0")
    wanted = sorted(set(float(d) for d in distances_m))
    if wanted and wanted[0] < 0:
        raise ValueError(f"distance {wanted[0]!r} m is negative; expected 0 or more")
    cap = cap_kmh / 3.6
    v = min(start_speed_kmh / 3.6, cap)
    if v <= 0 and acceleration_at(curve, 0.0) <= 0:
        raise ValueError("the vehicle neither moves nor accelerates from rest")
    t = x = 0.0
    found: dict[float, Passage] = {}
    index = 0
    while index < len(wanted):
        target = wanted[index]
        a = 0.0 if v >= cap - 1e-12 else acceleration_at(curve, v * 3.6)
        dt = step_s
        if a > 0 and v + a * dt > cap:  # reach the cap within this step
            dt = (cap - v) / a
        step_x = v * dt + a * dt * dt / 2
        if x + step_x >= target - 1e-12:
            tau = _time_to_cover(target - x, v, a) if target > x else 0.0
            speed = v + a * tau
            found[target] = Passage(target, t + tau, speed * 3.6)
            index += 1
            continue  # several targets may fall in the same step
        x += step_x
        v = min(cap, v + a * dt)
        t += dt
    return [found[float(d)] for d in distances_m]
