"""The screening's outputs: exposed edge, crowd capacity, ranked.html and map.html.

Geometry is hand-made in metres (an azimuthal equidistant projection centred on the region,
the engine's own kind) so the expected lengths follow from plane geometry. Test vehicle:
2 m/s2 up to 72 km/h (20 m/s, reached after v²/2a = 100 m).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer

from rempart.assess.engine.vehicles import Vehicle
from rempart.screen.candidates import parse_capacity
from rempart.screen.runner import screen
from rempart.screen.tile_assess import CROWD_DENSITY_PER_M2, EDGE_REACH_M, crowd_capacity

from ._osmwrite import write_osm

VEHICLES = [Vehicle("test-van", "N1", 2000.0, 72.0, 4.0, 2.0, ((0.0, 2.0), (72.0, 2.0)))]
_TO_WGS84 = Transformer.from_crs(
    "+proj=aeqd +lat_0=0 +lon_0=0 +ellps=WGS84 +units=m", "EPSG:4326", always_xy=True
)


def _lonlat(x_m: float, y_m: float) -> tuple[float, float]:
    lon, lat = _TO_WGS84.transform(x_m, y_m)
    return float(lon), float(lat)


def _region(tmp_path: Path) -> Path:
    """Square A (100 m x 100 m, capacity=1500), crossed at right angles by a 450 m straight
    primary road through the middle of its south edge, and at its north edge by a 10 m
    dead-end (at most sqrt(2 x 2 x 10) m/s = 22.8 km/h there). Square B, 20 km east, no
    capacity tag, with a 1 km primary road 5 m south of its south edge, parallel to it."""
    nodes: list[tuple[int, float, float, dict[str, str]]] = []
    ways: list[tuple[int, list[int], dict[str, str]]] = []

    def node(nid: int, x: float, y: float) -> int:
        nodes.append((nid, *_lonlat(x, y), {}))
        return nid

    def square(base: int, x0: float) -> list[int]:
        corners = [(x0, 0.0), (x0 + 100, 0.0), (x0 + 100, 100.0), (x0, 100.0)]
        ids = [node(base + i, x, y) for i, (x, y) in enumerate(corners)]
        return [*ids, ids[0]]

    ways.append((1, square(10, 100.0), {"place": "square", "name": "A", "capacity": "1500"}))
    ways.append((2, [node(20, 150.0, -400.0), node(21, 150.0, 50.0)], {"highway": "primary"}))
    ways.append((3, [node(30, 150.0, 95.0), node(31, 150.0, 105.0)], {"highway": "primary"}))
    bx = 20_000.0
    ways.append((4, square(40, bx), {"place": "square", "name": "B"}))
    # (a middle node: the tile cut keeps the ways with a node inside the tile box)
    road = [node(50, bx - 450, -5.0), node(52, bx + 50, -5.0), node(51, bx + 550, -5.0)]
    ways.append((5, road, {"highway": "primary"}))
    return write_osm(tmp_path / "region.osm", nodes, ways)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    tmp = tmp_path_factory.mktemp("outputs")
    out = tmp / "out"
    screen(_region(tmp), out, workers=0, vehicles=VEHICLES, progress=False)
    frame = pd.read_csv(out / "ranked.csv").set_index("name")
    return out, frame


def test_exposed_edge_of_a_crossing_road(results: tuple[Path, pd.DataFrame]) -> None:
    _out, frame = results
    a = frame.loc["A"]
    # 450 m of straight road: top speed 72 km/h; IWA 14-1 test speeds 16/32/48/64/80 -> 80.
    assert a["speed_kmh"] == pytest.approx(72.0, abs=0.1)
    assert a["rating"] == "V/2000[N1]/80/90"
    # the south edge within 10 m either side of the crossing: 2 x 10 m; the 10 m dead-end
    # at the north edge (22.8 km/h -> a 32 km/h test) is below the site's 80 km/h band.
    assert EDGE_REACH_M == 10.0
    assert a["exposed_edge_m"] == pytest.approx(20.0, abs=0.2)
    assert a["perimeter_m"] == pytest.approx(400.0, rel=2e-3)
    assert a["area_m2"] == pytest.approx(10_000.0, rel=2e-3)
    assert a["crowd_capacity"] == 1500
    assert a["crowd_source"] == "tagged"


def test_exposed_edge_of_a_road_along_the_edge(results: tuple[Path, pd.DataFrame]) -> None:
    _out, frame = results
    b = frame.loc["B"]
    assert b["rating"] == "V/2000[N1]/80/90"
    # the whole 100 m south edge (5 m away) plus 5 m of each side edge (5 + 5 = 10 m away)
    assert b["exposed_edge_m"] == pytest.approx(110.0, abs=0.3)
    # no capacity tag: 10,000 m2 x 2 persons/m2
    assert CROWD_DENSITY_PER_M2 == 2.0
    assert b["crowd_capacity"] == pytest.approx(20_000, rel=2e-3)
    assert b["crowd_source"] == "estimate"


def test_ranked_by_rating_then_exposed_edge(results: tuple[Path, pd.DataFrame]) -> None:
    out, frame = results
    # same rating: the longer exposed edge (B, 110 m) ranks before A (20 m)
    assert frame.loc["B", "rank"] == 1
    assert frame.loc["A", "rank"] == 2
    header = (out / "ranked.csv").read_text().splitlines()[0]
    assert header.startswith("rank,site_id,kind,name,")
    assert "exposed_edge_m" in header and "crowd_capacity,crowd_source" in header


def test_outlines_kept_in_tiles_and_results(results: tuple[Path, pd.DataFrame]) -> None:
    out, _frame = results
    tiles = pd.concat([gpd.read_parquet(p) for p in (out / "tiles").glob("*.parquet")])
    assert set(tiles["boundary"].geom_type) == {"Polygon"}
    res = gpd.read_parquet(out / "results.parquet")
    assert res["boundary"].iloc[0].geom_type == "Polygon"


def test_capacity_tag_and_estimate() -> None:
    assert parse_capacity("1 200") == 1200
    assert parse_capacity("approx. 300") is None
    assert parse_capacity(None) is None
    assert crowd_capacity(350, 1000.0) == (350, "tagged")
    assert crowd_capacity(None, 1000.0) == (2000, "estimate")
    assert crowd_capacity(None, None) == (None, "")


_REMOTE = re.compile(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)


def test_reports_are_offline(results: tuple[Path, pd.DataFrame]) -> None:
    out, _frame = results
    for name in ("ranked.html", "map.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, name
        assert not _REMOTE.search(text), name
        assert "<link" not in text and " src=" not in text, name
    page = (out / "map.html").read_text(encoding="utf-8")
    assert page.count('class="site"') == 2
    assert "<svg" in page and "Required rating" in page
    assert "110 m" in page  # B's exposed edge in the hover text


def test_reports_in_french(tmp_path: Path) -> None:
    out = tmp_path / "fr"
    screen(_region(tmp_path), out, workers=0, vehicles=VEHICLES, progress=False, lang="fr")
    for name in ("ranked.html", "map.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert '<html lang="fr">' in text
        assert "Classe exigée" in text and "Required rating" not in text
        assert "Place" in text  # place=square in words
    table = (out / "ranked.html").read_text(encoding="utf-8")
    assert "<th" in table and "Nom" in table and "Type" in table
    # the CSV's machine headers do not change with the language
    assert (out / "ranked.csv").read_text().startswith("rank,site_id,kind,name,")


def test_unknown_language_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'de' is not available; expected one of en, fr"):
        screen(_region(tmp_path), tmp_path / "o", workers=0, vehicles=VEHICLES, lang="de")
    assert not (tmp_path / "o").exists()  # refused before anything is written


def test_speed_of_the_dead_end_is_below_the_band() -> None:
    # the physics behind the first test's exclusion of the 10 m dead-end
    assert math.sqrt(2 * 2.0 * 10.0) * 3.6 == pytest.approx(22.77, abs=0.01)


def test_sites_file_keeps_polygon_and_capacity(tmp_path: Path) -> None:
    from rempart.screen.runner import load_sites_geojson

    ring = [[0.001, 0.0001], [0.002, 0.0001], [0.002, 0.001], [0.001, 0.001], [0.001, 0.0001]]
    features = [
        {
            "type": "Feature",
            "properties": {"id": "a", "name": "Esplanade", "capacity": 1500},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        },
        {
            "type": "Feature",
            "properties": {"id": "b", "name": "Kiosk"},
            "geometry": {"type": "Point", "coordinates": [0.003, 0.0]},
        },
    ]
    path = tmp_path / "sites.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    a, b = load_sites_geojson(path)
    assert a.capacity == 1500 and a.ring is not None and len(a.ring) == 5
    assert b.capacity is None and b.ring is None
