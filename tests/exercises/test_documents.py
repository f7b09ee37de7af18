"""Exercise documents: each shown to the roles the HSEEP split gives it, as HTML and PDF."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rempart.core.audit_models import AuditEntry
from rempart.core.models import Organisation
from rempart.exercises.models import Exercise, Participant
from tests.exercises.conftest import make_inject

pytestmark = pytest.mark.django_db

DOCS = ("handout", "handbook", "sitman", "aar")
#: exercise role -> the documents it may read (the brief's table)
ALLOWED = {
    "player": {"handout"},
    "controller": {"handout", "handbook"},
    "evaluator": {"handout", "handbook"},
    "director": set(DOCS),
}


def _user(role: str, exercise: Exercise, make_user: Any, organisation: Any) -> Any:
    if role == "director":
        return make_user("editor", modules=("exercises",), username="director")
    user = make_user("viewer", modules=("exercises",), username=role)
    Participant.objects.create(
        exercise=exercise, organisation=organisation, user=user, name=role, role=role
    )
    return user


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_each_role_reads_only_its_documents(
    exercise: Exercise, make_user: Any, organisation: Any, role: str
) -> None:
    make_inject(exercise, 1, controller_notes="Secret controller note")
    client = Client()
    client.force_login(_user(role, exercise, make_user, organisation))
    for doc in DOCS:
        url = reverse("exercises:document", args=[exercise.pk, doc, "html"])
        response = client.get(url)
        expected = 200 if doc in ALLOWED[role] else 403
        assert response.status_code == expected, (role, doc)
        if response.status_code == 200:
            page = response.content.decode()
            assert exercise.name in page
            assert ("Secret controller note" in page) == (doc == "handbook")
    reads = AuditEntry.objects.filter(action="read", object_id=str(exercise.pk)).count()
    assert reads == len(ALLOWED[role])


def test_each_document_is_a_pdf(exercise: Exercise, make_user: Any, organisation: Any) -> None:
    client = Client()
    client.force_login(_user("director", exercise, make_user, organisation))
    for doc in DOCS:
        response = client.get(reverse("exercises:document", args=[exercise.pk, doc, "pdf"]))
        assert response.status_code == 200, doc
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")


def test_an_unknown_document_names_what_is_expected(exercise: Exercise, make_user: Any) -> None:
    client = Client()
    client.force_login(make_user("editor", modules=("exercises",)))
    response = client.get(reverse("exercises:document", args=[exercise.pk, "minutes", "html"]))
    assert response.status_code == 404


def test_another_citys_director_is_refused(
    exercise: Exercise, make_user: Any, other_city: Any
) -> None:
    org = Organisation.objects.create(name="Ville de Lyon", kind="municipality", city=other_city)
    org.cities.add(other_city)
    client = Client()
    client.force_login(make_user("admin", org=org, username="lyon-director"))
    response = client.get(reverse("exercises:document", args=[exercise.pk, "handout", "html"]))
    assert response.status_code in (403, 404)


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_the_exercise_page_links_exactly_the_documents_of_the_role(
    exercise: Exercise, make_user: Any, organisation: Any, role: str
) -> None:
    client = Client()
    client.force_login(_user(role, exercise, make_user, organisation))
    page = client.get(reverse("exercises:detail", args=[exercise.pk])).content.decode()
    for doc in DOCS:
        for fmt in ("html", "pdf"):
            url = reverse("exercises:document", args=[exercise.pk, doc, fmt])
            assert (url in page) == (doc in ALLOWED[role]), (role, doc, fmt)


def test_the_document_links_read_in_french(
    exercise: Exercise, make_user: Any, organisation: Any
) -> None:
    client = Client()
    client.force_login(_user("director", exercise, make_user, organisation))
    url = reverse("exercises:detail", args=[exercise.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    for french in ("Documents", "Livret du joueur", "Manuel de situation"):
        assert french in page
    assert "Player handout" not in page and "Situation manual" not in page
