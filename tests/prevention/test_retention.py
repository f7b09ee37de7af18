"""Retention: time-travel purges delete exactly what is due; a legal hold holds; minors' period."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rempart.core.audit_models import AuditEntry
from rempart.prevention import retention, workflow
from rempart.prevention.models import Case, Consultation, DeletionCertificate, Status
from tests.prevention.conftest import NAME, Unit, make_case

DAY = dt.timedelta(days=1)


def _closed_at(case: Case, when: dt.datetime) -> Case:
    Case.objects.filter(pk=case.pk).update(closed_at=when)
    case.refresh_from_db()
    return case


def _nfa(unit: Unit, *, minor: bool = False) -> Case:
    case = make_case(unit, minor=minor)
    workflow.screen(case, unit.worker, "nfa", "Not a radicalisation concern")
    return case


def test_nfa_referrals_go_after_three_years_to_the_day(unit: Unit) -> None:
    t0 = dt.datetime(2027, 1, 10, 12, tzinfo=dt.UTC)
    case = _closed_at(_nfa(unit), t0)
    just_before = t0 + dt.timedelta(days=1095) - dt.timedelta(seconds=1)
    assert retention.purge(just_before).get("nfa_adult") is None
    assert Case.objects.filter(pk=case.pk).exists()
    removed = retention.purge(t0 + dt.timedelta(days=1095))
    assert removed["nfa_adult"] == 1
    assert not Case.objects.filter(pk=case.pk).exists()


def test_minors_can_have_a_shorter_period_and_open_cases_stay(unit: Unit, monkeypatch: Any) -> None:
    monkeypatch.setenv("REMPART_PREVENTION_NFA_MINOR_DAYS", "365")
    t0 = dt.datetime(2027, 1, 10, tzinfo=dt.UTC)
    adult = _closed_at(_nfa(unit), t0)
    minor = _closed_at(_nfa(unit, minor=True), t0)
    open_case = make_case(unit, Status.MONITORING)
    removed = retention.purge(t0 + 400 * DAY)
    assert removed.get("nfa_minor") == 1 and "nfa_adult" not in removed
    assert set(Case.objects.values_list("pk", flat=True)) == {adult.pk, open_case.pk}
    assert not Case.objects.filter(pk=minor.pk).exists()


def test_closed_cases_follow_their_own_period_with_everything_attached(
    unit: Unit, monkeypatch: Any
) -> None:
    monkeypatch.setenv("REMPART_PREVENTION_CLOSED_DAYS", "2000")
    t0 = dt.datetime(2027, 6, 1, tzinfo=dt.UTC)
    case = _closed_at(make_case(unit, Status.CLOSED), t0)
    assert "closed_adult" not in retention.purge(t0 + 1500 * DAY)
    removed = retention.purge(t0 + 2000 * DAY)
    assert removed["closed_adult"] == 1
    assert not Consultation.objects.exists()  # the case's records went with it
    certificate = DeletionCertificate.objects.get()
    assert certificate.case_reference == case.reference and certificate.rule == "closed_adult"
    assert certificate.digest == retention.certificate_digest(
        case.reference, "closed_adult", t0, t0 + 2000 * DAY
    )
    entry = AuditEntry.objects.get(action="prevention_case_deleted")
    assert entry.detail["certificate"] == certificate.digest and NAME not in str(entry.detail)
    # only that a deletion happened: no entry per deleted row, with what it held
    assert not AuditEntry.objects.filter(
        action="delete", object_type__startswith="prevention."
    ).exists()


def test_a_legal_hold_holds(unit: Unit) -> None:
    t0 = dt.datetime(2027, 1, 10, tzinfo=dt.UTC)
    case = _closed_at(_nfa(unit), t0)
    case.legal_hold, case.legal_hold_reason = True, "Court order 2027/114"
    case.save()
    retention.purge(t0 + 5000 * DAY)
    assert Case.objects.filter(pk=case.pk).exists()


def test_the_daily_job_runs_the_prevention_purge(unit: Unit) -> None:
    from rempart.core.retention import purge

    t0 = dt.datetime(2027, 1, 10, tzinfo=dt.UTC)
    _closed_at(_nfa(unit), t0)
    removed = purge(t0 + 1100 * DAY)
    assert removed["prevention"]["nfa_adult"] == 1


def test_the_command_purges_as_of_a_date(unit: Unit, capsys: Any) -> None:
    t0 = dt.datetime(2027, 1, 10, tzinfo=dt.UTC)
    _closed_at(_nfa(unit), t0)
    from rempart.prevention.management.commands.prevention import Command

    def call_command(*args: str) -> None:
        Command().run_from_argv(["rempart", *args])

    call_command("prevention", "purge", "--now", "2030-01-10T00:00:00+00:00", "--dry-run")
    assert "nfa_adult" in capsys.readouterr().out and Case.objects.count() == 1
    call_command("prevention", "purge", "--now", "2030-01-10T00:00:00+00:00")
    assert Case.objects.count() == 0


def test_a_malformed_period_is_named(monkeypatch: Any, db: Any) -> None:
    from rempart.config import ConfigError

    monkeypatch.setenv("REMPART_PREVENTION_CLOSED_DAYS", "three years")
    with pytest.raises(ConfigError, match="REMPART_PREVENTION_CLOSED_DAYS"):
        retention.periods()
