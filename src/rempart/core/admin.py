"""Django admin: organisations, cities, sites, tokens, users; the audit trail read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest, HttpResponse

from rempart.core.accounts import require_change
from rempart.core.audit_models import AuditEntry
from rempart.core.audit_visibility import visible_entries
from rempart.core.models import ApiToken, City, Organisation, Profile, Site, SiteEvent


def _superusers_only(request: HttpRequest) -> bool:
    """The admin site is the installation's, for superusers only: it knows no city, so a staff
    account's role permissions would reach every city's objects there (people use the pages,
    which check each object's city: rempart.core.access_rules)."""
    return bool(request.user.is_active and request.user.is_superuser)


admin.site.has_permission = _superusers_only  # type: ignore[method-assign]


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "country", "timezone", "is_demo")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "city", "is_demo")
    list_filter = ("kind", "is_demo")
    filter_horizontal = ("cities",)


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "is_demo")


class SiteEventInline(admin.TabularInline):
    model = SiteEvent
    extra = 0


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("name", "city", "kind", "typical_crowd", "peak_crowd", "is_demo")
    list_filter = ("city", "kind", "is_demo")
    inlines = [SiteEventInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "key_id",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    readonly_fields = ("key_id", "created_at", "last_used_at")
    exclude = ("key_digest",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are issued from the Tokens page, which shows the secret once


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: no add, change or delete, not even for superusers."""

    list_display = (
        "seq",
        "at_utc",
        "at_local",
        "actor",
        "action",
        "object_type",
        "object_repr",
        "city",
    )
    list_filter = ("action", "object_type", "city")
    search_fields = ("actor", "object_repr", "object_id")
    actions = None

    def get_queryset(self, request: HttpRequest) -> Any:
        return visible_entries(request.user, super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class UserAdmin(DjangoUserAdmin):
    """Django's, except that a password an admin sets (a new account's, or a reset one) is a
    one-time password: its owner must choose their own at next login (rempart.core.accounts)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change and obj.has_usable_password():
            require_change(obj)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        if (
            request.method == "POST"
            and response.status_code == 302
            and str(id) != str(request.user.pk)
        ):
            require_change(self.get_object(request, id))
        return response
