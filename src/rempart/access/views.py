"""The control room and the access pages.

Live state reaches the browser by server-sent events (:func:`stream`): a generator polls the
database every half second and sends the lanes and alarms whenever they change, so the page
never reloads. It holds one of the server's blocking threads (``rempart serve --threads``) and
ends after ``STREAM_MAX_S``; the browser's EventSource reconnects by itself.

Roles: viewers watch (plates and categories, no holders); operators open and close lanes,
answer referred requests, acknowledge alarms and schedule, edit or cancel modes; supervisors
enter and leave lockdown (by hand or by schedule); editors manage permits and see their
holders. Every action needs a reason and a confirmation and is audited by the service layer.

A refused action answers with its status (403 audited; 409, 410 or 422 with one line shown on
the page it came from) and writes nothing.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
import zoneinfo
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import close_old_connections
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from rempart.access import alarms, exports, labels, live_map, precedence, services
from rempart.access.forms import (
    AckForm,
    ActionForm,
    AlarmFilterForm,
    AnswerForm,
    DecisionFilterForm,
    ModeForm,
    PermitForm,
    PermitImportForm,
    PermitStatusForm,
    ScheduleEditForm,
    ScheduleForm,
)
from rempart.access.models import (
    AccessDecision,
    Alarm,
    DaemonHeartbeat,
    DecisionImage,
    Lane,
    Permit,
    Zone,
    ZoneSchedule,
)
from rempart.access.schedule import ZoneMode, effective_mode
from rempart.core import audit
from rempart.core.access_rules import fetch
from rempart.core.models import City, CityBasemap
from rempart.core.permissions import deny, role_required
from rempart.core.roles import has_role
from rempart.core.views import required_city
from rempart.inputs import InputError, check_size

#: Exports take plates out of the platform: operators and above (viewers read the logs on screen).
EXPORT_ROLE = "operator"
#: The most rows one CSV export holds (narrow the dates for more).
EXPORT_MAX_ROWS = 100_000

STREAM_INTERVAL_S = 0.5
STREAM_MAX_S = 300.0


def local_datetime(value: Any, tz: Any, fmt: str = "j M H:i:s") -> str:
    """``value`` in the zone's time zone ``tz``, month names in the request's language."""
    return formats.date_format(timezone.localtime(value, tz), fmt)


def _zones(city: City, exercise: bool = False) -> list[Zone]:
    """The city's real zones, or (``exercise``) its exercise zones: never both together."""
    return list(
        Zone.objects.filter(city=city, is_exercise=exercise)
        .select_related("city")
        .prefetch_related("schedules")
    )


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
                "mode_label": labels.label("mode", mode.value),
                "base_mode": zone.mode,
                "scheduled": schedule.label if schedule else "",
                "reason": zone.mode_reason,
                "banner": precedence.zone_banner(zone, now),
            }
        )
    return rows


def _alarm_rows(zones: list[Zone]) -> list[dict[str, Any]]:
    rows = []
    by_pk = {zone.pk: zone for zone in zones}
    for alarm in services.open_alarms(zones)[:50]:
        zone = by_pk.get(alarm.zone_id) or alarm.zone
        tz = zoneinfo.ZoneInfo(zone.timezone)
        rows.append(
            {
                "id": alarm.pk,
                "kind": alarm.kind,
                "kind_label": labels.label("alarm", alarm.kind),
                "lane": alarm.lane.ident if alarm.lane else "",
                "zone": zone.ident,
                "message": alarm.message,
                "raised_at": local_datetime(alarm.raised_at, tz),
                "active": alarm.cleared_at is None,
                "acknowledged": alarm.acknowledged_at is not None,
                "priority": alarms.priority(alarm.kind),
                "priority_label": alarms.priority_label(alarms.priority(alarm.kind)),
                "procedure": alarms.procedure(alarm.kind),
                "escalated": alarm.escalated_at is not None,
                "ack_url": reverse("access:alarm_ack", args=[alarm.pk]),
            }
        )
    # unacknowledged high-priority alarms first, then newest first (stable sort)
    rank = {"high": 0, "medium": 1, "low": 2}
    rows.sort(key=lambda row: (bool(row["acknowledged"]), rank.get(str(row["priority"]), 1)))
    return rows


