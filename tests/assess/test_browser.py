"""In a real browser: from a site's page, run the assessment, watch its progress, see map and table."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from rempart.assess.models import Assessment
from rempart.core.models import Site
from tests.browser import artifact_path, browser_page, log_in  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_run_the_assessment_from_the_site_page(live_server: Any, browser_page: Any) -> None:  # noqa: F811
    call_command("demo", "load", stdout=StringIO())
    get_user_model().objects.create_superuser("assessor", "", "a long browser password")
    senate = Site.objects.get(name__startswith="Senaatintori")
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/accounts/login/?next={senate.get_absolute_url()}")
    log_in(page, "assessor", "a long browser password")
    page.wait_for_url(f"**{senate.get_absolute_url()}")

    page.click("#run-assessment")
    page.wait_for_url("**/assess/runs/*/")
    # The page polls the run's progress and reloads itself once the engine is done.
    page.wait_for_selector("text=Cheapest barrier plan", timeout=60_000)
    page.wait_for_selector("#run-map .leaflet-interactive, #run-map canvas")
    page.wait_for_timeout(500)  # the speed field arrives by fetch
    page.screenshot(path=str(artifact_path("assessment.png")), full_page=True)
    run = Assessment.objects.get(site=senate)
    assert run.status == Assessment.Status.DONE
    assert page.locator("table").first.inner_text().count("V/") > 0
    assert not errors, errors
