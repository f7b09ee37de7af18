"""Training: the lane refused to an uncertified operator, the dashboard's waiting items."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rempart.access import services
from rempart.exercises.models import Certificate, CorrectiveAction, Course, Exercise
from tests.access.test_models_fixtures import make_zone
from tests.conftest import dashboard_waiting
from tests.exercises.conftest import make_inject

pytestmark = pytest.mark.django_db


def test_an_uncertified_operator_is_refused_at_a_lane_that_requires_it(
    city: Any, make_user: Any
) -> None:
    zone = make_zone(city, "nice")
    lane = zone.lanes.get(ident="nice-in")
    operator = make_user("operator")
    assert services.operator_close(lane, operator, "drill") == 0  # nothing required yet
    course = Course.objects.create(
        city=city, title="Barrier procedures", validity_months=12, required_for_lanes=True
    )
    with pytest.raises(services.ActionDenied) as refused:
        services.operator_close(lane, operator, "drill")
    assert str(refused.value) == (
        "closing a lane: operating a lane needs a valid certificate of 'Barrier procedures'; "
        f"{operator.username} holds none valid today"
    )
    client = Client()
    client.force_login(operator)
    response = client.post(
        reverse("access:lane_close", args=["nice-in"]), {"reason": "drill", "confirm": "on"}
    )
    assert response.status_code == 403
    today = timezone.localdate()
    Certificate.objects.create(
        course=course, person=operator, completed_on=today - dt.timedelta(days=400)
    )
    with pytest.raises(services.ActionDenied):  # expired: 400 days > 12 months
        services.operator_close(lane, operator, "drill")
    Certificate.objects.create(course=course, person=operator, completed_on=today)
    assert services.operator_close(lane, operator, "drill") == 0


def test_the_dashboard_lists_what_waits(
    exercise: Exercise, objectives: Any, make_user: Any, organisation: Any, client: Client
) -> None:
    operator = make_user("supervisor")
    make_inject(exercise, 1, state="approved", scenario_time_s=0)
    exercise.stage = Exercise.Stage.CONDUCT
    exercise.save()
    CorrectiveAction.objects.create(
        exercise=exercise,
        capability="warning",
        description="Fix the radio",
        owner=organisation,
        due_on=timezone.localdate() + dt.timedelta(days=3),
    )
    items = {label: count for label, count, _url in dashboard_waiting(client, operator)}
    assert items["injects to release"] == 1
    assert items["evaluations to write"] == 2  # a supervisor rates every objective
    assert items["corrective actions due"] == 1


def test_the_site_page_shows_its_exercises(exercise: Exercise, make_user: Any) -> None:
    client = Client()
    client.force_login(make_user("viewer"))
    page = client.get(reverse("core:site_detail", args=[exercise.site.pk])).content.decode()
    assert "Exercises held here" in page and exercise.name in page


def test_the_calendar_lists_exercises_and_sessions_in_utc(
    exercise: Exercise, make_user: Any
) -> None:
    from icalendar import Calendar

    from rempart.exercises.models import TrainingSession

    exercise.starts_at = dt.datetime(2026, 7, 14, 7, 0, tzinfo=dt.UTC)  # 09:00 in Nice
    exercise.save()
    course = Course.objects.create(
        city=exercise.city, title="Barrier procedures", validity_months=12
    )
    TrainingSession.objects.create(
        course=course,
        starts_at=dt.datetime(2026, 10, 25, 8, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 10, 25, 14, 0, tzinfo=dt.UTC),
        place="City hall",
    )
    client = Client()
    client.force_login(make_user("viewer"))
    response = client.get(reverse("exercises:calendar"))
    assert response["Content-Type"].startswith("text/calendar")
    events = {str(e["summary"]): e for e in Calendar.from_ical(response.content).walk("VEVENT")}
    assert events["Promenade tabletop"].decoded("dtstart") == exercise.starts_at
    assert str(events["Promenade tabletop"]["location"]) == "Promenade test"
    session = events["Barrier procedures"]
    assert session.decoded("dtend") == dt.datetime(2026, 10, 25, 14, 0, tzinfo=dt.UTC)
    assert str(session["uid"]).startswith("training-session-")


def test_a_full_session_has_a_waiting_list_and_attendance_certifies(
    city: Any, make_user: Any
) -> None:
    from rempart.exercises import training
    from rempart.exercises.models import Enrolment, TrainingSession

    course = Course.objects.create(city=city, title="Hostile vehicle awareness", validity_months=24)
    start = timezone.now() + dt.timedelta(days=3)
    session = TrainingSession.objects.create(
        course=course, starts_at=start, ends_at=start + dt.timedelta(hours=4), capacity=1
    )
    first, second = make_user("viewer"), make_user("operator")
    assert training.enrol(session, first).status == Enrolment.Status.ENROLLED
    assert training.enrol(session, second).status == Enrolment.Status.WAITING
    promoted = training.cancel(session, first)
    assert promoted is not None and promoted.person == second
    assert promoted.status == Enrolment.Status.ENROLLED
    with pytest.raises(training.TrainingError, match="has not ended"):
        training.record_attendance(promoted, True)
    # the session ran on 25 October 2026, 20:00-23:30 UTC: 26 October in Nice (UTC+1 after
    # the DST change that night), so the certificate counts from the 26th
    session.starts_at = dt.datetime(2026, 10, 25, 20, 0, tzinfo=dt.UTC)
    session.ends_at = dt.datetime(2026, 10, 25, 23, 30, tzinfo=dt.UTC)
    session.save()
    promoted.refresh_from_db()
    certificate = training.record_attendance(promoted, True)
    assert certificate is not None
    assert certificate.completed_on == dt.date(2026, 10, 26)
    assert certificate.expires_on == dt.date(2028, 10, 25)
