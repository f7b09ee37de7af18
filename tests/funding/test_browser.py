"""In a real browser: a consortium is not eligible, the suggested partner is added, it becomes
eligible (issue 15, done when)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from rempart.funding.models import Call
from tests.browser import browser_page, log_in  # noqa: F401  (fixture)
from tests.conftest import USER_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_build_a_consortium_until_it_is_eligible(
    live_server: Any,
    browser_page: Any,  # noqa: F811
    make_user: Any,
    horizon_call: Call,
    cordis_record: None,
) -> None:
    editor = make_user("editor")
    page = browser_page
    page.goto(f"{live_server.url}/funding/")
    log_in(page, editor.username, USER_PASSWORD)
    page.get_by_label("Name").fill("Safe squares")
    page.get_by_role("button", name="Create").click()
    for name, country in (("Ville de Nice", "FR"), ("Comune di Torino", "IT")):
        page.get_by_text("Add a member").click()
        form = page.locator("#add-member")
        form.get_by_label("Organisation").fill(name)
        form.get_by_label("Country").fill(country)
        form.get_by_label("Legal type").select_option("municipality")
        form.get_by_role("button", name="Add").click()
    card = page.locator(".eligibility")
    expect(card).to_contain_text("Not eligible")
    expect(card).to_contain_text("the consortium covers 2")
    suggestion = card.locator(".suggestions li", has_text="LANDESHAUPTSTADT STUTTGART")
    suggestion.first.get_by_role("button", name="Add as beneficiary").click()
    expect(page.locator("#members")).to_contain_text("LANDESHAUPTSTADT STUTTGART")
    expect(page.locator(".eligibility")).to_contain_text(
        "Eligible: the consortium meets every rule"
    )
