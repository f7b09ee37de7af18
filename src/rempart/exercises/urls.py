"""Pages of the exercises module, mounted at /exercises/."""

from __future__ import annotations

from django.urls import path

from rempart.exercises import control_room, documents, views

app_name = "exercises"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.edit, name="create"),
    path("calendar.ics", views.calendar_ics, name="calendar"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/objectives/", views.objective_add, name="objective_add"),
    path("<int:pk>/participants/", views.participant_add, name="participant_add"),
    path("<int:pk>/injects/new/", views.inject_edit, name="inject_add"),
    path("<int:pk>/injects/<int:number>/", views.inject_edit, name="inject_edit"),
    path("<int:pk>/injects/<int:number>/state/", views.inject_state, name="inject_state"),
    path("<int:pk>/versions/", views.versions, name="versions"),
    path(
        "<int:pk>/versions/<int:number>/rollback/",
        views.version_rollback,
        name="version_rollback",
    ),
    path("<int:pk>/msel/export/", views.msel_export, name="msel_export"),
    path("<int:pk>/msel/import/", views.msel_import, name="msel_import"),
    path("<int:pk>/msel/mapping/", views.mapping_save, name="mapping_save"),
    path("<int:pk>/scenario/", views.scenario, name="scenario"),
    path("<int:pk>/conduct/", views.conduct, name="conduct"),
    path("<int:pk>/clock/", views.clock, name="clock"),
    path("<int:pk>/journal/", views.journal_add, name="journal_add"),
    path("<int:pk>/journal.csv", views.journal_export, name="journal_export"),
    path("<int:pk>/evaluate/", views.evaluate, name="evaluate"),
    path("<int:pk>/coverage/", views.coverage, name="coverage"),
    path("<int:pk>/report/", views.report, name="report"),
    path("<int:pk>/control-room/", control_room.control_room, name="control_room"),
    path(
        "<int:pk>/control-room/stream/",
        control_room.control_room_stream,
        name="control_room_stream",
    ),
    path("<int:pk>/documents/<str:doc>.<str:fmt>", documents.document, name="document"),
    path("<int:pk>/actions/new/", views.action_edit, name="action_add"),
    path("<int:pk>/actions/<int:action_pk>/", views.action_edit, name="action_edit"),
    path("training/", views.courses, name="courses"),
    path("training/new/", views.course_add, name="course_add"),
    path("training/certifications/", views.certifications, name="certifications"),
    path("training/<int:pk>/", views.course, name="course"),
    path("training/<int:pk>/sessions/", views.session_add, name="session_add"),
    path("training/<int:pk>/certificates/", views.certificate_add, name="certificate_add"),
    path("training/sessions/<int:pk>/enrol/", views.session_enrol, name="session_enrol"),
    path("training/sessions/<int:pk>/leave/", views.session_cancel, name="session_cancel"),
    path("training/enrolments/<int:pk>/attendance/", views.attendance, name="attendance"),
]
