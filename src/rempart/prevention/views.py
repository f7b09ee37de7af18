"""Pages of the prevention and support unit, mounted at /prevention/.

Every view is wrapped in ``role_required("prevention", ...)`` (anonymous → login, wrong role →
403, audited), asks for the second factor where casework starts (:mod:`.two_factor`), and
reaches a case only through :func:`rempart.core.access_rules.fetch` with a need-to-know
predicate of :mod:`.access`: a case the caller may not know of answers the 404 of a case that
does not exist, audited. Every read of a case is written to the audit trail with its purpose;
every change by the core's signals (personal fields redacted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rempart.core import audit
from rempart.core.access_rules import fetch
from rempart.core.permissions import role_required
from rempart.core.views import required_city
from rempart.prevention import access, forms, statistics, subject_access, workflow
from rempart.prevention.models import (
    Action,
    Alert,
    Case,
    Consent,
    Factor,
    RightsRequest,
    SubjectExport,
    TeamMember,
)
from rempart.prevention.two_factor import require_second_factor
from rempart.prevention.workflow import WorkflowError

M = "prevention"


def _me(request: HttpRequest) -> Any:
    """The signed-in user (every view here is behind ``role_required``)."""
    return request.user


def _case(request: HttpRequest, pk: int, visible: Callable[[Any, Any], bool]) -> Case:
    return fetch(request, Case.objects.all(), f"case {pk}", visible=visible, pk=pk)


def _refused(request: HttpRequest, case: Case | None, message: str) -> HttpResponse:
    return render(
        request, "prevention/refused.html", {"case": case, "message": message}, status=400
    )


# --- lists ------------------------------------------------------------------------------------


@role_required(M, "viewer")
def index(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    user = _me(request)
    cases = access.my_cases(user, city).select_related("lead_organisation")
    organisation = getattr(getattr(user, "profile", None), "organisation_id", None)
    partner_of = [
        member.case
        for member in TeamMember.objects.filter(
            user=user, role=TeamMember.Role.PARTNER, case__city=city
        ).select_related("case")
        if access.level(user, member.case) == access.PARTNER
    ]
    # only the actions assigned to the partner's own organisation, on cases still open to them
    partner_actions = Action.objects.filter(
        case__in=partner_of, partner_id=organisation
    ).select_related("case", "partner")
    alerts = Alert.objects.filter(user=user, read_at__isnull=True).order_by("-created_at")[:20]
    return render(
        request,
        "prevention/index.html",
        {
            "city": city,
            "cases": cases,
            "partner_actions": partner_actions,
            "alerts": alerts,
            "coordinator": access.is_coordinator(user, city),
        },
    )


@role_required(M, "viewer")
@require_POST
def alerts_read(request: HttpRequest) -> HttpResponse:
    """Mark the user's own alerts as read (they name cases by reference only)."""
    Alert.objects.filter(user=_me(request), read_at__isnull=True).update(read_at=timezone.now())
    return redirect("prevention:index")