def _referral_rows(zones: list[Zone]) -> list[dict[str, Any]]:
    """Referred requests awaiting an operator (:func:`services.pending_referrals`).

    Plates as on the lanes (every control-room viewer sees plates; holders are never shown
    here: they are for access editors on the permit pages)."""
    rows = []
    now = timezone.now()
    for decision in services.pending_referrals(zones).select_related("image")[:50]:
        tz = zoneinfo.ZoneInfo(decision.zone.timezone)
        rows.append(
            {
                **referral_timing(decision, now),
                "id": decision.request_id.hex,
                "lane": decision.lane.ident,
                "lane_name": decision.lane.name or decision.lane.ident,
                "zone": decision.zone.ident,
                "plate": decision.plate,
                "confidence": (
                    round(decision.confidence, 2) if decision.confidence is not None else None
                ),
                "at": timezone.localtime(decision.received_at, tz).strftime("%H:%M:%S"),
                "reason_code": decision.reason,
                "reason_label": labels.label("reason", decision.reason),
                "reason_sentence": labels.label("reason_sentence", decision.reason),
                "reason": decision.message,
                "answer_url": reverse("access:referral_answer", args=[decision.request_id]),
            }
        )
    return rows


#: A referral this close to expiry is flagged (the operator must answer now or open by hand).
REFERRAL_WARN_S = 120


def referral_timing(decision: AccessDecision, now: Any) -> dict[str, Any]:
    """Waiting time, expiry and evidence of a referral (the page counts down from the ISO
    instants; the texts are the first values)."""
    waited_s = max(0, int((now - decision.received_at).total_seconds()))
    expires = decision.received_at + services.REFERRAL_WINDOW
    left_s = int((expires - now).total_seconds())
    image = getattr(decision, "image", None) if hasattr(decision, "image") else None
    return {
        "received_at": decision.received_at.isoformat(),
        "waiting": precedence.countdown_text(waited_s),
        "expires_at": expires.isoformat(),
        "expires_in": precedence.countdown_text(left_s),
        "expiring": left_s <= REFERRAL_WARN_S,
        "image_url": (
            reverse("access:referral_image", args=[decision.request_id]) if image else ""
        ),
        "plate_text": decision.plate or _("no plate read"),
    }


def _expired_referral_rows(zones: list[Zone]) -> list[dict[str, Any]]:
    """Referrals of the last hour that expired unanswered (kept visible, never silently gone)."""
    rows = []
    for decision in services.expired_referrals(zones)[:20]:
        tz = zoneinfo.ZoneInfo(decision.zone.timezone)
        rows.append(
            {
                "id": decision.request_id.hex,
                "lane_name": decision.lane.name or decision.lane.ident,
                "plate": decision.plate or _("no plate read"),
                "at": timezone.localtime(decision.received_at, tz).strftime("%H:%M:%S"),
            }
        )
    return rows


def _snapshot(zones: list[Zone]) -> dict[str, Any]:
    beat = DaemonHeartbeat.objects.filter(name="access").first()
    daemon_ok = beat is not None and (timezone.now() - beat.seen_at).total_seconds() < 10
    return {
        "zones": _zone_rows(zones),
        "lanes": live_map.worded_lanes(services.lane_states(zones)),
        "alarms": _alarm_rows(zones),
        "referrals": _referral_rows(zones),
        "expired_referrals": _expired_referral_rows(zones),
        "daemon_ok": daemon_ok,
    }


@role_required("access", "viewer")
def control_room(request: HttpRequest, status: int = 200) -> HttpResponse:
    city = required_city(request)
    return render(
        request,
        "access/control_room.html",
        control_room_context(request, city, _zones(city)),
        status=status,
    )


