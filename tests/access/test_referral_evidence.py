"""Referrals (issue 11 item 2): waiting time, a warning before expiry, "expired unanswered",
the camera's image (size limit, type by magic bytes, retention), confirmations that name the
plate, the lane and the action."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rempart.access import retention, services, views
from rempart.access.models import AccessDecision, DecisionImage
from rempart.core.audit_models import AuditEntry
from tests.access.test_models_fixtures import camera_read as read
from tests.access.test_models_fixtures import (  # noqa: F401
    lyon_supervisor,
    make_zone,
    permits,
    token_for,
    zone,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/access/requests"
#: The smallest JPEG start (SOI + APP0 marker) and PNG signature, padded: the type is decided
#: by these bytes (JPEG ITU-T T.81 B.1.1.3, PNG ISO/IEC 15948 5.2).
JPEG = b"\xff\xd8\xff\xe0" + bytes(60)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(60)


@pytest.fixture
def camera(make_user: Any, zone: Any) -> str:  # noqa: F811
    return token_for(
        make_user("operator", modules=("access",)), ["access:request"], ["old-town-in"]
    )


def post(client: Client, token: str, body: dict[str, Any]) -> Any:
    return client.post(
        URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_a_camera_image_is_stored_with_the_referral_and_shown_to_the_control_room(
    client: Client,
    make_user: Any,
    camera: str,
    permits: Any,  # noqa: F811
    other_city: Any,
) -> None:
    response = post(client, camera, read(confidence=0.5, image=b64(JPEG)))
    assert response.status_code == 200, response.content
    decision = AccessDecision.objects.get(request_id=response.json()["request_id"])
    image = DecisionImage.objects.get(decision=decision)
    assert (image.content_type, bytes(image.data)) == ("image/jpeg", JPEG)
    png = post(client, camera, read(plate="RE-456-ZZ", confidence=0.5, image=b64(PNG)))
    assert DecisionImage.objects.get(
        decision__request_id=png.json()["request_id"]
    ).content_type == ("image/png")

    client.force_login(make_user("viewer", modules=("access",)))
    page = client.get("/access/").content.decode()
    path = f"/access/requests/{decision.request_id}/image/"
    assert f'src="{path}"' in page
    shown = client.get(path)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    assert shown.content == JPEG and shown["Cache-Control"] == "no-store"
    assert AuditEntry.objects.filter(action="sensitive_read", detail__bytes=len(JPEG)).exists()
    client.force_login(lyon_supervisor(make_user, other_city))
    assert client.get(path).status_code == 404  # another city's: as none


@pytest.mark.parametrize(
    ("image", "words"),
    [
        (b64(b"GIF89a" + bytes(40)), "expected a JPEG (ff d8 ff) or PNG"),
        ("not base64 at all!", "not valid base64"),
        (b64(JPEG + bytes(3 * 1024)), "expected at most 2 KB"),
    ],
)
def test_a_bad_image_refuses_the_request_and_stores_nothing(
    client: Client,
    camera: str,
    monkeypatch: pytest.MonkeyPatch,
    image: str,
    words: str,
) -> None:
    monkeypatch.setenv("REMPART_ACCESS_IMAGE_MAX_KB", "2")
    response = post(client, camera, read(confidence=0.5, image=image))
    assert response.status_code == 422 and words in response.json()["detail"]
    assert not AccessDecision.objects.exists() and not DecisionImage.objects.exists()


def test_an_image_at_the_limit_is_accepted(
    client: Client, camera: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMPART_ACCESS_IMAGE_MAX_KB", "2")
    exactly = JPEG + bytes(2048 - len(JPEG))
    assert post(client, camera, read(confidence=0.5, image=b64(exactly))).status_code == 200
    assert DecisionImage.objects.get().size_bytes == 2048


def test_images_are_deleted_with_the_plate_in_clear_permit_or_not(
    client: Client,
    camera: str,
    permits: Any,  # noqa: F811
) -> None:
    post(client, camera, read(confidence=0.5, image=b64(JPEG)))  # EM112AA holds a permit
    post(client, camera, read(plate="ZZ-999-ZZ", confidence=0.5, image=b64(JPEG)))  # none
    assert DecisionImage.objects.count() == 2
    removed = retention.purge(timezone.now() + dt.timedelta(hours=23))
    assert removed["camera_images_deleted"] == 0
    removed = retention.purge(timezone.now() + dt.timedelta(hours=24, seconds=1))
    assert removed["camera_images_deleted"] == 2 and not DecisionImage.objects.exists()
    assert AccessDecision.objects.count() == 2  # the decisions stay (pseudonymised)


def test_waiting_time_expiry_warning_and_expired_unanswered(
    client: Client,
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    decision = services.submit_request("old-town-in", plate="ZZ-999-ZZ", confidence=0.5).decision
    now = decision.received_at
    timing = views.referral_timing(decision, now + dt.timedelta(minutes=3, seconds=7))
    assert timing["waiting"] == "3 min 07 s" and timing["expires_in"] == "6 min 53 s"
    assert not timing["expiring"]
    late = views.referral_timing(
        decision, now + services.REFERRAL_WINDOW - dt.timedelta(seconds=90)
    )
    assert late["expiring"] and late["expires_in"] == "1 min 30 s"

    client.force_login(make_user("operator", modules=("access",)))
    page = client.get("/access/").content.decode()
    assert "data-countup=" in page and 'data-warn-s="120"' in page
    assert 'data-plate="ZZ999ZZ"' in page and 'data-lane="old-town-in"' in page
    assert "Grant plate {plate} at lane {lane}: let one vehicle through?" in page
    assert "Lower the barrier of lane {lane} for one vehicle?" in page

    AccessDecision.objects.filter(pk=decision.pk).update(
        received_at=timezone.now() - services.REFERRAL_WINDOW - dt.timedelta(seconds=5)
    )
    page = client.get("/access/").content.decode()
    assert f'data-referral="{decision.request_id.hex}"' not in page
    assert f'data-expired="{decision.request_id.hex}"' in page
    assert "plate ZZ999ZZ: expired unanswered" in page
    # an hour later it leaves the list (the decision log keeps it)
    AccessDecision.objects.filter(pk=decision.pk).update(
        received_at=timezone.now() - services.REFERRAL_WINDOW - dt.timedelta(hours=1, seconds=5)
    )
    assert (
        f'data-expired="{decision.request_id.hex}"' not in client.get("/access/").content.decode()
    )


def test_the_camera_gateway_sends_reads_with_an_image_on_to_django(
    client: Client,
    camera: str,
) -> None:
    """The gateway in front of Django (rempart.access.wsgi) handles plain reads itself; a read
    with an image goes on to Django's route, which checks and stores it."""
    from rempart.access.wsgi import MAX_BODY_BYTES, CameraGateway
    from tests.access.test_gateway import Inner, call

    inner = Inner()
    gateway = CameraGateway(inner)
    try:
        big = JPEG + bytes(50 * 1024)  # far above a plain read's body limit
        status, _, _ = call(gateway, read(confidence=0.5, image=b64(big)), token=camera)
        assert status == 204 and inner.paths == ["/api/v1/access/requests"]  # to Django
        status, _, payload = call(gateway, b"x" * (MAX_BODY_BYTES + 1), token=camera)
        assert status == 413 and b"more only with a camera image" in payload
        call(gateway, read(confidence=0.5), token=camera)  # a plain read: the gateway's own
        assert inner.paths == ["/api/v1/access/requests"]  # (decided in test_gateway.py)
    finally:
        gateway.committer.stop()
    # and Django's route stores it
    response = post(client, camera, read(confidence=0.5, image=b64(big)))
    assert response.status_code == 200
    assert DecisionImage.objects.get().size_bytes == len(big)
