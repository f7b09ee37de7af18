"""Helsinki's exercise objects for the all-URL permission walk (tests/test_permission_walk.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from rempart.exercises.models import (
    Capability,
    CorrectiveAction,
    Course,
    Exercise,
    Inject,
    Objective,
)


@dataclasses.dataclass
class ExerciseObjects:
    exercise: Exercise
    inject: Inject
    action: CorrectiveAction
    course: Course
    session: Any
    enrolment: Any


def build(site: Any, organisation: Any, user: Any, mark: str) -> ExerciseObjects:
    from rempart.exercises import msel

    exercise = Exercise.objects.create(
        city=site.city, site=site, name=f"Tabletop {mark}", kind="tabletop"
    )
    objective = Objective.objects.create(
        exercise=exercise, number=1, text=f"Alert {mark}", capability=Capability.WARNING
    )
    inject = Inject.objects.create(
        exercise=exercise,
        number=1,
        scenario_time_s=60,
        sender="SIMCELL",
        recipient="Control room",
        method="phone",
        message=f"Lorry on the square {mark}",
    )
    inject.objectives.add(objective)
    msel.save_version(exercise, user, "walk")
    from rempart.exercises.exercise_zone import ensure_zone

    ensure_zone(exercise)  # its exercise control room
    action = CorrectiveAction.objects.create(
        exercise=exercise,
        objective=objective,
        capability=Capability.WARNING,
        description=f"Train the operators {mark}",
        owner=organisation,
        due_on=dt.date(2027, 1, 31),
    )
    course = Course.objects.create(
        city=site.city, title=f"Barrier procedures {mark}", validity_months=12
    )
    from django.utils import timezone

    from rempart.exercises.models import Enrolment, TrainingSession

    session = TrainingSession.objects.create(
        course=course,
        starts_at=timezone.now() - dt.timedelta(days=2),
        ends_at=timezone.now() - dt.timedelta(days=2) + dt.timedelta(hours=4),
        place=f"Hall {mark}",
    )
    enrolment = Enrolment.objects.create(session=session, person=user, status="enrolled")
    return ExerciseObjects(exercise, inject, action, course, session, enrolment)


def ex(w: Any) -> dict[str, Any]:
    return {"pk": w.exercises.exercise.pk}


def ex_document(w: Any) -> dict[str, Any]:
    """The situation manual, a director's document (editor or above)."""
    return {"pk": w.exercises.exercise.pk, "doc": "sitman", "fmt": "html"}


def ex_inject(w: Any) -> dict[str, Any]:
    return {"pk": w.exercises.exercise.pk, "number": w.exercises.inject.number}


def ex_version(w: Any) -> dict[str, Any]:
    return {"pk": w.exercises.exercise.pk, "number": 1}


def ex_action(w: Any) -> dict[str, Any]:
    return {"pk": w.exercises.exercise.pk, "action_pk": w.exercises.action.pk}


def course(w: Any) -> dict[str, Any]:
    return {"pk": w.exercises.course.pk}


def session(w: Any) -> dict[str, Any]:
    return {"pk": w.exercises.session.pk}


def enrolment(w: Any) -> dict[str, Any]:
    return {"pk": w.exercises.enrolment.pk}
