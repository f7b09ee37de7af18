"""The dashboard shows a module's figures and cards only to users holding a role in it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.access.test_models_fixtures import make_zone

pytestmark = pytest.mark.django_db


def _dashboard(client: Client, user: Any) -> tuple[set[str], str]:
    client.force_login(user)
    response = client.get(reverse("core:dashboard"))
    assert response.status_code == 200
    return {
        module for module, _label, _value in response.context["counts"]
    }, response.content.decode()


def test_figures_of_a_module_need_a_role_in_it(
    client: Client, city: Any, site: Any, make_user: Any
) -> None:
    make_zone(city)  # an access zone with lanes: figures that must not show to outsiders
    modules, page = _dashboard(client, make_user("viewer", modules=("core",)))
    assert modules == {"core"}
    assert "Access zones" not in page and "Sites assessed" not in page
    assert "Promenade test" in page  # the core's own sites

    modules, page = _dashboard(client, make_user("viewer", modules=("core", "access")))
    assert modules == {"core", "access"} and "Access zones" in page

    nobody = make_user(None)  # an account of the organisation without any role yet
    modules, page = _dashboard(client, nobody)
    assert modules == set()
    assert "Promenade test" not in page and 'id="dashboard-map"' not in page
