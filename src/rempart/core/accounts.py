"""Accounts: password reset by e-mail, the forced change of a one-time password, the lockout page.

- Password reset: Django's views and token generator (a link valid for PASSWORD_RESET_TIMEOUT,
  one hour, and only until the password or the last login changes), e-mail through
  ``REMPART_EMAIL_*`` (the console without an SMTP host), our templates in ``accounts/`` (the
  admin site's ``registration/`` ones would win over ours under the same names). Each request is
  audited against the accounts it matched; the answer never tells whether an address is known.
- One-time passwords: an account whose password someone else chose (bootstrap's administrator,
  a person created on the People page or in the admin site) has ``Profile.must_change_password``;
  at login the session remembers it, and :class:`PasswordChangeRequiredMiddleware` sends every
  page to the password change until the owner has chosen their own (API tokens are unaffected:
  they have no session).
- Lockout (django-axes, 5 failures): a page in the site's style saying for how long, in words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _

from rempart.core import audit

#: The session's note that this login used a one-time password.
SESSION_MUST_CHANGE = "rempart_must_change_password"
#: Where an account with a one-time password may still go (besides static files).
ALLOWED_URL_NAMES = ("password_change", "password_change_done", "logout", "set_language")


def require_change(user: Any, required: bool = True) -> None:
    """Mark ``user``'s password as chosen by someone else (or, False, by its owner)."""
    from rempart.core.models import Profile

    profile, _created = Profile.objects.get_or_create(user=user)
    if profile.must_change_password != required:
        profile.must_change_password = required
        profile.save(update_fields=["must_change_password"])


def remember_at_login(request: HttpRequest | None, user: Any) -> None:
    """At login: note in the session whether the password must be changed first."""
    from rempart.core.models import Profile

    if request is None or not hasattr(request, "session"):
        return
    if Profile.objects.filter(user=user, must_change_password=True).exists():
        request.session[SESSION_MUST_CHANGE] = True
    else:
        request.session.pop(SESSION_MUST_CHANGE, None)


class PasswordChangeRequiredMiddleware:
    """Send a session whose password is a one-time one to the password change page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.allowed: set[str] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is None or not session.get(SESSION_MUST_CHANGE):
            return self.get_response(request)
        if self.allowed is None:
            self.allowed = {reverse(name) for name in ALLOWED_URL_NAMES}
        if request.path in self.allowed or request.path.startswith("/static/"):
            return self.get_response(request)
        message = _("Choose your own password first: yours was set by an administrator.")
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=403)
        return redirect("password_change")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's, which also lifts the one-time password's restriction once the owner chose."""

    template_name = "accounts/password_change_form.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["must_change"] = bool(self.request.session.get(SESSION_MUST_CHANGE))
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        require_change(self.request.user, False)
        self.request.session.pop(SESSION_MUST_CHANGE, None)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, audited: one entry per account the address matched (or one saying none did)."""

    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        ip = self.request.META.get("REMOTE_ADDR", "")
        matched = list(form.get_users(form.cleaned_data["email"]))
        for user in matched:
            audit.record(
                "password_reset_requested",
                obj=user,
                actor=audit.Actor(name="anonymous", ip=ip),
                detail={"sent": True},
            )
        if not matched:
            audit.record(
                "password_reset_requested",
                object_type="auth.user",
                actor=audit.Actor(name="anonymous", ip=ip),
                detail={"sent": False},
            )
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's; a password chosen through the link is the owner's own."""

    template_name = "accounts/password_reset_confirm.html"

    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        require_change(form.user, False)
        return response


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' answer to a locked login (AXES_LOCKOUT_CALLABLE): the site's page, with
    how long the lock lasts in words, in the reader's language; audited."""
    from axes.helpers import get_client_username, get_cool_off

    cool_off = get_cool_off(request) or dt.timedelta(0)
    now = timezone.now()
    username = str(get_client_username(request, credentials) or "")[:150]
    audit.record(
        "login_locked_out",
        object_type="auth.user",
        object_repr=username,
        actor=audit.Actor(name="anonymous", ip=request.META.get("REMOTE_ADDR", "")),
        detail={"username": username, "cool_off_s": int(cool_off.total_seconds())},
        organisation_id=audit.organisation_of_username(username),
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Too many failed logins: try again later.")}, status=429)
    context = {"duration": timeuntil(now + cool_off, now), "username": username}
    return render(request, "accounts/lockout.html", context, status=429)
