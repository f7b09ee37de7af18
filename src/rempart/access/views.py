"""The control room and the access pages.

Live state reaches the browser by server-sent events (:func:`stream`): a generator polls the
database every half second and sends the lanes and alarms whenever they change, so the page
never reloads. It runs in a gunicorn thread (``rempart serve`` uses gthread workers) and ends
after ``STREAM_MAX_S``; the browser's EventSource reconnects by itself.

Roles: viewers watch (plates and categories, no holders); operators open and close lanes and
acknowledge alarms; supervisors enter and leave lockdown; editors manage permits and see their
holders. Every action needs a reason and a confirmation and is audited by the service layer.
"""

from __future__ import annotations

import contextlib
import json
import time
import zoneinfo
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rempart.access import services
from rempart.access.forms import (
    AckForm,
    ActionForm,
    DecisionFilterForm,
    ModeForm,
    PermitImportForm,
    ScheduleForm,
)
from rempart.access.models import (
    AccessDecision,
    Alarm,
    DaemonHeartbeat,
    Lane,
    Permit,
    Zone,
)
from rempart.access.schedule import ZoneMode, effective_mode
from rempart.core import audit
from rempart.core.models import City
from rempart.core.permissions import check_city, deny, role_required
from rempart.core.roles import has_role
from rempart.core.views import required_city

STREAM_INTERVAL_S = 0.5
STREAM_MAX_S = 300.0


def _zones(city: City) -> list[Zone]:
    return list(Zone.objects.filter(city=city).select_related("city").prefetch_related("schedules"))


def _zone_rows(zones: list[Zone]) -> list[dict[str, Any]]:
    now = timezone.now()
    rows = []
    for zone in zones:
        mode, schedule = effective_mode(
            ZoneMode(zone.mode), [s.to_engine() for s in zone.schedules.all()], now
        )
        rows.append(
            {
                "id": zone.ident,
                "name": zone.name or zone.ident,
                "mode": mode.value,
                "base_mode": zone.mode,
                "scheduled": schedule.label if schedule else "",
                "reason": zone.mode_reason,
            }
        )
    return rows


def _alarm_rows(zones: list[Zone]) -> list[dict[str, Any]]:
    rows = []
    for alarm in services.open_alarms(zones)[:50]:
        tz = zoneinfo.ZoneInfo(alarm.zone.timezone) if hasattr(alarm, "zone") else None
        rows.append(
            {
                "id": alarm.pk,
                "kind": alarm.kind,
                "message": alarm.message,
                "raised_at": timezone.localtime(alarm.raised_at, tz).strftime("%d %b %H:%M:%S"),
                "active": alarm.cleared_at is None,
                "acknowledged": alarm.acknowledged_at is not None,
                "ack_url": reverse("access:alarm_ack", args=[alarm.pk]),
            }
        )
    return rows


def _snapshot(zones: list[Zone]) -> dict[str, Any]:
    beat = DaemonHeartbeat.objects.filter(name="access").first()
    daemon_ok = beat is not None and (timezone.now() - beat.seen_at).total_seconds() < 10
    return {
        "zones": _zone_rows(zones),
        "lanes": services.lane_states(zones),
        "alarms": _alarm_rows(zones),
        "daemon_ok": daemon_ok,
    }


@role_required("access", "viewer")
def control_room(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    zones = _zones(city)
    snapshot = _snapshot(zones)
    return render(
        request,
        "access/control_room.html",
        {
            "city": city,
            "zones": zones,
            "snapshot": snapshot,
            "action_form": ActionForm(),
            "mode_form": ModeForm(),
        },
    )


@role_required("access", "viewer")  # type: ignore[arg-type]
def stream(request: HttpRequest) -> StreamingHttpResponse:
    """``text/event-stream``: an ``update`` event with the whole snapshot when it changes."""
    city = required_city(request)
    zone_pks = [z.pk for z in _zones(city)]

    def events() -> Iterator[str]:
        started = time.monotonic()
        last = ""
        last_sent = 0.0
        yield "retry: 2000\n\n"
        try:
            while time.monotonic() - started < STREAM_MAX_S:
                try:
                    zones = list(Zone.objects.filter(pk__in=zone_pks).prefetch_related("schedules"))
                    payload = json.dumps(_snapshot(zones), separators=(",", ":"))
                except Exception:  # the database went away (shutdown): end the stream
                    return
                if payload != last:
                    last, last_sent = payload, time.monotonic()
                    yield f"event: update\ndata: {payload}\n\n"
                elif time.monotonic() - last_sent > 15:
                    last_sent = time.monotonic()
                    yield ": keep-alive\n\n"
                time.sleep(STREAM_INTERVAL_S)
        finally:
            with contextlib.suppress(Exception):  # the test database may be gone already
                close_old_connections()

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a reverse proxy must not buffer the stream
    return response


def _lane(request: HttpRequest, ident: str) -> Lane:
    lane = get_object_or_404(Lane.objects.select_related("zone", "zone__city"), ident=ident)
    check_city(request, lane.zone.city)
    return lane


def _act(request: HttpRequest, action: Any, ok: str) -> HttpResponse:
    try:
        action()
    except services.ActionDenied as exc:
        if exc.status == 403:
            raise deny(request, str(exc)) from exc
        messages.error(request, str(exc))
    else:
        messages.success(request, ok)
    return redirect("access:control_room")


@role_required("access", "operator")
@require_POST
def lane_open(request: HttpRequest, ident: str) -> HttpResponse:
    lane = _lane(request, ident)
    form = ActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Opening a lane needs a reason and your confirmation."))
        return redirect("access:control_room")
    return _act(
        request,
        lambda: services.operator_open(lane, request.user, form.cleaned_data["reason"]),
        _("Lane %(lane)s: one vehicle let through.") % {"lane": lane.ident},
    )


@role_required("access", "operator")
@require_POST
def lane_close(request: HttpRequest, ident: str) -> HttpResponse:
    lane = _lane(request, ident)
    form = ActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Closing a lane needs a reason and your confirmation."))
        return redirect("access:control_room")
    return _act(
        request,
        lambda: services.operator_close(lane, request.user, form.cleaned_data["reason"]),
        _("Lane %(lane)s closing.") % {"lane": lane.ident},
    )


@role_required("access", "operator")
@require_POST
def zone_mode(request: HttpRequest, ident: str) -> HttpResponse:
    zone = get_object_or_404(Zone.objects.select_related("city"), ident=ident)
    check_city(request, zone.city)
    form = ModeForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Changing the mode needs a mode, a reason and your confirmation.")
        )
        return redirect("access:control_room")
    mode = form.cleaned_data["mode"]
    return _act(
        request,
        lambda: services.set_zone_mode(zone, mode, request.user, form.cleaned_data["reason"]),
        _("Zone %(zone)s is now in %(mode)s.") % {"zone": zone.ident, "mode": mode},
    )


