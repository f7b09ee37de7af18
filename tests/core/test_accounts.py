"""Accounts: password reset by e-mail, the forced change of a one-time password (People page,
bootstrap, admin site; API tokens unaffected), the lockout page with its duration in words."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from rempart.core.audit_models import AuditEntry
from rempart.core.models import ApiToken
from tests.conftest import USER_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 42"


def _logs_in(username: str, password: str) -> bool:
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302 and response["Location"] == reverse("core:dashboard")


def _link(message: Any) -> str:
    found = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.body)
    assert found, message.body
    return found.group(1)


def test_password_reset_by_email_from_start_to_end(make_user: Any, organisation: Any) -> None:
    user = make_user("viewer", username="claire")
    user.email = "claire@nice.example"
    user.save()
    client = Client()
    assert "password/reset" in client.get(reverse("login")).content.decode()
    form = client.get(reverse("password_reset"))
    assert form.status_code == 200
    assert 'class="card narrow"' in form.content.decode()
    response = client.post(reverse("password_reset"), {"email": "Claire@nice.example"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["claire@nice.example"]
    assert "rempart" in message.subject and "\n" not in message.subject
    confirm = client.get(_link(message), follow=True)
    assert confirm.status_code == 200
    assert "new_password1" in confirm.content.decode()
    done = client.post(
        confirm.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    assert _logs_in("claire", NEW_PASSWORD)
    assert not _logs_in("claire", USER_PASSWORD)
    entry = AuditEntry.objects.get(action="password_reset_requested")
    assert entry.object_repr == "claire"
    assert entry.organisation_id == organisation.pk
    used_again = client.get(_link(message), follow=True)  # a link works once
    assert "does not work any more" in used_again.content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client: Client) -> None:
    response = client.post(reverse("password_reset"), {"email": "nobody@nowhere.example"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []
    entry = AuditEntry.objects.get(action="password_reset_requested")
    assert entry.detail == {"sent": False} and entry.organisation_id is None


def test_reset_pages_in_french(client: Client) -> None:
    client.cookies["django_language"] = "fr"
    page = client.get(reverse("password_reset")).content.decode()
    assert "Mot de passe oublié" in page


def _created_on_the_people_page(make_user: Any, organisation: Any) -> tuple[str, str]:
    admin_client = Client()
    admin_client.force_login(make_user("admin", modules=("core",), username="chef"))
    response = admin_client.post(
        reverse("core:person_create"),
        {
            "username": "nouvel.agent",
            "email": "",
            "organisation": organisation.pk,
            "is_active": "on",
            "role_core": "viewer",
            "role_access": "operator",
            "role_assess": "",
            "role_practices": "",
        },
    )
    assert response.status_code == 200
    return "nouvel.agent", response.context["password"]


def test_a_one_time_password_must_be_changed_before_anything_else(
    make_user: Any, organisation: Any
) -> None:
    username, one_time = _created_on_the_people_page(make_user, organisation)
    client = Client()
    login = client.post(reverse("login"), {"username": username, "password": one_time})
    assert login.status_code == 302
    for url in (reverse("core:dashboard"), reverse("core:site_list"), "/access/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("password_change"), url
    api = client.get("/api/v1/sites", {"city": "nice"})
    assert api.status_code == 403
    assert "password" in api.json()["detail"]
    page = client.get(reverse("password_change"))
    assert page.status_code == 200
    assert "set by an administrator" in page.content.decode()
    changed = client.post(
        reverse("password_change"),
        {"old_password": one_time, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert client.get(reverse("core:dashboard")).status_code == 200
    person = get_user_model().objects.get(username=username)
    assert not person.profile.must_change_password
    again = Client()  # and at the next login too
    assert again.post(reverse("login"), {"username": username, "password": NEW_PASSWORD})
    assert again.get(reverse("core:dashboard")).status_code == 200


def test_the_owners_api_token_works_meanwhile(make_user: Any, organisation: Any) -> None:
    username, one_time = _created_on_the_people_page(make_user, organisation)
    person = get_user_model().objects.get(username=username)
    _token, secret = ApiToken.issue(person, "script", ["core:read"])
    Client().post(reverse("login"), {"username": username, "password": one_time})
    response = Client().get(
        "/api/v1/sites", {"city": "nice"}, HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert response.status_code == 200


def test_accounts_of_the_fixture_and_demo_are_not_forced(client: Client, make_user: Any) -> None:
    client.force_login(make_user("viewer"))
    assert client.get(reverse("core:dashboard")).status_code == 200


def test_an_account_added_in_the_admin_site_gets_a_one_time_password(organisation: Any) -> None:
    root = get_user_model().objects.create_superuser("root", password=USER_PASSWORD)
    client = Client()
    client.force_login(root)
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "ajout.admin",
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    added = get_user_model().objects.get(username="ajout.admin")
    assert added.profile.must_change_password


def test_the_lockout_page_is_styled_and_says_for_how_long(
    client: Client, make_user: Any, organisation: Any
) -> None:
    make_user("viewer", username="target")
    for _attempt in range(5):
        client.post(
            reverse("login"), {"username": "target", "password": "wrong"}, REMOTE_ADDR="10.9.9.9"
        )
    response = client.post(
        reverse("login"), {"username": "target", "password": USER_PASSWORD}, REMOTE_ADDR="10.9.9.9"
    )
    assert response.status_code == 429
    page = response.content.decode()
    assert 'class="card narrow"' in page
    assert "locked for 15\xa0minutes" in page or "locked for 15 minutes" in page
    entry = AuditEntry.objects.filter(action="login_locked_out").latest("seq")
    assert entry.organisation_id == organisation.pk
    client.cookies["django_language"] = "fr"
    french = client.post(
        reverse("login"), {"username": "target", "password": USER_PASSWORD}, REMOTE_ADDR="10.9.9.9"
    ).content.decode()
    assert "verrouillée" in french and "15" in french and "minutes" in french
