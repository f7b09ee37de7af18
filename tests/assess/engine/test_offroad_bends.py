"""Bent runs in open ground (issue 10 item 2, "a building across the straight line, which
forces a turn whose speed is known"), against analytic answers.

The world: the site of test_offroad (x in [-50, 50], y in [0, 40] m, south edge y = 0,
closed west, north and east). South of it an L of free ground: a corridor parallel to the edge
(y in [y0, y1], closed 400 m west) and a channel (x in [-h, h]) from the corridor up to the
edge; buildings everywhere else, up to 1 m short of the edge (a 1 m strip: no vehicle fits).
A vehicle starting from rest at the corridor's far end (about 400 m: V = 87 km/h) must turn
left into the channel. Its speed at the edge is set by the widest arc the corner allows
(v^2 = a_lat R), then acceleration over the straight left (the vehicle's curve, integrated
numerically in test_offroad: ``x_num``, ``v_num``).

The analytic optimum over every path of one arc (radius R, turning by delta from the corridor's
axis) and one straight to the edge is found here by an independent brute force in closed form
(:func:`best_single_arc`): the arc starts on the corridor's far side (1 m clearance: hugging
the outer wall gives the widest arc) and must pass the corner of the building inside the turn
and stay inside the channel with the clearance.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rempart.assess.engine.drivable import drivable_space
from rempart.assess.engine.offroad import edge_samples, edge_threats, road_seeds
from rempart.assess.engine.run import load_network
from rempart.assess.engine.sites import site_geometry

from ._netbuild import Way, lonlat, road, vehicle, write_osm
from .test_offroad import ENCLOSE, SITE, TRUCK, _accel, block, edge_best, run, v_num

#: the test truck's X(v) tabulated once by the midpoint rule on dx = v / a(v) dv (as
#: test_offroad.x_num, independent of the engine), for the brute force's many look-ups
_V_MS = np.linspace(0.0, 25.0, 20001)
_MID = 0.5 * (_V_MS[1:] + _V_MS[:-1])
_X_M = np.concatenate([[0.0], np.cumsum(_MID / np.array([_accel(v) for v in _MID]) * 25e-4 / 2)])


def _x_of_kmh(v_kmh: float) -> float:
    return float(np.interp(v_kmh / 3.6, _V_MS, _X_M))


def _kmh_of_x(x_m: float) -> float:
    return float(np.interp(x_m, _X_M, _V_MS)) * 3.6


A_LAT = 4.0  # the test truck's lateral acceleration (m/s2)
#: the drivable raster's precision: clearance exact to within half a 1 m cell either way
#: (docs/method.md section 7), so an arc may pass an obstacle 0.5 m closer than 1 m
RASTER_TOL_M = 0.5
#: lattice discretisation: pivots on a 6 m lattice, 22.5-degree first-leg headings, five radii
#: per bend, 3-degree fan; measured below 2 km/h on these worlds, asserted at 4 km/h
LATTICE_TOL_KMH = 4.0


def far_road() -> Way:
    return road([(500.0, -100.0), (900.0, -100.0)])  # out of reach: the file needs a road


def l_world(h: float, y0: float, y1: float) -> list[Way]:
    """Corridor y in [y0, y1] from x = -400 to the channel x in [-h, h] (up to the edge)."""
    return [
        far_road(),
        block(-460.0, -460.0, 460.0, y0),  # south of the corridor
        block(-460.0, y1, -h, -1.0),  # west of the channel: the corner (-h, y1) is inside the turn
        block(h, y0, 460.0, -1.0),  # east of the channel, closes the corridor's east end
        block(-460.0, y0, -400.0, y1),  # closes the corridor's west end
    ]


def best_single_arc(h: float, y0: float, y1: float, clear_m: float, x_leg1_m: float) -> float:
    """Highest normal speed at the edge (km/h) over paths: a straight leg east along the
    corridor (run-up ``x_leg1_m`` at the arc's start), a left arc of radius R turning by delta,
    a straight of length l to the edge (y = 0); every point at least ``clear_m`` from the
    buildings. The arc hugs the corridor's far side and the straight ends against the channel's
    east side (the widest line: moving the path towards the corner inside the turn only
    brings it closer). Brute force over delta (0.25 deg) and R (0.25 m)."""
    d = np.radians(np.arange(1.0, 90.01, 0.25))[:, None]
    R = np.arange(1.0, 170.0, 0.25)[None, :]
    ay = y0 + clear_m
    cy = ay + R
    ey = cy - R * np.cos(d)
    length = -ey / np.sin(d)  # the straight to the edge
    ex = h - clear_m - length * np.cos(d)  # the straight ends at the channel's east side
    cx = ex - R * np.sin(d)
    ok = (ey <= 0.0) & (length >= 0.0)
    # the corner (-h, y1) of the building inside the turn: at least clear_m from the arc
    # (where its angle lies within the arc's span) and from the straight
    px, py = -h, y1
    ang = np.arctan2(py - cy, px - cx) + math.pi / 2  # 0 at the arc's start
    in_span = (ang >= 0.0) & (ang <= d)
    dist_arc = np.where(in_span, R - np.hypot(px - cx, py - cy), np.inf)
    t = np.clip((px - ex) * np.cos(d) + (py - ey) * np.sin(d), 0.0, length)
    dist_line = np.hypot(px - ex - t * np.cos(d), py - ey - t * np.sin(d))
    ok &= (dist_arc >= clear_m) & (dist_line >= clear_m)
    if not ok.any():
        return 0.0
    di, ri = np.nonzero(ok)
    v_r = np.minimum(np.sqrt(A_LAT * R[0, ri]) * 3.6, _kmh_of_x(x_leg1_m))
    lens = length[di, ri]
    sin_d = np.sin(d[di, 0])
    # a coarse ranking (constant 1 m/s2 on the straight), then the exact kinematics on the best
    score = np.sqrt((v_r / 3.6) ** 2 + 2.0 * lens) * sin_d
    best = 0.0
    for j in np.argsort(score)[-40:]:
        best = max(best, _kmh_of_x(_x_of_kmh(float(v_r[j])) + float(lens[j])) * float(sin_d[j]))
    return best


def threats_of(tmp_path: Path, ways: list[Way], vehicles: list[Any], bends: bool) -> list[Any]:
    network = load_network(write_osm(tmp_path / "bend.osm", ways + ENCLOSE))
    fields = network.fields(vehicles)
    site = site_geometry("site", SITE, network.net)
    drv = drivable_space(site, network.features, network.feature_trees)
    seeds = road_seeds(network.net, fields, drv, network.grade_separated)
    return edge_threats(edge_samples(site), drv, seeds, fields, bends=bends)


def best_normal(th: Any) -> float:
    return float(np.nanmax(np.where(np.isfinite(th.normal_kmh), th.normal_kmh, np.nan)))


WIDE = (15.0, -100.0, -60.0)  # channel 30 m wide, corridor 40 m wide, 100 m from the edge


def test_building_across_the_line_forces_a_turn_at_the_widest_arc(tmp_path):
    res = run(tmp_path, l_world(*WIDE))
    best = edge_best(res)
    upper = best_single_arc(*WIDE, clear_m=1.0 - RASTER_TOL_M, x_leg1_m=400.0)
    lower = best_single_arc(*WIDE, clear_m=1.0, x_leg1_m=396.0)
    assert lower - LATTICE_TOL_KMH <= best.speed_kmh <= upper + 0.2
    assert best.runup_start == "rest"
    # the run starts at rest at the corridor's far end, about 400 m west
    assert best.runup_m > 300.0


def test_straight_runs_alone_are_slower(tmp_path):
    # straight only, the best run is head-on up the channel from the corridor's far side
    # (99 m: V(99 m)) or diagonally through it; the bend is well above
    straight = threats_of(tmp_path, l_world(*WIDE), [TRUCK], bends=False)[0]
    bent = threats_of(tmp_path, l_world(*WIDE), [TRUCK], bends=True)[0]
    assert best_normal(straight) <= v_num(112.0)
    assert best_normal(bent) >= best_normal(straight) + 10.0
    # a bend never lowers a sample
    ok = np.isfinite(straight.normal_kmh)
    assert np.all(bent.normal_kmh[ok] >= straight.normal_kmh[ok] - 1e-9)
    i = int(np.nanargmax(np.where(np.isfinite(bent.normal_kmh), bent.normal_kmh, np.nan)))
    assert np.isfinite(bent.via_x[i]) and np.isfinite(bent.via_y[i])
    assert np.all(np.isnan(straight.via_x))


NARROW = (4.0, -16.0, -8.0)  # channel 8 m wide, corridor 8 m wide, 16 m from the edge


def test_a_turn_tighter_than_the_gap_allows_is_not_taken_at_speed(tmp_path):
    # the vehicle arrives along the corridor at V(400 m) = 87 km/h, but the corner leaves
    # room for a small arc only: the edge speed is the widest arc's, far below the corridor's
    best = best_normal(threats_of(tmp_path, l_world(*NARROW), [TRUCK], bends=True)[0])
    upper = best_single_arc(*NARROW, clear_m=1.0 - RASTER_TOL_M, x_leg1_m=400.0)
    straight_up = v_num(16.0)  # head-on from the corridor's far side
    assert best <= max(upper, straight_up) + 0.2
    assert best <= 45.0 < v_num(396.0) - 40.0


def test_rated_barrier_on_the_bent_path(tmp_path):
    # a V/7200[N2A]/96/90 barrier across the corridor 105 m west of the channel's axis, a few
    # metres before the widest arc starts (about x = -96): it stops the 7.2 t truck (every
    # arrival is below 96 km/h), not the 12 t one
    light = vehicle("T", mass=7200, test_class="N2A")
    heavy = vehicle("H", mass=12000, test_class="N3D")
    a, b = lonlat(-105.0, -101.0), lonlat(-105.0, -59.0)
    barrier = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [list(a), list(b)]},
        "properties": {"rating": "V/7200[N2A]/96/90", "name": "gate"},
    }
    res = run(tmp_path, l_world(*WIDE), [light, heavy], [barrier])
    stopped, passed = edge_best(res, "T"), edge_best(res, "H")
    free = best_single_arc(*WIDE, clear_m=1.0, x_leg1_m=396.0)
    assert passed.speed_kmh >= free - LATTICE_TOL_KMH
    # the light truck starts from rest just east of the barrier, about 105 m before the
    # widest arc's pivot: it reaches the arc below the arc's own cap, so it is clearly slower
    # than the heavy one, which keeps the free answer; it still bends (faster than any
    # straight run, at most V(112 m))
    assert stopped.speed_kmh < passed.speed_kmh - 3.0
    assert stopped.speed_kmh > v_num(112.0)


@pytest.mark.parametrize("world", [WIDE, NARROW])
def test_search_agrees_with_the_brute_force(tmp_path, world):
    # the lattice (a lower bound of the continuum) against the brute force over one arc and
    # one straight at the raster's clearance precision
    th = threats_of(tmp_path, l_world(*world), [TRUCK], bends=True)[0]
    got = best_normal(th)
    upper = best_single_arc(*world, clear_m=1.0 - RASTER_TOL_M, x_leg1_m=400.0)
    lower = best_single_arc(*world, clear_m=1.0 + RASTER_TOL_M, x_leg1_m=396.0)
    assert lower - LATTICE_TOL_KMH <= got <= max(upper, v_num(-world[1] + 2.0)) + 0.2


def test_a_vehicle_too_wide_for_every_first_leg(tmp_path):
    # a 9 m wide load fits nowhere in the 8 m channel: the first legs searched for the truck
    # have no start for it (this raised IndexError once); the truck's answer is unchanged
    wide = vehicle("W", width=9.0)
    alone = threats_of(tmp_path, l_world(*NARROW), [TRUCK], bends=True)[0]
    both = threats_of(tmp_path, l_world(*NARROW), [TRUCK, wide], bends=True)
    assert best_normal(both[0]) == pytest.approx(best_normal(alone))
    assert not np.isfinite(both[1].x_m).any()


def test_first_legs_skipped_by_the_bound_change_no_answer(tmp_path, monkeypatch):
    """A first leg (pivot, heading) is searched only if ``X(sqrt(a_lat R)) + s`` with the widest
    radius the edge leg allows, ``R = min(s / tan(delta / 2), v_top^2 / a_lat)``, beats the
    ray's floor: whatever the first leg, the arc's exit speed is at most ``sqrt(a_lat R)``
    (v^2 = a_lat R) and the vehicle then gains at most the run-up ``s``. The bound must skip
    some pairs in this world (sharp turns close to the edge) and no answer may change against
    the search of every pair."""
    from rempart.assess.engine import bends

    ways = [*l_world(*WIDE), road([(-390.0, -80.0), (-20.0, -80.0)])]
    vehicles = [TRUCK, vehicle("C", top_kmh=160.0, lat=6.9, width=1.8)]
    kept = []
    pivots_of = bends.PivotField.pivots_of

    def counted(self: Any, *args: Any) -> Any:
        piv = pivots_of(self, *args)
        if piv is not None:
            kept.append((int(piv.want.sum()), int((piv.delta >= math.pi / 16).sum())))
        return piv

    monkeypatch.setattr(bends.PivotField, "pivots_of", counted)
    pruned = threats_of(tmp_path, ways, vehicles, bends=True)
    wanted, admissible = np.sum(kept, axis=0)
    assert 0 < wanted < admissible

    def every_pair(self: Any, *args: Any) -> Any:
        piv = pivots_of(self, *args)
        if piv is not None:
            piv.want = piv.delta >= math.pi / 16
        return piv

    monkeypatch.setattr(bends.PivotField, "pivots_of", every_pair)
    full = threats_of(tmp_path, ways, vehicles, bends=True)
    assert np.isfinite(full[0].via_x).any()  # bent runs win somewhere
    for a, b in zip(pruned, full, strict=True):
        for name in ("x_m", "normal_kmh", "start_x", "start_y", "via_x", "via_y", "kind"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("world", [WIDE, NARROW])
def test_bent_search_does_not_depend_on_the_batch_size(tmp_path, monkeypatch, world):
    """The batch size is bookkeeping: the samples of a site are independent problems, so the
    threat arrays must be identical whatever the batch. A pivot lattice cell reached by rays
    of several batches and vehicles is represented by the pivot of its lowest-numbered sample
    (docs/method.md section 7, "Bent runs"), not by whichever vehicle's point the batch order
    happens to place in it first (with 7 against 48 samples per batch, the WIDE world's
    arrays differed on main at 1ed5a93)."""
    from rempart.assess.engine import offroad

    ways = [*l_world(*world), road([(-390.0, -80.0), (-20.0, -80.0)])]
    vehicles = [TRUCK, vehicle("C", top_kmh=160.0, lat=6.9, width=1.8)]
    runs = []
    for batch in (7, 48, 96):
        monkeypatch.setattr(offroad, "BATCH_SAMPLES", batch)
        runs.append(threats_of(tmp_path, ways, vehicles, bends=True))
    assert np.isfinite(runs[0][0].via_x).any()  # bent runs win somewhere
    names = ("x_m", "speed_kmh", "normal_kmh", "start_x", "start_y", "via_x", "via_y", "kind")
    for other in runs[1:]:
        for a, b in zip(runs[0], other, strict=True):
            for name in names:
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
