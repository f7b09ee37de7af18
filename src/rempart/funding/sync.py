"""``rempart funding sync``: the portal's current topics into :class:`~models.Call` rows.

A new topic gets the general eligibility rules of its programme (:data:`DEFAULT_RULES`); a
topic already present keeps the rules someone entered or imported for it (topic conditions such
as "3 police authorities" come from the call document, not from the portal), and its dates,
title and budget are refreshed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from rempart.core import audit
from rempart.funding.models import Call
from rempart.funding.portal import Portal, Topic, current

#: General rules per programme: Horizon Europe General Annexes B (3 independent entities from
#: 3 different Member States or Associated Countries, one in a Member State); ISF Union actions
#: (PROTECT 2022 call document: at least 2 applicants from 2 participating Member States).
DEFAULT_RULES = {
    "horizon": [
        {"kind": "eligible_countries", "countries": "MS+AC"},
        {"kind": "min_beneficiaries", "count": 3},
        {"kind": "min_countries", "count": 3},
        {"kind": "min_member_states", "count": 1},
    ],
    "isf": [
        {"kind": "eligible_countries", "countries": "ISF"},
        {"kind": "min_beneficiaries", "count": 2},
        {"kind": "min_countries", "count": 2},
    ],
    "other": [],
}


@dataclass(frozen=True)
class SyncSummary:
    found: int
    skipped_closed: int
    created: int
    updated: int
    requests: int


def sync(portal: Portal, queries: list[str], now: dt.datetime | None = None) -> SyncSummary:
    """Read every query's topics (and their details), keep those still open or forthcoming,
    then create or update their calls in one transaction."""
    now = now or timezone.now()
    found: dict[str, Topic] = {}
    for text in queries:
        for topic in portal.search(text):
            found.setdefault(topic.topic_id, topic)
    for topic in found.values():
        portal.details(topic)
    keep = current(list(found.values()), now)
    created = updated = 0
    with transaction.atomic():
        for topic in keep:
            values: dict[str, object] = {
                "programme": topic.programme,
                "call_id": topic.call_id,
                "title": topic.title,
                "opens_at": topic.opens_at,
                "deadline_at": topic.deadline_at,
                "action_type": topic.action_type,
                "url": topic.url,
                "source": "portal",
            }
            if topic.budget_eur is not None:
                values["budget_eur"] = topic.budget_eur
            call = Call.objects.filter(topic_id=topic.topic_id).first()
            if call is None:
                Call.objects.create(
                    topic_id=topic.topic_id, rules=DEFAULT_RULES[topic.programme], **values
                )
                created += 1
            else:
                for name, value in values.items():
                    setattr(call, name, value)
                call.save()
                updated += 1
        audit.record(
            "import",
            object_type="funding.call",
            object_repr=f"portal sync: {created} new, {updated} updated",
            detail={"queries": queries, "found": len(found)},
        )
    return SyncSummary(len(found), len(found) - len(keep), created, updated, portal.requests)
