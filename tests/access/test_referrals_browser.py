"""In a real browser: a referred request appears in the control room without a reload, a reason
typed in one row survives the next update, and Grant lets the vehicle through."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from rempart.access import services
from rempart.access.models import AccessDecision, Passage
from tests.access.test_models_fixtures import make_permits, make_zone
from tests.browser import artifact_path, browser_page, log_in  # noqa: F401  (fixture)
from tests.conftest import USER_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_referrals_arrive_live_and_are_answered(
    live_server: Any,
    browser_page: Any,  # noqa: F811
    city: Any,
    make_user: Any,
) -> None:
    zone = make_zone(city)
    make_permits(city, zone)
    make_user("operator", modules=("access",), username="controller")
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/accounts/login/?next=/access/")
    log_in(page, "controller", USER_PASSWORD)
    page.wait_for_url(f"{live_server.url}/access/")
    expect(page.locator("#live-status")).to_have_text("live", timeout=10_000)
    expect(page.locator("#referral-list tr.none")).to_be_visible()
    page.evaluate("window.__marker = 'same page'")

    first = services.submit_request("old-town-in", plate="EM-112-AA", confidence=0.5).decision
    row = page.locator(f'tr[data-referral="{first.request_id.hex}"]')
    expect(row).to_contain_text("EM112AA", timeout=10_000)
    expect(row).to_contain_text("Plate read uncertain")
    expect(page.locator("#referral-count")).to_have_text("1")
    expect(page.locator("#referral-list tr.none")).to_be_hidden()
    reason = row.locator("input[name=reason]")
    reason.fill("patrol car, unlock code given")

    second = services.submit_request("old-town-2f", plate="AB-123-CD", confidence=0.4).decision
    expect(page.locator(f'tr[data-referral="{second.request_id.hex}"]')).to_be_visible(
        timeout=10_000
    )
    expect(page.locator("#referral-count")).to_have_text("2")
    expect(reason).to_have_value("patrol car, unlock code given")  # the row was kept
    assert page.evaluate("window.__marker") == "same page"

    row.locator("input[name=confirm]").check()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Grant").click()
    page.wait_for_url(f"{live_server.url}/access/")
    expect(page.locator(".messages")).to_contain_text("referred request granted")
    expect(page.locator(f'tr[data-referral="{first.request_id.hex}"]')).to_have_count(0)
    answer = AccessDecision.objects.get(answers=first)
    assert answer.reason == "operator_grant" and Passage.objects.filter(decision=answer).exists()
    page.screenshot(path=str(artifact_path("access-referrals.png")), full_page=True)
    assert not errors, errors
