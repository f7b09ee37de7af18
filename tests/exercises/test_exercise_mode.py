"""Exercise mode: an exercise's simulated zone in the control room, never a real device.

Expected values come from the brief's rules (issue 13): zero writes reach a real Modbus
controller during play, exercise decisions are absent from the real lists and exports, the
EXERCISE banner is on the page and in the live stream, and only exercise operators of the
exercise's city reach it.
"""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rempart.access.daemon import Daemon, DaemonOptions, load_topology
from rempart.access.drivers import ExerciseDriverRefused, create_driver
from rempart.access.drivers.base import BarrierCommand
from rempart.access.drivers.simulator import BollardModel
from rempart.access.models import AccessDecision, Barrier, Lane, Zone
from rempart.access.simulator_server import SimulatorServer
from rempart.core.audit_models import AuditEntry
from rempart.exercises.models import Exercise

pytestmark = pytest.mark.django_db(transaction=True)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _zone(city: Any, ident: str, *, exercise: bool) -> Zone:
    zone = Zone.objects.create(city=city, ident=ident, name=ident, is_exercise=exercise)
    lane = Lane.objects.create(
        zone=zone, ident=f"{ident}-in", direction="in", identification=["anpr"]
    )
    Barrier.objects.create(
        lane=lane,
        ident=f"{ident}-b1",
        driver={"type": "simulator"},
        rise_time_s=0.3,
        lower_time_s=0.3,
    )
    return zone


@pytest.fixture
def exercise_zone(city: Any, exercise: Exercise) -> Zone:
    zone = _zone(city, "ex-zone", exercise=True)
    exercise.zone = zone
    exercise.save()
    return zone


class CountingModel(BollardModel):
    """A simulated controller that counts the commands written to it over Modbus."""

    writes = 0

    def command(self, command: Any, seq: int) -> Any:
        type(self).writes += 1
        return super().command(command, seq)


def test_an_exercise_barrier_refuses_a_real_driver(exercise_zone: Zone) -> None:
    lane = exercise_zone.lanes.get()
    with pytest.raises(ValueError, match="simulator driver only"):
        Barrier.objects.create(
            lane=lane, ident="ex-real", driver={"type": "modbus", "host": "127.0.0.1", "port": 1}
        )
    assert not Barrier.objects.filter(ident="ex-real").exists()


def test_exercise_play_writes_nothing_to_a_real_modbus_controller(
    city: Any, exercise_zone: Zone
) -> None:
    """A row tampered to point the exercise barrier at a real controller: the daemon and the
    driver factory both refuse it, so the controller sees 0 writes while traffic plays."""
    CountingModel.writes = 0

    async def scenario() -> int:
        server = SimulatorServer([CountingModel("real-1")], port=0)
        await server.start()
        try:
            driver_json = {"type": "modbus", "host": "127.0.0.1", "port": server.port, "unit": 1}
            await asyncio.to_thread(
                Barrier.objects.filter(ident="ex-zone-b1").update, driver=driver_json
            )
            barrier = await asyncio.to_thread(Barrier.objects.get, ident="ex-zone-b1")
            with pytest.raises(ExerciseDriverRefused):
                create_driver(barrier.to_engine(), exercise=True)
            topology = await asyncio.to_thread(load_topology, None)
            assert barrier.pk not in topology.barriers
            daemon = Daemon(
                DaemonOptions(poll_s=0.1, simulated_traffic_per_min=600, simulated_traffic_seed=1)
            )
            task = asyncio.create_task(daemon.run())
            await asyncio.sleep(3.0)
            daemon.stop()
            await asyncio.wait_for(task, 10)
            exercise_writes = CountingModel.writes
            # the counter does count: a real (non-exercise) driver's command is one write
            real = create_driver(barrier.to_engine())
            await real.connect()
            await real.command(BarrierCommand.LOWER)
            await real.close()
            assert CountingModel.writes == exercise_writes + 1
            return exercise_writes
        finally:
            await server.stop()

    assert asyncio.run(scenario()) == 0


def test_exercise_decisions_are_absent_from_real_lists_and_exports(
    city: Any, exercise_zone: Zone, make_user: Any
) -> None:
    from rempart.access import services

    _zone(city, "real-zone", exercise=False)
    services.submit_request("ex-zone-in", plate="EX999XX", confidence=0.97)
    services.submit_request("real-zone-in", plate="RE111AL", confidence=0.97)
    assert AccessDecision.objects.filter(zone=exercise_zone).count() == 1
    client = _client(make_user("admin"))
    log = client.get(reverse("access:decisions")).content.decode()
    assert "RE111AL" in log and "EX999XX" not in log
    export = client.get(reverse("access:decisions_export")).content.decode()
    assert "RE111AL" in export and "EX999XX" not in export
    room = client.get(reverse("access:control_room")).content.decode()
    assert "real-zone-in" in room and "ex-zone-in" not in room


