"""Assessment API: run a site's assessment and read the latest result."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status
from ninja.errors import HttpError

from rempart.assess import services
from rempart.assess.models import Assessment
from rempart.core.access_rules import fetch, require_scope
from rempart.core.api import _visible_site
from rempart.core.api_errors import id_path

router = Router(tags=["assess"])


def _summary(run: Assessment) -> dict[str, Any]:
    return {
        "id": run.pk,
        "site": run.site_id,
        "status": run.status,
        "progress": run.progress,
        "message": run.message,
        "created_at": run.created_at.isoformat(),
        "max_speed_kmh": run.max_speed_kmh,
        "entry_count": run.entry_count,
        "plan_cost_eur": run.plan_cost_eur,
        "error": run.error or None,
    }


@router.post("/sites/{site_id}/runs", response={202: dict}, summary="Start an assessment of a site")
def start_run(request: HttpRequest, site_id: int = id_path("site")) -> Status:
    require_scope(request, "assess:run")
    site = _visible_site(request, site_id)
    try:
        run = services.request_run(site, request.user)
    except services.NoOsmData as exc:
        raise HttpError(409, str(exc)) from exc
    services.start_in_background(run)
    return Status(202, _summary(run))


@router.get(
    "/runs/{run_id}", summary="Status of a run, and its result (the engine's JSON) once done"
)
def get_run(request: HttpRequest, run_id: int = id_path("assessment")) -> dict[str, Any]:
    require_scope(request, "assess:read")
    run = fetch(request, Assessment.objects, f"assessment {run_id}", pk=run_id)
    body = _summary(run)
    if run.status == Assessment.Status.DONE:
        body["result"] = run.result
    return body


@router.get("/sites/{site_id}/latest", summary="The latest completed assessment of a site")
def latest(request: HttpRequest, site_id: int = id_path("site")) -> dict[str, Any]:
    require_scope(request, "assess:read")
    site = _visible_site(request, site_id)
    run = services.latest_done(site)
    if run is None:
        raise HttpError(404, f"site {site_id} has no completed assessment")
    return {**_summary(run), "result": run.result}
