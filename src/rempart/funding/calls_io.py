"""Calls to and from JSON: validate everything, then write in one transaction.

The file is a JSON list of calls (or ``{"calls": [...]}``), each with ``programme``
(``isf``, ``horizon``, ``other``), ``call_id``, ``topic_id``, ``title``, optionally
``budget_eur``, ``grant_min_eur``, ``grant_max_eur`` (decimal strings or numbers),
``cofunding_rate`` (0-1), ``opens_at``, ``deadline_at`` (ISO 8601; without an offset, Brussels
time, as the portal gives deadlines), ``action_type``, ``url`` and ``rules`` (see
:mod:`rempart.funding.eligibility`). Amounts are read as exact decimals.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction

from rempart.core import audit
from rempart.funding.eligibility import RuleError, validate_rules
from rempart.funding.models import Call, Programme

BRUSSELS = zoneinfo.ZoneInfo("Europe/Brussels")
MAX_FILE_BYTES = 5_000_000
MAX_CALLS = 5_000
TEXT_LIMITS = {"call_id": 100, "topic_id": 100, "title": 300, "action_type": 60, "url": 200}


class CallFileError(ValueError):
    """One sentence naming the call, the field, the value and what was expected."""


def _amount(where: str, field: str, value: Any, high: Decimal) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise CallFileError(f"{where}: {field} {value!r} is not an amount")
    try:
        amount = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        raise CallFileError(f"{where}: {field} {value!r} is not an amount") from None
    if not amount.is_finite() or amount < 0 or amount > high:
        raise CallFileError(f"{where}: {field} {value!r} must be between 0 and {high}")
    return amount.quantize(Decimal("0.01") if high > 1 else Decimal("0.001"))


def _moment(where: str, field: str, value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise CallFileError(f"{where}: {field} {value!r} is not an ISO 8601 date and time")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CallFileError(
            f"{where}: {field} {value!r} is not an ISO 8601 date and time "
            "(e.g. 2026-09-23T17:00:00+02:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BRUSSELS)
    return moment


def parse_calls(data: Any) -> list[dict[str, Any]]:
    """Validated field values of every call in ``data`` (parsed JSON)."""
    if isinstance(data, dict) and "calls" in data:
        data = data["calls"]
    if not isinstance(data, list):
        raise CallFileError('a calls file must be a JSON list of calls (or {"calls": [...]})')
    if len(data) > MAX_CALLS:
        raise CallFileError(f"{len(data)} calls; at most {MAX_CALLS} per file")
    seen: set[str] = set()
    calls = []
    for index, raw in enumerate(data, start=1):
        if not isinstance(raw, dict):
            raise CallFileError(f"call {index} is not an object")
        where = f"call {index}"
        values: dict[str, Any] = {}
        for field, limit in TEXT_LIMITS.items():
            text = raw.get(field, "")
            if text is None:
                text = ""
            if not isinstance(text, str) or len(text) > limit or "\x00" in text:
                raise CallFileError(f"{where}: {field} must be text of at most {limit} characters")
            values[field] = text.strip()
        for field in ("call_id", "topic_id", "title"):
            if not values[field]:
                raise CallFileError(f"{where}: {field} is missing")
        where = f"call {index} ({values['topic_id']})"
        if values["topic_id"] in seen:
            raise CallFileError(f"{where}: topic_id appears twice in the file")
        seen.add(values["topic_id"])
        programme = raw.get("programme")
        if programme not in Programme.values:
            raise CallFileError(
                f"{where}: programme {programme!r} is not one of {', '.join(Programme.values)}"
            )
        values["programme"] = programme
        for field in ("budget_eur", "grant_min_eur", "grant_max_eur"):
            values[field] = _amount(where, field, raw.get(field), Decimal("1e12"))
        values["cofunding_rate"] = _amount(
            where, "cofunding_rate", raw.get("cofunding_rate"), Decimal(1)
        )
        lo, hi = values["grant_min_eur"], values["grant_max_eur"]
        if lo is not None and hi is not None and lo > hi:
            raise CallFileError(f"{where}: grant_min_eur {lo} is above grant_max_eur {hi}")
        values["opens_at"] = _moment(where, "opens_at", raw.get("opens_at"))
        values["deadline_at"] = _moment(where, "deadline_at", raw.get("deadline_at"))
        try:
            values["rules"] = validate_rules(raw.get("rules", []))
        except RuleError as error:
            raise CallFileError(f"{where}: {error}") from None
        calls.append(values)
    return calls


def import_calls(path: Path) -> int:
    """Create or update the calls of a JSON file (by topic id); all or nothing."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise CallFileError(f"cannot read {path}: {error.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise CallFileError(f"{path.name} is {size:,} bytes; at most {MAX_FILE_BYTES:,}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise CallFileError(f"{path.name} is not UTF-8 JSON: {error}") from None
    calls = parse_calls(data)
    with transaction.atomic():
        for values in calls:
            Call.objects.update_or_create(
                topic_id=values["topic_id"],
                defaults={**values, "source": "file"},
            )
    audit.record(
        "import", object_type="funding.call", object_repr=f"{len(calls)} calls from {path.name}"
    )
    return len(calls)


def export_calls() -> list[dict[str, Any]]:
    """Every call as JSON-ready values (the shape :func:`parse_calls` reads)."""
    out = []
    for call in Call.objects.all():
        out.append(
            {
                "programme": call.programme,
                "call_id": call.call_id,
                "topic_id": call.topic_id,
                "title": call.title,
                "budget_eur": str(call.budget_eur) if call.budget_eur is not None else None,
                "grant_min_eur": str(call.grant_min_eur)
                if call.grant_min_eur is not None
                else None,
                "grant_max_eur": str(call.grant_max_eur)
                if call.grant_max_eur is not None
                else None,
                "cofunding_rate": str(call.cofunding_rate)
                if call.cofunding_rate is not None
                else None,
                "opens_at": call.opens_at.astimezone(BRUSSELS).isoformat()
                if call.opens_at
                else None,
                "deadline_at": call.deadline_at.astimezone(BRUSSELS).isoformat()
                if call.deadline_at
                else None,
                "action_type": call.action_type,
                "url": call.url,
                "rules": call.rules,
            }
        )
    return out
