"""Pages of the practices toolbox and exchange.

Every view is wrapped in ``role_required("practices", ...)`` (anonymous → login, wrong role →
403, audited) and checks the object (a draft, a review) through :mod:`.workflow`. Changes are
audited by the core's signals; reading contacts is recorded as a sensitive read.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rempart.core import audit
from rempart.core.access_rules import check_city, fetch
from rempart.core.models import Site
from rempart.core.permissions import deny, role_required
from rempart.core.roles import has_role, user_cities
from rempart.core.safe_redirect import next_url
from rempart.practices import exchange, workflow
from rempart.practices import io as catalogue_io
from rempart.practices.forms import (
    AnswerForm,
    AssignForm,
    AttachmentForm,
    CatalogueUploadForm,
    EventForm,
    GroupForm,
    HelpRequestForm,
    NotificationsForm,
    PostForm,
    PracticeForm,
    ProfileForm,
    ReviewForm,
    SiteLinkForm,
    ThreadForm,
)
from rempart.practices.labels import label, labels
from rempart.practices.models import (
    LANGUAGE_CHOICES,
    Attachment,
    Event,
    HelpRequest,
    MemberProfile,
    Post,
    Practice,
    Registration,
    ReviewAssignment,
    SiteLink,
    Status,
    Theme,
    Thread,
    WorkingGroup,
)
from rempart.practices.search import FACET_KINDS, load_practices, search, similar

PAGE_SIZE = 20


def _me(request: HttpRequest) -> Any:
    """The signed-in user (every view here is behind ``role_required``)."""
    return request.user


_practice_for = workflow.practice_for


# --- catalogue --------------------------------------------------------------------------------


@role_required("practices", "viewer")
def index(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    filters = {kind: request.GET.getlist(kind) for kind in FACET_KINDS if request.GET.getlist(kind)}
    try:
        page = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        page = 1
    result = search(query, filters=filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    reader = get_language() or "en"
    facets = [
        (
            kind,
            [
                (value, label(kind, value), count, value in filters.get(kind, []))
                for value, count in result.facets.get(kind, [])
            ],
        )
        for kind in FACET_KINDS
    ]
    rows = []
    for practice in load_practices(result.ids):
        # the reader's language when translated (else the original), marked for screen readers
        title, summary = practice.translation(reader)
        shown = (
            reader if (title, summary) != (practice.title, practice.summary) else practice.language
        )
        rows.append(
            {
                "practice": practice,
                "title": title,
                "summary": summary,
                "language": shown,
                "where": [
                    x
                    for x in (
                        label("country", practice.country) if practice.country else "",
                        practice.city_name,
                        practice.organisation_name,
                    )
                    if x
                ],
            }
        )
    context = {
        "q": query,
        "result": result,
        "rows": rows,
        "facets": facets,
        "filters": filters,
        "page": page,
        "has_next": page * PAGE_SIZE < result.total,
    }
    template = "practices/_results.html" if request.htmx else "practices/index.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@role_required("practices", "viewer")
def mine(request: HttpRequest) -> HttpResponse:
    """The user's work: drafts they may edit, reviews assigned to them, submissions to assign."""
    user: Any = _me(request)
    editable = [
        p
        for p in Practice.objects.exclude(status=Status.PUBLISHED).order_by("-updated_at")[:200]
        if workflow.can_edit(user, p)
    ]
    reviews = [
        r
        for r in ReviewAssignment.objects.filter(
            reviewer=user, practice__status=Status.IN_REVIEW
        ).select_related("practice")
        if r.round == r.practice.review_round
    ]
    to_assign = (
        Practice.objects.filter(status__in=[Status.SUBMITTED, Status.IN_REVIEW])
        if has_role(user, "practices", "admin")
        else Practice.objects.none()
    )
    return render(
        request,
        "practices/mine.html",
        {"editable": editable, "reviews": reviews, "to_assign": to_assign},
    )


