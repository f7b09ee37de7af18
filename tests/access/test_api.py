"""The camera API: decisions, two-factor, refusals that store nothing, the permission matrix."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from rempart.access.models import AccessDecision, Passage
from rempart.core.audit_models import AuditEntry
from tests.access.test_models_fixtures import (  # noqa: F401
    PIN,
    make_zone,
    permits,
    token_for,
    zone,
)
from tests.access.test_models_fixtures import camera_read as read

pytestmark = pytest.mark.django_db

URL = "/api/v1/access/requests"


def post(client: Any, token: str | None, body: dict[str, Any]) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(URL, body, content_type="application/json", **headers)


@pytest.fixture
def camera(make_user: Any, zone: Any) -> str:  # noqa: F811
    return token_for(
        make_user("operator", modules=("access",)),
        ["access:request", "access:read"],
        ["old-town-in", "old-town-2f"],
    )


def test_a_read_is_decided_stored_and_answered(client: Any, camera: str, permits: Any) -> None:  # noqa: F811
    response = post(client, camera, read())
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"request_id", "decision", "reason_code", "reason"}
    assert (body["decision"], body["reason_code"]) == ("grant", "permit_valid")
    row = AccessDecision.objects.get(request_id=body["request_id"])
    assert row.source == "api" and row.plate == "EM112AA" and row.has_permit
    assert Passage.objects.get(decision=row).state == "granted"
    # the stored decision can be read back
    reader = client.get(f"{URL}/{body['request_id']}", HTTP_AUTHORIZATION=f"Bearer {camera}")
    assert reader.status_code == 200 and reader.json()["passage"] == "granted"


def test_low_confidence_is_referred(client: Any, camera: str, permits: Any) -> None:  # noqa: F811
    body = post(client, camera, read(confidence=0.55)).json()
    assert (body["decision"], body["reason_code"]) == ("refer", "low_confidence")
    assert not Passage.objects.exists()


def test_pin_and_plate_two_factor(client: Any, camera: str, permits: Any) -> None:  # noqa: F811
    lane = "old-town-2f"
    plate_alone = post(client, camera, read(lane, "RE-456-ZZ")).json()
    assert plate_alone["reason_code"] == "pin_required"
    wrong = post(client, camera, read(lane, "RE-456-ZZ", pin="111111")).json()
    assert (wrong["decision"], wrong["reason_code"]) == ("deny", "pin_mismatch")
    right = post(client, camera, read(lane, "RE-456-ZZ", pin=PIN)).json()
    assert (right["decision"], right["reason_code"]) == ("grant", "permit_valid")
    # the PIN of another vehicle's permit does not open for this plate
    other = post(client, camera, read(lane, "EM-112-AA", pin=PIN)).json()
    assert other["decision"] == "deny"
    assert AccessDecision.objects.filter(pin_given=True).count() == 3


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        (read("no-such-lane"), 404, "lane 'no-such-lane' does not exist"),
        (read("old-town-out"), 403, "this token may not act on lane 'old-town-out'"),
        (read(plate="A!"), 422, "plate"),
        (read(plate="AB-123-CD-EFGH-IJ"), 422, "plate"),
        (
            read(read_at=(timezone.now() + dt.timedelta(minutes=10)).isoformat()),
            422,
            "in the future",
        ),
        (read(read_at=(timezone.now() - dt.timedelta(days=2)).isoformat()), 422, "old"),
        (read(read_at="yesterday at noon"), 422, "not a date and time"),
        (read(read_at="2027-03-02T08:00:00"), 422, "no UTC offset"),
        ({k: v for k, v in read().items() if k != "confidence"}, 422, "confidence is required"),
        (read(pin="12"), 422, "pin"),
    ],
)
def test_bad_requests_are_4xx_with_one_line_and_store_nothing(
    client: Any, camera: str, body: dict[str, Any], status: int, text: str
) -> None:
    response = post(client, camera, body)
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    assert text in detail and "\n" not in detail
    assert AccessDecision.objects.count() == 0
    assert Passage.objects.count() == 0


def test_permission_matrix(
    client: Any,
    make_user: Any,
    zone: Any,  # noqa: F811
    other_city: Any,
) -> None:
    from rempart.core.models import Organisation

    lyon_zone = make_zone(other_city, "lyon-zone")
    lyon_org = Organisation.objects.create(name="Lyon", kind="municipality", city=other_city)
    lyon_org.cities.add(other_city)
    body = read()
    # anonymous: 401
    assert post(client, None, body).status_code == 401
    assert post(client, "rmp_bad_token", body).status_code == 401
    # a token without the scope, or whose owner lost the role: 403
    viewer = make_user("viewer", modules=("access",))
    assert post(client, token_for(viewer, ["access:read"]), body).status_code == 403
    operator = make_user("operator", modules=("access",))
    reader_only = token_for(operator, ["access:read"])
    assert post(client, reader_only, body).status_code == 403
    # another city's lane: 404, as a lane that does not exist (audited)
    lyon_operator = make_user("operator", modules=("access",), org=lyon_org, username="lyon-op")
    lyon_token = token_for(lyon_operator, ["access:request"])
    foreign = post(client, lyon_token, body)
    assert foreign.status_code == 404
    assert foreign.json()["detail"] == "lane 'old-town-in' does not exist"
    assert AuditEntry.objects.filter(action="permission_denied", city="nice").count() == 1
    assert post(client, lyon_token, read(lyon_zone.lanes.first().ident)).status_code == 200
    # the right role, scope and lane: 200
    assert post(client, token_for(operator, ["access:request"]), body).status_code == 200
    assert AuditEntry.objects.filter(action="permission_denied").count() >= 3
    # reading lanes needs access:read; a viewer's token sees only its city's lanes
    lanes = client.get(
        "/api/v1/access/lanes", HTTP_AUTHORIZATION=f"Bearer {token_for(viewer, ['access:read'])}"
    )
    assert lanes.status_code == 200
    assert {lane["zone"] for lane in lanes.json()} == {"old-town"}
    # commands need access:command (supervisor)
    mode_url = "/api/v1/access/zones/old-town/mode"
    mode = {"mode": "lockdown", "reason": "drill"}
    op_cmd = token_for(operator, ["access:request"])
    assert (
        client.post(
            mode_url, mode, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {op_cmd}"
        ).status_code
        == 403
    )
    supervisor = make_user("supervisor", modules=("access",))
    sup_cmd = token_for(supervisor, ["access:command"])
    response = client.post(
        mode_url, mode, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {sup_cmd}"
    )
    assert response.status_code == 200 and response.json()["mode"] == "lockdown"
    no_reason = client.post(
        mode_url,
        {"mode": "normal", "reason": ""},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {sup_cmd}",
    )
    assert no_reason.status_code == 422
