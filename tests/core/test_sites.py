"""Sites through the web form and GeoJSON import/export."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from rempart.core.audit_models import AuditEntry
from rempart.core.models import Site
from tests.conftest import SQUARE

pytestmark = pytest.mark.django_db


def test_form_creates_a_site_drawn_on_the_map(client: Client, city: Any, make_user: Any) -> None:
    client.force_login(make_user("editor"))
    response = client.post(
        reverse("core:site_create"),
        {
            "city": city.pk,
            "name": "Place Garibaldi",
            "kind": "square",
            "description": "",
            "typical_crowd": 300,
            "peak_crowd": 5000,
            "boundary": json.dumps(SQUARE),
        },
    )
    assert response.status_code == 302
    site = Site.objects.get(name="Place Garibaldi")
    assert site.boundary["type"] == "Polygon"


@pytest.mark.parametrize(
    ("boundary", "message"),
    [
        (
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
            },
            "not a valid polygon",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[1043000, 6297000], [1043100, 6297000], [1043100, 6297100], [1043000, 6297000]]
                ],
            },
            "outside WGS84",
        ),
    ],
)
def test_form_shows_a_clear_boundary_error(
    client: Client, city: Any, make_user: Any, boundary: Any, message: str
) -> None:
    client.force_login(make_user("editor"))
    response = client.post(
        reverse("core:site_create"),
        {
            "city": city.pk,
            "name": "Bad",
            "kind": "square",
            "typical_crowd": 0,
            "peak_crowd": 0,
            "boundary": json.dumps(boundary),
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Site.objects.filter(name="Bad").exists()


def test_editor_cannot_put_a_site_in_a_city_of_another_organisation(
    client: Client, other_city: Any, make_user: Any
) -> None:
    client.force_login(make_user("editor"))
    response = client.post(
        reverse("core:site_create"),
        {
            "city": other_city.pk,
            "name": "Intrus",
            "kind": "square",
            "typical_crowd": 0,
            "peak_crowd": 0,
            "boundary": json.dumps(SQUARE),
        },
    )
    assert response.status_code == 400  # the city is not among the form's choices
    assert not Site.objects.filter(name="Intrus").exists()


def test_import_rejects_the_whole_file_when_one_feature_is_bad(
    client: Client, city: Any, make_user: Any
) -> None:
    client.force_login(make_user("editor"))
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": "Good"}, "geometry": SQUARE},
            {
                "type": "Feature",
                "properties": {"name": "Open"},
                "geometry": {"type": "Polygon", "coordinates": [SQUARE["coordinates"][0][:-1]]},
            },
            {"type": "Feature", "properties": {}, "geometry": SQUARE},
        ],
    }
    upload = SimpleUploadedFile(
        "sites.geojson", json.dumps(collection).encode(), "application/geo+json"
    )
    response = client.post(reverse("core:site_import"), {"city": city.pk, "file": upload})
    body = response.content.decode()
    assert response.status_code == 400
    assert "feature 1 (Open)" in body and "not closed" in body
    assert "feature 2 (no name)" in body
    assert not Site.objects.filter(city=city).exists()


def test_export_then_import_round_trip(client: Client, site: Site, make_user: Any) -> None:
    client.force_login(make_user("editor"))
    exported = client.get(reverse("core:site_export")).content
    assert AuditEntry.objects.filter(action="export").exists()
    Site.objects.all().delete()
    upload = SimpleUploadedFile("sites.geojson", exported, "application/geo+json")
    response = client.post(reverse("core:site_import"), {"city": site.city.pk, "file": upload})
    assert response.status_code == 302
    again = Site.objects.get(name=site.name)
    assert again.boundary == site.boundary
    assert (again.kind, again.peak_crowd) == (site.kind, site.peak_crowd)


def test_site_events_are_shown_in_the_city_time_zone(
    client: Client, site: Site, make_user: Any
) -> None:
    client.force_login(make_user("editor"))
    response = client.post(
        reverse("core:site_event_add", args=[site.pk]),
        {
            "name": "Feu d'artifice du 14 juillet",
            "starts_at": "2027-07-14T22:00",
            "ends_at": "2027-07-14T23:00",
            "expected_crowd": 30000,
        },
    )
    assert response.status_code == 302
    body = client.get(site.get_absolute_url()).content.decode()
    assert "2027-07-14 22:00" in body


def test_french_interface(client: Client, site: Site, make_user: Any) -> None:
    client.force_login(make_user("viewer"))
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    body = client.get(reverse("core:site_list"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'lang="fr"' in body
    assert "Exporter en GeoJSON" in body


def test_pages_use_the_time_zone_of_the_city_being_viewed(
    client: Client, make_user: Any, organisation: Any
) -> None:
    import datetime as dt

    from rempart.core.models import ApiToken, City

    helsinki = City.objects.create(
        name="Helsinki", slug="helsinki", country="FI", timezone="Europe/Helsinki"
    )
    organisation.cities.add(helsinki)
    user = make_user("admin")
    token, _secret = ApiToken.issue(user, "camera", ["core:read"])
    ApiToken.objects.filter(pk=token.pk).update(
        created_at=dt.datetime(2027, 1, 15, 12, 0, tzinfo=dt.UTC)
    )
    client.force_login(user)
    client.get("/?city=nice")
    assert (
        "2027-01-15 13:00" in client.get(reverse("core:token_list")).content.decode()
    )  # Paris, UTC+1
    client.get("/?city=helsinki")
    assert (
        "2027-01-15 14:00" in client.get(reverse("core:token_list")).content.decode()
    )  # Helsinki, UTC+2