@role_required(M, "editor")
@require_second_factor
@require_http_methods(["GET", "POST"])
def refer(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    form = forms.ReferralForm(request.POST or None, city=city)
    if request.method == "POST":
        organisation = getattr(getattr(_me(request), "profile", None), "organisation", None)
        if not form.is_valid() or organisation is None:
            return render(request, "prevention/refer.html", {"form": form}, status=400)
        data = form.cleaned_data
        try:
            case = workflow.refer(city=city, user=_me(request), organisation=organisation, **data)
        except WorkflowError as error:
            return _refused(request, None, str(error))
        messages.success(request, _("Referral %(ref)s recorded.") % {"ref": case.reference})
        return redirect("prevention:case", pk=case.pk)
    return render(request, "prevention/refer.html", {"form": form})


# --- one case ---------------------------------------------------------------------------------


@role_required(M, "viewer")
@require_second_factor
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk, access.sees_any)
    level = access.level(_me(request), case)
    purpose = request.GET.get("purpose", "casework")
    if purpose not in forms.Purpose.VALUES:
        purpose = "casework"
    audit.record(
        "prevention_case_read",
        obj=case,
        detail={"purpose": purpose, "access": level},
    )
    context: dict[str, Any] = {"case": case, "level": level, "purpose": purpose}
    agencies = sorted({m.organisation.name for m in case.team.select_related("organisation")})
    context["agencies"] = agencies
    if level == access.LOCKED:
        context["glass_form"] = forms.BreakGlassForm()
        return render(request, "prevention/case_locked.html", context)
    if level == access.PARTNER:
        org = _me(request).profile.organisation  # type: ignore[union-attr]
        context["actions"] = case.actions.filter(partner=org)
        context["status_form"] = forms.ActionStatusForm
        return render(request, "prevention/case_partner.html", context)
    factors = Factor.objects.filter(city=case.city, active=True)
    context.update(
        {
            "team": case.team.select_related("user", "organisation"),
            "consents": case.consents.prefetch_related("recipients"),
            "consultations": case.consultations.prefetch_related("agencies"),
            "actions": case.actions.select_related("partner", "owner", "consent"),
            "reviews": case.reviews.prefetch_related("evidence__factor"),
            "handovers": case.handovers.select_related(
                "from_user", "to_user", "from_organisation", "to_organisation"
            ),
            "rights": case.rights_requests.all(),
            "moves": workflow.allowed_moves(case),
            "coordinator": access.is_coordinator(_me(request), case.city),
            "forms": {
                "screen": forms.ScreenForm(),
                "consent": forms.ConsentForm(city=case.city),
                "consult": forms.ConsultationForm(city=case.city),
                "action": forms.ActionForm(case=case),
                "review": forms.ReviewForm(factors=factors),
                "closure": forms.ClosureForm(),
                "decide": forms.DecideForm(),
                "reason": forms.ReasonForm(),
                "handover": forms.HandoverForm(city=case.city),
                "team": forms.TeamForm(city=case.city),
                "views": forms.ViewsForm(
                    initial={
                        "person_view": case.person_view,
                        "family_view": case.family_view,
                        "summary": case.summary,
                    }
                ),
                "hold": forms.LegalHoldForm(initial={"hold": case.legal_hold}),
                "rights": forms.RightsForm(),
            },
        }
    )
    return render(request, "prevention/case.html", context)


# --- steps: one POST each ---------------------------------------------------------------------


def _screen(request: HttpRequest, case: Case) -> None:
    form = _valid(forms.ScreenForm(request.POST))
    if form.cleaned_data["first_contact_on"]:
        case.first_contact_on = form.cleaned_data["first_contact_on"]
    workflow.screen(case, _me(request), form.cleaned_data["decision"], form.cleaned_data["reasons"])


def _consent(request: HttpRequest, case: Case) -> None:
    data = _valid(forms.ConsentForm(request.POST, city=case.city)).cleaned_data
    workflow.record_consent(
        case,
        _me(request),
        purpose=data["purpose"],
        recipients=list(data["recipients"]),
        notice_version=data["notice_version"],
        given_on=data["given_on"],
        given_by_name=data["given_by_name"],
        parental=data["parental"],
        override_reason=data["override_reason"],
    )


def _withdraw(request: HttpRequest, case: Case) -> None:
    data = _valid(forms.WithdrawForm(request.POST)).cleaned_data
    consent = Consent.objects.filter(case=case, pk=data["consent"]).first()
    if consent is None:
        raise WorkflowError(
            _("consent %(id)s: not a consent of case %(ref)s")
            % {"id": data["consent"], "ref": case.reference}
        )
    workflow.withdraw_consent(consent, _me(request), data["withdrawn_on"])


def _consult(request: HttpRequest, case: Case) -> None:
    data = _valid(forms.ConsultationForm(request.POST, city=case.city)).cleaned_data
    data["agencies"] = list(data["agencies"])
    workflow.consult(case, _me(request), **data)


def _action(request: HttpRequest, case: Case) -> None:
    data = _valid(forms.ActionForm(request.POST, case=case)).cleaned_data
    workflow.add_action(case, _me(request), **data)


def _action_status(request: HttpRequest, case: Case) -> None:
    data = _valid(forms.ActionStatusForm(request.POST)).cleaned_data
    rows = case.actions.all()
    if access.level(_me(request), case) == access.PARTNER:
        rows = rows.filter(partner=_me(request).profile.organisation)  # type: ignore[union-attr]
    action = rows.filter(pk=data["action"]).first()
    if action is None:
        raise WorkflowError(
            _("action %(id)s: not an action of yours on this case") % {"id": data["action"]}
        )
    if action.status == Action.ActionStatus.STOPPED:
        raise WorkflowError(
            _("action %(id)s: stopped (consent withdrawn); a new one is needed") % {"id": action.pk}
        )
    action.status = data["status"]
    action.save()


