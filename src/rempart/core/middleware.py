"""Request middleware: attribute audit entries to the logged-in user and their address."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from rempart.core import audit


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        actor = audit.actor_for_user(
            getattr(request, "user", None), request.META.get("REMOTE_ADDR", "")
        )
        with audit.acting_as(actor):
            return self.get_response(request)
