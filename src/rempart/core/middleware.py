"""Request middleware: attribute audit entries to the logged-in user and their address; show dates
in the city's time zone; keep responses out of caches."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

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


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every response Django makes: pages behind the login, API
    answers and exports (CSV, GeoJSON, reports) carry personal or security data that a shared
    computer's browser cache or a proxy must not keep. A view that sets ``max-age`` itself keeps
    its caching (a city's base map: OpenStreetMap streets). Static files are answered before
    this, by WhiteNoise, with their own caching; camera reads by the camera gateway, no-store."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        chosen = response.get("Cache-Control", "")
        if "max-age" in chosen and "no-store" not in chosen and "max-age=0" not in chosen:
            return response
        patch_cache_control(response, no_store=True)
        return response
