"""Fixtures of the exercises tests: an exercise of Nice with two objectives and three injects."""

from __future__ import annotations

from typing import Any

import pytest

from rempart.exercises.models import Capability, Exercise, Inject, Objective


@pytest.fixture
def exercise(city: Any, site: Any) -> Exercise:
    return Exercise.objects.create(city=city, site=site, name="Promenade tabletop", kind="tabletop")


@pytest.fixture
def objectives(exercise: Exercise) -> list[Objective]:
    return [
        Objective.objects.create(
            exercise=exercise,
            number=1,
            text="Alert the control room",
            capability=Capability.WARNING,
        ),
        Objective.objects.create(
            exercise=exercise, number=2, text="Raise the bollards", capability=Capability.SECURITY
        ),
    ]


def make_inject(exercise: Exercise, number: int, **extra: Any) -> Inject:
    values: dict[str, Any] = {
        "scenario_time_s": number * 60,
        "sender": "SIMCELL",
        "recipient": "Control room",
        "method": "phone",
        "subject": f"Inject {number}",
        "message": f"Message {number}",
        **extra,
    }
    return Inject.objects.create(exercise=exercise, number=number, **values)
