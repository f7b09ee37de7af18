"""The demo: an exercise built from Senaatintori's assessment, a course, the operator certified."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from rempart.exercises.demo import EXERCISE_NAME
from rempart.exercises.models import Certificate, Course, Exercise

pytestmark = pytest.mark.django_db


def test_the_demo_exercise_is_built_from_the_assessment(monkeypatch: Any) -> None:
    monkeypatch.setenv("REMPART_DEMO_ASSESS", "1")
    out = StringIO()
    call_command("demo", "load", stdout=out)
    exercise = Exercise.objects.get(name=EXERCISE_NAME)
    assert exercise.site.name.startswith("Senaatintori")
    assert exercise.zone is not None and exercise.zone.is_exercise  # its control room runs
    subjects = list(exercise.injects.values_list("subject", flat=True))
    assert "CCTV sighting" in subjects and "Casualty reports" in subjects
    assert "assessment #" in exercise.scenario
    assert exercise.objectives.count() == 4 and exercise.participants.count() == 5
    course = Course.objects.get(title__startswith="Control-room procedures")
    assert course.sessions.count() == 2
    assert Certificate.objects.filter(course=course, person__username="demo-operator").exists()
    call_command("demo", "load", stdout=StringIO())  # twice: nothing duplicated
    assert Exercise.objects.filter(name=EXERCISE_NAME).count() == 1
    assert Course.objects.filter(city=exercise.city).count() == 2
