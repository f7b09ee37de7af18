"""Cutting a tile's network out of a larger OSM file."""

from __future__ import annotations

from pathlib import Path

from rempart.assess.engine.osm import read_osm
from rempart.screen.candidates import Candidate
from rempart.screen.extract import extract_tile
from rempart.screen.tiles import Tile

from ._osmwrite import write_osm


def test_extract_keeps_ways_touching_the_box_whole(tmp_path: Path) -> None:
    # Way 10 lies inside the box, way 11 crosses its east edge, way 12 is far away.
    nodes = [
        (1, 0.000, 0.0, {}),
        (2, 0.001, 0.0, {}),
        (3, 0.002, 0.0, {}),
        (4, 0.020, 0.0, {}),
        (5, 1.000, 1.0, {}),
        (6, 1.001, 1.0, {}),
    ]
    ways = [
        (10, [1, 2], {"highway": "residential"}),
        (11, [2, 3, 4], {"highway": "primary"}),
        (12, [5, 6], {"highway": "residential"}),
        (13, [1, 3], {"building": "yes"}),
    ]
    src = write_osm(tmp_path / "region.osm", nodes, ways)
    tile = Tile(
        "t0_0", (Candidate("n1", "place=square", "", 0.0, 0.0),), -0.005, -0.005, 0.005, 0.005
    )
    out = tmp_path / "tile.osm.pbf"
    assert extract_tile(src, tile, out) == 2
    osm = read_osm(out)
    assert sorted(osm.way_ids.tolist()) == [10, 11]
    # the crossing way is kept whole, up to its node at 0.020° outside the box
    assert float(osm.lon.max()) == 0.020
