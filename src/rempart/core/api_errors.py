"""The API's errors: one JSON shape, ``{"detail": "<one line>"}``, on every ``/api/`` path.

* :class:`ApiErrorMiddleware` answers for the whole ``/api/`` prefix, before and after
  django-ninja: a NUL character (``\\x00``) in the path, a query parameter or a JSON body is
  refused with 400 (PostgreSQL cannot store it, and no text of the platform holds one); an error
  answered in HTML or plain text (an unknown path's 404, a 405, a 413 or a 400 from Django) is
  answered again in JSON with the same status (and ``Allow`` header); an exception escaping a
  view is a JSON 500 without its traceback (logged).
* :func:`install` gives the ninja API the same shape for its own errors: a malformed body or a
  value out of its declared range is a 422 whose ``detail`` names the field, the value and what
  was expected (the per-field list follows in ``errors``); a server error is a JSON 500.
* :func:`declare_errors` writes the error answers every operation can give into the OpenAPI
  schema (400, 401, 403, 404, 413, 422, 500 and any an operation adds), and forbids NUL in every
  text the schema describes, so that clients and fuzzers know the limits.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger("rempart.api")

API_PREFIX = "/api/"

#: No text of the API holds a NUL: declared on every string of the schema, checked by the
#: middleware (PostgreSQL refuses NUL in text; SQLite would store it and cut it in C strings).
NO_NUL_PATTERN = "^[^\\u0000]*$"

#: The largest id a path or query takes: a 64-bit signed integer, the database's ``bigint``
#: (larger ones are refused with 422 instead of overflowing in the database driver).
MAX_ID = 2**63 - 1
#: The largest offset into a list (search results): far above any list the platform holds.
MAX_OFFSET = 1_000_000


class ErrorOut(Schema):
    """Every error of the API: ``detail`` is one sentence naming the thing, the value and what
    was expected. A 422 of a malformed request also lists each field's problem in ``errors``."""

    detail: str
    errors: list[dict[str, Any]] | None = None


#: What each error status means, for the schema's descriptions.
ERROR_MEANINGS = {
    400: "Malformed request: a body that is not JSON, or a NUL character in a text",
    401: "No credentials, or a token that is unknown, revoked or malformed",
    403: "The credential lacks the permission (role, token scope or token limits)",
    404: "No such object, or one of a city the caller may not see",
    409: "Conflicts with the current state (a name taken, a state that does not allow it)",
    410: "Too late: the request is older than the window for an answer",
    413: "The body is larger than the platform accepts",
    422: "A value is missing, malformed or out of range",
    429: "Too many requests",
    500: "Server error (logged; the answer holds no traceback)",
    503: "The database is busy: try again",
}


#: django-ninja's refusal of a session request without a valid CSRF token, and our sentence.
NINJA_CSRF_MESSAGE = "CSRF check Failed"
CSRF_SENTENCE = (
    "a request made with a signed-in session needs its CSRF token: send the csrftoken cookie's "
    "value in the X-CSRFToken header, or use a bearer token (Authorization: Bearer rmp_…)"
)


