"""What a spending line can point at: the things the money bought, in other modules.

Data flows one way (site -> assessment -> plan -> lanes -> exercises -> funding): funding reads
the other modules' objects, they never read funding. A link is a (content type, id) pair; only
the models listed in :data:`LINKABLE` may be linked, and only objects of the project's city.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

#: "app_label.model" -> (label, path to its city). Modules that are absent are skipped.
LINKABLE: dict[str, tuple[Any, str]] = {
    "core.site": (_("site"), "city"),
    "assess.assessment": (_("assessment"), "site__city"),
    "access.lane": (_("lane"), "zone__city"),
    "access.barrier": (_("barrier"), "lane__zone__city"),
    "exercises.exercise": (_("exercise"), "city"),
    "exercises.trainingsession": (_("training session"), "course__city"),
    # practices are shared by the network: those of organisations working for the city
    "practices.practice": (_("practice"), "owner_organisation__cities"),
}
#: Objects offered per kind in the form (the newest first).
CHOICES_PER_KIND = 200


def _model(key: str) -> Any:
    app_label, model_name = key.split(".")
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


def choices(city: Any) -> list[tuple[str, str]]:
    """("app.model:id", "label: object") for every linkable object of ``city``."""
    out: list[tuple[str, str]] = []
    for key, (label, path) in LINKABLE.items():
        model = _model(key)
        if model is None:
            continue
        rows = model.objects.filter(**{path: city}).distinct().order_by("-pk")[:CHOICES_PER_KIND]
        out.extend((f"{key}:{row.pk}", f"{label}: {row}") for row in rows)
    return out


def resolve(value: str, city: Any) -> tuple[ContentType, int] | None:
    """The (content type, id) of ``"app.model:id"`` if it names an object of ``city``."""
    key, _sep, ident = value.partition(":")
    if key not in LINKABLE or not ident.isdigit() or len(ident) > 18:
        return None
    model = _model(key)
    if model is None:
        return None
    path = LINKABLE[key][1]
    if not model.objects.filter(pk=int(ident), **{path: city}).exists():
        return None
    return ContentType.objects.get_for_model(model), int(ident)


def describe(link_type: ContentType | None, link_id: int | None) -> str:
    """The linked object in words, or "" (also when it has been deleted since)."""
    if link_type is None or link_id is None:
        return ""
    key = f"{link_type.app_label}.{link_type.model}"
    model = link_type.model_class()
    if key not in LINKABLE or model is None:
        return ""
    obj = model._default_manager.filter(pk=link_id).first()
    return f"{LINKABLE[key][0]}: {obj}" if obj is not None else ""
