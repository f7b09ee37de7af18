from django.urls import path

from rempart.core import people, views

app_name = "core"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("sites/", views.site_list, name="site_list"),
    path("sites/new/", views.site_edit, name="site_create"),
    path("sites/import/", views.site_import, name="site_import"),
    path("sites/export.geojson", views.site_export, name="site_export"),
    path("sites/<int:pk>/", views.site_detail, name="site_detail"),
    path("sites/<int:pk>.geojson", views.site_geojson, name="site_geojson"),
    path("sites/<int:pk>/edit/", views.site_edit, name="site_edit"),
    path("sites/<int:pk>/delete/", views.site_delete, name="site_delete"),
    path("sites/<int:pk>/events/", views.site_event_add, name="site_event_add"),
    path(
        "sites/<int:pk>/events/<int:event_pk>/delete/",
        views.site_event_delete,
        name="site_event_delete",
    ),
    path("cities/<slug:slug>/basemap.geojson", views.basemap, name="basemap"),
    path("audit/", views.audit_list, name="audit_list"),
    path("people/", people.people_list, name="people_list"),
    path("people/new/", people.person_edit, name="person_create"),
    path("people/<int:pk>/", people.person_edit, name="person_edit"),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
