"""Limits on every input (issue 9): hostile files give one sentence, a 4xx or a non-zero exit, and
write nothing. The hostile files are built here; the expected sentences come from the rules
(the limit, the thing and the value), not from the code's output."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from rempart import inputs
from rempart.core.geo import BoundaryError, parse_boundary
from rempart.core.models import CityBasemap, Site
from rempart.core.sites_io import SiteImportError, parse_feature_collection
from rempart.inputs import InputError
from tests.conftest import SQUARE

RING = SQUARE["coordinates"][0]


def _feature(geometry: Any, name: str = "Place") -> dict[str, Any]:
    return {"type": "Feature", "properties": {"name": name}, "geometry": geometry}


def _collection(*features: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


# --- the bounded readers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 100_000 + "]" * 100_000, "nests deeper than 32 levels"),
        ("[" * 40 + "]" * 40, "nests deeper than 32 levels"),
        ('{"a": NaN}', "NaN is not allowed"),
        ('{"a": Infinity}', "Infinity is not allowed"),
        ("[1e400]", "too large"),
        ("[" + "9" * 5000 + "]", "5000 digits: expected at most 20"),
        ('["a\\u0000b"]', "NUL byte"),
        ("{", "is not valid JSON"),
    ],
)
def test_json_reader_refuses_hostile_text_with_one_sentence(text: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        inputs.load_json(text, "file x.json")
    message = str(caught.value)
    assert expected in message and message.startswith("file x.json")
    assert "\n" not in message


def test_json_reader_keeps_plain_geojson() -> None:
    data = _collection(_feature(SQUARE))
    assert inputs.load_json(json.dumps(data).encode(), "f") == data


def test_size_limit_follows_its_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMPART_MAX_UPLOAD_MB", "1")
    inputs.check_size(1_000_000, "file a")  # exactly the limit: accepted
    with pytest.raises(InputError, match=r"file a has 1\.5 MB: expected at most 1 MB"):
        inputs.check_size(1_500_000, "file a")


def test_latin1_text_gives_a_sentence_naming_the_byte() -> None:
    raw = "plate,holder\nAB123CD,Café\n".encode("latin-1")
    with pytest.raises(InputError) as caught:
        inputs.decode_text(raw, "permits.csv")
    # é is 0xE9 in Latin-1, at byte 24 of the file (13 + 11 before it)
    assert "permits.csv is not UTF-8 text (byte 0xe9 at position 24)" in str(caught.value)


def test_utf8_bom_is_dropped() -> None:
    assert inputs.decode_text("\ufeffa,b".encode(), "f") == "a,b"


def test_csv_field_over_the_limit_names_the_line() -> None:
    text = "plate,holder\nAB123CD,ok\nEF456GH," + "x" * 200_000 + "\n"
    with pytest.raises(InputError, match="line 3 has a field over 100000 characters"):
        inputs.csv_rows(text, "permits.csv")


def test_csv_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMPART_MAX_ROWS", "2")
    with pytest.raises(InputError, match="more than 2 rows"):
        inputs.csv_rows("a\n1\n2\n3\n", "f.csv")


@pytest.mark.parametrize(
    "cell", ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
)
def test_csv_exports_neutralise_formulas_and_import_reads_them_back(cell: str) -> None:
    text = inputs.csv_text(["holder", "mass"], [{"holder": cell, "mass": -5}])
    written = list(csv.reader(io.StringIO(text)))[1]
    assert written == ["'" + cell, "-5"]  # text quoted, numbers left as numbers (OWASP)
    _header, rows = inputs.csv_rows(text, "f.csv")
    assert rows[0]["holder"] == cell


def test_positions_swapped_and_out_of_range() -> None:
    with pytest.raises(InputError, match="look swapped"):
        inputs.check_positions([[60.17, 124.94], [60.2, 124.9]], "site")
    with pytest.raises(InputError, match="outside longitude -180..180"):
        inputs.check_positions([[652_000.0, 6_862_000.0]], "site")  # ETRS-TM35FIN metres
    with pytest.raises(InputError, match="more than 3 positions"):
        inputs.check_positions([[1, 1]] * 4, "site", limit=3)


# --- site boundaries ------------------------------------------------------------------------


def test_a_400000_vertex_boundary_is_refused_before_any_geometry_work() -> None:
    # a circle of 400,000 positions: a valid polygon, far over the default of 10,000
    import math

    n = 400_000
    ring = [
        [
            24.95 + 0.001 * math.cos(2 * math.pi * i / n),
            60.168 + 0.0005 * math.sin(2 * math.pi * i / n),
        ]
        for i in range(n)
    ]
    ring.append(ring[0])
    with pytest.raises(BoundaryError, match="400001 positions: expected at most 10000"):
        parse_boundary({"type": "Polygon", "coordinates": [ring]})


# The ten shapes of bad site files named by issue 9, with what the sentence must say.
BAD_SITE_FILES: list[tuple[str, bytes, str]] = [
    ("not JSON", b"name;boundary\nPlace;POLYGON((1 1))", "is not valid JSON"),
    (
        "not a FeatureCollection",
        json.dumps([SQUARE]).encode(),
        "expected a GeoJSON FeatureCollection",
    ),
    ("no geometry", json.dumps(_collection(_feature(None))).encode(), "no geometry"),
    (
        "wrong type",
        json.dumps(
            _collection(_feature({"type": "Point", "coordinates": [24.95, 60.168]}))
        ).encode(),
        "expected Polygon or MultiPolygon",
    ),
    (
        "unclosed ring",
        json.dumps(
            _collection(_feature({"type": "Polygon", "coordinates": [RING[:-1] + [RING[1]]]}))
        ).encode(),
        "not closed",
    ),
    (
        "self-intersecting",
        json.dumps(
            _collection(
                _feature(
                    {
                        "type": "Polygon",
                        "coordinates": [
                            [
                                [24.95, 60.168],
                                [24.952, 60.169],
                                [24.952, 60.168],
                                [24.95, 60.169],
                                [24.95, 60.168],
                            ]
                        ],
                    }
                )
            )
        ).encode(),
        "not a valid polygon",
    ),
    (
        "too few points",
        json.dumps(
            _collection(_feature({"type": "Polygon", "coordinates": [RING[:2] + [RING[0]]]}))
        ).encode(),
        "expected at least 4",
    ),
    (
        "lon/lat swapped or out of range",
        json.dumps(
            _collection(
                _feature(
                    {"type": "Polygon", "coordinates": [[[lon, lat + 100] for lon, lat in RING]]}
                )
            )
        ).encode(),
        "latitude outside -90..90",
    ),
    (
        "NaN and huge numbers",
        b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "P"},'
        b' "geometry": {"type": "Polygon", "coordinates": [[[NaN, 1e999], [1, 1], [1, 2], [NaN, 1e999]]]}}]}',
        "is not allowed: expected finite numbers",
    ),
    ("deep nesting", b"[" * 5000 + b"]" * 5000, "nests deeper than 32 levels"),
]


@pytest.mark.parametrize(
    ("label", "raw", "expected"), BAD_SITE_FILES, ids=[b[0] for b in BAD_SITE_FILES]
)
def test_bad_site_files_give_one_sentence(label: str, raw: bytes, expected: str) -> None:
    with pytest.raises(SiteImportError) as caught:
        parse_feature_collection(raw)
    assert len(caught.value.errors) == 1, caught.value.errors
    assert expected in caught.value.errors[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("label", "raw", "expected"), BAD_SITE_FILES, ids=[b[0] for b in BAD_SITE_FILES]
)
def test_bad_site_uploads_answer_400_and_write_nothing(
    client: Client, city: Any, make_user: Any, label: str, raw: bytes, expected: str
) -> None:
    Site.objects.create(city=city, name="Place", boundary=SQUARE)
    client.force_login(make_user("editor"))
    upload = SimpleUploadedFile("sites.geojson", raw, "application/geo+json")
    response = client.post(reverse("core:site_import"), {"city": city.pk, "file": upload})
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert list(Site.objects.values_list("name", "boundary")) == [("Place", SQUARE)]


@pytest.mark.django_db
def test_latin1_site_upload_is_one_sentence_in_french(
    client: Client, city: Any, make_user: Any
) -> None:
    client.force_login(make_user("editor"))
    upload = SimpleUploadedFile("sites.geojson", '{"name": "Café"}'.encode("latin-1"))
    response = client.post(
        reverse("core:site_import"),
        {"city": city.pk, "file": upload},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 400
    assert "n’est pas du texte UTF-8" in response.content.decode()


# --- sites outside the city's map data ----------------------------------------------------------

HELSINKI_BOX = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "LineString", "coordinates": [[24.93, 60.16], [24.96, 60.18]]},
        }
    ],
}
PARIS = {
    "type": "Polygon",
    "coordinates": [
        [[2.35, 48.85], [2.352, 48.85], [2.352, 48.851], [2.35, 48.851], [2.35, 48.85]]
    ],
}
SWAPPED = {"type": "Polygon", "coordinates": [[[lat, lon] for lon, lat in RING]]}


@pytest.fixture
def mapped_city(city: Any) -> Any:
    CityBasemap.objects.create(city=city, geojson=json.dumps(HELSINKI_BOX))
    return city


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("boundary", "expected"),
    [(PARIS, "expected a site inside it"), (SWAPPED, "longitude and latitude look swapped")],
)
def test_site_form_refuses_a_site_outside_the_city(
    client: Client, mapped_city: Any, make_user: Any, boundary: Any, expected: str
) -> None:
    client.force_login(make_user("editor"))
    response = client.post(
        reverse("core:site_create"),
        {
            "city": mapped_city.pk,
            "name": "Ailleurs",
            "kind": "square",
            "typical_crowd": 1,
            "peak_crowd": 2,
            "boundary": json.dumps(boundary),
        },
    )
    assert response.status_code == 400  # the form again, with the sentence
    assert expected in response.content.decode()
    assert "lies outside the base map of Nice" in response.content.decode()
    assert not Site.objects.exists()


@pytest.mark.django_db
def test_site_inside_the_city_is_accepted_and_import_refuses_outside(
    client: Client, mapped_city: Any, make_user: Any
) -> None:
    client.force_login(make_user("editor"))
    data = _collection(_feature(SQUARE, "Dedans"), _feature(PARIS, "Paris"))
    upload = SimpleUploadedFile("s.geojson", json.dumps(data).encode())
    response = client.post(reverse("core:site_import"), {"city": mapped_city.pk, "file": upload})
    assert response.status_code == 400
    assert "feature 1 (Paris)" in response.content.decode()
    assert not Site.objects.exists()
    upload = SimpleUploadedFile("s.geojson", json.dumps(_collection(_feature(SQUARE))).encode())
    response = client.post(reverse("core:site_import"), {"city": mapped_city.pk, "file": upload})
    assert response.status_code == 302
    assert Site.objects.filter(name="Place").exists()


@pytest.mark.django_db
def test_api_refuses_a_site_outside_the_city(mapped_city: Any, make_user: Any) -> None:
    from rempart.core.models import ApiToken

    user = make_user("admin")
    _token, secret = ApiToken.issue(user, "t", ["core:read", "core:write"])
    response = Client().post(
        "/api/v1/sites",
        {"city": mapped_city.slug, "name": "Paris", "kind": "square", "boundary": PARIS},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 422
    assert "lies outside the base map of Nice" in response.content.decode()
    assert not Site.objects.exists()


# --- rempart assess on hostile files ---------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nests deeper than 32 levels"),
        (
            json.dumps(
                _feature(
                    {
                        "type": "Polygon",
                        "coordinates": [
                            [[24.95, 160.1], [24.96, 160.1], [24.96, 160.2], [24.95, 160.1]]
                        ],
                    }
                )
            ).encode(),
            "look swapped",
        ),
        (
            json.dumps(
                _feature(
                    {
                        "type": "Polygon",
                        "coordinates": [
                            [[500.0, 60.1], [501.0, 60.1], [501.0, 60.2], [500.0, 60.1]]
                        ],
                    }
                )
            ).encode(),
            "outside longitude -180..180",
        ),
    ],
)
def test_assess_command_gives_one_line_and_exit_2(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "site.geojson"
    path.write_bytes(content)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rempart.assess.cli",
            "--site",
            str(path),
            "--osm",
            "none.osm.pbf",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and expected in done.stderr
    assert "Traceback" not in done.stderr


# --- practices import ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"themes": [["nested"]]}, "themes: expected a list of text values"),
        ({"version": -3}, "version: -3, expected a whole number from 1 to 1000000"),
        ({"version": 10**19}, "expected a whole number from 1 to 1000000"),
        (
            {"version": "99999999999999999999999"},
            "version: '99999999999999999999999', expected a whole number",
        ),
        ({"language": ["fr"]}, "language"),
    ],
)
def test_practice_rows_with_hostile_values_are_problems_not_crashes(
    change: dict[str, Any], expected: str
) -> None:
    from rempart.practices.io import clean_row

    row = {"title": "Bollards", "summary": "Removable bollards at market entries", **change}
    _clean, problems = clean_row(row)
    assert any(expected in p for p in problems), problems


def test_practice_json_file_with_deep_nesting_is_one_sentence() -> None:
    from rempart.practices.io import read_rows

    with pytest.raises(ValueError, match="nests deeper than 32 levels"):
        read_rows("[" * 10_000 + "]" * 10_000, "json")


@pytest.mark.django_db
@pytest.mark.parametrize("crowd", [-5, 10**12])
def test_api_refuses_crowds_out_of_range(city: Any, make_user: Any, crowd: int) -> None:
    from rempart.core.models import ApiToken

    _token, secret = ApiToken.issue(make_user("admin"), "t", ["core:read", "core:write"])
    response = Client().post(
        "/api/v1/sites",
        {"city": city.slug, "name": "Foule", "boundary": SQUARE, "peak_crowd": crowd},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 422
    # the schema's bound answers first (the API declares 0..10,000,000), in one sentence
    # naming the field, the value and the bound
    detail = response.json()["detail"]
    assert f"peak_crowd {crowd}" in detail
    assert ("10000000" in detail) if crowd > 0 else ("0" in detail)
    assert not Site.objects.exists()


@pytest.mark.parametrize("loader", ["vehicles", "costs"])
def test_assess_toml_files_nesting_too_deep_are_one_sentence(tmp_path: Path, loader: str) -> None:
    from rempart.assess.engine.errors import InputLimitError
    from rempart.assess.engine.plan import load_costs
    from rempart.assess.engine.vehicles import load_vehicles

    path = tmp_path / "deep.toml"
    path.write_text("a = " + "[" * 5000 + "]" * 5000)
    load = load_vehicles if loader == "vehicles" else load_costs
    with pytest.raises(InputLimitError, match="nests deeper than 32 levels"):
        load(path)


@pytest.mark.django_db
def test_an_unclosed_ring_is_named_in_french(client: Client, city: Any, make_user: Any) -> None:
    client.force_login(make_user("editor"))
    raw = json.dumps(
        _collection(_feature({"type": "Polygon", "coordinates": [RING[:-1] + [RING[1]]]}))
    ).encode()
    upload = SimpleUploadedFile("sites.geojson", raw)
    response = client.post(
        reverse("core:site_import"), {"city": city.pk, "file": upload}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "élément 0 (Place) : l’anneau 0 du contour n’est pas fermé" in body, re.findall(
        r"<li>.*?</li>", body
    )


@pytest.mark.django_db
def test_sites_command_refuses_a_latin1_file_and_imports_a_good_one(
    tmp_path: Path, city: Any, capsys: Any
) -> None:
    from django.core.management import call_command

    bad = tmp_path / "bad.geojson"
    bad.write_bytes(
        json.dumps(_collection(_feature(SQUARE, "Place Café")))
        .replace("\\u00e9", "é")
        .encode("latin-1")
    )
    with pytest.raises(SystemExit) as exited:
        call_command("sites", "import", str(bad), "--city", "nice")
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "is not UTF-8 text (byte 0xe9" in err and "Traceback" not in err
    assert not Site.objects.exists()
    good = tmp_path / "good.geojson"
    good.write_text(json.dumps(_collection(_feature(SQUARE, "Place Masséna"))), encoding="utf-8")
    call_command("sites", "import", str(good), "--city", "nice")
    assert Site.objects.get().name == "Place Masséna"
