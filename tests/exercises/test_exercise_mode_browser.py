"""In a real browser: the exercise control room says EXERCISE, on the page and live."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from rempart.core.models import City
from rempart.exercises.exercise_zone import ensure_zone
from rempart.exercises.models import Exercise
from tests.browser import browser_page, log_in  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_exercise_control_room_says_exercise(
    live_server: Any,
    browser_page: Any,  # noqa: F811
) -> None:
    city = City.objects.create(name="Nice", slug="nice", country="FR", timezone="Europe/Paris")
    exercise = Exercise.objects.create(city=city, name="Bollard drill", kind="drill")
    ensure_zone(exercise)
    get_user_model().objects.create_superuser("director", "", "a long browser password")
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    path = f"/exercises/{exercise.pk}/control-room/?city=nice"
    page.goto(f"{live_server.url}/accounts/login/?next={path}")
    log_in(page, "director", "a long browser password")
    page.wait_for_selector("#exercise-banner")
    assert "EXERCISE" in page.locator("#exercise-banner").inner_text()
    assert "EXERCISE" in page.locator("h1").inner_text()
    page.wait_for_selector(f"text=exercise-{exercise.pk}-in", timeout=10000)
    assert errors == []
