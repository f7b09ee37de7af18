"""Template filters showing audit entries in words (rempart.core.audit_display)."""

from __future__ import annotations

from django import template

from rempart.core import audit_display

register = template.Library()
register.filter("action_label", audit_display.action_label)
register.filter("object_type_label", audit_display.object_type_label)
register.filter("change_lines", audit_display.change_lines)
