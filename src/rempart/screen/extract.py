"""Cutting one tile's road network out of a large OSM extract with pyosmium.

Two streaming passes, so the extract is never loaded whole: (1) the ``highway=*`` ways with at
least one node inside the tile box (WGS84 degrees, halo included) are kept with their node ids;
(2) those ways' nodes are copied. A way crossing the box edge is kept whole, so the tile network
runs past the halo to the way's end. Memory is the tile's content plus pyosmium's node-location
index of pass 1 (``flex_mem``: in memory for small files, sparse for large ones).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import osmium

from .tiles import Tile


def _inside(lon: float, lat: float, tile: Tile) -> bool:
    return tile.min_lon <= lon <= tile.max_lon and tile.min_lat <= lat <= tile.max_lat


def extract_tile(osm_path: str | Path, tile: Tile, out_path: str | Path) -> int:
    """Write the highway ways touching ``tile`` and their nodes to ``out_path`` (.osm or .osm.pbf).

    Returns the number of ways written. An existing ``out_path`` is replaced.

    Raises
    ------
    FileNotFoundError
        When ``osm_path`` does not exist, naming it.
    """
    src = Path(osm_path)
    if not src.is_file():
        raise FileNotFoundError(
            f"The OSM file {src} does not exist; expected an .osm or .osm.pbf file."
        )
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
        if any(
            n.location.valid() and _inside(n.location.lon, n.location.lat, tile) for n in way.nodes
        ):
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
