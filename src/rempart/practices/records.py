"""The shape and identity of a practice record, shared by the workflow and the catalogue files.

:data:`FIELDS` is the record as the catalogue files (JSON, CSV), the API and the version history
carry it; :func:`export_record` turns a practice into that dict; :func:`unique_ref` gives a new
practice its reference. Both :mod:`.workflow` (version snapshots) and :mod:`.io` (import,
export) use them, so neither imports the other for them.
"""

from __future__ import annotations

from typing import Any

from django.utils.text import slugify

from rempart.practices.models import EMMIE, Practice

LIST_FIELDS = ("themes", "audiences", "settings")
JSON_FIELDS = ("links", "contacts", "translations")
TEXT_FIELDS = (
    "title",
    "summary",
    "problem",
    "approach",
    "country",
    "city_name",
    "organisation_name",
    "organisation_type",
    "cost",
    "funding",
    *[name for key in EMMIE for name in (key, f"{key}_strength")],
    "evidence_label",
    "evaluation_references",
    "licence",
    "source_url",
)
FIELDS: tuple[str, ...] = (
    "ref",
    "language",
    "title",
    "summary",
    "problem",
    "approach",
    "themes",
    "audiences",
    "settings",
    "country",
    "city_name",
    "organisation_name",
    "organisation_type",
    "start_year",
    "end_year",
    "cost",
    "funding",
    *[name for key in EMMIE for name in (key, f"{key}_strength")],
    "evidence_label",
    "evaluation_references",
    "links",
    "contacts",
    "translations",
    "licence",
    "source_url",
    "status",
    "version",
    "is_demo",
)


def export_record(practice: Practice) -> dict[str, Any]:
    """A practice as a plain dict of :data:`FIELDS` (lists and dicts kept as such)."""
    record: dict[str, Any] = {}
    for name in FIELDS:
        if name == "translations":
            record[name] = [
                {"language": t.language, "title": t.title, "summary": t.summary}
                for t in sorted(practice.translations.all(), key=lambda t: t.language)
            ]
        else:
            record[name] = getattr(practice, name)
    return record


def unique_ref(title: str) -> str:
    base = slugify(title)[:100] or "practice"
    ref, n = base, 2
    while Practice.objects.filter(ref=ref).exists():
        ref = f"{base}-{n}"
        n += 1
    return ref
