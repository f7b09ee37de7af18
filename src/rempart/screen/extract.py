"""Cutting tiles' road networks out of a large OSM extract with pyosmium.

A tile's network is every ``highway=*`` way whose line touches the tile box (a node inside it,
or a segment crossing it: a long straight road drawn with both ends outside; WGS84 degrees,
halo included, edges included), kept whole with the nodes of the file it references,
so the tile network runs past the halo to the way's end. Tile files hold the nodes (ids
ascending, no tags) and then the ways (ids ascending, all tags).

:func:`cut_tiles` cuts every tile of a run in **one** streaming pass over the extract: the
ways arrive with their node locations (pyosmium's node-location index, ``node_index``); a batch
of ways is matched against all tile boxes at once (shapely ``STRtree``), and each matched way and
its nodes are appended to that tile's spool files on disk as the pass goes, so memory stays the
index plus one batch (``spool_records`` node records), whatever the number of tiles. Each tile's
spool is then written as ``<tile_id>.osm.pbf`` (temporary name, then rename), one tile at a
time.

Node-location index (``node_index``, a pyosmium location-storage string): ``flex_mem`` (the
default) keeps locations in memory, sparse for small extracts and a dense array once the file
holds many nodes; about 8 bytes per node id of the file, fine for a region (a few GB for a
large country). For France-sized extracts on a small machine use ``sparse_file_array,<path>``
(16 bytes per node, on disk, read through the page cache) or ``dense_file_array,<path>``
(8 bytes x highest node id, on disk). Source: pyosmium user manual, "Location storage",
https://docs.osmcode.org/pyosmium/latest/user_manual/ and libosmium's index documentation.

:func:`extract_tile` cuts a single tile in two passes (used for one-off cuts and as the
reference the one-pass cut is tested against).
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import shapely

from .tiles import Tile


def _touches(coords: list[tuple[float, float]], tile: Tile) -> bool:
    """Whether a way's line (lon/lat vertices) touches the tile's box: a vertex inside it, or
    a segment crossing it (a long straight road drawn with both ends outside the box)."""
    if not coords:
        return False
    box = shapely.box(tile.min_lon, tile.min_lat, tile.max_lon, tile.max_lat)
    geom = shapely.linestrings(coords) if len(coords) > 1 else shapely.points(coords[0])
    return bool(shapely.intersects(geom, box))


def _existing_osm_file(osm_path: str | Path) -> Path:
    """``osm_path`` as a path, or FileNotFoundError naming it when it is not a file."""
    src = Path(osm_path)
    if not src.is_file():
        raise FileNotFoundError(
            f"The OSM file {src} does not exist; expected an .osm or .osm.pbf file."
        )
    return src


def extract_tile(osm_path: str | Path, tile: Tile, out_path: str | Path) -> int:
    """Write the highway ways touching ``tile`` and their nodes to ``out_path`` (.osm or .osm.pbf).

    Returns the number of ways written. An existing ``out_path`` is replaced.

    Raises
    ------
    FileNotFoundError
        When ``osm_path`` does not exist, naming it.
    """
    src = _existing_osm_file(osm_path)
    ways: list[Any] = []
    needed: set[int] = set()
    processor = (
        osmium.FileProcessor(str(src), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for obj in processor:
        way: Any = obj
        refs = [n.ref for n in way.nodes]
        coords = [(n.location.lon, n.location.lat) for n in way.nodes if n.location.valid()]
        if _touches(coords, tile):
            ways.append(
                osmium.osm.mutable.Way(
                    id=way.id, version=1, nodes=refs, tags={t.k: t.v for t in way.tags}
                )
            )
            needed.update(refs)
    out = Path(out_path)
    out.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(out))
    try:
        for obj in osmium.FileProcessor(str(src), osmium.osm.NODE):
            node: Any = obj
            if node.id in needed:
                writer.add_node(
                    osmium.osm.mutable.Node(id=node.id, version=1, location=node.location, tags={})
                )
        for w in sorted(ways, key=lambda w: w.id):
            writer.add_way(w)
    finally:
        writer.close()
    return len(ways)


#: Default pyosmium node-location index of the one-pass cut (see the module docstring).
NODE_INDEX = "flex_mem"
#: Node records held in memory before the batch is matched and spooled to disk.
SPOOL_RECORDS = 250_000


def tile_extract_path(extract_dir: str | Path, tile_id: str) -> Path:
    """Path of a tile's cut extract in ``extract_dir``."""
    return Path(extract_dir) / f"{tile_id}.osm.pbf"


