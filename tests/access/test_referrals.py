"""Referred requests: the control room lists them live, an operator answers each once (grant or
deny, with a reason) within ``services.REFERRAL_WINDOW``, in the web and in the API."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from rempart.access import services
from rempart.access.models import AccessDecision, Passage
from rempart.core.audit_models import AuditEntry
from tests.access.test_models_fixtures import lyon_supervisor, make_zone, permits, token_for, zone  # noqa: F401

pytestmark = pytest.mark.django_db

ANSWER = {"answer": "grant", "reason": "driver known, talked on the intercom", "confirm": "on"}


def refer(plate: str = "EM-112-AA", lane: str = "old-town-in") -> AccessDecision:
    """A low-confidence read: the engine refers it to an operator."""
    decision = services.submit_request(lane, plate=plate, confidence=0.55).decision
    assert decision.outcome == "refer" and decision.reason == "low_confidence"
    return decision


def url(decision: AccessDecision) -> str:
    return f"/access/requests/{decision.request_id}/answer/"


def test_pending_referrals_are_listed_in_the_page_and_the_stream(
    client: Any,
    make_user: Any,
    permits: Any,  # noqa: F811
) -> None:
    waiting = refer("EM-112-AA")
    answered = refer("AB-123-CD")
    old = refer("RE-456-ZZ")
    AccessDecision.objects.filter(pk=old.pk).update(
        received_at=timezone.now() - services.REFERRAL_WINDOW - dt.timedelta(seconds=5)
    )
    services.submit_request("old-town-in", plate="NT-777-NT", confidence=0.99)  # not referred
    operator = make_user("operator", modules=("access",))
    services.answer_referral(answered, operator, False, "not expected today")

    client.force_login(make_user("viewer", modules=("access",)))
    page = client.get("/access/").content.decode()
    assert f'data-referral="{waiting.request_id.hex}"' in page
    assert "EM112AA" in page and "Plate read uncertain" in page and "low_confidence" not in page
    for other in (answered, old):
        assert f'data-referral="{other.request_id.hex}"' not in page
    assert 'name="answer"' not in page.split('id="referral-template"')[0]  # viewers: no buttons
    assert "SAMU 06" not in page  # holders never in the control room

    client.force_login(operator)  # answer buttons for operators
    page = client.get("/access/").content.decode()
    assert 'name="answer" value="grant"' in page and 'name="answer" value="deny"' in page

    # the live stream (last: it closes the database connection when it ends)
    client.force_login(make_user("viewer", modules=("access",), username="viewer-2"))
    response = client.get("/access/stream/")
    chunks = iter(response.streaming_content)
    next(chunks)
    event = next(chunks).decode()
    response.close()
    data = json.loads(event.split("data: ", 1)[1])
    assert [r["id"] for r in data["referrals"]] == [waiting.request_id.hex]
    row = data["referrals"][0]
    assert row["lane"] == "old-town-in" and row["zone"] == "old-town"
    assert row["plate"] == "EM112AA" and row["reason_code"] == "low_confidence"
    assert "0.55" in row["reason"] and row["answer_url"] == url(waiting)
    assert "SAMU 06" not in event


def test_answer_permission_matrix(
    client: Any,
    make_user: Any,
    zone: Any,  # noqa: F811
    other_city: Any,
) -> None:
    decision = refer()
    response = client.post(url(decision), ANSWER)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for role in ("viewer", "editor"):
        client.force_login(make_user(role, modules=("access",)))
        assert client.post(url(decision), ANSWER).status_code == 403
    client.force_login(make_user("operator", modules=("assess",), username="op-other-module"))
    assert client.post(url(decision), ANSWER).status_code == 403
    client.force_login(lyon_supervisor(make_user, other_city))
    assert client.post(url(decision), ANSWER).status_code == 404  # another city's: as none
    assert AccessDecision.objects.count() == 1 and not Passage.objects.exists()
    assert AuditEntry.objects.filter(action="permission_denied").count() == 4

    client.force_login(make_user("operator", modules=("access",)))
    missing = "/access/requests/00000000-0000-4000-8000-000000000000/answer/"
    assert client.post(missing, ANSWER).status_code == 404
    response = client.post(url(decision), ANSWER)
    assert response.status_code == 302 and response["Location"] == "/access/"


def test_a_grant_stores_an_operator_decision_a_passage_and_an_audit_entry(
    client: Any,
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    decision = refer()
    operator = make_user("operator", modules=("access",))
    client.force_login(operator)
    response = client.post(url(decision), ANSWER)
    assert response.status_code == 302
    answer = AccessDecision.objects.get(answers=decision)
    assert (answer.outcome, answer.reason, answer.source) == ("grant", "operator_grant", "operator")
    assert answer.actor == operator.username and "talked on the intercom" in answer.message
    assert answer.lane == decision.lane and answer.zone == decision.zone
    passage = Passage.objects.get()
    assert passage.decision == answer and passage.lane == decision.lane
    assert passage.state == Passage.State.GRANTED
    entry = AuditEntry.objects.get(action="access_referral_answer")
    assert entry.detail["referral"] == decision.request_id.hex
    assert entry.detail["request_id"] == answer.request_id.hex
    assert entry.detail["answer"] == "grant"
    assert entry.detail["reason"] == ANSWER["reason"]
    assert entry.actor == operator.username and entry.city == "nice"
    # the referral has left the list
    assert not services.pending_referrals([zone]).exists()

    # the passage is the same as the one of "open lane"
    opened = services.operator_open(decision.lane, operator, "intercom").passage
    assert opened is not None
    for field in ("lane_id", "state", "opened_at", "closed_at", "close_reason"):
        assert getattr(opened, field) == getattr(passage, field), field


def test_a_deny_stores_a_decision_and_no_passage(make_user: Any, zone: Any) -> None:  # noqa: F811
    decision = refer()
    result = services.answer_referral(
        decision, make_user("operator", modules=("access",)), False, "unknown van"
    )
    assert (result.decision.outcome, result.decision.reason) == ("deny", "operator_deny")
    assert result.decision.answers == decision and result.passage is None
    assert not Passage.objects.exists()
    assert AuditEntry.objects.get(action="access_referral_answer").detail["answer"] == "deny"


def test_a_referral_is_answered_once(client: Any, make_user: Any, zone: Any) -> None:  # noqa: F811
    decision = refer()
    client.force_login(make_user("operator", modules=("access",)))
    assert client.post(url(decision), ANSWER).status_code == 302
    second = client.post(url(decision), {**ANSWER, "answer": "deny"})
    assert second.status_code == 409
    text = second.content.decode()
    assert "already answered" in text and "granted" in text
    assert AccessDecision.objects.filter(answers=decision).count() == 1
    assert Passage.objects.count() == 1
    assert AuditEntry.objects.filter(action="access_referral_answer").count() == 1
    # the database refuses a second answer too (two operators at once)
    first = AccessDecision.objects.get(answers=decision)
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessDecision.objects.create(
            lane=first.lane,
            zone=first.zone,
            read_at=first.read_at,
            outcome="deny",
            reason="operator_deny",
            message="x",
            mode="normal",
            local_time="",
            answers=decision,
        )


def test_an_expired_referral_is_refused(client: Any, make_user: Any, zone: Any) -> None:  # noqa: F811
    decision = refer()
    AccessDecision.objects.filter(pk=decision.pk).update(
        received_at=timezone.now() - services.REFERRAL_WINDOW - dt.timedelta(seconds=1)
    )
    client.force_login(make_user("operator", modules=("access",)))
    response = client.post(url(decision), ANSWER)
    assert response.status_code == 410
    assert "can be answered for 10 min only" in response.content.decode()
    assert AccessDecision.objects.count() == 1 and not Passage.objects.exists()
    assert not AuditEntry.objects.filter(action="access_referral_answer").exists()
    # just inside the window it is still answerable
    fresh = refer("AB-123-CD")
    inside = fresh.received_at + services.REFERRAL_WINDOW - dt.timedelta(seconds=1)
    operator = make_user("operator", modules=("access",), username="op2")
    assert services.answer_referral(fresh, operator, True, "ok", now=inside).passage is not None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({**ANSWER, "reason": ""}, 422),
        ({**ANSWER, "reason": "   "}, 422),
        ({k: v for k, v in ANSWER.items() if k != "confirm"}, 422),
        ({**ANSWER, "answer": "maybe"}, 422),
    ],
)
def test_bad_answers_store_nothing(
    client: Any,
    make_user: Any,
    zone: Any,  # noqa: F811
    body: dict[str, str],
    status: int,
) -> None:
    decision = refer()
    client.force_login(make_user("operator", modules=("access",)))
    assert client.post(url(decision), body).status_code == status
    assert AccessDecision.objects.count() == 1 and not Passage.objects.exists()
    assert not AuditEntry.objects.filter(action="access_referral_answer").exists()


def test_only_a_referred_request_can_be_answered(
    client: Any,
    make_user: Any,
    permits: Any,  # noqa: F811
) -> None:
    granted = services.submit_request("old-town-in", plate="EM-112-AA", confidence=0.99).decision
    client.force_login(make_user("operator", modules=("access",)))
    response = client.post(url(granted), ANSWER)
    assert response.status_code == 409
    assert "only a referred request can be answered" in response.content.decode()
    assert AccessDecision.objects.count() == 1 and Passage.objects.count() == 1


# --- the API ----------------------------------------------------------------------------------


def api(client: Any, decision: AccessDecision, token: str, body: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/access/requests/{decision.request_id.hex}/answer",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_api_answer(
    client: Any,
    make_user: Any,
    zone: Any,  # noqa: F811
    other_city: Any,
) -> None:
    decision = refer()
    body = {"grant": True, "reason": "patrol car, code given"}
    operator = make_user("operator", modules=("access",))
    assert api(client, decision, token_for(operator, ["access:request"]), body).status_code == 403
    lyon = token_for(lyon_supervisor(make_user, other_city), ["access:command"])
    assert api(client, decision, lyon, body).status_code == 404  # another city's: as none
    supervisor = make_user("supervisor", modules=("access",))
    lane_limited = token_for(supervisor, ["access:command"], ["old-town-in"])
    assert api(client, decision, lane_limited, body).status_code == 403  # never commands
    command = token_for(supervisor, ["access:command"])
    no_reason = api(client, decision, command, {"grant": True, "reason": " "})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["detail"]
    assert AccessDecision.objects.count() == 1
    response = api(client, decision, command, body)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert (answer["decision"], answer["reason_code"]) == ("grant", "operator_grant")
    assert answer["answers"] == decision.request_id.hex
    stored = AccessDecision.objects.get(request_id=answer["request_id"])
    assert stored.answers == decision and Passage.objects.get().decision == stored
    again = api(client, decision, command, {"grant": False, "reason": "second thoughts"})
    assert again.status_code == 409 and "already answered" in again.json()["detail"]
    missing = client.post(
        "/api/v1/access/requests/0123456789abcdef0123456789abcdef/answer",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {command}",
    )
    assert missing.status_code == 404


# --- the daemon acts on the granted answer ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_daemon_lowers_the_barrier_for_a_granted_referral(city: Any, make_user: Any) -> None:
    from rempart.access.daemon import Daemon
    from tests.access.test_loop import options, start, stop, until

    make_zone(city, driver={"type": "simulator"})
    operator = make_user("operator", modules=("access",))
    decision = refer()

    async def scenario() -> None:
        daemon = Daemon(options())
        task = await start(daemon)
        try:
            result = await daemon.db(services.answer_referral, decision, operator, True, "ok")

            async def opened() -> bool:
                state = await daemon.db(lambda: Passage.objects.get(pk=result.passage.pk).state)
                return state in ("open", "vehicle_passing", "closing", "closed")

            await until(opened, "the answered referral's passage open")
        finally:
            await stop(daemon, task)

    asyncio.run(scenario())
