"""Access API: cameras post plate reads; control systems read lane states and decisions.

``POST /api/v1/access/requests`` is for ANPR cameras and keypads: a token with the scope
``access:request`` (owner: access operator), normally limited to the camera's lanes or zones
(``constraints: {"lanes": ["old-town-north-in"]}``, set on the Tokens page). The answer comes
after the decision (and, for a grant, its passage) is committed; the daemon lowers the barrier
from that record. A refused request answers 4xx with ``{"detail": "<one line>"}`` and stores
nothing: an unknown lane or another city's (404, the same answer), a lane outside the token's
limits (403), a malformed plate or time (422). A limited token reads only its lanes' states and
decisions and never commands (:mod:`rempart.core.access_rules`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer
from pydantic import StrictInt

from rempart.access import camera, evidence, services
from rempart.access.models import AccessDecision, Lane, Zone
from rempart.core.access_rules import fetch, reachable, require_scope
from rempart.core.api_auth import SessionAuth
from rempart.core.models import TOKEN_PREFIX

router = Router(tags=["access"])


class RequestIn(Schema):
    lane: str
    plate: str | None = None
    confidence: float | None = None
    read_at: str
    pin: str | None = None
    # strict: true is not a mass of 1 kg (the range is checked with the read, in one sentence)
    mass_kg: StrictInt | None = None
    # the camera's plate crop or context image: base64 JPEG/PNG (rempart.access.evidence)
    image: str | None = None


class DecisionOut(Schema):
    request_id: str
    decision: str
    reason_code: str
    reason: str


class ActionIn(Schema):
    reason: str
    # a supervisor's recorded exception to a lockdown (rempart.access.precedence)
    lockdown_exception: bool = False
    # open: the vehicle's plate, if known (an emergency permit's plate enters in lockdown)
    plate: str | None = None


class ModeIn(Schema):
    mode: str
    reason: str


def _lane_for(request: HttpRequest, lane_ident: str) -> Lane:
    """The lane, if the caller's cities and token limits reach it: 404 for another city's
    (as for none), 403 for a lane outside the token's lanes or zones (both audited)."""
    return fetch(
        request, Lane.objects.select_related("zone"), f"lane {lane_ident!r}", ident=lane_ident
    )


def _decision(request: HttpRequest, request_id: str) -> AccessDecision:
    return fetch(
        request,
        AccessDecision.objects.select_related("lane"),
        f"request {request_id!r}",
        request_id=_uuid(request_id),
    )


class CameraTokenAuth(HttpBearer):
    """A bearer credential shaped ``rmp_<key id>_<secret>``; checked with the read itself, in
    :func:`rempart.access.camera.decide_batch` (as in the camera gateway, rempart.access.wsgi)."""

    def authenticate(self, request: HttpRequest, token: str) -> str | None:
        return token if token.startswith(f"{TOKEN_PREFIX}_") and token.count("_") >= 2 else None


@router.post(
    "/requests",
    response={200: DecisionOut},
    summary="A plate read (or PIN) at a lane: decide, store, answer",
    auth=[CameraTokenAuth(), SessionAuth()],
)
def create_request(request: HttpRequest, body: RequestIn) -> dict[str, Any]:
    token = getattr(request, "auth", None)  # set by django-ninja from the auth that accepted
    image = _image(body.image)
    if isinstance(token, str):  # a camera's token: the batch path, with a batch of one
        read = camera.CameraRead(
            token=token,
            ip=request.META.get("REMOTE_ADDR", ""),
            lane=body.lane,
            plate=body.plate,
            confidence=body.confidence,
            read_at=body.read_at,
            pin=body.pin,
            mass_kg=body.mass_kg,
            received_at=timezone.now(),
        )
        (answer,) = camera.decide_batch([read])
        if answer.status != 200:
            raise HttpError(answer.status, answer.body["detail"])
        if image is not None:
            evidence.store(answer.body["request_id"], *image)
        return answer.body
    require_scope(request, "access:request")
    lane = _lane_for(request, body.lane)
    if body.plate is not None and body.confidence is None:
        raise HttpError(
            422, "confidence is required with a plate (0-1, as the ANPR engine reports)"
        )
    try:
        result = services.submit_request(
            lane.ident,
            plate=body.plate,
            confidence=body.confidence,
            read_at=services.parse_read_at(body.read_at),
            pin=body.pin,
            mass_kg=body.mass_kg,
            source=AccessDecision.Source.API,
            actor=request.user.get_username(),
            lane=lane,
        )
    except services.RequestError as exc:
        raise HttpError(exc.status, exc.message) from None
    if image is not None:
        evidence.store(result.decision.request_id.hex, *image)
    return result.answer()


