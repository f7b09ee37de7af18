"""Benchmark of the screening's per-site columns and reports (rempart.screen.outputs).

The synthetic network is benchmarks/assess_scale.py's city (a 100 m grid) of about
``--segments`` directed segments; ``--sites`` random junctions get an 84 m x 84 m square outline
in the block to their north-east (8 m from the street centrelines, within reach). One
tile holding the whole network is assessed by ``run_tile`` twice in this process: (a) baseline,
the same sites as points (no outline: no exposed edge, no area, no crowd estimate), (b) with
their outlines. Reported: both times and their ratio, and the time and size of ranked.csv,
ranked.html and map.html for the sites, and for ``--report-sites`` rows (the results repeated).

Usage: ``python benchmarks/screen_outputs.py --segments 100000 --sites 200``
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rempart.settings")

from assess_scale import SPACING_M, _lonlat, write_city  # noqa: E402


def main() -> None:
    import django

    django.setup()
    from rempart.screen.candidates import Candidate
    from rempart.screen.outputs import rank, write_reports
    from rempart.screen.runner import run_tile
    from rempart.screen.tiles import Tile

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--report-sites", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        osm = os.path.join(tmp, "city.osm.pbf")
        n = write_city(osm, args.segments)
        rng = np.random.default_rng(1)
        ij = rng.choice((n - 1) * (n - 1), size=args.sites, replace=False)
        x0 = (ij % (n - 1)) * SPACING_M
        y0 = (ij // (n - 1)) * SPACING_M
        sites = []
        for k, (x, y) in enumerate(zip(x0, y0, strict=True)):
            xs = np.array([x + 8, x + 92, x + 92, x + 8, x + 8])
            ys = np.array([y + 8, y + 8, y + 92, y + 92, y + 8])
            lon, lat = _lonlat(xs, ys)
            plon, plat = _lonlat(np.array([x]), np.array([y]))
            ring = tuple((float(a), float(b)) for a, b in zip(lon, lat, strict=True))
            sites.append(Candidate(f"s{k}", "place=square", f"Square {k}", plon[0], plat[0], ring))
        box_lon, box_lat = _lonlat(
            np.array([-1e4, n * SPACING_M + 1e4]), np.array([-1e4, n * SPACING_M + 1e4])
        )
        points = [replace(s, ring=None) for s in sites]

        def timed(label: str, which: list[Candidate]) -> tuple[float, float]:
            """(wall s, CPU s of this process) of run_tile on one whole-network tile."""
            tile = Tile(label, tuple(which), box_lon[0], box_lat[0], box_lon[1], box_lat[1])
            t0, c0 = time.perf_counter(), time.process_time()
            run_tile(osm, tile, os.path.join(tmp, label))
            return time.perf_counter() - t0, time.process_time() - c0

        (t_points, c_points) = timed("points", points)
        (t_rings, c_rings) = timed("rings", sites)
        results = gpd.read_parquet(Path(tmp) / "rings" / "tiles" / "rings.parquet")
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}; grid {n}x{n}, ~{args.segments} directed "
            f"segments, {args.sites} sites"
        )
        print(
            f"run_tile, sites as points (baseline): {t_points:.2f} s wall, {c_points:.2f} s CPU; "
            f"with outlines (exposed edge, area, crowd): {t_rings:.2f} s wall, {c_rings:.2f} s "
            f"CPU; ratio {t_rings / t_points:.2f} wall, {c_rings / c_points:.2f} CPU"
        )
        print(
            f"exposed edge (m): median {results['exposed_edge_m'].median():.0f}, "
            f"max {results['exposed_edge_m'].max():.0f} of an outline of about 336 m"
        )
        for count in (len(results), args.report_sites):
            reps = -(-count // len(results))
            big = gpd.GeoDataFrame(
                pd.concat([results] * reps, ignore_index=True).head(count), crs="EPSG:4326"
            )
            big["site_id"] = [f"s{k}" for k in range(len(big))]
            out = Path(tmp) / f"reports{count}"
            out.mkdir()
            t0, c0 = time.perf_counter(), time.process_time()
            write_reports(rank(big), out, "fr")
            t_rep, c_rep = time.perf_counter() - t0, time.process_time() - c0
            sizes = ", ".join(
                f"{name} {(out / name).stat().st_size / 1e6:.1f} MB"
                for name in ("ranked.csv", "ranked.html", "map.html")
            )
            print(f"reports for {count} sites: {t_rep:.2f} s wall, {c_rep:.2f} s CPU ({sizes})")


if __name__ == "__main__":
    main()
