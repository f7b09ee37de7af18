"""One streaming pass cuts every tile exactly as the per-tile two-pass cut does."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import osmium
import pytest

from rempart.screen import runner
from rempart.screen.candidates import Candidate
from rempart.screen.extract import cut_tiles, extract_tile, tile_extract_path
from rempart.screen.runner import screen
from rempart.screen.tiles import Tile, make_tiles

from .test_runner import VEHICLES, _region

DEG_PER_M = math.degrees(1.0 / 6_371_008.8)


def _region_pbf(path: Path, n: int = 24, seed: int = 3) -> Path:
    """A jittered n x n grid (60 m spacing) of short highway ways, with long ways and noise.

    Horizontal streets are cut into 2-block ways, vertical ones are single ways across the whole
    region (they cross every tile edge); one building way and some untagged nodes are not roads.
    """
    rng = np.random.default_rng(seed)
    writer = osmium.SimpleWriter(str(path))
    ids = np.arange(1, n * n + 1).reshape(n, n)
    for i in range(n):
        for j in range(n):
            x = j * 60.0 + rng.uniform(-5, 5)
            y = i * 60.0 + rng.uniform(-5, 5)
            writer.add_node(
                osmium.osm.mutable.Node(
                    id=int(ids[i, j]), location=(x * DEG_PER_M, y * DEG_PER_M), tags={}
                )
            )
    wid = 1
    kinds = ["primary", "residential", "service", "living_street"]
    for i in range(n):
        for j in range(0, n - 1, 2):
            refs = [int(r) for r in ids[i, j : j + 3]]
            tags = {"highway": kinds[(i + j) % 4], "name": f"H{i}-{j}"}
            writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags))
            wid += 1
    for j in range(n):
        refs = [int(r) for r in ids[:, j]]
        writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags={"highway": "tertiary"}))
        wid += 1
    writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=[1, 2, n + 2, 1], tags={"building": "yes"}))
    writer.close()
    return path


def _content(path: Path) -> tuple[list[tuple[int, int, int]], list[tuple[int, list[int], dict]]]:
    nodes, ways = [], []
    for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY):
        o: object = obj
        if isinstance(o, osmium.osm.Node):
            nodes.append((o.id, o.location.x, o.location.y))
        elif isinstance(o, osmium.osm.Way):
            ways.append((o.id, [n.ref for n in o.nodes], {t.k: t.v for t in o.tags}))
    return nodes, ways


def _tiles() -> list[Tile]:
    # Sites on a 3 x 3 pattern; 300 m cells and a 200 m halo make overlapping boxes, and one
    # tile lies where no road is.
    sites = [
        Candidate(f"s{k}", "synthetic", "", x * DEG_PER_M, y * DEG_PER_M)
        for k, (x, y) in enumerate(
            [
                (200, 200),
                (700, 250),
                (1200, 300),
                (300, 800),
                (900, 900),
                (1300, 1350),
                (5000, 5000),
            ]
        )
    ]
    return make_tiles(sites, tile_m=300.0, halo=200.0)


@pytest.mark.parametrize("spool_records", [1_000_000, 7])
def test_one_pass_equals_per_tile_cut(tmp_path: Path, spool_records: int) -> None:
    src = _region_pbf(tmp_path / "region.osm.pbf")
    tiles = _tiles()
    counts = cut_tiles(src, tiles, tmp_path / "one", spool_records=spool_records)
    assert set(counts) == {t.tile_id for t in tiles}
    for tile in tiles:
        ref = tmp_path / f"ref-{tile.tile_id}.osm.pbf"
        n_ref = extract_tile(src, tile, ref)
        assert counts[tile.tile_id] == n_ref
        got = _content(tile_extract_path(tmp_path / "one", tile.tile_id))
        assert got == _content(ref), tile.tile_id
    # The far tile holds nothing; the others hold roads, and the long vertical ways cross
    # their edges whole (a tile holds nodes outside its box).
    assert sorted(counts.values())[0] == 0
    assert sum(c > 0 for c in counts.values()) == len(tiles) - 1
    busy = next(t for t in tiles if counts[t.tile_id])
    nodes, _ = _content(tile_extract_path(tmp_path / "one", busy.tile_id))
    assert max(y for _, _, y in nodes) / 1e7 > busy.max_lat
    assert not list((tmp_path / "one").glob(".spool-*"))


def test_missing_extract_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="absent.osm.pbf"):
        cut_tiles(tmp_path / "absent.osm.pbf", _tiles(), tmp_path / "x")


def test_screen_cuts_once_and_reuses_cut_extracts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    region = _region(tmp_path)
    calls: list[list[str]] = []
    real = runner.cut_tiles

    def spy(osm: object, tiles: list[Tile], *a: object, **k: object) -> dict[str, int]:
        calls.append([t.tile_id for t in tiles])
        return real(osm, tiles, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "cut_tiles", spy)
    out = tmp_path / "out"
    first = screen(region, out, workers=0, vehicles=VEHICLES, progress=False)
    assert len(calls) == 1 and sorted(calls[0]) == sorted(first.computed)
    # A run interrupted after the cut: results lost, extracts kept -> nothing cut again.
    for p in (out / "tiles").glob("*.parquet"):
        p.unlink()
    second = screen(region, out, workers=0, vehicles=VEHICLES, progress=False)
    assert len(calls) == 1
    assert sorted(second.computed) == sorted(first.computed)
    # One extract lost: only that tile is cut again (the pass reads the region once).
    lost = sorted((out / "extracts").glob("*.osm.pbf"))[0]
    lost.unlink()
    (out / "tiles" / f"{lost.name[: -len('.osm.pbf')]}.parquet").unlink()
    screen(region, out, workers=0, vehicles=VEHICLES, progress=False)
    assert calls[1] == [lost.name[: -len(".osm.pbf")]]


def test_a_long_way_crossing_a_tile_with_both_ends_outside_is_in_that_tile(tmp_path: Path) -> None:
    # a straight 2 km road drawn with only its two end nodes, 1 km either side of a site whose
    # tile box (the site plus a 200 m halo) holds neither end: a vehicle on it passes the site,
    # so both cuts must keep the way (before, a way entered a tile only by a node inside it)
    from ._osmwrite import write_osm

    site = Candidate("s0", "synthetic", "", 0.0, 0.0)
    (tile,) = make_tiles([site], halo=200.0)
    assert tile.min_lon > -1000 * DEG_PER_M and tile.max_lon < 1000 * DEG_PER_M
    end = 1000 * DEG_PER_M
    osm = write_osm(
        tmp_path / "long.osm",
        [(1, -end, 0.0, {}), (2, end, 0.0, {})],
        [(1, [1, 2], {"highway": "primary"})],
    )
    cut = cut_tiles(osm, [tile], tmp_path / "one")
    assert cut[tile.tile_id] == 1
    one_nodes, one_ways = _content(tile_extract_path(tmp_path / "one", tile.tile_id))
    assert [w[0] for w in one_ways] == [1] and {n[0] for n in one_nodes} == {1, 2}
    assert extract_tile(osm, tile, tmp_path / "per_tile.osm.pbf") == 1