def _approve_plan(request: HttpRequest, case: Case) -> None:
    workflow.approve_plan(case, _me(request))


def _review(request: HttpRequest, case: Case) -> None:
    factors = Factor.objects.filter(city=case.city, active=True)
    form = _valid(forms.ReviewForm(request.POST, factors=factors))
    workflow.add_review(
        case,
        _me(request),
        held_on=form.cleaned_data["held_on"],
        significant_changes=form.cleaned_data["significant_changes"],
        judgement=form.cleaned_data["judgement"],
        evidence=form.evidence(),
    )


def _request_closure(request: HttpRequest, case: Case) -> None:
    data = _valid(forms.ClosureForm(request.POST)).cleaned_data
    workflow.request_closure(case, _me(request), data["reason"], data["outcome"])


def _decide_closure(request: HttpRequest, case: Case) -> None:
    data = _valid(forms.DecideForm(request.POST)).cleaned_data
    workflow.decide_closure(case, _me(request), approve=data["approve"])


def _reopen(request: HttpRequest, case: Case) -> None:
    workflow.reopen(
        case, _me(request), _valid(forms.ReasonForm(request.POST)).cleaned_data["reason"]
    )


def _handover(request: HttpRequest, case: Case) -> None:
    data = _valid(forms.HandoverForm(request.POST, city=case.city)).cleaned_data
    workflow.hand_over(case, _me(request), data["to_user"], data["to_organisation"], data["note"])


def _team(request: HttpRequest, case: Case) -> None:
    data = _valid(forms.TeamForm(request.POST, city=case.city)).cleaned_data
    TeamMember.objects.create(
        case=case,
        user=data["to_user"],
        organisation=data["to_organisation"],
        role=data["role"],
        starts_at=timezone.now(),
        ends_at=data["ends_at"],
        added_by=_me(request),
    )


def _views(request: HttpRequest, case: Case) -> None:
    data = _valid(forms.ViewsForm(request.POST)).cleaned_data
    case.person_view, case.family_view, case.summary = (
        data["person_view"],
        data["family_view"],
        data["summary"],
    )
    case.save()


def _legal_hold(request: HttpRequest, case: Case) -> None:
    data = _valid(forms.LegalHoldForm(request.POST)).cleaned_data
    if data["hold"] and not data["reason"].strip():
        raise WorkflowError(_("a legal hold: expected its reason"))
    case.legal_hold = data["hold"]
    case.legal_hold_reason = data["reason"] if data["hold"] else ""
    case.save()


def _rights(request: HttpRequest, case: Case) -> None:
    data = _valid(forms.RightsForm(request.POST)).cleaned_data
    RightsRequest.objects.create(
        case=case,
        kind=data["kind"],
        received_on=data["received_on"],
        note=data["note"],
        by=_me(request),
    )
    if data["lift_restriction"]:
        case.restricted = False
        case.save()
    elif data["restrict"] or data["kind"] == RightsRequest.Kind.RESTRICTION:
        case.restricted = True
        case.save()
    audit.record("prevention_rights_request", obj=case, detail={"kind": data["kind"]})


class _Invalid(Exception):
    def __init__(self, form: Any) -> None:
        self.form = form
        errors = "; ".join(
            f"{form.fields[name].label if name in form.fields else name}: {' '.join(errs)}"
            for name, errs in form.errors.items()
        )
        super().__init__(errors)


def _valid(form: Any) -> Any:
    if not form.is_valid():
        raise _Invalid(form)
    return form


#: move -> (role needed, who of the case may do it, handler)
STEPS: dict[str, tuple[str, Callable[[Any, Any], bool], Callable[[HttpRequest, Case], None]]] = {
    "screen": ("editor", access.sees_full, _screen),
    "consent": ("editor", access.sees_full, _consent),
    "withdraw": ("editor", access.sees_full, _withdraw),
    "consult": ("editor", access.sees_full, _consult),
    "action": ("editor", access.sees_full, _action),
    "action_status": ("viewer", access.sees_partner_or_full, _action_status),
    "approve_plan": ("supervisor", access.sees_full, _approve_plan),
    "review": ("editor", access.sees_full, _review),
    "request_closure": ("editor", access.sees_full, _request_closure),
    "decide_closure": ("supervisor", access.sees_full, _decide_closure),
    "reopen": ("supervisor", access.sees_full, _reopen),
    "handover": ("editor", access.sees_full, _handover),
    "team": ("editor", access.sees_full, _team),
    "views": ("editor", access.sees_full, _views),
    "legal_hold": ("supervisor", access.sees_full, _legal_hold),
    "rights": ("supervisor", access.sees_full, _rights),
}


