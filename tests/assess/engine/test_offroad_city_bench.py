"""Smoke test of benchmarks/offroad_city.py (issue 10 performance) and of the buildings its
generator (benchmarks/assess_scale.py) adds to the synthetic city. No timing is asserted:
performance is measured by the benchmark, not by tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[3]
BENCH = ROOT / "benchmarks"


@pytest.fixture(scope="module")
def generator() -> Any:
    sys.path.insert(0, str(BENCH))
    try:
        import assess_scale

        yield assess_scale
    finally:
        sys.path.remove(str(BENCH))


def test_small_city_run_is_well_formed_and_agrees_with_the_reference() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    cmd = [
        sys.executable,
        str(BENCH / "offroad_city.py"),
        "--segments",
        "20000",
        "--sites",
        "3",
        "--every",
        "1000",
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    r = json.loads(done.stdout.strip().splitlines()[-1])
    # the grid of 4 directed segments per block side: 2 x 2 x 35 x 34 x 4 = 19,040
    assert r["segments_directed"] == 19_040
    assert r["sites"] == 3 and len(r["worst_normal_kmh"]) == 3
    # every site is reachable: a square or a block in a street grid, 400 m of run-up around it;
    # the fastest built-in vehicle tops out at 180 km/h (data/vehicles.toml, M1-car)
    assert all(v is not None and 30.0 < v <= 180.0 for v in r["worst_normal_kmh"])
    assert r["edge_entries"] > 0 and r["entries"] >= r["edge_entries"]
    for label in ("parse + graph", "obstacles read", "drivable rasters", "ray search"):
        assert r["phases_s"][label] > 0.0
    assert set(r["phases_cpu_s"]) == set(r["phases_s"])
    assert r["wall_s"] >= r["phases_s"]["assessment (all)"]
    assert r["peak_rss_mb"] > 0.0
    ref = r["reference"]
    # one edge sample per site (every 1000th: sample 0) x 9 vehicles
    assert ref["sites"] == 3 and ref["samples"] == 3 and ref["vehicles"] == 9
    assert ref["max_diff_kmh"] < 0.05


def test_bad_option_is_one_clear_sentence() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src")
    done = subprocess.run(
        [sys.executable, str(BENCH / "offroad_city.py"), "--sites", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "--sites is 0; expected a positive whole number." in done.stderr


def test_buildings_leave_the_streets_and_some_squares_open(generator: Any, tmp_path: Path) -> None:
    from rempart.assess.engine.run import load_network

    path = str(tmp_path / "city.osm.pbf")
    n = generator.write_city(path, 20_000, seed=3, buildings=True)
    squares = generator.square_blocks(n, 3)
    network = load_network(path)
    areas = np.asarray(network.features.areas, dtype=object)
    # four footprints in every block that is not a square
    assert areas.size == 4 * int((~squares).sum())
    assert 0 < squares.sum() < squares.size
    # no footprint within 5 m of a street centre line: the widest street (primary, 9 m) is
    # 4.5 m each side of it, so every carriageway stays clear
    net = network.net
    lines = shapely.linestrings(
        [np.column_stack(network.net.link_points(k)[:2]) for k in range(net.n_links)]
    )
    tree = shapely.STRtree(lines)
    _, dist = tree.query_nearest(areas, return_distance=True, all_matches=False)
    assert dist.min() >= 5.0
    # the alleys between the footprints of a block are 4 m wide
    a, b = areas[0], areas[1]
    assert shapely.distance(a, b) == pytest.approx(generator.ALLEY_M, abs=0.1)
