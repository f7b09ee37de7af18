"""Regression: entry speeds on fixed networks equal the values recorded before the engine's
vectorisation (2026-11-26, the per-site loop implementation), so optimisations cannot silently
change results. The networks avoid the three behaviour fixes made at the same time (barriers
partway along links, bends through junctions, turns between different widths): uniform widths,
no register, curves kept away from junctions.

Regenerate (only for an intended change of the method, explained in the commit):
``python -m tests.assess.engine.test_regression > tests/assess/engine/regression_speeds.json``
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from rempart.assess.engine.run import AssessOptions, LoadedNetwork, assess_sites
from rempart.assess.engine.vehicles import builtin_vehicles

from ._netbuild import osm_data, road, square

RECORDED = Path(__file__).with_name("regression_speeds.json")


def _grid(n: int = 6, step: float = 120.0) -> list[Any]:
    ways = []
    for i in range(n):
        ways.append(road([(j * step, i * step) for j in range(n)], "residential"))
        ways.append(road([(i * step, j * step) for j in range(n)], "residential"))
    return ways


def _arc(cx: float, cy: float, r: float, a0: float, a1: float, n: int) -> list[tuple[float, float]]:
    return [
        (cx + r * math.cos(a0 + (a1 - a0) * k / n), cy + r * math.sin(a0 + (a1 - a0) * k / n))
        for k in range(n + 1)
    ]


def networks() -> dict[str, tuple[list[Any], list[dict[str, Any]]]]:
    """Fixed networks (ways) and sites (GeoJSON, WGS84)."""
    grid = _grid()
    # a long approach road with a curve drawn with many vertices, joining the grid at (0, 240)
    curve = (
        [(-900.0, -300.0), (-500.0, -300.0)]
        + _arc(-500.0, -150.0, 150.0, -math.pi / 2, 0.0, 12)[1:]
        + [(-350.0, 100.0), (-300.0, 240.0), (0.0, 240.0)]
    )
    # a long straight avenue and a dead-end spur
    avenue = [(-1500.0, 600.0), (0.0, 600.0)]
    spur = [(600.0, 360.0), (900.0, 360.0)]
    ways = grid + [road(curve, "residential"), road(avenue, "residential"), road(spur)]
    sites = [
        square(150.0, 150.0, 330.0, 330.0),
        square(-60.0, 200.0, 60.0, 290.0),
        square(400.0, 560.0, 700.0, 640.0),
        square(650.0, 330.0, 800.0, 420.0),
    ]
    return {"grid_curve": (ways, sites)}


def snapshot() -> dict[str, Any]:
    """Per network, per site: entries with per-vehicle speed, run-up and start."""
    out: dict[str, Any] = {}
    vehicles = builtin_vehicles()
    for name, (ways, sites) in networks().items():
        osm = osm_data(ways)
        from rempart.assess.engine.graph import build_network

        loaded = LoadedNetwork(osm, build_network(osm))
        results = assess_sites(
            loaded,
            [(f"s{i}", s) for i, s in enumerate(sites)],
            vehicles,
            # road-graph entries only: the off-road edge entries (issue 10) are new, not a change
            options=AssessOptions(plan=False, offroad=False),
        )
        rows = []
        for res in results:
            for e in res.entries:
                rows.append(
                    {
                        "site": res.site,
                        "kind": e.kind,
                        "x": round(e.x, 2),
                        "y": round(e.y, 2),
                        "speeds_kmh": [ve.speed_kmh for ve in e.vehicles],
                        "runup_m": [ve.runup_m for ve in e.vehicles],
                        "start": [ve.runup_start for ve in e.vehicles],
                    }
                )
        out[name] = rows
    return out


def test_speeds_equal_recorded_values() -> None:
    recorded = json.loads(RECORDED.read_text())
    got = snapshot()
    assert set(got) == set(recorded)
    for name, rows in recorded.items():
        assert len(got[name]) == len(rows), name
        for want, have in zip(rows, got[name], strict=True):
            assert (have["site"], have["kind"]) == (want["site"], want["kind"])
            assert have["x"] == pytest.approx(want["x"], abs=0.05)
            assert have["y"] == pytest.approx(want["y"], abs=0.05)
            for a, b in zip(have["speeds_kmh"], want["speeds_kmh"], strict=True):
                assert (a is None) == (b is None)
                if a is not None:
                    assert a == pytest.approx(b, abs=0.11)
            for a, b in zip(have["runup_m"], want["runup_m"], strict=True):
                assert (a is None) == (b is None)
                if a is not None:
                    assert a == pytest.approx(b, abs=0.11)
            assert have["start"] == want["start"]


if __name__ == "__main__":
    print(json.dumps(snapshot(), indent=1))
