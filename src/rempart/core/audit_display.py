"""Audit entries in words: the action, the kind of object, and each change as "field: before →
after" with the field's label, in the reader's language and time zone (never a Python dict).

Field labels and choice labels come from the models (``verbose_name``, ``choices``); the keys of
an entry's ``detail`` from :data:`DETAIL_LABELS`, else the key in plain words.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rempart.core.audit import REDACTED
from rempart.core.audit_models import AuditEntry

#: What each action is called (an unknown one is shown in plain words).
ACTION_LABELS = {
    "create": gettext_lazy("created"),
    "update": gettext_lazy("changed"),
    "delete": gettext_lazy("deleted"),
    "login": gettext_lazy("logged in"),
    "logout": gettext_lazy("logged out"),
    "login_failed": gettext_lazy("failed login"),
    "login_locked_out": gettext_lazy("login locked"),
    "password_reset_requested": gettext_lazy("password reset asked"),
    "permission_denied": gettext_lazy("refused"),
    "export": gettext_lazy("exported"),
    "import": gettext_lazy("imported"),
    "sensitive_read": gettext_lazy("read"),
    "retention_purge": gettext_lazy("personal data purged"),
    "assessment_requested": gettext_lazy("assessment asked"),
    "assessment_completed": gettext_lazy("assessment completed"),
    "assessment_failed": gettext_lazy("assessment failed"),
    "access_open": gettext_lazy("lane opened"),
    "access_close": gettext_lazy("lane closed"),
    "access_mode": gettext_lazy("zone mode set"),
    "access_schedule_edit": gettext_lazy("schedule changed"),
    "access_schedule_cancel": gettext_lazy("schedule cancelled"),
    "access_permit_status": gettext_lazy("permit status set"),
    "access_referral_answer": gettext_lazy("referral answered"),
    "access_load": gettext_lazy("zones loaded"),
    "access_permits_import": gettext_lazy("permits imported"),
    "access_privacy_purge": gettext_lazy("plate reads purged"),
    "access_summary": gettext_lazy("access summary"),
    "access_daemon_start": gettext_lazy("device daemon started"),
    "device_command": gettext_lazy("device command"),
}

#: What the keys of an entry's ``detail`` are called.
DETAIL_LABELS = {
    "answer": gettext_lazy("answer"),
    "contacts": gettext_lazy("contacts"),
    "count": gettext_lazy("count"),
    "created": gettext_lazy("created"),
    "entries": gettext_lazy("entries"),
    "error": gettext_lazy("error"),
    "features": gettext_lazy("features"),
    "fields": gettext_lazy("fields"),
    "file": gettext_lazy("file"),
    "filters": gettext_lazy("filters"),
    "format": gettext_lazy("format"),
    "from": gettext_lazy("from"),
    "ids": gettext_lazy("identifiers"),
    "lane": gettext_lazy("lane"),
    "method": gettext_lazy("method"),
    "operation": gettext_lazy("operation"),
    "options": gettext_lazy("options"),
    "outcomes": gettext_lazy("outcomes"),
    "page": gettext_lazy("page"),
    "passages_closed": gettext_lazy("passages closed"),
    "path": gettext_lazy("path"),
    "permits": gettext_lazy("permits"),
    "practice": gettext_lazy("practice"),
    "reason": gettext_lazy("reason"),
    "referral": gettext_lazy("referral"),
    "referral_reason": gettext_lazy("reason for the referral"),
    "relation": gettext_lazy("relation"),
    "removed": gettext_lazy("removed"),
    "request_id": gettext_lazy("request"),
    "scope": gettext_lazy("scope"),
    "since": gettext_lazy("since"),
    "site": gettext_lazy("site"),
    "source": gettext_lazy("source"),
    "to": gettext_lazy("to"),
    "token": gettext_lazy("token"),
    "until": gettext_lazy("until"),
    "updated": gettext_lazy("updated"),
    "username": gettext_lazy("username"),
    "via": gettext_lazy("via"),
    "what": gettext_lazy("what"),
    "zone": gettext_lazy("zone"),
    "zones": gettext_lazy("zones"),
}

OPERATION_LABELS = {
    "add": gettext_lazy("added"),
    "remove": gettext_lazy("removed"),
    "clear": gettext_lazy("all removed"),
}

#: A longer value is cut here, with an ellipsis (e.g. a site's boundary).
MAX_VALUE_CHARS = 120


@dataclass(frozen=True)
class ChangeLine:
    """One line: a label, the value before (None: the object did not exist), the value after
    (None: it no longer does). A detail line has only ``after``."""

    label: str
    before: str | None
    after: str | None


def _plain_words(code: str) -> str:
    return code.replace("_", " ").replace(".", " ").strip()


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action) or _plain_words(action))


def _model(object_type: str) -> type[models.Model] | None:
    if object_type.count(".") != 1:
        return None
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def object_type_label(object_type: str) -> str:
    """ "core.site" -> "site" (the model's name, in the reader's language)."""
    model = _model(object_type)
    if model is None:
        return {"page": _("page"), "api": _("API")}.get(object_type, _plain_words(object_type))
    return str(model._meta.verbose_name)


def _field(model: type[models.Model] | None, name: str) -> models.Field[Any, Any] | None:
    if model is None:
        return None
    for field in model._meta.concrete_fields:
        if name in (field.name, field.attname):
            return field
    return None


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def format_value(value: Any, field: models.Field[Any, Any] | None = None) -> str:
    """A stored value as a reader sees it: yes/no, a choice's label, a local date and time, a
    related object's number, a list joined by commas, anything else as short JSON."""
    if value is None or value == "":
        return "—"
    if value == REDACTED:
        return _("hidden")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field is not None and field.choices:
        label = dict(field.flatchoices).get(value)
        if label is not None:
            return str(label)
    if field is not None and field.is_relation:
        return f"#{value}"
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return _shorten(value)
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return str(formats.date_format(moment, "SHORT_DATETIME_FORMAT"))
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return _shorten(", ".join(format_value(v) for v in value)) if value else "—"
    if isinstance(value, dict):
        if all(not isinstance(v, dict | list) for v in value.values()):
            shown = [f"{_plain_words(k)}: {format_value(v)}" for k, v in value.items() if v != ""]
            return _shorten(", ".join(shown)) if shown else "—"
        return _shorten(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))
    if isinstance(value, list):
        return _shorten(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))
    return _shorten(str(value))


