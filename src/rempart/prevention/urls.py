"""Pages of the prevention unit, mounted at /prevention/."""

from __future__ import annotations

from django.urls import path

from rempart.prevention import two_factor, views

app_name = "prevention"

urlpatterns = [
    path("", views.index, name="index"),
    path("second-factor/", two_factor.two_factor, name="two_factor"),
    path("alerts/read/", views.alerts_read, name="alerts_read"),
    path("refer/", views.refer, name="refer"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/break-glass/", views.break_glass, name="break_glass"),
    path("cases/<int:pk>/export/", views.export, name="export"),
    path("exports/<int:pk>/", views.export_download, name="export_download"),
    path("statistics/", views.statistics_view, name="statistics"),
    path("statistics.csv", views.statistics_csv, name="statistics_csv"),
    path("factors/", views.factors, name="factors"),
    *(
        path(f"cases/<int:pk>/{move.replace('_', '-')}/", view, name=move)
        for move, view in views.STEP_VIEWS.items()
    ),
]
