"""The prevention app registers none of its case models in the Django admin site, on purpose.

The admin site knows no city and no case team: a superuser would read every case there. Cases
are reached only through the unit's own pages, which apply need-to-know (see
:mod:`rempart.prevention.access` and docs/privacy.md).

It does replace django-otp's admin of TOTP devices with a plain list, so that a superuser can
delete the device of someone who lost their phone (they enrol again at their next casework
page) but never sees a device's secret; django-otp's own admin adds a page showing the secret
as a QR code, which is not needed here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django_otp.plugins.otp_totp.models import TOTPDevice

if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "name", "confirmed", "last_used_at")
    fields = ("user", "name", "confirmed")
    readonly_fields = ("user", "name", "confirmed")

    def has_add_permission(self, request: Any) -> bool:
        return False
