"""The JSON API (django-ninja): OpenAPI schema at /api/schema, interactive docs at /api/docs.

Machines authenticate with a bearer token (``Authorization: Bearer rmp_…``) scoped to
permissions; people using the web pages are authenticated by their session (with CSRF).
Each module adds its router here. The schema and the docs page are readable with a token or a
session; the docs page (Swagger UI) is served from the platform's own static files (django-ninja
ships them), so it works offline and under the platform's content security policy. Errors are
JSON everywhere under /api/ and declared in the schema (:mod:`rempart.core.api_errors`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError

from rempart.core import api_errors
from rempart.core.api_auth import SessionAuth, TokenAuth
from rempart.core.plugins import plugins

#: Error codes an operation can answer beyond those every operation can (see
#: :func:`rempart.core.api_errors.declare_errors`), by operation id.
EXTRA_ERRORS: dict[str, tuple[int, ...]] = {
    "rempart_core_api_create_site": (409,),
    "rempart_core_api_update_site": (409,),
    "rempart_assess_api_start_run": (409,),
    "rempart_access_api_create_request": (409, 503),  # 503: the database busy, nothing stored
    "rempart_access_api_open_lane": (409,),
    "rempart_access_api_close_lane": (409,),
    "rempart_access_api_zone_mode": (409,),
    "rempart_access_api_answer_request": (409, 410),
    "rempart_practices_api_create_practice": (409,),
    "rempart_practices_api_update_practice": (409,),
    "rempart_practices_api_submit_practice": (409,),
}


def schema_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The schema and docs: for a signed-in person or a valid bearer token. Without either, the
    docs page sends to the login page and the schema answers 401 in JSON."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() == "bearer" and TokenAuth().authenticate(request, secret.strip()):
            return view(request, *args, **kwargs)
        if request.path.rstrip("/").endswith("/docs"):
            return redirect_to_login(request.get_full_path())
        return api_errors.error(
            401,
            "credentials required: a bearer token (Authorization: Bearer rmp_…) or a session",
            **{"WWW-Authenticate": "Bearer"},
        )

    return wrapped


class RempartAPI(NinjaAPI):
    """NinjaAPI whose schema declares every operation's error answers and text limits."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return api_errors.declare_errors(schema, EXTRA_ERRORS)

    def validation_error_from_error_contexts(self, error_contexts: list[Any]) -> ValidationError:
        """As ninja's, but keeping each error's input, so that the 422's sentence can name the
        value that was refused (:func:`rempart.core.api_errors.validation_sentence`)."""
        errors: list[dict[str, Any]] = []
        for context in error_contexts:
            model = context.model
            for item in context.pydantic_validation_error.errors(
                include_url=False, include_context=False
            ):
                item["loc"] = (model.__ninja_param_source__,) + (
                    model.__ninja_flatten_map_reverse__.get(item["loc"], item["loc"])
                )
                errors.append(dict(item))
        return ValidationError(errors)


api = RempartAPI(
    title="rempart API",
    version="1",
    description=(
        "Sites, assessments, access control and practices of the rempart platform. "
        "Authenticate with `Authorization: Bearer rmp_…` (a token from the Tokens page). "
        'Every error is JSON: `{"detail": "<one sentence>"}`.'
    ),
    urls_namespace="api",
    openapi_url="/schema",
    docs_url="/docs",
    docs_decorator=schema_access,
    auth=[TokenAuth(), SessionAuth()],
)
api_errors.install(api)

from rempart.core.api import router as core_router  # noqa: E402  (routers need the api's auth first)

api.add_router("/v1/", core_router)

for _label, _module in plugins("api"):
    api.add_router(f"/v1/{_label}/", _module.router)
