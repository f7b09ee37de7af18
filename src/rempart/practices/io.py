"""Import and export of the practice catalogue as JSON or CSV, with the same fields both ways.

JSON: a list of objects (or ``{"practices": [...]}``). CSV: one row per practice, UTF-8, a header
row of :data:`FIELDS`; the lists ``themes``, ``audiences`` and ``settings`` are joined with
``;`` and the structured fields ``links``, ``contacts`` and ``translations`` hold JSON text.

The importer validates every row first and reports each rejected one (row number, reference,
field, value, what was expected); nothing is written when a row is rejected unless ``partial``
is set, then the valid rows are written. A practice is matched by its ``ref``: an existing one is
updated (a new version when its content changed), a new one created. Attachments, reviews and
version history are not part of the catalogue files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils.text import slugify

from rempart.core.models import Organisation
from rempart.inputs import InputError, csv_rows, csv_text, load_json, max_rows, read_file
from rempart.practices import workflow
from rempart.practices.models import (
    EMMIE,
    LANGUAGES,
    Audience,
    EvidenceLabel,
    Practice,
    PracticeVersion,
    Setting,
    Status,
    Strength,
    Theme,
)
from rempart.practices.records import (  # noqa: F401  (FIELDS, export_record: this module's API)
    FIELDS,
    JSON_FIELDS,
    LIST_FIELDS,
    TEXT_FIELDS,
    export_record,
    unique_ref,
)

CHOICES = {
    "themes": set(Theme.values),
    "audiences": set(Audience.values),
    "settings": set(Setting.values),
}
#: Highest version number accepted in an import.
MAX_VERSION = 1_000_000
MAX_LENGTHS = {
    f.name: f.max_length
    for f in Practice._meta.concrete_fields
    if getattr(f, "max_length", None) and f.name in FIELDS
}
_url = URLValidator(schemes=["http", "https"])
_email = EmailValidator()


class ImportError_(Exception):  # noqa: N801  (not the builtin ImportError)
    """The file was rejected: ``errors`` holds one line per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} row(s) rejected")
        self.errors = errors


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[str] = field(default_factory=list)

    @property
    def written(self) -> int:
        return self.created + self.updated


# --- export --------------------------------------------------------------------------------


def export_records(practices: Iterable[Practice]) -> list[dict[str, Any]]:
    return [export_record(p) for p in practices]


def catalogue(queryset: Any = None) -> list[dict[str, Any]]:
    # revisions in progress (the next version of a published practice) are work, not catalogue
    qs = queryset if queryset is not None else Practice.objects.filter(revision_of__isnull=True)
    return export_records(qs.order_by("ref").prefetch_related("translations"))


def to_json(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, ensure_ascii=False, indent=1) + "\n"


def to_csv(records: list[dict[str, Any]]) -> str:
    """CSV of the catalogue, written by :func:`rempart.inputs.csv_text` (formula-safe)."""
    return csv_text(FIELDS, (_csv_row(record) for record in records))


