"""Personal data past retention is deleted, and the purge is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from rempart.core.audit_models import AuditEntry
from rempart.core.retention import LOGIN_ATTEMPT_RETENTION_DAYS, purge

pytestmark = pytest.mark.django_db


def test_old_login_attempts_are_deleted_recent_ones_kept(client: Any, make_user: Any) -> None:
    make_user("viewer", username="bob")
    client.post(
        "/accounts/login/", {"username": "bob", "password": "wrong"}, REMOTE_ADDR="10.1.1.1"
    )
    client.post(
        "/accounts/login/", {"username": "eve", "password": "wrong"}, REMOTE_ADDR="10.1.1.2"
    )
    assert AccessAttempt.objects.count() == 2
    old = timezone.now() - dt.timedelta(days=LOGIN_ATTEMPT_RETENTION_DAYS + 1)
    AccessAttempt.objects.filter(username="eve").update(attempt_time=old)
    removed = purge()
    assert removed["login_attempts"] == 1
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["bob"]
    entry = AuditEntry.objects.get(action="retention_purge")
    assert entry.detail["removed"]["login_attempts"] == 1
