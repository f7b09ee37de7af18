from django.urls import path

from rempart.assess import views

app_name = "assess"

urlpatterns = [
    path("", views.index, name="index"),
    path("osm-data/", views.osm_data, name="osm_data"),
    path("sites/<int:site_pk>/run/", views.run_site, name="run_site"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/speed.geojson", views.run_speed_field, name="run_speed_field"),
    path("runs/<int:pk>/report.html", views.run_report, name="run_report"),
    path("runs/<int:pk>/report.pdf", views.run_report_pdf, name="run_report_pdf"),
    path("runs/<int:pk>/result.json", views.run_json, name="run_json"),
    path("runs/<int:pk>/result.geojson", views.run_geojson, name="run_geojson"),
    path("runs/<int:pk>/access-points/", views.create_access_points, name="create_access_points"),
]
