"""Forms for sites, events and API tokens."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rempart.core.geo import BoundaryError, parse_boundary
from rempart.core.models import City, Site, SiteEvent
from rempart.core.roles import TOKEN_SCOPES, has_role


class BoundaryField(forms.CharField):
    """GeoJSON text drawn on the map (or pasted); cleaned to a geometry dict."""

    widget = forms.Textarea(attrs={"rows": 4, "class": "geojson-input", "spellcheck": "false"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return json.dumps(value)
        return value

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if not value:
            return value
        try:
            return parse_boundary(value)
        except BoundaryError as exc:
            raise forms.ValidationError(str(exc), code="invalid_boundary") from exc


class SiteForm(forms.ModelForm):
    boundary = BoundaryField(
        label=_("Boundary"),
        help_text=_(
            "Draw the outline on the map, or paste a GeoJSON Polygon in WGS84 (longitude, latitude)."
        ),
    )

    class Meta:
        model = Site
        fields = ["city", "name", "kind", "description", "typical_crowd", "peak_crowd", "boundary"]

    def __init__(self, *args: Any, cities: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if cities is not None:
            self.fields["city"].queryset = cities  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        typical, peak = cleaned.get("typical_crowd"), cleaned.get("peak_crowd")
        if typical is not None and peak is not None and peak and peak < typical:
            self.add_error(
                "peak_crowd", _("The peak crowd cannot be smaller than the typical crowd.")
            )
        return cleaned


class SiteEventForm(forms.ModelForm):
    class Meta:
        model = SiteEvent
        fields = ["name", "starts_at", "ends_at", "expected_crowd"]
        widgets = {
            "starts_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "ends_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("starts_at"), cleaned.get("ends_at")
        if start and end and end <= start:
            self.add_error("ends_at", _("The end must come after the start."))
        return cleaned


class SiteImportForm(forms.Form):
    city = forms.ModelChoiceField(queryset=City.objects.none(), label=_("City"))
    file = forms.FileField(
        label=_("GeoJSON file"),
        help_text=_(
            "A FeatureCollection of Polygon/MultiPolygon features (WGS84) with a 'name' property."
        ),
    )

    def __init__(self, *args: Any, cities: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if cities is not None:
            self.fields["city"].queryset = cities  # type: ignore[attr-defined]


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What uses it, e.g. 'ANPR camera north gate'.")
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), widget=forms.CheckboxSelectMultiple, choices=()
    )
    expires_at = forms.DateTimeField(
        label=_("Expires"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [  # type: ignore[attr-defined]
            (scope, scope)
            for scope, (module, role) in TOKEN_SCOPES.items()
            if has_role(user, module, role)
        ]
