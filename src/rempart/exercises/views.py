"""Pages of the exercises module, mounted at /exercises/.

Roles (module ``exercises``): viewers are players and observers (they see the exercise and only
the injects released to play, and write to the journal); editors design the exercise, the MSEL,
its imports and the scenario, rate the objectives they evaluate and keep the improvement plan;
operators control the play (the clock, releasing and skipping injects); supervisors rate every
objective. Every object is fetched through :mod:`rempart.core.access_rules` (404 for another
city's); changes are audited by the core's signals, exports as sensitive reads.
"""

from __future__ import annotations

import csv
import datetime as dt
import io as stdio
from typing import Any

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from rempart.core import audit
from rempart.core.access_rules import fetch
from rempart.core.permissions import deny, role_required
from rempart.core.roles import has_role
from rempart.core.views import required_city
from rempart.exercises import assess_link, documents, evaluation, msel, training
from rempart.exercises import io as msel_io
from rempart.exercises.forms import (
    ActionForm,
    CertificateForm,
    CourseForm,
    EvaluationForm,
    ExerciseForm,
    ImportForm,
    InjectForm,
    JournalForm,
    ObjectiveForm,
    ParticipantForm,
    ScenarioForm,
    SessionForm,
    StateForm,
)
from rempart.exercises.models import (
    ColumnMapping,
    CorrectiveAction,
    Course,
    Enrolment,
    Evaluation,
    Exercise,
    Inject,
    JournalEntry,
    MselVersion,
    TrainingSession,
)


def _exercise(request: HttpRequest, pk: int) -> Exercise:
    """The exercise, if the caller may reach it; its pages show times in its city's zone."""
    exercise = fetch(
        request, Exercise.objects.select_related("city", "site"), f"exercise {pk}", pk=pk
    )
    timezone.activate(exercise.city.timezone)
    return exercise


def _controller(user: Any) -> bool:
    """Editors (who write the MSEL) and above see every inject; players only released ones."""
    return has_role(user, "exercises", "editor")


def _back(exercise: Exercise, anchor: str = "") -> HttpResponse:
    return redirect(reverse("exercises:detail", args=[exercise.pk]) + anchor)


# --- exercises ---------------------------------------------------------------------------------


