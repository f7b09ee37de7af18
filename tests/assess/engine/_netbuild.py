"""Helpers building small networks in tests: metric coordinates around Helsinki (60 N, 25 E)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from rempart.assess.engine.graph import Network, build_network
from rempart.assess.engine.osm import OsmData

LON0, LAT0 = 25.0, 60.0
M_PER_DEG_LAT = 111_320.0


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Local metres (east, north) -> lon, lat (equirectangular; fine for a few km)."""
    return LON0 + x / (M_PER_DEG_LAT * math.cos(math.radians(LAT0))), LAT0 + y / M_PER_DEG_LAT


Way = tuple[dict[str, str], list[tuple[float, float]]]


def _node_ids(ways: list[Way]) -> dict[tuple[float, float], int]:
    ids: dict[tuple[float, float], int] = {}
    for _, pts in ways:
        for p in pts:
            key = (round(p[0], 3), round(p[1], 3))
            ids.setdefault(key, len(ids) + 1)
    return ids


def osm_data(ways: list[Way]) -> OsmData:
    """OsmData straight from ways of metric points (shared coordinates share a node)."""
    ids = _node_ids(ways)
    node_ids, lons, lats, counts, tags = [], [], [], [], []
    for t, pts in ways:
        for p in pts:
            lo, la = lonlat(*p)
            node_ids.append(ids[(round(p[0], 3), round(p[1], 3))])
            lons.append(lo)
            lats.append(la)
        counts.append(len(pts))
        tags.append(t)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return OsmData(
        "memory",
        np.arange(1, len(ways) + 1, dtype=np.int64),
        offsets,
        np.asarray(node_ids, dtype=np.int64),
        np.asarray(lons),
        np.asarray(lats),
        tags,
    )


def network(ways: list[Way]) -> Network:
    return build_network(osm_data(ways))


def write_osm(path: Path, ways: list[Way]) -> Path:
    """An .osm XML file of the ways (way ids 1..n)."""
    ids = _node_ids(ways)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="rempart-tests">',
    ]
    for (x, y), nid in ids.items():
        lo, la = lonlat(x, y)
        lines.append(f'  <node id="{nid}" version="1" lat="{la:.9f}" lon="{lo:.9f}"/>')
    for i, (t, pts) in enumerate(ways, start=1):
        lines.append(f'  <way id="{i}" version="1">')
        for p in pts:
            lines.append(f'    <nd ref="{ids[(round(p[0], 3), round(p[1], 3))]}"/>')
        for k, v in t.items():
            lines.append(f'    <tag k="{k}" v="{v}"/>')
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines))
    return path


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    """GeoJSON Polygon (WGS84) of a metric rectangle."""
    ring = [lonlat(x0, y0), lonlat(x1, y0), lonlat(x1, y1), lonlat(x0, y1), lonlat(x0, y0)]
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


def road(pts: list[tuple[float, float]], highway: str = "residential", **tags: str) -> Way:
    return ({"highway": highway, **tags}, pts)


def vehicle(
    name: str = "T",
    top_kmh: float = 90.0,
    lat: float = 4.0,
    width: float = 2.0,
    mass: float = 7200,
    curve: tuple[tuple[float, float], ...] = ((0, 2.0), (50, 1.0), (90, 0.3)),
    test_class: str = "N2A",
) -> Any:
    from rempart.assess.engine.vehicles import Vehicle

    return Vehicle(name, test_class, mass, top_kmh, lat, width, curve)
