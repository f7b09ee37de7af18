"""The permission matrix of the pages and API endpoints, and what the pages show."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rempart.core.audit_models import AuditEntry
from rempart.core.models import ApiToken, Site
from rempart.practices import workflow
from rempart.practices.models import (
    Attachment,
    Event,
    HelpRequest,
    Practice,
    SiteLink,
    Thread,
    WorkingGroup,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[7.26, 43.69], [7.27, 43.69], [7.27, 43.70], [7.26, 43.70], [7.26, 43.69]]],
}


@pytest.fixture
def world(users: dict[str, Any], city: Any, catalogue: dict[str, Practice]) -> dict[str, Any]:
    practice = catalogue["bollards-promenade"]
    practice.created_by = users["editor"]
    practice.contacts = [{"name": "Service des sports", "email": "s@example.org"}]
    practice.save()
    draft = workflow.save_practice(
        Practice(title="A draft", summary="Not ready.", language="en"), users["editor"]
    )
    submitted = workflow.save_practice(
        Practice(title="Submitted one", summary="Ready.", language="en"), users["editor"]
    )
    workflow.submit(submitted, users["editor"])
    workflow.assign_reviewer(submitted, users["reviewer1"], users["admin"])
    site = Site.objects.create(city=city, name="Promenade", kind="promenade", boundary=SQUARE)
    link = SiteLink.objects.create(practice=practice, site=site)
    attachment = Attachment.objects.create(
        practice=practice, title="Report", path="practices/x.pdf", size=10, sha256="0" * 64
    )
    group = WorkingGroup.objects.create(name="Public spaces")
    group.members.add(users["viewer"])
    thread = Thread.objects.create(group=group, title="Bollards")
    now = timezone.now()
    event = Event.objects.create(
        title="Field visit", kind="field_visit", starts_at=now, ends_at=now, capacity=2
    )
    help_request = HelpRequest.objects.create(
        author=users["viewer"], question="Who has protected a market?", themes=["education"]
    )
    return {
        "practice": practice,
        "draft": draft,
        "submitted": submitted,
        "site": site,
        "link": link,
        "attachment": attachment,
        "group": group,
        "thread": thread,
        "event": event,
        "request": help_request,
    }


# (url name, object key for the argument, lowest role, role just below (or an outsider))
PAGES = [
    ("practices:index", None, "viewer", "outsider"),
    ("practices:mine", None, "viewer", "outsider"),
    ("practices:detail", "practice", "viewer", "outsider"),
    ("practices:contacts", "practice", "viewer", "outsider"),
    ("practices:create", None, "editor", "viewer"),
    ("practices:edit", "practice", "editor", "viewer"),
    ("practices:assign", "submitted", "admin", "supervisor"),
    ("practices:review", "submitted", "reviewer1", "operator"),
    ("practices:members", None, "viewer", "outsider"),
    ("practices:my_profile", None, "viewer", "outsider"),
    ("practices:groups", None, "viewer", "outsider"),
    ("practices:group", "group", "viewer", "outsider"),
    ("practices:thread", "thread", "viewer", "outsider"),
    ("practices:events", None, "viewer", "outsider"),
    ("practices:event", "event", "viewer", "outsider"),
    ("practices:requests", None, "viewer", "outsider"),
    ("practices:request", "request", "viewer", "outsider"),
]


def url_for(world: dict[str, Any], name: str, key: str | None) -> str:
    return reverse(name, args=[world[key].pk] if key else [])


@pytest.mark.parametrize(("name", "key", "allowed", "refused"), PAGES)
def test_page_permissions(
    client: Client,
    users: dict[str, Any],
    world: dict[str, Any],
    name: str,
    key: str | None,
    allowed: str,
    refused: str,
) -> None:
    url = url_for(world, name, key)
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(users[refused])
    assert client.get(url).status_code == 403
    client.force_login(users[allowed])
    assert client.get(url).status_code == 200


POSTS = [
    ("practices:submit", "draft", "editor", "viewer"),
    ("practices:event_register", "event", "viewer", "outsider"),
    ("practices:group_join", "group", "viewer", "outsider"),
    ("practices:site_link_delete", "link", "editor", "viewer"),
]


@pytest.mark.parametrize(("name", "key", "allowed", "refused"), POSTS)
def test_post_permissions(
    client: Client,
    users: dict[str, Any],
    world: dict[str, Any],
    name: str,
    key: str | None,
    allowed: str,
    refused: str,
) -> None:
    url = url_for(world, name, key)
    assert client.post(url).status_code == 302
    client.force_login(users[refused])
    assert client.post(url).status_code == 403
    client.force_login(users[allowed])
    assert client.post(url).status_code == 302


def test_denials_are_audited(client: Client, users: dict[str, Any], world: dict[str, Any]) -> None:
    client.force_login(users["outsider"])
    client.get(reverse("practices:index"))
    assert AuditEntry.objects.filter(action="permission_denied", object_repr="/practices/").exists()


def test_draft_hidden_from_viewer(
    client: Client, users: dict[str, Any], world: dict[str, Any]
) -> None:
    client.force_login(users["viewer"])  # a draft is its organisation's: as no practice
    assert client.get(reverse("practices:detail", args=[world["draft"].pk])).status_code == 404
    client.force_login(users["editor"])
    assert client.get(reverse("practices:detail", args=[world["draft"].pk])).status_code == 200


def test_contacts_only_on_request_and_audited(
    client: Client, users: dict[str, Any], world: dict[str, Any]
) -> None:
    practice = world["practice"]
    client.force_login(users["viewer"])
    page = client.get(reverse("practices:detail", args=[practice.pk]))
    assert b"s@example.org" not in page.content
    assert not AuditEntry.objects.filter(action="sensitive_read").exists()
    shown = client.get(reverse("practices:contacts", args=[practice.pk]), HTTP_HX_REQUEST="true")
    assert b"s@example.org" in shown.content
    entry = AuditEntry.objects.get(action="sensitive_read")
    assert (entry.object_id, entry.actor) == (str(practice.pk), "viewer")


def test_catalogue_search_and_htmx(
    client: Client, users: dict[str, Any], world: dict[str, Any]
) -> None:
    client.force_login(users["viewer"])
    page = client.get(reverse("practices:index"), {"q": "bornes", "setting": "street"})
    # an English reader gets the English translation of the French record, marked as English
    assert b'lang="en">Protecting the promenade' in page.content
    assert b"<html" in page.content
    partial = client.get(
        reverse("practices:index"),
        {"q": "bornes"},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert b"<html" not in partial.content
    assert b'lang="fr">Protection de la promenade' in partial.content


def test_detail_translation_switch(
    client: Client, users: dict[str, Any], world: dict[str, Any]
) -> None:
    client.force_login(users["viewer"])
    url = reverse("practices:detail", args=[world["practice"].pk])
    assert b"Protecting the promenade" in client.get(url, {"lang": "en"}).content
    assert b"Protection de la promenade" in client.get(url, {"lang": "fr"}).content


def test_create_form_and_review_page(
    client: Client, users: dict[str, Any], world: dict[str, Any]
) -> None:
    client.force_login(users["editor"])
    response = client.post(
        reverse("practices:create"),
        {
            "language": "en",
            "title": "Night mediators",
            "summary": "Mediators at night.",
            "themes": ["community_policing"],
            "licence": "CC-BY-4.0",
            "links_text": "https://example.org/report Evaluation report",
            "contacts_text": "Jane Doe | jane@example.org | coordinator",
            "tr_fr_title": "Médiateurs de nuit",
            "tr_fr_summary": "Des médiateurs la nuit.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    practice = Practice.objects.get(title="Night mediators")
    assert practice.links == [{"url": "https://example.org/report", "title": "Evaluation report"}]
    assert practice.contacts[0]["email"] == "jane@example.org"
    assert practice.translations.get().title == "Médiateurs de nuit"
    client.force_login(users["reviewer1"])
    url = reverse("practices:review", args=[world["submitted"].pk])
    response = client.post(url, {"conflict": "no", "decision": "publish", "label": "promising"})
    assert response.status_code == 302
    assert world["submitted"].reviews.get().label == "promising"


def test_attachment_upload_checks_pdf(
    client: Client, users: dict[str, Any], world: dict[str, Any]
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(users["editor"])
    url = reverse("practices:attachment_add", args=[world["practice"].pk])
    fake = SimpleUploadedFile("x.pdf", b"MZ not a pdf", content_type="application/pdf")
    response = client.post(url, {"title": "Fake", "file": fake})
    assert response.status_code == 400 and b"not a PDF" in response.content
    real = SimpleUploadedFile("r.pdf", PDF, content_type="application/pdf")
    assert client.post(url, {"title": "Real", "file": real}).status_code == 302
    attachment = Attachment.objects.get(title="Real")
    client.force_login(users["viewer"])
    download = client.get(reverse("practices:attachment", args=[attachment.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


def test_site_panel(
    client: Client, users: dict[str, Any], world: dict[str, Any], make_user: Any
) -> None:
    core_viewer = make_user("siteviewer", "viewer", module="core")
    client.force_login(core_viewer)
    page = client.get(reverse("core:site_detail", args=[world["site"].pk]))
    assert page.status_code == 200 and b"What we applied here" not in page.content
    from rempart.core.roles import grant

    grant(core_viewer, "practices", "viewer")
    page = client.get(reverse("core:site_detail", args=[world["site"].pk]))
    assert b"What we applied here" in page.content
    assert b"Protection de la promenade" in page.content  # applied here


def test_site_panel_relevant(users: dict[str, Any], world: dict[str, Any], rf: Any) -> None:
    from rempart.practices.site_panel import relevant

    world["link"].delete()
    titles = [p.ref for p in relevant(world["site"])]
    assert titles == ["bollards-promenade"]  # the only public-space protection practice


def test_dashboard_counts(world: dict[str, Any], city: Any) -> None:
    from rempart.practices.dashboard import counts

    figures = dict(counts(city))
    assert figures["Published practices"] == 8
    assert figures["Practices applied at our sites"] == 1
    assert figures["Practices awaiting review"] == 1


# --- API ----------------------------------------------------------------------------------


def bearer(user: Any, *scopes: str) -> dict[str, str]:
    _token, secret = ApiToken.issue(user, "test", list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


API = "/api/v1/practices/"


def test_api_matrix(client: Client, users: dict[str, Any], world: dict[str, Any]) -> None:
    pk = world["practice"].pk
    reads = [API + "?q=bollards", f"{API}{pk}", f"{API}{pk}/contacts", f"{API}{pk}/similar"]
    for url in reads:
        assert client.get(url).status_code == 401, url
        assert client.get(url, **bearer(users["outsider"], "core:read")).status_code == 403, url
        assert client.get(url, **bearer(users["viewer"], "practices:read")).status_code == 200, url
    body = {"title": "API practice", "summary": "Made by API.", "themes": ["training"]}
    assert client.post(API, body, content_type="application/json").status_code == 401
    viewer = bearer(users["viewer"], "practices:read")
    assert client.post(API, body, content_type="application/json", **viewer).status_code == 403
    editor = bearer(users["editor"], "practices:read", "practices:write")
    created = client.post(API, body, content_type="application/json", **editor)
    assert created.status_code == 201
    new_pk = created.json()["id"]
    assert client.post(f"{API}{new_pk}/submit", **viewer).status_code == 403
    assert client.post(f"{API}{new_pk}/submit", **editor).json()["status"] == "submitted"
    bad = client.post(
        API, {**body, "themes": ["knitting"]}, content_type="application/json", **editor
    )
    assert bad.status_code == 422 and "knitting" in bad.json()["detail"]


def test_api_search_payload(client: Client, users: dict[str, Any], world: dict[str, Any]) -> None:
    data = client.get(
        API, {"q": "Online counter-narratives"}, **bearer(users["viewer"], "practices:read")
    ).json()
    assert data["results"][0]["ref"] == "mentoring-online"
    assert "theme" in data["facets"]
    detail = client.get(
        f"{API}{world['practice'].pk}", **bearer(users["viewer"], "practices:read")
    ).json()
    assert "contacts" not in detail
    hidden = client.get(f"{API}{world['draft'].pk}", **bearer(users["viewer"], "practices:read"))
    assert hidden.status_code == 404