@role_required("exercises", "viewer")
def index(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    exercises = Exercise.objects.filter(city=city).select_related("site")
    today = training.local_today(city)
    open_actions = CorrectiveAction.objects.filter(
        exercise__city=city, status__in=CorrectiveAction.OPEN_STATUSES
    )
    return render(
        request,
        "exercises/index.html",
        {
            "city": city,
            "exercises": exercises,
            "open_actions": open_actions.count(),
            "overdue_actions": open_actions.filter(due_on__lt=today).count(),
        },
    )


@role_required("exercises", "editor")
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    exercise = _exercise(request, pk) if pk is not None else None
    city = exercise.city if exercise else required_city(request)
    form = ExerciseForm(request.POST or None, instance=exercise, city=city)
    if request.method == "POST" and form.is_valid():
        obj = form.save(commit=False)
        obj.city = city
        if obj.created_by_id is None:
            obj.created_by = request.user  # type: ignore[assignment]
        obj.save()
        messages.success(request, _("Exercise saved."))
        return _back(obj)
    return render(
        request,
        "exercises/form.html",
        {"form": form, "exercise": exercise, "title": _("Exercise")},
        status=400 if request.method == "POST" else 200,
    )


@role_required("exercises", "viewer")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    controller = _controller(request.user)
    injects = msel.visible_injects(exercise, request.user, controller=controller)
    injects = injects.select_related("parent", "state_by").prefetch_related("objectives")
    context: dict[str, Any] = {
        "exercise": exercise,
        "city": exercise.city,
        "controller": controller,
        "injects": injects,
        "objectives": exercise.objectives.all(),
        "participants": exercise.participants.select_related("organisation", "user"),
        "actions": exercise.actions.select_related("owner", "objective"),
        "today": training.local_today(exercise.city),
        "clock": msel.clock_text(exercise.scenario_seconds()),
        "earlier_actions": evaluation.open_actions_on_same_objectives(exercise),
        "documents": documents.links(request.user, exercise),
    }
    if controller:
        context.update(
            objective_form=ObjectiveForm(),
            participant_form=ParticipantForm(exercise=exercise),
            scenario_form=ScenarioForm(),
            import_form=ImportForm(),
            action_form=ActionForm(exercise=exercise),
            mappings=ColumnMapping.objects.filter(city=exercise.city),
            vehicles=_vehicles(exercise),
        )
    return render(request, "exercises/detail.html", context)


def _vehicles(exercise: Exercise) -> list[str]:
    run = assess_link.latest_assessment(exercise.site) if exercise.site else None
    return assess_link.vehicle_names(run) if run else []


@role_required("exercises", "editor")
@require_POST
def objective_add(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    form = ObjectiveForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("The objective needs a text and a capability."), status=400)
    objective = form.save(commit=False)
    objective.exercise = exercise
    last = exercise.objectives.order_by("-number").values_list("number", flat=True).first()
    objective.number = (last or 0) + 1
    objective.save()
    return _back(exercise, "#objectives")


@role_required("exercises", "editor")
@require_POST
def participant_add(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    form = ParticipantForm(request.POST, exercise=exercise)
    if not form.is_valid():
        return HttpResponse(
            _("The participant needs a name, an organisation and a role."), status=400
        )
    participant = form.save(commit=False)
    participant.exercise = exercise
    participant.save()
    form.save_m2m()
    return _back(exercise, "#participants")


# --- the MSEL ----------------------------------------------------------------------------------


@role_required("exercises", "editor")
@require_http_methods(["GET", "POST"])
def inject_edit(request: HttpRequest, pk: int, number: int | None = None) -> HttpResponse:
    exercise = _exercise(request, pk)
    inject = (
        fetch(request, exercise.injects, f"inject {number}", number=number)
        if number is not None
        else None
    )
    initial = {} if inject else {"number": msel.next_number(exercise)}
    form = InjectForm(request.POST or None, instance=inject, exercise=exercise, initial=initial)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Inject saved."))
        return _back(exercise, "#msel")
    return render(
        request,
        "exercises/form.html",
        {"form": form, "exercise": exercise, "title": _("Inject")},
        status=400 if request.method == "POST" else 200,
    )


@role_required("exercises", "operator")
@require_POST
def inject_state(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    inject = fetch(request, exercise.injects, f"inject {number}", number=number)
    form = StateForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("Choose a known inject state."), status=400)
    try:
        if form.cleaned_data["state"] == Inject.State.RELEASED:
            msel.release(inject, request.user)
        else:
            msel.move(inject, form.cleaned_data["state"], request.user, form.cleaned_data["reason"])
    except msel.MselError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    if request.POST.get("next") == "conduct":
        return redirect("exercises:conduct", pk=exercise.pk)
    return _back(exercise, "#msel")


@role_required("exercises", "editor")
@require_http_methods(["GET", "POST"])
def versions(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    if request.method == "POST":
        version = msel.save_version(exercise, request.user, request.POST.get("note", ""))
        messages.success(request, _("MSEL saved as version %d.") % version.number)
        return redirect("exercises:versions", pk=exercise.pk)
    rows = list(exercise.versions.select_related("created_by"))
    compare_to = request.GET.get("compare", "")
    changes = None
    chosen = None
    if compare_to.isdigit():
        chosen = next((v for v in rows if v.number == int(compare_to)), None)
        if chosen is not None:
            changes = msel.compare(chosen.rows, msel.inject_rows(exercise))
    return render(
        request,
        "exercises/versions.html",
        {"exercise": exercise, "versions": rows, "changes": changes, "chosen": chosen},
    )


@role_required("exercises", "editor")
@require_POST
def version_rollback(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    version = fetch(
        request, MselVersion.objects.filter(exercise=exercise), "version", number=number
    )
    msel.rollback(version, request.user)
    messages.success(request, _("MSEL rolled back to version %d.") % number)
    return redirect("exercises:versions", pk=exercise.pk)


@role_required("exercises", "editor")
def msel_export(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        return HttpResponse(_("Unknown format: expected csv or xlsx."), status=400)
    audit.record(
        "export",
        obj=exercise,
        detail={"what": "msel", "format": fmt, "injects": exercise.injects.count()},
    )
    if fmt == "xlsx":
        response = HttpResponse(
            msel_io.to_xlsx(exercise),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(msel_io.to_csv(exercise), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="msel-{exercise.pk}.{fmt}"'
    return response


@role_required("exercises", "editor")
@require_POST
def msel_import(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return HttpResponse(
            " ".join(str(e) for errors in form.errors.values() for e in errors), status=400
        )
    upload = form.cleaned_data["file"]
    mapping: dict[str, str] | None = None
    name = form.cleaned_data["mapping"].strip()
    if name:
        saved = ColumnMapping.objects.filter(city=exercise.city, name=name).first()
        if saved is None:
            return HttpResponse(_("No saved column mapping is called %s.") % name, status=400)
        mapping = saved.columns
    try:
        count = msel_io.import_msel(exercise, upload.name, upload.read(), request.user, mapping)
    except msel_io.ImportRefused as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    messages.success(
        request, ngettext("%d inject imported.", "%d injects imported.", count) % count
    )
    return _back(exercise, "#msel")


@role_required("exercises", "editor")
@require_POST
def mapping_save(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    name = request.POST.get("name", "").strip()[:100]
    columns = {
        field: request.POST.get(field, "").strip()[:100]
        for field in msel_io.COLUMNS
        if request.POST.get(field, "").strip()
    }
    if not name or not columns:
        return HttpResponse(_("A mapping needs a name and at least one heading."), status=400)
    ColumnMapping.objects.update_or_create(
        city=exercise.city, name=name, defaults={"columns": columns}
    )
    messages.success(request, _("Column mapping saved."))
    return _back(exercise, "#msel")


@role_required("exercises", "editor")
@require_POST
def scenario(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    if exercise.site is not None:
        fetch(request, type(exercise.site).objects, "site", pk=exercise.site.pk)
    if not has_role(request.user, "assess", "viewer"):
        raise deny(request, "the scenario reads the assessment: it needs the assess:viewer role")
    form = ScenarioForm(request.POST)
    form.is_valid()
    try:
        approach = assess_link.generate(
            exercise, form.cleaned_data.get("vehicle", ""), request.user
        )
    except assess_link.ScenarioError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    messages.success(
        request,
        _("Draft MSEL generated from assessment #%(run)s: %(vehicle)s on %(street)s.")
        % {"run": approach.assessment_id, "vehicle": approach.vehicle, "street": approach.street},
    )
    return _back(exercise, "#msel")


# --- conduct -------------------------------------------------------------------------------------


@role_required("exercises", "operator")
def conduct(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    injects = exercise.injects.select_related("parent").order_by("scenario_time_s", "number")
    return render(
        request,
        "exercises/conduct.html",
        {
            "exercise": exercise,
            "timeline": [i for i in injects if not i.contingency],
            "contingencies": [i for i in injects if i.contingency],
            "journal": exercise.journal.select_related("author", "inject").order_by("-at")[:50],
            "journal_form": JournalForm(exercise=exercise),
            "seconds": exercise.scenario_seconds(),
            "clock": msel.clock_text(exercise.scenario_seconds()),
            "due": msel.due(exercise),
        },
    )


@role_required("exercises", "operator")
@require_POST
def clock(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    action = request.POST.get("action", "")
    released: list[Inject] = []
    try:
        if action == "start":
            msel.start_clock(exercise, request.user)
        elif action == "pause":
            msel.pause_clock(exercise, request.user)
        elif action == "jump":
            msel.jump_clock(
                exercise, msel_io.parse_clock(request.POST.get("to", "")) or 0, request.user
            )
        elif action == "release_due":
            if exercise.pacing == Exercise.Pacing.CLOCK:
                released = msel.release_due(exercise, request.user)
        else:
            return HttpResponse(
                _("Unknown clock action: expected start, pause, jump or release_due."), status=400
            )
    except (msel.MselError, ValueError) as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse(
            {
                "seconds": exercise.scenario_seconds(),
                "running": exercise.clock_running,
                "released": [i.number for i in released],
            }
        )
    return redirect("exercises:conduct", pk=exercise.pk)


@role_required("exercises", "viewer")
@require_POST
def journal_add(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    form = JournalForm(request.POST, exercise=exercise)
    if not form.is_valid():
        return HttpResponse(_("A journal entry needs a kind and a text."), status=400)
    entry = form.save(commit=False)
    if entry.kind == JournalEntry.Kind.NOTE and not _controller(request.user):
        raise deny(request, "controller notes need the exercises:editor role")
    entry.exercise = exercise
    entry.author = request.user  # type: ignore[assignment]
    entry.scenario_s = exercise.scenario_seconds()
    entry.save()
    if request.POST.get("next") == "conduct" and has_role(request.user, "exercises", "operator"):
        return redirect("exercises:conduct", pk=exercise.pk)
    return _back(exercise, "#journal")


@role_required("exercises", "editor")
def journal_export(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    tz = exercise.city.timezone
    buffer = stdio.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("Time"),
            _("Scenario time"),
            _("Kind"),
            _("Text"),
            _("Author"),
            _("Inject"),
            _("Objective"),
        ]
    )
    for entry in exercise.journal.select_related("author", "inject", "objective"):
        writer.writerow(
            [
                timezone.localtime(entry.at, timezone=_zone(tz)).strftime("%Y-%m-%d %H:%M:%S"),
                msel.clock_text(entry.scenario_s),
                entry.get_kind_display(),
                msel_io.safe_cell(entry.text),
                entry.author.get_username() if entry.author else "",
                entry.inject.number if entry.inject else "",
                entry.objective.number if entry.objective else "",
            ]
        )
    audit.record("export", obj=exercise, detail={"what": "journal", "format": "csv"})
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="journal-{exercise.pk}.csv"'
    return response


def _zone(name: str) -> Any:
    import zoneinfo

    return zoneinfo.ZoneInfo(name)


# --- evaluation and improvement --------------------------------------------------------------------


@role_required("exercises", "editor")
@require_http_methods(["GET", "POST"])
def evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    user: Any = request.user
    mine = evaluation.objectives_to_rate(exercise, request.user)
    if request.method == "POST":
        wanted = request.POST.get("objective", "")
        if not wanted.isdigit():
            return HttpResponse(_("Choose the objective to rate."), status=400)
        objective = fetch(request, exercise.objectives, "objective", pk=int(wanted))
        if objective not in mine:
            raise deny(request, "you are not an evaluator of this objective")
        current = Evaluation.objects.filter(objective=objective, evaluator=user).first()
        form = EvaluationForm(request.POST, instance=current, prefix=f"o{objective.pk}")
        if not form.is_valid():
            return HttpResponse(_("Choose a rating: P, S, M or U."), status=400)
        rated = form.save(commit=False)
        rated.objective = objective
        rated.evaluator = request.user  # type: ignore[assignment]
        rated.save()
        messages.success(request, _("Evaluation saved."))
        return redirect("exercises:evaluate", pk=exercise.pk)
    forms = []
    for objective in mine:
        current = Evaluation.objects.filter(objective=objective, evaluator=user).first()
        forms.append((objective, EvaluationForm(instance=current, prefix=f"o{objective.pk}")))
    return render(request, "exercises/evaluate.html", {"exercise": exercise, "forms": forms})


@role_required("exercises", "viewer")
def coverage(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    return render(
        request,
        "exercises/coverage.html",
        {"exercise": exercise, "rows": evaluation.coverage(exercise)},
    )


@role_required("exercises", "viewer")
def report(request: HttpRequest, pk: int) -> HttpResponse:
    """The after-action report: printable A4 HTML (the browser's print makes the PDF)."""
    exercise = _exercise(request, pk)
    audit.record("read", obj=exercise, detail={"what": "after-action report"})
    return render(
        request,
        "exercises/report.html",
        {
            "exercise": exercise,
            "rows": evaluation.coverage(exercise),
            "actions": exercise.actions.select_related("owner", "objective"),
            "journal": exercise.journal.filter(
                kind__in=[
                    JournalEntry.Kind.INJECT,
                    JournalEntry.Kind.ACTION,
                    JournalEntry.Kind.OBSERVATION,
                ]
            ).select_related("author"),
            "participants": exercise.participants.select_related("organisation"),
            "today": training.local_today(exercise.city),
        },
    )


@role_required("exercises", "editor")
@require_http_methods(["GET", "POST"])
def action_edit(request: HttpRequest, pk: int, action_pk: int | None = None) -> HttpResponse:
    exercise = _exercise(request, pk)
    action = (
        fetch(request, exercise.actions, "corrective action", pk=action_pk)
        if action_pk is not None
        else None
    )
    form = ActionForm(request.POST or None, instance=action, exercise=exercise)
    if request.method == "POST" and form.is_valid():
        obj = form.save(commit=False)
        obj.exercise = exercise
        if obj.status == CorrectiveAction.Status.DONE and obj.completed_on is None:
            obj.completed_on = training.local_today(exercise.city)
        obj.save()
        messages.success(request, _("Corrective action saved."))
        return _back(exercise, "#improvement")
    return render(
        request,
        "exercises/form.html",
        {"form": form, "exercise": exercise, "title": _("Corrective action")},
        status=400 if request.method == "POST" else 200,
    )


# --- training --------------------------------------------------------------------------------------


@role_required("exercises", "viewer")
def calendar_ics(request: HttpRequest) -> HttpResponse:
    """The current city's exercises and training sessions as an iCalendar file."""
    from rempart.exercises.calendar import city_calendar

    city = required_city(request)
    response = HttpResponse(city_calendar(city), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rempart-{city.slug}.ics"'
    return response


@role_required("exercises", "viewer")
def courses(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    return render(
        request,
        "exercises/courses.html",
        {"city": city, "courses": Course.objects.filter(city=city), "form": CourseForm()},
    )


@role_required("exercises", "editor")
@require_POST
def course_add(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    form = CourseForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("A course needs a title and a validity in months."), status=400)
    item = form.save(commit=False)
    item.city = city
    item.save()
    return redirect("exercises:course", pk=item.pk)


@role_required("exercises", "viewer")
def course(request: HttpRequest, pk: int) -> HttpResponse:
    item = fetch(request, Course.objects.select_related("city"), f"course {pk}", pk=pk)
    today = training.local_today(item.city)
    return render(
        request,
        "exercises/course.html",
        {
            "course": item,
            "today": today,
            "sessions": item.sessions.prefetch_related("enrolments__person"),
            "now": timezone.now(),
            "certificates": item.certificates.select_related("person", "person__profile"),
            "session_form": SessionForm(),
            "certificate_form": CertificateForm(course=item),
        },
    )


@role_required("exercises", "editor")
@require_POST
def session_add(request: HttpRequest, pk: int) -> HttpResponse:
    item = fetch(request, Course.objects, f"course {pk}", pk=pk)
    form = SessionForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("A session needs a start, an end and a capacity."), status=400)
    session = form.save(commit=False)
    session.course = item
    session.save()
    return redirect("exercises:course", pk=item.pk)


@role_required("exercises", "editor")
@require_POST
def certificate_add(request: HttpRequest, pk: int) -> HttpResponse:
    item = fetch(request, Course.objects, f"course {pk}", pk=pk)
    form = CertificateForm(request.POST, course=item)
    if not form.is_valid():
        return HttpResponse(_("A certificate needs a person and a completion date."), status=400)
    cert = form.save(commit=False)
    cert.course = item
    try:
        with transaction.atomic():
            cert.save()
    except IntegrityError:
        return HttpResponse(_("This certificate could not be saved."), status=400)
    return redirect("exercises:course", pk=item.pk)


def _session(request: HttpRequest, pk: int) -> TrainingSession:
    return fetch(
        request, TrainingSession.objects.select_related("course__city"), f"session {pk}", pk=pk
    )


@role_required("exercises", "viewer")
@require_POST
def session_enrol(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    enrolment = training.enrol(session, request.user)
    if enrolment.status == Enrolment.Status.WAITING:
        messages.info(request, _("The session is full: you are on the waiting list."))
    else:
        messages.success(request, _("You are enrolled."))
    return redirect("exercises:course", pk=session.course_id)


@role_required("exercises", "viewer")
@require_POST
def session_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    training.cancel(session, request.user)
    messages.success(request, _("You have left the session."))
    return redirect("exercises:course", pk=session.course_id)


@role_required("exercises", "editor")
@require_POST
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = fetch(
        request,
        Enrolment.objects.select_related("session__course__city", "person"),
        f"enrolment {pk}",
        pk=pk,
    )
    try:
        training.record_attendance(enrolment, request.POST.get("attended") == "yes")
    except training.TrainingError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    return redirect("exercises:course", pk=enrolment.session.course_id)


@role_required("exercises", "viewer")
def certifications(request: HttpRequest) -> HttpResponse:
    """Who holds what, per organisation, and what lapses within the chosen number of days."""
    city = required_city(request)
    days_text = request.GET.get("days", "90")
    days = int(days_text) if days_text.isdigit() and int(days_text) <= 3660 else 90
    today = training.local_today(city)
    rows = (
        training.lapsing(city, days)
        .select_related("person__profile__organisation")
        .order_by("person__profile__organisation__name", "expires_on")
    )
    expired = Course.objects.filter(city=city).prefetch_related("certificates").order_by("title")
    lapsed = [c for course_ in expired for c in course_.certificates.all() if c.expires_on < today]
    audit.record("read", obj=city, detail={"what": "certification coverage", "days": days})
    return render(
        request,
        "exercises/certifications.html",
        {
            "city": city,
            "rows": rows,
            "days": days,
            "today": today,
            "lapsed": lapsed,
            "until": today + dt.timedelta(days=days),
        },
    )
