"""In a real browser: a member searches the catalogue live, filters by a facet, opens a practice."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from rempart.core.models import Profile
from rempart.core.roles import grant
from rempart.practices.models import Practice
from tests.browser import artifact_path, browser_page, log_in  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long browser password"


def test_member_searches_filters_and_opens_a_practice(
    live_server: Any,
    browser_page: Any,  # noqa: F811
    orgs: dict[str, Any],
    catalogue: dict[str, Practice],
) -> None:
    member = get_user_model().objects.create_user(username="member", password=PASSWORD)
    Profile.objects.create(user=member, organisation=orgs["home"])
    grant(member, "practices", "viewer")
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )

    page.goto(f"{live_server.url}/practices/")
    log_in(page, "member", PASSWORD)
    page.wait_for_url(re.compile(r".*/practices/$"))
    results = page.locator("#results")
    expect(results.get_by_role("status")).to_contain_text("8 practices")

    # live search: typing updates the results without submitting the form
    page.locator("#q").fill("mentoring")
    expect(page).to_have_url(re.compile(r"q=mentoring"))
    expect(results.get_by_role("status")).to_contain_text("2 practices")
    expect(
        results.get_by_role("link", name="Exit mentoring for radicalised young people")
    ).to_be_visible()

    # a facet narrows the results (the country of the Danish practice)
    page.locator("input[name=country][value=DK]").check()
    expect(results.locator(".practice-results > li")).to_have_count(1)
    expect(results.get_by_role("status")).to_contain_text("1 practice")
    expect(page).to_have_url(re.compile(r"country=DK"))

    results.get_by_role("link", name="Exit mentoring for radicalised young people").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Exit mentoring")
    expect(page.get_by_role("cell", name="Promising")).to_have_count(0)  # label is a badge
    expect(page.locator(".badge", has_text="Promising")).to_be_visible()
    page.screenshot(path=str(artifact_path("practices.png")), full_page=True)
    assert not errors, errors


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_radikalisierung_finds_the_aarhus_model_and_facets_never_overlap(
    live_server: Any,
    browser_page: Any,  # noqa: F811
    orgs: dict[str, Any],
    city: Any,
) -> None:
    import io

    from rempart.practices import demo

    demo.load(city, io.StringIO())
    member = get_user_model().objects.create_user(username="member", password=PASSWORD)
    Profile.objects.create(user=member, organisation=orgs["home"])
    grant(member, "practices", "viewer")
    page = browser_page
    page.goto(f"{live_server.url}/practices/")
    log_in(page, "member", PASSWORD)
    page.wait_for_url(re.compile(r".*/practices/$"))
    page.locator("#q").fill("Radikalisierung")
    expect(page).to_have_url(re.compile(r"q=Radikalisierung"))
    expect(page.locator("#results").get_by_role("link", name="The Aarhus model")).to_be_visible()

    # labels, never codes; no facet count box covers its label or another value, at any width
    expect(page.locator(".facets")).not_to_contain_text("radicalisation_prevention")
    expect(page.locator(".facets")).to_contain_text("Radicalisation prevention")
    for width in (360, 768, 1024, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        boxes = []
        for facet in page.locator("label.facet").all():
            label = facet.locator(".facet-label").bounding_box()
            count = facet.locator(".facet-count").bounding_box()
            assert label and count, width
            assert not _overlap(label, count), (width, facet.inner_text())
            boxes.append(facet.bounding_box())
        for i, first in enumerate(boxes):
            for second in boxes[i + 1 :]:
                assert not _overlap(first, second), width
        page.screenshot(path=str(artifact_path(f"practices-facets-{width}.png")), full_page=True)
