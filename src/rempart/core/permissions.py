"""Permission checks for pages: a role in a module, and the city an object belongs to.

Anonymous users are sent to the login page; an authenticated user without the role, or
asking for another city's object, gets 403 and the refusal is written to the audit trail.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from rempart.core import audit
from rempart.core.roles import can_see_city, has_role


def deny(request: HttpRequest, reason: str, **detail: Any) -> PermissionDenied:
    """Record a refusal and return the exception to raise."""
    audit.record(
        "permission_denied",
        object_type="page",
        object_repr=request.path[:200],
        detail={"reason": reason, "method": request.method, **detail},
    )
    return PermissionDenied(reason)


def role_required(
    module: str, role: str
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """View decorator: login, then ``role`` (or higher) in ``module``."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, module, role):
                raise deny(request, f"requires the {module}:{role} role")
            return view(request, *args, **kwargs)

        wrapped.required_role = (module, role)  # type: ignore[attr-defined]
        return wrapped

    return decorator


def check_city(request: HttpRequest, city: Any) -> None:
    """403 (audited) when the user's organisation does not work for ``city``."""
    if not can_see_city(request.user, city):
        raise deny(
            request, "object belongs to a city your organisation does not work for", city=city.slug
        )