def error(status: int, detail: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


# --- NUL characters ---------------------------------------------------------------------------


def _nul_in(value: Any, where: str) -> str | None:
    """The place of the first NUL in a decoded JSON value, or None."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return f"{where} (a key)"
            found = _nul_in(item, f"{where}.{key}")
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_in(item, f"{where}[{index}]")
            if found:
                return found
    return None


def _query_nuls(request: HttpRequest) -> Iterator[str]:
    for key, values in request.GET.lists():
        if "\x00" in key:
            yield f"the query parameter name {key!r}"
        for value in values:
            if "\x00" in value:
                yield f"the query parameter {key!r}"


def repeated_query_refusal(request: HttpRequest) -> str | None:
    """A sentence refusing a single-valued query parameter given more than once, or None.
    The parameters the schema types as arrays (the practice search's facets) may repeat;
    ninja would keep one value of any other silently, so ``?zone=a&zone=b`` is refused
    instead (422, as any query value the schema does not allow)."""
    for name, values in request.GET.lists():
        if len(values) > 1 and name not in _array_query_names():
            shown = name if len(name) <= 40 else name[:37] + "…"
            return f"query parameter {shown!r} given {len(values)} times; expected it at most once"
    return None


@functools.cache
def _array_query_names() -> frozenset[str]:
    """Names of the query parameters some API operation types as an array (OpenAPI schema)."""
    from rempart.api import api  # the API module installs these handlers: imported late

    names: set[str] = set()
    for operations in api.get_openapi_schema(path_prefix="")["paths"].values():
        for operation in operations.values():
            for param in operation.get("parameters", []):
                schema = param.get("schema", {})
                kinds = [schema.get("type")] + [s.get("type") for s in schema.get("anyOf", [])]
                if param.get("in") == "query" and "array" in kinds:
                    names.add(str(param["name"]))
    return frozenset(names)


def nul_refusal(request: HttpRequest) -> str | None:
    """A sentence refusing a request with a NUL character anywhere in its text, or None."""
    if "\x00" in request.path:
        return "the path contains a NUL character (\\x00): no text may hold one"
    for place in _query_nuls(request):
        return f"{place} contains a NUL character (\\x00): no text may hold one"
    if request.method in ("POST", "PUT", "PATCH") and "json" in (request.content_type or ""):
        try:
            body = request.body
        except RequestDataTooBig:
            return None  # answered by the view's own size check (413)
        if b"\x00" in body or b"\\u0000" in body:
            try:
                data = json.loads(body)
            except ValueError:
                return None  # not JSON: the API answers 400 for that
            found = _nul_in(data, "body")
            if found:
                return f"{found} contains a NUL character (\\x00): no text may hold one"
    return None


# --- the middleware ---------------------------------------------------------------------------


def _is_json(response: HttpResponse) -> bool:
    return "json" in response.get("Content-Type", "")


def _detail(response: HttpResponse, request: HttpRequest) -> str:
    status = response.status_code
    if status == 404:
        return f"no API operation at {request.path}: see /api/docs for the operations"
    if status == 405:
        allowed = response.get("Allow", "")
        return f"{request.method} is not allowed on {request.path}: expected one of {allowed}"
    if status == 413:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return f"the body is larger than the platform accepts ({limit:,} bytes at most)"
    if status == 401:
        return (
            "credentials required: a valid bearer token (Authorization: Bearer rmp_…) "
            "or a signed-in session"
        )
    if status == 403:
        return "this credential may not do that"
    if status >= 500:
        return "server error: it was logged; please report the time of the request"
    return f"the request was refused ({status})"


#: Exceptions Django turns into a 4xx answer itself (404, 403, 400).
_ANSWERED_BY_DJANGO = (Http404, PermissionDenied, SuspiciousOperation, BadRequest)


class ApiErrorMiddleware:
    """JSON errors on every ``/api/`` path, and NUL characters refused (see the module)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        refusal = nul_refusal(request)
        if refusal:
            return error(400, refusal)
        repeated = repeated_query_refusal(request)
        if repeated:
            return error(422, repeated)
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_json(response):
            headers = {"Allow": response["Allow"]} if response.has_header("Allow") else {}
            return error(response.status_code, _detail(response, request), **headers)
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not request.path_info.startswith(API_PREFIX) or isinstance(exc, _ANSWERED_BY_DJANGO):
            return None  # Django answers these with their 4xx, made JSON in __call__
        logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
        return error(500, _detail(HttpResponse(status=500), request))


# --- ninja's own errors -----------------------------------------------------------------------


def _place(loc: Any) -> str:
    parts = [str(p) for p in (loc or ()) if p not in ("body", "payload", "query", "path")]
    parts = [p for p in parts if p != "params"]
    return ".".join(parts) or "the body"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def validation_sentence(errors: list[dict[str, Any]]) -> str:
    """One line for the first problem of a 422: the field, the value given and what pydantic
    expected (its message), and how many more problems follow."""
    if not errors:
        return "the request is malformed"
    first = errors[0]
    place = _place(first.get("loc"))
    message = str(first.get("msg", "invalid")).rstrip(".")
    given = f" {_shown(first['input'])}" if "input" in first and first["type"] != "missing" else ""
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"{place}{given}: {message[:1].lower()}{message[1:]}{more}"


def _plain(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]


def install(api: NinjaAPI) -> None:
    """The API's handlers for malformed requests (422, one sentence) and server errors (500)."""

    def on_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        body = {"detail": validation_sentence(exc.errors), "errors": _plain(exc.errors)}
        return api.create_response(request, body, status=422)

    def on_exception(request: HttpRequest, exc: Any) -> HttpResponse:
        if isinstance(exc, Http404):
            return api.create_response(request, {"detail": str(exc) or "not found"}, status=404)
        if isinstance(exc, RequestDataTooBig):
            body = {"detail": _detail(HttpResponse(status=413), request)}
            return api.create_response(request, body, status=413)
        if isinstance(exc, SuspiciousOperation | BadRequest):
            body = {"detail": f"the request is malformed: {str(exc)[:200]}"}
            return api.create_response(request, body, status=400)
        if isinstance(exc, PermissionDenied):
            body = {"detail": _detail(HttpResponse(status=403), request)}
            return api.create_response(request, body, status=403)
        logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
        body = {"detail": _detail(HttpResponse(status=500), request)}
        return api.create_response(request, body, status=500)

    def on_no_credentials(request: HttpRequest, exc: Any) -> HttpResponse:
        response = api.create_response(
            request, {"detail": _detail(HttpResponse(status=401), request)}, status=401
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    def on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        detail = str(exc)
        if exc.status_code == 403 and detail == NINJA_CSRF_MESSAGE:
            detail = CSRF_SENTENCE
        return api.create_response(request, {"detail": detail}, status=exc.status_code)

    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(ValidationError, on_validation)
    api.add_exception_handler(AuthenticationError, on_no_credentials)
    api.add_exception_handler(Exception, on_exception)


# --- the schema -------------------------------------------------------------------------------

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _forbid_nul(node: Any) -> None:
    """Add :data:`NO_NUL_PATTERN` to every free text of a schema (not enums, formats, patterns)."""
    if isinstance(node, dict):
        if (
            node.get("type") == "string"
            and not {"enum", "format", "pattern", "const"} & node.keys()
        ):
            node["pattern"] = NO_NUL_PATTERN
        for value in node.values():
            _forbid_nul(value)
    elif isinstance(node, list):
        for value in node:
            _forbid_nul(value)


def declare_errors(schema: dict[str, Any], extra: dict[str, tuple[int, ...]]) -> dict[str, Any]:
    """``schema`` with the error answers of every operation and NUL forbidden in every text.

    Every operation can answer 400 (NUL, malformed JSON), 401, 403, 404 (an object it names, or
    one of another city), 422 and 500; one with a body also 413. ``extra`` adds codes per
    operation id (409, 410, 503...).
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    answers = schema["components"].setdefault("responses", {})
    for code, meaning in ERROR_MEANINGS.items():
        answers[f"Error{code}"] = {
            "description": meaning,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        }
    for _path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            codes = {400, 401, 403, 404, 422, 500}
            if "requestBody" in operation:
                codes.add(413)
            codes.update(extra.get(operation.get("operationId", ""), ()))
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                if str(code) not in responses:
                    responses[str(code)] = {"$ref": f"#/components/responses/Error{code}"}
    _forbid_nul(schema.get("paths", {}))
    _forbid_nul(components)
    return schema


# --- input schemas ----------------------------------------------------------------------------


class Input(Schema):
    """A request body: unknown fields are refused (422, named), so the schema's
    ``additionalProperties: false`` tells clients the whole shape."""

    model_config = {"extra": "forbid"}


def id_path(name: str) -> Any:
    """A path parameter that is a database id: 1 to :data:`MAX_ID` (a larger or negative one is
    a 422 naming it, instead of an overflow in the database driver)."""
    from ninja import Path

    return Path(..., ge=1, le=MAX_ID, description=f"the {name}'s id")
