"""Pages of the practices module, mounted at /practices/."""

from __future__ import annotations

from django.urls import path

from rempart.practices import views

app_name = "practices"

urlpatterns = [
    path("", views.index, name="index"),
    path("mine/", views.mine, name="mine"),
    path("new/", views.edit, name="create"),
    path("transfer/", views.transfer, name="transfer"),
    path("export/", views.export, name="export"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/contacts/", views.contacts, name="contacts"),
    path("<int:pk>/versions/<int:number>/", views.version, name="version"),
    path("<int:pk>/assign/", views.assign, name="assign"),
    path("<int:pk>/review/", views.review, name="review"),
    path("<int:pk>/attachments/", views.attachment_add, name="attachment_add"),
    path("<int:pk>/sites/", views.site_link_add, name="site_link_add"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("site-links/<int:pk>/delete/", views.site_link_delete, name="site_link_delete"),
    path("exchange/members/", views.members, name="members"),
    path("exchange/members/<int:pk>/", views.member, name="member"),
    path("exchange/profile/", views.my_profile, name="my_profile"),
    path("exchange/notifications/", views.notification_settings, name="notifications"),
    path("exchange/groups/", views.groups, name="groups"),
    path("exchange/groups/<int:pk>/", views.group, name="group"),
    path("exchange/groups/<int:pk>/join/", views.group_join, name="group_join"),
    path("exchange/threads/<int:pk>/", views.thread, name="thread"),
    path("exchange/events/", views.events, name="events"),
    path("exchange/events/<int:pk>/", views.event, name="event"),
    path("exchange/events/<int:pk>/register/", views.event_register, name="event_register"),
    path("exchange/events/<int:pk>/cancel/", views.event_cancel, name="event_cancel"),
    path("exchange/requests/", views.requests_list, name="requests"),
    path("exchange/requests/<int:pk>/", views.request_detail, name="request"),
]
