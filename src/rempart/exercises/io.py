"""MSEL spreadsheets: export and import as CSV (UTF-8) or XLSX (openpyxl), column mappings.

The columns are the issue's (after Conducttr's event list and Cadence's): Number, Scenario time,
Planned wall time, From, To, Method, Subject, Message, Expected action, Objectives, Phase,
Parent, Trigger, Contingency, Controller notes. A heading may be the English or the French
label, or any heading a saved :class:`~rempart.exercises.models.ColumnMapping` maps to a field.

Import replaces the MSEL as a whole, after saving the current one as a version. Every row is
checked first; one bad row refuses the whole file with its line number (the heading is line 1)
and nothing is written. Scenario time is ``H:MM:SS``, ``MM:SS`` or seconds; a planned wall time
``YYYY-MM-DD HH:MM`` in the city's time zone (or ISO 8601 with an offset).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from rempart.exercises import msel
from rempart.exercises.models import Exercise, Inject

#: field -> its column heading (translated when shown)
COLUMNS: dict[str, Any] = {
    "number": gettext_lazy("Number"),
    "scenario_time": gettext_lazy("Scenario time"),
    "planned_at": gettext_lazy("Planned wall time"),
    "sender": pgettext_lazy("inject", "From"),
    "recipient": pgettext_lazy("inject", "To"),
    "method": gettext_lazy("Method"),
    "subject": gettext_lazy("Subject"),
    "message": gettext_lazy("Message"),
    "expected_action": gettext_lazy("Expected action"),
    "objectives": gettext_lazy("Objectives"),
    "phase": gettext_lazy("Phase"),
    "parent": gettext_lazy("Parent"),
    "trigger": gettext_lazy("Trigger"),
    "contingency": gettext_lazy("Contingency"),
    "controller_notes": gettext_lazy("Controller notes"),
}
REQUIRED = ("number", "sender", "recipient", "method", "message")
MAX_ROWS = 2000
MAX_BYTES = 5 * 1024 * 1024
YES = {"yes", "y", "true", "1", "x", "oui", "o", "vrai"}
NO = {"", "no", "n", "false", "0", "non", "faux"}


class ImportRefused(Exception):
    """The file is refused; the message is one line (with the line number of a bad row)."""


#: a cell starting with one of these is a formula to a spreadsheet (CSV injection): exports put
#: an apostrophe before it, imports take it off again
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unsafe_cell(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def headings() -> list[str]:
    return [str(label) for label in COLUMNS.values()]


def _clock(seconds: int | None) -> str:
    return "" if seconds is None else msel.clock_text(seconds)


def rows_out(exercise: Exercise) -> list[list[str]]:
    """The heading and one row per inject, wall times in the city's time zone."""
    tz = zoneinfo.ZoneInfo(exercise.city.timezone)
    out = [headings()]
    injects = exercise.injects.select_related("parent").prefetch_related("objectives")
    for i in injects:
        out.append(
            [
                str(i.number),
                _clock(i.scenario_time_s),
                i.planned_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if i.planned_at else "",
                i.sender,
                i.recipient,
                i.method,
                i.subject,
                i.message,
                i.expected_action,
                "; ".join(str(o.number) for o in i.objectives.all()),
                i.phase,
                str(i.parent.number) if i.parent else "",
                i.trigger,
                _("yes") if i.contingency else "",
                i.controller_notes,
            ]
        )
    return [[safe_cell(cell) for cell in row] for row in out]


def to_csv(exercise: Exercise) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows_out(exercise))
    return buffer.getvalue()


def to_xlsx(exercise: Exercise) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "MSEL"
    for row in rows_out(exercise):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- import ------------------------------------------------------------------------------------


