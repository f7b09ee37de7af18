"""Practices API: search with facets, read, write drafts, submit, contacts (audited), similar.

Scopes: ``practices:read`` (viewer) and ``practices:write`` (editor); object rules (drafts,
organisation) come from :mod:`rempart.practices.workflow` through
:mod:`rempart.core.access_rules`. No credentials → 401, a missing scope or role → 403, a draft
the caller may not see → 404 as for no practice (both audited).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema
from ninja import Status as Reply
from ninja.errors import HttpError

from rempart.core import audit
from rempart.core.access_rules import forbid, require_scope
from rempart.core.api_errors import MAX_ID, MAX_OFFSET, Input
from rempart.core.models import Organisation
from rempart.practices import workflow
from rempart.practices.io import clean_row, export_record
from rempart.practices.models import (
    LANGUAGES,
    Audience,
    Practice,
    Setting,
    Status,
    Strength,
    Theme,
)
from rempart.practices.search import FACET_KINDS, load_practices, search, similar

router = Router(tags=["practices"])


def _choice(values: Any) -> Any:
    return Literal[tuple(str(v) for v in values)]  # type: ignore[valid-type]


#: A facet value (a theme, an audience...): free text, matched against the index.
Facet = Annotated[str, Field(max_length=100)]
FacetList = Annotated[list[Facet], Field(max_length=50)]


class SearchParams(Schema):
    q: str = Field("", max_length=500)
    theme: FacetList = []
    audience: FacetList = []
    setting: FacetList = []
    country: FacetList = []
    evidence: FacetList = []
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


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


#: Long free texts of a practice (problem, approach, findings...).
LONG = 20_000
Language = _choice(LANGUAGES)
StrengthChoice = _choice(Strength.values)
Year = Annotated[int, Field(ge=1900, le=2100)]


class LinkIn(Input):
    url: str = Field(..., min_length=1, max_length=500, description="http(s) URL")
    title: str = Field("", max_length=300)


class ContactIn(Input):
    name: str = Field(..., min_length=1, max_length=150)
    email: str = Field("", max_length=254)
    role: str = Field("", max_length=150)
    organisation: str = Field("", max_length=200)
    phone: str = Field("", max_length=40)


class TranslationIn(Input):
    language: Language  # type: ignore[valid-type]
    title: str = Field(..., min_length=1, max_length=300)
    summary: str = Field("", max_length=LONG)


class PracticeIn(Input):
    """A practice's content. Rules checked together (422 naming the field): text not blank
    once trimmed, ``end_year`` not before ``start_year``, URLs http(s), e-mails valid."""

    title: str = Field(..., min_length=1, max_length=300)
    summary: str = Field(..., min_length=1, max_length=LONG)
    language: Language = "en"  # type: ignore[valid-type]
    problem: str = Field("", max_length=LONG)
    approach: str = Field("", max_length=LONG)
    themes: list[_choice(Theme.values)] = Field([], max_length=50)  # type: ignore[valid-type]
    audiences: list[_choice(Audience.values)] = Field([], max_length=50)  # type: ignore[valid-type]
    settings: list[_choice(Setting.values)] = Field([], max_length=50)  # type: ignore[valid-type]
    country: str = Field("", pattern="^([A-Za-z]{2})?$", description="ISO 3166-1 alpha-2")
    city_name: str = Field("", max_length=120)
    organisation_name: str = Field("", max_length=200)
    organisation_type: _choice(["", *Organisation.Kind.values]) = ""  # type: ignore[valid-type]
    start_year: Year | None = None
    end_year: Year | None = None
    cost: str = Field("", max_length=300)
    funding: str = Field("", max_length=300)
    effect: str = Field("", max_length=LONG)
    effect_strength: StrengthChoice = ""  # type: ignore[valid-type]
    mechanism: str = Field("", max_length=LONG)
    mechanism_strength: StrengthChoice = ""  # type: ignore[valid-type]
    moderators: str = Field("", max_length=LONG)
    moderators_strength: StrengthChoice = ""  # type: ignore[valid-type]
    implementation: str = Field("", max_length=LONG)
    implementation_strength: StrengthChoice = ""  # type: ignore[valid-type]
    economic: str = Field("", max_length=LONG)
    economic_strength: StrengthChoice = ""  # type: ignore[valid-type]
    evaluation_references: str = Field("", max_length=LONG)
    links: list[LinkIn] = Field([], max_length=100)
    contacts: list[ContactIn] = Field([], max_length=100)
    translations: list[TranslationIn] = Field([], max_length=10)
    licence: str = Field("CC-BY-4.0", min_length=1, max_length=60)
    source_url: str = Field("", max_length=500)


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
PracticeId = Path(..., ge=1, le=MAX_ID, description="the practice's id")


@router.get("/", response=SearchOut, summary="Ranked search of published practices, with facets")
def search_practices(request: HttpRequest, params: Query[SearchParams]) -> dict[str, Any]:
    require_scope(request, "practices:read")
    filters = {kind: getattr(params, kind) for kind in FACET_KINDS if getattr(params, kind)}
    result = search(
        params.q,
        filters=filters,
        limit=params.limit,
        offset=params.offset,
    )
    scores = {h.practice_id: h.score for h in result.hits}
    return {
        "total": result.total,
        "mode": result.mode,
        "results": [_summary(p, scores[p.pk]) for p in load_practices(result.ids)],
        "facets": result.facets,
    }


@router.get("/{int:pk}", summary="One practice (without contacts)")
def get_practice(request: HttpRequest, pk: int = PracticeId) -> dict[str, Any]:
    require_scope(request, "practices:read")
    practice = _visible(request, pk)
    record = export_record(practice)
    record.pop("contacts")
    return {"id": practice.pk, **record}


@router.get("/{int:pk}/contacts", summary="Contacts of a practice (members only, audited)")
def get_contacts(request: HttpRequest, pk: int = PracticeId) -> list[dict[str, Any]]:
    require_scope(request, "practices:read")
    practice = _visible(request, pk)
    audit.record("sensitive_read", obj=practice, detail={"what": "contacts", "via": "api"})
    return list(practice.contacts)


@router.get("/{int:pk}/similar", response=list[PracticeSummary], summary="Similar practices")
def get_similar(
    request: HttpRequest, pk: int = PracticeId, limit: int = Query(5, ge=1, le=20)
) -> list[dict[str, Any]]:
    require_scope(request, "practices:read")
    practice = _visible(request, pk)
    hits = similar(practice, limit=limit)
    scores = {h.practice_id: h.score for h in hits}
    return [_summary(p, scores[p.pk]) for p in load_practices(list(scores))]


def _apply(practice: Practice, payload: PracticeIn) -> list[dict[str, str]]:
    """Check the content as an import row and set the cleaned values (trimmed text, upper-case
    country, default language and licence): never the raw ones (an empty licence or language
    once reached the database and answered 500)."""
    data = payload.dict()
    for key in ("links", "contacts"):  # as before the schema listed their fields: no empty ones
        data[key] = [{k: v for k, v in item.items() if v} for item in data[key]]
    translations = data.pop("translations")
    clean, problems = clean_row({**data, "translations": translations, "ref": practice.ref})
    if problems:
        raise HttpError(422, "; ".join(problems))
    for key in data:
        setattr(practice, key, clean.get(key, data[key]))
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
def update_practice(
    request: HttpRequest, payload: PracticeIn, pk: int = PracticeId
) -> dict[str, Any]:
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
def submit_practice(request: HttpRequest, pk: int = PracticeId) -> dict[str, Any]:
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
