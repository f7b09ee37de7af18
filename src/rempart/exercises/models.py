"""Joint exercises (HSEEP cycle) and the training of agents.

The exercise: its type (HSEEP: seminar, workshop, tabletop, game; drill, functional,
full-scale), objectives mapped to capabilities, participants, the master scenario events list
(MSEL) of numbered, timed injects, its versions, the clock, the journal, the evaluation
(P/S/M/U per objective), the after-action report's improvement plan. Training: courses,
sessions, certificates whose validity counts from completion.

Times: ``scenario_time_s`` is seconds of scenario time since the exercise's start (STARTEX);
wall times are aware datetimes (UTC in the database, shown in the city's time zone).
Every model names its ``city_path`` for :mod:`rempart.core.access_rules`; every change is
audited by the core's signals (app label ``exercises``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rempart.core.models import City, Organisation, Site


class Kind(models.TextChoices):
    """HSEEP exercise types (HSEEP 2020, chapter 2): four discussion-based, three operations."""

    SEMINAR = "seminar", _("Seminar")
    WORKSHOP = "workshop", _("Workshop")
    TABLETOP = "tabletop", _("Tabletop exercise")
    GAME = "game", _("Game")
    DRILL = "drill", _("Drill")
    FUNCTIONAL = "functional", _("Functional exercise")
    FULL_SCALE = "full_scale", _("Full-scale exercise")


DISCUSSION_BASED = frozenset({Kind.SEMINAR, Kind.WORKSHOP, Kind.TABLETOP, Kind.GAME})


class Capability(models.TextChoices):
    """Core capabilities an objective tests (a subset of the US National Preparedness Goal's
    list that fits a vehicle attack on a crowded place)."""

    PLANNING = "planning", _("Planning")
    COORDINATION = "coordination", _("Operational coordination")
    WARNING = "warning", _("Public information and warning")
    COMMUNICATIONS = "communications", _("Operational communications")
    INTELLIGENCE = "intelligence", _("Intelligence and information sharing")
    SECURITY = "security", _("On-scene security, protection and law enforcement")
    ACCESS_CONTROL = "access_control", _("Access control and identity verification")
    MASS_CARE = "mass_care", _("Mass care and crowd management")
    MEDICAL = "medical", _("Public health, healthcare and emergency medical services")
    RECOVERY = "recovery", _("Recovery and community resilience")


class Exercise(models.Model):
    city_path = "city"

    class Stage(models.TextChoices):
        PLANNING = "planning", _("Planning")
        CONDUCT = "conduct", _("Conduct")
        EVALUATION = "evaluation", _("Evaluation")
        CLOSED = "closed", _("Closed")

    class Pacing(models.TextChoices):
        CLOCK = "clock", _("Running clock")
        FACILITATOR = "facilitator", _("Facilitator-paced")

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="exercises")
    site = models.ForeignKey(
        Site,
        verbose_name=_("site"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="exercises",
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    scope = models.TextField(_("scope"), blank=True)
    hazard = models.CharField(_("hazard"), max_length=200, blank=True)
    scenario = models.TextField(_("scenario"), blank=True)
    sponsor = models.CharField(_("sponsor"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    stage = models.CharField(
        _("stage"), max_length=12, choices=Stage.choices, default=Stage.PLANNING
    )
    pacing = models.CharField(
        _("pacing"), max_length=12, choices=Pacing.choices, default=Pacing.CLOCK
    )
    #: the clock: scenario seconds banked while paused, and the wall time it last started
    clock_banked_s = models.FloatField(default=0.0)
    clock_running_since = models.DateTimeField(null=True, blank=True)
    msel_version = models.PositiveIntegerField(default=0)
    #: The simulated access zone its control room drives (``Zone.is_exercise``), if any.
    zone = models.ForeignKey(
        "access.Zone",
        verbose_name=_("exercise zone"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        limit_choices_to={"is_exercise": True},
        related_name="exercises",
    )
    is_demo = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        verbose_name = _("exercise")
        verbose_name_plural = _("exercises")

    def __str__(self) -> str:
        return self.name

    @property
    def discussion_based(self) -> bool:
        return self.kind in DISCUSSION_BASED

    def scenario_seconds(self, now: dt.datetime | None = None) -> float:
        """Scenario time now, in seconds since STARTEX: banked time plus the running stretch."""
        if self.clock_running_since is None:
            return self.clock_banked_s
        now = now or timezone.now()
        return self.clock_banked_s + max(0.0, (now - self.clock_running_since).total_seconds())

    @property
    def clock_running(self) -> bool:
        return self.clock_running_since is not None


class Objective(models.Model):
    city_path = "exercise__city"

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="objectives")
    number = models.PositiveIntegerField(_("number"))
    text = models.TextField(_("objective"))
    capability = models.CharField(_("capability"), max_length=20, choices=Capability.choices)

    class Meta:
        ordering = ["exercise", "number"]
        constraints = [
            models.UniqueConstraint(fields=["exercise", "number"], name="objective_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.text[:80]}"


class Participant(models.Model):
    """A person (with or without an account) taking part for an organisation, in one role."""

    city_path = "exercise__city"

    class Role(models.TextChoices):
        PLAYER = "player", _("Player")
        CONTROLLER = "controller", _("Controller")
        EVALUATOR = "evaluator", _("Evaluator")
        FACILITATOR = "facilitator", _("Facilitator")
        OBSERVER = "observer", _("Observer")

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="participants")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="exercise_roles",
    )
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=12, choices=Role.choices)
    #: an evaluator rates these objectives only
    objectives = models.ManyToManyField(Objective, verbose_name=_("objectives"), blank=True)

    class Meta:
        ordering = ["exercise", "role", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"


class Inject(models.Model):
    """One line of the MSEL. States: draft → approved → released → complete; deferred or
    skipped (with a reason) from draft, approved or deferred (see :mod:`.msel`)."""

    city_path = "exercise__city"

    class Method(models.TextChoices):
        RADIO = "radio", _("Radio")
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        IN_PERSON = "in_person", _("In person")
        SYSTEM = "system", _("System")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")
        RELEASED = "released", _("Released")
        COMPLETE = "complete", _("Complete")
        DEFERRED = "deferred", _("Deferred")
        SKIPPED = "skipped", _("Skipped")

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="injects")
    number = models.PositiveIntegerField(_("number"))
    scenario_time_s = models.PositiveIntegerField(
        _("scenario time (s)"), null=True, blank=True, help_text=_("Seconds after STARTEX.")
    )
    planned_at = models.DateTimeField(_("planned wall time"), null=True, blank=True)
    sender = models.CharField(_("from"), max_length=200)
    recipient = models.CharField(_("to"), max_length=200)
    method = models.CharField(_("method"), max_length=12, choices=Method.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    message = models.TextField(_("message"))
    expected_action = models.TextField(_("expected action"), blank=True)
    controller_notes = models.TextField(_("controller notes"), blank=True)
    phase = models.CharField(_("phase"), max_length=100, blank=True)
    objectives = models.ManyToManyField(Objective, verbose_name=_("objectives tested"), blank=True)
    controller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible controller"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent inject"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="branches",
    )
    trigger = models.CharField(_("trigger"), max_length=300, blank=True)
    contingency = models.BooleanField(
        _("contingency (off the timeline, released on demand)"), default=False
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    state_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state_at = models.DateTimeField(null=True, blank=True)
    state_reason = models.CharField(max_length=300, blank=True)
    released_scenario_s = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["exercise", "number"]
        constraints = [
            models.UniqueConstraint(fields=["exercise", "number"], name="inject_number_unique")
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject or self.message[:60]}"

    @property
    def scenario_clock(self) -> str:
        """``H:MM:SS`` of the scenario time ("" when released on demand only)."""
        if self.scenario_time_s is None:
            return ""
        total = int(self.scenario_time_s)
        return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"

    @property
    def on_timeline(self) -> bool:
        return not self.contingency and self.scenario_time_s is not None


class MselVersion(models.Model):
    """A saved copy of the whole MSEL (its injects as :func:`.msel.inject_rows` gives them)."""

    city_path = "exercise__city"

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    note = models.CharField(_("note"), max_length=300, blank=True)
    rows = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["exercise", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["exercise", "number"], name="msel_version_unique")
        ]

    def __str__(self) -> str:
        return f"MSEL v{self.number} of {self.exercise}"


class JournalEntry(models.Model):
    """The exercise log: releases, skips, clock changes, player actions, observations."""

    city_path = "exercise__city"

    class Kind(models.TextChoices):
        CLOCK = "clock", _("Clock")
        INJECT = "inject", _("Inject")
        ACTION = "action", _("Player action")
        OBSERVATION = "observation", _("Evaluator observation")
        NOTE = "note", _("Controller note")

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="journal")
    at = models.DateTimeField(default=timezone.now)
    scenario_s = models.FloatField(default=0.0)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    text = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    inject = models.ForeignKey(Inject, null=True, blank=True, on_delete=models.SET_NULL)
    objective = models.ForeignKey(
        Objective, verbose_name=_("objective"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["exercise", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:60]}"


class Rating(models.TextChoices):
    """HSEEP performance ratings of an objective (HSEEP 2020, exercise evaluation guides)."""

    P = "P", _("Performed without challenges")
    S = "S", _("Performed with some challenges")
    M = "M", _("Performed with major challenges")
    U = "U", _("Unable to be performed")


class Evaluation(models.Model):
    """One evaluator's exercise evaluation guide for one objective."""

    city_path = "objective__exercise__city"

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="evaluations")
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    rating = models.CharField(_("rating"), max_length=1, choices=Rating.choices)
    strengths = models.TextField(_("strengths"), blank=True)
    improvements = models.TextField(_("areas for improvement"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["objective", "evaluator"], name="evaluation_per_evaluator"
            )
        ]

    def __str__(self) -> str:
        return f"{self.objective}: {self.rating}"


