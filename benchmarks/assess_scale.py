"""Scale benchmark of the vehicle-approach assessment engine, with the naive baseline.

Synthetic cities (a grid with wide avenues every fifth street, gently curved streets drawn with
several vertices, varied widths) of about 10k, 100k and 1M directed segments are written as
.osm.pbf with osmium's writer into a temporary directory, then timed: parsing, graph build,
speed field of all built-in vehicles, entries of 100 sites (all at once), plan of the sites; peak memory from
``resource.getrusage`` (max RSS of the process). The Helsinki demo (parse to HTML) is timed too.

Baseline (the method of existing open tools such as BarricadiX): from each entry go back
along the straightest continuation to the last turn sharper than 30 degrees, start from rest
there, ``v = sqrt(2 a s)`` with the vehicle's starting acceleration, capped at top speed;
walked on a networkx graph. Reported: speed-up of the engine's entry speeds over it (speed
field + entries, and with the engine's graph build added, since the baseline's time includes
building its graph) and how often and by how much it under-estimates. On the first size the
vectorised entries are checked against the per-site reference loops.

Usage: ``python benchmarks/assess_scale.py [--sizes 10k,100k,1m] [--sites 100]``
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import sys
import tempfile
import time

import networkx as nx
import numpy as np
import osmium
from shapely.geometry import box

from rempart.assess.engine._reference import (
    crossing_entries_reference,
    frontage_entries_reference,
)
from rempart.assess.engine.entries import entry_to_dict, site_entries
from rempart.assess.engine.field import vehicle_field
from rempart.assess.engine.graph import build_network
from rempart.assess.engine.osm import read_osm
from rempart.assess.engine.plan import default_costs, plan_sites
from rempart.assess.engine.vehicles import builtin_vehicles

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
SPACING_M = 100.0
VERTICES_PER_BLOCK = 4
LAT0, LON0 = 60.17, 24.94


def _lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return LON0 + x / (111_320.0 * math.cos(math.radians(LAT0))), LAT0 + y / 111_320.0


#: Setback (m) of building footprints from a straight street's centre line: half the widest
#: carriageway (primary, 9 m, graph.DEFAULT widths) plus a 5.5 m pavement.
SETBACK_M = 10.0
#: Extra setback (m) on the side of a curved street (its bends reach 12 m into the block).
CURVE_SETBACK_M = 14.0
#: Gap (m) between the buildings of one block: a 4 m alley, wide enough for a car (1.8 m),
#: not for the 2.5 m trucks with their clearance (drivable.py: clearance >= half the width).
ALLEY_M = 4.0
#: Share of the blocks left open as squares (no buildings).
SQUARE_SHARE = 0.05


def city_size(directed_segments: int) -> int:
    """Junctions per side of the grid for about ``directed_segments`` directed segments."""
    return max(4, int(round(math.sqrt(directed_segments / (4 * VERTICES_PER_BLOCK)))))


def block_interior(n_i: int, n_j: int) -> tuple[float, float, float, float]:
    """Built-up rectangle ``(x0, y0, x1, y1)`` (m, the generator's planar frame) of the block
    between streets ``n_i``/``n_i + 1`` (south/north) and ``n_j``/``n_j + 1`` (west/east),
    set back from the streets (:data:`SETBACK_M`, :data:`CURVE_SETBACK_M`): curved streets
    (every third) bend north/east into the block beyond them."""
    south = SETBACK_M + (CURVE_SETBACK_M if n_i % 3 == 1 else 0.0)
    west = SETBACK_M + (CURVE_SETBACK_M if n_j % 3 == 1 else 0.0)
    return (
        n_j * SPACING_M + west,
        n_i * SPACING_M + south,
        (n_j + 1) * SPACING_M - SETBACK_M,
        (n_i + 1) * SPACING_M - SETBACK_M,
    )


def square_blocks(n: int, seed: int = 1) -> np.ndarray:
    """(n - 1, n - 1) bool: the blocks left open as squares (:data:`SQUARE_SHARE`), seeded
    apart from the street tags so that the street network does not depend on the buildings."""
    rng = np.random.default_rng(seed + 10_007)
    return rng.random((n - 1, n - 1)) < SQUARE_SHARE


def write_city(path: str, directed_segments: int, seed: int = 1, buildings: bool = False) -> int:
    """Write a synthetic city with about ``directed_segments`` directed segments; returns n.

    With ``buildings``, every block but the squares of :func:`square_blocks` is filled with
    four ``building=yes`` closed ways (2 x 2 footprints of :func:`block_interior` split by
    :data:`ALLEY_M` alleys, corners jittered by up to 2 m), which the off-road model reads
    as obstacles (engine/drivable.py).

    Every node is written before every way (nodes, then ways, each in id order), as in an OSM
    extract: osmium's writer starts a new PBF block at every switch between nodes and ways, so
    writing each building's nodes next to its way gave one block per object (472,000 blocks
    for the 1M-segment city, 42 MB, 25 times slower to decode than the 2.7 MB sorted file).
    """
    k = VERTICES_PER_BLOCK
    n = city_size(directed_segments)
    rng = np.random.default_rng(seed)
    writer = osmium.SimpleWriter(path)
    # (id, node refs, tags) of every way, written after all the nodes
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    node_id = 1
    grid_ids = np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        for j in range(n):
            lon, lat = _lonlat(np.array([j * SPACING_M]), np.array([i * SPACING_M]))
            writer.add_node(
                osmium.osm.mutable.Node(id=node_id, location=(float(lon[0]), float(lat[0])))
            )
            grid_ids[i, j] = node_id
            node_id += 1
    way_id = 1
    for horizontal in (True, False):
        for i in range(n):
            refs = []
            curvy = i % 3 == 1  # every third street bends between junctions
            amp = 12.0 if curvy else 0.0
            for j in range(n):
                refs.append(int(grid_ids[i, j] if horizontal else grid_ids[j, i]))
                if j + 1 == n:
                    break
                for q in range(1, k):
                    t = q / k
                    along = (j + t) * SPACING_M
                    off = amp * math.sin(math.pi * t)
                    x, y = (
                        (along, i * SPACING_M + off) if horizontal else (i * SPACING_M + off, along)
                    )
                    lon, lat = _lonlat(np.array([x]), np.array([y]))
                    writer.add_node(
                        osmium.osm.mutable.Node(id=node_id, location=(float(lon[0]), float(lat[0])))
                    )
                    refs.append(node_id)
                    node_id += 1
            avenue = i % 5 == 0
            tags = {
                "highway": "primary"
                if avenue
                else rng.choice(["residential", "tertiary", "living_street", "service"]),
                "name": f"{'Avenue' if avenue else 'Street'} {'H' if horizontal else 'V'}{i}",
            }
            if not avenue and rng.random() < 0.3:
                tags["width"] = f"{rng.uniform(2.2, 9.0):.1f}"
            ways.append((way_id, refs, tags))
            way_id += 1
    if buildings:
        _write_buildings(writer, n, seed, node_id, way_id, ways)
    for wid, refs, tags in ways:
        writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags))
    writer.close()
    return n


def _write_buildings(
    writer: osmium.SimpleWriter,
    n: int,
    seed: int,
    node_id: int,
    way_id: int,
    ways: list[tuple[int, list[int], dict[str, str]]],
) -> None:
    """Four building footprints per block, squares left open (see :func:`write_city`): their
    nodes written, their ways appended to ``ways`` (written after all nodes)."""
    squares = square_blocks(n, seed)
    jitter = np.random.default_rng(seed + 20_011)
    tags = {"building": "yes"}
    for bi in range(n - 1):
        for bj in range(n - 1):
            if squares[bi, bj]:
                continue
            x0, y0, x1, y1 = block_interior(bi, bj)
            xm = 0.5 * (x0 + x1) + jitter.uniform(-2.0, 2.0)
            ym = 0.5 * (y0 + y1) + jitter.uniform(-2.0, 2.0)
            h = 0.5 * ALLEY_M
            for bx0, bx1 in ((x0, xm - h), (xm + h, x1)):
                for by0, by1 in ((y0, ym - h), (ym + h, y1)):
                    xs = np.array([bx0, bx1, bx1, bx0])
                    ys = np.array([by0, by0, by1, by1])
                    lon, lat = _lonlat(xs, ys)
                    refs = []
                    for q in range(4):
                        writer.add_node(
                            osmium.osm.mutable.Node(
                                id=node_id, location=(float(lon[q]), float(lat[q]))
                            )
                        )
                        refs.append(node_id)
                        node_id += 1
                    refs.append(refs[0])
                    ways.append((way_id, refs, tags))
                    way_id += 1


def baseline_speeds(
    G: nx.Graph, start_nodes: list[tuple[int, int]], accel: float, top_ms: float
) -> list[float]:
    """Naive method: back along the straightest way to the last turn sharper than 30 deg."""
    out = []
    for prev, cur in start_nodes:
        # walk backwards from the entry: cur is behind the entry, prev is ahead (towards site)
        s = math.dist(G.nodes[prev]["xy"], G.nodes[cur]["xy"])
        seen = {prev, cur}
        while True:
            px, py = G.nodes[prev]["xy"]
            cx, cy = G.nodes[cur]["xy"]
            heading = math.atan2(cx - px, cy - py)
            best, best_dev = None, math.inf
            for nb in G.neighbors(cur):
                if nb in seen:
                    continue
                nx_, ny_ = G.nodes[nb]["xy"]
                dev = abs(
                    (math.atan2(nx_ - cx, ny_ - cy) - heading + math.pi) % (2 * math.pi) - math.pi
                )
                if dev < best_dev:
                    best, best_dev = nb, dev
            if best is None or best_dev > math.radians(30):
                break
            s += math.dist(G.nodes[cur]["xy"], G.nodes[best]["xy"])
            seen.add(best)
            prev, cur = cur, best
        out.append(min(top_ms, math.sqrt(2 * accel * s)))
    return out


def check_against_reference(net, sites, fields, entries, n_check: int) -> int:
    """Compare the vectorised entries of the first ``n_check`` sites with the per-site
    reference loops (:mod:`rempart.assess.engine._reference`); returns the number of
    entries compared, raises ``AssertionError`` on the first difference."""
    compared = 0
    for site, (cr, fr) in zip(sites[:n_check], entries[:n_check], strict=True):
        ref_cr = crossing_entries_reference(net, site, fields)
        ref_fr = frontage_entries_reference(net, site, fields, ref_cr)
        want = [entry_to_dict(e, net) for e in ref_cr + ref_fr]
        got = [entry_to_dict(e, net) for e in cr + fr]
        assert got == want, "vectorised entries differ from the reference implementation"
        compared += len(got)
    return compared


def run_size(
    label: str, target: int, n_sites: int, workdir: str, n_check: int = 0
) -> dict[str, float]:
    path = os.path.join(workdir, f"city_{label}.osm.pbf")
    t = time.perf_counter()
    n = write_city(path, target)
    t_write = time.perf_counter() - t
    t = time.perf_counter()
    osm = read_osm(path)
    t_parse = time.perf_counter() - t
    t = time.perf_counter()
    net = build_network(osm)
    _ = net.link_tree
    t_graph = time.perf_counter() - t
    vehicles = builtin_vehicles()
    t = time.perf_counter()
    fields = [vehicle_field(net, v) for v in vehicles]
    t_field = time.perf_counter() - t
    rng = np.random.default_rng(7)
    xs = net.node_x.min() + rng.uniform(0.1, 0.9, n_sites) * (net.node_x.max() - net.node_x.min())
    ys = net.node_y.min() + rng.uniform(0.1, 0.9, n_sites) * (net.node_y.max() - net.node_y.min())
    sites = [
        box(x, y, x + rng.uniform(60, 150), y + rng.uniform(60, 150))
        for x, y in zip(xs, ys, strict=True)
    ]
    t = time.perf_counter()
    all_entries = site_entries(net, sites, fields)
    t_entries = time.perf_counter() - t
    costs = default_costs()
    t = time.perf_counter()
    plan_sites(net, sites, fields, [fr for _, fr in all_entries], costs)
    t_plan = time.perf_counter() - t
    checked = check_against_reference(net, sites, fields, all_entries, n_check)
    # baseline on the same crossings, all vehicles
    t = time.perf_counter()
    G = nx.Graph()
    for link in range(net.n_links):
        a, b = net.link_offsets[link], net.link_offsets[link + 1]
        ids = (
            [("p", int(net.link_u[link]))]
            + [("i", int(j)) for j in range(a + 1, b - 1)]
            + [("p", int(net.link_v[link]))]
        )
        for q, node in enumerate(ids):
            G.add_node(node, xy=(float(net.pt_x[a + q]), float(net.pt_y[a + q])))
        for q in range(len(ids) - 1):
            G.add_edge(ids[q], ids[q + 1])
    starts = []
    ours = []
    for cr, _ in all_entries:
        for e in cr:
            link, d, s = e.link, e.directed, e.s_m
            a = net.link_offsets[link]
            b = net.link_offsets[link + 1]
            ids = (
                [("p", int(net.link_u[link]))]
                + [("i", int(j)) for j in range(a + 1, b - 1)]
                + [("p", int(net.link_v[link]))]
            )
            sl = net.pt_s[a:b]
            s_u = s if d % 2 == 0 else net.link_length_m[link] - s
            q = int(np.clip(np.searchsorted(sl, s_u), 1, len(ids) - 1))
            ahead, behind = (ids[q], ids[q - 1]) if d % 2 == 0 else (ids[q - 1], ids[q])
            G.add_node(("e", len(starts)), xy=(e.x, e.y))
            starts.append((("e", len(starts)), behind))
            ours.append([ve.speed_kmh for ve in e.vehicles])
    base = []
    for v in vehicles:
        base.append(baseline_speeds(G, starts, v.acceleration[0][1], v.top_speed_ms))
    t_base = time.perf_counter() - t
    ours_arr = np.array([[np.nan if s is None else s for s in row] for row in ours], dtype=float)
    base_arr = np.array(base).T * 3.6
    valid = np.isfinite(ours_arr)
    under = (base_arr < ours_arr - 0.5) & valid
    diff = (ours_arr - base_arr)[under]
    return {
        "n": n,
        "segments_directed": 2 * net.n_segments,
        "links": net.n_links,
        "write_s": t_write,
        "parse_s": t_parse,
        "graph_s": t_graph,
        "field_s": t_field,
        "entries_s": t_entries,
        "plan_s": t_plan,
        "after_parse_s": t_graph + t_field + t_entries + t_plan,
        "entries": sum(len(c) + len(f) for c, f in all_entries),
        "crossings": len(ours),
        "baseline_s": t_base,
        "speedup": t_base / max(t_field + t_entries, 1e-9),
        "speedup_with_graph": t_base / max(t_graph + t_field + t_entries, 1e-9),
        "checked_entries": checked,
        "under_frac": float(under.sum() / max(valid.sum(), 1)),
        "under_median_kmh": float(np.median(diff)) if diff.size else 0.0,
        "under_max_kmh": float(diff.max()) if diff.size else 0.0,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def helsinki_demo_s() -> float:
    from rempart.assess.cli import main

    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        main(["--html", os.path.join(d, "h.html"), "--quiet"])
        return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10k,100k,1m", help="comma-separated among 10k,100k,1m")
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument(
        "--check-sites",
        type=int,
        default=20,
        help="sites of the first size whose entries are compared with the reference loops",
    )
    args = parser.parse_args()
    print(
        f"# machine: {platform.machine()} {os.cpu_count()} cores, Python {sys.version.split()[0]}, {platform.platform()}"
    )
    print(f"Helsinki demo, parse to HTML report: {helsinki_demo_s():.2f} s")
    with tempfile.TemporaryDirectory() as workdir:
        for k, label in enumerate(args.sizes.split(",")):
            r = run_size(
                label,
                SIZES[label.strip()],
                args.sites,
                workdir,
                n_check=args.check_sites if k == 0 else 0,
            )
            if r["checked_entries"]:
                print(
                    f"check: vectorised entries == reference loops on {args.check_sites} sites"
                    f" of the {label} seed network ({r['checked_entries']:.0f} entries): OK"
                )
            print(
                f"| {label} | {r['segments_directed']:,} | {r['links']:,} | {r['parse_s']:.2f} | {r['graph_s']:.2f} | {r['field_s']:.2f} | {r['entries_s']:.2f} | {r['plan_s']:.2f} | {r['after_parse_s']:.2f} | {r['maxrss_mb']:.0f} | "
                f"{r['baseline_s']:.2f} | {r['speedup']:.1f}x | {r['speedup_with_graph']:.1f}x | {100 * r['under_frac']:.0f} % | {r['under_median_kmh']:.1f} / {r['under_max_kmh']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
