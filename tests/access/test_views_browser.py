"""In a real browser: the control room updates a lane without reloading when a request is decided
and when the daemon reports the barrier moving."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from rempart.access import services
from rempart.access.models import Barrier, BarrierStatus
from tests.access.test_models_fixtures import make_permits, make_zone
from tests.browser import artifact_path, browser_page, log_in  # noqa: F401  (fixture)
from tests.conftest import USER_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_control_room_updates_a_lane_live(
    live_server: Any,
    browser_page: Any,  # noqa: F811
    city: Any,
    make_user: Any,
) -> None:
    zone = make_zone(city)
    make_permits(city, zone)
    make_user("operator", modules=("access",), username="watcher")
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/accounts/login/?next=/access/")
    log_in(page, "watcher", USER_PASSWORD)
    page.wait_for_url(f"{live_server.url}/access/")
    row = page.locator('tr[data-lane="old-town-in"]')
    expect(row.locator(".last-decision")).to_have_text("–")
    expect(page.locator("#live-status")).to_have_text("live", timeout=10_000)
    page.evaluate("window.__marker = 'same page'")

    # a camera read is decided: the lane shows the grant and the passage, no reload
    services.submit_request("old-town-in", plate="EM-112-AA", confidence=0.98)
    expect(row.locator(".last-decision")).to_contain_text("Granted", timeout=10_000)
    expect(row.locator(".last-decision")).to_contain_text("EM112AA")
    expect(row.locator(".passage")).to_have_text("Granted")
    # the daemon reports the barrier lowering: the lane follows
    barrier = Barrier.objects.get(ident="old-town-in-b1")
    BarrierStatus.objects.update_or_create(
        barrier=barrier,
        defaults={"position": "lowering", "link_ok": True, "reported_at": timezone.now()},
    )
    expect(row.locator(".barrier")).to_have_text("Lowering", timeout=10_000)
    assert page.evaluate("window.__marker") == "same page"  # never reloaded
    page.screenshot(path=str(artifact_path("access-control-room.png")), full_page=True)
    assert not errors, errors
