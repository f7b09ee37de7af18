"""In a real browser (issue 11 item 1): a supervisor locks the zone down from the control room;
an operator's attempt to let a vehicle through is refused with the sentence naming the mode,
who set it and when; the supervisor lifts the lockdown and the banner says so."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from rempart.access.models import Passage
from tests.access.test_models_fixtures import make_zone
from tests.browser import artifact_path, browser_page, log_in  # noqa: F401  (fixture)
from tests.conftest import USER_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/?next=/access/")
    log_in(page, username, USER_PASSWORD)
    page.wait_for_url(f"{base}/access/")


def _set_mode(page: Any, mode: str, reason: str) -> None:
    card = page.locator('section.zone[data-zone="old-town"]')
    card.locator("summary", has_text="Change the mode").click()
    card.locator("select[name=mode]").select_option(mode)
    card.locator("input[name=reason]").fill(reason)
    card.locator("input[name=confirm]").check()
    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name="Apply").click()


def test_lockdown_refuses_an_operators_open_until_the_supervisor_lifts_it(
    live_server: Any,
    browser_page: Any,  # noqa: F811
    city: Any,
    make_user: Any,
) -> None:
    make_zone(city)
    make_user("supervisor", modules=("access",), username="chief")
    make_user("operator", modules=("access",), username="controller")
    page = browser_page
    base = live_server.url
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    _sign_in(page, base, "chief")
    banner = page.locator('[data-mode-banner="old-town"]')
    expect(banner).to_have_attribute("data-mode", "normal")
    _set_mode(page, "lockdown", "vehicle threat on the promenade")
    page.wait_for_url(f"{base}/access/")
    expect(banner).to_have_attribute("data-mode", "lockdown")
    expect(banner).to_contain_text("set by chief")
    expect(banner).to_contain_text("Operators cannot lower a barrier")

    _sign_in(page, base, "controller")
    expect(banner).to_contain_text("lockdown")
    row = page.locator('tr[data-lane="old-town-in"]')
    row.locator("summary", has_text="Open / close").click()
    form = row.locator("form", has=page.get_by_role("button", name="Let one vehicle through"))
    form.locator("input[name=reason]").fill("delivery at the intercom")
    form.locator("input[name=confirm]").check()
    questions: list[str] = []

    def answer(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    form.get_by_role("button", name="Let one vehicle through").click()
    page.wait_for_url(f"{base}/access/")
    message = page.locator(".messages")
    expect(message).to_contain_text("Refused, letting a vehicle through")
    expect(message).to_contain_text("has been in lockdown since")
    expect(message).to_contain_text("set by chief.")
    expect(message).to_contain_text("Only a supervisor can lift it")
    assert questions == ["Lower the barrier of lane old-town-in for one vehicle?"]
    assert not Passage.objects.exists()
    page.screenshot(path=str(artifact_path("access-lockdown-refused.png")), full_page=True)

    _sign_in(page, base, "chief")
    _set_mode(page, "normal", "threat over")
    page.wait_for_url(f"{base}/access/")
    expect(banner).to_have_attribute("data-mode", "normal")
    expect(page.locator(".messages")).to_contain_text("Normal")
    assert not errors, errors


def test_a_live_referral_counts_its_waiting_time_and_the_dialog_names_plate_and_lane(
    live_server: Any,
    browser_page: Any,  # noqa: F811
    city: Any,
    make_user: Any,
) -> None:
    from rempart.access import services
    from tests.access.test_models_fixtures import make_permits

    zone = make_zone(city)
    make_permits(city, zone)
    make_user("operator", modules=("access",), username="controller")
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, live_server.url, "controller")
    expect(page.locator("#live-status")).to_have_text("live", timeout=10_000)
    decision = services.submit_request("old-town-in", plate="RE-456-ZZ", confidence=0.5).decision
    row = page.locator(f'tr[data-referral="{decision.request_id.hex}"]')
    expect(row).to_contain_text("RE456ZZ", timeout=10_000)
    waiting = row.locator(".ref-waiting")
    expect(waiting).to_have_text(re.compile(r"^\d+ s$"))
    first = waiting.inner_text()
    expect(waiting).not_to_have_text(first, timeout=5_000)  # counts up, second by second
    expect(row.locator(".ref-expires")).to_contain_text("9 min")
    row.locator("input[name=reason]").fill("resident, known voice")
    row.locator("input[name=confirm]").check()
    questions: list[str] = []

    def dismiss(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.dismiss()  # the operator thinks again: nothing is sent

    page.once("dialog", dismiss)
    row.get_by_role("button", name="Grant").click()
    page.wait_for_timeout(300)
    assert questions == ["Grant plate RE456ZZ at lane old-town-in: let one vehicle through?"]
    assert not errors, errors