def control_room_context(request: HttpRequest, city: City, zones: list[Zone]) -> dict[str, Any]:
    """What the control room page shows of ``zones`` (the real ones, or an exercise's)."""
    snapshot = _snapshot(zones)
    features, unplaced = live_map.lane_features(zones)
    return {
        "city": city,
        "zones": zones,
        "snapshot": snapshot,
        "lane_features": features,
        "unplaced_lanes": unplaced,
        "basemap_url": (
            reverse("access:basemap") + _city_query(request)
            if CityBasemap.objects.filter(city=city).exists()
            else ""
        ),
        "map_words": {
            "state": {
                "up": _("Raised (blocking)"),
                "down": _("Lowered (open)"),
                "moving": _("Moving"),
                "fault": _("Fault or link lost"),
                "unknown": _("Position unknown"),
            },
            "alarms": _("Alarms"),
            "zone_alarms": _("Alarms of no lane"),
            "actions": _("Open the lane's actions"),
            "show": _("Show the lane"),
        },
        "action_form": ActionForm(),
        "mode_form": ModeForm(),
        "referral_window_min": int(services.REFERRAL_WINDOW.total_seconds() // 60),
    }


def _city_query(request: HttpRequest) -> str:
    city = request.GET.get("city")
    return f"?{urlencode({'city': city})}" if city else ""


@role_required("access", "viewer")
def basemap(request: HttpRequest) -> HttpResponse:
    """The city's offline street lines (GeoJSON, WGS84) for the control room's map: the same
    layer as the site maps', for access roles that have no role in the core module (an empty
    collection when the city has none)."""
    city = required_city(request)
    layer = CityBasemap.objects.filter(city=city).first()
    text = layer.geojson if layer is not None else '{"type":"FeatureCollection","features":[]}'
    return HttpResponse(text, content_type="application/geo+json")  # no-store, as every page


@role_required("access", "viewer")  # type: ignore[arg-type]
def stream(request: HttpRequest) -> StreamingHttpResponse:
    """``text/event-stream``: an ``update`` event with the whole snapshot when it changes."""
    city = required_city(request)
    return stream_response([z.pk for z in _zones(city)])


def stream_response(zone_pks: list[int], exercise: bool = False) -> StreamingHttpResponse:
    """The live feed of these zones; ``exercise`` marks every event ``"exercise": true``."""
    language = translation.get_language()  # the words of the feed: the request's language

    def events() -> Iterator[str]:
        started = time.monotonic()
        last = ""
        last_sent = 0.0
        yield "retry: 2000\n\n"
        try:
            while time.monotonic() - started < STREAM_MAX_S:
                try:
                    zones = list(Zone.objects.filter(pk__in=zone_pks).prefetch_related("schedules"))
                    with translation.override(language):
                        snapshot = _snapshot(zones)
                        if exercise:
                            snapshot["exercise"] = True
                        payload = json.dumps(snapshot, separators=(",", ":"))
                except Exception:  # the database went away (shutdown): end the stream
                    return
                if payload != last:
                    last, last_sent = payload, time.monotonic()
                    yield f"event: update\ndata: {payload}\n\n"
                elif time.monotonic() - last_sent > settings.ACCESS_STREAM_KEEPALIVE_S:
                    last_sent = time.monotonic()
                    yield ": keep-alive\n\n"
                time.sleep(STREAM_INTERVAL_S)
        finally:
            with contextlib.suppress(Exception):  # the test database may be gone already
                close_old_connections()

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-store"  # decisions name plates: no cache keeps them
    response["X-Accel-Buffering"] = "no"  # a reverse proxy must not buffer the stream
    return response


def _lane(request: HttpRequest, ident: str) -> Lane:
    return fetch(request, Lane.objects.select_related("zone"), f"lane {ident!r}", ident=ident)


def _zone(request: HttpRequest, ident: str) -> Zone:
    return fetch(request, Zone.objects.select_related("site"), f"zone {ident!r}", ident=ident)


def _back_to_room(zone: Zone) -> HttpResponse:
    """The control room the action came from: an exercise zone's actions return to its
    exercise's control room, every other zone's to the live control room."""
    if zone.is_exercise:
        exercise = zone.exercises.order_by("pk").first()  # type: ignore[attr-defined]
        if exercise is not None:
            return redirect("exercises:control_room", pk=exercise.pk)
    return redirect("access:control_room")


def _act(request: HttpRequest, action: Any, ok: str, zone: Zone) -> HttpResponse:
    try:
        action()
    except services.ActionDenied as exc:
        if exc.status == 403:
            raise deny(request, str(exc)) from exc
        messages.error(request, str(exc))
    else:
        messages.success(request, ok)
    return _back_to_room(zone)


@role_required("access", "operator")
@require_POST
def lane_open(request: HttpRequest, ident: str) -> HttpResponse:
    lane = _lane(request, ident)
    form = ActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Opening a lane needs a reason and your confirmation."))
        return _back_to_room(lane.zone)
    return _act(
        request,
        lambda: services.operator_open(
            lane,
            request.user,
            form.cleaned_data["reason"],
            lockdown_exception=form.cleaned_data["lockdown_exception"],
            plate=form.cleaned_data["plate"],
        ),
        _("Lane %(lane)s: one vehicle let through.") % {"lane": lane.ident},
        lane.zone,
    )


@role_required("access", "operator")
@require_POST
def lane_close(request: HttpRequest, ident: str) -> HttpResponse:
    lane = _lane(request, ident)
    form = ActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Closing a lane needs a reason and your confirmation."))
        return _back_to_room(lane.zone)
    return _act(
        request,
        lambda: services.operator_close(lane, request.user, form.cleaned_data["reason"]),
        _("Lane %(lane)s closing.") % {"lane": lane.ident},
        lane.zone,
    )


@role_required("access", "operator")
@require_POST
def zone_mode(request: HttpRequest, ident: str) -> HttpResponse:
    zone = _zone(request, ident)
    form = ModeForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Changing the mode needs a mode, a reason and your confirmation.")
        )
        return _back_to_room(zone)
    mode = form.cleaned_data["mode"]
    return _act(
        request,
        lambda: services.set_zone_mode(zone, mode, request.user, form.cleaned_data["reason"]),
        _("Zone %(zone)s is now in %(mode)s.")
        % {"zone": zone.ident, "mode": labels.label("mode", mode)},
        zone,
    )