@role_required("practices", "viewer")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    practice = _practice_for(request, pk)
    languages = [practice.language] + [t.language for t in practice.translations.all()]
    shown = request.GET.get("lang") or get_language() or practice.language
    shown = shown if shown in languages else practice.language
    title, summary = practice.translation(shown)
    user: Any = _me(request)
    versions = list(practice.versions.select_related("created_by", "published_by")[:20])
    reviewers: dict[int, list[Any]] = {}
    for assignment in practice.reviews.exclude(decision=ReviewAssignment.Decision.RECUSED):
        reviewers.setdefault(assignment.version, []).append(assignment.reviewer)
    sites = Site.objects.filter(city__in=user_cities(user))
    links = practice.site_links.select_related("site", "site__city").filter(
        site__city__in=user_cities(user)
    )
    return render(
        request,
        "practices/detail.html",
        {
            "practice": practice,
            "title": title,
            "summary": summary,
            "shown_language": shown,
            "languages": [(c, n) for c, n in LANGUAGE_CHOICES if c in languages],
            "versions": [(v, reviewers.get(v.number, [])) for v in versions],
            "themes": labels("theme", practice.themes),
            "audiences": labels("audience", practice.audiences),
            "settings": labels("setting", practice.settings),
            "country": label("country", practice.country) if practice.country else "",
            "attachments": practice.attachments.all(),
            "similar": load_practices([h.practice_id for h in similar(practice)])
            if practice.status == Status.PUBLISHED
            else [],
            "can_edit": workflow.can_edit(user, practice),
            "can_submit": workflow.can_edit(user, practice)
            and practice.status in (Status.DRAFT, Status.RETURNED),
            "is_reviewer": workflow.is_reviewer(user, practice),
            "can_assign": has_role(user, "practices", "admin")
            and practice.status in (Status.SUBMITTED, Status.IN_REVIEW),
            "return_comments": workflow.return_comments(practice)
            if practice.status == Status.RETURNED
            else [],
            "links": links,
            "revision": workflow.revision_of(practice)
            if practice.status == Status.PUBLISHED and workflow.can_edit(user, practice)
            else None,
            "link_form": SiteLinkForm(sites=sites) if workflow.can_edit(user, practice) else None,
            "attachment_form": AttachmentForm() if workflow.can_edit(user, practice) else None,
        },
    )


@role_required("practices", "viewer")
def contacts(request: HttpRequest, pk: int) -> HttpResponse:
    """Contacts are for members only, and each reading is recorded."""
    practice = _practice_for(request, pk)
    audit.record("sensitive_read", obj=practice, detail={"what": "contacts"})
    template = "practices/_contacts.html" if request.htmx else "practices/contacts.html"  # type: ignore[attr-defined]
    return render(request, template, {"practice": practice, "contacts": practice.contacts})


@role_required("practices", "viewer")
def version(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    practice = _practice_for(request, pk)
    snapshot = get_object_or_404(practice.versions, number=number)
    data = {k: v for k, v in snapshot.data.items() if k != "contacts"}
    return render(
        request,
        "practices/version.html",
        {"practice": practice, "snapshot": snapshot, "data": data},
    )


@role_required("practices", "editor")
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    practice = _practice_for(request, pk) if pk is not None else Practice()
    if pk is not None and not workflow.can_edit(_me(request), practice):
        raise deny(request, "you may not edit this practice", practice=pk)
    if practice.status in (Status.SUBMITTED, Status.IN_REVIEW):
        messages.error(request, _("A practice under review cannot be edited."))
        return redirect(practice)
    pending = workflow.revision_of(practice) if practice.status == Status.PUBLISHED else None
    if pending is not None:
        if pending.status in (Status.SUBMITTED, Status.IN_REVIEW):
            messages.error(request, _("The new version of this practice is under review."))
            return redirect(pending)
        return redirect("practices:edit", pk=pending.pk)  # keep editing the next version
    form = PracticeForm(request.POST or None, instance=practice)
    if request.method == "POST" and form.is_valid():
        updated, translations = form.apply()
        try:
            saved = workflow.save_practice(updated, _me(request), translations=translations)
        except (workflow.WorkflowError, ValueError) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Practice saved (version %(n)d).") % {"n": saved.version})
            if saved.pk != practice.pk:
                messages.info(
                    request,
                    _(
                        "The published version stays in place until this new version is "
                        "submitted, reviewed and published."
                    ),
                )
            return redirect(saved)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "practices/form.html", {"form": form, "practice": practice}, status=status
    )


