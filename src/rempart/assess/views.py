"""Pages of the assessment: sites of the city with their last results, runs with progress, reports."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rempart.assess import access_link, reports, services
from rempart.assess.engine.report.words import (
    blocked_words,
    plan_note_words,
    position_words,
    rating_words,
    source_words,
)
from rempart.assess.models import Assessment, CityOsmData
from rempart.core import audit
from rempart.core.access_rules import fetch
from rempart.core.permissions import deny, role_required
from rempart.core.views import required_city


@role_required("assess", "viewer")
def index(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    sites = list(city.sites.all())
    services.mark_stale(Assessment.objects.filter(site__city=city))
    rows = [
        (site, Assessment.objects.filter(site=site).first(), services.latest_done(site))
        for site in sites
    ]
    return render(
        request,
        "assess/index.html",
        {
            "city": city,
            "rows": rows,
            "osm_data": CityOsmData.objects.filter(city=city).first(),
        },
    )


def _run_for(request: HttpRequest, pk: int) -> Assessment:
    return fetch(request, Assessment.objects, f"assessment {pk}", pk=pk)


@role_required("assess", "editor")
@require_POST
def run_site(request: HttpRequest, site_pk: int) -> HttpResponse:
    from rempart.core.models import Site

    site = fetch(request, Site.objects, f"site {site_pk}", pk=site_pk)
    options: dict[str, Any] = services.parse_access_routes(request.POST.get("access_ways", ""))
    try:
        run = services.request_run(site, request.user, options)
    except services.NoOsmData as exc:
        messages.error(request, str(exc))
        return redirect("assess:index")
    services.start_in_background(run)
    return redirect(run)


@role_required("assess", "viewer")
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for(request, pk)
    services.mark_stale(Assessment.objects.filter(pk=run.pk))
    run.refresh_from_db()
    if request.headers.get("HX-Request") and run.status in (
        Assessment.Status.QUEUED,
        Assessment.Status.RUNNING,
    ):
        return render(request, "assess/_progress.html", {"run": run})
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"  # finished: reload the whole page once to show the results
        return response
    context: dict[str, Any] = {"run": run, "site": run.site, "city": run.site.city}
    if run.status == Assessment.Status.DONE and run.result:
        context["entries"] = _entry_rows(run.result)
        context["heat_maps"] = reports.run_heat_maps(run)
        context["plan"] = _plan_in_words(run.result.get("plan"))
        context["map_features"] = _map_features(run)
        context["active_positions"] = access_link.active_positions(run)
        context["zones"] = access_link.zones_for(request.user, run.site.city)
    return render(request, "assess/run_detail.html", context)


def _plan_in_words(plan: dict[str, Any] | None) -> dict[str, Any] | None:
    """The plan with its note and every position's rating in the reader's language."""
    if not plan:
        return plan
    positions = [
        {**p, "rating_words": rating_words(p.get("rating"), _)} for p in plan.get("positions", [])
    ]
    return {**plan, "note": plan_note_words(plan.get("note"), _), "positions": positions}


def _source_words(source: str | None) -> str:
    """Where an edge stretch's worst approach comes from, in the reader's language."""
    return source_words(source, _) or "–"


def _place_words(entry: dict[str, Any]) -> str:
    """A stretch's name: its street, else its place in words (e.g. "open ground north")."""
    if entry.get("street"):
        return str(entry["street"])
    place = entry.get("place") or {}
    language = (translation.get_language() or "en").split("-")[0]
    if entry.get("way_id") is None and entry.get("approach_way_id") is None and place:
        return str(place.get(language) or place.get("en") or "")
    return _("unnamed way")


