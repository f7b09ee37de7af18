"""Forms for sites, events and API tokens."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rempart.core.access_rules import LIMITED_SCOPES
from rempart.core.city_area import check_site_area
from rempart.core.geo import BoundaryError, parse_boundary
from rempart.core.models import City, Site, SiteEvent
from rempart.core.plugins import plugins
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
        city, boundary = cleaned.get("city"), cleaned.get("boundary")
        if city is not None and isinstance(boundary, dict):
            try:
                check_site_area(city, boundary)
            except BoundaryError as exc:
                self.add_error("boundary", str(exc))
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

    lanes = forms.MultipleChoiceField(
        label=_("Limited to lanes"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=(),
        help_text=_(
            "For a camera: the token then acts only on these lanes, may only post reads and "
            "read its lanes' decisions (access:request, access:read), and never commands."
        ),
    )
    zones = forms.MultipleChoiceField(
        label=_("Limited to zones"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=(),
        help_text=_("The token then acts only on the lanes of these zones, with the same rules."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [  # type: ignore[attr-defined]
            (scope, scope)
            for scope, (module, role) in TOKEN_SCOPES.items()
            if has_role(user, module, role)
        ]
        # what a token can be limited to comes from the module that has lanes and zones
        self.lane_zones: dict[str, str] = {}
        lane_choices: list[tuple[str, str]] = []
        zone_choices: list[tuple[str, str]] = []
        for _label, module in plugins("token_limits"):
            for lane, zone, text in module.lanes(user):
                self.lane_zones[lane] = zone
                lane_choices.append((lane, text))
            zone_choices.extend(module.zones(user))
        self.fields["lanes"].choices = lane_choices  # type: ignore[attr-defined]
        self.fields["zones"].choices = zone_choices  # type: ignore[attr-defined]
        if not lane_choices:
            del self.fields["lanes"]
        if not zone_choices:
            del self.fields["zones"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        lanes, zones = cleaned.get("lanes") or [], cleaned.get("zones") or []
        if not (lanes or zones):
            return cleaned
        extra = sorted(set(cleaned.get("scopes") or []) - LIMITED_SCOPES)
        if extra:
            self.add_error(
                "scopes",
                _("A token limited to lanes or zones may only carry %(allowed)s; remove %(extra)s.")
                % {"allowed": ", ".join(sorted(LIMITED_SCOPES)), "extra": ", ".join(extra)},
            )
        outside = [lane for lane in lanes if zones and self.lane_zones.get(lane) not in zones]
        if outside:
            self.add_error(
                "lanes",
                _("Lanes %(lanes)s are not in the zones chosen.") % {"lanes": ", ".join(outside)},
            )
        return cleaned

    def constraints(self) -> dict[str, list[str]]:
        """The limits chosen, as ``ApiToken.constraints`` (see ``TokenLimits``)."""
        limits = {}
        for key in ("lanes", "zones"):
            chosen = self.cleaned_data.get(key) or []
            if chosen:
                limits[key] = sorted(chosen)
        return limits
