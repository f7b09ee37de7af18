"""Reading OpenStreetMap data (.osm.pbf and .osm XML) with pyosmium.

pyosmium does the parsing, node-location lookup and multipolygon assembly; what is hand-written
here is only the flattening of highway ways into numpy arrays (CSR layout: one offsets array
and flat node arrays) so that the graph builder can work on arrays, not Python objects.
Coordinates are WGS84 longitude/latitude in degrees.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import shapely
from numpy.typing import NDArray

from .errors import OsmReadError, SiteError

#: Way tags the engine reads; everything else is dropped at parse time.
KEPT_TAGS = (
    "highway",
    "width",
    "est_width",
    "width:carriageway",
    "lanes",
    "area",
    "name",
    "service",
    "footway",
    "layer",
    "bridge",
    "tunnel",
)

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class OsmData:
    """Highway ways of an OSM file as flat arrays.

    Attributes
    ----------
    path : str
    way_ids : (W,) int64 OSM way ids.
    way_offsets : (W+1,) int64, way ``i`` owns nodes ``way_offsets[i]:way_offsets[i+1]``.
    node_ids : (N,) int64 OSM node ids, in way order (repeated where ways share nodes).
    lon, lat : (N,) float64, WGS84 degrees.
    way_tags : list of dict, the :data:`KEPT_TAGS` of each way.
    """

    path: str
    way_ids: NDArray[np.int64]
    way_offsets: NDArray[np.int64]
    node_ids: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    way_tags: list[dict[str, str]] = field(repr=False)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) of the highway nodes."""
        if self.lon.size == 0:
            return (0.0, 0.0, 0.0, 0.0)
        return (
            float(self.lon.min()),
            float(self.lat.min()),
            float(self.lon.max()),
            float(self.lat.max()),
        )


def _check_path(path: str | Path) -> str:
    text = str(path)
    if not os.path.isfile(text):
        raise OsmReadError("OSM file", text, "an existing .osm.pbf or .osm XML file")
    if not (
        text.endswith(".osm.pbf")
        or text.endswith(".pbf")
        or text.endswith(".osm")
        or text.endswith(".osm.bz2")
        or text.endswith(".osm.gz")
    ):
        raise OsmReadError("OSM file", text, "a name ending in .osm.pbf or .osm")
    return text


def read_osm(
    path: str | Path,
    progress: Progress | None = None,
    areas: osmium.area.AreaManager | None = None,
) -> OsmData:
    """Read all ``highway=*`` ways with their node locations.

    ``areas``: an area manager whose first pass (the multipolygon relations) is done in this
    same read, so that :func:`drivable.read_features` need not read the file once more for it.

    Raises
    ------
    OsmReadError
        If the file is missing, unreadable or not OSM data.
    """
    text = _check_path(path)
    way_ids: list[int] = []
    counts: list[int] = []
    node_ids: list[int] = []
    tags: list[dict[str, str]] = []
    if progress:
        progress(0.0, f"reading {os.path.basename(text)}")
    try:
        entities = osmium.osm.NODE | osmium.osm.WAY
        processor = osmium.FileProcessor(
            text, entities if areas is None else entities | osmium.osm.RELATION
        ).with_locations()
        if areas is not None:
            processor.with_filter(areas.first_pass_handler())
        processor.with_filter(osmium.filter.EntityFilter(osmium.osm.WAY)).with_filter(
            osmium.filter.KeyFilter("highway")
        )
        # A way whose nodes all have a location (the rule): its coordinates from osmium's WKB
        # line (all nodes, in order), decoded in bulk at the end; else node by node.
        wkb = osmium.geom.WKBFactory()
        all_nodes = osmium.geom.use_nodes.ALL
        lines: list[str] = []
        for obj in processor:
            way: Any = obj
            try:
                line = wkb.create_linestring(way, use_nodes=all_nodes)
            except (osmium.InvalidLocationError, RuntimeError):
                line = None
            if line is not None:
                refs = [node.ref for node in way.nodes]
                wl: list[float] = []
                wb: list[float] = []
            else:
                refs = []
                wl, wb = [], []
                for node in way.nodes:
                    loc = node.location
                    if not loc.valid():
                        continue  # clipped extract: the node lies outside the file
                    refs.append(node.ref)
                    wl.append(loc.lon)
                    wb.append(loc.lat)
                if len(refs) < 2:
                    continue
                line = str(
                    shapely.to_wkb(shapely.linestrings(list(zip(wl, wb, strict=True))), hex=True)
                )
            lines.append(line)
            way_ids.append(way.id)
            counts.append(len(refs))
            node_ids.extend(refs)
            t = way.tags
            tags.append({k: t[k] for k in KEPT_TAGS if k in t})
    except (RuntimeError, ValueError, OSError, osmium.InvalidLocationError) as err:
        raise OsmReadError("OSM file", text, f"readable .osm.pbf or .osm XML ({err})") from None
    if not way_ids:
        raise OsmReadError("OSM file", text, "at least one highway way with node locations")
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    lonlat = coordinates_of_wkb_lines(lines)
    if progress:
        progress(1.0, f"read {len(way_ids)} highway ways")
    return OsmData(
        path=text,
        way_ids=np.asarray(way_ids, dtype=np.int64),
        way_offsets=offsets,
        node_ids=np.asarray(node_ids, dtype=np.int64),
        lon=np.ascontiguousarray(lonlat[:, 0]),
        lat=np.ascontiguousarray(lonlat[:, 1]),
        way_tags=tags,
    )


