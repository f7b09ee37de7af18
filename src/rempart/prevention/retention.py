"""Deletion on schedule of the unit's cases (issue 14, item 5), run daily by ``rempart purge``
(the core's retention job finds this module's ``purge(now)``) or ``rempart prevention purge``.

* Referrals closed at screening (no further action, signposted): deleted
  ``REMPART_PREVENTION_NFA_DAYS`` after closure (default 1,095 days, three years: the 2023
  independent review of Prevent, against the six years criticised), or
  ``REMPART_PREVENTION_NFA_MINOR_DAYS`` for a person referred as a minor (default the same;
  set it shorter to treat children apart).
* Other closed cases: ``REMPART_PREVENTION_CLOSED_DAYS`` (default 1,095) and
  ``REMPART_PREVENTION_CLOSED_MINOR_DAYS`` (default the same).
* A case under legal hold is never deleted; a reopened case is not closed.
* Subject access archives: 30 days (:mod:`.subject_access`).

Each deleted case leaves a :class:`~.models.DeletionCertificate` (reference, rule, dates and a
SHA-256 digest over them; no personal data) and one audit entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.db import transaction

from rempart import config
from rempart.core import audit
from rempart.prevention import subject_access
from rempart.prevention.models import AgeBand, Case, ClosureReason, DeletionCertificate, Status

DAYS_3Y = 1095


def periods() -> dict[str, int]:
    """Retention in days per rule, from the environment (one-line error if malformed)."""
    nfa = config.positive_int("REMPART_PREVENTION_NFA_DAYS", DAYS_3Y)
    closed = config.positive_int("REMPART_PREVENTION_CLOSED_DAYS", DAYS_3Y)
    return {
        "nfa_adult": nfa,
        "nfa_minor": config.positive_int("REMPART_PREVENTION_NFA_MINOR_DAYS", nfa),
        "closed_adult": closed,
        "closed_minor": config.positive_int("REMPART_PREVENTION_CLOSED_MINOR_DAYS", closed),
    }


def _rule(case: Case) -> str:
    screened_out = case.closure_reason in (
        ClosureReason.NO_FURTHER_ACTION,
        ClosureReason.SIGNPOSTED,
    )
    minor = case.age_band in AgeBand.minors()
    return f"{'nfa' if screened_out else 'closed'}_{'minor' if minor else 'adult'}"


def due(now: dt.datetime) -> list[tuple[Case, str]]:
    """Closed cases whose period has run out, without a legal hold, with their rule."""
    days = periods()
    shortest = min(days.values())
    rows = Case.objects.filter(
        status=Status.CLOSED,
        legal_hold=False,
        closed_at__lte=now - dt.timedelta(days=shortest),
    ).select_related("city")
    result = []
    for case in rows:
        rule = _rule(case)
        assert case.closed_at is not None
        if case.closed_at <= now - dt.timedelta(days=days[rule]):
            result.append((case, rule))
    return result


def certificate_digest(reference: str, rule: str, closed_at: Any, deleted_at: dt.datetime) -> str:
    text = (
        f"{reference}|{rule}|{closed_at.isoformat() if closed_at else ''}|{deleted_at.isoformat()}"
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def erase(case: Case) -> None:
    """Delete a case and every record of it without a per-row audit entry: the job records
    only that a deletion happened (the certificate), not what each deleted row held.

    Raw deletes (no signals), children first; alerts keep their reference and lose the link.
    """
    from rempart.prevention import models as m

    Alert = m.Alert  # noqa: N806
    Alert.objects.filter(case=case).update(case=None)
    steps: list[Any] = [
        m.FactorEvidence.objects.filter(review__case=case),
        m.Review.objects.filter(case=case),
        m.Action.objects.filter(case=case),
        m.Consent.recipients.through.objects.filter(consent__case=case),
        m.Consent.objects.filter(case=case),
        m.Consultation.agencies.through.objects.filter(consultation__case=case),
        m.Consultation.objects.filter(case=case),
        m.TeamMember.objects.filter(case=case),
        m.Handover.objects.filter(case=case),
        m.BreakGlass.objects.filter(case=case),
        m.RightsRequest.objects.filter(case=case),
        m.Case.objects.filter(pk=case.pk),
    ]
    for rows in steps:
        rows._raw_delete(rows.db)


def purge(now: dt.datetime) -> dict[str, Any]:
    """Delete what is due; returns counts per rule and of archives."""
    removed: dict[str, Any] = {}
    for case, rule in due(now):
        with transaction.atomic():
            digest = certificate_digest(case.reference, rule, case.closed_at, now)
            DeletionCertificate.objects.create(
                city=case.city,
                case_reference=case.reference,
                rule=rule,
                closed_at=case.closed_at,
                deleted_at=now,
                digest=digest,
            )
            reference, city = case.reference, case.city
            erase(case)
            audit.record(
                "prevention_case_deleted",
                object_type="prevention.case",
                object_repr=reference,
                city=city,
                detail={"rule": rule, "certificate": digest},
            )
        removed[rule] = removed.get(rule, 0) + 1
    removed["subject_access_archives"] = subject_access.purge(now)
    return removed
