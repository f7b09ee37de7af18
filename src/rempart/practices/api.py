"""Practices API: search with facets, read, write drafts, submit, contacts (audited), similar.

Scopes: ``practices:read`` (viewer) and ``practices:write`` (editor); object rules (drafts,
organisation) come from :mod:`rempart.practices.workflow` through
:mod:`rempart.core.access_rules`. No credentials → 401, a missing scope or role → 403, a draft
the caller may not see → 404 as for no practice (both audited).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja import Status as Reply
from ninja.errors import HttpError

from rempart.core import audit
from rempart.core.access_rules import forbid, require_scope
from rempart.practices import workflow
from rempart.practices.io import clean_row, export_record
from rempart.practices.models import Practice, Status
from rempart.practices.search import FACET_KINDS, load_practices, search, similar

router = Router(tags=["practices"])


class SearchParams(Schema):
    q: str = ""
    theme: list[str] = []
    audience: list[str] = []
    setting: list[str] = []
    country: list[str] = []
    evidence: list[str] = []
    limit: int = 20
    offset: int = 0


class PracticeSummary(Schema):
    id: int
    ref: str
    title: str
    summary: str
    language: str
    country: str
    themes: list[str]
    evidence: str
    score: float


class SearchOut(Schema):
    total: int
    mode: str
    results: list[PracticeSummary]
    facets: dict[str, list[tuple[str, int]]]


class PracticeIn(Schema):
    title: str
    summary: str
    language: str = "en"
    problem: str = ""
    approach: str = ""
    themes: list[str] = []
    audiences: list[str] = []
    settings: list[str] = []
    country: str = ""
    city_name: str = ""
    organisation_name: str = ""
    organisation_type: str = ""
    start_year: int | None = None
    end_year: int | None = None
    cost: str = ""
    funding: str = ""
    effect: str = ""
    effect_strength: str = ""
    mechanism: str = ""
    mechanism_strength: str = ""
    moderators: str = ""
    moderators_strength: str = ""
    implementation: str = ""
    implementation_strength: str = ""
    economic: str = ""
    economic_strength: str = ""
    evaluation_references: str = ""
    links: list[dict[str, str]] = []
    contacts: list[dict[str, str]] = []
    translations: list[dict[str, str]] = []
    licence: str = "CC-BY-4.0"
    source_url: str = ""


def _summary(practice: Practice, score: float = 0.0) -> dict[str, Any]:
    return {
        "id": practice.pk,
        "ref": practice.ref,
        "title": practice.title,
        "summary": practice.summary,
        "language": practice.language,
        "country": practice.country,
        "themes": practice.themes,
        "evidence": practice.evidence_label,
        "score": round(score, 6),
    }


_visible = workflow.practice_for


@router.get("/", response=SearchOut, summary="Ranked search of published practices, with facets")
def search_practices(request: HttpRequest, params: Query[SearchParams]) -> dict[str, Any]:
    require_scope(request, "practices:read")
    if not 1 <= params.limit <= 100:
        raise HttpError(422, f"limit={params.limit}: expected 1 to 100")
    filters = {kind: getattr(params, kind) for kind in FACET_KINDS if getattr(params, kind)}
    result = search(
        params.q,
        filters=filters,
        limit=params.limit,
        offset=max(params.offset, 0),
    )
    scores = {h.practice_id: h.score for h in result.hits}
    return {
        "total": result.total,
        "mode": result.mode,
        "results": [_summary(p, scores[p.pk]) for p in load_practices(result.ids)],
        "facets": result.facets,
    }


@router.get("/{int:pk}", summary="One practice (without contacts)")
def get_practice(request: HttpRequest, pk: int) -> dict[str, Any]:
    require_scope(request, "practices:read")
    practice = _visible(request, pk)
    record = export_record(practice)
    record.pop("contacts")
    return {"id": practice.pk, **record}


@router.get("/{int:pk}/contacts", summary="Contacts of a practice (members only, audited)")
def get_contacts(request: HttpRequest, pk: int) -> list[dict[str, Any]]:
    require_scope(request, "practices:read")
    practice = _visible(request, pk)
    audit.record("sensitive_read", obj=practice, detail={"what": "contacts", "via": "api"})
    return list(practice.contacts)


@router.get("/{int:pk}/similar", response=list[PracticeSummary], summary="Similar practices")
def get_similar(request: HttpRequest, pk: int, limit: int = 5) -> list[dict[str, Any]]:
    require_scope(request, "practices:read")
    practice = _visible(request, pk)
    hits = similar(practice, limit=min(max(limit, 1), 20))
    scores = {h.practice_id: h.score for h in hits}
    return [_summary(p, scores[p.pk]) for p in load_practices(list(scores))]


def _apply(practice: Practice, payload: PracticeIn) -> list[dict[str, str]]:
    data = payload.dict()
    translations = data.pop("translations")
    _clean, problems = clean_row({**data, "translations": translations, "ref": practice.ref})
    if problems:
        raise HttpError(422, "; ".join(problems))
    for key, value in data.items():
        setattr(practice, key, value.upper() if key == "country" else value)
    return translations


@router.post("/", response={201: dict[str, Any]}, summary="Create a draft practice")
def create_practice(request: HttpRequest, payload: PracticeIn) -> Any:
    require_scope(request, "practices:write")
    practice = Practice()
    translations = _apply(practice, payload)
    try:
        workflow.save_practice(practice, request.user, translations=translations)
    except workflow.WorkflowError as exc:
        raise forbid(request, str(exc)) from exc
    return Reply(201, {"id": practice.pk, "ref": practice.ref, "status": practice.status})


@router.put(
    "/{int:pk}", summary="Replace a practice's content (published: its revision, reviewed again)"
)
def update_practice(request: HttpRequest, pk: int, payload: PracticeIn) -> dict[str, Any]:
    require_scope(request, "practices:write")
    practice = _visible(request, pk)
    if not workflow.can_edit(request.user, practice):
        raise forbid(request, "you may not edit this practice", practice=pk)
    translations = _apply(practice, payload)
    try:
        saved = workflow.save_practice(practice, request.user, translations=translations)
    except workflow.WorkflowError as exc:
        raise HttpError(409, str(exc)) from exc
    # a published practice is not changed: its revision (another id) holds the new version
    return {
        "id": saved.pk,
        "version": saved.version,
        "status": saved.status,
        "revision_of": saved.revision_of_id,
    }


@router.post("/{int:pk}/submit", summary="Submit a draft for review")
def submit_practice(request: HttpRequest, pk: int) -> dict[str, Any]:
    require_scope(request, "practices:write")
    practice = _visible(request, pk)
    if not workflow.can_edit(request.user, practice):
        raise forbid(
            request, "only an editor of the practice's organisation may submit it", practice=pk
        )
    try:
        workflow.submit(practice, request.user)
    except workflow.WorkflowError as exc:
        raise HttpError(409, str(exc)) from exc
    return {"id": practice.pk, "status": Status(practice.status).value}
