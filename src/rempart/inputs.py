"""Limits on every input, and bounded readers for the files rempart imports.

One module for all imports (site GeoJSON on the web and the command line, ``rempart assess``
inputs, permit CSV, the practice catalogue) so every file meets the same limits and every
refusal is one sentence naming the thing, the value and what was expected (:class:`InputError`).
It imports nothing from Django: the assessment engine and the command line use it too.

Limits (environment variable, default) — documented in docs/operations.md, "Input limits":

* ``REMPART_MAX_UPLOAD_MB`` (20): size of an uploaded or imported file, MB (10^6 bytes);
* ``REMPART_MAX_FEATURES`` (20,000): features (sites) in one GeoJSON file;
* ``REMPART_MAX_VERTICES`` (10,000): positions in one site boundary (all its rings);
* ``REMPART_MAX_ROWS`` (100,000): rows in one CSV file or records in one catalogue file;
* :data:`MAX_DEPTH` (32): nesting depth of JSON (GeoJSON needs 6);
* :data:`MAX_FIELD_CHARS` (100,000): characters in one CSV field or one imported text value;
* :data:`MAX_NUMBER_DIGITS` (20): digits of a whole number in JSON (bigger: refused);
* NUL bytes (U+0000) are refused anywhere in text (PostgreSQL cannot store them).

CSV exports go through :func:`csv_text`, which neutralises spreadsheet formulas (OWASP "CSV
injection"): a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
leading apostrophe, which spreadsheets show as text; :func:`unquote_cell` removes it again on
import so an exported file imports back unchanged.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

MAX_DEPTH = 32
MAX_FIELD_CHARS = 100_000
MAX_NUMBER_DIGITS = 20
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class InputError(ValueError):
    """An input breaks a limit or cannot be read; the message is one sentence."""


def _(message: str) -> str:
    """The message in the active language when Django is set up (web pages), else as written."""
    try:
        from django.conf import settings
        from django.utils.translation import gettext
    except ImportError:  # pragma: no cover - the engine's stand-alone use
        return message
    return gettext(message) if settings.configured else message


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise InputError(f"{name}={raw!r}: expected a whole number of 1 or more")
    return int(raw)


def max_upload_bytes() -> int:
    """Largest file accepted by any import, bytes (``REMPART_MAX_UPLOAD_MB`` × 10^6)."""
    return _env_int("REMPART_MAX_UPLOAD_MB", 20) * 1_000_000


def max_features() -> int:
    """Most features (sites) in one GeoJSON file (``REMPART_MAX_FEATURES``)."""
    return _env_int("REMPART_MAX_FEATURES", 20_000)


def max_vertices() -> int:
    """Most positions in one site boundary, all rings together (``REMPART_MAX_VERTICES``)."""
    return _env_int("REMPART_MAX_VERTICES", 10_000)


def max_rows() -> int:
    """Most rows in one CSV file or records in one catalogue file (``REMPART_MAX_ROWS``)."""
    return _env_int("REMPART_MAX_ROWS", 100_000)


# --- sizes and text -------------------------------------------------------------------------


def check_size(size_bytes: int, what: str) -> None:
    """Refuse a file larger than :func:`max_upload_bytes`."""
    limit = max_upload_bytes()
    if size_bytes > limit:
        raise InputError(
            _("%(what)s has %(size).1f MB: expected at most %(limit)g MB (REMPART_MAX_UPLOAD_MB)")
            % {"what": what, "size": size_bytes / 1e6, "limit": limit / 1e6}
        )


def check_text(value: str, what: str, max_chars: int = MAX_FIELD_CHARS) -> str:
    """Refuse NUL bytes and text longer than ``max_chars``; return the text."""
    if "\x00" in value:
        raise InputError(
            _("%(what)s contains a NUL byte: expected text without control character 0")
            % {"what": what}
        )
    if len(value) > max_chars:
        raise InputError(
            _("%(what)s has %(count)d characters: expected at most %(limit)d")
            % {"what": what, "count": len(value), "limit": max_chars}
        )
    return value


def check_number(
    value: Any, what: str, low: float, high: float, *, whole: bool = False
) -> float | int:
    """Return ``value`` if it is a finite number in [low, high] (a whole one if ``whole``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{what} {value!r} is not a number: expected {low:g} to {high:g}")
    if whole and not isinstance(value, int):
        raise InputError(f"{what} {value!r} is not a whole number: expected {low:g} to {high:g}")
    if not math.isfinite(value) or not low <= value <= high:
        raise InputError(f"{what} {value!r} is out of range: expected {low:g} to {high:g}")
    return value


def decode_text(raw: bytes, what: str) -> str:
    """UTF-8 text (a byte-order mark is dropped); anything else is one sentence, not a traceback."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            _(
                "%(what)s is not UTF-8 text (byte 0x%(byte)02x at position %(position)d): "
                "expected UTF-8, e.g. 'CSV UTF-8' when saving from a spreadsheet"
            )
            % {"what": what, "byte": raw[exc.start], "position": exc.start}
        ) from None
    if "\x00" in text:
        position = text.index("\x00")
        raise InputError(
            _(
                "%(what)s contains a NUL byte at character %(position)d: expected text (is it a binary file?)"
            )
            % {"what": what, "position": position}
        )
    return text


def read_file(path: str, what: str) -> str:
    """Read a text file from disk within the size limit, decoded as :func:`decode_text`."""
    try:
        size = os.path.getsize(path)
        check_size(size, f"{what} {path}")
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise InputError(f"{what} {path}: {exc.strerror or exc}") from None
    return decode_text(raw, f"{what} {path}")


# --- JSON ------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise InputError(_("number %(name)s is not allowed: expected finite numbers") % {"name": name})


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise InputError(
            _("number %(start)s… has %(digits)d digits: expected at most %(limit)d")
            % {"start": text[:12], "digits": len(text.lstrip("-")), "limit": MAX_NUMBER_DIGITS}
        )
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InputError(
            _("number %(number)s is too large: expected a finite number") % {"number": text[:24]}
        )
    return value


def _check_tree(value: Any, what: str, max_depth: int) -> None:
    """Walk parsed JSON without recursion: nesting depth, NUL bytes and text lengths."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise InputError(
                    _("%(what)s contains a NUL byte in a text value: expected text")
                    % {"what": what}
                )
            if len(item) > MAX_FIELD_CHARS:
                raise InputError(
                    _(
                        "%(what)s has a text value of %(count)d characters: expected at most %(limit)d"
                    )
                    % {"what": what, "count": len(item), "limit": MAX_FIELD_CHARS}
                )
            continue
        if depth > max_depth:
            raise InputError(
                _("%(what)s nests deeper than %(limit)d levels: expected at most %(limit)d")
                % {"what": what, "limit": max_depth}
            )
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, (str, dict, list)))
        else:
            stack.extend((v, depth + 1) for v in item if isinstance(v, (str, dict, list)))


