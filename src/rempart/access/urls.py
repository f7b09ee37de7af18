from django.urls import path

from rempart.access import views

app_name = "access"

urlpatterns = [
    path("", views.control_room, name="control_room"),
    path("stream/", views.stream, name="stream"),
    path("basemap.geojson", views.basemap, name="basemap"),
    path("lanes/<str:ident>/open/", views.lane_open, name="lane_open"),
    path("lanes/<str:ident>/close/", views.lane_close, name="lane_close"),
    path("zones/<str:ident>/", views.zone_detail, name="zone_detail"),
    path("zones/<str:ident>/mode/", views.zone_mode, name="zone_mode"),
    path("zones/<str:ident>/schedules/", views.schedule_add, name="schedule_add"),
    path("zones/<str:ident>/schedules/<int:pk>/edit/", views.schedule_edit, name="schedule_edit"),
    path(
        "zones/<str:ident>/schedules/<int:pk>/cancel/",
        views.schedule_cancel,
        name="schedule_cancel",
    ),
    path("requests/<uuid:request_id>/answer/", views.referral_answer, name="referral_answer"),
    path("requests/<uuid:request_id>/image/", views.referral_image, name="referral_image"),
    path("alarms/<int:pk>/ack/", views.alarm_ack, name="alarm_ack"),
    path("decisions/", views.decisions, name="decisions"),
    path("decisions/export.csv", views.decisions_export, name="decisions_export"),
    path("alarms/", views.alarm_log, name="alarm_log"),
    path("alarms/export.csv", views.alarms_export, name="alarms_export"),
    path("permits/", views.permits, name="permits"),
    path("permits/export.csv", views.permits_export, name="permits_export"),
    path("permits/import/", views.permits_import, name="permits_import"),
    path("permits/new/", views.permit_new, name="permit_new"),
    path("permits/<str:ident>/edit/", views.permit_edit, name="permit_edit"),
    path("permits/<str:ident>/status/", views.permit_status, name="permit_status"),
]
