"""Roles per module, held as Django groups named ``<module>:<role>``.

Roles are ranked: viewer < editor < operator < supervisor < admin; holding a role grants every
lower one in the same module. What a user may see is further limited to the cities their
organisation works for (:func:`user_cities`); superusers see every city.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db.models import QuerySet

MODULES = ("core", "assess", "access", "practices", "exercises", "prevention", "funding")
ROLES = ("viewer", "editor", "operator", "supervisor", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}

#: Scopes an API token may carry, and the role its owner needs to grant each.
TOKEN_SCOPES: dict[str, tuple[str, str]] = {
    "core:read": ("core", "viewer"),
    "core:write": ("core", "editor"),
    "assess:read": ("assess", "viewer"),
    "assess:run": ("assess", "editor"),
    "access:read": ("access", "viewer"),
    "access:request": ("access", "operator"),
    "access:command": ("access", "supervisor"),
    "practices:read": ("practices", "viewer"),
    "practices:write": ("practices", "editor"),
    "exercises:read": ("exercises", "viewer"),
    "exercises:write": ("exercises", "editor"),
    "funding:read": ("funding", "viewer"),
    "prevention:statistics": ("prevention", "supervisor"),
}


def group_name(module: str, role: str) -> str:
    if module not in MODULES or role not in ROLES:
        raise ValueError(
            f"unknown role {module}:{role}; expected a module in {MODULES} and a role in {ROLES}"
        )
    return f"{module}:{role}"


#: Django model permissions each role gets on its module's models (Django's own permission
#: checks; the admin site itself is for superusers only, see rempart.core.admin).
ROLE_ACTIONS = {
    "viewer": ("view",),
    "editor": ("view", "add", "change", "delete"),
    "operator": ("view", "add", "change"),
    "supervisor": ("view", "add", "change", "delete"),
    "admin": ("view", "add", "change", "delete"),
}


#: Model permissions beyond view/add/change/delete that a module's role carries (Primero's
#: special permissions: overriding consent, approving a support plan or a closure).
EXTRA_PERMISSIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("prevention", "supervisor"): ("override_consent", "approve_plan", "approve_closure"),
    ("prevention", "admin"): ("override_consent", "approve_plan", "approve_closure"),
}


def ensure_groups(app_label: str | None = None) -> None:
    """Create every module:role group and give it its module's model permissions (idempotent).

    Run after each app's migrations; ``app_label`` limits the permission grant to that app.
    """
    from django.contrib.auth.models import Permission

    for module in MODULES:
        for role in ROLES:
            group, _ = Group.objects.get_or_create(name=group_name(module, role))
            if app_label not in (None, module):
                continue
            wanted = Permission.objects.filter(
                content_type__app_label=module,
                codename__regex="^(" + "|".join(ROLE_ACTIONS[role]) + ")_",
            )
            # The audit trail is read by module admins only and written by nobody.
            audit_models = ("auditentry", "audithead")
            wanted = wanted.exclude(
                content_type__model__in=audit_models, codename__regex=r"^(add|change|delete)_"
            )
            if role != "admin":
                wanted = wanted.exclude(content_type__model__in=audit_models)
            extra = EXTRA_PERMISSIONS.get((module, role), ())
            if extra:
                wanted = wanted | Permission.objects.filter(
                    content_type__app_label=module, codename__in=extra
                )
            missing = wanted.exclude(pk__in=group.permissions.values("pk"))
            if missing.exists():
                group.permissions.add(*missing)


def grant(user: Any, module: str, role: str) -> None:
    group, _ = Group.objects.get_or_create(name=group_name(module, role))
    user.groups.add(group)


def user_roles(user: Any) -> dict[str, int]:
    """Highest role rank per module held by ``user`` (cached on the user object)."""
    cached = getattr(user, "_rempart_roles", None)
    if cached is not None:
        return cached
    ranks: dict[str, int] = {}
    if getattr(user, "is_authenticated", False):
        for name in user.groups.values_list("name", flat=True):
            module, _, role = name.partition(":")
            if module in MODULES and role in ROLE_RANK:
                ranks[module] = max(ranks.get(module, -1), ROLE_RANK[role])
    user._rempart_roles = ranks
    return ranks


def has_role(user: Any, module: str, role: str) -> bool:
    """True when ``user`` holds ``role`` (or a higher one) in ``module``; superusers hold all."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user_roles(user).get(module, -1) >= ROLE_RANK[role]


def user_cities(user: Any) -> QuerySet[Any]:
    """Cities the user may see: those their organisation works for (all for superusers)."""
    from rempart.core.models import City

    if not getattr(user, "is_authenticated", False):
        return City.objects.none()
    if user.is_superuser:
        return City.objects.all()
    profile = getattr(user, "profile", None)
    if profile is None or profile.organisation_id is None:
        return City.objects.none()
    return City.objects.filter(organisations=profile.organisation_id).distinct()


def can_see_city(user: Any, city: Any) -> bool:
    if user.is_superuser:
        return True
    return user_cities(user).filter(pk=city.pk).exists()
