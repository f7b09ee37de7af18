"""The dashboard's "Waiting for you": reviews to give and "who has done this?" questions routed to
the member, each gone once dealt with; nothing for someone outside the module."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rempart.practices import exchange, workflow
from rempart.practices.models import HelpRequest
from tests.conftest import dashboard_waiting
from tests.practices.test_workflow import in_review

pytestmark = pytest.mark.django_db


def test_reviews_to_give_until_decided(users: dict[str, Any], client: Client) -> None:
    practice = in_review(users)
    mine = reverse("practices:mine")
    assert dashboard_waiting(client, users["reviewer1"]) == [("reviews to give", 1, mine)]
    review = practice.reviews.get(reviewer=users["reviewer1"])
    workflow.review(
        review, users["reviewer1"], conflict=False, label="promising", decision="publish"
    )
    assert dashboard_waiting(client, users["reviewer1"]) == []
    assert dashboard_waiting(client, users["reviewer2"]) == [("reviews to give", 1, mine)]
    page = client.get(reverse("core:dashboard")).content.decode()
    assert "Waiting for you" in page and f'href="{mine}"><strong>1</strong>' in page


def test_routed_questions_until_answered_or_closed(users: dict[str, Any], client: Client) -> None:
    for name in ("editor", "operator"):
        profile = exchange.profile_for(users[name])
        profile.expertise, profile.accepts_requests = ["crisis_response"], True
        profile.save()
    item = HelpRequest.objects.create(
        author=users["viewer"], question="Who ran a joint exercise?", themes=["crisis_response"]
    )
    exchange.route(item)
    questions = ("“who has done this?” questions for you", 1, reverse("practices:requests"))
    assert dashboard_waiting(client, users["editor"]) == [questions]
    assert dashboard_waiting(client, users["operator"]) == [questions]
    assert dashboard_waiting(client, users["viewer"]) == []  # the author is not asked
    item.answers.create(author=users["editor"], body="We did, in Nice.")
    assert dashboard_waiting(client, users["editor"]) == []
    assert dashboard_waiting(client, users["operator"]) == [questions]
    item.closed = True
    item.save()
    assert dashboard_waiting(client, users["operator"]) == []
    page = client.get(reverse("core:dashboard")).content.decode()
    assert "Nothing is waiting for you." in page


def test_nothing_for_someone_outside_the_module(users: dict[str, Any], client: Client) -> None:
    in_review(users)
    assert dashboard_waiting(client, users["outsider"]) == []
