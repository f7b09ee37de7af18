"""Import and export from the web, and editing a published practice from its page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from rempart.core.audit_models import AuditEntry
from rempart.practices.io import to_csv
from rempart.practices.models import Practice, Status

pytestmark = pytest.mark.django_db

ROW = {
    "ref": "night-mediation",
    "title": "Night mediation",
    "summary": "Mediators in the streets at night.",
    "language": "en",
    "status": "published",
    "evidence_label": "effective",
}


def upload(client: Client, name: str, content: str) -> Any:
    return client.post(
        reverse("practices:transfer"),
        {"file": SimpleUploadedFile(name, content.encode(), content_type="text/plain")},
    )


def test_transfer_page_is_for_editors(client: Client, users: dict[str, Any]) -> None:
    client.force_login(users["viewer"])
    assert client.get(reverse("practices:transfer")).status_code == 403
    assert client.get(reverse("practices:export")).status_code == 403
    client.force_login(users["editor"])
    assert client.get(reverse("practices:transfer")).status_code == 200


def test_editor_upload_makes_drafts_for_review(client: Client, users: dict[str, Any]) -> None:
    client.force_login(users["editor"])
    response = upload(client, "catalogue.json", json.dumps([ROW]))
    assert response.status_code == 302
    practice = Practice.objects.get(ref="night-mediation")
    # an editor's file cannot publish nor label: a draft of their organisation, to review
    assert (practice.status, practice.evidence_label) == (Status.DRAFT, "")
    assert practice.created_by == users["editor"]
    assert practice.owner_organisation == users["editor"].profile.organisation
    entry = AuditEntry.objects.filter(action="import").latest("pk")
    assert entry.detail["created"] == 1 and entry.detail["as_editor"] is True


def test_upload_reports_every_rejected_row_and_writes_nothing(
    client: Client, users: dict[str, Any], catalogue: dict[str, Practice]
) -> None:
    client.force_login(users["editor"])
    rows = [
        ROW,
        {**ROW, "ref": "bad-one", "title": "", "language": "xx"},
        {**ROW, "ref": "exit-mentoring"},  # published: edited in the app, reviewed again
    ]
    response = upload(client, "catalogue.csv", to_csv(rows))
    assert response.status_code == 400
    text = response.content.decode()
    assert "row 2 (bad-one): title: required" in text
    assert "row 2 (bad-one): language" in text
    assert (
        "row 3 (exit-mentoring): ref: &#x27;exit-mentoring&#x27; belongs to a practice you" in text
    )
    assert not Practice.objects.filter(ref__in=["night-mediation", "bad-one"]).exists()
    assert upload(client, "notes.txt", "hello").status_code == 400
    assert "not valid JSON" in upload(client, "broken.json", "[{").content.decode()


def test_admin_upload_is_the_administrative_import(client: Client, users: dict[str, Any]) -> None:
    client.force_login(users["admin"])
    assert upload(client, "catalogue.json", json.dumps([ROW])).status_code == 302
    practice = Practice.objects.get(ref="night-mediation")
    assert (practice.status, practice.evidence_label) == (Status.PUBLISHED, "effective")


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_download_is_audited(
    client: Client, users: dict[str, Any], catalogue: dict[str, Practice], fmt: str
) -> None:
    other = Practice.objects.create(ref="other-draft", title="Other draft", summary="x")
    client.force_login(users["editor"])
    response = client.get(reverse("practices:export"), {"format": fmt})
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="practices.{fmt}"'
    body = response.content.decode()
    assert "exit-mentoring" in body
    assert other.ref not in body  # a draft the editor may not edit
    entry = AuditEntry.objects.filter(action="export").latest("pk")
    assert entry.object_repr == f"practices.{fmt}"
    assert entry.detail["count"] == len(catalogue) and entry.detail["format"] == fmt
    assert client.get(reverse("practices:export"), {"format": "xml"}).status_code == 400


def test_editing_published_from_its_page_prepares_a_new_version(
    client: Client, users: dict[str, Any], catalogue: dict[str, Practice]
) -> None:
    practice = catalogue["exit-mentoring"]
    practice.created_by = users["editor"]
    practice.save()
    client.force_login(users["editor"])
    form = client.get(reverse("practices:edit", args=[practice.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data.update(
        {
            "themes": practice.themes,
            "audiences": practice.audiences,
            "settings": practice.settings,
            "summary": "Mentors and families support young people leaving extremist groups.",
        }
    )
    response = client.post(reverse("practices:edit", args=[practice.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    revision = Practice.objects.get(revision_of=practice)
    assert response["Location"] == revision.get_absolute_url()
    practice.refresh_from_db()
    assert practice.status == Status.PUBLISHED and "families" not in practice.summary
    assert "families" in revision.summary
    # the published page points editors to the version in preparation; the edit page leads there
    page = client.get(practice.get_absolute_url()).content.decode()
    assert revision.get_absolute_url() in page
    response = client.get(reverse("practices:edit", args=[practice.pk]))
    assert response["Location"] == reverse("practices:edit", args=[revision.pk])
    client.force_login(users["viewer"])
    assert client.get(revision.get_absolute_url()).status_code == 404


def test_editor_upload_cannot_overwrite_a_published_practice(
    client: Client, users: dict[str, Any], catalogue: dict[str, Practice]
) -> None:
    practice = catalogue["exit-mentoring"]
    practice.created_by = users["editor"]
    practice.save()
    client.force_login(users["editor"])
    response = upload(client, "one.json", json.dumps([{**ROW, "ref": "exit-mentoring"}]))
    assert response.status_code == 400
    assert "is published; a published practice gets a new version by editing it" in (
        response.content.decode()
    )
    practice.refresh_from_db()
    assert practice.title == "Exit mentoring for radicalised young people"
