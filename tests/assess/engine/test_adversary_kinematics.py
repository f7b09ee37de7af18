"""Weak vehicles (issue 10, adversarial review): a vehicle whose full-throttle acceleration is
as low as a vehicles file allows (0.01-0.07 m/s2) against constant-acceleration physics,
``v = sqrt(2 a x)`` capped at the top speed, on the road graph and off-road.

Every expected value is the closed form; the tolerance is the brief's, 0.5 km/h (or 1 m of
run-up). The cases are straight run-ups of known length in a passage too narrow to turn
round in; :func:`test_a_weak_vehicle_may_turn_round_in_a_wide_street` shows what the review
measured in a 12 m street instead (docs/method.md section 7, "Not modelled yet": no minimum
turning radius).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rempart.assess.engine.offroad import _tables
from rempart.assess.engine.speed import Kinematics

from ._netbuild import Way, road, vehicle
from .test_offroad import canyon, edge_best, run

TOP_KMH = 90.0
WEAK = (0.01, 0.03, 0.07)


def weak(a_ms2: float, name: str = "T") -> Any:
    """A 2 m wide vehicle accelerating at ``a_ms2`` at every speed up to 90 km/h."""
    return vehicle(name, top_kmh=TOP_KMH, curve=((0.0, a_ms2),))


def v_kmh(a_ms2: float, x_m: float) -> float:
    """Constant acceleration from rest over ``x_m`` m: ``sqrt(2 a x)``, capped (km/h)."""
    return min(math.sqrt(2.0 * a_ms2 * x_m) * 3.6, TOP_KMH)


@pytest.mark.parametrize("a_ms2", [*WEAK, 0.5, 2.0])
def test_kinematics_and_the_search_tables_are_the_closed_form(a_ms2):
    v = weak(a_ms2)
    kin = Kinematics.of(v)
    tab = _tables(v)
    top = TOP_KMH / 3.6
    assert kin.x_top_m == pytest.approx(top * top / (2.0 * a_ms2), rel=1e-12)
    xs = np.array([1.0, 10.0, 150.0, 600.0, 2000.0, 40000.0])
    exact = np.minimum(np.sqrt(2.0 * a_ms2 * xs), top)
    assert np.allclose(kin.v_of_x(xs), exact, rtol=0, atol=1e-9)
    assert np.allclose(tab.v(xs), exact, rtol=0, atol=1e-6)
    below = xs[xs < kin.x_top_m]
    back = np.sqrt(2.0 * a_ms2 * below)
    assert np.allclose(kin.x_of_v(back), below, rtol=1e-12, atol=1e-9)
    assert np.allclose(tab.x(back), below, rtol=0, atol=1e-6)


def _narrow(ways: list[Way], length_m: float) -> list[Way]:
    # a 5 m passage (x in [-2.5, 2.5]) from y = -length_m up to 1 m short of the edge, closed
    # behind: turning round in it needs a radius of at most 1.5 m (a 2 m vehicle)
    return ways + canyon(2.5, -1.0, bottom_y=-length_m)


@pytest.mark.parametrize("a_ms2", WEAK)
def test_a_road_crossing_the_edge_is_the_closed_form(tmp_path, a_ms2):
    # the road graph: a 600 m street from a dead start crossing the site's south edge
    length = 600.0
    res = run(tmp_path, _narrow([road([(0.0, -length), (0.0, 20.0)])], length), [weak(a_ms2)])
    crossings = [ve for e in res.entries if e.kind == "crossing" for ve in e.vehicles]
    assert crossings
    # the engine's projection makes the street 0.08 % longer than the test's metres
    assert max(ve.speed_kmh for ve in crossings) == pytest.approx(v_kmh(a_ms2, length), abs=0.5)


@pytest.mark.parametrize("a_ms2", WEAK)
@pytest.mark.parametrize("length", [150.0, 350.0])
def test_a_run_from_rest_is_the_closed_form(tmp_path, a_ms2, length):
    # off-road: no road in reach; the run starts from rest at the passage's closed end
    ways = _narrow([road([(500.0, -100.0), (900.0, -100.0)])], length)
    best = edge_best(run(tmp_path, ways, [weak(a_ms2)]))
    assert best.runup_start == "rest"
    assert best.speed_kmh == pytest.approx(v_kmh(a_ms2, length), abs=0.5)
    assert best.equivalent_runup_m == pytest.approx(length, abs=2.0)  # the 2 m ray step


@pytest.mark.parametrize("a_ms2", WEAK)
def test_a_dead_end_short_of_the_edge_is_the_closed_form(tmp_path, a_ms2):
    # off the road field: a 140 m street ending 10 m short of the edge
    length = 150.0
    ways = _narrow([road([(0.0, -length), (0.0, -10.0)])], length)
    best = edge_best(run(tmp_path, ways, [weak(a_ms2)]))
    assert best.speed_kmh == pytest.approx(v_kmh(a_ms2, length), abs=0.5)


def test_a_weak_vehicle_may_turn_round_in_a_wide_street(tmp_path: Path):
    # What the review measured: in a 12 m street (x in [-6, 6]) a 0.07 m/s2 vehicle reaches
    # the edge 150 m from the street's closed end at 18.6 km/h, an equivalent run-up of about
    # 190 m, not sqrt(2 a 150) = 16.5 km/h: it drives down the street and turns round at
    # v^2 / a_lat = 3.4 m radius (4 m/s2 lateral at 13 km/h), which the lateral limit allows and
    # no truck's steering lock does (docs/method.md section 7, "Not modelled yet"). The
    # straight answer is a lower bound (the safe side), and no path is longer than down the
    # street and back, 2 x 150 m.
    a_ms2, length = 0.07, 150.0
    ways = [road([(0.0, -length), (0.0, -10.0)]), *canyon(6.0, -1.0, bottom_y=-length)]
    best = edge_best(run(tmp_path, ways, [weak(a_ms2)]))
    assert v_kmh(a_ms2, length) - 0.5 <= best.speed_kmh <= v_kmh(a_ms2, 2.0 * length)


@pytest.mark.parametrize("a_ms2", WEAK)
def test_the_reviews_case_is_a_longer_path_not_a_kinematics_error(tmp_path, a_ms2):
    # The review's case: a 590 m street ending 10 m short of the edge in a 12 m canyon that
    # stops 20 m short of it, a 17 m strip of open ground in front of the site (x in
    # [-51, 51], closed by buildings beyond). Run-ups came out 20-47 m longer than 600 m: the
    # weak vehicle drives up the street, turns along the strip at v^2 / a_lat (3-22 m) and
    # into the edge. Never below the straight answer; not above the street plus the longest
    # such detour, 51 m along the strip and 20 m up to the edge (a turn round in the street,
    # which would give more, is not what the search finds here).
    ways = [road([(0.0, -600.0), (0.0, -10.0)]), *canyon(6.0, -20.0)]
    best = edge_best(run(tmp_path, ways, [weak(a_ms2)]))
    assert v_kmh(a_ms2, 600.0) - 0.5 <= best.speed_kmh <= v_kmh(a_ms2, 600.0 + 51.0 + 20.0)
    assert 600.0 - 1.0 <= best.equivalent_runup_m <= 600.0 + 51.0 + 20.0
