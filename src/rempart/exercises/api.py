"""Exercises API: list and read exercises, their MSEL as players or controllers see it; MSEL
export and import (CSV or XLSX, all or nothing).

Scopes: ``exercises:read`` (viewer: players see only released injects) and ``exercises:write``
(editor: the whole MSEL, export, import). Another city's exercise answers 404, as for none.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.errors import HttpError

from rempart.core import audit
from rempart.core.access_rules import fetch, require_scope
from rempart.core.roles import has_role, user_cities
from rempart.exercises import io as msel_io
from rempart.exercises import msel
from rempart.exercises.models import Exercise

router = Router(tags=["exercises"])


class ExerciseOut(Schema):
    id: int
    city: str
    name: str
    kind: str
    site_id: int | None
    stage: str
    starts_at: str | None
    objectives: list[dict[str, Any]]


class InjectOut(Schema):
    number: int
    scenario_time_s: int | None
    sender: str
    recipient: str
    method: str
    subject: str
    message: str
    state: str
    expected_action: str | None = None


class ImportIn(Schema):
    name: str
    content_base64: str
    mapping: dict[str, str] = {}


class ImportOut(Schema):
    imported: int
    version: int


def _out(exercise: Exercise) -> dict[str, Any]:
    return {
        "id": exercise.pk,
        "city": exercise.city.slug,
        "name": exercise.name,
        "kind": exercise.kind,
        "site_id": exercise.site_id,
        "stage": exercise.stage,
        "starts_at": exercise.starts_at.isoformat() if exercise.starts_at else None,
        "objectives": [
            {"number": o.number, "text": o.text, "capability": o.capability}
            for o in exercise.objectives.all()
        ],
    }


def _exercise(request: HttpRequest, pk: int) -> Exercise:
    return fetch(request, Exercise.objects.select_related("city"), f"exercise {pk}", pk=pk)


@router.get("/", response=list[ExerciseOut], summary="Exercises of the cities you serve")
def list_exercises(request: HttpRequest, city: str = "") -> list[dict[str, Any]]:
    require_scope(request, "exercises:read")
    rows = Exercise.objects.filter(city__in=user_cities(request.user)).select_related("city")
    if city:
        rows = rows.filter(city__slug=city)
    return [_out(e) for e in rows.prefetch_related("objectives")]


@router.get("/{pk}", response=ExerciseOut, summary="One exercise")
def read_exercise(request: HttpRequest, pk: int) -> dict[str, Any]:
    require_scope(request, "exercises:read")
    return _out(_exercise(request, pk))


@router.get(
    "/{pk}/injects",
    response=list[InjectOut],
    summary="The injects you may see: released ones for players, the whole MSEL for editors",
)
def injects(request: HttpRequest, pk: int) -> list[dict[str, Any]]:
    require_scope(request, "exercises:read")
    exercise = _exercise(request, pk)
    token = getattr(request, "api_token", None)
    controller = has_role(request.user, "exercises", "editor") and (
        token is None or "exercises:write" in token.scopes
    )
    rows = []
    for i in msel.visible_injects(exercise, request.user, controller=controller):
        row = {
            "number": i.number,
            "scenario_time_s": i.scenario_time_s,
            "sender": i.sender,
            "recipient": i.recipient,
            "method": i.method,
            "subject": i.subject,
            "message": i.message,
            "state": i.state,
        }
        if controller:
            row["expected_action"] = i.expected_action
        rows.append(row)
    return rows


@router.get("/{pk}/msel", summary="Export the MSEL as CSV (format=csv) or XLSX (format=xlsx)")
def export_msel(request: HttpRequest, pk: int, format: str = "csv") -> HttpResponse:
    require_scope(request, "exercises:write")
    exercise = _exercise(request, pk)
    if format not in ("csv", "xlsx"):
        raise HttpError(400, f"format {format!r} is unknown; expected csv or xlsx")
    audit.record("export", obj=exercise, detail={"what": "msel", "format": format, "via": "api"})
    if format == "xlsx":
        return HttpResponse(
            msel_io.to_xlsx(exercise),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    return HttpResponse(msel_io.to_csv(exercise), content_type="text/csv; charset=utf-8")


@router.post("/{pk}/msel", response=ImportOut, summary="Replace the MSEL from a CSV or XLSX file")
def import_msel(request: HttpRequest, pk: int, payload: ImportIn) -> dict[str, Any]:
    require_scope(request, "exercises:write")
    exercise = _exercise(request, pk)
    try:
        data = base64.b64decode(payload.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise HttpError(400, "content_base64 is not base64; expected the file's bytes") from None
    try:
        count = msel_io.import_msel(
            exercise, payload.name, data, request.user, payload.mapping or None
        )
    except msel_io.ImportRefused as exc:
        raise HttpError(400, str(exc)) from None
    exercise.refresh_from_db()
    return {"imported": count, "version": exercise.msel_version}
