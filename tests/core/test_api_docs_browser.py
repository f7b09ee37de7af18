"""In a real browser: /api/docs shows the operations (Swagger UI from the platform's own static
files, under its content security policy), where it used to be a blank page (issue 9, item 11)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import artifact_path, browser_page, log_in  # noqa: F401  (fixture)
from tests.conftest import USER_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_page_lists_the_operations(
    live_server: Any,
    browser_page: Any,  # noqa: F811
    make_user: Any,
) -> None:
    make_user("viewer", username="reader")
    page = browser_page
    errors: list[str] = []
    blocked: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith(live_server.url) or request.url.startswith("data:")
            else outside.append(request.url)
        ),
    )
    page.goto(f"{live_server.url}/api/docs")
    log_in(page, "reader", USER_PASSWORD)
    page.wait_for_url(f"{live_server.url}/api/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/sites" in p for p in paths), paths
    page.screenshot(path=str(artifact_path("api-docs.png")), full_page=False)
    assert not errors, errors
    assert not blocked, blocked
    assert not outside, outside