def read_table(name: str, data: bytes) -> list[list[str]]:
    """Rows of cells (strings) of a CSV or XLSX file, by its name's extension."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(f"file {name!r} is {len(data)} bytes; expected at most {MAX_BYTES}")
    lower = name.lower()
    if lower.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # zipfile, XML and openpyxl's own errors
            raise ImportRefused(f"file {name!r} is not a readable XLSX workbook ({exc})") from None
        sheet = book.worksheets[0]
        return [
            ["" if c is None else _cell(c) for c in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    if lower.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportRefused(
                f"file {name!r} is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8"
            ) from None
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel  # type: ignore[assignment]
        return list(csv.reader(io.StringIO(text), dialect))
    raise ImportRefused(f"file {name!r} is neither .csv nor .xlsx; expected one of them")


def _cell(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def heading_map(header: Iterable[str], mapping: dict[str, str] | None = None) -> dict[str, int]:
    """field -> column index, from the headings (EN or FR labels, or a saved mapping)."""
    known: dict[str, str] = {}
    for field, label in COLUMNS.items():
        known[field.casefold()] = field
        for language in ("en", "fr"):
            with translation.override(language):
                known[str(label).casefold()] = field
    for field, heading in (mapping or {}).items():
        if field in COLUMNS and heading:
            known[str(heading).strip().casefold()] = field
    found: dict[str, int] = {}
    for index, heading in enumerate(header):
        match = known.get(str(heading).strip().casefold())
        if match and match not in found:
            found[match] = index
    missing = [str(COLUMNS[f]) for f in REQUIRED if f not in found]
    if missing:
        raise ImportRefused(
            f"line 1: the columns {', '.join(missing)} are missing; "
            f"expected headings such as {', '.join(headings())}"
        )
    return found


def parse_clock(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    parts = text.split(":")
    if not all(p.strip().isdigit() for p in parts) or len(parts) > 3:
        raise ValueError(f"scenario time {text!r} is not H:MM:SS, MM:SS or seconds")
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return seconds


def _wall(text: str, tz: zoneinfo.ZoneInfo) -> str | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"planned wall time {text!r} is not a date and time like 2026-07-14 21:30"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(dt.UTC).isoformat()


def _method(text: str) -> str:
    wanted = text.strip().casefold()
    for value, label in Inject.Method.choices:
        names = {value, str(label).casefold()}
        for language in ("en", "fr"):
            with translation.override(language):
                names.add(str(label).casefold())
        if wanted in names:
            return value
    raise ValueError(
        f"method {text!r} is unknown; expected one of {', '.join(Inject.Method.values)}"
    )


def parse_rows(
    exercise: Exercise, table: list[list[str]], mapping: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Rows as :func:`rempart.exercises.msel.replace_injects` takes them; ImportRefused names
    the first bad line."""
    if not table:
        raise ImportRefused("the file is empty; expected a heading line and one row per inject")
    columns = heading_map(table[0], mapping)
    tz = zoneinfo.ZoneInfo(exercise.city.timezone)
    objectives = set(exercise.objectives.values_list("number", flat=True))
    body = [(n, row) for n, row in enumerate(table[1:], start=2) if any(c.strip() for c in row)]
    if len(body) > MAX_ROWS:
        raise ImportRefused(f"the file has {len(body)} rows; expected at most {MAX_ROWS}")
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()
    for line, cells in body:

        def get(field: str, cells: list[str] = cells) -> str:
            index = columns.get(field)
            if index is None or index >= len(cells):
                return ""
            return unsafe_cell(cells[index].strip())

        try:
            number_text = get("number")
            if not number_text.isdigit() or int(number_text) == 0:
                raise ValueError(f"number {number_text!r} is not a whole number above 0")
            number = int(number_text)
            if number in seen:
                raise ValueError(f"number {number} appears twice")
            seen.add(number)
            for field in REQUIRED[1:]:
                if not get(field):
                    raise ValueError(f"{COLUMNS[field]} is empty")
            wanted = []
            for part in get("objectives").replace(",", ";").split(";"):
                part = part.strip()
                if not part:
                    continue
                if not part.isdigit() or int(part) not in objectives:
                    raise ValueError(
                        f"objective {part!r} is not one of the exercise's "
                        f"({', '.join(map(str, sorted(objectives))) or 'none yet'})"
                    )
                wanted.append(int(part))
            parent_text = get("parent")
            if parent_text and not parent_text.isdigit():
                raise ValueError(f"parent {parent_text!r} is not an inject number")
            contingency = get("contingency").casefold()
            if contingency not in YES | NO:
                raise ValueError(f"contingency {get('contingency')!r} is not yes or no")
            limits = {"sender": 200, "recipient": 200, "subject": 200, "phase": 100, "trigger": 300}
            for field, limit in limits.items():
                if len(get(field)) > limit:
                    raise ValueError(f"{COLUMNS[field]} is longer than {limit} characters")
            rows.append(
                {
                    "number": number,
                    "scenario_time_s": parse_clock(get("scenario_time")),
                    "planned_at": _wall(get("planned_at"), tz),
                    "sender": get("sender"),
                    "recipient": get("recipient"),
                    "method": _method(get("method")),
                    "subject": get("subject"),
                    "message": get("message"),
                    "expected_action": get("expected_action"),
                    "controller_notes": get("controller_notes"),
                    "phase": get("phase"),
                    "trigger": get("trigger"),
                    "contingency": contingency in YES,
                    "objectives": wanted,
                    "parent": int(parent_text) if parent_text else None,
                    "_line": line,
                }
            )
        except ValueError as exc:
            raise ImportRefused(f"line {line}: {exc}") from None
    for row in rows:
        if row["parent"] is not None and row["parent"] not in seen:
            raise ImportRefused(
                f"line {row['_line']}: parent {row['parent']} is not an inject of this file"
            )
        if row["parent"] == row["number"]:
            raise ImportRefused(f"line {row['_line']}: inject {row['number']} is its own parent")
    for row in rows:
        del row["_line"]
    return rows


def import_msel(
    exercise: Exercise,
    name: str,
    data: bytes,
    user: Any,
    mapping: dict[str, str] | None = None,
) -> int:
    """Replace the MSEL with the file's rows (all or nothing); returns how many injects."""
    rows = parse_rows(exercise, read_table(name, data), mapping)
    with transaction.atomic():
        msel.save_version(exercise, user, _("Before import of %s") % name[:100])
        msel.replace_injects(exercise, rows)
        msel.save_version(exercise, user, _("Imported from %s") % name[:100])
    return len(rows)
