"""Training and certification: expiry counted from completion, validity on a city's local day,
reminders before expiry, the rule that a lane operator must hold a valid certificate.

A certificate is valid through its expiry *date*, judged on the city's own calendar day (so a
Helsinki certificate expiring on 31 March lapses at midnight Helsinki time, whatever the
server's time zone and across a DST change). Validity in months is added as calendar months;
a completion on the 31st expiring in a shorter month expires on that month's last day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from rempart.core.models import City
from rempart.exercises.models import Certificate, Course, Enrolment, TrainingSession

#: days before expiry that a reminder falls due
REMINDER_DAYS = 30


def expiry_for(completed_on: dt.date, validity_months: int) -> dt.date:
    """The last valid day: ``completed_on`` plus ``validity_months`` calendar months, minus one
    day (a year's validity from 1 March 2026 runs through 28 February 2027)."""
    month_index = completed_on.month - 1 + validity_months
    year, month = completed_on.year + month_index // 12, month_index % 12 + 1
    day = min(completed_on.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day) - dt.timedelta(days=1)


def local_today(city: City, now: dt.datetime | None = None) -> dt.date:
    """The calendar day in ``city``'s time zone at ``now`` (an aware datetime; default: now)."""
    now = now or timezone.now()
    return now.astimezone(zoneinfo.ZoneInfo(city.timezone)).date()


def valid_certificate(user: Any, course: Course, now: dt.datetime | None = None) -> bool:
    day = local_today(course.city, now)
    return Certificate.objects.filter(
        person=user, course=course, completed_on__lte=day, expires_on__gte=day
    ).exists()


def lapsing(city: City, within_days: int, now: dt.datetime | None = None) -> QuerySet[Any]:
    """Certificates of ``city``'s courses still valid today that expire within ``within_days``."""
    day = local_today(city, now)
    return Certificate.objects.filter(
        course__city=city,
        expires_on__gte=day,
        expires_on__lte=day + dt.timedelta(days=within_days),
    ).select_related("course", "person")


def lane_refusal(user: Any, city: City, now: dt.datetime | None = None) -> str:
    """Empty when ``user`` may operate a lane of ``city``; else the one line saying why not:
    a course of the city marked *required to operate lanes* without a valid certificate."""
    for course in Course.objects.filter(city=city, required_for_lanes=True):
        if not valid_certificate(user, course, now):
            return (
                f"operating a lane needs a valid certificate of {course.title!r}; "
                f"{user.get_username()} holds none valid today"
            )
    return ""


def send_reminders(now: dt.datetime | None = None) -> int:
    """E-mail each holder whose certificate expires within :data:`REMINDER_DAYS` (once per
    certificate); returns how many were sent."""
    from django.utils.translation import gettext_lazy as _

    from rempart.core import notify

    sent = 0
    for city in City.objects.filter(courses__isnull=False).distinct():
        for cert in lapsing(city, REMINDER_DAYS, now).filter(reminded_on__isnull=True):
            person = cert.person
            language = "fr" if city.country == "FR" else "en"  # the city's language
            notify.send(
                person.email,
                language,
                _("Your certificate is about to expire"),
                "exercises/email/certificate_expiry.txt",
                {"certificate": cert, "person": person},
            )
            cert.reminded_on = local_today(city, now)
            cert.save(update_fields=["reminded_on"])
            sent += 1
    return sent


# --- sessions: places, waiting list, attendance ---------------------------------------------------


class TrainingError(Exception):
    """A refused enrolment or attendance; the message is one line."""


def enrol(session: TrainingSession, user: Any) -> Enrolment:
    """A place if one is left, else the waiting list (first come, first served)."""
    from django.db import transaction

    with transaction.atomic():
        session = TrainingSession.objects.select_for_update().get(pk=session.pk)
        current = Enrolment.objects.filter(session=session, person=user).first()
        if current is not None:
            return current
        taken = session.enrolments.filter(status=Enrolment.Status.ENROLLED).count()
        status = Enrolment.Status.ENROLLED if taken < session.capacity else Enrolment.Status.WAITING
        return Enrolment.objects.create(session=session, person=user, status=status)


def cancel(session: TrainingSession, user: Any) -> Enrolment | None:
    """Leave the session; a freed place goes to the first on the waiting list (returned)."""
    from django.db import transaction

    with transaction.atomic():
        session = TrainingSession.objects.select_for_update().get(pk=session.pk)
        current = Enrolment.objects.filter(session=session, person=user).first()
        if current is None:
            return None
        freed = current.status == Enrolment.Status.ENROLLED
        current.delete()
        if not freed:
            return None
        first = session.enrolments.filter(status=Enrolment.Status.WAITING).first()
        if first is not None:
            first.status = Enrolment.Status.ENROLLED
            first.save(update_fields=["status"])
        return first


def record_attendance(enrolment: Enrolment, attended: bool) -> Certificate | None:
    """Mark an enrolled person attended (a certificate, completed on the session's last day in
    the city's calendar) or absent. Refused before the session has ended."""
    session = enrolment.session
    if session.ends_at > timezone.now():
        raise TrainingError(f"session {session} has not ended; attendance is recorded after it")
    if enrolment.status == Enrolment.Status.WAITING:
        raise TrainingError(f"{enrolment.person} was on the waiting list, not in the session")
    enrolment.status = Enrolment.Status.ATTENDED if attended else Enrolment.Status.ABSENT
    enrolment.save(update_fields=["status"])
    if not attended:
        return None
    completed = local_today(session.course.city, session.ends_at)
    certificate, _ = Certificate.objects.get_or_create(
        course=session.course,
        person=enrolment.person,
        completed_on=completed,
        defaults={"session": session},
    )
    return certificate
