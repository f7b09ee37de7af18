"""413 for oversize bodies, styled and in the user's language (issue 9)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_body_over_the_upload_limit_is_413_before_it_is_read(
    client: Client, make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMPART_MAX_UPLOAD_MB", "1")  # limit 1 MB + 1 MB of form around it
    client.force_login(make_user("editor"))
    body = b"x" * 2_500_000
    response = client.generic(
        "POST",
        reverse("core:site_import"),
        body,
        content_type="multipart/form-data; boundary=zzz",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 413
    text = response.content.decode()
    assert "<html" in text and "2,5 Mo" in text and "au plus 1 Mo" in text


def test_form_fields_over_djangos_limit_are_413_not_400(
    client: Client, make_user: Any, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client.force_login(make_user("editor"))
    response = client.post(
        reverse("core:site_create"), {"name": "x", "boundary": "[" + "0," * 20_000 + "0]"}
    )
    assert response.status_code == 413
    assert "Too much data" in response.content.decode()


def test_the_api_answers_413_in_json(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMPART_MAX_UPLOAD_MB", "1")
    response = client.generic(
        "POST", "/api/v1/sites", b"{" + b" " * 2_100_000 + b"}", content_type="application/json"
    )
    assert response.status_code == 413
    assert "at most 1 MB" in response.json()["detail"]
