"""The case workflow: every step in order, illegal moves refused, approvals, consent rules."""

from __future__ import annotations

import datetime as dt

import pytest

from rempart.prevention import workflow
from rempart.prevention.models import Action, Alert, Consent, Status
from rempart.prevention.workflow import WorkflowError
from tests.prevention.conftest import Unit, make_case


def test_a_case_goes_from_referral_to_closure_and_reopens(unit: Unit) -> None:
    case = make_case(unit, Status.CLOSED)
    assert case.closed_at is not None and case.closure_approved_by == unit.coordinator
    workflow.reopen(case, unit.coordinator, "New concern reported by the school")
    assert case.status == Status.MONITORING and case.closed_at is None


@pytest.mark.parametrize(
    ("status", "move"),
    [
        (Status.REFERRED, lambda c, u: workflow.approve_plan(c, u.coordinator)),
        (Status.ACCEPTED, lambda c, u: workflow.screen(c, u.worker, "accept", "again")),
        (Status.CONSENTED, lambda c, u: workflow.request_closure(c, u.worker, "goals_met", "x")),
        (Status.CLOSED, lambda c, u: workflow.decide_closure(c, u.coordinator, approve=True)),
        (Status.MONITORING, lambda c, u: workflow.reopen(c, u.coordinator, "why")),
    ],
)
def test_illegal_moves_are_refused_and_change_nothing(
    unit: Unit, status: str, move: object
) -> None:
    case = make_case(unit, status)
    with pytest.raises(WorkflowError, match=case.reference):
        move(case, unit)  # type: ignore[operator]
    case.refresh_from_db()
    assert case.status == status


def test_a_consultation_needs_consent_first(unit: Unit) -> None:
    case = make_case(unit, Status.ACCEPTED)
    with pytest.raises(WorkflowError, match="consent recorded first"):
        workflow.consult(
            case,
            unit.worker,
            held_on=dt.date(2026, 3, 5),
            agencies=[unit.unit_org],
            attendees="a",
            minutes="m",
            decisions="d",
        )


def test_approvals_need_a_coordinator(unit: Unit) -> None:
    case = make_case(unit, Status.CLOSURE_REQUESTED)
    with pytest.raises(WorkflowError, match="coordinator"):
        workflow.decide_closure(case, unit.worker, approve=True)
    workflow.decide_closure(case, unit.coordinator, approve=False)
    assert case.status == Status.MONITORING


def test_screening_out_closes_the_referral(unit: Unit) -> None:
    case = make_case(unit)
    workflow.screen(case, unit.worker, "nfa", "Concern about a school fight, not radicalisation")
    assert case.status == Status.CLOSED and case.closure_reason == "nfa"
    workflow.reopen(case, unit.coordinator, "Mistaken screening")
    assert case.status == Status.REFERRED


def test_consent_override_needs_the_permission_and_a_reason(unit: Unit) -> None:
    case = make_case(unit, Status.ACCEPTED)
    kwargs = {"purpose": "share", "recipients": [unit.school], "notice_version": "2026-01"}
    with pytest.raises(WorkflowError, match="override consent"):
        workflow.record_consent(case, unit.worker, override_reason="urgent", **kwargs)
    with pytest.raises(WorkflowError, match="justification"):
        workflow.record_consent(case, unit.coordinator, override_reason=" ", **kwargs)
    consent = workflow.record_consent(
        case, unit.coordinator, override_reason="Imminent risk to others", **kwargs
    )
    assert consent.override and consent.active and consent.recorded_by == unit.coordinator
    assert case.status == Status.CONSENTED


def test_a_minor_needs_parental_consent(unit: Unit) -> None:
    case = make_case(unit, Status.ACCEPTED, minor=True)
    with pytest.raises(WorkflowError, match="minor"):
        workflow.record_consent(
            case,
            unit.worker,
            purpose="share",
            recipients=[],
            notice_version="2026-01",
            given_on=dt.date(2026, 3, 4),
            given_by_name="The young person",
        )


def test_withdrawal_stops_dependent_actions_and_notifies(unit: Unit) -> None:
    case = make_case(unit, Status.MONITORING)
    independent = workflow.add_action(
        case,
        unit.worker,
        kind="housing",
        description="Housing application",
        partner=unit.unit_org,
        owner=unit.worker,
        due_on=dt.date(2026, 7, 1),
    )
    consent = case.consents.get()
    stopped = workflow.withdraw_consent(consent, unit.worker, dt.date(2026, 4, 1))
    dependent = case.actions.get(kind="mentoring")
    assert [a.pk for a in stopped] == [dependent.pk]
    dependent.refresh_from_db()
    independent.refresh_from_db()
    assert dependent.status == Action.ActionStatus.STOPPED
    assert independent.status == Action.ActionStatus.PLANNED
    alerted = set(Alert.objects.filter(kind="consent_withdrawn").values_list("user", flat=True))
    assert alerted == {unit.partner.pk, unit.worker.pk}
    with pytest.raises(WorkflowError, match="already withdrawn"):
        workflow.withdraw_consent(Consent.objects.get(pk=consent.pk), unit.worker, dt.date.today())


def test_handover_moves_the_lead_and_keeps_consent(unit: Unit) -> None:
    case = make_case(unit, Status.CONSULTED)
    workflow.hand_over(case, unit.worker, unit.bystander, unit.unit_org, "Worker on leave")
    case.refresh_from_db()
    assert case.lead_worker == unit.bystander
    assert case.team.get(user=unit.bystander).role == "lead"
    assert case.team.get(user=unit.worker).role == "member"
    assert case.consents.count() == 1 and case.handovers.count() == 1