def find_named_areas(path: str | Path, name: str) -> list[tuple[str, dict[str, Any]]]:
    """Closed ways and multipolygon relations whose ``name`` tag equals ``name``.

    Returns (name, GeoJSON geometry in WGS84) pairs; pyosmium assembles the areas.

    Raises
    ------
    SiteError
        If no area carries that name.
    """
    text = _check_path(path)
    wanted = name.strip().casefold()
    found: list[tuple[str, dict[str, Any]]] = []
    factory = osmium.geom.GeoJSONFactory()
    try:
        processor = (
            osmium.FileProcessor(text)
            .with_areas(osmium.filter.KeyFilter("name"))
            .with_filter(osmium.filter.EntityFilter(osmium.osm.AREA))
        )
        for obj in processor:
            area: Any = obj
            tag = str(area.tags.get("name", ""))
            if tag.casefold() != wanted:
                continue
            try:
                geometry = json.loads(factory.create_multipolygon(area))
            except (RuntimeError, osmium.InvalidLocationError):
                continue  # broken ring, e.g. clipped at the extract's edge
            found.append((tag, geometry))
    except (RuntimeError, ValueError, OSError, osmium.InvalidLocationError) as err:
        raise OsmReadError("OSM file", text, f"readable .osm.pbf or .osm XML ({err})") from None
    if not found:
        raise SiteError(
            "site name", name, f"the name tag of a closed way or multipolygon in {text}"
        )
    return found


def decode_wkb(
    hexes: Sequence[str],
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.int64], NDArray[np.float64]]:
    """Coordinates of the hex WKB records osmium's WKBFactory writes, decoded in bulk.

    Returns ``(line, ring, count, xy)``: per record, whether it is a little-endian 2-D
    LineString (``line``) or a MultiPolygon of one Polygon of one ring (``ring``), and its
    number of points (``count``); ``xy`` (P, 2) the points of those records, record after
    record, as the doubles the WKB holds (exactly). Other records (holes, several polygons,
    big-endian, other types) are neither ``line`` nor ``ring`` and have no points in ``xy``.
    """
    n = len(hexes)
    if n == 0:
        empty = np.zeros(0, dtype=bool)
        return empty, empty, np.zeros(0, dtype=np.int64), np.zeros((0, 2))
    data = bytes.fromhex("".join(hexes))
    blob = np.frombuffer(data, dtype=np.uint8)
    size = np.fromiter(map(len, hexes), dtype=np.int64, count=n) // 2
    start = np.zeros(n, dtype=np.int64)
    np.cumsum(size[:-1], out=start[1:])

    def byte(at: NDArray[np.int64]) -> NDArray[np.int64]:
        return blob[np.clip(at, 0, blob.size - 1)].astype(np.int64)

    def u32(at: NDArray[np.int64]) -> NDArray[np.int64]:
        return byte(at) | (byte(at + 1) << 8) | (byte(at + 2) << 16) | (byte(at + 3) << 24)

    little = byte(start) == 1
    kind = u32(start + 1)
    # LineString: order, type 2, n points, 16 n bytes
    n_line = u32(start + 5)
    line = little & (kind == 2) & (size == 9 + 16 * n_line) & (n_line >= 2)
    # MultiPolygon of one Polygon of one ring: order, type 6, 1, order, type 3, 1, n, coords
    n_ring = u32(start + 18)
    ring = (
        little
        & (kind == 6)
        & (size >= 22)
        & (u32(start + 5) == 1)
        & (byte(start + 9) == 1)
        & (u32(start + 10) == 3)
        & (u32(start + 14) == 1)
        & (size == 22 + 16 * n_ring)
        & (n_ring >= 4)
    )
    count = np.where(line, n_line, np.where(ring, n_ring, 0))
    simple = line | ring
    first = (start + np.where(line, 9, 22))[simple]
    c = count[simple]
    # each record's doubles, read from the view of the blob at that record's byte alignment
    owner = np.repeat(np.arange(c.size), 2 * c)
    at = first[owner] + 8 * (np.arange(owner.size) - np.repeat(np.cumsum(2 * c) - 2 * c, 2 * c))
    flat = np.empty(owner.size)
    align = at % 8
    for a in np.unique(align):
        view = np.frombuffer(data, dtype="<f8", offset=int(a), count=(len(data) - int(a)) // 8)
        sel = align == a
        flat[sel] = view[(at[sel] - a) // 8]
    return line, ring, count, flat.reshape(-1, 2)


def coordinates_of_wkb_lines(hexes: list[str]) -> NDArray[np.float64]:
    """(P, 2) lon/lat of the points of hex WKB LineStrings, line after line (osmium's, else
    read by shapely)."""
    line, _, _, xy = decode_wkb(hexes)
    if line.all():
        return xy
    return np.asarray(
        shapely.get_coordinates(shapely.from_wkb(np.array(hexes, dtype=object))), dtype=float
    )