@role_required("access", "operator")
@require_POST
def alarm_ack(request: HttpRequest, pk: int) -> HttpResponse:
    alarm = fetch(request, Alarm.objects, f"alarm {pk}", pk=pk)
    form = AckForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _act(
        request,
        lambda: services.acknowledge_alarm(alarm, request.user, note),
        _("Alarm acknowledged."),
        alarm.zone,
    )


def _log_filters(request: HttpRequest, form_class: Any, city: City) -> tuple[Any, dict[str, Any]]:
    """The log's filter form, validated with times typed in the city's time zone."""
    form = form_class(request.GET or None)
    with timezone.override(zoneinfo.ZoneInfo(_city_tz(city))):
        valid = form.is_valid()
    return form, (form.cleaned_data if valid else {})


def _city_tz(city: City) -> str:
    zone = Zone.objects.filter(city=city).order_by("ident").first()
    return zone.timezone if zone is not None else settings.TIME_ZONE


def _decision_rows(request: HttpRequest, city: City) -> tuple[Any, Any]:
    form, data = _log_filters(request, DecisionFilterForm, city)
    rows = AccessDecision.objects.filter(zone__city=city, zone__is_exercise=False).select_related(
        "lane", "zone", "passage"
    )
    return form, exports.filter_decisions(rows, data).order_by("-received_at", "-pk")