def _entry_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per edge stretch: number, name, source and length in words, the governing
    vehicle (most energy) and every vehicle with its source in words."""
    rows = []
    for number, entry in enumerate(result["entries"], start=1):
        vehicles = [
            {
                **v,
                "source_words": _source_words(v.get("source") or entry.get("source")),
                "blocked_words": blocked_words(v.get("blocked"), _),
                "rating_words": rating_words(v.get("rating"), _),
                "pas68_words": rating_words(v.get("pas68"), _),
            }
            for v in entry["vehicles"]
        ]
        governing = max(
            (v for v in vehicles if v.get("energy_kj") is not None),
            key=lambda v: v["energy_kj"],
            default=None,
        )
        rows.append(
            {
                "number": entry.get("number", number),
                "entry": entry,
                "name": _place_words(entry),
                "source": _source_words(entry.get("source") or entry.get("kind")),
                "length_m": entry.get("stretch_length_m"),
                "vehicles": vehicles,
                "governing": governing,
            }
        )
    return rows


def _map_features(run: Assessment) -> dict[str, Any]:
    result = run.result or {}
    features: list[dict[str, Any]] = [
        {"type": "Feature", "geometry": run.site.boundary, "properties": {"name": run.site.name}}
    ]
    for row in _entry_rows({"entries": result.get("entries", [])}):
        entry, number = row["entry"], row["number"]
        vehicles = [v for v in entry["vehicles"] if v.get("speed_kmh") is not None]
        top = max(vehicles, key=lambda v: v.get("energy_kj") or 0, default=None)
        label = f"#{number} {row['source']} {row['name']}"
        if top:
            label += (
                f": {top['name']} {top['speed_kmh']:.0f} km/h, {rating_words(top.get('rating'), _)}"
            )
            if top.get("runup_geometry"):
                features.append(
                    {
                        "type": "Feature",
                        "geometry": top["runup_geometry"],
                        "properties": {
                            "kind": "runup",
                            "label": _("worst path to entry %(n)d") % {"n": number},
                        },
                    }
                )
        stretch = entry.get("stretch_geometry")
        if stretch and len(stretch.get("coordinates", [])) >= 2:
            # the stretch of edge, coloured by its highest impact speed over vehicles
            impact = [v.get("impact_speed_kmh") or v["speed_kmh"] for v in vehicles]
            features.append(
                {
                    "type": "Feature",
                    "geometry": stretch,
                    "properties": {
                        "kind": "stretch",
                        "speed_kmh": max(impact) if impact else None,
                        "label": label,
                    },
                }
            )
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [entry["lon"], entry["lat"]]},
                "properties": {"kind": "entry", "label": label, "number": number},
            }
        )
    for position in (result.get("plan") or {}).get("positions", []):
        geometry = position.get("geometry") or {
            "type": "Point",
            "coordinates": [position["lon"], position["lat"]],
        }
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "kind": "plan",
                    "active": position.get("barrier") == "active",
                    "label": f"{position_words(position.get('kind'), position.get('barrier'), _)} "
                    f"{rating_words(position.get('rating'), _)}, {position['width_m']} m",
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


@role_required("assess", "viewer")
def run_speed_field(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for(request, pk)
    return JsonResponse(run.speed_field or {"type": "FeatureCollection", "features": []})


def _download(
    request: HttpRequest, run: Assessment, body: str | bytes, content_type: str, suffix: str
) -> HttpResponse:
    audit.record("export", obj=run, detail={"format": suffix})
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="assessment-{run.pk}-{run.site.city.slug}.{suffix}"'
    )
    return response


def _finished(request: HttpRequest, pk: int) -> Assessment:
    run = _run_for(request, pk)
    if run.status != Assessment.Status.DONE:
        raise deny(request, "the assessment has no report yet")
    return run


@role_required("assess", "viewer")
def run_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The report as a self-contained HTML document, in the reader's language."""
    run = _finished(request, pk)
    return _download(request, run, reports.run_html(run), "text/html; charset=utf-8", "html")


@role_required("assess", "viewer")
def run_report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The same report as PDF."""
    run = _finished(request, pk)
    return _download(request, run, reports.run_pdf(run), "application/pdf", "pdf")


@role_required("assess", "viewer")
def run_json(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for(request, pk)
    return _download(
        request,
        run,
        json.dumps(reports.run_json(run), ensure_ascii=False, indent=1),
        "application/json",
        "json",
    )


@role_required("assess", "viewer")
def run_geojson(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for(request, pk)
    collection = reports.run_geojson(run)
    return _download(
        request, run, json.dumps(collection, ensure_ascii=False), "application/geo+json", "geojson"
    )


@role_required("assess", "admin")
def osm_data(request: HttpRequest) -> HttpResponse:
    from rempart.assess.forms import CityOsmDataForm

    city = required_city(request)
    instance = CityOsmData.objects.filter(city=city).first() or CityOsmData(city=city)
    form = CityOsmDataForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("OpenStreetMap data saved."))
        return redirect("assess:index")
    return render(
        request,
        "assess/osm_data.html",
        {"form": form, "city": city},
        status=400 if request.method == "POST" else 200,
    )


@role_required("assess", "editor")
@require_POST
def create_access_points(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn the plan's active positions into access points (lanes) of an access-control zone."""
    run = _run_for(request, pk)
    zone_ident = request.POST.get("zone", "")
    try:
        lanes = access_link.create_access_points(run, zone_ident, request.user)
    except access_link.LinkError as exc:
        messages.error(request, str(exc))
        return redirect(run)
    messages.success(
        request,
        _("%(n)d access points created in zone %(zone)s.") % {"n": len(lanes), "zone": zone_ident},
    )
    return redirect(run)
