"""The exercise documents (HSEEP): player handout, controller/evaluator handbook, situation
manual (SitMan) and after-action report, as printable HTML and as PDF (WeasyPrint).

Who reads which (checked on every request, every read audited):

- directors (``exercises`` editor or above: they plan and run the exercise): all four;
- the exercise's controllers, evaluators and facilitators: the handbook and the handout;
- its players and observers: the handout only.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from rempart.core import audit
from rempart.core.access_rules import fetch
from rempart.core.permissions import deny, role_required
from rempart.core.roles import has_role
from rempart.exercises import evaluation, training
from rempart.exercises.models import Exercise, Participant

DOCUMENTS = ("handout", "handbook", "sitman", "aar")
#: Participant role -> the documents it may read (directors read all of DOCUMENTS).
BY_ROLE: dict[str, tuple[str, ...]] = {
    Participant.Role.PLAYER: ("handout",),
    Participant.Role.OBSERVER: ("handout",),
    Participant.Role.CONTROLLER: ("handout", "handbook"),
    Participant.Role.EVALUATOR: ("handout", "handbook"),
    Participant.Role.FACILITATOR: ("handout", "handbook"),
}


def readable(user: Any, exercise: Exercise) -> set[str]:
    """The documents of ``exercise`` this user may read."""
    if has_role(user, "exercises", "editor"):
        return set(DOCUMENTS)
    roles = exercise.participants.filter(user=user).values_list("role", flat=True)
    return {doc for role in roles for doc in BY_ROLE.get(role, ())}


def _titles() -> dict[str, str]:
    """Each document's title in the active language."""
    return {
        "handout": _("Player handout"),
        "handbook": _("Controller and evaluator handbook"),
        "sitman": _("Situation manual"),
        "aar": _("After-action report"),
    }


def links(user: Any, exercise: Exercise) -> list[tuple[str, str]]:
    """(document code, title) of the documents of ``exercise`` this user may read, in the
    order of :data:`DOCUMENTS` (the exercise page links each as HTML and PDF)."""
    allowed = readable(user, exercise)
    titles = _titles()
    return [(doc, titles[doc]) for doc in DOCUMENTS if doc in allowed]


def _context(exercise: Exercise, doc: str) -> dict[str, Any]:
    injects = exercise.injects.order_by("scenario_time_s", "number")
    return {
        "exercise": exercise,
        "doc": doc,
        "title": _titles()[doc],
        "objectives": exercise.objectives.order_by("number"),
        "participants": exercise.participants.select_related("organisation"),
        "injects": injects,
        "rows": evaluation.coverage(exercise) if doc == "aar" else [],
        "actions": exercise.actions.select_related("owner", "objective") if doc == "aar" else [],
        "today": training.local_today(exercise.city),
    }


@role_required("exercises", "viewer")
def document(request: HttpRequest, pk: int, doc: str, fmt: str) -> HttpResponse:
    """``/exercises/<pk>/documents/<doc>.<fmt>``: ``doc`` in :data:`DOCUMENTS`, ``fmt`` html
    or pdf."""
    if doc not in DOCUMENTS or fmt not in ("html", "pdf"):
        raise Http404(
            f"No document {doc}.{fmt}; expected one of {', '.join(DOCUMENTS)} as .html or .pdf."
        )
    director = has_role(request.user, "exercises", "editor")
    if not director and not Participant.objects.filter(user__pk=request.user.pk or 0).exists():
        raise deny(request, "exercise documents are for directors and exercise participants")
    exercise = fetch(
        request, Exercise.objects.select_related("city", "site"), f"exercise {pk}", pk=pk
    )
    timezone.activate(exercise.city.timezone)
    if doc not in readable(request.user, exercise):
        raise deny(request, f"the {doc} of exercise {pk} is not for this user's exercise role")
    audit.record("read", obj=exercise, detail={"what": f"document {doc}", "format": fmt})
    html = render_to_string("exercises/document.html", _context(exercise, doc), request=request)
    if fmt == "html":
        return HttpResponse(html)
    from rempart.assess.engine.report.pdf import html_to_pdf

    response = HttpResponse(html_to_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="exercise-{pk}-{doc}.pdf"'
    return response
