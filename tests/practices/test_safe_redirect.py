"""The practices page's "Remove" link to a site posts a `next`: it must not redirect off-site."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.practices.test_views import world  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("target", ["https://evil.example/login", "//evil.example/"])
def test_removing_a_site_link_does_not_redirect_off_site(
    users: dict[str, Any],
    world: dict[str, Any],  # noqa: F811
    target: str,
) -> None:
    client = Client()
    client.force_login(users["editor"])
    link = world["link"]
    response = client.post(reverse("practices:site_link_delete", args=[link.pk]), {"next": target})
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
    assert response["Location"] == link.practice.get_absolute_url()


def test_removing_a_site_link_returns_to_a_page_of_the_site(
    users: dict[str, Any],
    world: dict[str, Any],  # noqa: F811
) -> None:
    client = Client()
    client.force_login(users["editor"])
    site = world["site"]
    response = client.post(
        reverse("practices:site_link_delete", args=[world["link"].pk]),
        {"next": site.get_absolute_url()},
    )
    assert response["Location"] == site.get_absolute_url()
