"""Template context: the navigation a user may see, by role."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from rempart.core.roles import MODULES, has_role


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "can": {
            f"{module}_{role}": has_role(user, module, role)
            for module in MODULES
            for role in ("viewer", "editor", "operator", "supervisor", "admin")
        }
    }