@role_required("practices", "editor")
@require_POST
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    practice = _practice_for(request, pk)
    try:
        workflow.submit(practice, _me(request))
    except workflow.WorkflowError as exc:
        if not workflow.can_edit(_me(request), practice):
            raise deny(request, str(exc), practice=pk) from exc
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Submitted for review."))
    return redirect(practice)


@role_required("practices", "admin")
@require_http_methods(["GET", "POST"])
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    practice = _practice_for(request, pk)
    form = AssignForm(request.POST or None, reviewers=workflow.eligible_reviewers(practice))
    if request.method == "POST" and form.is_valid():
        try:
            workflow.assign_reviewer(
                practice,
                form.cleaned_data["reviewer"],
                _me(request),
                due_on=form.cleaned_data["due_on"],
            )
        except workflow.WorkflowError as exc:
            form.add_error("reviewer", str(exc))
        else:
            messages.success(request, _("Reviewer assigned."))
            return redirect("practices:assign", pk=practice.pk)
    return render(
        request,
        "practices/assign.html",
        {
            "practice": practice,
            "form": form,
            "reviews": practice.reviews.filter(round=practice.review_round).select_related(
                "reviewer"
            ),
        },
        status=400 if request.method == "POST" else 200,
    )


@role_required("practices", "supervisor")
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, pk: int) -> HttpResponse:
    practice = _practice_for(request, pk)
    assignment = practice.reviews.filter(
        round=practice.review_round, reviewer_id=_me(request).pk
    ).first()
    if assignment is None:
        raise deny(request, "you are not a reviewer of this practice", practice=pk)
    form = ReviewForm(
        request.POST or None,
        initial={
            "label": assignment.label,
            "comments": assignment.comments,
            "decision": assignment.decision
            if assignment.decision != ReviewAssignment.Decision.RECUSED
            else "",
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            workflow.review(
                assignment,
                _me(request),
                conflict=data["conflict"],
                conflict_statement=data["conflict_statement"],
                label=data["label"],
                decision=data["decision"],
                comments=data["comments"],
            )
        except workflow.WorkflowError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Review recorded."))
            return redirect("practices:mine")
    return render(
        request,
        "practices/review.html",
        {"practice": practice, "assignment": assignment, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@role_required("practices", "editor")
@require_POST
def attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    practice = _practice_for(request, pk)
    if not workflow.can_edit(_me(request), practice):
        raise deny(request, "you may not edit this practice", practice=pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        digest = form.cleaned_data["sha256"]
        stored = default_storage.save(f"practices/{practice.pk}/{digest[:16]}.pdf", upload)
        Attachment.objects.create(
            practice=practice,
            title=form.cleaned_data["title"],
            path=stored,
            size=upload.size,
            sha256=form.cleaned_data["sha256"],
            uploaded_by=_me(request),
        )
        messages.success(request, _("Attachment added."))
        return redirect(practice)
    return render(
        request, "practices/attachment_form.html", {"practice": practice, "form": form}, status=400
    )


@role_required("practices", "viewer")
def attachment_download(request: HttpRequest, pk: int) -> Any:
    attachment = get_object_or_404(Attachment.objects.select_related("practice"), pk=pk)
    _practice_for(request, attachment.practice_id)
    try:
        handle = default_storage.open(attachment.path, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("file missing") from exc
    return FileResponse(
        handle,
        content_type="application/pdf",
        as_attachment=True,
        filename=f"{attachment.title[:80]}.pdf",
    )


@role_required("practices", "editor")
@require_POST
def site_link_add(request: HttpRequest, pk: int) -> HttpResponse:
    practice = _practice_for(request, pk)
    if not workflow.can_edit(_me(request), practice) and not has_role(
        _me(request), "core", "editor"
    ):
        raise deny(request, "you may not link this practice", practice=pk)
    sites = Site.objects.filter(city__in=user_cities(_me(request)))
    form = SiteLinkForm(request.POST, sites=sites)
    if form.is_valid():
        check_city(request, form.cleaned_data["site"].city, "site")
        link = form.save(commit=False)
        link.practice = practice
        link.created_by = _me(request)
        if SiteLink.objects.filter(practice=practice, site=link.site).exists():
            messages.info(request, _("Already linked to this site."))
        else:
            link.save()
            messages.success(request, _("Linked to %(site)s.") % {"site": link.site.name})
        return redirect(practice)
    messages.error(request, _("Choose one of your sites."))
    return redirect(practice)


@role_required("practices", "editor")
@require_POST
def site_link_delete(request: HttpRequest, pk: int) -> HttpResponse:
    link = fetch(request, SiteLink.objects.select_related("practice"), f"site link {pk}", pk=pk)
    link.delete()
    messages.success(request, _("Link removed."))
    return redirect(next_url(request, link.practice.get_absolute_url()))


# --- import and export -----------------------------------------------------------------------


def _exportable(user: Any) -> Any:
    """What a user may download: everything for practices admins (as the command line), else
    the published catalogue plus the drafts the user may edit. Revisions in progress are left
    out (see io.catalogue)."""
    base = Practice.objects.filter(revision_of__isnull=True)
    if has_role(user, "practices", "admin"):
        return base
    editable = [p.pk for p in base.exclude(status=Status.PUBLISHED) if workflow.can_edit(user, p)]
    return base.filter(Q(status=Status.PUBLISHED) | Q(pk__in=editable))


@role_required("practices", "editor")
@require_http_methods(["GET", "POST"])
def transfer(request: HttpRequest) -> HttpResponse:
    """Import a catalogue file (all or nothing, every rejected row reported) and export links.

    Editors' files become drafts of their organisation, to be submitted for review; a practices
    admin's upload is the administrative import of the command line (status and label kept).
    """
    user: Any = _me(request)
    is_admin = has_role(user, "practices", "admin")
    form = CatalogueUploadForm(request.POST or None, request.FILES or None)
    report = None
    problem = ""
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                rows = catalogue_io.read_rows(
                    form.cleaned_data["text"], form.cleaned_data["format"]
                )
            except ValueError as exc:
                problem = f"{upload.name}: {exc}"
            else:
                report = catalogue_io.import_rows(rows, user=user, as_editor=not is_admin)
                audit.record(
                    "import",
                    object_type="practices.practice",
                    object_repr=str(upload.name)[:200],
                    detail={
                        "created": report.created,
                        "updated": report.updated,
                        "unchanged": report.unchanged,
                        "rejected": len(report.rejected),
                        "partial": False,
                        "as_editor": not is_admin,
                        "via": "web",
                    },
                )
                if not report.rejected:
                    messages.success(
                        request,
                        _("%(c)d created, %(u)d updated, %(n)d unchanged.")
                        % {"c": report.created, "u": report.updated, "n": report.unchanged},
                    )
                    return redirect("practices:transfer")
    return render(
        request,
        "practices/transfer.html",
        {"form": form, "report": report, "problem": problem, "is_admin": is_admin},
        status=status,
    )


@role_required("practices", "editor")
def export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "json")
    if fmt not in ("json", "csv"):
        return HttpResponse(_("Unknown format: expected json or csv."), status=400)
    user: Any = _me(request)
    records = catalogue_io.catalogue(_exportable(user))
    text = catalogue_io.to_csv(records) if fmt == "csv" else catalogue_io.to_json(records)
    audit.record(
        "export",
        object_type="practices.practice",
        object_repr=f"practices.{fmt}",
        detail={"count": len(records), "format": fmt, "via": "web", "contacts": True},
    )
    response = HttpResponse(
        text,
        content_type="text/csv; charset=utf-8" if fmt == "csv" else "application/json",
    )
    response["Content-Disposition"] = f'attachment; filename="practices.{fmt}"'
    return response


# --- exchange ---------------------------------------------------------------------------------


@role_required("practices", "viewer")
def members(request: HttpRequest) -> HttpResponse:
    profiles = exchange.directory(_me(request))
    theme = request.GET.get("expertise", "")
    if theme:
        profiles = [p for p in profiles if p.show_expertise and theme in p.expertise]
    return render(
        request,
        "practices/members.html",
        {
            "profiles": [(p, p.public_fields()) for p in profiles],
            "themes": Theme.choices,
            "theme": theme,
            "theme_labels": dict(Theme.choices),
        },
    )


@role_required("practices", "viewer")
def member(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_object_or_404(MemberProfile, pk=pk)
    shown = exchange.visible_profile(_me(request), profile)
    if shown is None:
        raise Http404("no such member")
    return render(
        request,
        "practices/member.html",
        {"profile": profile, "shown": shown, "theme_labels": dict(Theme.choices)},
    )


@role_required("practices", "viewer")
@require_http_methods(["GET", "POST"])
def my_profile(request: HttpRequest) -> HttpResponse:
    profile = exchange.profile_for(_me(request))
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Profile saved."))
        return redirect("practices:my_profile")
    return render(
        request,
        "practices/profile_form.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@role_required("practices", "viewer")
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """Which e-mails the member receives, and in which language."""
    profile = exchange.profile_for(_me(request))
    form = NotificationsForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your e-mail choices are saved."))
        return redirect("practices:notifications")
    user: Any = _me(request)
    return render(
        request,
        "practices/notifications.html",
        {"form": form, "address": user.email or profile.email},
        status=400 if request.method == "POST" else 200,
    )


@role_required("practices", "viewer")
@require_http_methods(["GET", "POST"])
def groups(request: HttpRequest) -> HttpResponse:
    form = GroupForm(request.POST or None)
    if request.method == "POST":
        if not has_role(_me(request), "practices", "operator"):
            raise deny(request, "requires the practices:operator role to create a group")
        if form.is_valid():
            group = form.save(commit=False)
            group.created_by = _me(request)
            group.save()
            group.members.add(_me(request))
            group.coordinators.add(_me(request))
            return redirect("practices:group", pk=group.pk)
    return render(
        request,
        "practices/groups.html",
        {"groups": WorkingGroup.objects.all(), "form": form},
        status=400 if request.method == "POST" else 200,
    )


@role_required("practices", "viewer")
@require_http_methods(["GET", "POST"])
def group(request: HttpRequest, pk: int) -> HttpResponse:
    working_group = get_object_or_404(WorkingGroup, pk=pk)
    form = ThreadForm(request.POST or None)
    is_in = working_group.members.filter(pk=_me(request).pk).exists()
    if request.method == "POST" and form.is_valid():
        if not is_in:
            raise deny(request, "join the working group to start a thread", group=pk)
        with transaction.atomic():
            thread = Thread.objects.create(
                group=working_group, title=form.cleaned_data["title"], created_by=_me(request)
            )
            Post.objects.create(thread=thread, author=_me(request), body=form.cleaned_data["body"])
        return redirect("practices:thread", pk=thread.pk)
    return render(
        request,
        "practices/group.html",
        {
            "group": working_group,
            "threads": working_group.threads.all(),
            "form": form,
            "is_member": is_in,
            "member_count": working_group.members.count(),
        },
        status=400 if request.method == "POST" else 200,
    )


@role_required("practices", "viewer")
@require_POST
def group_join(request: HttpRequest, pk: int) -> HttpResponse:
    working_group = get_object_or_404(WorkingGroup, pk=pk)
    if request.POST.get("leave"):
        working_group.members.remove(_me(request))
    else:
        working_group.members.add(_me(request))
    return redirect("practices:group", pk=pk)


@role_required("practices", "viewer")
@require_http_methods(["GET", "POST"])
def thread(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Thread.objects.select_related("group"), pk=pk)
    is_in = item.group.members.filter(pk=_me(request).pk).exists()
    form = PostForm(request.POST or None)
    if request.method == "POST":
        if not is_in:
            raise deny(request, "join the working group to post", thread=pk)
        if form.is_valid():
            Post.objects.create(thread=item, author=_me(request), body=form.cleaned_data["body"])
            return redirect("practices:thread", pk=pk)
    return render(
        request,
        "practices/thread.html",
        {
            "thread": item,
            "posts": item.posts.select_related("author"),
            "form": form,
            "is_member": is_in,
        },
        status=400 if request.method == "POST" else 200,
    )


@role_required("practices", "viewer")
@require_http_methods(["GET", "POST"])
def events(request: HttpRequest) -> HttpResponse:
    form = EventForm(request.POST or None)
    if request.method == "POST":
        if not has_role(_me(request), "practices", "operator"):
            raise deny(request, "requires the practices:operator role to create an event")
        if form.is_valid():
            event = form.save(commit=False)
            event.organiser = _me(request)
            event.save()
            return redirect("practices:event", pk=event.pk)
    return render(
        request,
        "practices/events.html",
        {"events": Event.objects.all(), "form": form},
        status=400 if request.method == "POST" else 200,
    )


@role_required("practices", "viewer")
def event(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Event, pk=pk)
    mine = (
        item.registrations.filter(user=_me(request))
        .exclude(state=Registration.State.CANCELLED)
        .first()
    )
    confirmed = item.registrations.filter(state=Registration.State.CONFIRMED).count()
    waiting = item.registrations.filter(state=Registration.State.WAITING).count()
    return render(
        request,
        "practices/event.html",
        {
            "event": item,
            "mine": mine,
            "confirmed": confirmed,
            "waiting": waiting,
            "position": exchange.waiting_position(item, _me(request)),
            "free": max(item.capacity - confirmed, 0),
        },
    )


@role_required("practices", "viewer")
@require_POST
def event_register(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Event, pk=pk)
    registration = exchange.register(item, _me(request))
    if registration.state == Registration.State.CONFIRMED:
        messages.success(request, _("You are registered."))
    else:
        messages.info(request, _("The event is full: you are on the waiting list."))
    return redirect("practices:event", pk=pk)


@role_required("practices", "viewer")
@require_POST
def event_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Event, pk=pk)
    try:
        exchange.cancel(item, _me(request))
    except exchange.ExchangeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Registration cancelled."))
    return redirect("practices:event", pk=pk)


@role_required("practices", "viewer")
@require_http_methods(["GET", "POST"])
def requests_list(request: HttpRequest) -> HttpResponse:
    """Ask "who has done this?". When nobody's expertise matches, the page says so before
    anything is sent and offers the coordinators of the working groups on those themes (or
    to post the question on the open list only)."""
    form = HelpRequestForm(request.POST or None)
    user: Any = _me(request)
    no_match: dict[str, Any] | None = None
    if request.method == "POST" and form.is_valid():
        item = form.save(commit=False)
        item.author = user
        fallback = form.cleaned_data["fallback"]
        if not fallback and not exchange.matching_members(item):
            coordinators = exchange.group_coordinators(item.themes, user)
            no_match = {
                "coordinators": coordinators,
                "form": HelpRequestForm(initial={**request.POST.dict(), "themes": item.themes}),
            }
        else:
            with transaction.atomic():
                item.save()
                routed = exchange.route(item, to_coordinators=fallback == "coordinators")
            if routed:
                messages.success(
                    request,
                    ngettext(
                        "Request sent to %(n)d member.",
                        "Request sent to %(n)d members.",
                        len(routed),
                    )
                    % {"n": len(routed)},
                )
            else:
                messages.info(
                    request,
                    _("Your question is on the list of open questions; nobody was sent it."),
                )
            return redirect("practices:request", pk=item.pk)
    return render(
        request,
        "practices/requests.html",
        {
            "form": form,
            "no_match": no_match,
            "for_me": HelpRequest.objects.filter(routed_to=user, closed=False),
            "mine": HelpRequest.objects.filter(author=user),
            "open": HelpRequest.objects.filter(closed=False)[:50],
            "theme_labels": dict(Theme.choices),
        },
        status=400 if request.method == "POST" and no_match is None else 200,
    )


@role_required("practices", "viewer")
@require_http_methods(["GET", "POST"])
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(HelpRequest.objects.select_related("author"), pk=pk)
    form = AnswerForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("close"):
            if item.author_id != _me(request).pk:
                raise deny(request, "only the author closes a request", request_id=pk)
            item.closed = True
            item.save(update_fields=["closed"])
            return redirect("practices:request", pk=pk)
        if form.is_valid():
            exchange.answer(item, _me(request), form.cleaned_data["body"])
            return redirect("practices:request", pk=pk)
    author_profile = MemberProfile.objects.filter(user=item.author).first()
    return render(
        request,
        "practices/request.html",
        {
            "item": item,
            "form": form,
            "answers": item.answers.select_related("author"),
            "author_name": author_profile.display_name
            if author_profile
            else item.author.get_username(),
            "routed_count": item.routed_to.count(),
            "theme_labels": dict(Theme.choices),
        },
        status=400 if request.method == "POST" else 200,
    )
