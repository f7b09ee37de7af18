"""Benchmark of country-scale screening (rempart.screen) on a synthetic country (issue 16).

The synthetic country: a square grid of junctions 100 m apart, four vertices per block (every
third street gently curved), every street two-way, cut into OSM ways of ``--way-blocks`` blocks
(real OSM road ways are short: they break at junctions and tag changes; one way per street
across the whole country would put every street crossing a tile into that tile whole). Tags as
in benchmarks/assess_scale.py (primary avenues every fifth street; residential, tertiary,
living_street or service otherwise). About ``--segments`` directed segments: 16 n (n - 1) for
n x n junctions. ``--sites`` site points at random junctions (seed 1). The extract is generated
once into ``--cache`` and reused by later runs of the same size.

Steps, all timed with ``time.perf_counter``:

1. the one-pass cut of every tile (``rempart.screen.extract.cut_tiles``) in a child process,
   with its peak RSS; for comparison one tile cut with the per-tile two-pass cut
   (``extract_tile``, what every task did before), extrapolated to all tiles;
2. the tiles on a dask LocalCluster of ``--workers`` processes (``--memory-limit`` each);
   peak RSS per worker from ``resource.getrusage`` in each task;
3. one whole-network run (no boundary seeded) on a centred ``--subset-segments`` square of
   the country, against the tiled answers: the difference must be 0 at every interior site
   (at least the halo inside the subset; every site is at least the halo inside its tile box);
4. the same tiles in one process in sequence (``workers=0``): ratio sequential/cluster and
   identical answers.

Usage: ``PYTHONPATH=src python -u benchmarks/screen_country.py --segments 10000000 --sites 1000
--workers 2 --subset-segments 1000000``
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import osmium
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the reports (ranked.html, map.html) are written in words through Django's translations
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rempart.settings")

from assess_scale import SPACING_M, VERTICES_PER_BLOCK, _lonlat  # noqa: E402

from rempart.screen.candidates import Candidate  # noqa: E402
from rempart.screen.extract import cut_tiles, extract_tile  # noqa: E402
from rempart.screen.runner import EXTRACTS_DIR, run_tile, screen  # noqa: E402
from rempart.screen.tiles import HALO_M, Tile, make_tiles  # noqa: E402

KINDS = ["residential", "tertiary", "living_street", "service"]


def write_country(path: Path, n: int, way_blocks: int, seed: int = 1) -> None:
    """Write the n x n synthetic country (see the module) to ``path`` (.osm.pbf).

    Node ids: junction (i, j) is 1 + i n + j; then each street's in-between vertices. All nodes
    are written first (ids ascending), then the ways, as in a sorted OSM extract.
    """
    k = VERTICES_PER_BLOCK
    rng = np.random.default_rng(seed)
    tmp = path.with_name(path.name + ".part.osm.pbf")
    writer = osmium.SimpleWriter(str(tmp))
    jx, jy = np.meshgrid(np.arange(n) * SPACING_M, np.arange(n) * SPACING_M)
    lon, lat = _lonlat(jx.ravel(), jy.ravel())
    for nid, a, b in zip(range(1, n * n + 1), lon.tolist(), lat.tolist(), strict=True):
        writer.add_node(osmium.osm.mutable.Node(id=nid, location=(a, b)))
    next_id = n * n + 1
    t = np.arange(1, k) / k
    streets: list[tuple[bool, int, np.ndarray]] = []
    for horizontal in (True, False):
        for i in range(n):
            amp = 12.0 if i % 3 == 1 else 0.0
            along = ((np.arange(n - 1)[:, None] + t[None, :]) * SPACING_M).ravel()
            off = np.tile(amp * np.sin(np.pi * t), n - 1) + i * SPACING_M
            x, y = (along, off) if horizontal else (off, along)
            a, b = _lonlat(x, y)
            mids = np.arange(next_id, next_id + a.size, dtype=np.int64)
            for nid, u, v in zip(mids.tolist(), a.tolist(), b.tolist(), strict=True):
                writer.add_node(osmium.osm.mutable.Node(id=nid, location=(u, v)))
            next_id += a.size
            streets.append((horizontal, i, mids.reshape(n - 1, k - 1)))
    way_id = 1
    for horizontal, i, mids in streets:
        junctions = (1 + i * n + np.arange(n)) if horizontal else (1 + np.arange(n) * n + i)
        avenue = i % 5 == 0
        for j0 in range(0, n - 1, way_blocks):
            j1 = min(j0 + way_blocks, n - 1)
            refs: list[int] = []
            for j in range(j0, j1):
                refs.append(int(junctions[j]))
                refs.extend(int(m) for m in mids[j])
            refs.append(int(junctions[j1]))
            tags = {
                "highway": "primary" if avenue else str(rng.choice(KINDS)),
                "name": f"{'Avenue' if avenue else 'Street'} {'H' if horizontal else 'V'}{i}",
            }
            if not avenue and rng.random() < 0.3:
                tags["width"] = f"{rng.uniform(2.2, 9.0):.1f}"
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=tags))
            way_id += 1
    writer.close()
    tmp.replace(path)


def country(cache: Path, segments: int, way_blocks: int) -> tuple[Path, int, float]:
    """The cached synthetic extract: (path, n, seconds spent generating it now, 0 if cached)."""
    n = max(4, int(round(0.5 + math.sqrt(0.25 + segments / 16.0))))
    path = cache / f"country-n{n}-w{way_blocks}.osm.pbf"
    if path.is_file():
        return path, n, 0.0
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    write_country(path, n, way_blocks)
    return path, n, time.perf_counter() - t0


def _cut_child(osm: str, tiles: list[Tile], out: str, queue: multiprocessing.Queue) -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    counts = cut_tiles(osm, tiles, out)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    queue.put((time.perf_counter() - t0, time.process_time() - c0, rss, sum(counts.values())))


def measured_tile(osm: str, tile: Tile, out: str, vehicles: object) -> str:
    """run_tile, then record this worker's peak RSS (MiB) and the tile's time."""
    t0, c0 = time.perf_counter(), time.process_time()
    path = run_tile(osm, tile, out, vehicles)  # type: ignore[arg-type]
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    stats = Path(out) / "stats"
    stats.mkdir(exist_ok=True)
    (stats / f"{tile.tile_id}.json").write_text(
        json.dumps({"pid": os.getpid(), "rss_mib": rss_mib, "seconds": seconds, "cpu": cpu})
    )
    return path


def directed_segments(path: Path) -> int:
    """Directed segments of an extract whose ways are all two-way: 2 x (nodes - 1) per way."""
    return sum(
        2 * (len(w.nodes) - 1)  # type: ignore[union-attr]
        for w in osmium.FileProcessor(str(path), osmium.osm.WAY)
    )


def main() -> None:
    import django

    django.setup()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="4GiB")
    parser.add_argument("--way-blocks", type=int, default=2, help="blocks per OSM way (2)")
    parser.add_argument("--subset-segments", type=int, default=1_000_000)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "rempart-screen"))
    parser.add_argument("--no-whole", action="store_true", help="skip the whole-network run")
    parser.add_argument("--no-sequential", action="store_true", help="skip the one-process run")
    parser.add_argument("--no-cluster", action="store_true", help="skip the LocalCluster run")
    parser.add_argument(
        "--cut-from", help="reuse the tile extracts of an earlier run's cut/ directory"
    )
    parser.add_argument(
        "--compare-with", help="ranked.csv of an earlier cluster run to compare answers with"
    )
    args = parser.parse_args()
    cache = Path(args.cache)
    osm, n, t_gen = country(cache, args.segments, args.way_blocks)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"synthetic country: {n}x{n} junctions, {16 * n * (n - 1)} directed segments, "
        f"{osm.stat().st_size / 2**20:.0f} MiB .osm.pbf "
        + (f"generated in {t_gen:.1f} s" if t_gen else "(cached)")
    )
    rng = np.random.default_rng(1)
    ij = rng.choice(n * n, size=min(args.sites, n * n), replace=False)
    lon, lat = _lonlat((ij % n) * SPACING_M, (ij // n) * SPACING_M)
    sites = [
        Candidate(f"s{k}", "synthetic", "", float(a), float(b))
        for k, (a, b) in enumerate(zip(lon, lat, strict=True))
    ]
    tiles = make_tiles(sites)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=cache))
    try:
        # 1. one-pass cut in a child process (its own peak RSS)
        cut_dir = Path(args.cut_from) if args.cut_from else work / "cut"
        if args.cut_from:
            t_cut, cpu_cut, rss_cut, n_ways = math.nan, math.nan, math.nan, -1
        else:
            queue: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()
            proc = multiprocessing.get_context("spawn").Process(
                target=_cut_child, args=(str(osm), tiles, str(cut_dir), queue)
            )
            proc.start()
            t_cut, cpu_cut, rss_cut, n_ways = queue.get()
            proc.join()
        seg_tiles = [directed_segments(p) for p in sorted(cut_dir.glob("*.osm.pbf"))]
        print(
            f"tiles: {len(tiles)}; sites: {len(sites)}; one-pass cut of all tiles: {t_cut:.1f} s "
            f"({cpu_cut:.1f} CPU s), "
            f"peak RSS {rss_cut:.0f} MiB, {n_ways} ways written; directed segments per tile: "
            f"median {int(np.median(seg_tiles))}, max {max(seg_tiles)}, "
            f"sum {sum(seg_tiles)}"
        )
        if not args.cut_from:
            t0 = time.perf_counter()
            extract_tile(osm, tiles[len(tiles) // 2], work / "one.osm.pbf")
            t_one = time.perf_counter() - t0
            print(
                f"per-tile two-pass cut (before): {t_one:.1f} s for one tile, so about "
                f"{t_one * len(tiles):.0f} s for {len(tiles)} tiles (extrapolated); "
                f"ratio {t_one * len(tiles) / t_cut:.0f}x"
            )
        for name in ("seq", "par"):
            shutil.copytree(cut_dir, work / name / EXTRACTS_DIR, copy_function=os.link)
        t_par = None
        if not args.no_cluster:
            # 2. LocalCluster
            t0 = time.perf_counter()
            screen(
                osm,
                work / "par",
                sites=sites,
                workers=args.workers,
                memory_limit=args.memory_limit,
                progress=False,
                task=measured_tile,
            )
            t_par = time.perf_counter() - t0
            per = [json.loads(p.read_text()) for p in (work / "par" / "stats").glob("*.json")]
            rss: dict[int, float] = {}
            for s in per:
                rss[s["pid"]] = max(rss.get(s["pid"], 0.0), s["rss_mib"])
            print(
                f"LocalCluster {args.workers} workers ({args.memory_limit} each): {t_par:.1f} s "
                f"(cluster start included); peak RSS per worker "
                f"{', '.join(f'{v:.0f}' for v in sorted(rss.values()))} MiB; "
                f"tiles per worker {[sum(s['pid'] == p for s in per) for p in sorted(rss)]}; "
                f"per tile median {np.median([s['seconds'] for s in per]):.2f} s; CPU s per tile "
                f"median {np.median([s['cpu'] for s in per]):.2f}, sum "
                f"{sum(s['cpu'] for s in per):.0f}; load average {os.getloadavg()[0]:.1f}"
            )
            b = pd.read_csv(work / "par" / "ranked.csv").set_index("site_id")
            if not args.no_whole:
                # 3. whole network on a centred subset of about --subset-segments
                m = min(n, int(round(0.5 + math.sqrt(0.25 + args.subset_segments / 16.0))))
                lo = (n - m) // 2
                x_lo, x_hi = (lo - 0.5) * SPACING_M, (lo + m - 0.5) * SPACING_M
                box_lon, box_lat = _lonlat(np.array([x_lo, x_hi]), np.array([x_lo, x_hi]))
                sub_tile = Tile("subset", (), box_lon[0], box_lat[0], box_lon[1], box_lat[1])
                sub = work / "subset.osm.pbf"
                extract_tile(osm, sub_tile, sub)
                xs = (ij % n) * SPACING_M
                ys = (ij // n) * SPACING_M
                inside = (xs >= x_lo) & (xs <= x_hi) & (ys >= x_lo) & (ys <= x_hi)
                interior = (
                    np.minimum.reduce([xs - x_lo, x_hi - xs, ys - x_lo, x_hi - ys])
                ) >= HALO_M
                sub_sites = tuple(s for s, k in zip(sites, inside, strict=True) if k)
                far_lon, far_lat = _lonlat(np.array([-1e5, 1e7]), np.array([-1e5, 1e7]))
                whole = Tile("whole", sub_sites, far_lon[0], far_lat[0], far_lon[1], far_lat[1])
                t0 = time.perf_counter()
                run_tile(str(sub), whole, str(work / "whole"))
                t_whole = time.perf_counter() - t0
                c_whole = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
                w = pd.read_parquet(work / "whole" / "tiles" / "whole.parquet").set_index("site_id")
                diff = b.loc[w.index, "speed_kmh"] - w["speed_kmh"]
                ids_int = [s.site_id for s, k in zip(sites, interior, strict=True) if k]
                d_int = diff.loc[ids_int]
                print(
                    f"whole-network run on a {m}x{m} subset ({directed_segments(sub)} directed "
                    f"segments, {len(sub_sites)} sites): {t_whole:.1f} s; peak RSS of this process "
                    f"{c_whole:.0f} MiB"
                )
                print(
                    f"tiled - whole speed (km/h) at the {len(ids_int)} interior sites: max |diff| "
                    f"{d_int.abs().max() if len(d_int) else 0.0:.6f}, sites differing "
                    f"{int((d_int.abs() > 1e-6).sum())}; at all {len(diff)} subset sites: min "
                    f"{diff.min():.6f} (never negative: the tile seed is conservative), max "
                    f"{diff.max():.6f}"
                )
        # 4. one process, in sequence (last: the longest step)
        t_seq = None
        if not args.no_sequential:
            t0 = time.perf_counter()
            screen(osm, work / "seq", sites=sites, workers=0, progress=False, task=measured_tile)
            t_seq = time.perf_counter() - t0
            per = [json.loads(p.read_text()) for p in (work / "seq" / "stats").glob("*.json")]
            secs = [s["seconds"] for s in per]
            print(
                f"sequential one process: {t_seq:.1f} s; per tile median {np.median(secs):.2f} s, "
                f"max {max(secs):.2f} s; CPU s per tile median "
                f"{np.median([s['cpu'] for s in per]):.2f}, sum {sum(s['cpu'] for s in per):.0f}; "
                f"load average {os.getloadavg()[0]:.1f}"
            )
        if t_seq is not None and args.compare_with:
            a = pd.read_csv(work / "seq" / "ranked.csv").set_index("site_id")
            c = pd.read_csv(args.compare_with).set_index("site_id")
            same = bool((a["speed_kmh"] == c.loc[a.index, "speed_kmh"]).all())
            print(f"identical answers to {args.compare_with}: {same}")
        if t_seq is not None and t_par is not None:
            a = pd.read_csv(work / "seq" / "ranked.csv").set_index("site_id")
            same = bool((a["speed_kmh"] == b.loc[a.index, "speed_kmh"]).all())
            print(
                f"ratio sequential/cluster {t_seq / t_par:.2f}; with the cut, "
                f"{(t_cut + t_seq) / (t_cut + t_par):.2f}; identical answers: {same}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
