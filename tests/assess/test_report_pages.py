"""Report downloads of a stored run (issue 10 item 6): HTML and PDF in the reader's language,
a cover with the run's number, author and city time, permission checked and audited."""

from __future__ import annotations

import io
from typing import Any

import pypdf
import pytest
from django.test import Client
from django.urls import reverse

from rempart.assess import services
from rempart.assess.models import Assessment, CityOsmData
from rempart.core.audit_models import AuditEntry
from rempart.core.models import Site

from .engine._netbuild import road, square, write_osm

pytestmark = pytest.mark.django_db


@pytest.fixture
def town_site(city: Any, tmp_path: Any, settings: Any) -> Site:
    settings.MAP_DIR = tmp_path  # map files are read only from the map directory (issue 9)
    osm = write_osm(
        tmp_path / "nice.osm",
        [road([(-300.0, 0.0), (0.0, 0.0), (60.0, 0.0)], "secondary", name="Rue de France")],
    )
    CityOsmData.objects.create(city=city, osm_path=str(osm))
    return Site.objects.create(city=city, name="Place test", boundary=square(10, -30, 70, 30))


@pytest.fixture
def runs(town_site: Site, make_user: Any) -> tuple[Assessment, Any]:
    author = make_user("editor", username="claire")
    author.first_name, author.last_name = "Claire", "Évaluatrice"
    author.save()
    services.execute(services.request_run(town_site, author).pk)  # run 1
    second = services.execute(services.request_run(town_site, author).pk)  # run 2
    assert second.status == Assessment.Status.DONE, second.error
    return second, author


def test_html_report_in_french_states_run_number_author_and_city(
    client: Client, runs: tuple[Assessment, Any], make_user: Any
) -> None:
    run, _ = runs
    client.force_login(make_user("viewer", modules=("core", "assess")))
    client.cookies["django_language"] = "fr"
    response = client.get(reverse("assess:run_report", args=[run.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html lang='fr'>" in body
    for needle in (
        "Place test",
        "Nice",
        "Claire Évaluatrice",
        "<td>2</td>",  # the site's second run
        "Rue de France",
        "Méthode et hypothèses",
        "(Europe/Paris)",
        "nice.osm",
    ):
        assert needle in body, needle
    assert AuditEntry.objects.filter(
        action="export", object_type="assess.assessment", object_id=str(run.pk)
    ).exists()


def test_pdf_report_download(client: Client, runs: tuple[Assessment, Any], make_user: Any) -> None:
    run, _ = runs
    client.force_login(make_user("viewer", modules=("core", "assess")))
    response = client.get(reverse("assess:run_report_pdf", args=[run.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith('.pdf"')
    cover = pypdf.PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Claire Évaluatrice" in cover and "Run number" in cover and "Nice" in cover
    exports = AuditEntry.objects.filter(action="export", object_id=str(run.pk))
    assert [e.detail.get("format") for e in exports] == ["pdf"]


def test_report_of_another_city_is_404_and_unfinished_is_refused(
    client: Client, runs: tuple[Assessment, Any], make_user: Any, other_city: Any
) -> None:
    from rempart.core.models import Organisation

    run, _ = runs
    lyon = Organisation.objects.create(name="Ville de Lyon", kind="municipality", city=other_city)
    lyon.cities.add(other_city)
    client.force_login(make_user("admin", org=lyon, username="lyon-admin"))
    for name in ("assess:run_report", "assess:run_report_pdf"):
        assert client.get(reverse(name, args=[run.pk])).status_code == 404
    queued = services.request_run(run.site)
    client.force_login(make_user("viewer", username="nice-viewer"))
    assert client.get(reverse("assess:run_report_pdf", args=[queued.pk])).status_code in (403, 404)


def test_run_page_says_a_position_above_tested_speeds_is_not_costed(
    client: Client, runs: tuple[Assessment, Any], make_user: Any
) -> None:
    # 300 m from rest takes the built-in car past 112 km/h (it needs about 200 m): the plan
    # position on the street exceeds tested speeds and is not costed
    run, _ = runs
    plan = run.result["plan"]
    assert plan["not_costed"] >= 1
    client.force_login(make_user("viewer", modules=("core", "assess")))
    body = client.get(run.get_absolute_url()).content.decode()
    assert "not costed: exceeds tested speeds" in body
    assert reverse("assess:run_report_pdf", args=[run.pk]) in body


def test_json_and_geojson_downloads_carry_the_same(
    client: Client, runs: tuple[Assessment, Any], make_user: Any
) -> None:
    import json

    run, _ = runs
    client.force_login(make_user("viewer", modules=("core", "assess")))
    data = json.loads(client.get(reverse("assess:run_json", args=[run.pk])).content)
    gj = json.loads(client.get(reverse("assess:run_geojson", args=[run.pk])).content)
    assert data["report"]["run_number"] == 2 and data["report"]["author"] == "Claire Évaluatrice"
    assert gj["report"] == data["report"]
    layers: dict[str, list[dict[str, Any]]] = {}
    for f in gj["features"]:
        layers.setdefault(f["properties"]["layer"], []).append(f["properties"])
    (site,) = layers["site"]
    for key in ("vehicles", "options", "warnings", "report"):
        assert site[key] == data[key], key
    assert [e["number"] for e in layers["entry"]] == [e["number"] for e in data["entries"]]
    assert [p["cost_eur"] for p in layers["plan"]] == [
        p["cost_eur"] for p in data["plan"]["positions"]
    ]
    placed = [w for w in data["warnings"] if w.get("lon") is not None]  # site-wide: site feature
    assert len(layers.get("warning", [])) == len(placed)
    assert layers["speed_field"], "the speed-field layer"
