"""Responses stay out of caches (Cache-Control: no-store) and forbid browser features
(Permissions-Policy); a form's `next` field never leads off the site."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import get_resolver, reverse

from rempart.core.models import ApiToken, CityBasemap
from tests.conftest import USER_PASSWORD
from tests.core.test_security import _concrete, _patterns

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(organisation: Any) -> Any:
    return get_user_model().objects.create_superuser("root", password=USER_PASSWORD)


def test_every_page_and_endpoint_says_no_store(root: Any, site: Any) -> None:
    """Walk every URL as a superuser (whatever the answer: 200, 404, 405...): each one, pages,
    API answers and exports alike, tells caches not to keep it."""
    client = Client()
    client.force_login(root)
    checked = 0
    for pattern, name in _patterns(get_resolver()):
        if pattern.startswith("static/") or name == "core:basemap":
            continue
        response = client.get(_concrete(pattern))  # a live stream is not read: headers only
        assert "no-store" in response.get("Cache-Control", ""), (pattern, response.status_code)
        checked += 1
    assert checked > 40


@pytest.mark.parametrize(
    ("url_name", "kwargs", "content_type"),
    [
        ("core:site_export", {}, "application/geo+json"),
        ("core:site_geojson", {"pk": "site"}, "application/geo+json"),
        ("access:permits_export", {}, "text/csv"),
        ("practices:export", {}, ""),
        ("core:audit_list", {}, "text/html"),
    ],
)
def test_exports_and_sensitive_pages_say_no_store(
    root: Any, site: Any, url_name: str, kwargs: dict[str, str], content_type: str
) -> None:
    client = Client()
    client.force_login(root)
    url = reverse(url_name, kwargs={k: site.pk for k in kwargs})
    response = client.get(url, {"city": site.city.slug})
    assert response.status_code == 200, url
    assert content_type in response["Content-Type"]
    assert "no-store" in response["Cache-Control"]


def test_api_answers_with_a_token_say_no_store(make_user: Any, site: Any) -> None:
    _token, secret = ApiToken.issue(make_user("viewer"), "script", ["core:read"])
    response = Client().get(
        "/api/v1/sites", {"city": site.city.slug}, HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_base_map_of_public_streets_may_be_cached_privately(make_user: Any, city: Any) -> None:
    CityBasemap.objects.create(city=city, geojson='{"type": "FeatureCollection", "features": []}')
    client = Client()
    client.force_login(make_user("viewer"))
    response = client.get(reverse("core:basemap", args=[city.slug]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, max-age=3600"


def test_permissions_policy_forbids_the_browser_features(client: Client) -> None:
    policy = client.get(reverse("login"))["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/login", "//evil.example/", "https:evil.example", "javascript:alert(1)"],
)
def test_a_post_next_field_never_leads_off_the_site(target: str) -> None:
    """The practices page's "Remove" form (SiteLink delete) posts a `next`."""
    from django.test import RequestFactory

    from rempart.core.safe_redirect import next_url

    request = RequestFactory().post("/practices/site-links/1/delete/", {"next": target})
    assert next_url(request, "/practices/1/") == "/practices/1/"
    request = RequestFactory().post("/x/", {"next": "/sites/?city=nice"})
    assert next_url(request, "/practices/1/") == "/sites/?city=nice"