def _csv_row(record: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name in FIELDS:
        value = record.get(name)
        if name in LIST_FIELDS:
            row[name] = ";".join(value or [])
        elif name in JSON_FIELDS:
            row[name] = json.dumps(value or [], ensure_ascii=False)
        elif isinstance(value, bool):
            row[name] = "true" if value else "false"
        elif value is None:
            row[name] = ""
        else:
            row[name] = value
    return row


def export_file(path: Path, queryset: Any = None) -> int:
    records = catalogue(queryset)
    text = to_csv(records) if file_format(path) == "csv" else to_json(records)
    path.write_text(text, encoding="utf-8")
    return len(records)


# --- import --------------------------------------------------------------------------------


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise ValueError(f"{path}: unknown format {suffix or '(none)'!r}; expected .json or .csv")
    return suffix[1:]


def read_rows(text: str, fmt: str) -> list[dict[str, Any]]:
    """Raw rows of a JSON or CSV file; raises ValueError (one line) when it cannot be read."""
    if fmt == "json":
        try:
            data = load_json(text, "file")
        except InputError as exc:
            raise ValueError(str(exc).removeprefix("file ").removeprefix("file: ")) from None
        if isinstance(data, dict) and isinstance(data.get("practices"), list):
            data = data["practices"]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ValueError("expected a JSON list of practice objects")
        if len(data) > max_rows():
            raise ValueError(
                f"{len(data)} practices: expected at most {max_rows()} (REMPART_MAX_ROWS)"
            )
        return data
    try:
        fieldnames, records = csv_rows(text, "CSV file")
    except InputError as exc:
        raise ValueError(str(exc)) from None
    missing = [name for name in ("title", "summary") if name not in fieldnames]
    if missing:
        raise ValueError(f"CSV header lacks {', '.join(missing)}")
    rows: list[dict[str, Any]] = []
    for raw in records:
        row: dict[str, Any] = {}
        for key, value in raw.items():
            if key in LIST_FIELDS:
                row[key] = [v.strip() for v in (value or "").split(";") if v.strip()]
            elif key in JSON_FIELDS:
                try:
                    row[key] = load_json(value, key) if (value or "").strip() else []
                except InputError:
                    row[key] = _Invalid(value)
            else:
                row[key] = value
        rows.append(row)
    return rows


@dataclass(frozen=True)
class _Invalid:
    raw: Any


def _as_int(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError
    if isinstance(value, str) and len(value.strip().lstrip("+-")) > 12:
        raise ValueError
    return int(value)


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("1", "true", "yes"):
        return True
    if text in ("", "0", "false", "no"):
        return False
    raise ValueError


def clean_row(row: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Validate one raw row; returns the cleaned values and the problems (``field: reason``)."""
    problems: list[str] = []
    clean: dict[str, Any] = {}
    unknown = sorted(k for k in row if k not in FIELDS)
    if unknown:
        problems.append(f"unknown field(s) {', '.join(unknown)}; expected only {', '.join(FIELDS)}")
    for name in TEXT_FIELDS:
        value = row.get(name, "")
        value = "" if value is None else value
        if not isinstance(value, str):
            problems.append(f"{name}: expected text, got {value!r}")
            continue
        clean[name] = value.strip() if name != "evaluation_references" else value
        limit = MAX_LENGTHS.get(name)
        if limit and len(clean[name]) > limit:
            problems.append(f"{name}: {len(clean[name])} characters, at most {limit} allowed")
    for name in ("title", "summary"):
        if not clean.get(name):
            problems.append(f"{name}: required")
    language = row.get("language") or "en"
    language = language.strip() if isinstance(language, str) else repr(language)[:20]
    if language not in LANGUAGES:
        problems.append(f"language: {language!r}, expected one of {', '.join(LANGUAGES)}")
    clean["language"] = language
    country = clean.get("country", "").upper()
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        problems.append(f"country: {country!r}, expected an ISO 3166-1 alpha-2 code such as FR")
    clean["country"] = country
    org_type = clean.get("organisation_type", "")
    if org_type and org_type not in Organisation.Kind.values:
        problems.append(
            f"organisation_type: {org_type!r}, expected one of {', '.join(Organisation.Kind.values)}"
        )
    for key in EMMIE:
        strength = clean.get(f"{key}_strength", "")
        if strength not in Strength.values:
            problems.append(
                f"{key}_strength: {strength!r}, expected one of limited, moderate, strong or empty"
            )
    if clean.get("evidence_label", "") not in EvidenceLabel.values:
        problems.append(
            f"evidence_label: {clean['evidence_label']!r}, expected one of "
            + ", ".join(v for v in EvidenceLabel.values if v)
            + " or empty"
        )
    if clean.get("source_url"):
        try:
            _url(clean["source_url"])
        except ValidationError:
            problems.append(f"source_url: {clean['source_url']!r} is not an http(s) URL")
    for name in LIST_FIELDS:
        values = row.get(name) or []
        if isinstance(values, str):
            values = [v.strip() for v in values.split(";") if v.strip()]
        if not isinstance(values, list):
            problems.append(f"{name}: expected a list, got {values!r}")
            continue
        if not all(isinstance(v, str) for v in values):
            problems.append(f"{name}: expected a list of text values, got {str(values)[:60]}")
            continue
        bad = [v for v in values if v not in CHOICES[name]]
        if bad:
            problems.append(
                f"{name}: unknown value(s) {', '.join(map(repr, bad))}; expected among "
                + ", ".join(sorted(CHOICES[name]))
            )
        clean[name] = list(dict.fromkeys(values))
    for name in ("start_year", "end_year"):
        try:
            year = _as_int(row.get(name))
        except (TypeError, ValueError):
            problems.append(f"{name}: {row.get(name)!r}, expected a year such as 2017")
            continue
        if year is not None and not 1900 <= year <= 2100:
            problems.append(f"{name}: {year}, expected a year between 1900 and 2100")
        clean[name] = year
    if (
        clean.get("start_year")
        and clean.get("end_year")
        and clean["end_year"] < clean["start_year"]
    ):
        problems.append(f"end_year: {clean['end_year']} is before start_year {clean['start_year']}")
    status = str(row.get("status") or Status.DRAFT)
    if status not in Status.values:
        problems.append(f"status: {status!r}, expected one of {', '.join(Status.values)}")
    clean["status"] = status
    try:
        version = _as_int(row.get("version"))
    except (TypeError, ValueError):
        problems.append(f"version: {str(row.get('version'))[:40]!r}, expected a whole number")
    else:
        if version is not None and not 1 <= version <= MAX_VERSION:
            problems.append(f"version: {version}, expected a whole number from 1 to {MAX_VERSION}")
        clean["version"] = version or 1
    try:
        clean["is_demo"] = _as_bool(row.get("is_demo"))
    except ValueError:
        problems.append(f"is_demo: {row.get('is_demo')!r}, expected true or false")
    clean["licence"] = clean.get("licence") or "CC-BY-4.0"
    problems += _check_structured(row, clean)
    ref = str(row.get("ref") or "").strip()
    if ref and slugify(ref) != ref:
        problems.append(f"ref: {ref!r}, expected lower-case letters, digits and hyphens")
    clean["ref"] = ref or slugify(clean.get("title", ""))[:100]
    return clean, problems


def _check_structured(row: dict[str, Any], clean: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    links = row.get("links") or []
    if isinstance(links, _Invalid) or not isinstance(links, list):
        problems.append('links: expected a JSON list of {"url", "title"}')
    else:
        for link in links:
            url = link.get("url", "") if isinstance(link, dict) else ""
            try:
                _url(url)
            except ValidationError:
                problems.append(f"links: {url or link!r} is not an http(s) URL")
        clean["links"] = links
    contacts = row.get("contacts") or []
    if isinstance(contacts, _Invalid) or not isinstance(contacts, list):
        problems.append('contacts: expected a JSON list of {"name", "email", ...}')
    else:
        for contact in contacts:
            if not isinstance(contact, dict) or not contact.get("name"):
                problems.append(f"contacts: {contact!r} lacks a name")
                continue
            if contact.get("email"):
                try:
                    _email(contact["email"])
                except ValidationError:
                    problems.append(f"contacts: {contact['email']!r} is not an e-mail address")
        clean["contacts"] = contacts
    translations = row.get("translations") or []
    if isinstance(translations, _Invalid) or not isinstance(translations, list):
        problems.append('translations: expected a JSON list of {"language", "title", "summary"}')
    else:
        seen: set[str] = set()
        for item in translations:
            lang = item.get("language") if isinstance(item, dict) else None
            if lang not in LANGUAGES or not item.get("title"):
                problems.append(
                    f"translations: {item!r} needs a language among {', '.join(LANGUAGES)} and a title"
                )
            elif lang == clean.get("language") or lang in seen:
                problems.append(f"translations: language {lang!r} repeats the original or another")
            else:
                seen.add(lang)
        clean["translations"] = translations
    return problems


def import_rows(
    rows: list[dict[str, Any]],
    *,
    partial: bool = False,
    user: Any = None,
    as_editor: bool = False,
) -> ImportReport:
    """Validate all rows, then write them in one transaction (see the module docstring).

    ``as_editor`` (an upload by an editor on the web, not an administrative import): every row
    becomes a draft without evidence label, owned by the editor's organisation, to be submitted
    for review; a row may update only a draft (or returned) practice the editor may edit.
    """
    from rempart.practices.search import index_practices

    report = ImportReport()
    valid: list[dict[str, Any]] = []
    refs: dict[str, int] = {}
    known: dict[str, Practice] = {}
    if as_editor:
        wanted = [str(r.get("ref") or "").strip() for r in rows if isinstance(r, dict)]
        known = Practice.objects.in_bulk([w for w in wanted if w], field_name="ref")
    for number, row in enumerate(rows, start=1):
        clean, problems = clean_row(row)
        ref = clean.get("ref", "")
        if ref in refs:
            problems.append(f"ref: {ref!r} repeats row {refs[ref]}")
        refs.setdefault(ref, number)
        if as_editor and not problems:
            clean["status"], clean["evidence_label"] = Status.DRAFT, ""
            current = known.get(ref)
            if current is not None:
                if not workflow.can_edit(user, current):
                    problems.append(f"ref: {ref!r} belongs to a practice you may not edit")
                elif current.status not in (Status.DRAFT, Status.RETURNED):
                    problems.append(
                        f"ref: {ref!r} is {current.status}; a published practice gets a new "
                        "version by editing it (it is then reviewed again)"
                    )
                else:
                    clean["version"] = current.version
            else:
                clean["version"] = 1
        if problems:
            label = f"row {number}" + (f" ({ref})" if ref else "")
            report.rejected += [f"{label}: {p}" for p in problems]
        else:
            valid.append(clean)
    if report.rejected and not partial:
        return report
    touched: list[Practice] = []
    with transaction.atomic():
        existing = Practice.objects.prefetch_related("translations").in_bulk(
            [c["ref"] for c in valid], field_name="ref"
        )
        for clean in valid:
            translations = clean.pop("translations")
            practice = existing.get(clean["ref"])
            if practice is None:
                practice = Practice(**clean)
                if as_editor:
                    practice.created_by = user
                    practice.owner_organisation_id = workflow.user_organisation_id(user)
                practice.save()
                workflow.set_translations(practice, translations)
                report.created += 1
            else:
                before = export_record(practice)
                for key, value in clean.items():
                    setattr(practice, key, value)
                practice.save()
                workflow.set_translations(practice, translations)
                practice = Practice.objects.prefetch_related("translations").get(pk=practice.pk)
                if export_record(practice) == before:
                    report.unchanged += 1
                    continue
                report.updated += 1
            PracticeVersion.objects.update_or_create(
                practice=practice,
                number=practice.version,
                defaults={
                    "data": export_record(practice),
                    "status": practice.status,
                    "note": "imported",
                    "created_by": user,
                },
            )
            touched.append(practice)
        index_practices(
            Practice.objects.filter(pk__in=[p.pk for p in touched]).prefetch_related("translations")
        )
    return report


def import_file(path: Path, *, partial: bool = False, user: Any = None) -> ImportReport:
    fmt = file_format(path)
    try:
        text = read_file(str(path), "file")
    except InputError as exc:
        raise ValueError(str(exc).removeprefix("file ")) from None
    try:
        rows = read_rows(text, fmt)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    return import_rows(rows, partial=partial, user=user)
