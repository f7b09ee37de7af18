"""iCalendar (RFC 5545) export of a city's exercises and training sessions, with icalendar.

Times are written in UTC (``…Z``), so every calendar shows them in its own time zone; each event
has a stable UID (``exercise-<id>@rempart`` / ``training-session-<id>@rempart``) so a calendar
that subscribes updates events instead of duplicating them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from rempart.core import notify
from rempart.exercises.models import Exercise, TrainingSession


def _event(uid: str, start: dt.datetime, end: dt.datetime | None, summary: str) -> Event:
    event = Event()
    event.add("uid", f"{uid}@rempart")
    event.add("dtstamp", timezone.now().astimezone(dt.UTC))
    event.add("dtstart", start.astimezone(dt.UTC))
    event.add("dtend", (end or start + dt.timedelta(hours=2)).astimezone(dt.UTC))
    event.add("summary", summary)
    return event


def city_calendar(city: Any) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//rempart//exercises//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"rempart · {city.name}")
    for exercise in Exercise.objects.filter(city=city, starts_at__isnull=False).select_related(
        "site"
    ):
        assert exercise.starts_at is not None
        event = _event(
            f"exercise-{exercise.pk}", exercise.starts_at, exercise.ends_at, exercise.name
        )
        event.add("description", f"{exercise.get_kind_display()}. {exercise.scope}".strip())
        if exercise.site:
            event.add("location", exercise.site.name)
        event.add("url", notify.absolute_url(reverse("exercises:detail", args=[exercise.pk])))
        calendar.add_component(event)
    for session in TrainingSession.objects.filter(course__city=city).select_related("course"):
        event = _event(
            f"training-session-{session.pk}",
            session.starts_at,
            session.ends_at,
            session.course.title,
        )
        if session.place:
            event.add("location", session.place)
        if session.trainer:
            event.add("description", session.trainer)
        event.add("url", notify.absolute_url(reverse("exercises:course", args=[session.course_id])))
        calendar.add_component(event)
    return calendar.to_ical()
