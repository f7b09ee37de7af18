"""Same-process A/B of the road-graph speed engine: an earlier commit's engine against the
working tree's, on the synthetic city of ``assess_scale.py``.

The earlier engine (``src/rempart/assess/engine`` at ``--old``) is extracted with ``git archive``
into a temporary directory and imported as a separate package, so both run in one process on
the same machine load. Timed: the speed fields of all built-in vehicles (``vehicle_field``) and
the entries of 100 random sites (``site_entries``), each the best of ``--repeat`` alternating
runs, in process CPU time (``time.process_time``: less sensitive than wall time to other jobs
on a shared machine; numpy here runs single-threaded); also the answers are compared (how many entry speeds changed, by how much).

Usage: ``python benchmarks/engine_ab.py --old <commit> [--segments 100000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parent))
import assess_scale as bench  # noqa: E402

from rempart.assess.engine import entries as new_entries  # noqa: E402
from rempart.assess.engine import field as new_field  # noqa: E402
from rempart.assess.engine import graph as new_graph  # noqa: E402
from rempart.assess.engine.osm import read_osm  # noqa: E402
from rempart.assess.engine.vehicles import builtin_vehicles  # noqa: E402

ENGINE = "src/rempart/assess/engine"


def _old_engine(commit: str, into: str) -> str:
    """Extract the engine package at ``commit`` as ``<into>/oldengine``; returns its name."""
    root = Path(__file__).resolve().parent.parent
    data = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", commit, ENGINE],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    os.rename(os.path.join(into, ENGINE), os.path.join(into, "oldengine"))
    sys.path.insert(0, into)
    return "oldengine"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", required=True, help="commit of the earlier engine")
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"# machine: {platform.machine()} {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory() as d:
        name = _old_engine(args.old, d)
        old = {m: importlib.import_module(f"{name}.{m}") for m in ("graph", "field", "entries")}
        path = os.path.join(d, "city.osm.pbf")
        bench.write_city(path, args.segments)
        osm = read_osm(path)
        engines = {
            "old": (old["graph"], old["field"], old["entries"]),
            "new": (new_graph, new_field, new_entries),
        }
        nets = {k: g.build_network(osm) for k, (g, _, _) in engines.items()}
        net = nets["new"]
        rng = np.random.default_rng(7)
        span_x = net.node_x.max() - net.node_x.min()
        span_y = net.node_y.max() - net.node_y.min()
        xs = net.node_x.min() + rng.uniform(0.1, 0.9, args.sites) * span_x
        ys = net.node_y.min() + rng.uniform(0.1, 0.9, args.sites) * span_y
        sites = [
            box(x, y, x + rng.uniform(60, 150), y + rng.uniform(60, 150))
            for x, y in zip(xs, ys, strict=True)
        ]
        vehicles = builtin_vehicles()
        best = {k: [np.inf, np.inf] for k in engines}
        speeds: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            for k, (_, f, e) in engines.items():
                t0 = time.process_time()
                fields = [f.vehicle_field(nets[k], v) for v in vehicles]
                t1 = time.process_time()
                found = e.site_entries(nets[k], sites, fields)
                t2 = time.process_time()
                best[k][0] = min(best[k][0], t1 - t0)
                best[k][1] = min(best[k][1], t2 - t1)
                speeds[k] = [
                    ve.speed_kmh if ve.speed_kmh is not None else np.nan
                    for cr, fr in found
                    for entry in cr + fr
                    for ve in entry.vehicles
                ]
        print(
            f"directed segments {2 * net.n_segments:,}, links {net.n_links:,}, sites {args.sites}"
        )
        for k, (tf, te) in best.items():
            print(f"{k}: speed fields {tf:.3f} s, entries {te:.3f} s, total {tf + te:.3f} s (CPU)")
        print(
            f"new/old: fields {best['new'][0] / best['old'][0]:.2f}, "
            f"total {sum(best['new']) / sum(best['old']):.2f}"
        )
        a, b = np.array(speeds["old"]), np.array(speeds["new"])
        if a.shape == b.shape:
            diff = np.nan_to_num(b - a)
            print(
                f"entry speeds: {a.size}, changed {int(np.sum(np.abs(diff) > 0.05))}, "
                f"higher {int(np.sum(diff > 0.05))}, max drop {-diff.min():.1f} km/h"
            )
        else:
            print(f"entry counts differ: old {a.size}, new {b.size}")


if __name__ == "__main__":
    main()
