"""Which audit entries a user may read.

Superusers read every entry. A core admin reads the entries of the cities their organisation
works for, and the entries without a city that concern their own organisation (its people's
accounts and logins, their tokens, what its members did outside any city: the organisation is
recorded with the entry, see :func:`rempart.core.audit.record`). Entries of another city, and
entries without a city and without an organisation (e.g. a failed login with an unknown
username), are for superusers only.

Entries of a *private* module (:data:`PRIVATE_MODULES`: the prevention unit, whose cases other
users must not even learn exist) are read only by those holding that module's admin role
themselves, and by superusers.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from rempart.core.audit_models import AuditEntry
from rempart.core.roles import ROLE_RANK, user_cities, user_roles

#: module -> the role of its own needed to read its entries (object type ``<module>.*`` or
#: action ``<module>_*``)
PRIVATE_MODULES = {"prevention": "admin"}


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
    entries = entries.filter(rule)
    for module, role in PRIVATE_MODULES.items():
        if user_roles(user).get(module, -1) < ROLE_RANK[role]:
            entries = entries.exclude(
                Q(object_type__startswith=f"{module}.") | Q(action__startswith=f"{module}_")
            )
    return entries
