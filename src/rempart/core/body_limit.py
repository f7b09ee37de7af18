"""413 for request bodies over the upload limit, as a styled page in the user's language.

Two ways a body is too large:

* its ``Content-Length`` is over :func:`max_body_bytes` (the upload limit
  ``REMPART_MAX_UPLOAD_MB`` plus 1 MB for the form around the file):
  :class:`BodyLimitMiddleware` answers 413 before anything reads the body;
* its form fields (not files) are over Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB) or
  ``DATA_UPLOAD_MAX_NUMBER_FIELDS``: Django raises ``RequestDataTooBig`` /
  ``TooManyFieldsSent`` when the body is read, which :func:`bad_request` (the project's
  ``handler400``) turns into the same 413 page instead of a bare 400.

Under ``/api/`` the answer is JSON ``{"detail": ...}``. The camera path
(``rempart.access.wsgi``) has its own, smaller limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views import defaults

from rempart.inputs import max_upload_bytes

#: Room for the form fields and multipart boundaries around an uploaded file, bytes.
FORM_OVERHEAD_BYTES = 1_000_000


def max_body_bytes() -> int:
    """Largest request body accepted, bytes."""
    return max_upload_bytes() + FORM_OVERHEAD_BYTES


def too_large(request: HttpRequest, size_bytes: int | None = None) -> HttpResponse:
    """The 413 answer: a page in the user's language, or JSON under /api/."""
    limit_mb = number_format(max_upload_bytes() / 1e6, 1 if max_upload_bytes() % 1_000_000 else 0)
    if size_bytes is not None:
        sentence = _(
            "The request is %(size)s MB: at most %(limit)s MB can be sent (REMPART_MAX_UPLOAD_MB)."
        ) % {"size": number_format(size_bytes / 1e6, 1), "limit": limit_mb}
    else:
        sentence = _(
            "The form sent too much data: at most %(limit)s MB of files and %(fields)s MB of "
            "other fields can be sent."
        ) % {
            "limit": limit_mb,
            "fields": number_format(settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1e6, 1),
        }
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": sentence}, status=413)
    return render(request, "413.html", {"sentence": sentence}, status=413)


class BodyLimitMiddleware:
    """Answer 413 when ``Content-Length`` is over :func:`max_body_bytes`, unread."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            length = 0
        if length > max_body_bytes():
            return too_large(request, length)
        return self.get_response(request)


def bad_request(request: HttpRequest, exception: Any, **kwargs: Any) -> HttpResponse:
    """``handler400``: 413 for bodies Django found too large, else Django's 400."""
    if isinstance(exception, (RequestDataTooBig, TooManyFieldsSent)):
        return too_large(request)
    return defaults.bad_request(request, exception, **kwargs)
