"""In a real browser: a short tabletop on the Helsinki demo's Senate Square, from the scenario
generated from its assessment to the after-action report and an improvement action."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from rempart.assess import services
from rempart.core.models import Site
from rempart.exercises.demo import EXERCISE_NAME
from rempart.exercises.models import CorrectiveAction, Evaluation, Exercise, Inject, JournalEntry
from tests.browser import artifact_path, browser_page, log_in  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_short_tabletop(live_server: Any, browser_page: Any) -> None:  # noqa: F811
    call_command("demo", "load", stdout=StringIO())
    senate = Site.objects.get(name__startswith="Senaatintori")
    services.execute(services.request_run(senate).pk)
    get_user_model().objects.create_superuser("director", "", "a long browser password")
    exercise = Exercise.objects.get(name=EXERCISE_NAME)
    assert not exercise.injects.exists()
    url = f"{live_server.url}/exercises/{exercise.pk}/"
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/accounts/login/?next=/exercises/{exercise.pk}/")
    log_in(page, "director", "a long browser password")
    page.wait_for_url(f"**/exercises/{exercise.pk}/")

    page.get_by_text("Generate the vehicle-attack scenario from the site's assessment").click()
    page.get_by_role("button", name="Generate draft MSEL").click()
    page.wait_for_selector("text=CCTV sighting")
    assert exercise.injects.count() >= 6

    for _ in range(3):
        page.get_by_role("button", name="Release now").first.click()
        page.wait_for_load_state()
    released = Inject.objects.filter(exercise=exercise, state="released").order_by("number")
    assert [i.number for i in released] == [1, 2, 3]

    page.select_option("#j-kind", "observation")
    page.fill("#j-text", "Control room raised the bollards 12 s after the CCTV call")
    page.get_by_role("button", name="Record").click()
    page.wait_for_load_state()
    assert JournalEntry.objects.filter(exercise=exercise, kind="observation").exists()

    page.goto(f"{url}evaluate/")
    page.locator("form").filter(has_text="Detect the hostile vehicle").get_by_label(
        "Performed with some challenges"
    ).check()
    page.locator("form").filter(has_text="Detect the hostile vehicle").get_by_role(
        "button", name="Save"
    ).click()
    page.wait_for_selector("text=Evaluation saved")
    assert Evaluation.objects.get(objective__exercise=exercise).rating == "S"

    page.goto(f"{url}actions/new/")
    page.fill("#id_description", "Drill the bollard raise every month")
    page.select_option("#id_capability", "access_control")
    page.select_option("#id_owner", index=1)
    page.fill("#id_due_on", "2027-03-31")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Corrective action saved")
    assert CorrectiveAction.objects.get(exercise=exercise).status == "open"

    page.goto(f"{url}report/")
    report = page.locator("main").inner_text()
    assert "Performed with some challenges" in report
    assert "Control room raised the bollards" in report
    assert "Drill the bollard raise every month" in report
    # objective 1 (warning) is tested by the CCTV sighting (released) and the media inquiry
    assert "1 / 2" in report
    page.screenshot(path=str(artifact_path("exercise-report.png")), full_page=True)
    assert not errors, errors


def test_the_running_clock_releases_an_inject_on_time(
    live_server: Any,
    browser_page: Any,  # noqa: F811
    exercise: Exercise,
) -> None:
    from tests.exercises.conftest import make_inject

    make_inject(exercise, 1, state="approved", scenario_time_s=2, subject="Lorry sighted")
    make_inject(exercise, 2, state="approved", scenario_time_s=3600, subject="Much later")
    get_user_model().objects.create_superuser("controller", "", "a long browser password")
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/accounts/login/?next=/exercises/{exercise.pk}/conduct/")
    log_in(page, "controller", "a long browser password")
    page.wait_for_url(f"**/exercises/{exercise.pk}/conduct/")
    assert page.locator("text=EXERCISE").first.is_visible()
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("button:has-text('Pause')")
    # the page asks the server every 5 s to release what is due, and reloads when it did
    page.wait_for_selector("text=Lorry sighted: Released", timeout=20_000)
    assert Inject.objects.get(exercise=exercise, number=1).state == "released"
    assert Inject.objects.get(exercise=exercise, number=2).state == "approved"
    clock = page.locator("#clock-value").inner_text()
    assert clock.startswith("0:00:")
    assert not errors, errors