class CorrectiveAction(models.Model):
    """A line of the improvement plan: owned, dated, tracked to completion."""

    city_path = "exercise__city"

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="actions")
    objective = models.ForeignKey(
        Objective, verbose_name=_("objective"), null=True, blank=True, on_delete=models.SET_NULL
    )
    capability = models.CharField(_("capability"), max_length=20, choices=Capability.choices)
    description = models.TextField(_("corrective action"))
    owner = models.ForeignKey(
        Organisation, verbose_name=_("owner organisation"), on_delete=models.PROTECT
    )
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    due_on = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    evidence = models.TextField(_("evidence of completion"), blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        return self.description[:80]

    def overdue(self, today: dt.date) -> bool:
        return self.status in self.OPEN_STATUSES and self.due_on < today


class ColumnMapping(models.Model):
    """A saved mapping from a spreadsheet's column headings to MSEL fields, per city."""

    city_path = "city"

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    columns = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["city", "name"], name="column_mapping_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Course(models.Model):
    city_path = "city"

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="courses")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    validity_months = models.PositiveIntegerField(
        _("validity (months)"), help_text=_("Counted from the completion date.")
    )
    #: lanes whose operators must hold a valid certificate of this course
    required_for_lanes = models.BooleanField(_("required to operate lanes"), default=False)
    is_demo = models.BooleanField(default=False)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class TrainingSession(models.Model):
    city_path = "course__city"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    trainer = models.CharField(_("trainer"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), default=12)

    class Meta:
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return f"{self.course} {self.starts_at:%Y-%m-%d}"


