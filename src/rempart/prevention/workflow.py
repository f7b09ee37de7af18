"""The case workflow: which step may follow which, who approves, and what each step records.

A plain transition table (:data:`TRANSITIONS`) rather than a state-machine library: seven
statuses and nine moves are easier to read and test as one dictionary than through
django-fsm-2's decorators, and each move here also writes the step's record in the same
transaction. An illegal move raises :class:`WorkflowError` with one line naming the case, its
status and what was expected; nothing is written.

Consent (Primero's referral rule): a case moves past *accepted* only with a recorded consent,
or an override by someone holding ``prevention.override_consent`` (coordinators) with its
justification. Withdrawing a consent stops every action that depended on it and alerts the
action's owner and the partner organisation's members on the team (:func:`withdraw_consent`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rempart.core import audit
from rempart.prevention.models import (
    Action,
    Alert,
    BreakGlass,
    Case,
    ClosureReason,
    Consent,
    Consultation,
    Handover,
    Review,
    Screening,
    Status,
    TeamMember,
)

S = Status

MOVE_LABELS = {
    "screen": _("screen the referral"),
    "consent": _("record consent"),
    "consult": _("hold a case consultation"),
    "approve_plan": _("approve the support plan"),
    "request_closure": _("ask for closure"),
    "approve_closure": _("approve the closure"),
    "reject_closure": _("send the closure back"),
    "reopen": _("reopen the case"),
}
PERMISSION_LABELS = {
    "approve_plan": _("approve a support plan"),
    "approve_closure": _("approve a closure"),
}

#: move -> (statuses it may start from, status it leads to; None: decided by the move)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "screen": ((S.REFERRED,), None),
    "consent": ((S.ACCEPTED,), S.CONSENTED),
    "consult": ((S.CONSENTED,), S.CONSULTED),
    "approve_plan": ((S.CONSULTED,), S.MONITORING),
    "request_closure": ((S.CONSULTED, S.MONITORING), S.CLOSURE_REQUESTED),
    "approve_closure": ((S.CLOSURE_REQUESTED,), S.CLOSED),
    "reject_closure": ((S.CLOSURE_REQUESTED,), None),
    "reopen": ((S.CLOSED,), None),
}


class WorkflowError(ValueError):
    """A move the case's status or the user's rights do not allow (one line)."""


def allowed_moves(case: Case) -> list[str]:
    return [move for move, (sources, _to) in TRANSITIONS.items() if case.status in sources]


def _require(case: Case, move: str) -> None:
    sources, _to = TRANSITIONS[move]
    if case.status not in sources:
        expected = ", ".join(str(Status(s).label) for s in sources)
        raise WorkflowError(
            _("case %(ref)s: cannot %(move)s while “%(status)s”; expected: %(expected)s")
            % {
                "ref": case.reference,
                "move": MOVE_LABELS[move],
                "status": case.get_status_display(),
                "expected": expected,
            }
        )


def _approver(user: Any, what: Any, permission: str) -> None:
    if not user.has_perm(f"prevention.{permission}"):
        raise WorkflowError(
            _("%(what)s needs a coordinator (the “%(permission)s” permission)")
            % {"what": what, "permission": PERMISSION_LABELS[permission]}
        )


def _text(value: str, what: Any) -> str:
    value = (value or "").strip()
    if not value:
        raise WorkflowError(_("%(what)s: expected a text, got nothing") % {"what": what})
    return value


def _set_status(case: Case, to: str, move: str) -> None:
    before = case.status
    case.status = to
    case.save()
    audit.record(
        "prevention_step",
        obj=case,
        detail={"move": move, "from": before, "to": to},
    )


@transaction.atomic
def refer(
    *,
    city: Any,
    user: Any,
    organisation: Any,
    person_name: str,
    age_band: str,
    source: str,
    concern: str,
    referrer_name: str,
    referred_on: dt.date,
    person_informed: bool,
    person_informed_on: dt.date | None = None,
    birth_date: str = "",
    referrer_organisation: Any = None,
    now: dt.datetime | None = None,
) -> Case:
    """Open a case from a referral; the person who records it leads it until a handover."""
    now = now or timezone.now()
    year = referred_on.year
    prefix = f"{city.slug[:3].upper()}-{year}-"
    last = Case.objects.filter(reference__startswith=prefix).order_by("-reference").first()
    number = int(last.reference.rsplit("-", 1)[1]) + 1 if last else 1
    case = Case.objects.create(
        city=city,
        reference=f"{prefix}{number:04d}",
        person_name=_text(person_name, _("name of the person")),
        birth_date=birth_date,
        age_band=age_band,
        source=source,
        concern=_text(concern, _("the concern")),
        referrer_name=_text(referrer_name, _("referred by")),
        referrer_organisation=referrer_organisation,
        referred_on=referred_on,
        person_informed=person_informed,
        person_informed_on=person_informed_on if person_informed else None,
        lead_worker=user,
        lead_organisation=organisation,
    )
    TeamMember.objects.create(
        case=case,
        user=user,
        organisation=organisation,
        role=TeamMember.Role.LEAD,
        starts_at=now,
        added_by=user,
    )
    return case


@transaction.atomic
def screen(case: Case, user: Any, decision: str, reasons: str) -> Case:
    """Record the screening decision; no further action or signposting closes the referral."""
    _require(case, "screen")
    if decision not in Screening.values:
        raise WorkflowError(
            _("screening decision “%(value)s”: expected one of %(choices)s")
            % {"value": decision, "choices": ", ".join(str(c.label) for c in Screening)}
        )
    case.screening = decision
    case.screening_reasons = _text(reasons, _("reasons for the screening decision"))
    case.screened_by = user
    case.screened_at = timezone.now()
    if decision == Screening.ACCEPT:
        _set_status(case, S.ACCEPTED, "screen")
    else:
        case.closure_reason = (
            ClosureReason.NO_FURTHER_ACTION
            if decision == Screening.NO_FURTHER_ACTION
            else ClosureReason.SIGNPOSTED
        )
        case.closed_at = timezone.now()
        case.status_before_closure = S.REFERRED
        _set_status(case, S.CLOSED, "screen")
    return case


@transaction.atomic
def record_consent(
    case: Case,
    user: Any,
    *,
    purpose: str,
    recipients: list[Any],
    notice_version: str,
    given_on: dt.date | None = None,
    given_by_name: str = "",
    parental: bool = False,
    override_reason: str = "",
) -> Consent:
    """Add a consent (or an override) to the ledger; the first one moves an accepted case on.

    A minor's consent must be a parent's; an override needs the permission and a reason.
    """
    if case.status == S.CLOSED:
        raise WorkflowError(
            _("case %(ref)s: closed; reopen it before recording consent") % {"ref": case.reference}
        )
    if case.status == S.REFERRED:
        raise WorkflowError(
            _("case %(ref)s: screen the referral before recording consent")
            % {"ref": case.reference}
        )
    override = given_on is None
    if override:
        if not user.has_perm("prevention.override_consent"):
            raise WorkflowError(
                _(
                    "an override without consent needs the “override consent” permission "
                    "(coordinators)"
                )
            )
        override_reason = _text(override_reason, _("justification of the override"))
    else:
        given_by_name = _text(given_by_name, _("who gave consent"))
        if case.is_minor and not parental:
            raise WorkflowError(
                _("case %(ref)s: the person is a minor; expected a parent's consent")
                % {"ref": case.reference}
            )
    consent = Consent.objects.create(
        case=case,
        purpose=purpose,
        notice_version=_text(notice_version, _("privacy notice version")),
        given_on=given_on,
        given_by_name=given_by_name,
        parental=parental,
        override=override,
        override_reason=override_reason if override else "",
        recorded_by=user,
    )
    consent.recipients.set(recipients)
    if case.status == S.ACCEPTED:
        _set_status(case, S.CONSENTED, "consent")
    return consent


def _consent_in_force(case: Case) -> bool:
    return any(c.active for c in case.consents.all())


@transaction.atomic
def withdraw_consent(consent: Consent, user: Any, on: dt.date) -> list[Action]:
    """Withdraw ``consent``: every open action depending on it stops; the actions' owners, the
    partner organisations' and the consent's recipients' team members and the lead worker are
    alerted. Returns the stopped actions."""
    if consent.withdrawn_on is not None:
        raise WorkflowError(
            _("case %(ref)s: this consent was already withdrawn on %(date)s")
            % {"ref": consent.case.reference, "date": consent.withdrawn_on.isoformat()}
        )
    consent.withdrawn_on = on
    consent.save()
    stopped = list(
        consent.actions.exclude(status__in=[Action.ActionStatus.DONE, Action.ActionStatus.STOPPED])
    )
    case = consent.case
    notify: set[Any] = set()
    for action in stopped:
        action.status = Action.ActionStatus.STOPPED
        action.stopped_reason = "consent_withdrawn"
        action.save()
        if action.owner_id:
            notify.add(action.owner_id)
        notify.update(
            TeamMember.objects.filter(case=case, organisation=action.partner).values_list(
                "user_id", flat=True
            )
        )
    notify.update(case.team.filter(role=TeamMember.Role.LEAD).values_list("user_id", flat=True))
    # the consent's recipients: the team members of the organisations it allowed sharing with
    notify.update(
        case.team.filter(organisation__in=consent.recipients.all()).values_list(
            "user_id", flat=True
        )
    )
    for user_id in notify:
        Alert.objects.create(
            user_id=user_id,
            case=case,
            case_reference=case.reference,
            kind=Alert.Kind.CONSENT_WITHDRAWN,
        )
    audit.record(
        "prevention_consent_withdrawn",
        obj=case,
        detail={"consent": consent.pk, "stopped_actions": [a.pk for a in stopped]},
    )
    return stopped


@transaction.atomic
def consult(
    case: Case,
    user: Any,
    *,
    held_on: dt.date,
    agencies: list[Any],
    attendees: str,
    minutes: str,
    decisions: str,
) -> Consultation:
    """Record a case consultation; the first one moves a consented case on."""
    if case.status in (S.REFERRED, S.ACCEPTED, S.CLOSED):
        raise WorkflowError(
            _(
                "case %(ref)s: cannot hold a consultation while “%(status)s”; expected "
                "consent recorded first and the case open"
            )
            % {"ref": case.reference, "status": case.get_status_display()}
        )
    if not agencies:
        raise WorkflowError(_("a case consultation: expected at least one agency"))
    consultation = Consultation.objects.create(
        case=case,
        held_on=held_on,
        attendees=_text(attendees, _("attendees")),
        minutes=_text(minutes, _("minutes")),
        decisions=_text(decisions, _("decisions")),
        recorded_by=user,
    )
    consultation.agencies.set(agencies)
    if case.status == S.CONSENTED:
        _set_status(case, S.CONSULTED, "consult")
    return consultation


@transaction.atomic
def add_action(
    case: Case,
    user: Any,
    *,
    kind: str,
    description: str,
    partner: Any,
    owner: Any,
    due_on: dt.date,
    consent: Consent | None = None,
    shared_with_partner: bool = True,
) -> Action:
    if case.status not in (S.CONSULTED, S.MONITORING):
        raise WorkflowError(
            _("case %(ref)s: support plan actions follow a case consultation; it is “%(status)s”")
            % {"ref": case.reference, "status": case.get_status_display()}
        )
    if consent is not None and (consent.case_id != case.pk or not consent.active):
        raise WorkflowError(
            _("case %(ref)s: the consent an action depends on must be this case's and in force")
            % {"ref": case.reference}
        )
    return Action.objects.create(
        case=case,
        kind=kind,
        description=_text(description, _("description of the action")),
        partner=partner,
        owner=owner,
        due_on=due_on,
        consent=consent,
        shared_with_partner=shared_with_partner,
    )


@transaction.atomic
def approve_plan(case: Case, user: Any) -> Case:
    _require(case, "approve_plan")
    _approver(user, _("approving a support plan"), "approve_plan")
    if not case.actions.exists():
        raise WorkflowError(
            _("case %(ref)s: the support plan has no action to approve") % {"ref": case.reference}
        )
    if not _consent_in_force(case):
        raise WorkflowError(
            _("case %(ref)s: no consent (or override) is in force") % {"ref": case.reference}
        )
    case.plan_approved_by = user
    case.plan_approved_at = timezone.now()
    _set_status(case, S.MONITORING, "approve_plan")
    return case


@transaction.atomic
def add_review(
    case: Case,
    user: Any,
    *,
    held_on: dt.date,
    significant_changes: str,
    judgement: str,
    evidence: dict[Any, tuple[str, str]],
) -> Review:
    """A review: significant changes since the last one, evidence and the professional's
    categorical view per factor, and their overall judgement in words (never computed)."""
    if case.status in (S.REFERRED, S.CLOSED):
        raise WorkflowError(
            _("case %(ref)s: reviews are for open, accepted cases; it is “%(status)s”")
            % {"ref": case.reference, "status": case.get_status_display()}
        )
    review = Review.objects.create(
        case=case,
        held_on=held_on,
        significant_changes=_text(
            significant_changes, _("significant changes since the last review")
        ),
        judgement=_text(judgement, _("overall professional judgement")),
        by=user,
    )
    for factor, (presence, text) in evidence.items():
        review.evidence.create(factor=factor, presence=presence, evidence=text)
    return review


@transaction.atomic
def request_closure(case: Case, user: Any, reason: str, outcome: str) -> Case:
    _require(case, "request_closure")
    if reason not in ClosureReason.values:
        raise WorkflowError(
            _("closure reason “%(value)s”: expected one of %(choices)s")
            % {"value": reason, "choices": ", ".join(str(c.label) for c in ClosureReason)}
        )
    case.closure_reason = reason
    case.closure_outcome = _text(outcome, _("outcome at closure"))
    case.closure_requested_by = user
    case.status_before_closure = case.status
    _set_status(case, S.CLOSURE_REQUESTED, "request_closure")
    return case


@transaction.atomic
def decide_closure(case: Case, user: Any, approve: bool, now: dt.datetime | None = None) -> Case:
    _require(case, "approve_closure" if approve else "reject_closure")
    _approver(user, _("deciding a closure"), "approve_closure")
    if approve:
        case.closure_approved_by = user
        case.closed_at = now or timezone.now()
        _set_status(case, S.CLOSED, "approve_closure")
    else:
        case.closure_reason = ""
        case.closure_outcome = ""
        _set_status(case, case.status_before_closure or S.MONITORING, "reject_closure")
    return case


@transaction.atomic
def reopen(case: Case, user: Any, reason: str) -> Case:
    """Reopen a closed case where it was closed from (a referral: back to screening)."""
    _require(case, "reopen")
    _approver(user, _("reopening a case"), "approve_closure")
    _text(reason, _("reason for reopening"))
    back = case.status_before_closure or S.REFERRED
    if back == S.REFERRED:
        case.screening = ""
    if back == S.CLOSURE_REQUESTED:
        back = S.MONITORING
    case.closed_at = None
    case.closure_reason = ""
    case.closure_approved_by = None
    _set_status(case, back, "reopen")
    audit.record("prevention_reopen", obj=case, detail={"to": back})
    return case


@transaction.atomic
def hand_over(case: Case, user: Any, to_user: Any, to_organisation: Any, note: str) -> Handover:
    """Hand the case to another worker and agency: the lead changes, the old lead stays a
    member, consent records stay with the case."""
    if case.status == S.CLOSED:
        raise WorkflowError(
            _("case %(ref)s: closed; reopen it before a handover") % {"ref": case.reference}
        )
    handover = Handover.objects.create(
        case=case,
        from_user=case.lead_worker,
        to_user=to_user,
        from_organisation=case.lead_organisation,
        to_organisation=to_organisation,
        note=note,
        by=user,
    )
    case.team.filter(role=TeamMember.Role.LEAD).update(role=TeamMember.Role.MEMBER)
    member = case.team.filter(user=to_user).first()
    if member is None:
        TeamMember.objects.create(
            case=case,
            user=to_user,
            organisation=to_organisation,
            role=TeamMember.Role.LEAD,
            starts_at=timezone.now(),
            added_by=user,
        )
    else:
        member.role = TeamMember.Role.LEAD
        member.ends_at = None
        member.save()
    case.lead_worker = to_user
    case.lead_organisation = to_organisation
    case.save()
    return handover


@transaction.atomic
def break_glass(
    case: Case, user: Any, reason: str, hours: float = 4, now: dt.datetime | None = None
) -> BreakGlass:
    """Emergency access for ``hours`` (at most 24) with a reason; every coordinator of the
    case's city is alerted."""
    from rempart.prevention.access import is_coordinator

    now = now or timezone.now()
    if not 0 < hours <= 24:
        raise WorkflowError(
            _("break-glass duration %(hours)s h: expected more than 0 and at most 24")
            % {"hours": hours}
        )
    grant = BreakGlass.objects.create(
        case=case,
        user=user,
        reason=_text(reason, _("reason for break-glass access")),
        granted_at=now,
        expires_at=now + dt.timedelta(hours=hours),
    )
    from django.contrib.auth import get_user_model

    candidates = (
        get_user_model()
        .objects.filter(
            groups__name__in=["prevention:supervisor", "prevention:admin"], is_active=True
        )
        .distinct()
    )
    for coordinator in candidates:
        if coordinator.pk != user.pk and is_coordinator(coordinator, case.city):
            Alert.objects.create(
                user=coordinator,
                case=case,
                case_reference=case.reference,
                kind=Alert.Kind.BREAK_GLASS,
            )
    audit.record(
        "prevention_break_glass",
        obj=case,
        detail={"expires_at": grant.expires_at.isoformat(), "hours": hours},
    )
    return grant
