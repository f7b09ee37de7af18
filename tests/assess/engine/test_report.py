"""The report an assessor signs (issue 10 item 6): cover fields, language, numbered entries
named by street, per-vehicle heat maps, data gaps, PDF text, and JSON/GeoJSON parity."""

from __future__ import annotations

import datetime as dt
import io
import json

import pypdf
import pytest

from rempart.assess.cli import main
from rempart.assess.engine import assess
from rempart.assess.engine.errors import InputFileError
from rempart.assess.engine.report import (
    ReportMeta,
    html_to_pdf,
    map_data_date,
    site_data,
    to_geojson,
    to_html,
    to_json,
    words_for,
)
from rempart.assess.engine.vehicles import builtin_vehicles

from ._netbuild import road, square, write_osm

# 16:30 UTC on 1 July 2026 is 19:30 in Helsinki (EEST, UTC+3) and 18:30 in Paris (CEST, UTC+2)
CREATED = dt.datetime(2026, 7, 1, 16, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A named avenue straight into a square and an unnamed lane beside it, two vehicles."""
    path = tmp_path_factory.mktemp("report") / "town.osm"
    write_osm(
        path,
        [
            road([(-300.0, 0.0), (0.0, 0.0), (60.0, 0.0)], "secondary", name="Rue de la Paix"),
            road([(30.0, -200.0), (30.0, -40.0)], "residential"),
            # buildings leave two corridors, the avenue's and the lane's, and close the site's
            # other sides 1 m off (too narrow for any vehicle): the roads are the approaches
            # (without them, every edge point of this open map is reached from rest over 400 m
            # of unmapped ground, faster than either road)
            *[
                ({"building": "yes"}, [(a, b), (c, b), (c, e), (a, e), (a, b)])
                for a, b, c, e in (
                    (-420.0, 6.0, 9.0, 420.0),
                    (-420.0, -420.0, 9.0, -6.0),
                    (-420.0, -6.0, -301.0, 6.0),
                    (9.0, 31.0, 420.0, 420.0),
                    (71.0, -420.0, 420.0, 31.0),
                    (9.0, -420.0, 26.0, -31.0),
                    (34.0, -420.0, 71.0, -31.0),
                    (26.0, -420.0, 34.0, -201.0),
                )
            ],
        ],
    )
    vehicles = [builtin_vehicles()[0], builtin_vehicles()[3]]
    return path, assess(path, [("Place Test", square(10, -30, 70, 30))], vehicles=vehicles)


def _meta(**kw):
    base = dict(
        created=CREATED,
        time_zone="Europe/Helsinki",
        city="Testville",
        author="Aino Assessor",
        run_number=7,
        map_data_date="2026-05-02T08:00:00Z",
        map_file="town.osm",
    )
    base.update(kw)
    return ReportMeta(**base)


def test_cover_states_date_author_run_version_and_map_date(results):
    _, res = results
    text = to_html(res, meta=_meta(), words=words_for("en"))
    for needle in (
        "Place Test",
        "Testville",
        "Aino Assessor",
        "<th>Run number</th><td>7</td>",
        "rempart version 0.1.0",
        "July 1, 2026 7:30",  # the run's moment in the city's time zone
        "May 2, 2026 11:00",  # the map data's date, same zone
        "Method and assumptions",
    ):
        assert needle in text, needle
    assert "docs/" not in text and "method.md" not in text  # no link into the repository
    assert "<script" not in text and "http" not in text.replace("http://www.w3.org/2000/svg", "")


def test_unknown_map_date_and_author_say_unknown(results):
    _, res = results
    text = to_html(res, meta=_meta(map_data_date=None, author=""), words=words_for("en"))
    assert "<th>Author</th><td>unknown</td>" in text
    assert "<th>Map data</th><td>unknown</td>" in text
    assert "carries no date" in text


def test_entries_numbered_named_by_street_on_map_and_table(results):
    _, res = results
    d = site_data(res[0])
    numbers = [e["number"] for e in d["entries"]]
    assert numbers == list(range(1, len(d["entries"]) + 1))
    named = [e for e in d["entries"] if e["street"] == "Rue de la Paix"]
    assert named, "the avenue's crossing is named by its OSM name"
    text = to_html(res, meta=_meta(), words=words_for("en"))
    for n in numbers:
        # the number is drawn in the map's circle and heads its rows in the table
        assert f'text-anchor="middle">{n}</text>' in text
        assert f"<td rowspan='2'><b>{n}</b></td>" in text
    assert "Rue de la Paix" in text
    # the unnamed lane is reported as a data gap, with its entry number
    gaps = [w for w in d["warnings"] if w["kind"] == "unnamed_way"]
    assert gaps and all(isinstance(w["entry"], int) for w in gaps)
    assert "the approach way has no name" in text


def test_heat_map_per_vehicle_and_worst_paths_from_their_start(results):
    _, res = results
    text = to_html(res, meta=_meta(), words=words_for("en"))
    for name in ("M1-car", "N2A-7t"):
        assert f'aria-label="Speeds of {name}"' in text
    d = site_data(res[0])
    with_paths = [e for e in d["entries"] if any(v.get("runup_geometry") for v in e["vehicles"])]
    assert text.count("start of the worst path to entry") >= len(with_paths) >= 1


def test_french_report(results):
    _, res = results
    text = to_html(res, meta=_meta(time_zone="Europe/Paris"), words=words_for("fr"))
    assert "<html lang='fr'>" in text
    for needle in (
        "Évaluation des approches de véhicules",
        "Auteur",
        "Méthode et hypothèses",
        "1 juillet 2026 18:30",  # Paris time, French words
        "Vitesses de N2A-7t",
        "voie sans nom",
    ):
        assert needle in text, needle
    assert "Method and assumptions" not in text
    # the car passes 112 km/h on the 300 m avenue: the notation's words are French too
    assert "V/1500[M1]/au-delà des vitesses d'essai" in text.replace("&#x27;", "'")
    assert "exceeds tested speeds" not in text


def test_unknown_language_is_one_clear_line():
    with pytest.raises(InputFileError) as info:
        words_for("de")
    assert "'de'" in str(info.value) and "en, fr" in str(info.value)


def test_pdf_text_has_the_cover_fields_in_french(results):
    _, res = results
    pdf = html_to_pdf(to_html(res, meta=_meta(), words=words_for("fr")))
    assert pdf.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    cover = reader.pages[0].extract_text()
    for needle in ("Place Test", "Testville", "Aino Assessor", "rempart version 0.1.0", "Auteur"):
        assert needle in cover, needle
    # words in narrow table cells wrap over lines: compare with whitespace normalised
    body = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Méthode et hypothèses" in body and "Rue de la Paix" in body
    assert "évaluation 7" in body  # the run's identity in the footer


def test_json_and_geojson_carry_the_same(results):
    _, res = results
    meta = _meta()
    data = json.loads(to_json(res, meta))
    gj = to_geojson(res, meta)
    # the issue-1 shape is kept: only fields are added
    for key in ("site", "geometry", "vehicles", "entries", "plan", "options"):
        assert key in data
    assert data["report"]["run_number"] == 7 and gj["report"] == data["report"]
    (site,) = [f["properties"] for f in gj["features"] if f["properties"]["layer"] == "site"]
    for key in ("vehicles", "options", "warnings", "report"):
        assert site[key] == data[key]
    assert site["plan"]["total_cost_eur"] == data["plan"]["total_cost_eur"]
    entries = [f["properties"] for f in gj["features"] if f["properties"]["layer"] == "entry"]
    assert len(entries) == len(data["entries"])
    for props, e in zip(entries, data["entries"], strict=True):
        for key, value in e.items():
            if key in ("geometry", "vehicles"):
                continue
            assert props[key] == value, key
        assert [v["speed_kmh"] for v in props["vehicles"]] == [
            v["speed_kmh"] for v in e["vehicles"]
        ]
    positions = [f["properties"] for f in gj["features"] if f["properties"]["layer"] == "plan"]
    assert len(positions) == len(data["plan"]["positions"])
    warnings = [f["properties"] for f in gj["features"] if f["properties"]["layer"] == "warning"]
    # a warning with a position is a point feature; site-wide ones (off-road data gaps) are in
    # the site feature's "warnings", compared above
    assert len(warnings) == len([w for w in data["warnings"] if w.get("lon") is not None])


def test_map_date_from_the_newest_object_or_unknown(tmp_path):
    plain = write_osm(tmp_path / "plain.osm", [road([(0.0, 0.0), (100.0, 0.0)])])
    assert map_data_date(str(plain)) is None  # no header timestamp, no object timestamps
    stamped = tmp_path / "stamped.osm"
    stamped.write_text(
        plain.read_text()
        .replace(
            '<node id="1" version="1"', '<node id="1" version="1" timestamp="2025-03-04T05:06:07Z"'
        )
        .replace(
            '<way id="1" version="1"', '<way id="1" version="1" timestamp="2024-01-01T00:00:00Z"'
        )
    )
    assert map_data_date(str(stamped)) == "2025-03-04T05:06:07Z"


def test_cli_pdf_in_french_with_author_and_run_number(results, tmp_path):
    path, _ = results
    site = tmp_path / "site.geojson"
    site.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "Place Test"},
                        "geometry": square(10, -30, 70, 30),
                    }
                ],
            }
        )
    )
    out = tmp_path / "report.pdf"
    code = main(
        [
            "--osm",
            str(path),
            "--site",
            str(site),
            "--pdf",
            str(out),
            "--lang",
            "fr",
            "--author",
            "Aino Assessor",
            "--run-number",
            "4",
            "--city",
            "Testville",
            "--time-zone",
            "Europe/Paris",
            "--quiet",
        ]
    )
    assert code == 0
    cover = pypdf.PdfReader(str(out)).pages[0].extract_text()
    assert "Aino Assessor" in cover and "Testville" in cover and "Auteur" in cover
    assert "inconnu" in cover  # the hand-built file has no map date


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--lang", "xx"], "report language"),
        (["--time-zone", "Mars/Olympus"], "--time-zone"),
        (["--run-number", "0"], "--run-number"),
    ],
)
def test_cli_bad_report_options(results, tmp_path, capsys, args, fragment):
    path, _ = results
    out = tmp_path / "r.pdf"
    code = main(["--osm", str(path), "--site-name", "nothing", "--pdf", str(out), *args])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and "\n" not in err
    assert not out.exists()
