"""Privacy of plate reads (GDPR storage limitation and pseudonymisation, art. 5(1)(e), 4(5)).

Reads of vehicles **without a permit** are personal data the city needs only briefly:

* after ``REMPART_ACCESS_PSEUDONYMISE_AFTER_H`` hours (default 24) the plate is replaced by a
  keyed pseudonym -- HMAC-SHA256 of the normalised plate under a key derived from Django's
  ``SECRET_KEY`` (``django.utils.crypto.salted_hmac`` with a purpose-specific salt) -- in the
  plate column and in the decision's message. The same plate gives the same pseudonym, so
  repeated attempts by one vehicle stay visible to an investigator, but nobody can read the
  plate back without the key (and a 10^10-plate space is too large to search without it);
* after ``REMPART_ACCESS_READ_RETENTION_DAYS`` days (default 30) the decision is deleted.

A passage's copy of the plate (``Passage.plate``, kept so that a repeated read of the vehicle
joins its passage) is cleared at the first of these steps, whatever the permit, once the
passage is over.

The camera's images (plate crops, context: :mod:`rempart.access.evidence`) are deleted at the
first step too, whatever the permit: an image shows more than the plate.

Reads of permit holders are the record of the permit's use and are kept with the permit.

``rempart access purge`` runs :func:`run` (one audit entry per run); the daemon runs it once an
hour; ``rempart purge`` (the platform's purge) calls :func:`purge` and writes its own entry.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from rempart.core import audit

PSEUDONYM_PREFIX = "hmac:"
_SALT = "rempart.access.plate-pseudonym.v1"


def pseudonymise_after() -> dt.timedelta:
    return dt.timedelta(hours=float(os.environ.get("REMPART_ACCESS_PSEUDONYMISE_AFTER_H", "24")))


def retention() -> dt.timedelta:
    return dt.timedelta(days=float(os.environ.get("REMPART_ACCESS_READ_RETENTION_DAYS", "30")))


def pseudonym(plate: str) -> str:
    """``hmac:`` + the first 24 hex digits (96 bits) of HMAC-SHA256(key, plate)."""
    return PSEUDONYM_PREFIX + salted_hmac(_SALT, plate, algorithm="sha256").hexdigest()[:24]


def purge(now: dt.datetime | None = None) -> dict[str, Any]:
    """Pseudonymise and delete reads of vehicles without a permit; returns the counts.

    Writes no audit entry itself (callers write one summary entry per run).
    """
    from rempart.access import evidence
    from rempart.access.grants import JOINABLE_STATES
    from rempart.access.models import AccessDecision, Passage

    now = now or timezone.now()
    pseudo_before = now - pseudonymise_after()
    delete_before = now - retention()
    without_permit = AccessDecision.objects.filter(has_permit=False)
    with transaction.atomic():
        deleted = 0
        old = without_permit.filter(received_at__lt=delete_before).exclude(
            passage__state__in=Passage.ACTIVE
        )
        if old.exists():
            deleted = old.delete()[1].get("access.AccessDecision", 0)
        pseudonymised = 0
        rows = (
            without_permit.filter(received_at__lt=pseudo_before, pseudonymised_at__isnull=True)
            .exclude(plate="")
            .only("pk", "plate", "message")
        )
        for row in rows.iterator(chunk_size=1000):
            alias = pseudonym(row.plate)
            AccessDecision.objects.filter(pk=row.pk).update(
                plate=alias, message=row.message.replace(row.plate, alias), pseudonymised_at=now
            )
            pseudonymised += 1
        # reads without a plate (PIN, operator) only need the marker
        AccessDecision.objects.filter(
            has_permit=False, plate="", received_at__lt=pseudo_before, pseudonymised_at__isnull=True
        ).update(pseudonymised_at=now)
        # the camera's images: no longer than the plate in clear, permit or not (evidence.py)
        images = evidence.purge(pseudo_before)
        # a passage keeps its plate only while a repeated read may join it (grants.py)
        Passage.objects.filter(created_at__lt=pseudo_before, plate__isnull=False).exclude(
            state__in=JOINABLE_STATES
        ).update(plate=None)
    return {
        "plate_reads_pseudonymised": pseudonymised,
        "plate_reads_deleted": deleted,
        "camera_images_deleted": images,
        "pseudonymise_after_hours": pseudonymise_after().total_seconds() / 3600,
        "retention_days": retention().days,
    }


def run(now: dt.datetime | None = None) -> dict[str, Any]:
    """:func:`purge` plus one summary entry in the audit trail."""
    removed = purge(now)
    audit.record(
        "access_privacy_purge",
        object_type="access.decision",
        object_repr="plate reads of vehicles without a permit",
        detail=removed,
    )
    return removed
