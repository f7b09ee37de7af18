"""Barrier lines, before and after, in one process (issue 10 item 5): every call of
:func:`rempart.assess.engine.plan_lines.barrier_lines` made by the assessment is recorded, then
replayed on this tree's ``plan_lines.py`` and on another version of that file (``--base``,
e.g. the branch point's, from a ``git worktree``), CPU time (``time.process_time``) best of
``--repeat``. Reported: calls, candidates, lines marched, seconds base and new, for the road
cut (the plan's calls) and the edge stretches' own lines apart.

Worlds: the Helsinki demo (four sites, every built-in vehicle), or with ``--city N`` the
benchmark city of ``benchmarks/offroad_city.py`` (seeded, ``--segments``, N sites).

Usage: ``python benchmarks/plan_lines_replay.py --base /tmp/base/src/rempart/assess/engine/plan_lines.py
[--city 8 --segments 60000] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rempart.assess.engine import plan, plan_lines, plan_stretches  # noqa: E402
from rempart.assess.engine.run import AssessOptions, assess_sites, load_network  # noqa: E402
from rempart.assess.engine.vehicles import builtin_vehicles  # noqa: E402

#: arguments of barrier_lines before ``origins`` (the base version has no more)
_N_ARGS = 19

Call = tuple[tuple[Any, ...], dict[str, Any]]


def record(args: argparse.Namespace) -> list[Call]:
    """Run the assessment, recording every barrier_lines call."""
    calls: list[Call] = []
    new = plan_lines.barrier_lines

    def rec(*a: Any, **k: Any) -> Any:
        calls.append((a, k))
        return new(*a, **k)

    plan.barrier_lines = rec  # type: ignore[assignment]
    plan_stretches.barrier_lines = rec  # type: ignore[assignment]
    try:
        if args.city:
            import assess_scale
            import offroad_city

            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "city.osm.pbf")
                n = assess_scale.write_city(path, args.segments, seed=args.seed, buildings=True)
                sites = offroad_city.pick_sites(n, args.city, args.seed)
                network = load_network(path)
                assess_sites(
                    network, sites, builtin_vehicles(), options=AssessOptions(offroad=True)
                )
        else:
            from rempart.demo.helsinki import demo_sites, helsinki_pbf_path

            network = load_network(helsinki_pbf_path())
            assess_sites(network, [(s.name, s.geometry) for s in demo_sites()])
    finally:
        plan.barrier_lines = new
        plan_stretches.barrier_lines = new
    return calls


def replay(fn: Any, calls: list[Call], base: bool, repeat: int) -> float:
    """Best CPU time (s) of replaying the calls on ``fn`` (``base``: without ``origins``)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for a, k in calls:
            if base:
                fn(*a[:_N_ARGS], **{key: v for key, v in k.items() if key != "origins"})
            else:
                fn(*a, **k)
        best = min(best, time.process_time() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="path of the other plan_lines.py")
    parser.add_argument("--city", type=int, default=0, help="sites of the benchmark city")
    parser.add_argument("--segments", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    name = "rempart.assess.engine.plan_lines_base"
    spec = importlib.util.spec_from_file_location(name, args.base)
    assert spec is not None and spec.loader is not None
    base = importlib.util.module_from_spec(spec)
    sys.modules[name] = base
    spec.loader.exec_module(base)
    calls = record(args)
    groups = {
        "road cut": [c for c in calls if "origins" not in c[1] and len(c[0]) <= _N_ARGS],
        "stretch lines": [c for c in calls if "origins" in c[1] or len(c[0]) > _N_ARGS],
        "all": calls,
    }
    for label, group in groups.items():
        marched = sum(plan_lines.barrier_lines(*a, **k).marched for a, k in group)
        t_base = replay(base.barrier_lines, group, True, args.repeat)
        t_new = replay(plan_lines.barrier_lines, group, False, args.repeat)
        candidates = sum(len(a[1]) for a, _ in group)
        print(
            f"{label:14s} calls {len(group):4d} candidates {candidates:6d} lines marched "
            f"{marched:6d}  base {t_base:.3f} s  new {t_new:.3f} s  ({t_new - t_base:+.3f} s)"
        )
    print(f"load average: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
