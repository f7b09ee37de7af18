"""Property tests on random grid networks: monotonicity and bounds of the speed field."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rempart.assess.engine.entries import crossing_entries
from rempart.assess.engine.field import vehicle_field
from rempart.assess.engine.sites import site_geometry
from rempart.assess.engine.vehicles import builtin_vehicles

from ._netbuild import network, road, square

N = 5  # grid of N x N nodes, 80 m apart; the site is the centre cell
STEP = 80.0
VEHICLES = [builtin_vehicles()[0], builtin_vehicles()[-1]]


def _edges() -> list[tuple[tuple[int, int], tuple[int, int]]]:
    out = []
    for i in range(N):
        for j in range(N):
            if i + 1 < N:
                out.append(((i, j), (i + 1, j)))
            if j + 1 < N:
                out.append(((i, j), (i, j + 1)))
    return out


EDGES = _edges()
SITE = square(STEP * 1.6, STEP * 1.6, STEP * 2.4, STEP * 2.4)


def _ways(mask: list[bool], widths: list[int]) -> list:
    ways = []
    for keep, w, ((a, b), (c, d)) in zip(mask, widths, EDGES, strict=True):
        if keep:
            ways.append(road([(a * STEP, b * STEP), (c * STEP, d * STEP)], width=str(w)))
    return ways


def _entry_speeds(ways) -> dict[tuple[float, float], list[float]]:
    net = network(ways)
    site = site_geometry("s", SITE, net)
    fields = [vehicle_field(net, v) for v in VEHICLES]
    out: dict[tuple[float, float], list[float]] = {}
    for e in crossing_entries(net, site, fields):
        lon, lat = net.unproject(np.array([e.x]), np.array([e.y]))
        key = (
            round(float(lon[0]), 5),
            round(float(lat[0]), 5),
        )  # the local CRS depends on the data
        out[key] = [ve.speed_kmh if ve.speed_kmh is not None else -1.0 for ve in e.vehicles]
    return out


grids = st.tuples(
    st.lists(st.booleans(), min_size=len(EDGES), max_size=len(EDGES)),
    st.lists(st.integers(3, 12), min_size=len(EDGES), max_size=len(EDGES)),
    st.integers(0, len(EDGES) - 1),
)

# the central cell's four sides always exist so that the site has crossings
CENTRE = {
    k
    for k, ((a, b), (c, d)) in enumerate(EDGES)
    if {(a, b), (c, d)} <= {(1, 1), (1, 2), (1, 3), (2, 1), (2, 3), (3, 1), (3, 2), (3, 3), (2, 2)}
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids)
def test_adding_a_road_never_lowers_and_removing_never_raises(grid):
    mask, widths, k = grid
    mask = [m or (i in CENTRE) for i, m in enumerate(mask)]
    with_road = list(mask)
    with_road[k] = True
    without = list(mask)
    if k not in CENTRE:
        without[k] = False
    a = _entry_speeds(_ways(without, widths))
    b = _entry_speeds(_ways(with_road, widths))
    for key, speeds in a.items():
        assert key in b
        for s_without, s_with in zip(speeds, b[key], strict=True):
            assert s_with >= s_without - 1e-6


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids)
def test_blocking_with_a_rated_barrier_never_raises_and_top_speed_bounds(grid):
    from rempart.assess.engine.field import BarrierOnLink

    mask, widths, k = grid
    mask = [m or (i in CENTRE) for i, m in enumerate(mask)]
    net = network(_ways(mask, widths))
    site = site_geometry("s", SITE, net)
    link = k % net.n_links
    barrier = (BarrierOnLink(link, float(net.link_length_m[link]) / 2, 30000, 112, "b"),)
    for veh in VEHICLES:
        free = vehicle_field(net, veh)
        blocked = vehicle_field(net, veh, barrier)
        assert np.all(free.field.x_out_m <= free.kin.x_top_m + 1e-9)
        fin = np.isfinite(blocked.field.x_out_m)
        assert np.all(blocked.field.x_out_m[fin] <= free.field.x_out_m[fin] + 1e-6)
        a = crossing_entries(net, site, [free])
        b = crossing_entries(net, site, [blocked])
        for ea, eb in zip(a, b, strict=True):
            sa = ea.vehicles[0].speed_kmh
            sb = eb.vehicles[0].speed_kmh
            assert sa is None or sa <= veh.top_speed_kmh + 1e-6
            if sb is not None:
                assert sa is not None and sb <= sa + 1e-6
