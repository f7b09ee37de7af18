"""Issue 9, "API": JSON errors on every ``/api/`` path, walked over every operation.

Every operation of the schema (``/api/schema``) is called the ways a client gets it wrong:
without credentials, with a token that does not exist, with a token holding no scope, with ids
that name nothing (path parameters at the largest id the schema allows), with a body that is
not JSON, and with a method the path does not serve. Every answer must be a 4xx (never a 5xx,
never a redirect to the login page), in JSON, with ``detail``: one line of words. The few
paths written by hand in test_api_errors (unknown paths, a 500) are not repeated here.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from rempart.core.models import ApiToken
from rempart.core.roles import TOKEN_SCOPES

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
#: The largest id the schema allows (a 64-bit database key): an object that does not exist.
NO_SUCH_ID = str(2**63 - 1)
#: The camera path reads the body before it looks the token up (in its batch,
#: rempart.access.camera): a read it cannot parse is a 422 whoever sends it; a missing
#: Authorization header is still a 401 there.
BODY_READ_FIRST = {("post", "/api/v1/access/requests")}
BODY_FIRST = {401, 422}


@pytest.fixture
def tokens(make_user: Any) -> dict[str, str]:
    """Bearer secrets: ``all`` (every scope, its owner an admin of every module), ``none``."""
    _every, every = ApiToken.issue(make_user("admin"), "every scope", list(TOKEN_SCOPES))
    _none, none = ApiToken.issue(make_user("viewer", username="no-scope"), "no scope", [])
    return {"all": every, "none": none}


def _operations(client: Client, secret: str) -> list[tuple[str, str, dict[str, Any]]]:
    schema = client.get("/api/schema", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    found = [
        (method, path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in METHODS
    ]
    assert len(found) > 20, "the schema lists the API's operations"
    return found


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", NO_SUCH_ID, path)


def _problem(response: Any, *, error_expected: bool) -> str | None:
    """What is wrong with an answer to a bad request, or None."""
    status = response.status_code
    if status >= 500:
        return f"{status} (server error)"
    if status < 400:
        return f"{status}, expected a 4xx" if error_expected else None
    if not response["Content-Type"].startswith("application/json"):
        return f"{status} as {response['Content-Type']}, expected JSON"
    try:
        detail = json.loads(response.content)["detail"]
    except (ValueError, KeyError, TypeError):
        return f"{status} without a JSON detail: {response.content[:120]!r}"
    if not isinstance(detail, str) or not detail.strip() or "\n" in detail:
        return f"{status} detail is not one line of words: {detail!r}"
    if "Traceback" in response.content.decode(errors="replace"):
        return f"{status} shows a traceback"
    return None


def test_every_operation_answers_bad_requests_in_json(
    client: Client, tokens: dict[str, str]
) -> None:
    wrong: list[str] = []
    operations = _operations(client, tokens["all"])
    callers = {
        "anonymous": {},
        "an unknown token": {"HTTP_AUTHORIZATION": "Bearer rmp_nothere_nothere"},
        "a token without scope": {"HTTP_AUTHORIZATION": f"Bearer {tokens['none']}"},
    }
    for method, path, operation in operations:
        url = _fill(path)
        for who, headers in callers.items():
            extra: dict[str, Any] = dict(headers)
            if "requestBody" in operation:
                extra.update(data="{}", content_type="application/json")
            response = getattr(client, method)(url, **extra)
            must_fail = who != "a token without scope"  # some operations need no scope
            problem = _problem(response, error_expected=must_fail)
            body_first = who == "an unknown token" and (method, path) in BODY_READ_FIRST
            allowed = BODY_FIRST if body_first else {401}
            if who != "a token without scope" and response.status_code not in allowed:
                problem = problem or f"{response.status_code}, expected 401"
            if problem:
                wrong.append(f"{method.upper()} {url} as {who}: {problem}")
    assert not wrong, f"{len(wrong)} answers are not JSON errors:\n" + "\n".join(wrong)


def test_every_operation_answers_missing_objects_and_bad_bodies_in_json(
    client: Client, tokens: dict[str, str]
) -> None:
    wrong: list[str] = []
    every = {"HTTP_AUTHORIZATION": f"Bearer {tokens['all']}"}
    for method, path, operation in _operations(client, tokens["all"]):
        if "{" not in path and "requestBody" not in operation:
            continue  # nothing to name wrongly
        url = _fill(path)
        extra: dict[str, Any] = dict(every)
        if "requestBody" in operation:
            extra.update(data="{not json", content_type="application/json")
        response = getattr(client, method)(url, **extra)
        problem = _problem(response, error_expected=True)
        if problem:
            wrong.append(f"{method.upper()} {url} with an unknown id or a broken body: {problem}")
    assert not wrong, f"{len(wrong)} answers are not JSON errors:\n" + "\n".join(wrong)


def test_every_path_answers_a_method_it_does_not_serve_with_json_405(
    client: Client, tokens: dict[str, str]
) -> None:
    wrong: list[str] = []
    served: dict[str, set[str]] = {}
    for method, path, _operation in _operations(client, tokens["all"]):
        served.setdefault(path, set()).add(method)
    every = {"HTTP_AUTHORIZATION": f"Bearer {tokens['all']}"}
    for path, methods in served.items():
        other = next(m for m in ("delete", "put", "patch", "post", "get") if m not in methods)
        response = getattr(client, other)(_fill(path), **every)
        problem = _problem(response, error_expected=True)
        if not problem and response.status_code != 405:
            problem = f"{response.status_code}, expected 405"
        if not problem and other.upper() in response.get("Allow", "").split(", "):
            problem = f"Allow lists {other.upper()}"
        if problem:
            wrong.append(f"{other.upper()} {_fill(path)}: {problem}")
    assert not wrong, f"{len(wrong)} answers are not JSON 405s:\n" + "\n".join(wrong)
