"""Permission matrix of the core's pages and API: anonymous, wrong role, other city, right role."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rempart.core.audit_models import AuditEntry
from rempart.core.models import ApiToken, Site
from tests.conftest import SQUARE

pytestmark = pytest.mark.django_db

# (name, URL kwargs from the site fixture, minimal role) — GET pages.
PAGES = [
    ("core:dashboard", None, None),
    ("core:site_list", None, "viewer"),
    ("core:site_detail", "site", "viewer"),
    ("core:site_geojson", "site", "viewer"),
    ("core:site_export", None, "viewer"),
    ("core:site_create", None, "editor"),
    ("core:site_edit", "site", "editor"),
    ("core:site_delete", "site", "editor"),
    ("core:site_import", None, "editor"),
    ("core:audit_list", None, "admin"),
    ("core:token_list", None, None),
]
LOWER = {"editor": "viewer", "admin": "supervisor", "viewer": None}


def _url(name: str, arg: str | None, site: Site) -> str:
    return reverse(name, args=[site.pk]) if arg == "site" else reverse(name)


@pytest.mark.parametrize(("name", "arg", "role"), PAGES)
def test_anonymous_is_sent_to_login(
    client: Client, site: Site, name: str, arg: str | None, role: str | None
) -> None:
    response = client.get(_url(name, arg, site))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "arg", "role"), [p for p in PAGES if p[2] and LOWER[p[2]]])
def test_lower_role_gets_403_and_is_audited(
    client: Client, site: Site, make_user: Any, name: str, arg: str | None, role: str
) -> None:
    client.force_login(make_user(LOWER[role], modules=("core",)))
    response = client.get(_url(name, arg, site))
    assert response.status_code == 403
    assert AuditEntry.objects.filter(action="permission_denied").exists()


@pytest.mark.parametrize(("name", "arg", "role"), [p for p in PAGES if p[2] == "viewer"])
def test_no_role_gets_403(
    client: Client, site: Site, make_user: Any, name: str, arg: str | None, role: str
) -> None:
    client.force_login(make_user(None))
    assert client.get(_url(name, arg, site)).status_code == 403


@pytest.mark.parametrize(("name", "arg", "role"), PAGES)
def test_right_role_gets_200(
    client: Client, site: Site, make_user: Any, name: str, arg: str | None, role: str | None
) -> None:
    client.force_login(make_user(role or "viewer", modules=("core",)))
    assert client.get(_url(name, arg, site)).status_code == 200


@pytest.mark.parametrize(
    "name", ["core:site_detail", "core:site_edit", "core:site_geojson", "core:site_delete"]
)
def test_other_city_gets_404_like_a_missing_id_and_is_audited(
    client: Client, other_city: Any, make_user: Any, name: str
) -> None:
    foreign = Site.objects.create(city=other_city, name="Place Bellecour", boundary=SQUARE)
    client.force_login(make_user("admin", modules=("core",)))
    # 403 would tell which ids other cities have: the same answer as for an id nobody has
    assert client.get(reverse(name, args=[foreign.pk])).status_code == 404
    assert client.get(reverse(name, args=[foreign.pk + 1000])).status_code == 404
    refusal = AuditEntry.objects.get(action="permission_denied")
    assert refusal.object_id == str(foreign.pk) and refusal.city == "lyon"
    assert refusal.detail["answered"] == 404


def test_site_list_shows_only_the_users_cities(
    client: Client, site: Site, other_city: Any, make_user: Any
) -> None:
    Site.objects.create(city=other_city, name="Place Bellecour", boundary=SQUARE)
    client.force_login(make_user("viewer"))
    body = client.get(reverse("core:site_list") + "?city=lyon").content.decode()
    assert "Promenade test" in body
    assert "Bellecour" not in body


# --- API ---------------------------------------------------------------------------------------


def _bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_api_without_credentials_is_401(client: Client, site: Site) -> None:
    assert client.get("/api/v1/sites?city=nice").status_code == 401
    assert client.get(f"/api/v1/sites/{site.pk}").status_code == 401


def test_api_schema_and_docs_need_login(client: Client, make_user: Any) -> None:
    assert client.get("/api/schema").status_code == 401  # JSON, as every /api/ path
    assert client.get("/api/docs").status_code == 302
    client.force_login(make_user("viewer"))
    schema = client.get("/api/schema").json()
    assert "/api/v1/sites" in schema["paths"]


def test_api_token_scopes(client: Client, site: Site, make_user: Any) -> None:
    user = make_user("editor", modules=("core",))
    _, read_only = ApiToken.issue(user, "camera", ["core:read"])
    assert client.get("/api/v1/sites?city=nice", **_bearer(read_only)).status_code == 200
    body = {"city": "nice", "name": "Quai", "kind": "street", "boundary": SQUARE}
    response = client.post(
        "/api/v1/sites", json.dumps(body), content_type="application/json", **_bearer(read_only)
    )
    assert response.status_code == 403
    assert "core:write" in response.json()["detail"]
    _, writer = ApiToken.issue(user, "script", ["core:read", "core:write"])
    response = client.post(
        "/api/v1/sites", json.dumps(body), content_type="application/json", **_bearer(writer)
    )
    assert response.status_code == 201, response.content
    assert AuditEntry.objects.filter(
        action="create", object_type="core.site", object_repr="Quai"
    ).exists()


def test_revoked_or_forged_token_is_401(client: Client, site: Site, make_user: Any) -> None:
    from django.utils import timezone

    token, secret = ApiToken.issue(make_user("viewer"), "camera", ["core:read"])
    assert client.get(f"/api/v1/sites/{site.pk}", **_bearer(secret)).status_code == 200
    assert client.get(f"/api/v1/sites/{site.pk}", **_bearer(secret[:-2] + "xx")).status_code == 401
    token.revoked_at = timezone.now()
    token.save()
    assert client.get(f"/api/v1/sites/{site.pk}", **_bearer(secret)).status_code == 401


def test_token_scope_is_useless_without_the_role(
    client: Client, site: Site, make_user: Any
) -> None:
    viewer = make_user("viewer", modules=("core",))
    _, secret = ApiToken.issue(viewer, "forged scope", ["core:write"])
    response = client.delete(f"/api/v1/sites/{site.pk}", **_bearer(secret))
    assert response.status_code == 403
    assert Site.objects.filter(pk=site.pk).exists()


def test_api_other_city_is_404_like_a_missing_id(
    client: Client, other_city: Any, make_user: Any
) -> None:
    foreign = Site.objects.create(city=other_city, name="Place Bellecour", boundary=SQUARE)
    _, secret = ApiToken.issue(make_user("admin"), "t", ["core:read"])
    response = client.get(f"/api/v1/sites/{foreign.pk}", **_bearer(secret))
    missing = client.get(f"/api/v1/sites/{foreign.pk + 1000}", **_bearer(secret))
    assert (response.status_code, missing.status_code) == (404, 404)
    assert response.json()["detail"] == f"site {foreign.pk} does not exist"
    assert client.get("/api/v1/sites?city=lyon", **_bearer(secret)).status_code == 404
    assert AuditEntry.objects.filter(action="permission_denied", city="lyon").count() == 2


def test_api_rejects_bad_polygon_with_clear_message(
    client: Client, city: Any, make_user: Any
) -> None:
    _, secret = ApiToken.issue(make_user("editor"), "t", ["core:write"])
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[24.95, 60.168], [24.952, 60.169], [24.952, 60.168], [24.95, 60.169], [24.95, 60.168]]
        ],
    }
    body = {"city": "nice", "name": "Bowtie", "boundary": bowtie}
    response = client.post(
        "/api/v1/sites", json.dumps(body), content_type="application/json", **_bearer(secret)
    )
    assert response.status_code == 422
    assert "not a valid polygon" in response.json()["detail"]
    assert not Site.objects.filter(name="Bowtie").exists()
