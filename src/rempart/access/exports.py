"""The decision log and the alarm log: filters and CSV exports.

Both logs filter by lane, by date range (``since`` inclusive, ``until`` exclusive, typed in the
city's time zone by the form) and, for decisions, by plate, decision and reason; alarms by kind
and by state. The CSV files carry words in the reader's language next to the codes (a
spreadsheet reader never sees ``low_confidence`` alone) and times in the zone's time zone, ISO
8601 with their offset.

Cells are safe to open in a spreadsheet: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return is prefixed with a single quote (OWASP "CSV injection"), so a plate read or an
operator's note cannot become a formula.
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from rempart.access import labels
from rempart.access.models import AccessDecision, Alarm

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """``value`` as text that no spreadsheet reads as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _plate_query(text: str) -> str:
    return text.upper().replace("-", "").replace(" ", "")


def filter_decisions(rows: QuerySet[AccessDecision], data: dict[str, Any]) -> QuerySet[Any]:
    """``rows`` narrowed by a valid :class:`~rempart.access.forms.DecisionFilterForm`'s data."""
    if data.get("lane"):
        rows = rows.filter(lane__ident=data["lane"])
    if data.get("outcome"):
        rows = rows.filter(outcome=data["outcome"])
    if data.get("reason"):
        rows = rows.filter(reason=data["reason"])
    if data.get("plate"):
        rows = rows.filter(plate__contains=_plate_query(data["plate"]))
    if data.get("since"):
        rows = rows.filter(received_at__gte=data["since"])
    if data.get("until"):
        rows = rows.filter(received_at__lt=data["until"])
    return rows


def filter_alarms(rows: QuerySet[Alarm], data: dict[str, Any]) -> QuerySet[Any]:
    """``rows`` narrowed by a valid :class:`~rempart.access.forms.AlarmFilterForm`'s data."""
    if data.get("lane"):
        rows = rows.filter(lane__ident=data["lane"])
    if data.get("kind"):
        rows = rows.filter(kind=data["kind"])
    if data.get("state") == "open":
        rows = rows.filter(cleared_at__isnull=True)
    elif data.get("state") == "unacknowledged":
        rows = rows.filter(acknowledged_at__isnull=True)
    elif data.get("state") == "cleared":
        rows = rows.filter(cleared_at__isnull=False)
    if data.get("since"):
        rows = rows.filter(raised_at__gte=data["since"])
    if data.get("until"):
        rows = rows.filter(raised_at__lt=data["until"])
    return rows


def _iso(value: Any, tz: zoneinfo.ZoneInfo) -> str:
    return timezone.localtime(value, tz).isoformat(timespec="seconds") if value else ""


def _write(header: list[str], rows: Iterable[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


def decisions_csv(rows: Iterable[AccessDecision]) -> str:
    """One line per decision: time (zone time, ISO 8601), zone, lane, plate, confidence,
    decision and reason (code and words), the engine's message, mode, source, request id."""
    header = [
        _("Received"),
        _("Zone"),
        _("Lane"),
        _("Plate"),
        _("Confidence"),
        _("Decision"),
        _("Decision code"),
        _("Reason"),
        _("Reason code"),
        _("Detail"),
        _("Mode"),
        _("Source"),
        _("Request"),
    ]
    tzs: dict[str, zoneinfo.ZoneInfo] = {}

    def lines() -> Iterable[list[Any]]:
        for d in rows:
            tz = tzs.setdefault(d.zone.timezone, zoneinfo.ZoneInfo(d.zone.timezone))
            yield [
                _iso(d.received_at, tz),
                d.zone.ident,
                d.lane.ident,
                d.plate,
                "" if d.confidence is None else f"{d.confidence:.2f}",
                labels.label("outcome", d.outcome),
                d.outcome,
                labels.label("reason", d.reason),
                d.reason,
                d.message,
                labels.label("mode", d.mode),
                labels.label("source", d.source),
                d.request_id.hex,
            ]

    return _write(header, lines())


def alarms_csv(rows: Iterable[Alarm]) -> str:
    """One line per alarm: raised, cleared, acknowledged (zone time, ISO 8601), by whom and
    the note, zone, lane, barrier, kind (words and code), the message."""
    header = [
        _("Raised"),
        _("Zone"),
        _("Lane"),
        _("Barrier"),
        _("Alarm"),
        _("Alarm code"),
        _("Message"),
        _("Cleared"),
        _("Acknowledged"),
        _("Acknowledged by"),
        _("Note"),
    ]
    tzs: dict[str, zoneinfo.ZoneInfo] = {}

    def lines() -> Iterable[list[Any]]:
        for a in rows:
            tz = tzs.setdefault(a.zone.timezone, zoneinfo.ZoneInfo(a.zone.timezone))
            yield [
                _iso(a.raised_at, tz),
                a.zone.ident,
                a.lane.ident if a.lane else "",
                a.barrier.ident if a.barrier else "",
                labels.label("alarm", a.kind),
                a.kind,
                a.message,
                _iso(a.cleared_at, tz),
                _iso(a.acknowledged_at, tz),
                a.acknowledged_by.get_username() if a.acknowledged_by else "",
                a.acknowledgement,
            ]

    return _write(header, lines())
