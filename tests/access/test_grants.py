"""Grants in time (rempart.access.grants): a grant older than its limit never lowers a barrier,
and repeated reads of one vehicle at one lane make one passage.

The in-process tests drive a simulated controller over real Modbus TCP on loopback with the
daemon in this process; tests/access/test_daemon.py kills and restarts the daemon as a real
process.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest
from django.utils import timezone
from django.utils.translation import override

from rempart.access import camera, grants, services
from rempart.access.daemon import Daemon
from rempart.access.decide import OperatorAction
from rempart.access.drivers.base import BarrierCommand, FailMode, Position
from rempart.access.drivers.simulator import BollardModel
from rempart.access.models import AccessDecision, DeviceCommand, Lane, Passage, Permit
from rempart.access.simulator_server import SimulatorServer
from rempart.core.audit_models import AuditEntry
from tests.access.test_loop import one_lane_zone, options, start, stop, until
from tests.access.test_models_fixtures import (  # noqa: F401
    permits,
    token_for,
    zone,
)

T = TypeVar("T")


@pytest.mark.parametrize("bad", ["0", "-5", "nan", "inf", "soon", "601"])
def test_a_bad_limit_is_one_line_naming_the_variable(monkeypatch: Any, bad: str) -> None:
    from rempart.config import ConfigError, seconds

    monkeypatch.setenv("REMPART_ACCESS_GRANT_MAX_AGE_S", bad)
    with pytest.raises(ConfigError) as error:
        seconds("REMPART_ACCESS_GRANT_MAX_AGE_S", 30.0, 600.0)
    assert str(error.value) == (
        f"REMPART_ACCESS_GRANT_MAX_AGE_S={bad!r}: expected a number of seconds above 0 and up "
        "to 600"
    )
    monkeypatch.setenv("REMPART_ACCESS_GRANT_MAX_AGE_S", " 12.5 ")
    assert seconds("REMPART_ACCESS_GRANT_MAX_AGE_S", 30.0, 600.0) == 12.5


def test_the_limit_is_30_s_by_default_and_a_bad_one_stops_the_start(tmp_path: Any) -> None:
    from django.conf import settings

    assert settings.ACCESS_GRANT_MAX_AGE_S == 30.0
    result = subprocess.run(
        [sys.executable, "-m", "rempart.cli", "check"],
        env={
            "PATH": "/usr/bin:/bin",
            "REMPART_VAR_DIR": str(tmp_path),
            "REMPART_SECRET_KEY": "k" * 40,
            "REMPART_ACCESS_GRANT_MAX_AGE_S": "soon",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "rempart: configuration error: REMPART_ACCESS_GRANT_MAX_AGE_S='soon': expected a "
        "number of seconds above 0 and up to 600"
    ]


def test_the_limit_counts_from_the_earlier_of_the_read_and_its_reception(settings: Any) -> None:
    settings.ACCESS_GRANT_MAX_AGE_S = 30.0
    received = dt.datetime(2027, 7, 14, 18, 0, 0, tzinfo=dt.UTC)
    late_camera = received - dt.timedelta(seconds=12)  # a read buffered 12 s by the camera
    assert grants.expires_at(late_camera, received) == received + dt.timedelta(seconds=18)
    # a camera clock 60 s ahead buys no time
    ahead = received + dt.timedelta(seconds=60)
    assert grants.expires_at(ahead, received) == received + dt.timedelta(seconds=30)


# --- one passage per vehicle ---------------------------------------------------------------------


@pytest.mark.django_db
def test_three_reads_of_one_plate_in_2_s_are_one_passage_on_the_general_path(
    permits: Any,  # noqa: F811
) -> None:
    start_at = timezone.now()
    results = [
        services.submit_request(
            "old-town-in",
            plate="EM-112-AA",
            confidence=0.95,
            read_at=start_at + dt.timedelta(seconds=offset),
            now=start_at + dt.timedelta(seconds=offset),
        )
        for offset in (0.0, 0.9, 1.8)
    ]
    assert [r.decision.outcome for r in results] == ["grant"] * 3
    assert AccessDecision.objects.filter(outcome="grant").count() == 3
    passage = Passage.objects.get()
    assert passage.decision == results[0].decision
    assert all(r.passage == passage for r in results)
    # the vehicle was seen again at +1.8 s: its grant lasts 30 s from then
    assert passage.expires_at == start_at + dt.timedelta(seconds=31.8)
    # another plate, another lane, or an operator's grant: a passage each
    services.submit_request("old-town-in", plate="RE-456-ZZ", confidence=0.95)
    services.submit_request("old-town-out", plate="EM-112-AA", confidence=0.95)
    for _ in range(2):
        services.submit_request(
            "old-town-in", operator=OperatorAction("op", True, "intercom"), source="operator"
        )
    assert Passage.objects.count() == 5


@pytest.mark.django_db
def test_once_the_vehicle_went_through_a_new_read_is_a_new_passage(
    permits: Any,  # noqa: F811
) -> None:
    first = services.submit_request("old-town-in", plate="EM-112-AA", confidence=0.95).passage
    assert first is not None
    for state in ("lowering", "open", "vehicle_passing"):
        Passage.objects.filter(pk=first.pk).update(state=state)
        again = services.submit_request("old-town-in", plate="EM-112-AA", confidence=0.95)
        assert again.passage == first, state
    for state in ("closing", "closed", "failed", "expired"):
        Passage.objects.filter(plate="EM112AA").update(state=state)
        again = services.submit_request("old-town-in", plate="EM-112-AA", confidence=0.95)
        assert again.passage is not None and again.passage.decision == again.decision, state
    assert Passage.objects.count() == 5


@pytest.mark.django_db
def test_a_database_constraint_holds_one_unfinished_passage_per_plate_and_lane(
    permits: Any,  # noqa: F811
) -> None:
    from django.db import IntegrityError, transaction

    first = services.submit_request("old-town-in", plate="EM-112-AA", confidence=0.95)
    second = services.submit_request("old-town-in", plate="EM-112-AA", confidence=0.95)
    with pytest.raises(IntegrityError), transaction.atomic():  # as a second process would
        Passage.objects.create(
            decision=second.decision,
            lane=second.decision.lane,
            plate="EM112AA",
            expires_at=timezone.now(),
        )
    assert Passage.objects.get().decision == first.decision


def camera_read(token: str, plate: str, at: dt.datetime) -> camera.CameraRead:
    return camera.CameraRead(
        token=token,
        ip="",
        lane="old-town-in",
        plate=plate,
        confidence=0.97,
        read_at=at.isoformat(),
        pin=None,
        mass_kg=None,
        received_at=at,
    )


@pytest.mark.django_db
def test_three_reads_of_one_plate_are_one_passage_on_the_camera_path(
    permits: Any,  # noqa: F811
    make_user: Any,
) -> None:
    token = token_for(make_user("operator", modules=("access",)), ["access:request"])
    now = timezone.now()
    # one batch holding all three, then one read per batch
    answers = camera.decide_batch(
        [camera_read(token, "EM-112-AA", now + dt.timedelta(seconds=s)) for s in (0, 0.5, 1.0)]
    )
    assert [a.body["decision"] for a in answers] == ["grant"] * 3
    passage = Passage.objects.get()
    assert passage.expires_at == now + dt.timedelta(seconds=31)
    assert passage.decision.request_id.hex == answers[0].body["request_id"]
    for offset in (1.5, 2.0):
        (answer,) = camera.decide_batch(
            [camera_read(token, "EM-112-AA", now + dt.timedelta(seconds=offset))]
        )
        assert answer.status == 200 and answer.body["decision"] == "grant"
    assert Passage.objects.get().expires_at == now + dt.timedelta(seconds=32)
    assert AccessDecision.objects.filter(outcome="grant").count() == 5
    # an earlier read does not shorten the limit
    camera.decide_batch([camera_read(token, "EM-112-AA", now)])
    assert Passage.objects.get().expires_at == now + dt.timedelta(seconds=32)


@pytest.mark.django_db
def test_the_expired_state_reads_in_english_and_french() -> None:
    with override("en"):
        assert str(Passage.State.EXPIRED.label) == "expired (not executed in time)"
    with override("fr"):
        assert str(Passage.State.EXPIRED.label) == "expiré (non exécuté à temps)"


@pytest.mark.django_db
def test_the_decision_log_says_which_grant_expired_and_which_joined(
    client: Any,
    make_user: Any,
    permits: Any,  # noqa: F811
) -> None:
    services.submit_request("old-town-in", plate="EM-112-AA", confidence=0.95)
    services.submit_request("old-town-in", plate="EM-112-AA", confidence=0.95)
    Passage.objects.update(state="expired")
    client.force_login(make_user("viewer", modules=("access",)))
    page = client.get("/access/decisions/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert page.count("Expiré (non exécuté à temps)") == 1
    assert page.count("lecture répétée : rejoint le passage de sa première lecture") == 1
    page = client.get("/access/decisions/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count("Expired (not executed in time)") == 1
    assert page.count("repeated read: joined the passage of its first read") == 1


@pytest.mark.django_db
def test_the_privacy_purge_clears_the_plate_of_finished_passages(
    permits: Any,  # noqa: F811
) -> None:
    from rempart.access import retention

    done = services.submit_request("old-town-in", plate="EM-112-AA", confidence=0.95).passage
    waiting = services.submit_request("old-town-in", plate="RE-456-ZZ", confidence=0.95).passage
    assert done is not None and waiting is not None
    Passage.objects.filter(pk=done.pk).update(state="closed")
    retention.purge(timezone.now() + dt.timedelta(hours=25))
    assert Passage.objects.get(pk=done.pk).plate is None
    assert Passage.objects.get(pk=waiting.pk).plate == "RE456ZZ"  # still joinable


# --- the daemon executes only what is still valid ------------------------------------------------


def past_grant(seconds_ago: float, lane: str = "loop-in") -> Any:
    """An operator grant whose read is ``seconds_ago`` old, stored while no daemon runs."""
    at = timezone.now() - dt.timedelta(seconds=seconds_ago)
    return services.submit_request(
        lane, operator=OperatorAction("op", True, "intercom"), source="operator", read_at=at
    ).passage


async def serve_one_bollard() -> tuple[BollardModel, SimulatorServer]:
    model = BollardModel("loop-b1", fail_mode=FailMode.SECURE, rise_time_s=0.6, lower_time_s=0.4)
    server = SimulatorServer([model], port=0)
    await server.start()
    return model, server


async def watch_up(model: BollardModel, seconds: float) -> None:
    """Fail if the bollard leaves the up position at any moment of ``seconds``."""
    end = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < end:
        assert model.snapshot().position is Position.UP, "the barrier moved"
        await asyncio.sleep(0.02)


def modbus_driver(port: int) -> dict[str, Any]:
    return {"type": "modbus", "host": "127.0.0.1", "port": port, "unit": 1, "timeout_s": 0.5}


@contextlib.asynccontextmanager
async def daemon_after(
    city: Any, prepare: Callable[[Lane, BollardModel], T], **daemon_options: Any
) -> AsyncIterator[tuple[BollardModel, Daemon, T]]:
    """A bollard served over Modbus TCP on loopback and its lane; ``prepare(lane, model)`` runs
    while no daemon runs (what a dead daemon left behind), then the daemon starts. Yields the
    bollard, the daemon and what ``prepare`` returned; stops both."""
    model, server = await serve_one_bollard()
    try:
        daemon = Daemon(options(**daemon_options))
        lane = await daemon.db(one_lane_zone, city, modbus_driver(server.port))
        prepared = await daemon.db(prepare, lane, model)
        task = await start(daemon)
        try:
            yield model, daemon, prepared
        finally:
            await stop(daemon, task)
    finally:
        await server.stop()


def in_state(daemon: Daemon, state: str, **where: Any) -> Callable[[], Awaitable[bool]]:
    return lambda: daemon.db(lambda: Passage.objects.filter(state=state, **where).exists())


def barrier_at(model: BollardModel, position: Position) -> Callable[[], Awaitable[bool]]:
    return lambda: asyncio.sleep(0, model.snapshot().position is position)


@pytest.mark.django_db(transaction=True)
def test_a_grant_past_its_limit_never_moves_the_barrier(city: Any) -> None:
    def stale_then_fresh(lane: Lane, model: BollardModel) -> tuple[Passage, Passage]:
        return past_grant(31), past_grant(1)  # the fresh one queued behind the stale one

    async def scenario() -> None:
        async with daemon_after(city, stale_then_fresh) as (model, daemon, (stale, fresh)):
            await until(in_state(daemon, "expired", pk=stale.pk), "the stale grant expired")
            # the valid one behind it is executed
            await until(barrier_at(model, Position.DOWN), "the fresh grant lowers the barrier")
            lowers = await daemon.db(lambda: list(DeviceCommand.objects.filter(command="lower")))
            assert [c.passage_id for c in lowers] == [fresh.pk]

    asyncio.run(scenario())
    row = Passage.objects.get(close_reason=grants.EXPIRED_REASON)
    assert row.state == "expired" and row.closed_at is not None
    entry = AuditEntry.objects.get(action="access_grant_expired")
    assert entry.detail["count"] == 1 and entry.city == city.slug
    assert entry.detail["passages"][0]["lane"] == "loop-in"
    assert entry.detail["passages"][0]["request_id"] == row.decision.request_id.hex


@pytest.mark.django_db(transaction=True)
def test_a_lower_written_before_a_kill_is_not_sent_after_the_limit(city: Any) -> None:
    """The daemon was killed between writing a lower command and sending it."""

    def killed_mid_lowering(lane: Lane, model: BollardModel) -> Passage:
        passage = past_grant(40)
        Passage.objects.filter(pk=passage.pk).update(state="lowering")
        DeviceCommand.objects.create(
            barrier=lane.barriers.get(), passage=passage, command="lower", seq=1
        )
        return passage

    async def scenario() -> None:
        async with daemon_after(city, killed_mid_lowering) as (model, daemon, passage):
            await until(in_state(daemon, "expired", pk=passage.pk), "the passage expired")
            await watch_up(model, 1.0)
            assert model.snapshot().last_seq == 0, "the controller received a command"

    asyncio.run(scenario())
    command = DeviceCommand.objects.get(command="lower")
    assert command.done and command.outcome == "expired" and command.sent_at is None
    assert not DeviceCommand.objects.filter(sent_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_a_lower_executed_before_the_limit_finishes_its_cycle(city: Any) -> None:
    """Killed after the controller executed the lower, restarted after the limit: the lane is
    open for the vehicle, so the passage goes on (open, then closes) instead of expiring."""

    def lowered_then_killed(lane: Lane, model: BollardModel) -> Passage:
        model.command(BarrierCommand.LOWER, 7)
        passage = past_grant(40)
        Passage.objects.filter(pk=passage.pk).update(state="lowering")
        DeviceCommand.objects.create(
            barrier=lane.barriers.get(),
            passage=passage,
            command="lower",
            seq=7,
            outcome="accepted",
            done=True,
        )
        return passage

    async def scenario() -> None:
        async with daemon_after(city, lowered_then_killed, open_timeout_s=1.0) as (
            model,
            daemon,
            passage,
        ):
            await until(in_state(daemon, "closed", pk=passage.pk), "the passage open then closed")
            await until(barrier_at(model, Position.UP), "the barrier up again")

    asyncio.run(scenario())
    row = Passage.objects.get()
    assert row.state == "closed" and row.opened_at is not None


@pytest.mark.django_db(transaction=True)
def test_three_reads_in_2_s_make_one_barrier_cycle(city: Any) -> None:
    def permit(lane: Lane, model: BollardModel) -> None:
        held = Permit.objects.create(
            city=city, ident="p1", plate="AB123CD", holder="H", category="delivery"
        )
        held.zones.add(lane.zone)

    async def scenario() -> list[str]:
        async with daemon_after(city, permit, open_timeout_s=1.0) as (model, daemon, _):
            for _ in range(3):
                await daemon.db(
                    services.submit_request, "loop-in", plate="AB-123-CD", confidence=0.97
                )
                await asyncio.sleep(0.6)
            await until(in_state(daemon, "closed"), "the passage opened and closed")
            await until(barrier_at(model, Position.UP), "the barrier up again")
            await asyncio.sleep(1.0)  # nothing more comes
            return await daemon.db(
                lambda: list(
                    DeviceCommand.objects.exclude(outcome="superseded").values_list(
                        "command", flat=True
                    )
                )
            )

    commands = asyncio.run(scenario())
    assert sorted(commands) == ["lower", "raise"]
    assert Passage.objects.count() == 1
    assert AccessDecision.objects.filter(outcome="grant").count() == 3
