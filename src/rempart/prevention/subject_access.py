"""Subject access (GDPR art. 15): everything held on a person, readable, as an encrypted
archive watermarked with who made it and when, deleted 30 days later (Primero's exports).

The archive is a ZIP of ``case.json`` (every record of the case, decrypted, and the audit
trail's entries about it: who read it, when and why, who changed what) and ``README.txt``
(the watermark and how to read it). The ZIP is encrypted with Fernet under a key derived by
scrypt (n=2**15, r=8, p=1; RFC 7914) from a passphrase generated for this export and shown
once to the coordinator, who gives it to the person by another channel. ``rempart prevention
open-export FILE`` decrypts it. The file lives in ``var/prevention_exports/``; the retention
job deletes it and its row after :data:`KEEP_DAYS`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import secrets
import zipfile
from pathlib import Path
from typing import IO, Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.utils import timezone

from rempart.core import audit
from rempart.core.audit_models import AuditEntry
from rempart.prevention.models import Case, SubjectExport

KEEP_DAYS = 30
MAGIC = b"RPSAR1"
SALT_BYTES = 16


def export_dir() -> Path:
    return Path(
        getattr(settings, "PREVENTION_EXPORT_DIR", "") or settings.VAR_DIR / "prevention_exports"
    )


def _key(passphrase: str, salt: bytes) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1)
    return base64.urlsafe_b64encode(kdf.derive(passphrase.encode("utf-8")))


def encrypt_archive(data: bytes, passphrase: str) -> bytes:
    salt = os.urandom(SALT_BYTES)
    return MAGIC + salt + Fernet(_key(passphrase, salt)).encrypt(data)


def decrypt_archive(blob: bytes, passphrase: str) -> bytes:
    if not blob.startswith(MAGIC):
        raise ValueError("not a rempart subject access archive (expected the RPSAR1 header)")
    salt = blob[len(MAGIC) : len(MAGIC) + SALT_BYTES]
    return Fernet(_key(passphrase, salt)).decrypt(blob[len(MAGIC) + SALT_BYTES :])


def _person(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def collect(case: Case) -> dict[str, Any]:
    """Every record held about the case's person, in plain words and values."""
    audit_rows = AuditEntry.objects.filter(
        Q(object_type="prevention.case", object_id=str(case.pk))
        | Q(object_repr__startswith=f"{case.reference}:")
    ).order_by("seq")
    return {
        "case": {
            "reference": case.reference,
            "status": case.get_status_display(),
            "name": case.person_name,
            "date_of_birth": case.birth_date,
            "age_band": case.get_age_band_display(),
            "referral": {
                "referred_by": case.referrer_name,
                "organisation": str(case.referrer_organisation or ""),
                "source": case.get_source_display(),
                "concern": case.concern,
                "referred_on": case.referred_on,
                "person_informed": case.person_informed,
                "person_informed_on": case.person_informed_on,
            },
            "screening": {
                "decision": case.get_screening_display(),
                "reasons": case.screening_reasons,
                "by": _person(case.screened_by),
                "at": case.screened_at,
            },
            "first_contact_on": case.first_contact_on,
            "lead": {
                "worker": _person(case.lead_worker),
                "organisation": str(case.lead_organisation),
            },
            "your_view": case.person_view,
            "family_view": case.family_view,
            "summary": case.summary,
            "closure": {
                "reason": case.get_closure_reason_display(),
                "outcome": case.closure_outcome,
                "closed_at": case.closed_at,
            },
            "restricted": case.restricted,
            "legal_hold": case.legal_hold,
        },
        "team": [
            {
                "person": _person(m.user),
                "organisation": str(m.organisation),
                "role": m.get_role_display(),
                "from": m.starts_at,
                "until": m.ends_at,
            }
            for m in case.team.all()
        ],
        "handovers": [
            {
                "from": _person(h.from_user),
                "to": _person(h.to_user),
                "to_organisation": str(h.to_organisation),
                "note": h.note,
                "at": h.at,
            }
            for h in case.handovers.all()
        ],
        "consents": [
            {
                "purpose": c.get_purpose_display(),
                "recipients": [str(o) for o in c.recipients.all()],
                "notice_version": c.notice_version,
                "given_on": c.given_on,
                "given_by": c.given_by_name,
                "parental": c.parental,
                "withdrawn_on": c.withdrawn_on,
                "override": c.override,
                "override_reason": c.override_reason,
                "recorded_by": _person(c.recorded_by),
            }
            for c in case.consents.all()
        ],
        "consultations": [
            {
                "held_on": c.held_on,
                "agencies": [str(o) for o in c.agencies.all()],
                "attendees": c.attendees,
                "minutes": c.minutes,
                "decisions": c.decisions,
            }
            for c in case.consultations.all()
        ],
        "support_plan": [
            {
                "kind": a.get_kind_display(),
                "description": a.description,
                "partner": str(a.partner),
                "owner": _person(a.owner),
                "due_on": a.due_on,
                "status": a.get_status_display(),
            }
            for a in case.actions.all()
        ],
        "reviews": [
            {
                "held_on": r.held_on,
                "significant_changes": r.significant_changes,
                "judgement": r.judgement,
                "by": _person(r.by),
                "factors": [
                    {
                        "factor": e.factor.name,
                        "view": e.get_presence_display(),
                        "evidence": e.evidence,
                    }
                    for e in r.evidence.all()
                ],
            }
            for r in case.reviews.all()
        ],
        "break_glass": [
            {"by": _person(b.user), "reason": b.reason, "from": b.granted_at, "until": b.expires_at}
            for b in case.break_glass.all()
        ],
        "rights_requests": [
            {"request": r.get_kind_display(), "received_on": r.received_on, "note": r.note}
            for r in case.rights_requests.all()
        ],
        "access_log": [
            {
                "at": e.at_utc,
                "who": e.actor,
                "action": e.action,
                "what": e.object_repr,
                "purpose": (e.detail or {}).get("purpose", ""),
            }
            for e in audit_rows
        ],
    }


def export(case: Case, user: Any, now: dt.datetime | None = None) -> tuple[SubjectExport, str]:
    """Write the encrypted archive; returns its row and the passphrase (shown once)."""
    now = now or timezone.now()
    passphrase = "-".join(secrets.token_hex(3) for _ in range(5))
    watermark = f"Exported by {user.get_username()} at {now.isoformat(timespec='seconds')}"
    content = collect(case)
    content["watermark"] = watermark
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "case.json", json.dumps(content, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        )
        archive.writestr(
            "README.txt",
            f"{watermark}\nCase {case.reference}: every record held by the prevention unit, "
            "and the log of who read or changed it (case.json).\n",
        )
    blob = encrypt_archive(buffer.getvalue(), passphrase)
    directory = export_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{case.reference}-{secrets.token_hex(8)}.rempart-sar"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(blob)
    row = SubjectExport.objects.create(
        city=case.city,
        case_reference=case.reference,
        path=str(path),
        sha256=hashlib.sha256(blob).hexdigest(),
        created_by=user,
        created_at=now,
        expires_at=now + dt.timedelta(days=KEEP_DAYS),
    )
    audit.record("export", obj=case, detail={"what": "subject access archive", "export": row.pk})
    return row, passphrase


def open_file(row: SubjectExport) -> IO[bytes]:
    return open(row.path, "rb")  # noqa: SIM115 (closed by the FileResponse)


def purge(now: dt.datetime) -> int:
    """Delete archives past their 30 days; returns how many."""
    done = 0
    for row in SubjectExport.objects.filter(expires_at__lte=now):
        Path(row.path).unlink(missing_ok=True)
        row.delete()
        done += 1
    return done
