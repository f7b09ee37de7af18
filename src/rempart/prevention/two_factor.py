"""The second factor casework needs (issue 14, item 3): TOTP through django-otp.

django-otp (django-otp/django-otp, maintained, 1.7 in 2026) keeps the devices and marks a
session verified once a token matched (``request.user.is_verified()``, set by its
``OTPMiddleware``). Casework pages are wrapped in :func:`require_second_factor`: a session
without a verified second factor is sent to :func:`two_factor`, which enrols a TOTP device the
first time (the secret shown once, as text and as an ``otpauth://`` address for any
authenticator app) and checks a token afterwards. ``REMPART_PREVENTION_REQUIRE_2FA=false``
turns the requirement off (tests of other concerns; never in production).
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from rempart.core import audit
from rempart.core.permissions import role_required
from rempart.core.safe_redirect import next_url

DEVICE_NAME = "rempart prevention"


def required() -> bool:
    return bool(getattr(settings, "PREVENTION_REQUIRE_2FA", True))


def verified(request: HttpRequest) -> bool:
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def require_second_factor(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Send a session without a verified second factor to the second-factor page."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if required() and not verified(request):
            target = (
                request.get_full_path() if request.method == "GET" else reverse("prevention:index")
            )
            return redirect(f"{reverse('prevention:two_factor')}?next={target}")
        return view(request, *args, **kwargs)

    return wrapped


@role_required("prevention", "viewer")
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    assert device is not None
    error = ""
    if request.method == "POST":
        token = request.POST.get("token", "").strip().replace(" ", "")
        if token.isdigit() and device.verify_token(token):
            if enrolling:
                device.confirmed = True
                device.save()
                audit.record("prevention_2fa_enrolled", obj=user)
            otp_login(request, device)
            audit.record("prevention_2fa_verified", obj=user)
            return redirect(next_url(request, reverse("prevention:index")))
        audit.record("prevention_2fa_failed", obj=user)
        error = "wrong"
    context = {
        "enrolling": enrolling,
        "error": error,
        "next": request.GET.get("next", ""),
    }
    if enrolling:
        context["secret"] = base64.b32encode(device.bin_key).decode().rstrip("=")
        context["config_url"] = device.config_url
    return render(request, "prevention/two_factor.html", context, status=400 if error else 200)
