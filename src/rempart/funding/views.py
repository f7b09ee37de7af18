"""Pages of the funding module, mounted at /funding/: calls, consortia and their eligibility,
partner search."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rempart.core.access_rules import Hidden, fetch
from rempart.core.permissions import role_required
from rempart.core.views import required_city
from rempart.funding import calendar_feed, countries, links, partners, projects
from rempart.funding.eligibility import LEGAL_TYPES, check
from rempart.funding.forms import CallForm, ConsortiumForm, MemberForm, SpendingForm
from rempart.funding.models import (
    Call,
    Consortium,
    ConsortiumMember,
    CordisParticipation,
    Deadline,
    FundedProject,
)
from rempart.funding.rules_text import describe_rules


def call_status(call: Call, now: dt.datetime) -> str:
    """``forthcoming``, ``open`` or ``closed``, from the dates (the portal's own status is not
    trusted: it shows open topics as closed at times)."""
    if call.opens_at and now < call.opens_at:
        return "forthcoming"
    if call.deadline_at and now >= call.deadline_at:
        return "closed"
    return "open"


def _status_label(status: str) -> str:
    return {"forthcoming": _("forthcoming"), "open": _("open"), "closed": _("closed")}[status]


def _own_consortia(request: HttpRequest, city: Any) -> Any:
    return Consortium.objects.filter(city=city).select_related("call", "organisation")


@role_required("funding", "viewer")
def index(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    now = timezone.now()
    calls = [
        {
            "call": call,
            "status": call_status(call, now),
            "label": _status_label(call_status(call, now)),
        }
        for call in Call.objects.all()
    ]
    return render(
        request,
        "funding/index.html",
        {
            "city": city,
            "calls": calls,
            "consortia": _own_consortia(request, city),
            "projects": FundedProject.objects.filter(city=city),
            "form": ConsortiumForm(),
        },
    )


@role_required("funding", "viewer")
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    call = Call.objects.filter(pk=pk).first()
    if call is None:
        raise Hidden("call does not exist")
    status = call_status(call, timezone.now())
    return render(
        request,
        "funding/call.html",
        {"call": call, "status": _status_label(status), "rules": describe_rules(call.rules)},
    )


@role_required("funding", "admin")
def call_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create (no ``pk``) or edit a call with its rules; funding administrators only."""
    call = None
    if pk is not None:
        call = Call.objects.filter(pk=pk).first()
        if call is None:
            raise Hidden("call does not exist")
    form = CallForm(request.POST or None, instance=call)
    if request.method == "POST":
        if form.is_valid():
            saved = form.save()
            return redirect("funding:call", pk=saved.pk)
        return render(request, "funding/call_form.html", {"form": form, "call": call}, status=400)
    return render(request, "funding/call_form.html", {"form": form, "call": call})


@role_required("funding", "editor")
@require_POST
def consortium_create(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    form = ConsortiumForm(request.POST)
    profile = getattr(request.user, "profile", None)
    organisation = getattr(profile, "organisation", None)
    if not form.is_valid() or organisation is None:
        return render(
            request,
            "funding/index.html",
            {"city": city, "calls": [], "consortia": _own_consortia(request, city), "form": form},
            status=400,
        )
    consortium = form.save(commit=False)
    consortium.city = city
    consortium.organisation = organisation
    consortium.created_by = request.user
    consortium.save()
    return redirect("funding:consortium", pk=consortium.pk)


def _evaluation(consortium: Consortium) -> list[dict[str, Any]]:
    members = consortium.members_for_check()
    names = frozenset(m.name for m in members)
    now = timezone.now()
    calls = Call.objects.all()
    if consortium.call_id:
        calls = calls.filter(pk=consortium.call_id)
    rows: list[tuple[bool, str, dict[str, Any]]] = []
    for call in calls:
        failures = check(members, call.rules)
        row = {
            "call": call,
            "status": _status_label(call_status(call, now)),
            "eligible": not failures,
            "failures": [
                {
                    "sentence": failure.sentence,
                    "candidates": partners.for_need(failure.need, names)
                    if failure.need is not None
                    else [],
                }
                for failure in failures
            ],
        }
        rows.append((bool(failures), call.topic_id, row))
    rows.sort(key=lambda item: item[:2])
    return [item[2] for item in rows]


@role_required("funding", "viewer")
def consortium(request: HttpRequest, pk: int) -> HttpResponse:
    item = fetch(request, Consortium.objects.select_related("call"), "consortium", pk=pk)
    return render(
        request,
        "funding/consortium.html",
        {
            "consortium": item,
            "members": item.members.all(),
            "rows": _evaluation(item),
            "form": MemberForm(),
            "legal_types": LEGAL_TYPES,
            "country_name": countries.name,
        },
    )


@role_required("funding", "editor")
@require_POST
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    item = fetch(request, Consortium.objects.all(), "consortium", pk=pk)
    form = MemberForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "funding/consortium.html",
            {
                "consortium": item,
                "members": item.members.all(),
                "rows": _evaluation(item),
                "form": form,
            },
            status=400,
        )
    member = form.save(commit=False)
    member.consortium = item
    member.save()
    return redirect("funding:consortium", pk=item.pk)


