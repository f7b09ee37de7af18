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


class CityTimezoneMiddleware:
    """Show dates in the time zone of the city the user is looking at (chosen on the dashboard)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.utils import timezone

        from rempart.core.models import City

        slug = request.session.get("rempart_city") if hasattr(request, "session") else None
        zone = None
        if slug and getattr(request, "user", None) is not None and request.user.is_authenticated:
            zone = City.objects.filter(slug=slug).values_list("timezone", flat=True).first()
        if zone:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
