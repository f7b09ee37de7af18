"""Benchmark of country-scale screening (rempart.screen) on a synthetic country.

The synthetic network is benchmarks/assess_scale.py's city (a 100 m grid, four vertices per
block) of about ``--segments`` directed segments, written as .osm.pbf; ``--sites`` site points
are drawn at random grid junctions (seed 1). The same tiles are screened (a) in one process in
sequence (``workers=0``) and (b) on a dask LocalCluster of ``--workers`` processes; reported:
wall times, their ratio, peak RSS per worker process (``resource.getrusage`` in each task),
and the difference between the tiled answers and one whole-network run (all sites in one tile
whose box holds the whole network, so no boundary is seeded). Every site of a tile lies at
least the halo inside its tile's box, so every site is interior and the difference must be 0.

Usage: ``python benchmarks/screen_country.py --segments 1000000 --sites 100 --workers 2``
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from assess_scale import SPACING_M, _lonlat, write_city  # noqa: E402

from rempart.screen.candidates import Candidate  # noqa: E402
from rempart.screen.runner import run_tile, screen  # noqa: E402
from rempart.screen.tiles import Tile  # noqa: E402


def measured_tile(osm: str, tile: Tile, out: str, vehicles: object) -> str:
    """run_tile, then record this worker's peak RSS (MiB) next to the tile's result."""
    path = run_tile(osm, tile, out, vehicles)  # type: ignore[arg-type]
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    rss_dir = Path(out) / "rss"
    rss_dir.mkdir(exist_ok=True)
    (rss_dir / f"{os.getpid()}.txt").write_text(f"{rss_mib:.0f}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-whole", action="store_true", help="skip the whole-network run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        osm = os.path.join(tmp, "country.osm.pbf")
        t0 = time.perf_counter()
        n = write_city(osm, args.segments)
        print(
            f"synthetic country: {n}x{n} junctions, ~{args.segments} directed segments, "
            f"written in {time.perf_counter() - t0:.1f} s"
        )
        rng = np.random.default_rng(1)
        ij = rng.choice(n * n, size=min(args.sites, n * n), replace=False)
        lon, lat = _lonlat((ij % n) * SPACING_M, (ij // n) * SPACING_M)
        sites = [
            Candidate(f"s{k}", "synthetic", "", float(a), float(b))
            for k, (a, b) in enumerate(zip(lon, lat, strict=True))
        ]
        t0 = time.perf_counter()
        seq = screen(osm, os.path.join(tmp, "seq"), sites=sites, workers=0, progress=False)
        t_seq = time.perf_counter() - t0
        t0 = time.perf_counter()
        screen(
            osm,
            os.path.join(tmp, "par"),
            sites=sites,
            workers=args.workers,
            progress=False,
            task=measured_tile,
        )
        t_par = time.perf_counter() - t0
        rss = [int(p.read_text()) for p in (Path(tmp) / "par" / "rss").glob("*.txt")]
        a = pd.read_csv(Path(tmp) / "seq" / "ranked.csv").set_index("site_id")
        b = pd.read_csv(Path(tmp) / "par" / "ranked.csv").set_index("site_id")
        same = bool((a["speed_kmh"] == b.loc[a.index, "speed_kmh"]).all())
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        print(f"tiles: {len(seq.computed)}; sites: {seq.n_sites}")
        print(f"sequential one process: {t_seq:.1f} s")
        print(
            f"LocalCluster {args.workers} workers: {t_par:.1f} s; ratio sequential/cluster "
            f"{t_seq / t_par:.2f}; peak RSS per worker {rss} MiB; identical answers: {same}"
        )
        if args.no_whole:
            return
        lon_all, lat_all = _lonlat(
            np.array([-1e4, n * SPACING_M + 1e4]), np.array([-1e4, n * SPACING_M + 1e4])
        )
        whole = Tile("whole", tuple(sites), lon_all[0], lat_all[0], lon_all[1], lat_all[1])
        t0 = time.perf_counter()
        run_tile(osm, whole, os.path.join(tmp, "whole"))
        t_whole = time.perf_counter() - t0
        w = pd.read_parquet(Path(tmp) / "whole" / "tiles" / "whole.parquet").set_index("site_id")
        diff = a["speed_kmh"] - w.loc[a.index, "speed_kmh"]
        print(f"whole network, one process: {t_whole:.1f} s")
        print(
            f"tiled - whole speed (km/h): min {diff.min():.6f}, max {diff.max():.6f}; "
            f"sites differing: {(diff.abs() > 1e-6).sum()} of {len(diff)}"
        )


if __name__ == "__main__":
    main()
