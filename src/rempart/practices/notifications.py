"""E-mails that tell members when something needs them or concerns them.

Five kinds, each one a member can turn off on their notifications page (the ``notify_*``
fields of :class:`~rempart.practices.models.MemberProfile`), written in the language they chose
(``email_language``):

* ``review_assigned``: an admin assigned you a review;
* ``review_due``: a review of yours is due within :data:`DUE_SOON_DAYS` days or overdue
  (``rempart practices remind``, run daily, sends at most one reminder a day per review);
* ``published``: a practice you wrote (or a new version you wrote) was published;
* ``request_answered``: someone answered your "who has done this?" question
  (``request_routed``: a question was routed to you);
* ``waiting_list``: a place freed up on an event and you moved from its waiting list.

The address is the account's e-mail, else the one on the member's profile; nobody without an
address is written to. Sending goes through :mod:`rempart.core.notify` (after the commit).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rempart.core import notify

#: a review due within this many days (or overdue) gets a reminder
DUE_SOON_DAYS = 2

KINDS = (
    "review_assigned",
    "review_due",
    "published",
    "request_answered",
    "request_routed",
    "waiting_list",
)


def _profile(user: Any) -> Any:
    """The member's profile, or (not stored) the defaults of one: every e-mail on, English."""
    from rempart.practices.models import MemberProfile

    profile = MemberProfile.objects.filter(user=user).first()
    return profile or MemberProfile(
        user=user, display_name=user.get_full_name() or user.get_username()
    )


def _tell(
    user: Any,
    kind: str,
    subject: Callable[[dict[str, Any]], str],
    template: str,
    context: Callable[[str], dict[str, Any]],
) -> bool:
    """E-mail ``user`` unless they turned ``kind`` off or have no address.

    ``context(language)`` gives the template's context in the recipient's language.
    """
    if user is None or not user.is_active:
        return False
    profile = _profile(user)
    if not getattr(profile, f"notify_{kind}"):
        return False
    address = user.email or profile.email
    if not address:
        return False
    language = profile.email_language
    values = {
        "name": profile.display_name,
        "preferences_url": notify.absolute_url(reverse("practices:notifications")),
        **context(language),
    }
    notify.send(address, language, subject, f"practices/email/{template}.txt", values)
    return True


def _practice_context(practice: Any) -> Callable[[str], dict[str, Any]]:
    def context(language: str) -> dict[str, Any]:
        title, _summary = practice.translation(language)
        return {
            "title": title,
            "url": notify.absolute_url(reverse("practices:detail", args=[practice.pk])),
        }

    return context


def review_assigned(assignment: Any) -> bool:
    practice = assignment.practice

    def context(language: str) -> dict[str, Any]:
        return {
            **_practice_context(practice)(language),
            "due_on": assignment.due_on,
            "review_url": notify.absolute_url(reverse("practices:review", args=[practice.pk])),
        }

    return _tell(
        assignment.reviewer,
        "review_assigned",
        lambda c: _("Review assigned: %(title)s") % c,
        "review_assigned",
        context,
    )


def remind_due_reviews(today: datetime.date | None = None) -> int:
    """Remind reviewers of open reviews due within DUE_SOON_DAYS days or overdue, once a day.

    Returns how many reminders were sent.
    """
    from rempart.practices.models import ReviewAssignment, Status

    today = today or timezone.localdate()
    start_of_day = timezone.make_aware(datetime.datetime.combine(today, datetime.time()))
    due = (
        ReviewAssignment.objects.filter(
            decision="",
            practice__status=Status.IN_REVIEW,
            due_on__lte=today + datetime.timedelta(days=DUE_SOON_DAYS),
        )
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lt=start_of_day))
        .select_related("practice", "reviewer")
    )
    sent = 0
    for assignment in due:
        practice = assignment.practice
        if assignment.round != practice.review_round:
            continue

        def context(language: str, assignment: Any = assignment) -> dict[str, Any]:
            return {
                **_practice_context(assignment.practice)(language),
                "due_on": assignment.due_on,
                "overdue": assignment.due_on < today,
                "review_url": notify.absolute_url(
                    reverse("practices:review", args=[assignment.practice_id])
                ),
            }

        if _tell(
            assignment.reviewer,
            "review_due",
            lambda c: _("Review due: %(title)s") % c,
            "review_due",
            context,
        ):
            sent += 1
        assignment.reminded_at = timezone.now()
        assignment.save(update_fields=["reminded_at"])
    return sent


def practice_published(practice: Any) -> int:
    """Tell the practice's author and the author of the version just published."""
    authors = [practice.created_by]
    version = practice.versions.filter(number=practice.version).select_related("created_by")
    authors += [v.created_by for v in version]
    return _tell_each(
        authors,
        "published",
        lambda c: _("Published: %(title)s") % c,
        "published",
        _practice_context(practice),
    )


def request_routed(help_request: Any, people: Iterable[Any]) -> int:
    return _tell_each(
        people,
        "request_routed",
        lambda c: _("Who has done this? A question for you from %(asker)s") % c,
        "request_routed",
        _request_context(help_request),
    )


def request_answered(answer: Any) -> bool:
    help_request = answer.request
    if answer.author_id == help_request.author_id:
        return False

    def context(language: str) -> dict[str, Any]:
        return {**_request_context(help_request)(language), "answer": answer.body}

    return _tell(
        help_request.author,
        "request_answered",
        lambda c: _("An answer to your question: who has done this?") % c,
        "request_answered",
        context,
    )


def waiting_list_promoted(registration: Any) -> bool:
    event = registration.event

    def context(language: str) -> dict[str, Any]:
        return {
            "event": event.title,
            "starts_at": event.starts_at,
            "place": event.place,
            "url": notify.absolute_url(reverse("practices:event", args=[event.pk])),
        }

    return _tell(
        registration.user,
        "waiting_list",
        lambda c: _("A place is yours: %(event)s") % c,
        "waiting_list",
        context,
    )


def _request_context(help_request: Any) -> Callable[[str], dict[str, Any]]:
    def context(language: str) -> dict[str, Any]:
        asker = _profile(help_request.author).display_name
        return {
            "asker": asker,
            "question": help_request.question,
            "url": notify.absolute_url(reverse("practices:request", args=[help_request.pk])),
        }

    return context


def _tell_each(
    people: Iterable[Any],
    kind: str,
    subject: Callable[[dict[str, Any]], str],
    template: str,
    context: Callable[[str], dict[str, Any]],
) -> int:
    seen: set[int] = set()
    sent = 0
    for person in people:
        if person is None or person.pk in seen:
            continue
        seen.add(person.pk)
        sent += _tell(person, kind, subject, template, context)
    return sent
