"""Funding API (read): calls with their rules, and a consortium's eligibility per call.

Scope ``funding:read`` (viewer). A consortium of another city answers 404, as one that does not
exist (audited).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from rempart.core.access_rules import fetch, require_scope
from rempart.funding.eligibility import check
from rempart.funding.models import Call, Consortium
from rempart.funding.views import call_status

router = Router(tags=["funding"])


class CallOut(Schema):
    id: int
    programme: str
    call_id: str
    topic_id: str
    title: str
    status: str
    opens_at: dt.datetime | None
    deadline_at: dt.datetime | None
    budget_eur: str | None
    rules: list[dict[str, Any]]


class FailureOut(Schema):
    rule: str
    found: int
    needed: int
    sentence: str


class EligibilityOut(Schema):
    topic_id: str
    eligible: bool
    failures: list[FailureOut]


@router.get("/calls", response=list[CallOut], summary="Calls with their eligibility rules")
def calls(request: HttpRequest) -> list[dict[str, Any]]:
    require_scope(request, "funding:read")
    now = timezone.now()
    return [
        {
            "id": call.pk,
            "programme": call.programme,
            "call_id": call.call_id,
            "topic_id": call.topic_id,
            "title": call.title,
            "status": call_status(call, now),
            "opens_at": call.opens_at,
            "deadline_at": call.deadline_at,
            "budget_eur": str(call.budget_eur) if call.budget_eur is not None else None,
            "rules": call.rules,
        }
        for call in Call.objects.all()[:1000]
    ]


@router.get(
    "/consortia/{pk}/eligibility",
    response=list[EligibilityOut],
    summary="Which calls a consortium is eligible for, and every rule it fails",
)
def eligibility(request: HttpRequest, pk: int) -> list[dict[str, Any]]:
    require_scope(request, "funding:read")
    consortium = fetch(request, Consortium.objects.all(), "consortium", pk=pk)
    members = consortium.members_for_check()
    out = []
    for call in Call.objects.all()[:1000]:
        failures = check(members, call.rules)
        out.append(
            {
                "topic_id": call.topic_id,
                "eligible": not failures,
                "failures": [
                    {"rule": f.kind, "found": f.found, "needed": f.needed, "sentence": f.sentence}
                    for f in failures
                ],
            }
        )
    return out
