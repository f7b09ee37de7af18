"""Road starts' turn check on the Helsinki demo (issue 10 item 2): the assessment of the
demo's four sites, every built-in vehicle, with the check off and on
(``turns.CHECK_TURNS``), alternated in one process; CPU time of the ray search
(``offroad.edge_threats`` as the run calls it) and of the whole assessment, best of
``--repeat``; the check's deterministic counts (``turns.STATS``).

Usage: ``python benchmarks/turns_helsinki.py [--repeat 3]``
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from rempart.assess.engine import assess_sites, load_network, turns
from rempart.assess.engine import run as run_mod
from rempart.demo.helsinki import demo_sites, helsinki_pbf_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    network = load_network(helsinki_pbf_path())
    sites = [(s.name, s.geometry) for s in demo_sites()]
    spent = [0.0]
    search = run_mod.edge_threats

    def timed(*a: Any, **k: Any) -> Any:
        c = time.process_time()
        out = search(*a, **k)
        spent[0] += time.process_time() - c
        return out

    run_mod.edge_threats = timed  # type: ignore[assignment]
    best: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for rep in range(args.repeat):
        for flag in (False, True) if rep % 2 == 0 else (True, False):
            turns.CHECK_TURNS = flag
            turns.STATS.update(dict.fromkeys(turns.STATS, 0))
            spent[0] = 0.0
            c = time.process_time()
            assess_sites(network, sites)
            best[flag].append((spent[0], time.process_time() - c))
    turns.CHECK_TURNS = True
    for flag in (False, True):
        ray = min(b[0] for b in best[flag])
        whole = min(b[1] for b in best[flag])
        print(
            f"check {'on ' if flag else 'off'}: ray search {ray:.2f} s CPU, assessment {whole:.2f} s"
        )
    print(f"counts (check on, last run): {turns.STATS}")


if __name__ == "__main__":
    main()
