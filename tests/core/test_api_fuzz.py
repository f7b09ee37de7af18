"""Schemathesis over every API operation against the live test server (issue 9, "Fuzzing in CI").

The schema is read from the running server (``/api/schema`` with the token, as a client
would), and every operation gets a bounded number of generated requests that follow the schema
(positive) and that break it (negative), derandomised so a failure is reproduced by rerunning.
It runs twice: with a token holding every scope (its owner an admin of every module) and with a
token holding none. Every built-in check of schemathesis applies: no 5xx, only declared status
codes, answers matching their schema and content type, invalid requests refused and valid ones
accepted, except that a valid request may get a 422 on the operations listed in
:data:`SEMANTIC_422` (rules no JSON Schema can state: a closed polygon ring, a plate read's time
window, a practice's evidence levels...). All failures are collected and reported together.

The test uses whatever database the suite uses (SQLite, or PostgreSQL when
``REMPART_DATABASE_URL`` is set, as ``.ci/run``'s second pass does).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.access.test_models_fixtures import zone  # noqa: F401  (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

#: Generated requests per operation and mode (positive, negative), per token.
EXAMPLES = 8

#: Operations where a request valid by the schema may still be refused with 422 by a rule the
#: schema cannot state (the sentence names it): a site's boundary must be a valid closed polygon
#: in the city; a read's time must be near now and its plate a plate; a zone's mode must be a
#: move its current mode allows; a practice's fields are checked together (evidence, years).
SEMANTIC_422 = {
    "POST /api/v1/sites",
    "PATCH /api/v1/sites/{site_id}",
    "POST /api/v1/access/requests",
    # an operator's "let one through" may name the vehicle's plate: a plate must be one (latin
    # letters and digits once separators and lookalikes are folded, rempart.access.plates)
    "POST /api/v1/access/lanes/{lane_id}/open",
    "POST /api/v1/access/zones/{zone_id}/mode",
    "POST /api/v1/practices/",
    "PUT /api/v1/practices/{pk}",
}


def _token(user: Any, scopes: list[str]) -> str:
    from rempart.core.models import ApiToken

    _record, secret = ApiToken.issue(user, "fuzz", scopes)
    return secret


@pytest.fixture
def world(make_user: Any, site: Any, zone: Any) -> dict[str, Any]:  # noqa: F811
    """Two tokens, and real objects for the path parameters of the second pass: the site, a
    zone with its lanes, a draft practice (the rest of the ids are drawn, and mostly unknown)."""
    import json

    from django.test import Client

    from rempart.core.roles import TOKEN_SCOPES

    owner = make_user("admin")
    tokens = {"all scopes": _token(owner, list(TOKEN_SCOPES)), "no scope": _token(owner, [])}
    created = Client().post(
        "/api/v1/practices/",
        json.dumps({"title": "Fuzzed practice", "summary": "A draft the fuzzer reaches."}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tokens['all scopes']}",
    )
    assert created.status_code == 201, created.content
    known = {
        "site_id": site.pk,
        "pk": created.json()["id"],
        "zone_id": zone.ident,
        "lane_id": f"{zone.ident}-in",
    }
    return {"tokens": tokens, "known": known}


def _detail_of(response: Any) -> str:
    """The answer's one-sentence ``detail`` (or the start of its text)."""
    try:
        return str(response.json().get("detail", ""))
    except Exception:  # not JSON: the failure message shows what it was
        return str(getattr(response, "text", ""))[:200]


def _allowed(label: str, exc: BaseException, detail: str = "") -> bool:
    """A valid request refused with 422 by a rule the schema cannot state (:data:`SEMANTIC_422`),
    or with the 400 that refuses a NUL character inside a free-form object the schema leaves
    open (a GeoJSON feature's ``properties``): NUL is refused everywhere, and the schema can say
    so only of the fields it types. An invalid request refused with 413 (too large) is refused.
    """
    from schemathesis.core.failures import AcceptedNegativeData
    from schemathesis.openapi.checks import RejectedPositiveData

    if isinstance(exc, AcceptedNegativeData):
        # a schema-violating body over the upload limit is refused by its size first: 413 is a
        # refusal (declared for every operation with a body), not an acceptance
        return exc.status_code == 413
    if not isinstance(exc, RejectedPositiveData):
        return False
    if exc.status_code == 422 and label in SEMANTIC_422:
        return True
    return exc.status_code == 400 and "NUL character" in detail


def _describe(label: str, mode: str, exc: BaseException, case: Any) -> str:
    """One line per failure: what schemathesis found, the answer's status and the request."""
    title = getattr(exc, "title", type(exc).__name__)
    status = getattr(exc, "status_code", "")
    request = case.as_curl_command()
    request = request if len(request) <= 400 else request[:400] + "…"
    return f"{label} ({mode}): {title} {status}: {request}"


def _run(
    operation: Any,
    mode: Any,
    base_url: str,
    headers: dict[str, str],
    path_parameters: dict[str, Any] | None = None,
) -> tuple[int, list[str]]:
    """Bounded, derandomised examples of one operation in one mode; (requests, failures)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.core.failures import FailureGroup

    label = operation.label
    failures: list[str] = []
    made = 0

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: every failure is kept as found
        suppress_health_check=list(HealthCheck),
    )
    def one(case: Any) -> None:
        nonlocal made
        made += 1
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        try:
            case.validate_response(response, headers=headers)
        except FailureGroup as group:
            detail = _detail_of(response)
            failures.extend(
                f"{_describe(label, mode.value, exc, case)} -> {detail[:200]}"
                for exc in group.exceptions
                if not _allowed(label, exc, detail)
            )
        except AssertionError as exc:
            failures.append(_describe(label, mode.value, exc, case))

    one()
    return made, failures


def _fuzz(base_url: str, secret: str, known: dict[str, Any]) -> tuple[int, list[str]]:
    """Run schemathesis over every operation; (requests made, failures). First pass: every
    operation, positive and negative, every parameter drawn. Second pass: the operations whose
    path names objects, positive, with the path naming real ones (:func:`world`)."""
    import schemathesis

    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_url(f"{base_url}/api/schema", headers=headers, timeout=30)
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: list[str] = []
    made = 0
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            count, found = _run(operation, mode, base_url, headers)
            made += count
            failures += found
    for operation in operations:
        names = [p.name for p in operation.path_parameters]
        if names and all(name in known for name in names):
            count, found = _run(
                operation,
                schemathesis.GenerationMode.POSITIVE,
                base_url,
                headers,
                {name: known[name] for name in names},
            )
            made += count
            failures += found
    return made, failures


@pytest.mark.parametrize("which", ["all scopes", "no scope"])
def test_schemathesis_finds_no_server_error_nor_undeclared_answer(
    live_server: Any, world: dict[str, Any], which: str
) -> None:
    made, failures = _fuzz(live_server.url, world["tokens"][which], world["known"])
    assert made > 0
    unique = sorted(set(failures))
    assert not unique, f"{len(unique)} failures in {made} requests:\n" + "\n".join(unique)
