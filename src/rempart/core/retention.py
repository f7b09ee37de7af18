"""Delete personal data that is no longer needed, on schedule (GDPR storage limitation).

Core keeps two kinds: login attempts recorded by django-axes (username, address, browser) and
expired sessions. Modules add theirs with ``rempart.<module>.retention.purge(now) -> dict``
(e.g. the access module pseudonymises and deletes plate reads of vehicles without a permit).
Each run writes one summary entry to the audit trail.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from django.contrib.sessions.models import Session
from django.utils import timezone

from rempart.core import audit
from rempart.core.plugins import plugins

LOGIN_ATTEMPT_RETENTION_DAYS = int(os.environ.get("REMPART_LOGIN_ATTEMPT_RETENTION_DAYS", "30"))


def purge(now: dt.datetime | None = None) -> dict[str, Any]:
    """Run every purge; returns what was removed per kind."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    now = now or timezone.now()
    limit = now - dt.timedelta(days=LOGIN_ATTEMPT_RETENTION_DAYS)
    removed: dict[str, Any] = {
        "login_attempts": AccessAttempt.objects.filter(attempt_time__lt=limit).delete()[0],
        "login_failures": AccessFailureLog.objects.filter(attempt_time__lt=limit).delete()[0],
        "login_logs": AccessLog.objects.filter(attempt_time__lt=limit).delete()[0],
        "expired_sessions": Session.objects.filter(expire_date__lt=now).delete()[0],
    }
    for label, module in plugins("retention"):
        removed[label] = module.purge(now)
    audit.record(
        "retention_purge",
        object_type="personal_data",
        object_repr="scheduled purge",
        detail={"removed": removed, "login_attempt_retention_days": LOGIN_ATTEMPT_RETENTION_DAYS},
    )
    return removed
