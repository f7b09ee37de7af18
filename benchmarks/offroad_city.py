"""Benchmark of the off-road model at city scale (issue 10): the synthetic city of
benchmarks/assess_scale.py with buildings, 100 sites, every built-in vehicle, against the
pure-Python reference of the same search in the same process.

Steps, one process: write the seeded city (about ``--segments`` directed segments, every block
but a few open squares filled with ``building=yes`` footprints) as .osm.pbf in a temporary
directory; pick ``--sites`` sites, half open squares and half whole building blocks (seeded);
run the full assessment (:func:`rempart.assess.engine.run.assess_sites`, off-road model on,
road entries, barrier plans) and each site's JSON shape (``SiteResult.to_dict``). Reported:
wall and CPU (process) time, peak RSS (``resource.getrusage``), and per-phase times (parse +
graph, obstacles read, speed fields, road entries, plans, plan coverage, drivable rasters,
road seeds, ray search, edge stretches, JSON shape), measured by wrapping the engine's
functions as the run calls them. Then the pure-Python reference
(:mod:`rempart.assess.engine._offroad_reference`) on every ``--every``-th edge sample of the
first ``--ref-sites`` sites against the vectorised search on the same samples: the time ratio
(vectorised time pro rata) and the largest difference of the normal impact speed (km/h).

``--turn-ab``: then, per site (drivable space and road seeds built once, not timed), the ray
search (:func:`rempart.assess.engine.offroad.edge_threats`, as the run calls it) with road
starts' turn checks off and on (``turns.CHECK_TURNS``), alternated, CPU time best of
``--repeat`` per site and summed; the checks' deterministic counts (``turns.STATS``: arcs,
raster lookups, quick accepts, rounds) and the edge samples whose normal speed the check
changes.

Usage: ``python benchmarks/offroad_city.py [--segments 1000000] [--sites 100] [--seed 1]
[--ref-sites 3] [--every 25] [--quick] [--profile FILE] [--turn-ab] [--repeat 3]``. ``--quick``: 20,000 segments,
3 sites. The last line printed is the result as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import assess_scale  # noqa: E402  (the generator, a sibling script)

from rempart.assess.engine import run as run_mod  # noqa: E402
from rempart.assess.engine import turns  # noqa: E402
from rempart.assess.engine._offroad_reference import compare, edge_speeds_reference  # noqa: E402
from rempart.assess.engine.drivable import drivable_space  # noqa: E402
from rempart.assess.engine.offroad import edge_samples, edge_threats, road_seeds  # noqa: E402
from rempart.assess.engine.run import AssessOptions, assess_sites, load_network  # noqa: E402
from rempart.assess.engine.sites import site_geometry  # noqa: E402
from rempart.assess.engine.vehicles import builtin_vehicles  # noqa: E402

#: Engine functions timed as phases: (name in run.py, phase label).
PHASES = (
    ("site_entries", "road entries"),
    ("plan_sites", "plans"),
    ("cover_stretches", "plan coverage"),
    ("drivable_space", "drivable rasters"),
    ("road_seeds", "road seeds"),
    ("edge_threats", "ray search"),
    ("frontage_at", "edge stretches"),
    ("edge_stretches", "edge stretches"),
    ("worst_approach", "edge stretches"),
    ("profile_dict", "edge stretches"),
)


def pick_sites(n: int, count: int, seed: int) -> list[tuple[str, dict[str, Any]]]:
    """``count`` sites (GeoJSON WGS84 polygons): open squares and whole building blocks in
    turn, drawn without replacement from the blocks away from the city's rim (the 400 m
    off-road radius stays inside the city where the city is large enough)."""
    squares = assess_scale.square_blocks(n, seed)
    rng = np.random.default_rng(seed + 30_011)
    rim = min(4, max((n - 2) // 4, 0))
    inner = np.zeros_like(squares)
    inner[rim : n - 1 - rim, rim : n - 1 - rim] = True
    pools = [np.argwhere(squares & inner), np.argwhere(~squares & inner)]
    if not pools[0].size:
        pools[0] = np.argwhere(squares)
    picks = [rng.permutation(p) for p in pools]
    sites = []
    for k in range(count):
        pool = picks[k % 2] if picks[k % 2].size else picks[(k + 1) % 2]
        bi, bj = pool[(k // 2) % len(pool)]
        x0, y0, x1, y1 = assess_scale.block_interior(int(bi), int(bj))
        lon, lat = assess_scale._lonlat(
            np.array([x0, x1, x1, x0, x0]), np.array([y0, y0, y1, y1, y0])
        )
        kind = "square" if squares[bi, bj] else "block"
        sites.append(
            (
                f"{kind} {bi}-{bj}",
                {
                    "type": "Polygon",
                    "coordinates": [[[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]],
                },
            )
        )
    return sites


@contextlib.contextmanager
def timed_phases(times: dict[str, float], cpu: dict[str, float]) -> Iterator[None]:
    """Wrap the engine functions of :data:`PHASES` in ``run``'s namespace, adding their wall
    time to ``times`` and their CPU (process) time to ``cpu``; restored on exit."""
    saved = {name: getattr(run_mod, name) for name, _ in PHASES}

    def wrap(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        def inner(*args: Any, **kwargs: Any) -> Any:
            t, c = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                times[label] = times.get(label, 0.0) + time.perf_counter() - t
                cpu[label] = cpu.get(label, 0.0) + time.process_time() - c

        return inner

    try:
        for name, label in PHASES:
            setattr(run_mod, name, wrap(saved[name], label))
        yield
    finally:
        for name, fn in saved.items():
            setattr(run_mod, name, fn)


def run(
    segments: int,
    n_sites: int,
    seed: int = 1,
    ref_sites: int = 3,
    every: int = 25,
    turn_ab: bool = False,
    repeat: int = 3,
) -> dict[str, Any]:
    """Run the benchmark (see the module docstring); returns the figures."""
    vehicles = builtin_vehicles()
    out: dict[str, Any] = {"segments_target": segments, "sites": n_sites, "seed": seed}
    with tempfile.TemporaryDirectory() as workdir:
        path = os.path.join(workdir, "city.osm.pbf")
        t = time.perf_counter()
        n = assess_scale.write_city(path, segments, seed=seed, buildings=True)
        out["write_s"] = time.perf_counter() - t
        sites = pick_sites(n, n_sites, seed)
        phases: dict[str, float] = {}
        cpu: dict[str, float] = {}

        @contextlib.contextmanager
        def phase(label: str) -> Iterator[None]:
            t, c = time.perf_counter(), time.process_time()
            yield
            phases[label] = time.perf_counter() - t
            cpu[label] = time.process_time() - c

        w0, c0 = time.perf_counter(), time.process_time()
        with phase("parse + graph"):
            network = load_network(path)
        with phase("obstacles read"):
            features = network.features
        with phase("speed fields"):
            network.fields(vehicles)
        with timed_phases(phases, cpu), phase("assessment (all)"):
            results = assess_sites(network, sites, vehicles, options=AssessOptions(offroad=True))
        with phase("JSON shape"):
            shapes = [r.to_dict() for r in results]
        out["wall_s"] = time.perf_counter() - w0
        out["cpu_s"] = time.process_time() - c0
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        out["phases_s"] = phases
        out["phases_cpu_s"] = cpu
        out["segments_directed"] = 2 * network.net.n_segments
        out["buildings"] = len(features.areas)
        out["edge_entries"] = sum(
            1 for s in shapes for e in s.get("entries", []) if e.get("kind") == "edge"
        )
        out["entries"] = sum(len(s.get("entries", [])) for s in shapes)
        out["worst_normal_kmh"] = [
            (s.get("worst_approach") or {}).get("normal_speed_kmh") for s in shapes
        ]
        # the pure-Python reference of the same search, same process
        net = network.net
        fields = network.fields(vehicles)
        ref_t = fast_t = 0.0
        worst = 0.0
        n_ref = 0
        for name, geom in sites[:ref_sites]:
            site = site_geometry(name, geom, net)
            excluded = network.grade_separated | network.outline_links(site)
            drv = drivable_space(site, network.features, network.feature_trees)
            seeds = road_seeds(net, fields, drv, excluded)
            samples = edge_samples(site)
            t = time.perf_counter()
            threats = edge_threats(
                samples, drv, seeds, fields, bends=False
            )  # straight, as the reference
            fast = time.perf_counter() - t
            idx = list(range(0, samples.x.size, every))
            t = time.perf_counter()
            ref = edge_speeds_reference(samples, idx, drv, seeds, fields)
            ref_t += time.perf_counter() - t
            fast_t += fast * len(idx) / samples.x.size
            worst = max(worst, compare([th.normal_kmh for th in threats], ref, idx))
            n_ref += len(idx)
        out["reference"] = {
            "sites": min(ref_sites, len(sites)),
            "samples": n_ref,
            "vehicles": len(fields),
            "reference_s": ref_t,
            "vectorised_s_pro_rata": fast_t,
            "ratio": ref_t / max(fast_t, 1e-9),
            "max_diff_kmh": worst,
        }
        if turn_ab:
            out["turn_ab"] = turn_check_ab(network, sites, vehicles, repeat)
    out["load_average"] = os.getloadavg()
    return out


def turn_check_ab(
    network: Any, sites: list[tuple[str, dict[str, Any]]], vehicles: Any, repeat: int
) -> dict[str, Any]:
    """Ray search CPU time (s) of every site with the turn check off and on (best of
    ``repeat`` per site, alternated), the check's counts and the answers it changes."""
    net = network.net
    fields = network.fields(vehicles)
    opts = AssessOptions(offroad=True)
    best = {False: 0.0, True: 0.0}
    stats = dict.fromkeys(turns.STATS, 0)
    changed = 0
    samples_n = 0
    lower = higher = 0.0
    for name, geom in sites:
        site = site_geometry(name, geom, net)
        excluded = network.grade_separated | network.outline_links(site)
        drv = drivable_space(site, network.features, network.feature_trees)
        seeds = road_seeds(net, fields, drv, excluded)
        samples = edge_samples(site)
        cpu = {False: [], True: []}
        normal: dict[bool, Any] = {}
        for rep in range(repeat):
            for flag in (False, True) if rep % 2 == 0 else (True, False):
                turns.CHECK_TURNS = flag
                turns.STATS.update(dict.fromkeys(turns.STATS, 0))
                c = time.process_time()
                th = edge_threats(samples, drv, seeds, fields, radius_m=opts.offroad_radius_m)
                cpu[flag].append(time.process_time() - c)
                if rep == 0:
                    normal[flag] = np.vstack([t.normal_kmh for t in th])
                    if flag:
                        for k, v in turns.STATS.items():
                            stats[k] += v
        turns.CHECK_TURNS = True
        for flag in (False, True):
            best[flag] += min(cpu[flag])
        a, b = normal[False], normal[True]
        both = np.isfinite(a) & np.isfinite(b)
        d = np.where(both, b - a, 0.0)
        changed += int(np.sum(np.abs(d) > 0.05) + np.sum(np.isfinite(a) != np.isfinite(b)))
        samples_n += int(a.size)
        lower = min(lower, float(d.min(initial=0.0)))
        higher = max(higher, float(d.max(initial=0.0)))
    return {
        "ray_search_cpu_s_unchecked": best[False],
        "ray_search_cpu_s_checked": best[True],
        "added_cpu_s": best[True] - best[False],
        "counts": stats,
        "sample_vehicles": samples_n,
        "changed_over_0_05_kmh": changed,
        "largest_drop_kmh": lower,
        "largest_rise_kmh": higher,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ref-sites", type=int, default=3)
    parser.add_argument("--every", type=int, default=25, help="reference on every N-th sample")
    parser.add_argument("--quick", action="store_true", help="20,000 segments, 3 sites")
    parser.add_argument("--profile", help="write a cProfile of the run to this file")
    parser.add_argument("--turn-ab", action="store_true", help="ray search with turn checks off/on")
    parser.add_argument("--repeat", type=int, default=3, help="--turn-ab: best of this many")
    args = parser.parse_args(argv)
    if args.quick:
        args.segments, args.sites = 20_000, 3
    for name, value in (("--segments", args.segments), ("--sites", args.sites)):
        if value < 1:
            parser.error(f"{name} is {value}; expected a positive whole number.")
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    run_args = (
        args.segments,
        args.sites,
        args.seed,
        args.ref_sites,
        args.every,
        args.turn_ab,
        args.repeat,
    )
    if args.profile:
        import cProfile

        prof = cProfile.Profile()
        r = prof.runcall(run, *run_args)
        prof.dump_stats(args.profile)
    else:
        r = run(*run_args)
    print(
        f"city: {r['segments_directed']:,} directed segments, {r['buildings']:,} buildings, "
        f"{r['sites']} sites (written in {r['write_s']:.1f} s, not counted)"
    )
    print(
        f"parse to results: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, "
        f"peak RSS {r['peak_rss_mb']:.0f} MB"
    )
    print(f"  {'phase':20s} {'wall':>9s} {'CPU':>9s}")
    for label, seconds in r["phases_s"].items():
        print(f"  {label:20s} {seconds:7.2f} s {r['phases_cpu_s'][label]:7.2f} s")
    ref = r["reference"]
    print(
        f"reference: {ref['samples']} edge samples of {ref['sites']} sites x {ref['vehicles']} "
        f"vehicles: {ref['reference_s']:.2f} s vs {ref['vectorised_s_pro_rata']:.4f} s "
        f"vectorised (pro rata), {ref['ratio']:.0f}x; largest difference "
        f"{ref['max_diff_kmh']:.3f} km/h"
    )
    if "turn_ab" in r:
        ab = r["turn_ab"]
        print(
            f"ray search, turn check off / on (CPU, best of {args.repeat} per site): "
            f"{ab['ray_search_cpu_s_unchecked']:.2f} s / {ab['ray_search_cpu_s_checked']:.2f} s "
            f"(+{ab['added_cpu_s']:.2f} s); counts {ab['counts']}; "
            f"{ab['changed_over_0_05_kmh']} of {ab['sample_vehicles']} sample-vehicles changed, "
            f"{ab['largest_drop_kmh']:.1f} / +{ab['largest_rise_kmh']:.1f} km/h"
        )
    print(f"load average at the end: {r['load_average']}")
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
