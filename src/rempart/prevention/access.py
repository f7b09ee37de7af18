"""Need-to-know: who may read which case, and how much of it (issue 14, item 3).

A case is open in full to its case team (named people of named organisations, active between
their ``starts_at`` and ``ends_at``), to the unit's coordinators of its city (those who hold
``prevention:supervisor`` or ``prevention:admin`` themselves: being a superuser of the
platform is not enough) and to someone with a live break-glass grant. A *partner* member sees
only the actions assigned to their organisation and what the team chose to share. Other
members of the unit in the city (``prevention:editor`` and up) see the locked profile: the
reference, the status and which agencies are involved (E-CINS' locked profile, minimised: no
name), and may break the glass with a reason. Everyone else, including every role of the other
modules, gets the 404 of a case that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from rempart.core.roles import ROLE_RANK, user_cities, user_roles
from rempart.prevention.models import BreakGlass, Case, TeamMember

FULL, PARTNER, LOCKED = "full", "partner", "locked"


def unit_rank(user: Any) -> int:
    """The user's own rank in the prevention unit (-1: none). Superuser status adds nothing."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return -1
    return user_roles(user).get("prevention", -1)


def is_coordinator(user: Any, city: Any) -> bool:
    return (
        unit_rank(user) >= ROLE_RANK["supervisor"] and user_cities(user).filter(pk=city.pk).exists()
    )


def _active(now: dt.datetime) -> Q:
    return Q(starts_at__lte=now) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))


def membership(user: Any, case: Case, now: dt.datetime | None = None) -> TeamMember | None:
    now = now or timezone.now()
    rows = TeamMember.objects.filter(_active(now), case=case, user=user)
    return rows.exclude(role=TeamMember.Role.PARTNER).first() or rows.first()


def live_break_glass(user: Any, case: Case, now: dt.datetime | None = None) -> BreakGlass | None:
    now = now or timezone.now()
    return BreakGlass.objects.filter(
        case=case, user=user, granted_at__lte=now, expires_at__gt=now
    ).first()


def level(user: Any, case: Case, now: dt.datetime | None = None) -> str | None:
    """FULL, PARTNER, LOCKED, or None (the case must not be known to exist)."""
    rank = unit_rank(user)
    if rank < 0 or not user_cities(user).filter(pk=case.city_id).exists():
        return None
    if rank >= ROLE_RANK["supervisor"]:
        return FULL
    member = membership(user, case, now)
    if member is not None and member.role != TeamMember.Role.PARTNER:
        return FULL
    if live_break_glass(user, case, now) is not None:
        return FULL
    if member is not None:
        return PARTNER
    if rank >= ROLE_RANK["editor"]:
        return LOCKED
    return None


def sees_full(user: Any, case: Case) -> bool:
    return level(user, case) == FULL


def sees_any(user: Any, case: Case) -> bool:
    return level(user, case) is not None


def sees_locked_or_more(user: Any, case: Case) -> bool:
    return level(user, case) in (FULL, LOCKED)


def sees_partner_or_full(user: Any, case: Case) -> bool:
    return level(user, case) in (FULL, PARTNER)


def my_cases(user: Any, city: Any, now: dt.datetime | None = None) -> QuerySet[Case]:
    """Cases of ``city`` the user may open (coordinators: all; others: their teams')."""
    now = now or timezone.now()
    if city is None or unit_rank(user) < 0:
        return Case.objects.none()
    if is_coordinator(user, city):
        return Case.objects.filter(city=city)
    on_team = TeamMember.objects.filter(_active(now), user=user).values("case")
    glass = BreakGlass.objects.filter(user=user, expires_at__gt=now).values("case")
    return Case.objects.filter(city=city).filter(Q(pk__in=on_team) | Q(pk__in=glass))
