"""In a real browser: log in, see the demo sites on the dashboard map, draw a site and save it."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from rempart.core.models import Site
from tests.browser import artifact_path, browser_page, log_in  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_dashboard_map_and_draw_a_site(live_server: Any, browser_page: Any) -> None:  # noqa: F811
    call_command("demo", "load", stdout=StringIO())
    get_user_model().objects.create_superuser("chief", "", "a long browser password")
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    log_in(page, "chief", "a long browser password")
    page.wait_for_url(f"{live_server.url}/")
    # The demo sites are drawn on the dashboard map (Leaflet renders them into a canvas or SVG).
    page.wait_for_selector("#dashboard-map.leaflet-container")
    assert "Sites" in page.locator(".counts").inner_text().splitlines()
    assert "Senaatintori" in page.content()
    page.wait_for_timeout(800)  # the street base map arrives by fetch
    page.screenshot(path=str(artifact_path("dashboard.png")), full_page=True)

    page.goto(f"{live_server.url}/sites/new/")
    page.wait_for_selector("#site-form-map .leaflet-draw-draw-rectangle")
    page.get_by_label("Name").fill("Drawn in the browser")
    page.select_option("#id_kind", "square")
    page.click("#site-form-map .leaflet-draw-draw-rectangle")
    box = page.locator("#site-form-map").bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x0 - 60, y0 - 40)
    page.mouse.down()
    page.mouse.move(x0 + 60, y0 + 40, steps=8)
    page.mouse.up()
    page.screenshot(path=str(artifact_path("site-drawn.png")))
    expect(page.locator("#id_boundary")).to_have_value(re.compile("Polygon"))
    page.click("#save-site")
    page.wait_for_url("**/sites/*/")
    site = Site.objects.get(name="Drawn in the browser")
    assert site.boundary["type"] == "Polygon"
    assert len(site.boundary["coordinates"][0]) == 5
    page.screenshot(path=str(artifact_path("site-detail.png")), full_page=True)
    assert not errors, errors
