"""``rempart screen import DIR --city SLUG``: screened sites become sites of a city, once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyproj import Geod

from rempart.assess.management.commands.screen import main
from rempart.core.models import AuditEntry, CityBasemap, Site
from rempart.screen.importer import POINT_BUFFER_M
from rempart.screen.runner import screen

from ._osmwrite import write_osm
from .test_outputs import VEHICLES, _lonlat

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def screened(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A screening of two sites: square w1 (100 m x 100 m outline, crossed by a road) and
    market n9 (a point on the same road, no outline)."""
    tmp = tmp_path_factory.mktemp("import")
    nodes: list[tuple[int, float, float, dict[str, str]]] = []
    corners = [(0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0)]
    for i, (x, y) in enumerate(corners):
        nodes.append((10 + i, *_lonlat(x, y), {}))
    nodes.append((20, *_lonlat(50.0, -400.0), {}))
    nodes.append((21, *_lonlat(50.0, 50.0), {}))
    nodes.append((9, *_lonlat(50.0, -200.0), {"amenity": "marketplace", "name": "Marché"}))
    ways = [
        (1, [10, 11, 12, 13, 10], {"place": "square", "name": "Place Garibaldi"}),
        (2, [20, 9, 21], {"highway": "primary"}),
    ]
    osm = write_osm(tmp / "r.osm", nodes, ways)
    out = tmp / "out"
    screen(osm, out, workers=0, vehicles=VEHICLES, progress=False)
    return out


def _run(*argv: str) -> int:
    return main(["import", *argv])


@pytest.mark.django_db
def test_import_creates_once_then_updates(screened: Path, city: Any, capsys: Any) -> None:
    audits = AuditEntry.objects.filter(action="import").count()
    assert _run(str(screened), "--city", "nice", "--top", "2") == 0
    assert "2 sites were created and 0 updated in nice" in capsys.readouterr().out
    square = Site.objects.get(city=city, osm_ref="way/1")
    market = Site.objects.get(city=city, osm_ref="node/9")
    assert (square.name, square.kind) == ("Place Garibaldi", "square")
    assert (market.name, market.kind) == ("Marché", "market")
    # the square keeps its OSM outline: 5 ring positions, first corner at (0, 0) m
    ring = square.boundary["coordinates"][0]
    assert len(ring) == 5
    assert ring[0] == pytest.approx(list(_lonlat(0.0, 0.0)), abs=1e-9)
    # the point becomes a circle of 30 m around it (geodesic distances on WGS84)
    lon0, lat0 = _lonlat(50.0, -200.0)
    for lon, lat in market.boundary["coordinates"][0]:
        assert GEOD.inv(lon0, lat0, lon, lat)[2] == pytest.approx(POINT_BUFFER_M, abs=0.01)
    # the crowd capacity estimate (10,000 m2 x 2 persons/m2) as the peak crowd
    assert square.peak_crowd == pytest.approx(20_000, rel=2e-3)
    assert AuditEntry.objects.filter(action="import").count() == audits + 1
    entry = AuditEntry.objects.filter(action="import").latest("pk")
    assert entry.detail["format"] == "screening" and entry.detail["created"] == 2

    # renamed in the platform, re-imported: the same two sites, updated, the new name kept
    Site.objects.filter(pk=square.pk).update(name="Place Garibaldi (Nice)")
    assert _run(str(screened), "--city", "nice", "--ids", "w1,n9") == 0
    assert "0 sites were created and 2 updated" in capsys.readouterr().out
    assert Site.objects.filter(city=city).count() == 2
    assert Site.objects.get(osm_ref="way/1").name == "Place Garibaldi (Nice)"
    assert AuditEntry.objects.filter(action="import").count() == audits + 2


@pytest.mark.django_db
def test_a_name_taken_by_another_site_gets_the_osm_id(
    screened: Path, city: Any, capsys: Any
) -> None:
    square = {
        "type": "Polygon",
        "coordinates": [[[7.0, 43.0], [7.001, 43.0], [7.0, 43.001], [7.0, 43.0]]],
    }
    Site.objects.create(city=city, name="Marché", kind="market", boundary=square)
    assert _run(str(screened), "--city", "nice", "--ids", "n9") == 0
    assert Site.objects.get(osm_ref="node/9").name == "Marché (n9)"
    assert Site.objects.get(name="Marché").osm_ref == ""


@pytest.mark.django_db
def test_dry_run_writes_nothing(screened: Path, city: Any, capsys: Any) -> None:
    assert _run(str(screened), "--city", "nice", "--top", "1", "--dry-run") == 0
    assert "1 sites would be created" in capsys.readouterr().out
    assert not Site.objects.exists()


@pytest.mark.django_db
def test_sites_outside_the_city_map_are_refused(screened: Path, city: Any, capsys: Any) -> None:
    helsinki = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "LineString", "coordinates": [[24.93, 60.16], [24.96, 60.18]]},
            }
        ],
    }
    CityBasemap.objects.create(city=city, geojson=json.dumps(helsinki))
    assert _run(str(screened), "--city", "nice", "--top", "2") == 2
    err = capsys.readouterr().err
    assert "2 site(s) refused; nothing written" in err
    assert "lies outside the base map of Nice" in err
    assert not Site.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["{missing}", "--city", "nice", "--top", "1"], "does not exist; expected the --out"),
        (["{empty}", "--city", "nice", "--top", "1"], "has no results.parquet"),
        (["{dir}", "--city", "nice", "--ids", "w1,w999"], "site id w999 is not in the screening"),
        (["{dir}", "--city", "nice", "--top", "0"], "--top 0 is not a number of sites"),
        (["{dir}", "--city", "atlantis", "--top", "1"], "'atlantis' is not a city of the platform"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(
    screened: Path, city: Any, tmp_path: Path, capsys: Any, args: list[str], sentence: str
) -> None:
    (tmp_path / "empty").mkdir()
    paths = {"missing": tmp_path / "nope", "empty": tmp_path / "empty", "dir": screened}
    argv = [a.format(**{k: str(v) for k, v in paths.items()}) for a in args]
    audits = AuditEntry.objects.count()
    assert _run(*argv) == 2
    err = capsys.readouterr().err
    assert sentence in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not Site.objects.exists()
    assert AuditEntry.objects.count() == audits


@pytest.mark.django_db
def test_the_rempart_command_dispatches_screen_import(
    screened: Path, city: Any, capsys: Any
) -> None:
    from rempart.cli import main as rempart

    assert rempart(["screen", "import", str(screened), "--city", "nice", "--top", "1"]) == 0
    assert "1 sites were created" in capsys.readouterr().out
    assert Site.objects.filter(city=city).count() == 1
    assert rempart(["screen", "--osm", "x.osm", "--out", "o", "--lang", "de"]) == 2
    assert "--lang 'de' is not available; expected en or fr" in capsys.readouterr().err