def count_ways(path: str | Path) -> int:
    """Number of ways in an OSM file (a tile extract)."""
    return sum(1 for _ in osmium.FileProcessor(str(path), osmium.osm.WAY))


class _Spool:
    """Per-tile spool files: node records (id, x, y as int64, 1e-7 degrees) and pickled ways."""

    def __init__(self, root: Path, tile_ids: Sequence[str]) -> None:
        self.root = root
        self.tile_ids = list(tile_ids)
        self.nodes: list[list[np.ndarray]] = [[] for _ in self.tile_ids]
        self.ways: list[list[tuple[int, list[int], dict[str, str]]]] = [[] for _ in self.tile_ids]
        self.ways_count = [0] * len(self.tile_ids)

    def node_file(self, t: int) -> Path:
        return self.root / f"{t}.nodes"

    def way_file(self, t: int) -> Path:
        return self.root / f"{t}.ways"

    def flush(self) -> None:
        for t in range(len(self.tile_ids)):
            if self.nodes[t]:
                with open(self.node_file(t), "ab") as fh:
                    np.concatenate(self.nodes[t]).astype(np.int64).tofile(fh)
                self.nodes[t] = []
            if self.ways[t]:
                with open(self.way_file(t), "ab") as fh:
                    pickle.dump(self.ways[t], fh, protocol=pickle.HIGHEST_PROTOCOL)
                self.ways[t] = []

    def write_tile(self, t: int, out: Path) -> None:
        """Write tile ``t`` (nodes by id, then ways by id) to ``out`` atomically."""
        nf, wf = self.node_file(t), self.way_file(t)
        recs = np.fromfile(nf, dtype=np.int64).reshape(-1, 3) if nf.exists() else np.empty((0, 3))
        _, first = np.unique(recs[:, 0], return_index=True)
        recs = recs[first]  # unique ids, ascending
        ways: list[tuple[int, list[int], dict[str, str]]] = []
        if wf.exists():
            with open(wf, "rb") as fh:
                while True:
                    try:
                        ways.extend(pickle.load(fh))
                    except EOFError:
                        break
        ways.sort(key=lambda w: w[0])
        partial = out.with_name(f".{out.name[: -len('.osm.pbf')]}.{os.getpid()}.osm.pbf")
        partial.unlink(missing_ok=True)
        writer = osmium.SimpleWriter(str(partial))
        try:
            for nid, x, y in recs.tolist():
                writer.add_node(
                    osmium.osm.mutable.Node(
                        id=nid, version=1, location=osmium.osm.Location(x / 1e7, y / 1e7), tags={}
                    )
                )
            for wid, refs, tags in ways:
                writer.add_way(osmium.osm.mutable.Way(id=wid, version=1, nodes=refs, tags=tags))
        finally:
            writer.close()
        partial.replace(out)
        nf.unlink(missing_ok=True)
        wf.unlink(missing_ok=True)


