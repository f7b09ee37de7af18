"""Which audit entries a user may read.

Superusers read every entry. A core admin reads the entries of the cities their organisation
works for, and the entries without a city that concern their own organisation (its people's
accounts and logins, their tokens, what its members did outside any city: the organisation is
recorded with the entry, see :func:`rempart.core.audit.record`). Entries of another city, and
entries without a city and without an organisation (e.g. a failed login with an unknown
username), are for superusers only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from rempart.core.audit_models import AuditEntry
from rempart.core.roles import user_cities


def visible_entries(user: Any, entries: QuerySet[AuditEntry] | None = None) -> QuerySet[AuditEntry]:
    """``entries`` (default: all) narrowed to those ``user`` may read."""
    entries = AuditEntry.objects.all() if entries is None else entries
    if not getattr(user, "is_authenticated", False):
        return entries.none()
    if user.is_superuser:
        return entries
    rule = Q(city__in=list(user_cities(user).values_list("slug", flat=True)))
    organisation_id = getattr(getattr(user, "profile", None), "organisation_id", None)
    if organisation_id:
        rule |= Q(city="", organisation_id=organisation_id)
    return entries.filter(rule)
