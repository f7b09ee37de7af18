"""The report of a stored run, drawn at request time in the reader's language (HTML or PDF).

The engine's report is drawn from the run's stored JSON result and speed field only (no
network), so a French reader gets the French document of a run made by an English one. The
cover states the run's date in its city's time zone, who requested it, its number among the
site's runs, the software version and the map-data date recorded when it ran.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation

import rempart
from rempart.assess.engine.report import (
    ReportMeta,
    data_gaps,
    geojson_features,
    html_to_pdf,
    render_html,
    words_for,
)
from rempart.assess.models import Assessment


def run_meta(run: Assessment) -> ReportMeta:
    """The cover of ``run``'s report."""
    stored = (run.result or {}).get("report", {})
    user = run.requested_by
    author = ""
    if user is not None:
        author = user.get_full_name() or user.get_username()
    return ReportMeta(
        created=run.finished_at or run.created_at,
        time_zone=run.site.city.timezone,
        city=run.site.city.name,
        author=author,
        run_number=Assessment.objects.filter(site=run.site, pk__lte=run.pk).count(),
        software_version=stored.get("software_version") or rempart.__version__,
        map_data_date=stored.get("map_data_date"),
        map_file=stored.get("map_file", ""),
    )


def run_json(run: Assessment) -> dict[str, Any]:
    """The run's JSON object (issue-1 shape plus entry numbers, warnings and the report's
    cover as ``report``)."""
    data = _site_data(run)
    data["report"] = run_meta(run).to_dict()
    return data


def run_geojson(run: Assessment) -> dict[str, Any]:
    """The run as one GeoJSON FeatureCollection carrying what its JSON carries (site-level
    fields on the site feature, entries, run-ups, positions, warnings) plus the speed field;
    the report's cover as the collection's ``report`` member."""
    data = run_json(run)
    features = geojson_features(data, (run.speed_field or {}).get("features", []))
    return {"type": "FeatureCollection", "features": features, "report": data["report"]}


def _site_data(run: Assessment) -> dict[str, Any]:
    data: dict[str, Any] = {
        "site": run.site.name,
        "geometry": run.site.boundary,
        "vehicles": [],
        "options": {},
        "entries": [],
        "plan": None,
    }
    data.update(run.result or {})
    data["warnings"] = data_gaps(data)
    return data


def run_heat_maps(run: Assessment, language: str | None = None) -> list[tuple[str, str]]:
    """(vehicle, SVG) per vehicle of a finished run: its speed field around the site and the
    site's edge coloured by its impact speed (the report's heat maps), for the run's page."""
    from rempart.assess.engine.report.maps import FieldArrays, heat_map

    words = words_for(language or translation.get_language() or "en")
    data = _site_data(run)
    field = FieldArrays.of((run.speed_field or {}).get("features", []))
    return [(name, heat_map(data, field, name, words)) for name in data.get("vehicles", [])]


def run_html(run: Assessment, language: str | None = None) -> str:
    """The report of a finished run as one HTML document, in ``language`` (default: the
    request's active language)."""
    words = words_for(language or translation.get_language() or "en")
    features = (run.speed_field or {}).get("features", [])
    return render_html([(_site_data(run), features)], run_meta(run), words)


def run_pdf(run: Assessment, language: str | None = None) -> bytes:
    """The same document as PDF (WeasyPrint)."""
    return html_to_pdf(run_html(run, language))