def cut_tiles(
    osm_path: str | Path,
    tiles: Sequence[Tile],
    extract_dir: str | Path,
    node_index: str = NODE_INDEX,
    spool_records: int = SPOOL_RECORDS,
) -> dict[str, int]:
    """Cut every tile of ``tiles`` from ``osm_path`` in one streaming pass (see the module).

    Writes ``<extract_dir>/<tile_id>.osm.pbf`` for every tile (an empty file for a tile that
    no way touches) and returns the number of ways written per tile id. Existing tile files are
    replaced; a crash during the pass leaves no tile file half-written.

    Raises
    ------
    FileNotFoundError
        When ``osm_path`` does not exist, naming it.
    """
    src = _existing_osm_file(osm_path)
    out_dir = Path(extract_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not tiles:
        return {}
    tree = shapely.STRtree(
        shapely.box(
            [t.min_lon for t in tiles],
            [t.min_lat for t in tiles],
            [t.max_lon for t in tiles],
            [t.max_lat for t in tiles],
        )
    )
    root = Path(tempfile.mkdtemp(prefix=".spool-", dir=out_dir))
    try:
        spool = _Spool(root, [t.tile_id for t in tiles])
        batch_ways: list[tuple[int, list[int], dict[str, str]]] = []
        batch_counts: list[int] = []
        ids: list[int] = []
        xs: list[int] = []
        ys: list[int] = []
        pending = 0

        def match() -> None:
            """Match the batch's ways to tile boxes and append them to the tiles' spools."""
            nonlocal pending
            if not batch_ways:
                return
            id_a = np.asarray(ids, dtype=np.int64)
            x_a = np.asarray(xs, dtype=np.int64)
            y_a = np.asarray(ys, dtype=np.int64)
            offsets = np.zeros(len(batch_counts) + 1, dtype=np.int64)
            np.cumsum(batch_counts, out=offsets[1:])
            # each way as its segments (a long segment may cross a box with both ends outside
            # it), and a way with a single located node as that point
            counts = np.asarray(batch_counts, dtype=np.int64)
            way_of_pt = np.repeat(np.arange(len(batch_counts)), counts)
            xy = np.column_stack([x_a / 1e7, y_a / 1e7])
            seg = np.flatnonzero(way_of_pt[:-1] == way_of_pt[1:])
            lone = offsets[:-1][counts == 1]
            geoms = np.concatenate(
                [
                    shapely.linestrings(np.stack([xy[seg], xy[seg + 1]], axis=1)),
                    shapely.points(xy[lone]),
                ]
            )
            geom_way = np.concatenate([way_of_pt[seg], way_of_pt[lone]])
            geom_idx, tile_idx = tree.query(geoms, predicate="intersects")
            pairs = np.unique(geom_way[geom_idx] * len(tiles) + tile_idx)
            for w, t in zip(
                (pairs // len(tiles)).tolist(), (pairs % len(tiles)).tolist(), strict=True
            ):
                a, b = offsets[w], offsets[w + 1]
                spool.ways[t].append(batch_ways[w])
                spool.ways_count[t] += 1
                spool.nodes[t].append(np.stack([id_a[a:b], x_a[a:b], y_a[a:b]], axis=1))
                pending += int(b - a)
            batch_ways.clear()
            batch_counts.clear()
            ids.clear()
            xs.clear()
            ys.clear()
            if pending >= spool_records:
                spool.flush()
                pending = 0

        processor = (
            osmium.FileProcessor(str(src), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations(node_index)
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for obj in processor:
            way: Any = obj
            refs = []
            n = 0
            for node in way.nodes:
                refs.append(node.ref)
                loc = node.location
                if loc.valid():
                    ids.append(node.ref)
                    xs.append(loc.x)
                    ys.append(loc.y)
                    n += 1
            batch_ways.append((way.id, refs, {t.k: t.v for t in way.tags}))
            batch_counts.append(n)
            if len(ids) >= spool_records:
                match()
        match()
        spool.flush()
        for t, tile in enumerate(tiles):
            spool.write_tile(t, tile_extract_path(out_dir, tile.tile_id))
        return {tile.tile_id: spool.ways_count[t] for t, tile in enumerate(tiles)}
    finally:
        shutil.rmtree(root, ignore_errors=True)
