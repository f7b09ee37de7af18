"""The exercise pages: what each role sees and may do, another city's exercise hidden."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from rempart.core.audit_models import AuditEntry
from rempart.exercises.models import (
    CorrectiveAction,
    Evaluation,
    Exercise,
    Inject,
    JournalEntry,
    Participant,
)
from tests.exercises.conftest import make_inject

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_players_see_only_released_injects_and_controllers_all(
    exercise: Exercise, make_user: Any
) -> None:
    make_inject(exercise, 1, message="Released message")
    make_inject(exercise, 2, message="Secret until released", controller_notes="hush")
    operator = make_user("operator")
    page = reverse("exercises:detail", args=[exercise.pk])
    url = reverse("exercises:inject_state", args=[exercise.pk, 1])
    assert _client(operator).post(url, {"state": "released"}).status_code == 302
    player = _client(make_user("viewer"))
    body = player.get(page).content.decode()
    assert "Released message" in body and "Secret until released" not in body
    assert "hush" not in body
    controller = _client(operator).get(page).content.decode()
    assert "Secret until released" in controller and "hush" in controller
    # a player cannot release anything
    assert player.post(url.replace("/1/", "/2/"), {"state": "released"}).status_code == 403


def test_a_skip_without_reason_is_refused_with_one_line(exercise: Exercise, make_user: Any) -> None:
    make_inject(exercise, 1)
    client = _client(make_user("operator"))
    url = reverse("exercises:inject_state", args=[exercise.pk, 1])
    response = client.post(url, {"state": "skipped", "reason": ""})
    assert response.status_code == 400
    assert response.content.decode() == "inject #1: a reason is needed to mark it skipped"
    assert client.post(url, {"state": "skipped", "reason": "time"}).status_code == 302
    assert Inject.objects.get(number=1).state == "skipped"


def test_evaluators_rate_only_their_objectives(
    exercise: Exercise, objectives: Any, make_user: Any, organisation: Any
) -> None:
    evaluator = make_user("editor")
    participant = Participant.objects.create(
        exercise=exercise, organisation=organisation, user=evaluator, name="Eva", role="evaluator"
    )
    participant.objectives.add(objectives[0])
    client = _client(evaluator)
    url = reverse("exercises:evaluate", args=[exercise.pk])
    page = client.get(url).content.decode()
    assert objectives[0].text in page and objectives[1].text not in page
    first, second = (f"o{o.pk}-" for o in objectives)
    ok = client.post(
        url, {"objective": objectives[0].pk, f"{first}rating": "S", f"{first}strengths": "Fast"}
    )
    assert ok.status_code == 302
    refused = client.post(url, {"objective": objectives[1].pk, f"{second}rating": "P"})
    assert refused.status_code == 403
    assert (Evaluation.objects.get().rating, Evaluation.objects.get().strengths) == ("S", "Fast")
    supervisor = _client(make_user("supervisor"))
    rated = supervisor.post(url, {"objective": objectives[1].pk, f"{second}rating": "U"})
    assert rated.status_code == 302
    coverage = client.get(reverse("exercises:coverage", args=[exercise.pk])).content.decode()
    assert "Performed with some challenges" in coverage and "Unable to be performed" in coverage


def test_the_report_and_journal(
    exercise: Exercise, objectives: Any, make_user: Any, organisation: Any
) -> None:
    viewer = _client(make_user("viewer"))
    add = reverse("exercises:journal_add", args=[exercise.pk])
    assert viewer.post(add, {"kind": "action", "text": "Bollards raised"}).status_code == 302
    assert viewer.post(add, {"kind": "note", "text": "Controllers only"}).status_code == 403
    assert JournalEntry.objects.filter(kind="action").count() == 1
    CorrectiveAction.objects.create(
        exercise=exercise,
        capability="warning",
        description="Rewrite the alert procedure",
        owner=organisation,
        due_on="2026-01-31",
    )
    report = viewer.get(reverse("exercises:report", args=[exercise.pk]))
    body = report.content.decode()
    assert "Bollards raised" in body and "Rewrite the alert procedure" in body
    assert (
        "size: A4"
        in open(  # noqa: SIM115, PTH123
            "src/rempart/exercises/static/exercises/report.css"
        ).read()
    )
    editor = _client(make_user("editor"))
    csv_text = editor.get(reverse("exercises:journal_export", args=[exercise.pk])).content.decode()
    assert "Bollards raised" in csv_text.splitlines()[1]
    assert AuditEntry.objects.filter(action="export", object_type="exercises.exercise").exists()
    overdue = editor.get(reverse("exercises:detail", args=[exercise.pk])).content.decode()
    assert "overdue" in overdue


def test_a_bad_spreadsheet_is_refused_with_its_line(exercise: Exercise, make_user: Any) -> None:
    make_inject(exercise, 5, message="kept")
    client = _client(make_user("editor"))
    data = b"Number,From,To,Method,Message\n1,A,B,phone,ok\n2,A,B,fax,bad\n"
    response = client.post(
        reverse("exercises:msel_import", args=[exercise.pk]),
        {"file": SimpleUploadedFile("msel.csv", data, content_type="text/csv")},
    )
    assert response.status_code == 400
    assert response.content.decode().startswith("line 3: method 'fax' is unknown")
    assert list(exercise.injects.values_list("message", flat=True)) == ["kept"]


def test_another_citys_exercise_is_hidden(
    exercise: Exercise, make_user: Any, other_city: Any
) -> None:
    from rempart.core.models import Organisation

    lyon = Organisation.objects.create(name="Ville de Lyon", kind="municipality", city=other_city)
    lyon.cities.add(other_city)
    stranger = _client(make_user("admin", org=lyon, username="lyon-admin"))
    for name in ("exercises:detail", "exercises:report", "exercises:conduct"):
        assert stranger.get(reverse(name, args=[exercise.pk])).status_code == 404
    assert exercise.name not in stranger.get(reverse("exercises:index")).content.decode()
