"""Finding candidate crowded spaces in a hand-written OSM file."""

from __future__ import annotations

from pathlib import Path

import pytest

from rempart.screen.candidates import DEFAULT_FILTER, find_candidates

from ._osmwrite import write_osm


def _sample(tmp_path: Path) -> Path:
    nodes = [
        (1, 2.0, 48.0, {"place": "square", "name": "Place A"}),
        (2, 2.001, 48.0, {}),
        (3, 2.003, 48.0, {}),
        (4, 2.01, 48.01, {"amenity": "bench"}),
        (5, 2.02, 48.02, {"railway": "station", "name": "Gare"}),
        (6, 2.03, 48.03, {}),
        (7, 2.03, 48.04, {}),
    ]
    ways = [
        (10, [2, 3], {"highway": "pedestrian", "name": "Rue piétonne"}),
        (11, [6, 7], {"highway": "residential"}),
    ]
    return write_osm(tmp_path / "sample.osm", nodes, ways)


def test_default_filter_finds_square_station_and_pedestrian_street(tmp_path: Path) -> None:
    found = {c.site_id: c for c in find_candidates(_sample(tmp_path))}
    assert set(found) == {"n1", "n5", "w10"}
    assert found["n1"].kind == "place=square"
    assert found["n5"].name == "Gare"
    # A way sits at the mean of its nodes: (2.001 + 2.003) / 2 = 2.002.
    assert found["w10"].lon == pytest.approx(2.002)
    assert found["w10"].lat == pytest.approx(48.0)


def test_configurable_filter(tmp_path: Path) -> None:
    found = find_candidates(_sample(tmp_path), rules=(("highway", "*"),))
    assert sorted(c.site_id for c in found) == ["w10", "w11"]
    assert ("place", "square") in DEFAULT_FILTER


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.osm"):
        find_candidates(tmp_path / "nope.osm")
