"""Exercise mode of the access control room: an exercise's simulated zone, marked EXERCISE.

The exercise zone (``access.Zone.is_exercise``) is linked by ``Exercise.zone``. Four locks keep
play away from real devices: its barriers save only with the simulator driver
(``access.models.Barrier.save``), the driver factory refuses any other driver for it
(``access.drivers.create_driver``), the daemon skips such barriers (``daemon.load_topology``),
and the real control room, logs, exports and dashboard figures list real zones only.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from rempart.access import views as access_views
from rempart.access.models import Zone
from rempart.core import audit
from rempart.core.access_rules import fetch
from rempart.core.permissions import role_required
from rempart.exercises.models import Exercise


def _exercise_zone(request: HttpRequest, pk: int) -> tuple[Exercise, Zone]:
    exercise = fetch(
        request, Exercise.objects.select_related("city", "zone"), f"exercise {pk}", pk=pk
    )
    timezone.activate(exercise.city.timezone)
    zone = exercise.zone
    if zone is None or not zone.is_exercise:
        raise Http404(f"Exercise {pk} has no simulated exercise zone; link one first.")
    return exercise, zone


@role_required("exercises", "operator")
def control_room(request: HttpRequest, pk: int) -> HttpResponse:
    """The live control room of the exercise's simulated zone, EXERCISE on every part."""
    exercise, zone = _exercise_zone(request, pk)
    context = access_views.control_room_context(request, exercise.city, [zone])
    context["exercise"] = exercise
    context["stream_url"] = reverse("exercises:control_room_stream", args=[exercise.pk])
    audit.record("read", obj=exercise, detail={"what": "exercise control room"})
    return render(request, "access/control_room.html", context)


@role_required("exercises", "operator")  # type: ignore[arg-type]
def control_room_stream(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The live feed of the exercise zone; every event carries ``"exercise": true``."""
    _exercise, zone = _exercise_zone(request, pk)
    return access_views.stream_response([zone.pk], exercise=True)
