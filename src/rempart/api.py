"""The JSON API (django-ninja): OpenAPI schema at /api/schema, interactive docs at /api/docs.

Machines authenticate with a bearer token (``Authorization: Bearer rmp_…``) scoped to
permissions; people using the web pages are authenticated by their session (with CSRF).
Each module adds its router here.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from ninja import NinjaAPI

from rempart.core.api_auth import SessionAuth, TokenAuth
from rempart.core.plugins import plugins

api = NinjaAPI(
    title="rempart API",
    version="1",
    description="Sites, assessments, access control and practices of the rempart platform.",
    urls_namespace="api",
    openapi_url="/schema",
    docs_url="/docs",
    docs_decorator=login_required,  # the schema and docs are for signed-in people, like every page
    auth=[TokenAuth(), SessionAuth()],
)

from rempart.core.api import router as core_router  # noqa: E402  (routers need the api's auth first)

api.add_router("/v1/", core_router)

for _label, _module in plugins("api"):
    api.add_router(f"/v1/{_label}/", _module.router)
