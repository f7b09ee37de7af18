"""The Dask runner: same answers as one process, retries of a killed worker, resume."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from rempart.assess.engine.vehicles import Vehicle
from rempart.screen.runner import run_tile, screen

from ._osmwrite import write_osm

DEG_PER_M = math.degrees(1.0 / 6_371_008.8)
# 72 km/h, 2 m/s2: 100 m run-up, 200 m halo (test_tiles); a small, fast network.
VEHICLES = [Vehicle("test-van", "N1", 2000.0, 72.0, 4.0, 2.0, ((0.0, 2.0), (72.0, 2.0)))]


def _region(tmp_path: Path) -> Path:
    """Three squares 20 km apart, each on a 400 m straight street with a 40 m side street."""
    nodes: list[tuple[int, float, float, dict[str, str]]] = []
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    for k in range(3):
        x0 = k * 20_000.0
        base = 100 * k
        pts = [(x0 + dx, 0.0) for dx in (0.0, 200.0, 400.0)] + [(x0 + 200.0, 40.0)]
        for i, (x, y) in enumerate(pts):
            tags = {"place": "square", "name": f"Square {k}"} if i == 1 else {}
            nodes.append((base + i + 1, x * DEG_PER_M, y * DEG_PER_M, tags))
        ways.append((base + 10, [base + 1, base + 2, base + 3], {"highway": "primary"}))
        ways.append((base + 11, [base + 2, base + 4], {"highway": "residential"}))
    return write_osm(tmp_path / "region.osm", nodes, ways)


def _table(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "ranked.csv").sort_values("site_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _region(tmp_path_factory.mktemp("region"))


def test_local_cluster_equals_single_process(region: Path, tmp_path: Path) -> None:
    one = screen(region, tmp_path / "one", workers=0, vehicles=VEHICLES, progress=False)
    two = screen(region, tmp_path / "two", workers=2, vehicles=VEHICLES, progress=False)
    assert one.n_sites == two.n_sites == 3
    a, b = _table(tmp_path / "one"), _table(tmp_path / "two")
    pd.testing.assert_frame_equal(a, b)
    # 200 m from rest at 2 m/s2 reaches 72 km/h (100 m run-up): top speed at every square.
    assert a["speed_kmh"].tolist() == pytest.approx([72.0] * 3)
    assert two.dashboard is not None


def test_killed_worker_is_retried(region: Path, tmp_path: Path) -> None:
    marker = tmp_path / "killed-once"

    def dying(osm: str, tile: object, out: str, vehicles: object) -> str:
        import os

        if not marker.exists():
            marker.write_text("x")
            os._exit(1)  # the worker process dies mid-task
        return run_tile(osm, tile, out, vehicles)  # type: ignore[arg-type]

    report = screen(
        region, tmp_path / "out", workers=2, vehicles=VEHICLES, progress=False, task=dying
    )
    assert marker.exists()
    assert report.n_sites == 3
    assert len(report.computed) == 3


def test_resume_recomputes_only_missing_tiles(region: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = screen(region, out, workers=0, vehicles=VEHICLES, progress=False)
    assert len(first.computed) == 3
    missing = sorted((out / "tiles").glob("*.parquet"))[1]
    missing.unlink()
    second = screen(region, out, workers=0, vehicles=VEHICLES, progress=False)
    assert second.computed == [missing.stem]
    assert len(second.skipped) == 2
    assert second.n_sites == 3
