"""Demo data of the exercises module: one tabletop on Senaatintori built from its assessment, one
training course with sessions, and certificates of the demo operator.

The scenario is generated from the site's latest finished assessment. When the site has none,
the engine is run first if ``REMPART_DEMO_ASSESS=1`` (``make run`` sets it: about ten seconds
on the bundled Helsinki extract); otherwise the exercise is created without injects and its
page offers to generate them once an assessment is run. Idempotent: looked up by name.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from rempart.core.models import Organisation, Site
from rempart.core.roles import grant
from rempart.exercises import assess_link, exercise_zone
from rempart.exercises.models import (
    Capability,
    Certificate,
    Course,
    Exercise,
    Objective,
    Participant,
    TrainingSession,
)

EXERCISE_NAME = "Senate Square vehicle-attack tabletop (demo)"
OBJECTIVES = (
    ("Detect the hostile vehicle and alert the control room within 30 seconds.", "warning"),
    (
        "Raise the active barriers on the approach before the vehicle reaches them.",
        "access_control",
    ),
    ("Coordinate police, rescue and the city on one radio channel.", "communications"),
    ("Move the crowd away from the impact point without crushing at the exits.", "mass_care"),
)
COURSE: dict[str, Any] = {
    "title": "Control-room procedures for the barriers (demo)",
    "description": (
        "Raising and lowering the bollards by hand, lockdown of a zone, intercom calls and "
        "referrals, what to log; a practical session on the barrier simulator."
    ),
    "validity_months": 12,
}


def _role_users() -> dict[str, Any]:
    users = {}
    for role in ("viewer", "editor", "operator", "supervisor", "admin"):
        user = get_user_model().objects.filter(username=f"demo-{role}").first()
        if user is not None:
            grant(user, "exercises", role)  # demo users made before this module had none
            users[role] = user
    return users


def load(city: Any, stdout: Any) -> None:
    users = _role_users()
    site = Site.objects.filter(city=city, name__startswith="Senaatintori").first()
    with transaction.atomic():
        _load_training(city, users)
        exercise = Exercise.objects.filter(city=city, name=EXERCISE_NAME).first()
        if exercise is None:
            exercise = _exercise(city, site, users)
        exercise_zone.ensure_zone(exercise)  # its control room runs on simulated lanes
    if site is not None and not exercise.injects.exists():
        _scenario(exercise, site, users.get("editor"), stdout)


def _exercise(city: Any, site: Site | None, users: dict[str, Any]) -> Exercise:
    start = (timezone.now() + dt.timedelta(days=21)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    exercise = Exercise.objects.create(
        city=city,
        site=site,
        name=EXERCISE_NAME,
        kind="tabletop",
        sponsor="City of Helsinki (demo)",
        scope=(
            "Control room, police and rescue response to a vehicle driven at the crowd of a "
            "New Year's Eve event on the square; discussion-based, facilitator-led."
        ),
        hazard="Vehicle-as-a-weapon attack",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
        is_demo=True,
        created_by=users.get("editor"),
    )
    objectives = [
        Objective.objects.create(
            exercise=exercise, number=n, text=text, capability=Capability(capability)
        )
        for n, (text, capability) in enumerate(OBJECTIVES, start=1)
    ]
    organisations = {o.kind: o for o in Organisation.objects.filter(cities=city, is_demo=True)}
    city_org = organisations.get("municipality") or Organisation.objects.filter(cities=city).first()
    police = organisations.get("national_police") or city_org
    rescue = organisations.get("fire_rescue") or city_org
    rows = [
        ("Control-room operator", city_org, "player", users.get("viewer")),
        ("Police duty officer", police, "player", None),
        ("Rescue duty officer", rescue, "player", None),
        ("Exercise controller", city_org, "controller", users.get("operator")),
        ("Lead evaluator", city_org, "evaluator", users.get("editor")),
    ]
    for name, organisation, role, user in rows:
        if organisation is None:
            continue
        participant = Participant.objects.create(
            exercise=exercise, organisation=organisation, name=name, role=role, user=user
        )
        if role == "evaluator":
            participant.objectives.set(objectives)
    return exercise


def _scenario(exercise: Exercise, site: Site, user: Any, stdout: Any) -> None:
    run = assess_link.latest_assessment(site)
    if run is None and os.environ.get("REMPART_DEMO_ASSESS") == "1":
        from rempart.assess import services

        stdout.write(f"Assessing {site.name} for the demo exercise...\n")
        run = services.execute(services.request_run(site).pk)
    if run is None or run.status != "done":
        stdout.write(
            f"Demo exercise without injects: assess {site.name} and press Generate on its page.\n"
        )
        return
    try:
        approach = assess_link.generate(exercise, "", user)
    except assess_link.ScenarioError as exc:
        stdout.write(f"Demo exercise without injects: {exc}\n")
        return
    stdout.write(
        f"Demo exercise: {approach.vehicle} on {approach.street}, "
        f"{round(approach.impact_speed_kmh)} km/h after {round(approach.arrival_s)} s.\n"
    )


def _load_training(city: Any, users: dict[str, Any]) -> None:
    course, created = Course.objects.get_or_create(
        city=city,
        title=COURSE["title"],
        defaults={
            "description": COURSE["description"],
            "validity_months": COURSE["validity_months"],
            "is_demo": True,
        },
    )
    if not created:
        return
    Course.objects.create(
        city=city,
        title="Hostile vehicle awareness for front-line agents (demo)",
        description="Spotting hostile reconnaissance and a vehicle used as a weapon; first actions.",
        validity_months=24,
        is_demo=True,
    )
    today = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0)
    past = TrainingSession.objects.create(
        course=course,
        starts_at=today - dt.timedelta(days=300),
        ends_at=today - dt.timedelta(days=300) + dt.timedelta(hours=6),
        place="Control room, City Hall",
        trainer="Barrier supplier's trainer",
        capacity=8,
    )
    TrainingSession.objects.create(
        course=course,
        starts_at=today + dt.timedelta(days=40),
        ends_at=today + dt.timedelta(days=40, hours=6),
        place="Control room, City Hall",
        trainer="Barrier supplier's trainer",
        capacity=8,
    )
    operator = users.get("operator")
    if operator is not None:
        # completed 300 days ago, valid 12 months: lapses within the reminder window soon
        Certificate.objects.create(
            course=course,
            person=operator,
            session=past,
            completed_on=(today - dt.timedelta(days=300)).date(),
        )
