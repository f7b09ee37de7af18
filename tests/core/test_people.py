"""People management by an organisation's core admin: accounts, roles, scope, audit."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from rempart.core.audit_models import AuditEntry
from rempart.core.models import Organisation
from rempart.core.roles import has_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign_user(other_city: Any, make_user: Any) -> Any:
    other = Organisation.objects.create(
        name="Métropole de Lyon", kind="municipality", city=other_city
    )
    return make_user("viewer", org=other, username="lyon-viewer")


def test_admin_creates_an_account_with_roles(
    client: Client, make_user: Any, organisation: Any
) -> None:
    client.force_login(make_user("admin", modules=("core",)))
    response = client.post(
        reverse("core:person_create"),
        {
            "username": "operateur.csu",
            "email": "",
            "organisation": organisation.pk,
            "is_active": "on",
            "role_core": "viewer",
            "role_access": "operator",
            "role_assess": "",
            "role_practices": "",
        },
    )
    assert response.status_code == 200
    assert "one-time password" in response.content.decode()
    person = get_user_model().objects.get(username="operateur.csu")
    assert has_role(person, "access", "operator") and not has_role(person, "access", "supervisor")
    assert not has_role(person, "assess", "viewer")
    assert AuditEntry.objects.filter(
        object_type="auth.user", object_repr="operateur.csu", action="update"
    ).exists()


def test_admin_changes_roles_and_deactivates(
    client: Client, make_user: Any, organisation: Any
) -> None:
    person = make_user("editor", modules=("core", "practices"), username="agent")
    client.force_login(make_user("admin", modules=("core",)))
    response = client.post(
        reverse("core:person_edit", args=[person.pk]),
        {
            "username": "agent",
            "email": "",
            "organisation": organisation.pk,
            "role_core": "viewer",
            "role_access": "",
            "role_assess": "",
            "role_practices": "",
        },
    )
    assert response.status_code == 302
    person = get_user_model().objects.get(pk=person.pk)
    assert not person.is_active
    assert not has_role(person, "practices", "viewer")


def test_admin_sees_only_their_organisation(
    client: Client, make_user: Any, foreign_user: Any
) -> None:
    client.force_login(make_user("admin", modules=("core",)))
    assert "lyon-viewer" not in client.get(reverse("core:people_list")).content.decode()
    assert client.get(reverse("core:person_edit", args=[foreign_user.pk])).status_code == 404


def test_people_pages_need_core_admin(client: Client, make_user: Any) -> None:
    assert client.get(reverse("core:people_list")).status_code == 302
    client.force_login(make_user("supervisor"))
    assert client.get(reverse("core:people_list")).status_code == 403
    assert client.get(reverse("core:person_create")).status_code == 403


def test_admin_cannot_raise_their_own_roles(client: Client, make_user: Any) -> None:
    admin = make_user("admin", modules=("core",))
    client.force_login(admin)
    assert client.get(reverse("core:person_edit", args=[admin.pk])).status_code == 403