def _alarm_rows_log(request: HttpRequest, city: City) -> tuple[Any, Any]:
    form, data = _log_filters(request, AlarmFilterForm, city)
    rows = Alarm.objects.filter(zone__city=city, zone__is_exercise=False).select_related(
        "zone", "lane", "barrier", "acknowledged_by"
    )
    return form, exports.filter_alarms(rows, data).order_by("-raised_at", "-pk")


def _log_page(request: HttpRequest, rows: Any) -> tuple[Any, str]:
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


@role_required("access", "viewer")
def decisions(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    form, rows = _decision_rows(request, city)
    page, query = _log_page(request, rows)
    for d in page:
        d.received_local = local_datetime(d.received_at, zoneinfo.ZoneInfo(d.zone.timezone))
    return render(
        request,
        "access/decisions.html",
        {"city": city, "form": form, "page": page, "query": query},
    )


@role_required("access", "viewer")
def alarm_log(request: HttpRequest) -> HttpResponse:
    """Every alarm of the city, newest first, filterable by lane, kind, state and dates."""
    city = required_city(request)
    form, rows = _alarm_rows_log(request, city)
    page, query = _log_page(request, rows)
    for a in page:
        tz = zoneinfo.ZoneInfo(a.zone.timezone)
        a.raised_local = local_datetime(a.raised_at, tz)
        a.cleared_local = local_datetime(a.cleared_at, tz) if a.cleared_at else ""
        a.acknowledged_local = local_datetime(a.acknowledged_at, tz) if a.acknowledged_at else ""
    return render(
        request,
        "access/alarm_log.html",
        {"city": city, "form": form, "page": page, "query": query},
    )


def _csv_response(request: HttpRequest, city: City, text: str, what: str, count: int) -> Any:
    """A CSV download, never cached (plates), its export audited with the filters used."""
    audit.record(
        "export",
        object_type=f"access.{what}",
        object_repr=f"{count} {what} rows as CSV",
        city=city,
        detail={"format": "csv", "filters": {k: v for k, v in request.GET.items() if v}},
    )
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{what}-{city.slug}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@role_required("access", EXPORT_ROLE)
def decisions_export(request: HttpRequest) -> HttpResponse:
    """The decision log as CSV, with the page's filters (at most :data:`EXPORT_MAX_ROWS`)."""
    city = required_city(request)
    _form, rows = _decision_rows(request, city)
    rows = list(rows[:EXPORT_MAX_ROWS])
    return _csv_response(request, city, exports.decisions_csv(rows), "decisions", len(rows))


@role_required("access", EXPORT_ROLE)
def alarms_export(request: HttpRequest) -> HttpResponse:
    """The alarm log as CSV, with the page's filters (at most :data:`EXPORT_MAX_ROWS`)."""
    city = required_city(request)
    _form, rows = _alarm_rows_log(request, city)
    rows = list(rows[:EXPORT_MAX_ROWS])
    return _csv_response(request, city, exports.alarms_csv(rows), "alarms", len(rows))


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
    upload = form.cleaned_data["file"]
    what = _("file %(name)s") % {"name": upload.name}
    try:
        check_size(upload.size, what)
    except InputError as exc:
        result = services.CsvImport([str(exc)])
    else:
        result = services.import_permits_csv(
            upload.read(), city, dry_run=form.cleaned_data["dry_run"], what=what
        )
    if result.errors:
        return render(
            request,
            "access/permits_import_errors.html",
            {"city": city, "errors": result.errors},
            status=400,
        )
    created = ngettext("%(count)d permit created", "%(count)d permits created", result.created) % {
        "count": result.created
    }
    updated = ngettext(
        "%(count)d permit updated.", "%(count)d permits updated.", result.updated
    ) % {"count": result.updated}
    messages.success(request, f"{created}, {updated}")
    return redirect("access:permits")


@role_required("access", "viewer")
def zone_detail(request: HttpRequest, ident: str, status: int = 200) -> HttpResponse:
    zone = _zone(request, ident)
    lanes = zone.lanes.prefetch_related("barriers")
    return render(
        request,
        "access/zone_detail.html",
        {
            "zone": zone,
            "city": zone.city,
            "lanes": lanes,
            "schedules": zone.schedules.all(),
            "banner": precedence.zone_banner(zone),
            "schedule_form": ScheduleForm(),
            "now": timezone.now(),
        },
        status=status,
    )


@role_required("access", "operator")
@require_POST
def schedule_add(request: HttpRequest, ident: str) -> HttpResponse:
    zone = _zone(request, ident)
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


# --- referred requests ------------------------------------------------------------------------


@role_required("access", "operator")
@require_POST
def referral_answer(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    """Grant or deny a referred request (the control room's "Referred requests" list)."""
    decision = fetch(
        request,
        AccessDecision.objects.select_related("lane"),
        f"request {request_id}",
        request_id=request_id,
    )
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("Answering a referred request needs an answer, a reason and your confirmation."),
        )
        return control_room(request, status=422)
    grant = form.cleaned_data["answer"] == "grant"
    try:
        services.answer_referral(
            decision,
            request.user,
            grant,
            form.cleaned_data["reason"],
            lockdown_exception=form.cleaned_data["lockdown_exception"],
        )
    except services.ActionDenied as exc:
        if exc.status == 403:
            raise deny(request, str(exc)) from exc
        messages.error(request, str(exc))
        return control_room(request, status=exc.status)
    if grant:
        ok = _("Lane %(lane)s: referred request granted, one vehicle let through.")
    else:
        ok = _("Lane %(lane)s: referred request denied.")
    messages.success(request, ok % {"lane": decision.lane.ident})
    return redirect("access:control_room")


@role_required("access", "viewer")
def referral_image(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    """The camera's image of a request (plate crop or context), to control-room viewers of the
    zone's city; a sensitive read (audited). 404 once the retention purge deleted it."""
    decision = fetch(
        request,
        AccessDecision.objects.select_related("lane", "zone"),
        f"request {request_id}",
        request_id=request_id,
    )
    image = DecisionImage.objects.filter(decision=decision).first()
    if image is None:
        raise Http404(_("This request has no camera image (none sent, or already deleted)."))
    audit.record(
        "sensitive_read",
        obj=decision.lane,
        object_repr=f"camera image of request {decision.request_id.hex[:8]}",
        detail={"request_id": decision.request_id.hex, "bytes": image.size_bytes},
    )
    response = HttpResponse(bytes(image.data), content_type=image.content_type)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- permits, one by one ----------------------------------------------------------------------


def _permit(request: HttpRequest, ident: str) -> Permit:
    """``ident`` among the current city's permits (404 otherwise: ids are unique per city)."""
    city = required_city(request)
    return fetch(
        request,
        Permit.objects.prefetch_related("zones"),
        f"permit {ident!r}",
        city=city,
        ident=ident,
    )


def _permit_form_page(
    request: HttpRequest, form: PermitForm, permit: Permit | None, status: int = 200
) -> HttpResponse:
    city = permit.city if permit is not None else required_city(request)
    return render(
        request,
        "access/permit_form.html",
        {
            "city": city,
            "form": form,
            "permit": permit,
            "status_form": PermitStatusForm(),
        },
        status=status,
    )


def _permit_fields(form: PermitForm) -> dict[str, Any]:
    """The form's raw text, for the load file's checks (the form itself checks nothing)."""
    return {name: form.data.get(name, "") for name in form.fields if name != "zones"} | {
        "zones": form.data.getlist("zones") if hasattr(form.data, "getlist") else []
    }


def _add_permit_errors(form: PermitForm, errors: list[str]) -> None:
    """``permit.windows[0].from: ...`` goes to the ``windows`` field, and so on."""
    for line in errors:
        head = line.split(":", 1)[0]
        name = head.removeprefix("permit.").split(".", 1)[0].split("[", 1)[0]
        form.add_error(name if name in form.fields else None, line)


def _city_zone_idents(city: City) -> list[str]:
    return list(Zone.objects.filter(city=city).order_by("ident").values_list("ident", flat=True))


@role_required("access", services.PERMIT_ROLE)
def permit_new(request: HttpRequest) -> HttpResponse:
    """Issue one permit (access editors: the city's permit office, and above)."""
    city = required_city(request)
    zones = _city_zone_idents(city)
    if request.method != "POST":
        return _permit_form_page(request, PermitForm(zones=zones), None)
    return _save_permit(request, PermitForm(request.POST, zones=zones), city, None)


@role_required("access", services.PERMIT_ROLE)
def permit_edit(request: HttpRequest, ident: str) -> HttpResponse:
    """Change one permit (holder, category, mass, zones, windows, dates, PIN); the status has
    its own form with a reason (:func:`permit_status`)."""
    permit = _permit(request, ident)
    if request.method != "POST":
        return _permit_edit_page(request, permit)
    form = PermitForm(request.POST, zones=_city_zone_idents(permit.city), editing=True)
    return _save_permit(request, form, permit.city, permit)


def _save_permit(
    request: HttpRequest, form: PermitForm, city: City, permit: Permit | None
) -> HttpResponse:
    """Save the form as a new permit (``permit`` None) or into ``permit``; the form again with
    every error (400) when the form or the import's validator refuses it."""
    if not form.is_valid():  # only the lengths of text boxes and the zones offered
        return _permit_form_page(request, form, permit, status=400)
    try:
        saved = services.save_permit_fields(
            city,
            _permit_fields(form),
            request.user,
            permit=permit,
            clear_pin=form.cleaned_data.get("clear_pin", False),
        )
    except services.PermitInvalid as exc:
        _add_permit_errors(form, exc.errors)
        return _permit_form_page(request, form, permit, status=400)
    except services.ActionDenied as exc:
        raise deny(request, str(exc)) from exc
    done = _("Permit %(permit)s created.") if permit is None else _("Permit %(permit)s saved.")
    messages.success(request, done % {"permit": saved.ident})
    return redirect("access:permits")


@role_required("access", services.PERMIT_ROLE)
@require_POST
def permit_status(request: HttpRequest, ident: str) -> HttpResponse:
    """Suspend, revoke or reactivate a permit, with a reason; applies to the next read."""
    permit = _permit(request, ident)
    form = PermitStatusForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Changing a permit's status needs a status, a reason and your confirmation.")
        )
        return _permit_status_refused(request, permit, 422)
    status = form.cleaned_data["status"]
    try:
        services.set_permit_status(permit, status, request.user, form.cleaned_data["reason"])
    except services.ActionDenied as exc:
        if exc.status == 403:
            raise deny(request, str(exc)) from exc
        messages.error(request, str(exc))
        return _permit_status_refused(request, permit, exc.status)
    messages.success(
        request,
        _("Permit %(permit)s is now %(status)s.")
        % {"permit": permit.ident, "status": labels.label("permit_status", status)},
    )
    return redirect("access:permits")


def _permit_status_refused(request: HttpRequest, permit: Permit, status: int) -> HttpResponse:
    permit.refresh_from_db()
    return _permit_edit_page(request, permit, status)


def _permit_edit_page(request: HttpRequest, permit: Permit, status: int = 200) -> HttpResponse:
    """The edit form filled from the stored permit; showing the holder is a sensitive read."""
    audit.record(
        "sensitive_read",
        obj=permit,
        object_repr=f"permit {permit.ident} holder",
        detail={"fields": ["holder", "holder_contact"]},
    )
    initial = {
        "id": permit.ident,
        "plate": permit.plate,
        "holder": permit.holder,
        "holder_contact": permit.holder_contact,
        "category": permit.category,
        "max_mass_kg": permit.max_mass_kg or "",
        "zones": [z.ident for z in permit.zones.all()],
        "windows": services.format_windows(permit.windows),
        "valid_from": permit.valid_from.isoformat() if permit.valid_from else "",
        "valid_to": permit.valid_to.isoformat() if permit.valid_to else "",
        "exception_dates": " ".join(permit.exception_dates),
    }
    form = PermitForm(initial=initial, zones=_city_zone_idents(permit.city), editing=True)
    return _permit_form_page(request, form, permit, status)


# --- scheduled modes: edit and cancel ---------------------------------------------------------


def _schedule(request: HttpRequest, ident: str, pk: int) -> ZoneSchedule:
    zone = _zone(request, ident)
    return fetch(request, ZoneSchedule.objects, f"scheduled mode {pk}", zone=zone, pk=pk)


def _zone_page(request: HttpRequest, zone: Zone, status: int = 200) -> HttpResponse:
    return zone_detail(request, zone.ident, status=status)


@role_required("access", "operator")
def schedule_edit(request: HttpRequest, ident: str, pk: int) -> HttpResponse:
    """Change a scheduled mode not yet ended (a lockdown, before or after, needs a supervisor)."""
    schedule = _schedule(request, ident, pk)
    zone = schedule.zone
    tz = zoneinfo.ZoneInfo(zone.timezone)
    if request.method != "POST":
        form = ScheduleEditForm(
            initial={
                "mode": schedule.mode,
                "start": timezone.localtime(schedule.start, tz).strftime("%Y-%m-%d %H:%M"),
                "end": timezone.localtime(schedule.end, tz).strftime("%Y-%m-%d %H:%M"),
                "label": schedule.label,
            }
        )
        return _schedule_form_page(request, schedule, form)
    form = ScheduleEditForm(request.POST)
    with timezone.override(tz):  # times typed in zone time
        valid = form.is_valid()
    if not valid:
        return _schedule_form_page(request, schedule, form, status=400)
    data = form.cleaned_data
    try:
        services.edit_schedule(
            schedule,
            data["mode"],
            data["start"],
            data["end"],
            data["label"],
            request.user,
            data["reason"],
        )
    except services.ActionDenied as exc:
        if exc.status == 403:
            raise deny(request, str(exc)) from exc
        form.add_error(None, str(exc))
        return _schedule_form_page(request, schedule, form, status=exc.status)
    messages.success(request, _("Scheduled mode changed."))
    return redirect(zone)


def _schedule_form_page(
    request: HttpRequest, schedule: ZoneSchedule, form: ScheduleEditForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "access/schedule_form.html",
        {
            "zone": schedule.zone,
            "city": schedule.zone.city,
            "schedule": schedule,
            "form": form,
            "banner": precedence.zone_banner(schedule.zone),
        },
        status=status,
    )


@role_required("access", "operator")
@require_POST
def schedule_cancel(request: HttpRequest, ident: str, pk: int) -> HttpResponse:
    """Cancel a scheduled mode: deleted if not started, ended now if in progress (audited with
    the whole schedule and the reason)."""
    schedule = _schedule(request, ident, pk)
    zone = schedule.zone
    form = ActionForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Cancelling a scheduled mode needs a reason and your confirmation.")
        )
        return _zone_page(request, zone, status=422)
    try:
        effect = services.cancel_schedule(schedule, request.user, form.cleaned_data["reason"])
    except services.ActionDenied as exc:
        if exc.status == 403:
            raise deny(request, str(exc)) from exc
        messages.error(request, str(exc))
        return _zone_page(request, zone, status=exc.status)
    if effect == "deleted":
        messages.success(request, _("Scheduled mode cancelled."))
    else:
        messages.success(request, _("Scheduled mode ended now."))
    return redirect(zone)
