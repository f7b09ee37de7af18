from django.contrib import admin

from rempart.assess.models import Assessment, CityOsmData


@admin.register(CityOsmData)
class CityOsmDataAdmin(admin.ModelAdmin):
    list_display = ("city", "osm_path", "updated_at")


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "site",
        "status",
        "max_speed_kmh",
        "entry_count",
        "plan_cost_eur",
        "created_at",
    )
    list_filter = ("status",)
    readonly_fields = [f.name for f in Assessment._meta.fields]