def _step_view(move: str) -> Callable[..., HttpResponse]:
    role, visible, handler = STEPS[move]

    @role_required(M, role)
    @require_second_factor
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        case = _case(request, pk, visible)
        if case.restricted and move not in ("rights", "legal_hold", "views"):
            return _refused(
                request, case, _("Processing of this case is restricted (GDPR art. 18).")
            )
        try:
            with transaction.atomic():
                handler(request, case)
        except (WorkflowError, _Invalid) as error:
            return _refused(request, case, str(error))
        return redirect("prevention:case", pk=case.pk)

    view.__name__ = f"step_{move}"
    return view


STEP_VIEWS = {move: _step_view(move) for move in STEPS}


@role_required(M, "editor")
@require_second_factor
@require_POST
def break_glass(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk, access.sees_locked_or_more)
    form = forms.BreakGlassForm(request.POST)
    if not form.is_valid():
        return _refused(request, case, str(_Invalid(form)))
    try:
        workflow.break_glass(
            case, _me(request), form.cleaned_data["reason"], form.cleaned_data["hours"]
        )
    except WorkflowError as error:
        return _refused(request, case, str(error))
    return redirect(reverse("prevention:case", kwargs={"pk": case.pk}) + "?purpose=break_glass")


# --- subject access ---------------------------------------------------------------------------


@role_required(M, "supervisor")
@require_second_factor
@require_POST
def export(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk, access.sees_full)
    made, passphrase = subject_access.export(case, _me(request))
    return render(
        request,
        "prevention/export_made.html",
        {"case": case, "export": made, "passphrase": passphrase},
    )


def _own_city_export(user: Any, row: SubjectExport) -> bool:
    return access.is_coordinator(user, row.city)


@role_required(M, "supervisor")
@require_second_factor
def export_download(request: HttpRequest, pk: int) -> Any:
    row = fetch(
        request,
        SubjectExport.objects.filter(expires_at__gt=timezone.now()),
        f"export {pk}",
        visible=_own_city_export,
        pk=pk,
    )
    audit.record("export", obj=row, detail={"what": "subject access archive"})
    handle = subject_access.open_file(row)
    return FileResponse(handle, as_attachment=True, filename=f"{row.case_reference}.rempart-sar")


# --- observatory ------------------------------------------------------------------------------


def _period(request: HttpRequest) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    try:
        since = dt.date.fromisoformat(request.GET.get("since", ""))
    except ValueError:
        since = today.replace(year=today.year - 1)
    try:
        until = dt.date.fromisoformat(request.GET.get("until", ""))
    except ValueError:
        until = today
    return since, until


@role_required(M, "supervisor")
def statistics_view(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    since, until = _period(request)
    tables = statistics.observatory(city, since, until)
    return render(
        request,
        "prevention/statistics.html",
        {"city": city, "tables": tables, "since": since, "until": until, "k": statistics.K},
    )


@role_required(M, "supervisor")
def statistics_csv(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    since, until = _period(request)
    body = statistics.to_csv(statistics.observatory(city, since, until), city, since, until)
    audit.record(
        "export",
        object_type="prevention.statistics",
        object_repr=f"observatory {since}..{until}",
        city=city,
        detail={"since": since.isoformat(), "until": until.isoformat()},
    )
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="prevention-{city.slug}-{since}-{until}.csv"'
    )
    return response


@role_required(M, "admin")
@require_http_methods(["GET", "POST"])
def factors(request: HttpRequest) -> HttpResponse:
    """The assessment framework: factors taking evidence in words, never a weight."""
    city = required_city(request)
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        if not name:
            return _refused(request, None, _("A factor needs a name."))
        Factor.objects.get_or_create(
            city=city, name=name[:120], defaults={"guidance": request.POST.get("guidance", "")}
        )
        return redirect("prevention:factors")
    return render(request, "prevention/factors.html", {"factors": Factor.objects.filter(city=city)})
