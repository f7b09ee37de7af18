"""The exchange: privacy of profiles, waiting-list promotion, routing of requests."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rempart.practices import exchange
from rempart.practices.models import Event, HelpRequest, MemberProfile, Registration

pytestmark = pytest.mark.django_db


def test_non_member_sees_no_profile(users: dict[str, Any], client: Client) -> None:
    profile = exchange.profile_for(users["editor"])
    profile.city = "Nice"
    profile.save()
    assert exchange.directory(users["outsider"]) == []
    assert exchange.visible_profile(users["outsider"], profile) is None
    client.force_login(users["outsider"])
    assert client.get(reverse("practices:members")).status_code == 403
    assert client.get(reverse("practices:member", args=[profile.pk])).status_code == 403
    client.force_login(users["viewer"])
    page = client.get(reverse("practices:members"))
    assert page.status_code == 200 and b"editor" in page.content


def test_member_chooses_what_shows(users: dict[str, Any], client: Client) -> None:
    profile = exchange.profile_for(users["editor"])
    profile.email, profile.show_email = "ed@example.org", False
    profile.city, profile.show_city = "Nice", True
    profile.save()
    shown = exchange.visible_profile(users["viewer"], profile)
    assert shown is not None and "email" not in shown and shown["city"] == "Nice"
    client.force_login(users["viewer"])
    page = client.get(reverse("practices:member", args=[profile.pk]))
    assert b"ed@example.org" not in page.content
    profile.listed = False
    profile.save()
    assert exchange.visible_profile(users["viewer"], profile) is None
    assert profile not in exchange.directory(users["viewer"])
    assert client.get(reverse("practices:member", args=[profile.pk])).status_code == 404


def test_profile_of_former_member_hidden(users: dict[str, Any]) -> None:
    profile = exchange.profile_for(users["editor"])
    users["editor"].groups.clear()
    assert profile not in exchange.directory(users["viewer"])


def test_waiting_list_promotion(users: dict[str, Any]) -> None:
    now = timezone.now()
    event = Event.objects.create(
        title="Study visit", kind="study_visit", starts_at=now, ends_at=now, capacity=2
    )
    states = [
        exchange.register(event, users[name]).state
        for name in ("viewer", "editor", "operator", "supervisor")
    ]
    assert states == ["confirmed", "confirmed", "waiting", "waiting"]
    assert exchange.waiting_position(event, users["supervisor"]) == 2
    promoted = exchange.cancel(event, users["viewer"])
    assert promoted is not None and promoted.user == users["operator"]
    assert exchange.waiting_position(event, users["supervisor"]) == 1
    assert exchange.cancel(event, users["supervisor"]) is None  # a waiting place frees nothing
    confirmed = set(
        event.registrations.filter(state=Registration.State.CONFIRMED).values_list(
            "user__username", flat=True
        )
    )
    assert confirmed == {"editor", "operator"}
    again = exchange.register(event, users["viewer"])  # back at the end of the queue
    assert again.state == "waiting"
    with pytest.raises(exchange.ExchangeError):
        exchange.register(event, users["outsider"])


def test_register_and_cancel_pages(users: dict[str, Any], client: Client) -> None:
    now = timezone.now()
    event = Event.objects.create(
        title="Training", kind="training", starts_at=now, ends_at=now, capacity=1
    )
    client.force_login(users["editor"])
    client.post(reverse("practices:event_register", args=[event.pk]))
    client.force_login(users["viewer"])
    client.post(reverse("practices:event_register", args=[event.pk]))
    assert (
        b"number 1 on the waiting list"
        in client.get(reverse("practices:event", args=[event.pk])).content
    )
    client.force_login(users["editor"])
    client.post(reverse("practices:event_cancel", args=[event.pk]))
    assert event.registrations.get(user=users["viewer"]).state == "confirmed"


def test_request_routed_by_expertise(users: dict[str, Any], client: Client) -> None:
    for name, expertise, accepts in (
        ("editor", ["public_space_protection", "crisis_response"], True),
        ("operator", ["public_space_protection"], True),
        ("supervisor", ["education"], True),
        ("admin", ["public_space_protection"], False),
    ):
        profile = exchange.profile_for(users[name])
        profile.expertise, profile.accepts_requests = expertise, accepts
        profile.save()
    client.force_login(users["viewer"])
    response = client.post(
        reverse("practices:requests"),
        {
            "question": "Who has protected a market with bollards?",
            "themes": ["public_space_protection", "crisis_response"],
        },
    )
    assert response.status_code == 302
    item = HelpRequest.objects.get()
    assert list(item.routed_to.order_by("username").values_list("username", flat=True)) == [
        "editor",
        "operator",
    ]
    client.force_login(users["editor"])
    assert b"Who has protected a market" in client.get(reverse("practices:requests")).content
    client.post(reverse("practices:request", args=[item.pk]), {"body": "We did, in Nice."})
    assert item.answers.get().body == "We did, in Nice."
    assert MemberProfile.objects.count() == 4


def test_groups_threads(users: dict[str, Any], client: Client) -> None:
    client.force_login(users["viewer"])
    assert client.post(reverse("practices:groups"), {"name": "G"}).status_code == 403
    client.force_login(users["operator"])
    response = client.post(
        reverse("practices:groups"), {"name": "Markets", "theme": "public_space_protection"}
    )
    assert response.status_code == 302
    group_url = response["Location"]
    client.force_login(users["viewer"])
    assert client.post(group_url, {"title": "T", "body": "B"}).status_code == 403  # join first
    client.post(group_url + "join/")
    response = client.post(group_url, {"title": "Bollards", "body": "Which rating?"})
    assert response.status_code == 302
    thread_page = client.get(response["Location"])
    assert b"Which rating?" in thread_page.content
