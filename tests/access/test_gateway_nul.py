"""A NUL character in a camera read through the camera gateway (rempart.access.wsgi), which
reads before Django: refused with one sentence (422) and nothing stored, on both databases (on
PostgreSQL it used to fail the whole batch: 503, logged as an error)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rempart.access.models import AccessDecision
from tests.access.test_gateway import call
from tests.access.test_models_fixtures import camera_read as read
from tests.access.test_models_fixtures import permits, token_for, zone  # noqa: F401
from tests.access.test_read_limits import camera, gateway  # noqa: F401


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("field", ["lane", "plate", "pin", "read_at"])
def test_a_nul_in_a_camera_read_is_refused_by_the_gateway(
    gateway: Any,  # noqa: F811
    camera: str,  # noqa: F811
    field: str,
) -> None:
    body = read("old-town-in", "EM-112-AA", mass_kg=3500)
    body[field] = (body.get(field) or "1234") + "\u0000"
    status, _, payload = call(gateway, json.dumps(body).encode(), token=camera)
    assert status == 422, payload
    detail = json.loads(payload)["detail"]
    assert field in detail and "NUL" in detail and "\n" not in detail
    assert AccessDecision.objects.count() == 0