@role_required("access", "operator")
@require_POST
def alarm_ack(request: HttpRequest, pk: int) -> HttpResponse:
    alarm = get_object_or_404(Alarm.objects.select_related("zone__city"), pk=pk)
    check_city(request, alarm.zone.city)
    form = AckForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _act(
        request,
        lambda: services.acknowledge_alarm(alarm, request.user, note),
        _("Alarm acknowledged."),
    )


@role_required("access", "viewer")
def decisions(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    form = DecisionFilterForm(request.GET or None)
    rows = AccessDecision.objects.filter(zone__city=city).select_related("lane", "zone")
    if form.is_valid():
        data = form.cleaned_data
        if data["lane"]:
            rows = rows.filter(lane__ident=data["lane"])
        if data["outcome"]:
            rows = rows.filter(outcome=data["outcome"])
        if data["reason"]:
            rows = rows.filter(reason=data["reason"])
        if data["plate"]:
            plate = data["plate"].upper().replace("-", "").replace(" ", "")
            rows = rows.filter(plate__contains=plate)
        if data["since"]:
            rows = rows.filter(received_at__gte=data["since"])
        if data["until"]:
            rows = rows.filter(received_at__lt=data["until"])
    page = Paginator(rows.order_by("-received_at", "-pk"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "access/decisions.html",
        {"city": city, "form": form, "page": page, "query": query.urlencode()},
    )


@role_required("access", "viewer")
def permits(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    show_holders = has_role(request.user, "access", "editor")
    rows = Permit.objects.filter(city=city).prefetch_related("zones").order_by("ident")
    if show_holders:
        audit.record(
            "sensitive_read",
            object_type="access.permit",
            object_repr="permit holders",
            city=city,
            detail={"count": rows.count()},
        )
    return render(
        request,
        "access/permits.html",
        {
            "city": city,
            "permits": rows,
            "show_holders": show_holders,
            "import_form": PermitImportForm(),
        },
    )


@role_required("access", "editor")
def permits_export(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    rows = Permit.objects.filter(city=city).prefetch_related("zones").order_by("ident")
    text = services.export_permits_csv(rows, with_holders=True)
    audit.record(
        "export",
        object_type="access.permit",
        object_repr=f"{rows.count()} permits as CSV",
        city=city,
        detail={"format": "csv"},
    )
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="permits-{city.slug}.csv"'
    return response


@role_required("access", "editor")
@require_POST
def permits_import(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    form = PermitImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a CSV file."))
        return redirect("access:permits")
    raw = form.cleaned_data["file"].read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        messages.error(request, _("The file is not UTF-8 text."))
        return redirect("access:permits")
    result = services.import_permits_csv(text, city, dry_run=form.cleaned_data["dry_run"])
    if result.errors:
        return render(
            request,
            "access/permits_import_errors.html",
            {"city": city, "errors": result.errors},
            status=400,
        )
    messages.success(
        request,
        _("%(created)d permits created, %(updated)d updated.")
        % {"created": result.created, "updated": result.updated},
    )
    return redirect("access:permits")


@role_required("access", "viewer")
def zone_detail(request: HttpRequest, ident: str) -> HttpResponse:
    zone = get_object_or_404(Zone.objects.select_related("city", "site"), ident=ident)
    check_city(request, zone.city)
    lanes = zone.lanes.prefetch_related("barriers")
    return render(
        request,
        "access/zone_detail.html",
        {
            "zone": zone,
            "city": zone.city,
            "lanes": lanes,
            "schedules": zone.schedules.all(),
            "schedule_form": ScheduleForm(),
        },
    )


@role_required("access", "operator")
@require_POST
def schedule_add(request: HttpRequest, ident: str) -> HttpResponse:
    zone = get_object_or_404(Zone.objects.select_related("city"), ident=ident)
    check_city(request, zone.city)
    form = ScheduleForm(request.POST)
    with timezone.override(zoneinfo.ZoneInfo(zone.timezone)):  # times typed in zone time
        valid = form.is_valid()
    if not valid:
        messages.error(request, _("A scheduled mode needs a mode, a start and an end."))
        return redirect(zone)
    data = form.cleaned_data
    start, end = data["start"], data["end"]
    try:
        services.add_schedule(zone, data["mode"], start, end, data["label"], request.user)
    except services.ActionDenied as exc:
        if exc.status == 403:
            raise deny(request, str(exc)) from exc
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Scheduled."))
    return redirect(zone)
