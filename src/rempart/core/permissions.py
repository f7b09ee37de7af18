"""The gate of pages: a role in a module (the object rules are :mod:`rempart.core.access_rules`).

Anonymous users are sent to the login page; an authenticated user without the role gets 403
and the refusal is written to the audit trail.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from rempart.core.access_rules import Forbidden, forbid
from rempart.core.roles import has_role


def deny(request: HttpRequest, reason: str, **detail: Any) -> Forbidden:
    """Record a refusal (403) and return the exception to raise."""
    return forbid(request, reason, **detail)


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
