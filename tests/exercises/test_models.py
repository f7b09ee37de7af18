"""Inject states, MSEL versions and rollback, the clock, certificate expiry (issue 13)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rempart.core.audit_models import AuditEntry
from rempart.exercises import msel, training
from rempart.exercises.models import Certificate, Course, Exercise, Inject, JournalEntry
from tests.exercises.conftest import make_inject

pytestmark = pytest.mark.django_db
S = Inject.State
T0 = dt.datetime(2026, 7, 14, 20, 0, tzinfo=dt.UTC)


def test_an_inject_runs_draft_approved_released_complete(
    exercise: Exercise, make_user: Any
) -> None:
    controller = make_user("operator")
    inject = make_inject(exercise, 1)
    for state in (S.APPROVED, S.RELEASED, S.COMPLETE):
        msel.move(inject, state, controller)
    inject.refresh_from_db()
    assert inject.state == S.COMPLETE and inject.state_by == controller
    assert inject.state_at is not None
    kinds = list(exercise.journal.values_list("kind", flat=True))
    assert kinds == [JournalEntry.Kind.INJECT] * 3
    assert AuditEntry.objects.filter(object_type="exercises.inject", action="update").count() == 3


def test_a_skip_needs_a_reason_and_is_final(exercise: Exercise, make_user: Any) -> None:
    user = make_user("operator")
    inject = make_inject(exercise, 1)
    with pytest.raises(msel.MselError, match="a reason is needed"):
        msel.move(inject, S.SKIPPED, user, "  ")
    msel.move(inject, S.SKIPPED, user, "players already evacuated")
    inject.refresh_from_db()
    assert (inject.state, inject.state_reason) == (S.SKIPPED, "players already evacuated")
    with pytest.raises(msel.MselError, match="cannot become released"):
        msel.move(inject, S.RELEASED, user)
    assert "players already evacuated" in exercise.journal.last().text


def test_released_cannot_go_back_and_deferred_returns_to_approved(
    exercise: Exercise, make_user: Any
) -> None:
    user = make_user("operator")
    first, second = make_inject(exercise, 1), make_inject(exercise, 2)
    msel.release(first, user)
    with pytest.raises(msel.MselError):
        msel.move(first, S.DRAFT, user)
    msel.move(second, S.DEFERRED, user, "waiting for the fire brigade")
    msel.move(second, S.APPROVED, user)
    assert Inject.objects.get(pk=second.pk).state == S.APPROVED


def test_the_clock_releases_due_injects_not_contingencies_nor_orphan_branches(
    exercise: Exercise, make_user: Any
) -> None:
    user = make_user("operator")
    first = make_inject(exercise, 1, state=S.APPROVED)  # at 60 s
    branch = make_inject(exercise, 2, state=S.APPROVED, scenario_time_s=30, parent=first)
    make_inject(exercise, 3, state=S.APPROVED, contingency=True, scenario_time_s=10)
    make_inject(exercise, 4, state=S.APPROVED)  # at 240 s
    msel.start_clock(exercise, user, now=T0)
    assert msel.release_due(exercise, user, now=T0 + dt.timedelta(seconds=45)) == []
    # at 70 s: the first is due; its branch (due at 30 s) waits for it, then follows
    assert [
        i.number for i in msel.release_due(exercise, user, now=T0 + dt.timedelta(seconds=70))
    ] == [1]
    assert [
        i.number for i in msel.release_due(exercise, user, now=T0 + dt.timedelta(seconds=71))
    ] == [2]
    msel.pause_clock(exercise, user, now=T0 + dt.timedelta(seconds=100))
    assert exercise.scenario_seconds(T0 + dt.timedelta(hours=5)) == 100
    msel.jump_clock(exercise, 300, user)
    assert [i.number for i in msel.release_due(exercise, user)] == [4]
    assert Inject.objects.get(exercise=exercise, number=3).state == S.APPROVED
    assert Inject.objects.get(pk=branch.pk).state == S.RELEASED


def test_players_see_only_released_injects(exercise: Exercise, make_user: Any) -> None:
    user = make_user("operator")
    released, held = make_inject(exercise, 1), make_inject(exercise, 2)
    msel.release(released, user)
    assert list(msel.visible_injects(exercise, user, controller=False)) == [released]
    assert len(msel.visible_injects(exercise, user, controller=True)) == 2
    assert held.state == S.DRAFT


def test_versions_compare_and_roll_back(
    exercise: Exercise, objectives: Any, make_user: Any
) -> None:
    user = make_user("editor")
    first = make_inject(exercise, 1, message="Caller reports a lorry on the Promenade")
    first.objectives.set([objectives[0]])
    make_inject(exercise, 2, parent=first, trigger="if the control room does not answer")
    v1 = msel.save_version(exercise, user, "first draft")
    Inject.objects.filter(number=1).update(message="Changed")
    Inject.objects.get(number=2).delete()
    make_inject(exercise, 3)
    v2 = msel.save_version(exercise, user, "second")
    changes = msel.compare(v1.rows, v2.rows)
    assert changes == [
        {"number": 1, "change": "changed", "fields": ["message"]},
        {"number": 2, "change": "removed", "fields": []},
        {"number": 3, "change": "added", "fields": []},
    ]
    after = msel.rollback(v1, user)
    assert after.number == 4  # v3 saved the MSEL before rolling back
    numbers = sorted(exercise.injects.values_list("number", flat=True))
    assert numbers == [1, 2]
    restored = exercise.injects.get(number=2)
    assert restored.parent.number == 1 and restored.trigger == "if the control room does not answer"
    assert restored.parent.message == "Caller reports a lorry on the Promenade"
    assert list(restored.parent.objectives.values_list("number", flat=True)) == [1]
    assert msel.compare(v1.rows, after.rows) == []
    # the rollback itself can be undone
    msel.rollback(exercise.versions.get(number=3), user)
    assert sorted(exercise.injects.values_list("number", flat=True)) == [1, 3]


@pytest.mark.parametrize(
    ("completed", "months", "expires"),
    [
        (dt.date(2026, 3, 1), 12, dt.date(2027, 2, 28)),
        (
            dt.date(2026, 1, 31),
            1,
            dt.date(2026, 2, 27),
        ),  # 28 Feb is the anniversary: valid the day before
        (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 27)),
        (dt.date(2026, 10, 15), 24, dt.date(2028, 10, 14)),
    ],
)
def test_expiry_counts_calendar_months_from_completion(
    completed: dt.date, months: int, expires: dt.date
) -> None:
    assert training.expiry_for(completed, months) == expires


def test_expiry_is_judged_on_the_citys_day_across_dst(city: Any, make_user: Any) -> None:
    """A Nice certificate valid through Sunday 29 March 2026 (the night clocks go forward):
    at 23:30 Paris time (21:30 UTC, summer time) it is still valid; at 00:30 Paris time on 30
    March (22:30 UTC on the 29th) it has lapsed, though it is still the 29th in UTC."""
    operator = make_user("operator")
    course = Course.objects.create(city=city, title="Control room", validity_months=12)
    cert = Certificate.objects.create(
        course=course, person=operator, completed_on=dt.date(2025, 3, 30)
    )
    assert cert.expires_on == dt.date(2026, 3, 29)
    assert training.valid_certificate(
        operator, course, dt.datetime(2026, 3, 29, 21, 30, tzinfo=dt.UTC)
    )
    assert not training.valid_certificate(
        operator, course, dt.datetime(2026, 3, 29, 22, 30, tzinfo=dt.UTC)
    )
    # in Helsinki (UTC+3 in summer) the same certificate would lapse an hour earlier
    city.timezone = "Europe/Helsinki"
    city.save()
    course.refresh_from_db()
    assert not training.valid_certificate(
        operator, course, dt.datetime(2026, 3, 29, 21, 30, tzinfo=dt.UTC)
    )


def test_reminders_fall_due_once_before_expiry(
    city: Any, make_user: Any, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    operator = make_user("operator")
    operator.email = "op@example.org"
    operator.save()
    course = Course.objects.create(city=city, title="Hostile vehicle awareness", validity_months=12)
    Certificate.objects.create(course=course, person=operator, completed_on=dt.date(2025, 6, 1))
    early = dt.datetime(2026, 4, 1, 10, tzinfo=dt.UTC)  # expiry 31 May 2026: 60 days away
    assert training.send_reminders(early) == 0
    due = dt.datetime(2026, 5, 10, 10, tzinfo=dt.UTC)
    with django_capture_on_commit_callbacks(execute=True):
        assert training.send_reminders(due) == 1
    assert training.send_reminders(due) == 0
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["op@example.org"]
    assert "2026" in mailoutbox[0].body


def test_an_uncertified_operator_is_refused_a_lane(city: Any, make_user: Any) -> None:
    operator = make_user("operator")
    now = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
    assert training.lane_refusal(operator, city, now) == ""  # no course required yet
    course = Course.objects.create(
        city=city, title="Barrier procedures", validity_months=12, required_for_lanes=True
    )
    refusal = training.lane_refusal(operator, city, now)
    assert "Barrier procedures" in refusal and operator.username in refusal
    Certificate.objects.create(course=course, person=operator, completed_on=dt.date(2026, 1, 10))
    assert training.lane_refusal(operator, city, now) == ""
