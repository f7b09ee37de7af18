"""Every number of a camera read is in range, on every way in: the camera gateway
(rempart.access.wsgi), the API's route (token and session callers) and the command line.

A broken or hostile camera sends a mass of -5 kg or 10^20 kg, a confidence of NaN or 1e400:
each is refused with one sentence (422) naming the field, the value and the range, and nothing
is stored. Ranges: confidence 0-1; ``mass_kg`` 1-100,000 kg, the range of a permit's maximum
mass (docs/access-protocols.md); the read time within the read-age window.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from rempart.access.models import AccessDecision, Passage
from tests.access.test_cli import run
from tests.access.test_gateway import Inner, call
from tests.access.test_models_fixtures import camera_read as read
from tests.access.test_models_fixtures import permits, token_for, zone  # noqa: F401

pytestmark = pytest.mark.django_db
#: the gateway's committer thread has its own connection: it needs committed rows
through_gateway = pytest.mark.django_db(transaction=True)

#: (raw JSON fragment of the field, words the one-line answer must contain)
BAD_NUMBERS = [
    ('"mass_kg": -5', "mass_kg -5 is not a whole number of kilograms from 1 to 100,000"),
    ('"mass_kg": 0', "mass_kg 0 is not a whole number of kilograms from 1 to 100,000"),
    ('"mass_kg": 100001', "from 1 to 100,000"),
    ('"mass_kg": 100000000000000000000', "mass_kg 100000000000000000000 is not a whole"),
    ('"mass_kg": 1e20', "mass_kg: expected a whole number of kilograms"),
    ('"mass_kg": 3500.5', "mass_kg: expected a whole number of kilograms"),
    ('"mass_kg": true', "mass_kg: expected a whole number of kilograms"),
    ('"mass_kg": "heavy"', "mass_kg: expected a whole number of kilograms"),
    ('"confidence": -0.1', "confidence -0.1 is not between 0 and 1"),
    ('"confidence": 1.5', "confidence 1.5 is not between 0 and 1"),
    ('"confidence": NaN', "confidence nan is not between 0 and 1"),
    ('"confidence": Infinity', "confidence inf is not between 0 and 1"),
    ('"confidence": 1e400', "confidence inf is not between 0 and 1"),
]


def body_with(fragment: str) -> bytes:
    """A good read of a granted plate with ``fragment`` replacing its field."""
    good = read("old-town-in", "EM-112-AA", mass_kg=3500)
    field = fragment.split(":")[0].strip('"')
    good.pop(field, None)
    text = json.dumps(good)
    return (text[:-1] + ", " + fragment + "}").encode()


@pytest.fixture
def camera(make_user: Any, permits: Any) -> str:  # noqa: F811
    return token_for(make_user("operator", modules=("access",)), ["access:request"])


@pytest.fixture
def gateway() -> Any:
    from rempart.access.wsgi import CameraGateway

    app = CameraGateway(Inner())
    yield app
    app.committer.stop()


@through_gateway
def test_a_read_in_range_is_decided(gateway: Any, camera: str) -> None:
    status, _, payload = call(gateway, body_with('"mass_kg": 100000'), token=camera)
    assert status == 200 and json.loads(payload)["decision"] == "grant"
    status, _, payload = call(gateway, body_with('"mass_kg": 1'), token=camera)
    assert status == 200


@through_gateway
@pytest.mark.parametrize(("fragment", "words"), BAD_NUMBERS)
def test_the_camera_gateway_refuses_numbers_out_of_range(
    gateway: Any, camera: str, fragment: str, words: str
) -> None:
    status, _, payload = call(gateway, body_with(fragment), token=camera)
    detail = json.loads(payload)["detail"]
    assert status == 422, detail
    assert words in detail and "\n" not in detail and len(detail) < 200
    assert AccessDecision.objects.count() == 0 and Passage.objects.count() == 0


@pytest.mark.parametrize(("fragment", "words"), [BAD_NUMBERS[i] for i in (0, 3, 6, 10)])
@pytest.mark.parametrize("caller", ["token", "session"])
def test_the_api_route_refuses_numbers_out_of_range(
    client: Any, make_user: Any, camera: str, fragment: str, words: str, caller: str
) -> None:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {camera}"} if caller == "token" else {}
    if caller == "session":
        client.force_login(make_user("supervisor", modules=("access",)))
    response = client.post(
        "/api/v1/access/requests",
        body_with(fragment),
        content_type="application/json",
        **headers,
    )
    assert response.status_code in (400, 422), response.content
    detail = response.json()["detail"]
    text = detail if isinstance(detail, str) else json.dumps(detail)
    assert isinstance(detail, str) and "\n" not in detail  # one line (rempart.core.api_errors)
    if words not in detail:  # refused by the API's schema before the service (its range, type)
        assert "mass_kg" in text or "confidence" in text or "JSON" in text
    assert AccessDecision.objects.count() == 0 and Passage.objects.count() == 0


@pytest.mark.parametrize("mass", ["-5", "0", "100000000000000000000"])
def test_the_command_line_refuses_a_mass_out_of_range(
    permits: Any,  # noqa: F811
    capsys: Any,
    mass: str,
) -> None:
    code = run("request", "--lane", "old-town-in", "--plate", "EM-112-AA", "--mass-kg", mass)
    assert code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"mass_kg {mass} is not a whole number of kilograms" in err[0]
    assert AccessDecision.objects.count() == 0
