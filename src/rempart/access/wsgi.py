"""The camera gateway: ``POST /api/v1/access/requests`` with a bearer token, before Django.

Plugged into the WSGI application by :mod:`rempart.wsgi` (the core's ``wsgi`` plug-in point).
A camera read skips Django's request machinery (middleware chain, URL resolution, the API
framework's parsing), about a third of a read's cost, and goes to the process's
:class:`~rempart.access.group_commit.GroupCommitter`, which decides and stores the reads of all
request threads in shared transactions (:mod:`rempart.access.camera`).

What the middleware would have done for this one URL is done here: the ``Host`` header is
checked against ``ALLOWED_HOSTS``; a plain-HTTP request when HTTPS is required goes on to
Django (which redirects it); a read carrying a camera ``image`` goes on to Django's route,
which checks and stores the image (:mod:`rempart.access.evidence`); the answer carries ``X-Content-Type-Options: nosniff`` and
``Cache-Control: no-store``; the body is limited to :data:`MAX_BODY_BYTES`. Refusals of
permission are written to the audit trail with the token and the client address. Every other
request (and a camera read without a bearer token, e.g. an operator's session) goes to Django
unchanged, where the same route serves it through the same :func:`~rempart.access.camera.decide_batch`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils import timezone

from rempart.access import camera, evidence
from rempart.access.group_commit import GroupCommitter

PATH = "/api/v1/access/requests"

#: A camera read is about 150 bytes; anything much larger is not one.
MAX_BODY_BYTES = 8192

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class CameraGateway:
    """WSGI middleware: camera reads to the group committer, everything else to ``app``."""

    def __init__(
        self,
        app: WsgiApp,
        committer: GroupCommitter[camera.CameraRead, camera.Answer] | None = None,
    ) -> None:
        self.app = app
        self.committer = committer or GroupCommitter(camera.decide_batch, name="rempart-camera")

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if (
            environ.get("PATH_INFO") != PATH
            or environ.get("REQUEST_METHOD") != "POST"
            or not authorization.startswith("Bearer ")
            or (settings.SECURE_SSL_REDIRECT and not _is_secure(environ))
        ):
            return self.app(environ, start_response)
        answer = self.handle(environ, authorization[len("Bearer ") :].strip())
        if isinstance(answer, bytes):  # a read with a camera image: Django's route stores it
            environ["wsgi.input"] = io.BytesIO(answer)
            environ["CONTENT_LENGTH"] = str(len(answer))
            return self.app(environ, start_response)
        payload = json.dumps(answer.body).encode()
        start_response(
            f"{answer.status} {HTTPStatus(answer.status).phrase}",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(payload))),
                ("X-Content-Type-Options", "nosniff"),
                ("Cache-Control", "no-store"),
            ],
        )
        return [payload]

    def handle(self, environ: dict[str, Any], token: str) -> camera.Answer | bytes:
        """The answer to a camera read, or its body (bytes) when it carries an ``image``: such a
        read goes on to Django's route, which checks and stores the image
        (:mod:`rempart.access.evidence`); a body of more than :data:`MAX_BODY_BYTES` is
        accepted only for that, up to the image limit."""
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        domain, _port = split_domain_port(host)
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            return camera.Answer(400, {"detail": f"Host {host!r} is not one this server answers"})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return camera.Answer(400, {"detail": "Content-Length is not a number"})
        with_image = MAX_BODY_BYTES + evidence.max_image_bytes() * 4 // 3 + 64
        if length > with_image:
            return camera.Answer(
                413, {"detail": f"the body has {length} bytes; a read is at most {MAX_BODY_BYTES}"}
            )
        raw = environ["wsgi.input"].read(length) if length else b""
        if b'"image"' in raw:
            return raw
        if length > MAX_BODY_BYTES:
            return camera.Answer(
                413,
                {
                    "detail": f"the body has {length} bytes; a read is at most {MAX_BODY_BYTES} "
                    "(more only with a camera image)"
                },
            )
        try:
            read = camera.parse_body(
                raw, token=token, ip=environ.get("REMOTE_ADDR", ""), received_at=timezone.now()
            )
        except camera.BadBody as exc:
            return camera.Answer(422, {"detail": str(exc)})
        try:
            return self.committer.submit(read)
        except Exception:  # logged by the committer; nothing of the batch was stored
            return camera.Answer(503, {"detail": camera.NOT_STORED})


def _is_secure(environ: dict[str, Any]) -> bool:
    if environ.get("wsgi.url_scheme") == "https":
        return True
    header: tuple[str, str] | None = settings.SECURE_PROXY_SSL_HEADER
    if header is None:
        return False
    return str(environ.get(header[0], "")).split(",")[0].strip() == header[1]


def wrap(app: WsgiApp) -> WsgiApp:
    """The ``wsgi`` plug-in: put the camera gateway in front of the Django application."""
    return CameraGateway(app)