def load_json(raw: bytes | str, what: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON within the limits: size, nesting depth, finite numbers, no NUL, text lengths.

    Numbers are checked while parsing (NaN, Infinity, 1e400 and whole
    numbers over :data:`MAX_NUMBER_DIGITS` digits are refused); the parser's own recursion guard
    stops a file of a million ``[``; depth and text are walked (without recursion) after. Raises :class:`InputError`.
    """
    check_size(len(raw), what)
    text = decode_text(raw, what) if isinstance(raw, bytes) else raw
    try:
        data = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_int=_parse_int,
            parse_float=_parse_float,
        )
    except InputError as exc:
        raise InputError(f"{what}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            _("%(what)s is not valid JSON (%(problem)s at line %(line)d, column %(column)d)")
            % {"what": what, "problem": exc.msg, "line": exc.lineno, "column": exc.colno}
        ) from None
    except RecursionError:
        raise InputError(
            _("%(what)s nests deeper than %(limit)d levels: expected at most %(limit)d")
            % {"what": what, "limit": max_depth}
        ) from None
    except ValueError as exc:
        raise InputError(
            _("%(what)s is not valid JSON (%(problem)s)") % {"what": what, "problem": exc}
        ) from None
    if isinstance(data, (dict, list, str)):
        _check_tree(data, what, max_depth)
    return data


# --- CSV -------------------------------------------------------------------------------------


def unquote_cell(value: str) -> str:
    """Undo :func:`safe_cell`: ``'=x`` → ``=x`` (only before a formula character)."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def csv_rows(text: str, what: str) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of CSV text, within the row and field limits.

    Each field is at most :data:`MAX_FIELD_CHARS` characters and has no NUL byte; a field that
    starts with an apostrophe before a formula character (as :func:`csv_text` writes it) is read
    without the apostrophe. Raises :class:`InputError` naming the line.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    limit_rows = max_rows()
    previous = csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise InputError(
                _("%(what)s is empty: expected a header row") % {"what": what}
            ) from None
        rows: list[dict[str, str]] = []
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= limit_rows:
                raise InputError(
                    _(
                        "%(what)s has more than %(limit)d rows: expected at most %(limit)d (REMPART_MAX_ROWS)"
                    )
                    % {"what": what, "limit": limit_rows}
                )
            if len(record) > len(header):
                raise InputError(
                    _(
                        "%(what)s line %(line)d has %(count)d fields: expected at most %(limit)d (the header's columns)"
                    )
                    % {
                        "what": what,
                        "line": reader.line_num,
                        "count": len(record),
                        "limit": len(header),
                    }
                )
            rows.append({h: unquote_cell(v) for h, v in zip(header, record, strict=False)})
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise InputError(
                _(
                    "%(what)s line %(line)d has a field over %(limit)d characters: expected at most %(limit)d"
                )
                % {"what": what, "line": reader.line_num, "limit": MAX_FIELD_CHARS}
            ) from None
        raise InputError(
            _("%(what)s line %(line)d is not valid CSV (%(problem)s)")
            % {"what": what, "line": reader.line_num, "problem": exc}
        ) from None
    finally:
        csv.field_size_limit(previous)
    return header, rows


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a leading apostrophe before ``= + - @ TAB CR``.

    Only text is changed; numbers (``-5``) stay numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(fieldnames: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """CSV of ``rows`` (dicts keyed by ``fieldnames``) with every text cell :func:`safe_cell`.

    Lines end with CR LF (RFC 4180): Python's writer quotes a field only when it holds a
    character of the line terminator, so with a bare LF a carriage return inside a cell would
    end the row in a spreadsheet and let a cell write the next row.
    """
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fieldnames), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
    return out.getvalue()


def iter_safe_rows(rows: Iterable[Sequence[Any]]) -> Iterator[list[Any]]:
    """Rows for ``csv.writer`` with every text cell :func:`safe_cell`."""
    for row in rows:
        yield [safe_cell(value) for value in row]


# --- coordinates -----------------------------------------------------------------------------


def check_positions(coordinates: Any, what: str, *, limit: int | None = None) -> int:
    """Check the positions of GeoJSON ``coordinates`` (any nesting); return how many there are.

    Each position is ``[longitude, latitude]`` in degrees (RFC 7946, WGS84): finite numbers,
    longitude in -180..180, latitude in -90..90. A latitude out of range whose swap would fit is
    reported as swapped. More than ``limit`` positions (default :func:`max_vertices`) is refused.
    """
    limit = max_vertices() if limit is None else limit
    count = 0
    stack = [coordinates]
    while stack:
        node = stack.pop()
        if not isinstance(node, list) or not node:
            raise InputError(
                _(
                    "%(what)s coordinates %(value).40r: expected nested lists of [longitude, latitude]"
                )
                % {"what": what, "value": node}
            )
        if not isinstance(node[0], list):
            if len(node) < 2 or not all(
                isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c)
                for c in node
            ):
                raise InputError(
                    _(
                        "%(what)s position %(value).40r: expected [longitude, latitude] finite numbers"
                    )
                    % {"what": what, "value": node}
                )
            lon, lat = node[0], node[1]
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                if -90 <= lon <= 90 and -180 <= lat <= 180:
                    raise InputError(
                        _(
                            "%(what)s position [%(lon)s, %(lat)s] has a latitude outside -90..90: "
                            "longitude and latitude look swapped; expected [longitude, latitude]"
                        )
                        % {"what": what, "lon": lon, "lat": lat}
                    )
                raise InputError(
                    _(
                        "%(what)s position [%(lon)s, %(lat)s] is outside longitude -180..180, "
                        "latitude -90..90: expected WGS84 degrees (convert projected metres)"
                    )
                    % {"what": what, "lon": lon, "lat": lat}
                )
            count += 1
            if count > limit:
                raise InputError(
                    _(
                        "%(what)s has more than %(limit)d positions: expected at most %(limit)d (REMPART_MAX_VERTICES)"
                    )
                    % {"what": what, "limit": limit}
                )
        else:
            stack.extend(node)
    return count


# --- TOML ------------------------------------------------------------------------------------


def load_toml(raw: bytes, what: str) -> dict[str, Any]:
    """Parse TOML bytes within the size limit, as UTF-8, refusing nesting the parser cannot
    follow (``tomllib`` recurses: a file of a million ``[`` would end in ``RecursionError``).

    Raises :class:`InputError`, or ``tomllib.TOMLDecodeError`` for TOML syntax errors.
    """
    import tomllib

    check_size(len(raw), what)
    text = decode_text(raw, what)
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise InputError(
            _("%(what)s nests deeper than %(limit)d levels: expected at most %(limit)d")
            % {"what": what, "limit": MAX_DEPTH}
        ) from None
    _check_tree(data, what, MAX_DEPTH)
    return data