def _field_label(model: type[models.Model] | None, name: str) -> str:
    field = _field(model, name)
    return capfirst(str(field.verbose_name if field is not None else _plain_words(name)))


def change_lines(entry: AuditEntry) -> list[ChangeLine]:
    """The entry's changes and details as labelled lines (see the module docstring)."""
    model = _model(entry.object_type)
    lines: list[ChangeLine] = []
    changes = entry.changes or {}
    if "changed" in changes:
        for name, pair in changes["changed"].items():
            before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            field = _field(model, name)
            lines.append(
                ChangeLine(
                    _field_label(model, name),
                    format_value(before, field),
                    format_value(after, field),
                )
            )
    for side in ("after", "before"):
        for name, value in (changes.get(side) or {}).items():
            shown = format_value(value, _field(model, name))
            lines.append(
                ChangeLine(
                    _field_label(model, name),
                    None if side == "after" else shown,
                    shown if side == "after" else None,
                )
            )
    detail = dict(entry.detail or {})
    if {"relation", "operation"} <= detail.keys():
        related = _model(str(detail.pop("relation")))
        operation = str(detail.pop("operation"))
        label = capfirst(
            str(related._meta.verbose_name_plural) if related else _("related objects")
        )
        what = OPERATION_LABELS.get(operation, _plain_words(operation))
        ids = detail.pop("ids", [])
        lines.append(ChangeLine(f"{label} {what}", None, format_value(ids)))
    for key, value in detail.items():
        label = capfirst(str(DETAIL_LABELS.get(key) or _plain_words(key)))
        lines.append(ChangeLine(label, None, format_value(value)))
    return lines
