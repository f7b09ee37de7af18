"""``{{ code|access_label:"kind" }}``: the word for an access code (:mod:`rempart.access.labels`)."""

from __future__ import annotations

from django import template

from rempart.access import labels

register = template.Library()


@register.filter
def access_label(code: object, kind: str) -> str:
    return labels.label(kind, None if code is None else str(code))
