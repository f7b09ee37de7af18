"""Highway ways read with their coordinates decoded in bulk from osmium's WKB (branch
obstread): the node ids and coordinates are the file's own, way by way; a way with a node
missing from the file (a clipped extract) keeps the nodes that are there, in order, and a way
left with one node is dropped."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rempart.assess.engine.osm import read_osm

NODES = {1: (24.9400001, 60.1700001), 2: (24.9410002, 60.1700003), 3: (24.9420004, 60.1710005)}
NODES |= {4: (24.9430006, 60.1720007), 5: (24.9440008, 60.1730009)}


def _osm(path: Path) -> Path:
    nodes = "".join(
        f'<node id="{i}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>'
        for i, (lon, lat) in NODES.items()
    )
    ways = [
        (10, [1, 2, 3]),
        (11, [3, 99, 4, 5]),  # node 99 is outside the extract
        (12, [5, 98]),  # one node left: dropped
        (13, [2, 2, 4]),  # a repeated node stays (the graph drops it)
    ]
    text = "".join(
        f'<way id="{w}" version="1">'
        + "".join(f'<nd ref="{r}"/>' for r in refs)
        + '<tag k="highway" v="residential"/><tag k="name" v="Street"/></way>'
        for w, refs in ways
    )
    path.write_text(f'<?xml version="1.0"?><osm version="0.6">{nodes}{text}</osm>')
    return path


def test_ways_nodes_and_coordinates_are_the_files(tmp_path: Path) -> None:
    data = read_osm(_osm(tmp_path / "clipped.osm"))
    assert data.way_ids.tolist() == [10, 11, 13]
    assert data.way_offsets.tolist() == [0, 3, 6, 9]
    refs = [1, 2, 3, 3, 4, 5, 2, 2, 4]
    assert data.node_ids.tolist() == refs
    assert np.array_equal(data.lon, [NODES[r][0] for r in refs])
    assert np.array_equal(data.lat, [NODES[r][1] for r in refs])
    assert data.way_tags[0] == {"highway": "residential", "name": "Street"}