def _image(text: str | None) -> tuple[bytes, str] | None:
    """The request's image checked before anything is decided (422 with one line)."""
    if text is None:
        return None
    try:
        return evidence.decode_image(text)
    except evidence.ImageInvalid as exc:
        raise HttpError(422, str(exc)) from None


@router.get("/lanes", summary="Every visible lane with its barriers' reported state")
def lanes(request: HttpRequest, zone: str | None = None) -> list[dict[str, Any]]:
    require_scope(request, "access:read")
    zones = services.visible_zones(request.user)
    if zone:
        zones = zones.filter(ident=zone)
    return reachable(request, services.lane_states(zones))  # a limited token: its lanes only


@router.get("/requests/{request_id}", summary="A stored decision")
def get_request(request: HttpRequest, request_id: str) -> dict[str, Any]:
    require_scope(request, "access:read")
    decision = _decision(request, request_id)
    passage = getattr(decision, "passage", None)
    return {
        **decision.as_answer(),
        "lane": decision.lane.ident,
        "plate": decision.plate,
        "received_at": decision.received_at.isoformat(),
        "passage": passage.state if passage is not None else None,
    }


def _uuid(text: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise HttpError(404, f"request {text!r} does not exist") from None


@router.post(
    "/lanes/{lane_id}/open",
    summary="Let one vehicle through (operator grant); 409 during a lockdown",
)
def open_lane(request: HttpRequest, lane_id: str, body: ActionIn) -> dict[str, Any]:
    require_scope(request, "access:command")
    lane = _lane_for(request, lane_id)
    try:
        return services.operator_open(
            lane,
            request.user,
            body.reason,
            lockdown_exception=body.lockdown_exception,
            plate=body.plate,
        ).answer()
    except services.ActionDenied as exc:
        raise HttpError(exc.status, str(exc)) from None


@router.post("/lanes/{lane_id}/close", summary="Close a lane now")
def close_lane(request: HttpRequest, lane_id: str, body: ActionIn) -> dict[str, Any]:
    require_scope(request, "access:command")
    lane = _lane_for(request, lane_id)
    try:
        return {"passages_closed": services.operator_close(lane, request.user, body.reason)}
    except services.ActionDenied as exc:
        raise HttpError(exc.status, str(exc)) from None


@router.post("/zones/{zone_id}/mode", summary="Set a zone's mode (lockdown needs a supervisor)")
def zone_mode(request: HttpRequest, zone_id: str, body: ModeIn) -> dict[str, Any]:
    require_scope(request, "access:command")
    zone = fetch(request, Zone.objects, f"zone {zone_id!r}", ident=zone_id)
    try:
        services.set_zone_mode(zone, body.mode, request.user, body.reason)
    except services.ActionDenied as exc:
        raise HttpError(exc.status, str(exc)) from None
    return {"zone": zone.ident, "mode": zone.mode}


# --- referred requests: an operator's answer --------------------------------------------------


class AnswerIn(Schema):
    grant: bool
    reason: str
    lockdown_exception: bool = False


@router.post(
    "/requests/{request_id}/answer",
    summary="Answer a referred request: grant (one vehicle through) or deny, with a reason",
)
def answer_request(request: HttpRequest, request_id: str, body: AnswerIn) -> dict[str, Any]:
    """The operator's answer is a new decision (source ``operator``) linked to the referral; a
    grant gets its passage as ``open_lane``'s does. 404 unknown request, 403 another city or a
    token not for this lane, 409 not referred or already answered or a grant during a
    lockdown (the sentence names who set it and when; ``lockdown_exception`` for a supervisor's
    recorded exception), 410 older than ``services.REFERRAL_WINDOW``, 422 no reason."""
    require_scope(request, "access:command")
    decision = _decision(request, request_id)
    try:
        result = services.answer_referral(
            decision,
            request.user,
            body.grant,
            body.reason,
            lockdown_exception=body.lockdown_exception,
        )
    except services.ActionDenied as exc:
        raise HttpError(exc.status, str(exc)) from None
    return {**result.answer(), "answers": decision.request_id.hex}
