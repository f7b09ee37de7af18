"""Admin pages for access equipment and permits (people use the control room)."""

from __future__ import annotations

from django.contrib import admin

from rempart.access.models import (
    AccessDecision,
    Alarm,
    Barrier,
    DetectionInput,
    Lane,
    Passage,
    Permit,
    Zone,
    ZoneSchedule,
)


class LaneInline(admin.TabularInline):
    model = Lane
    extra = 0
    fields = ("ident", "name", "direction", "identification", "two_factor")


class ScheduleInline(admin.TabularInline):
    model = ZoneSchedule
    extra = 0


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = ("ident", "name", "city", "site", "mode")
    list_filter = ("city", "mode")
    search_fields = ("ident", "name")
    inlines = [LaneInline, ScheduleInline]
    readonly_fields = ("mode", "mode_reason", "mode_changed_at", "mode_changed_by")


class BarrierInline(admin.TabularInline):
    model = Barrier
    extra = 0


@admin.register(Lane)
class LaneAdmin(admin.ModelAdmin):
    list_display = ("ident", "zone", "direction", "two_factor")
    list_filter = ("zone",)
    search_fields = ("ident", "name")
    inlines = [BarrierInline]


@admin.register(Permit)
class PermitAdmin(admin.ModelAdmin):
    list_display = ("ident", "plate", "category", "holder", "status", "valid_to")
    list_filter = ("city", "category", "status")
    search_fields = ("ident", "plate", "holder")
    exclude = ("pin_hash",)
    filter_horizontal = ("zones",)


@admin.register(AccessDecision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ("received_at", "lane", "plate", "outcome", "reason", "source")
    list_filter = ("outcome", "reason", "source")
    search_fields = ("plate", "request_id")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Passage)
class PassageAdmin(admin.ModelAdmin):
    list_display = ("pk", "lane", "state", "created_at", "closed_at", "close_reason")
    list_filter = ("state",)


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin):
    list_display = ("raised_at", "kind", "zone", "lane", "barrier", "cleared_at", "acknowledged_at")
    list_filter = ("kind",)


@admin.register(DetectionInput)
class DetectionInputAdmin(admin.ModelAdmin):
    """Intrusion cables, loops, door contacts and panic buttons (rempart.access.intrusion)."""

    list_display = ("ident", "name", "zone", "lane", "kind", "active_high")
    list_filter = ("zone", "kind")
    search_fields = ("ident", "name")
