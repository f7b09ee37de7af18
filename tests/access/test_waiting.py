"""The dashboard's "Waiting for you" for access operators: drivers waiting at a lane for an
answer and alarms to acknowledge, each gone once dealt with; nothing for a viewer."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from rempart.access import services
from rempart.access.models import Alarm
from tests.access.test_models_fixtures import zone  # noqa: F401  (fixture)
from tests.access.test_referrals import refer
from tests.conftest import dashboard_waiting

pytestmark = pytest.mark.django_db


def test_referrals_and_alarms_until_dealt_with(
    client: Any,
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    operator = make_user("operator", modules=("access",))
    viewer = make_user("viewer", modules=("access",), username="access-viewer")
    room = reverse("access:control_room")
    assert dashboard_waiting(client, operator) == []
    decision = refer()
    alarm = Alarm.objects.create(zone=zone, kind="link_lost", message="barrier x: link lost")
    assert dashboard_waiting(client, operator) == [
        ("drivers waiting for an answer", 1, room),
        ("access alarms to acknowledge", 1, room),
    ]
    assert dashboard_waiting(client, viewer) == []  # viewers watch; operators act
    services.answer_referral(decision, operator, True, "known driver, on the intercom")
    alarm.acknowledged_at = timezone.now()
    alarm.save()
    assert dashboard_waiting(client, operator) == []