@role_required("funding", "editor")
@require_POST
def candidate_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a suggested CORDIS participant as a beneficiary."""
    item = fetch(request, Consortium.objects.all(), "consortium", pk=pk)
    organisation_id = request.POST.get("organisation_id", "")[:20]
    source = (
        CordisParticipation.objects.filter(organisation_id=organisation_id)
        .order_by("-project__start_date")
        .first()
    )
    if source is None:
        return HttpResponseBadRequest(
            _("No organisation with the CORDIS id %(id)s; choose one of the suggestions.")
            % {"id": organisation_id or "—"}
        )
    with transaction.atomic():
        ConsortiumMember.objects.create(
            consortium=item,
            name=source.name,
            country=countries.normalise(source.country),
            legal_type=source.legal_type,
            role="beneficiary",
            cordis_organisation_id=organisation_id,
        )
    return redirect("funding:consortium", pk=item.pk)


@role_required("funding", "editor")
@require_POST
def member_delete(request: HttpRequest, pk: int) -> HttpResponse:
    member = fetch(request, ConsortiumMember.objects.select_related("consortium"), "member", pk=pk)
    consortium_pk = member.consortium_id
    member.delete()
    return redirect("funding:consortium", pk=consortium_pk)


@role_required("funding", "viewer")
def partner_search(request: HttpRequest) -> HttpResponse:
    country = countries.normalise(request.GET.get("country", "")[:2])
    legal_type = request.GET.get("type", "")
    if legal_type not in LEGAL_TYPES:
        legal_type = ""
    topic = request.GET.get("topic", "")[:200].replace("\x00", "")
    searched = bool(country or legal_type or topic)
    results = (
        partners.search(country=country, legal_type=legal_type, topic=topic) if searched else []
    )
    return render(
        request,
        "funding/partners.html",
        {
            "results": results,
            "searched": searched,
            "country": country,
            "legal_type": legal_type,
            "topic": topic,
            "legal_types": LEGAL_TYPES,
        },
    )


# --- funded projects -------------------------------------------------------------------------


@role_required("funding", "viewer")
def project(request: HttpRequest, pk: int) -> HttpResponse:
    item = fetch(request, FundedProject.objects.select_related("city", "call"), "project", pk=pk)
    rows = projects.budget_against_spent(item)
    spending = [
        (line, links.describe(line.link_type, line.link_id))
        for line in item.spending.select_related("partner", "link_type")
    ]
    return render(
        request,
        "funding/project.html",
        {
            "project": item,
            "rows": rows,
            "totals": projects.totals(rows),
            "problems": projects.problems_in_words(item),
            "spending": spending,
            "deadlines": item.deadlines.all(),
            "form": SpendingForm(project=item),
            "now": timezone.now(),
        },
    )


@role_required("funding", "editor")
@require_POST
def spending_add(request: HttpRequest, pk: int) -> HttpResponse:
    item = fetch(request, FundedProject.objects.select_related("city"), "project", pk=pk)
    form = SpendingForm(request.POST, project=item)
    if not form.is_valid():
        rows = projects.budget_against_spent(item)
        return render(
            request,
            "funding/project.html",
            {
                "project": item,
                "rows": rows,
                "totals": projects.totals(rows),
                "problems": projects.problems_in_words(item),
                "spending": [],
                "deadlines": item.deadlines.all(),
                "form": form,
                "now": timezone.now(),
            },
            status=400,
        )
    form.save()
    return redirect("funding:project", pk=item.pk)


@role_required("funding", "editor")
@require_POST
def deadline_done(request: HttpRequest, pk: int) -> HttpResponse:
    deadline = fetch(request, Deadline.objects.select_related("project"), "deadline", pk=pk)
    deadline.done = request.POST.get("done") == "1"
    deadline.save(update_fields=["done"])
    return redirect("funding:project", pk=deadline.project_id)


@role_required("funding", "viewer")
def project_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    item = fetch(request, FundedProject.objects.all(), "project", pk=pk)
    response = HttpResponse(
        calendar_feed.feed(item, settings.REMPART_SITE_URL), content_type="text/calendar"
    )
    response["Content-Disposition"] = f'attachment; filename="{item.acronym}-deadlines.ics"'
    return response