class Enrolment(models.Model):
    """A person's place in a session: enrolled (within capacity), waiting, then attended or
    absent (see :mod:`.training`)."""

    city_path = "session__course__city"

    class Status(models.TextChoices):
        ENROLLED = "enrolled", _("Enrolled")
        WAITING = "waiting", _("On the waiting list")
        ATTENDED = "attended", _("Attended")
        ABSENT = "absent", _("Absent")

    session = models.ForeignKey(
        TrainingSession, on_delete=models.CASCADE, related_name="enrolments"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "person"], name="enrolment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.session} ({self.status})"


class Certificate(models.Model):
    """A person's completion of a course; valid until ``expires_on`` (completion + validity)."""

    city_path = "course__city"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="certificates")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="certificates"
    )
    session = models.ForeignKey(TrainingSession, null=True, blank=True, on_delete=models.SET_NULL)
    completed_on = models.DateField(_("completed on"))
    expires_on = models.DateField(_("expires on"))
    reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["expires_on"]

    def __str__(self) -> str:
        return f"{self.course} — {self.person}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.expires_on:
            from rempart.exercises.training import expiry_for

            self.expires_on = expiry_for(self.completed_on, self.course.validity_months)
        super().save(*args, **kwargs)

    def valid_on(self, day: dt.date) -> bool:
        return self.completed_on <= day <= self.expires_on
