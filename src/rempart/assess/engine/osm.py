"""Reading OpenStreetMap data (.osm.pbf and .osm XML) with pyosmium.

pyosmium does the parsing, node-location lookup and multipolygon assembly; what is hand-written
here is only the flattening of highway ways into numpy arrays (CSR layout: one offsets array
and flat node arrays) so that the graph builder can work on arrays, not Python objects.
Coordinates are WGS84 longitude/latitude in degrees.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import osmium
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
    lons: list[float] = []
    lats: list[float] = []
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
        for obj in processor:
            way: Any = obj
            refs = []
            wl: list[float] = []
            wb: list[float] = []
            for node in way.nodes:
                loc = node.location
                if not loc.valid():
                    continue  # clipped extract: the node lies outside the file
                refs.append(node.ref)
                wl.append(loc.lon)
                wb.append(loc.lat)
            if len(refs) < 2:
                continue
            way_ids.append(way.id)
            counts.append(len(refs))
            node_ids.extend(refs)
            lons.extend(wl)
            lats.extend(wb)
            t = way.tags
            tags.append({k: t[k] for k in KEPT_TAGS if k in t})
    except (RuntimeError, ValueError, OSError, osmium.InvalidLocationError) as err:
        raise OsmReadError("OSM file", text, f"readable .osm.pbf or .osm XML ({err})") from None
    if not way_ids:
        raise OsmReadError("OSM file", text, "at least one highway way with node locations")
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    if progress:
        progress(1.0, f"read {len(way_ids)} highway ways")
    return OsmData(
        path=text,
        way_ids=np.asarray(way_ids, dtype=np.int64),
        way_offsets=offsets,
        node_ids=np.asarray(node_ids, dtype=np.int64),
        lon=np.asarray(lons, dtype=np.float64),
        lat=np.asarray(lats, dtype=np.float64),
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
