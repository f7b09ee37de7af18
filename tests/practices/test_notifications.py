"""E-mail notifications arrive through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import datetime
import email
import socket
import time
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rempart.practices import exchange, workflow
from rempart.practices.models import Event, HelpRequest, Practice
from rempart.practices.notifications import remind_due_reviews

pytestmark = pytest.mark.django_db(transaction=True)


class Inbox:
    """What the SMTP server received: one parsed message per recipient envelope."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for rcpt, m in self.messages if address in rcpt]

    def wait(self, count: int, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox(settings: Any) -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = False
    settings.DEFAULT_FROM_EMAIL = "rempart@city.example"
    settings.REMPART_SITE_URL = "https://rempart.city.example"
    try:
        yield handler
    finally:
        controller.stop()


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _text(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def _with_addresses(users: dict[str, Any]) -> None:
    for name, user in users.items():
        user.email = f"{name}@city.example"
        user.save()


def _submitted(users: dict[str, Any]) -> Practice:
    practice = workflow.save_practice(
        Practice(title="Street mediation", summary="Mediators at night.", language="en"),
        users["editor"],
    )
    workflow.submit(practice, users["editor"])
    return practice


def test_review_assigned_due_and_published(users: dict[str, Any], inbox: Inbox) -> None:
    _with_addresses(users)
    profile = exchange.profile_for(users["reviewer1"])
    profile.email_language = "fr"
    profile.save()
    practice = _submitted(users)
    first = workflow.assign_reviewer(practice, users["reviewer1"], users["admin"])
    workflow.assign_reviewer(
        practice, users["reviewer2"], users["admin"], due_on=timezone.localdate()
    )
    inbox.wait(2)
    [assigned] = inbox.to("reviewer1@city.example")
    assert _subject(assigned) == "Relecture confiée : Street mediation"  # in French, as chosen
    assert assigned["From"] == "rempart@city.example"
    body = _text(assigned)
    assert f"https://rempart.city.example/practices/{practice.pk}/review/" in body
    assert first.due_on is not None and "Bonjour" in body
    assert len(inbox.to("reviewer2@city.example")) == 1

    # reviewer2's review is due today: one reminder, and not twice the same day
    assert remind_due_reviews() == 1
    assert remind_due_reviews() == 0
    inbox.wait(3)
    reminder = inbox.to("reviewer2@city.example")[-1]
    assert _subject(reminder) == "Review due: Street mediation"
    # a review due in three weeks gets no reminder yet
    assert remind_due_reviews(timezone.localdate() - datetime.timedelta(days=21)) == 0

    for assignment in practice.reviews.all():
        workflow.review(
            assignment, assignment.reviewer, conflict=False, label="promising", decision="publish"
        )
    inbox.wait(4)
    [published] = inbox.to("editor@city.example")
    assert _subject(published) == "Published: Street mediation"


def test_member_turns_a_kind_off(users: dict[str, Any], inbox: Inbox, client: Client) -> None:
    _with_addresses(users)
    client.force_login(users["reviewer1"])
    page = client.get(reverse("practices:notifications"))
    assert b"reviewer1@city.example" in page.content
    response = client.post(
        reverse("practices:notifications"),
        {"email_language": "en", "notify_published": "on"},  # every box but one unticked
    )
    assert response.status_code == 302
    practice = _submitted(users)
    workflow.assign_reviewer(practice, users["reviewer1"], users["admin"])
    workflow.assign_reviewer(practice, users["reviewer2"], users["admin"])
    inbox.wait(1)
    time.sleep(0.3)
    assert inbox.to("reviewer1@city.example") == []
    assert len(inbox.to("reviewer2@city.example")) == 1


def test_answer_and_waiting_list(users: dict[str, Any], inbox: Inbox, client: Client) -> None:
    _with_addresses(users)
    profile = exchange.profile_for(users["editor"])
    profile.expertise = ["public_space_protection"]
    profile.save()
    client.force_login(users["viewer"])
    client.post(
        reverse("practices:requests"),
        {"question": "Who protected a market?", "themes": ["public_space_protection"]},
    )
    item = HelpRequest.objects.get()
    inbox.wait(1)
    assert len(inbox.to("editor@city.example")) == 1  # routed to the expert
    client.force_login(users["editor"])
    client.post(reverse("practices:request", args=[item.pk]), {"body": "We did, in Nice."})
    inbox.wait(2)
    [answered] = inbox.to("viewer@city.example")
    assert "We did, in Nice." in _text(answered)

    now = timezone.now()
    event = Event.objects.create(
        title="Study visit", kind="study_visit", starts_at=now, ends_at=now, capacity=1
    )
    exchange.register(event, users["operator"])
    exchange.register(event, users["supervisor"])  # waiting
    exchange.cancel(event, users["operator"])
    inbox.wait(3)
    [promoted] = inbox.to("supervisor@city.example")
    assert _subject(promoted) == "A place is yours: Study visit"


def test_nobody_matches_warns_then_offers_coordinators(
    users: dict[str, Any], inbox: Inbox, client: Client
) -> None:
    from rempart.practices.models import WorkingGroup

    _with_addresses(users)
    group = WorkingGroup.objects.create(name="Schools", theme="education")
    group.coordinators.add(users["operator"])
    client.force_login(users["viewer"])
    question = {"question": "Who trained teachers on conspiracy theories?", "themes": ["education"]}
    page = client.post(reverse("practices:requests"), question)
    assert page.status_code == 200
    assert (
        b"Nobody&#x27;s expertise matches" in page.content or b"Nobody's expertise" in page.content
    )
    assert HelpRequest.objects.count() == 0  # warned before anything is sent
    assert b"Schools" in page.content
    response = client.post(reverse("practices:requests"), {**question, "fallback": "coordinators"})
    assert response.status_code == 302
    item = HelpRequest.objects.get()
    assert list(item.routed_to.all()) == [users["operator"]]
    inbox.wait(1)
    assert len(inbox.to("operator@city.example")) == 1


def test_smtp_down_does_not_break_publishing(users: dict[str, Any], settings: Any) -> None:
    _with_addresses(users)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()  # nobody listens
    practice = _submitted(users)
    workflow.assign_reviewer(practice, users["reviewer1"], users["admin"])
    practice.refresh_from_db()
    assert practice.status == "in_review"
