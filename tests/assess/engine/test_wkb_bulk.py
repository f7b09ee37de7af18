"""The obstacles' geometries built in bulk (drivable.geometries_of_wkb, branch obstread): the
same geometries, bit for bit, as shapely's own WKB reader followed by ``shapely.transform``
with the same projection, for the records osmium writes (little-endian LineStrings, one-ring
MultiPolygons) and for every other record (holes, several polygons, big-endian, points), with
coordinates on OSM's 1e-7 degree grid (each distinct point projected once) or off it."""

from __future__ import annotations

import numpy as np
import shapely

from rempart.assess.engine.drivable import geometries_of_wkb
from rempart.assess.engine.graph import _transformers


def _project(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = _transformers(24.94, 60.17)[0].transform(lon, lat)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _reference(hexes: list[str]) -> list[bytes]:
    geoms = shapely.from_wkb(np.array(hexes, dtype=object))
    out = shapely.transform(geoms, lambda c: np.column_stack(_project(c[:, 0], c[:, 1])))
    return list(shapely.to_wkb(out))


def _square(i: int, j: int, d: int, unit: float) -> list[tuple[float, float]]:
    """A closed square ring, corners at integers times ``unit`` degrees: with 1e-7 the values
    osmium gives (its fixed-point integer divided by 1e7)."""
    corners = [(i, j), (i + d, j), (i + d, j + d), (i, j + d), (i, j)]
    return [(a / unit, b / unit) for a, b in corners]


def _records(unit: float) -> list[str]:
    """Hex WKB of every shape, corners on a grid of ``1 / unit`` degrees."""
    i, j = round(24.94 * unit), round(60.17 * unit)
    a = _square(i, j, 1000, unit)
    b = _square(i + 2000, j, 1000, unit)
    hole = _square(i + 200, j + 200, 100, unit)
    geoms = [
        shapely.linestrings(a[:3]),
        shapely.multipolygons([shapely.polygons(a)]),
        shapely.linestrings(a[1:4]),  # shares nodes with the area before it
        shapely.multipolygons([shapely.polygons(a, holes=[hole])]),
        shapely.multipolygons([shapely.polygons(a), shapely.polygons(b)]),
        shapely.polygons(b),
        shapely.points(24.95, 60.18),
        shapely.linestrings(b),
        shapely.multipolygons([shapely.polygons(b)]),
    ]
    return [str(shapely.to_wkb(g, hex=True, byte_order=1)) for g in geoms] + [
        str(shapely.to_wkb(geoms[0], hex=True, byte_order=0)),  # big-endian
        str(shapely.to_wkb(geoms[1], hex=True, byte_order=0)),
    ]


def test_bulk_geometries_equal_the_reader_and_transform_on_the_osm_grid() -> None:
    hexes = _records(1e7)
    got = geometries_of_wkb(hexes, _project)
    assert list(shapely.to_wkb(got)) == _reference(hexes)
    assert [g.geom_type for g in got[:2]] == ["LineString", "MultiPolygon"]


def test_bulk_geometries_equal_the_reader_and_transform_off_the_grid() -> None:
    hexes = _records(1.234567891e7)  # corners between OSM's fixed-point values
    got = geometries_of_wkb(hexes, _project)
    assert list(shapely.to_wkb(got)) == _reference(hexes)


def test_only_the_simple_records_and_none() -> None:
    hexes = [h for i, h in enumerate(_records(1e7)) if i in (0, 1, 2, 7, 8)]
    assert list(shapely.to_wkb(geometries_of_wkb(hexes, _project))) == _reference(hexes)
    assert list(shapely.to_wkb(geometries_of_wkb(hexes[:1], _project))) == _reference(hexes[:1])
    assert geometries_of_wkb([], _project).size == 0
