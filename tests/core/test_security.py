"""Security of the web shell: every URL refuses anonymous users, login throttling, headers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from rempart.core.audit_models import AuditEntry

pytestmark = pytest.mark.django_db

#: Reachable without logging in, on purpose.
PUBLIC = {
    "login",
    "set_language",
    "javascript-catalog",
    "admin:login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}


def _patterns(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += _patterns(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            found.append((prefix + str(entry.pattern), f"{namespace}{entry.name or ''}"))
    return found


def _concrete(pattern: str) -> str:
    """A URL for a route pattern: converters get plausible values (objects need not exist)."""
    path = re.sub(r"<int:[^>]+>", "1", pattern)
    path = re.sub(r"<(?:slug|str|uuid|path):[^>]+>|<[^>]+>", "x", path)
    path = re.sub(r"\^|\$|\\Z|\(\?P<[^>]+>[^)]*\)", "x", path)
    return "/" + path.lstrip("/")


def test_every_url_refuses_anonymous_users(client: Client) -> None:
    """Anonymous: a page sends to the login (302), an API answers 401, never 200 with content."""
    checked = 0
    for pattern, name in _patterns(get_resolver()):
        if name in PUBLIC or pattern.startswith("static/") or name.startswith("admin:"):
            continue
        url = _concrete(pattern)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (302, 401, 403, 404, 405), (
                method,
                url,
                name,
                response.status_code,
            )
            if response.status_code == 302:
                assert "/accounts/login/" in response["Location"], (
                    method,
                    url,
                    response["Location"],
                )
        checked += 1
    assert checked > 20


def test_login_is_throttled_after_five_failures(client: Client, make_user: Any) -> None:
    make_user("viewer", username="target")
    for _ in range(5):
        client.post(
            "/accounts/login/", {"username": "target", "password": "wrong"}, REMOTE_ADDR="10.9.9.9"
        )
    response = client.post(
        "/accounts/login/",
        {"username": "target", "password": "correct horse battery staple"},
        REMOTE_ADDR="10.9.9.9",
    )
    assert response.status_code in (403, 429)
    assert AuditEntry.objects.filter(action="login_failed", object_repr="target").count() >= 5
    assert not AuditEntry.objects.filter(action="login", object_repr="target").exists()


def test_successful_login_is_audited(client: Client, make_user: Any) -> None:
    make_user("viewer", username="alice")
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(action="login").latest("seq")
    assert entry.actor == "alice"


def test_security_headers_and_content_security_policy(client: Client) -> None:
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "csrfmiddlewaretoken" in response.content.decode()


def test_pages_have_no_inline_script(client: Client, make_user: Any, site: Any) -> None:
    client.force_login(make_user("admin"))
    for url in ("/", "/sites/", site.get_absolute_url(), "/sites/new/", "/audit/", "/tokens/"):
        body = client.get(url).content.decode()
        for tag in re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", body):
            assert 'type="application/json"' in tag, (url, tag)


def test_csrf_is_enforced(make_user: Any, site: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("editor"))
    response = client.post(f"/sites/{site.pk}/delete/")
    assert response.status_code == 403
