"""The exchange between members: profiles, event registration with a waiting list, routing of
"who has done this?" requests. Members are users holding any role of the practices module.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet

from rempart.core.roles import group_name
from rempart.practices import notifications
from rempart.practices.models import (
    Event,
    HelpAnswer,
    HelpRequest,
    MemberProfile,
    Registration,
    WorkingGroup,
)
from rempart.practices.workflow import is_member

State = Registration.State


class ExchangeError(Exception):
    """A step of the exchange that is not allowed; the message says why."""


def members() -> QuerySet[Any]:
    """Active users holding any practices role (superusers excepted unless they hold one)."""
    names = [
        group_name("practices", role)
        for role in ("viewer", "editor", "operator", "supervisor", "admin")
    ]
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=names)
        .distinct()
        .order_by("username")
    )


def profile_for(user: Any) -> MemberProfile:
    """The member's profile, created with cautious defaults (name only) the first time."""
    profile, _created = MemberProfile.objects.get_or_create(
        user=user,
        defaults={
            "display_name": user.get_full_name() or user.get_username(),
            "organisation": str(getattr(getattr(user, "profile", None), "organisation", "") or ""),
        },
    )
    return profile


def directory(viewer: Any) -> list[MemberProfile]:
    """Listed profiles of members, for a member; nothing at all for anyone else."""
    if not is_member(viewer):
        return []
    return list(
        MemberProfile.objects.filter(listed=True, user__in=members()).order_by("display_name")
    )


def visible_profile(viewer: Any, profile: MemberProfile) -> dict[str, Any] | None:
    """What ``viewer`` may see of ``profile``: None for non-members or unlisted profiles."""
    if not is_member(viewer) or not is_member(profile.user):
        return None
    if not profile.listed and profile.user_id != viewer.pk:
        return None
    return profile.public_fields()


# --- events ----------------------------------------------------------------------------------


def register(event: Event, user: Any) -> Registration:
    """Confirm a place, or queue on the waiting list when the event is full."""
    if not is_member(user):
        raise ExchangeError("only members of the exchange may register")
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        existing = Registration.objects.filter(event=event, user=user).first()
        if existing is not None and existing.state != State.CANCELLED:
            return existing
        confirmed = event.registrations.filter(state=State.CONFIRMED).count()
        state = State.CONFIRMED if confirmed < event.capacity else State.WAITING
        if existing is not None:
            # back of the queue: a re-registration is a new registration
            existing.delete()
        return Registration.objects.create(event=event, user=user, state=state)


def cancel(event: Event, user: Any) -> Registration | None:
    """Cancel ``user``'s registration; the first on the waiting list takes a freed place.

    Returns the promoted registration, if any.
    """
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        mine = Registration.objects.filter(event=event, user=user).exclude(state=State.CANCELLED)
        registration = mine.first()
        if registration is None:
            raise ExchangeError("you are not registered for this event")
        freed = registration.state == State.CONFIRMED
        registration.state = State.CANCELLED
        registration.save(update_fields=["state", "updated_at"])
        if freed:
            return promote(event)
    return None


def promote(event: Event) -> Registration | None:
    """Fill free places from the waiting list, first come first served (call under a lock).

    Each member promoted is told by e-mail (if they chose to be). Returns the first promoted.
    """
    promoted = None
    confirmed = event.registrations.filter(state=State.CONFIRMED).count()
    for waiting in event.registrations.filter(state=State.WAITING).order_by("registered_at", "pk"):
        if confirmed >= event.capacity:
            break
        waiting.state = State.CONFIRMED
        waiting.save(update_fields=["state", "updated_at"])
        notifications.waiting_list_promoted(waiting)
        confirmed += 1
        promoted = promoted or waiting
    return promoted


def waiting_position(event: Event, user: Any) -> int | None:
    queue = list(
        event.registrations.filter(state=State.WAITING)
        .order_by("registered_at", "pk")
        .values_list("user_id", flat=True)
    )
    return queue.index(user.pk) + 1 if user.pk in queue else None


# --- "who has done this?" ---------------------------------------------------------------------


def matching_members(request: HelpRequest, *, limit: int = 20) -> list[Any]:
    """Members whose shown expertise overlaps the request's themes (and who accept requests),
    best overlap first, never the author: who :func:`route` sends the request to."""
    wanted = set(request.themes)
    scored: list[tuple[int, str, Any]] = []
    for profile in MemberProfile.objects.filter(
        accepts_requests=True, user__in=members()
    ).select_related("user"):
        if profile.user_id == request.author_id:
            continue
        overlap = len(wanted & set(profile.expertise))
        if overlap:
            scored.append((overlap, profile.display_name, profile.user))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [user for _, _, user in scored[:limit]]


def group_coordinators(themes: list[str], author: Any = None) -> list[tuple[WorkingGroup, Any]]:
    """(working group, coordinator) for the groups on any of ``themes``: who a request that
    matches nobody's expertise can go to instead. Members only, never the author."""
    found: list[tuple[WorkingGroup, Any]] = []
    for group in WorkingGroup.objects.filter(theme__in=themes).prefetch_related("coordinators"):
        for person in group.coordinators.all():
            if person.is_active and is_member(person) and person.pk != getattr(author, "pk", None):
                found.append((group, person))
    return found


def route(request: HelpRequest, *, limit: int = 20, to_coordinators: bool = False) -> list[Any]:
    """Send the request to the members :func:`matching_members` finds, or (``to_coordinators``,
    the asker's choice when nobody matches) to the coordinators of the working groups on its
    themes. Those routed to are told by e-mail. Returns the users routed to."""
    if to_coordinators:
        chosen = list(
            dict.fromkeys(
                person for _g, person in group_coordinators(request.themes, request.author)
            )
        )
    else:
        chosen = matching_members(request, limit=limit)
    request.routed_to.set(chosen)
    notifications.request_routed(request, chosen)
    return chosen


def answer(request: HelpRequest, author: Any, body: str, practice: Any = None) -> HelpAnswer:
    """Post an answer to a request; its author is told by e-mail (if they chose to be)."""
    if not is_member(author):
        raise ExchangeError("only members of the exchange may answer")
    item = HelpAnswer.objects.create(request=request, author=author, body=body, practice=practice)
    notifications.request_answered(item)
    return item