def test_exercise_control_room_shows_the_banner_and_only_its_zone(
    city: Any, exercise: Exercise, exercise_zone: Zone, make_user: Any
) -> None:
    _zone(city, "real-zone", exercise=False)
    client = _client(make_user("operator"))
    response = client.get(reverse("exercises:control_room", args=[exercise.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="exercise-banner"' in page and "EXERCISE" in page
    assert "ex-zone-in" in page and "real-zone-in" not in page
    assert AuditEntry.objects.filter(action="read", object_id=str(exercise.pk)).exists()
    detail = client.get(reverse("exercises:detail", args=[exercise.pk])).content.decode()
    assert reverse("exercises:control_room", args=[exercise.pk]) in detail


def test_the_exercise_stream_marks_every_event(
    exercise: Exercise, exercise_zone: Zone, make_user: Any, settings: Any
) -> None:
    settings.ACCESS_STREAM_KEEPALIVE_S = 0.1
    client = _client(make_user("operator"))
    response = client.get(reverse("exercises:control_room_stream", args=[exercise.pk]))
    assert response.status_code == 200
    events = response.streaming_content  # type: ignore[attr-defined]
    started = time.monotonic()
    for chunk in events:
        text = chunk.decode()
        if text.startswith("event: update"):
            assert '"exercise":true' in text
            break
        assert time.monotonic() - started < 10
    response.close()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("viewer", 403),
        ("editor", 403),
        ("operator", 200),
        ("supervisor", 200),
        ("admin", 200),
        (None, 403),
    ],
)
def test_each_role_gets_what_the_role_table_says(
    exercise: Exercise, exercise_zone: Zone, make_user: Any, role: str | None, status: int
) -> None:
    client = _client(make_user(role, modules=("exercises",)))
    url = reverse("exercises:control_room", args=[exercise.pk])
    assert client.get(url).status_code == status


def test_another_citys_operator_is_refused(
    exercise: Exercise, exercise_zone: Zone, make_user: Any, other_city: Any
) -> None:
    from rempart.core.models import Organisation

    org = Organisation.objects.create(name="Ville de Lyon", kind="municipality", city=other_city)
    org.cities.add(other_city)
    user = make_user("operator", org=org, username="lyon-operator")
    url = reverse("exercises:control_room", args=[exercise.pk])
    assert _client(user).get(url).status_code in (403, 404)


def test_an_exercise_without_a_simulated_zone_is_a_clear_404(
    exercise: Exercise, make_user: Any
) -> None:
    response = _client(make_user("operator")).get(
        reverse("exercises:control_room", args=[exercise.pk])
    )
    assert response.status_code == 404


def test_simulate_plays_traffic_in_the_exercise_zone_only(city: Any, exercise: Exercise) -> None:
    from django.core.management import call_command

    real = _zone(city, "real-zone", exercise=False)
    out = io.StringIO()
    call_command(
        "exercises",
        "simulate",
        str(exercise.pk),
        "--vehicles-per-min",
        "600",
        "--duration-s",
        "4",
        stdout=out,
    )
    exercise.refresh_from_db()
    assert exercise.zone is not None and exercise.zone.is_exercise
    assert "EXERCISE" in out.getvalue()
    assert AccessDecision.objects.filter(zone=exercise.zone, source="simulated").exists()
    assert not AccessDecision.objects.filter(zone=real).exists()


def test_simulate_refuses_a_bad_rate_in_one_sentence(exercise: Exercise) -> None:
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="--vehicles-per-min -1.0 is out of range"):
        call_command("exercises", "simulate", str(exercise.pk), "--vehicles-per-min", "-1")
    assert not Zone.objects.filter(is_exercise=True).exists()


def test_ensure_zone_gives_simulator_lanes_once(exercise: Exercise) -> None:
    from rempart.exercises.exercise_zone import ensure_zone

    zone = ensure_zone(exercise)
    assert ensure_zone(exercise) == zone
    assert zone.is_exercise and zone.lanes.count() == 2
    drivers = {b.driver["type"] for b in Barrier.objects.filter(lane__zone=zone)}
    assert drivers == {"simulator"}


def test_a_lane_action_returns_to_the_control_room_it_came_from(
    city: Any, exercise: Exercise, exercise_zone: Zone, make_user: Any
) -> None:
    """Closing an exercise lane brings the operator back to the exercise's control room (with
    its EXERCISE banner), closing a real lane to the live control room."""
    _zone(city, "real-zone", exercise=False)
    client = _client(make_user("operator"))
    form = {"reason": "drill", "confirm": "on"}
    answer = client.post(reverse("access:lane_close", args=["ex-zone-in"]), form)
    assert answer.status_code == 302
    assert answer["Location"] == reverse("exercises:control_room", args=[exercise.pk])
    answer = client.post(reverse("access:lane_close", args=["real-zone-in"]), form)
    assert answer.status_code == 302
    assert answer["Location"] == reverse("access:control_room")
    # a refused form (no confirmation) goes back to the same room
    answer = client.post(reverse("access:lane_close", args=["ex-zone-in"]), {"reason": "x"})
    assert answer["Location"] == reverse("exercises:control_room", args=[exercise.pk])
