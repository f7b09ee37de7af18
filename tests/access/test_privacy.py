"""GDPR: plate reads of vehicles without a permit are pseudonymised after 24 h and deleted after
the retention period; permit holders' reads are kept; every run is one audit entry."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from rempart.access import retention, services
from rempart.access.models import AccessDecision
from rempart.core.audit_models import AuditEntry
from rempart.core.audit_verify import verify_chain
from tests.access.test_models_fixtures import permits, zone  # noqa: F401

pytestmark = pytest.mark.django_db


def read(plate: str, hours_ago: float) -> AccessDecision:
    at = timezone.now() - dt.timedelta(hours=hours_ago)
    result = services.submit_request(
        "old-town-in", plate=plate, confidence=0.97, read_at=at, now=at
    )
    return AccessDecision.objects.get(pk=result.decision.pk)


def test_pseudonymise_after_24_h_delete_after_retention_audited(
    permits: Any,  # noqa: F811
) -> None:
    fresh = read("ZZ-111-AA", 2)
    day_old = read("ZZ-222-BB", 25)
    day_old_again = read("ZZ-222-BB", 26)
    month_old = read("ZZ-333-CC", 31 * 24)
    holder_old = read("EM-112-AA", 31 * 24)  # a permit holder: kept as the permit's record
    assert "ZZ222BB" in day_old.message

    removed = retention.run()

    assert removed["plate_reads_pseudonymised"] == 2
    assert removed["plate_reads_deleted"] == 1
    fresh.refresh_from_db()
    day_old.refresh_from_db()
    day_old_again.refresh_from_db()
    holder_old.refresh_from_db()
    assert fresh.plate == "ZZ111AA" and fresh.pseudonymised_at is None
    assert day_old.plate.startswith("hmac:") and "ZZ222BB" not in day_old.message
    assert day_old.plate in day_old.message
    assert day_old.plate == day_old_again.plate  # the same vehicle stays recognisable
    assert day_old.plate == retention.pseudonym("ZZ222BB") != retention.pseudonym("ZZ111AA")
    assert not AccessDecision.objects.filter(pk=month_old.pk).exists()
    assert holder_old.plate == "EM112AA"
    entry = AuditEntry.objects.get(action="access_privacy_purge")
    assert entry.detail["plate_reads_pseudonymised"] == 2
    assert entry.detail["plate_reads_deleted"] == 1
    call_command("audit", "checkpoint")  # the test's transaction never commits: sign by hand
    assert verify_chain().ok
    # a second run finds nothing more to do
    again = retention.run()
    assert (again["plate_reads_pseudonymised"], again["plate_reads_deleted"]) == (0, 0)
    assert AuditEntry.objects.filter(action="access_privacy_purge").count() == 2


def test_pseudonym_is_keyed_by_the_secret_key(settings: Any) -> None:
    first = retention.pseudonym("AB123CD")
    settings.SECRET_KEY = "another secret key of at least fifty characters....."
    assert retention.pseudonym("AB123CD") != first


def test_retention_is_configurable(permits: Any, monkeypatch: Any) -> None:  # noqa: F811
    week_old = read("ZZ-444-DD", 8 * 24)
    monkeypatch.setenv("REMPART_ACCESS_READ_RETENTION_DAYS", "7")
    assert retention.purge()["plate_reads_deleted"] == 1
    assert not AccessDecision.objects.filter(pk=week_old.pk).exists()


def test_the_platform_purge_includes_access(permits: Any) -> None:  # noqa: F811
    from rempart.core import retention as core_retention

    read("ZZ-555-EE", 30)
    removed = core_retention.purge()
    assert removed["access"]["plate_reads_pseudonymised"] == 1


def test_daemon_housekeeping_purges_and_summarises(permits: Any) -> None:  # noqa: F811
    from rempart.access.daemon import housekeeping

    read("ZZ-666-FF", 30)
    read("EM-112-AA", 0.1)
    result = housekeeping()
    assert result["purge"]["plate_reads_pseudonymised"] == 1
    summary = AuditEntry.objects.get(action="access_summary")
    assert summary.detail["outcomes"] == {"grant": 1}
