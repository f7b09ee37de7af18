"""Shared fixtures of the access app's Django tests: a zone in Nice with three lanes and permits.

Imported by the other test modules (``from tests.access.test_models_fixtures import ...``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rempart.access.plates import hash_pin

PIN = "482913"


def make_zone(city: Any, ident: str = "old-town", *, driver: dict[str, Any] | None = None) -> Any:
    """Zone ``ident`` (Europe/Paris) with an entry lane (anpr, pin, intercom), a two-factor
    entry lane (plate + PIN) and an exit lane, one simulated barrier each."""
    from rempart.access.models import Barrier, Lane, Zone

    zone = Zone.objects.create(
        city=city, ident=ident, name="Vieille ville", timezone="Europe/Paris"
    )
    lanes = [
        (f"{ident}-in", "in", ["anpr", "intercom", "pin"], False),
        (f"{ident}-2f", "in", ["anpr", "pin"], True),
        (f"{ident}-out", "out", ["anpr"], False),
    ]
    for lane_id, direction, methods, two_factor in lanes:
        lane = Lane.objects.create(
            zone=zone,
            ident=lane_id,
            direction=direction,
            identification=methods,
            two_factor=two_factor,
        )
        Barrier.objects.create(
            lane=lane,
            ident=f"{lane_id}-b1",
            fail_mode="secure",
            rise_time_s=0.6,
            lower_time_s=0.4,
            driver=driver or {"type": "simulator"},
        )
    return zone


def make_permits(city: Any, zone: Any) -> dict[str, Any]:
    from rempart.access.models import Permit

    weekdays = ["mon", "tue", "wed", "thu", "fri", "sat"]
    specs = {
        "bakery": dict(
            plate="AB123CD",
            holder="Boulangerie du Port",
            holder_contact="+33 4 93 00 00 00",
            category="delivery",
            max_mass_kg=12000,
            windows=[{"days": weekdays, "from": "05:00", "to": "10:30"}],
            valid_from=dt.date(2027, 1, 1),
            valid_to=dt.date(2027, 12, 31),
            exception_dates=["2027-07-14"],
        ),
        "samu": dict(plate="EM112AA", holder="SAMU 06", category="emergency"),
        "resident": dict(
            plate="RE456ZZ",
            holder="Mme Martin",
            holder_contact="12 rue Droite",
            category="resident",
            pin_hash=hash_pin(PIN),
        ),
        "night": dict(
            plate="NT777NT",
            holder="Night works",
            category="works",
            windows=[{"days": ["sun"], "from": "01:30", "to": "03:30"}],
        ),
        "dawn": dict(
            plate="DW222DW",
            holder="Dawn cleaning",
            category="public_service",
            windows=[{"days": ["sun"], "from": "02:00", "to": "03:00"}],
        ),
    }
    out = {}
    for ident, fields in specs.items():
        permit = Permit.objects.create(city=city, ident=ident, **fields)
        permit.zones.add(zone)
        out[ident] = permit
    return out


@pytest.fixture
def zone(city: Any) -> Any:
    return make_zone(city)


@pytest.fixture
def permits(city: Any, zone: Any) -> dict[str, Any]:
    return make_permits(city, zone)


def token_for(user: Any, scopes: list[str], lanes: list[str] | None = None) -> str:
    from rempart.core.models import ApiToken

    _, secret = ApiToken.issue(
        user, "camera", scopes, constraints={"lanes": lanes} if lanes is not None else None
    )
    return secret


def lyon_supervisor(make_user: Any, other_city: Any) -> Any:
    """An access supervisor of an organisation serving only ``other_city`` (Lyon)."""
    from rempart.core.models import Organisation

    lyon = Organisation.objects.create(name="Lyon", kind="municipality", city=other_city)
    lyon.cities.add(other_city)
    return make_user("supervisor", modules=("access",), org=lyon, username="lyon-sup")


def camera_read(
    lane: str = "old-town-in", plate: str | None = "EM-112-AA", **extra: Any
) -> dict[str, Any]:
    """The JSON body of a confident camera read at ``lane`` now (no plate when None)."""
    from django.utils import timezone

    body = {"lane": lane, "confidence": 0.97, "read_at": timezone.now().isoformat(), **extra}
    if plate is not None:
        body["plate"] = plate
    return body


def paris(text: str) -> dt.datetime:
    """An aware datetime from ISO text with its offset (e.g. '2027-03-02T10:29:00+01:00')."""
    value = dt.datetime.fromisoformat(text)
    assert value.tzinfo is not None
    return value
