"""Where a form may send the user back to: its ``next`` field, only when it stays on this site.

A ``next`` pointing elsewhere (``https://evil.example/``, ``//evil.example``, ``javascript:``)
would make a trusted page forward the user to an attacker's copy of the login: an open
redirect. Django's ``url_has_allowed_host_and_scheme`` decides, as its own login view does.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request: HttpRequest, fallback: str) -> str:
    """The request's ``next`` (POST, else query string) if it is a URL of this site, else
    ``fallback``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback
