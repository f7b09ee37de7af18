"""Pages of the funding module, mounted at /funding/."""

from __future__ import annotations

from django.urls import path

from rempart.funding import views

app_name = "funding"

urlpatterns = [
    path("", views.index, name="index"),
    path("calls/<int:pk>/", views.call_detail, name="call"),
    path("calls/new/", views.call_edit, name="call_create"),
    path("calls/<int:pk>/edit/", views.call_edit, name="call_edit"),
    path("consortia/new/", views.consortium_create, name="consortium_create"),
    path("consortia/<int:pk>/", views.consortium, name="consortium"),
    path("consortia/<int:pk>/members/", views.member_add, name="member_add"),
    path("consortia/<int:pk>/candidates/", views.candidate_add, name="candidate_add"),
    path("members/<int:pk>/delete/", views.member_delete, name="member_delete"),
    path("partners/", views.partner_search, name="partners"),
    path("projects/<int:pk>/", views.project, name="project"),
    path("projects/<int:pk>/spending/", views.spending_add, name="spending_add"),
    path("projects/<int:pk>/calendar.ics", views.project_calendar, name="project_calendar"),
    path("deadlines/<int:pk>/done/", views.deadline_done, name="deadline_done"),
]
