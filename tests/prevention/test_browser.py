"""In a real browser: a coordinator passes the second factor, then takes a referral through
screening, consent, a case consultation, a support plan and closure."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from rempart.core.models import City, Organisation, Profile
from rempart.core.roles import grant
from rempart.prevention.models import Case, Status
from tests.browser import browser_page, log_in  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long browser password"


def test_a_referral_from_screening_to_closure(live_server: Any, browser_page: Any) -> None:  # noqa: F811
    city = City.objects.create(name="Nice", slug="nice", country="FR", timezone="Europe/Paris")
    unit_org = Organisation.objects.create(name="Ville de Nice", kind="municipality", city=city)
    school = Organisation.objects.create(name="Lycée Masséna", kind="other", city=city)
    for org in (unit_org, school):
        org.cities.add(city)
    user = get_user_model().objects.create_user(username="coordinator", password=PASSWORD)
    Profile.objects.create(user=user, organisation=unit_org)
    grant(user, "prevention", "supervisor")
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server.url}/prevention/refer/")
    log_in(page, "coordinator", PASSWORD)
    # the second factor: enrol, then type the current code
    page.wait_for_url(re.compile(r".*/prevention/second-factor/.*"))
    expect(page.locator("#totp-secret")).to_be_visible()
    device = TOTPDevice.objects.get(user=user)
    token = TOTP(device.bin_key, device.step, device.t0, device.digits).token()
    page.get_by_label("Code").fill(f"{token:06d}")
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(re.compile(r".*/prevention/refer/$"))

    # the referral
    page.get_by_label("Name of the person").fill("Zéphyrin Example")
    page.get_by_label("Age at referral").select_option("18_25")
    page.get_by_label("Source of the referral").select_option("education")
    page.get_by_label("Referred by").fill("Mme Teacher")
    page.get_by_label("The concern, in the referrer's own words").fill("Shares extremist videos")
    page.get_by_label("Referred on").fill("2026-03-02")
    page.get_by_label("The person was told").check()
    page.get_by_role("button", name="Record the referral").click()
    page.wait_for_url(re.compile(r".*/prevention/cases/\d+/$"))
    status = page.locator("#case-status")
    expect(status).to_contain_text("Referred, awaiting screening")

    # screening
    page.locator("#form-screen [name=decision]").select_option("accept")
    page.locator("#form-screen [name=reasons]").fill("Specific and recent")
    page.locator("#form-screen button").click()
    expect(status).to_contain_text("Accepted, awaiting consent")

    # consent
    form = page.locator("#form-consent")
    form.locator("[name=recipients]").select_option(label="Lycée Masséna")
    form.locator("[name=notice_version]").fill("2026-01")
    form.locator("[name=given_on]").fill("2026-03-10")
    form.locator("[name=given_by_name]").fill("Zéphyrin Example")
    form.locator("button").click()
    expect(status).to_contain_text("Consent recorded")

    # a case consultation
    form = page.locator("#form-consult")
    form.locator("[name=held_on]").fill("2026-03-20")
    form.locator("[name=agencies]").select_option(label=["Lycée Masséna", "Ville de Nice"])
    form.locator("[name=attendees]").fill("Coordinator, teacher")
    form.locator("[name=minutes]").fill("Discussed the videos")
    form.locator("[name=decisions]").fill("Offer mentoring")
    form.locator("button").click()
    expect(status).to_contain_text("Consulted")

    # the support plan, approved
    form = page.locator("#form-action")
    form.locator("[name=kind]").select_option("mentoring")
    form.locator("[name=description]").fill("Weekly mentoring")
    form.locator("[name=partner]").select_option(label="Lycée Masséna")
    form.locator("[name=owner]").select_option(label="coordinator")
    form.locator("[name=due_on]").fill("2026-06-30")
    form.locator("button").click()
    expect(page.get_by_role("cell", name="Weekly mentoring")).to_be_visible()
    page.locator("#form-approve-plan button").click()
    expect(status).to_contain_text("Support plan approved, monitoring")

    # closure, asked and approved
    form = page.locator("#form-closure")
    form.locator("[name=reason]").select_option("goals_met")
    form.locator("[name=outcome]").fill("Back in school")
    form.locator("button").click()
    expect(status).to_contain_text("Closure awaiting approval")
    page.locator("#form-decide [name=approve]").select_option("yes")
    page.locator("#form-decide button").click()
    expect(status).to_contain_text("Closed")

    case = Case.objects.get()
    assert case.status == Status.CLOSED and case.closure_approved_by == user
    assert errors == []
