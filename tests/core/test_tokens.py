"""Who may revoke an API token: its owner, a core admin of the owner's organisation, a superuser.

Token ids are sequential: an admin of another city must not be able to cut off a city's
cameras by walking them (issue 9, item 1). Another organisation's token answers 404, as a token
that does not exist, and the refusal is audited.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rempart.core.audit_models import AuditEntry
from rempart.core.models import ApiToken, City, Organisation
from tests.access.test_models_fixtures import camera_read, make_zone, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def helsinki_camera(make_user: Any) -> tuple[Any, str]:
    """A Helsinki camera's token (its owner: an access operator of the city's organisation)."""
    helsinki = City.objects.create(name="Helsinki", slug="helsinki", country="FI")
    org = Organisation.objects.create(name="Helsingin kaupunki", kind="municipality", city=helsinki)
    org.cities.add(helsinki)
    make_zone(helsinki, "senaatintori")
    owner = make_user("operator", modules=("access",), org=org, username="hel-camera")
    secret = token_for(owner, ["access:request"], ["senaatintori-in"])
    return ApiToken.objects.get(user=owner), secret


def read(client: Client, secret: str) -> int:
    return client.post(
        "/api/v1/access/requests",
        camera_read("senaatintori-in"),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    ).status_code


def revoke(client: Client, token: ApiToken) -> int:
    return client.post(reverse("core:token_revoke", args=[token.pk])).status_code


def test_an_admin_of_another_city_cannot_revoke_a_camera_token(
    client: Client, make_user: Any, helsinki_camera: tuple[Any, str]
) -> None:
    token, secret = helsinki_camera
    assert read(client, secret) == 200
    brest = City.objects.create(name="Brest", slug="brest", country="FR")
    brest_org = Organisation.objects.create(name="Ville de Brest", kind="municipality", city=brest)
    brest_org.cities.add(brest)
    brest_admin = make_user("admin", modules=("core", "access"), org=brest_org, username="brest")
    client.force_login(brest_admin)
    assert revoke(client, token) == 404
    missing = ApiToken(pk=token.pk + 1000)
    assert revoke(client, missing) == 404  # the same answer as for no token at all
    token.refresh_from_db()
    assert token.revoked_at is None
    assert read(client, secret) == 200  # the camera keeps working
    refusal = AuditEntry.objects.get(action="permission_denied")
    assert refusal.object_id == str(token.pk) and refusal.detail["answered"] == 404
    page = client.get(reverse("core:token_list")).content.decode()
    assert token.key_id not in page


def test_a_member_of_the_organisation_without_the_admin_role_cannot_either(
    client: Client, make_user: Any, helsinki_camera: tuple[Any, str]
) -> None:
    token, secret = helsinki_camera
    colleague = make_user(
        "supervisor", modules=("core", "access"), org=token.user.profile.organisation
    )
    client.force_login(colleague)
    assert revoke(client, token) == 404
    assert read(client, secret) == 200


def test_the_organisations_admin_and_the_owner_can(
    client: Client, make_user: Any, helsinki_camera: tuple[Any, str]
) -> None:
    token, secret = helsinki_camera
    admin = make_user("admin", modules=("core",), org=token.user.profile.organisation)
    client.force_login(admin)
    page = client.get(reverse("core:token_list")).content.decode()
    assert token.key_id in page and "hel-camera" in page  # the organisation's tokens, to revoke
    assert revoke(client, token) == 302
    assert read(client, secret) == 401
    own_secret = token_for(token.user, ["access:request"])
    own = ApiToken.objects.get(user=token.user, revoked_at__isnull=True)
    client.force_login(token.user)
    assert revoke(client, own) == 302
    assert read(client, own_secret) == 401
