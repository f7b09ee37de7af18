"""API authentication (bearer tokens, sessions); no credentials is HTTP 401.

What an authenticated caller may do is decided by :mod:`rempart.core.access_rules`
(``require_scope`` is re-exported here for the modules' API files).
"""

from __future__ import annotations

import hmac
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer

from rempart.core import audit
from rempart.core.access_rules import require_scope as require_scope
from rempart.core.models import TOKEN_PREFIX, ApiToken


class TokenAuth(HttpBearer):
    """``Authorization: Bearer rmp_<key id>_<secret>``."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            return None
        record = ApiToken.objects.select_related("user").filter(key_id=parts[1]).first()
        if record is None or not record.is_active or not record.user.is_active:
            return None
        if not hmac.compare_digest(record.key_digest, ApiToken.digest(parts[2])):
            return None
        now = timezone.now()
        if record.last_used_at is None or (now - record.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=record.pk).update(
                last_used_at=now
            )  # no audit: not a change of meaning
        request.user = record.user
        audit.set_actor(
            audit.Actor(
                name=f"{record.user.get_username()} (token {record.key_id})",
                user_id=record.user.pk,
                ip=request.META.get("REMOTE_ADDR", ""),
            )
        )
        request.api_token = record  # type: ignore[attr-defined]
        return record


class SessionAuth(APIKeyCookie):
    """The web session (CSRF-checked for unsafe methods by ninja)."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if request.user.is_authenticated:
            return request.user
        return None
