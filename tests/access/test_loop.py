"""The whole loop with real protocols on loopback: request -> stored decision -> daemon -> device ->
state back -> vehicle on the loop -> barrier raised -> passage closed; link loss, interlocks,
tailgating; the same over MQTT through Mosquitto."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from rempart.access import services
from rempart.access.daemon import Daemon, DaemonOptions
from rempart.access.drivers.base import BarrierCommand, FailMode, Position
from rempart.access.drivers.simulator import BollardModel
from rempart.access.models import (
    AccessDecision,
    Alarm,
    Barrier,
    BarrierStatus,
    DeviceCommand,
    Lane,
    Passage,
    Zone,
)
from rempart.access.simulator_server import SimulatorServer
from tests.conftest import require_service

pytestmark = [pytest.mark.django_db(transaction=True)]


def one_lane_zone(city: Any, driver: dict[str, Any], fail_mode: str = "secure") -> Lane:
    zone = Zone.objects.create(city=city, ident="loop-zone", timezone="Europe/Paris")
    lane = Lane.objects.create(zone=zone, ident="loop-in", direction="in", identification=["anpr"])
    Barrier.objects.create(
        lane=lane,
        ident="loop-b1",
        fail_mode=fail_mode,
        rise_time_s=0.6,
        lower_time_s=0.4,
        driver=driver,
    )
    return lane


def options(**extra: Any) -> DaemonOptions:
    return DaemonOptions(**{"poll_s": 0.1, "open_timeout_s": 30.0, **extra})


async def until(check: Callable[[], Awaitable[Any]], what: str, timeout_s: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def passage_state(daemon: Daemon, request_id: Any) -> Callable[[], Awaitable[str]]:
    async def check() -> str:
        return await daemon.db(lambda: Passage.objects.get(decision__request_id=request_id).state)

    return check


def grant(lane: str = "loop-in") -> Any:
    """An operator grant (no permit needed) through the service layer."""
    from rempart.access.decide import OperatorAction

    result = services.submit_request(
        lane, operator=OperatorAction("test-operator", True, "intercom"), source="operator"
    )
    return result.decision.request_id


@dataclass
class ModbusLoop:
    """One lane with one bollard served over Modbus TCP on loopback, and the daemon driving it."""

    model: BollardModel
    server: SimulatorServer
    daemon: Daemon
    lane: Lane


@contextlib.asynccontextmanager
async def modbus_loop(
    city: Any, fail_mode: str = "secure", rise_time_s: float = 0.6
) -> AsyncIterator[ModbusLoop]:
    """Start the simulated controller and the daemon; stop both (even after a failure)."""
    model = BollardModel(
        "loop-b1", fail_mode=FailMode(fail_mode), rise_time_s=rise_time_s, lower_time_s=0.4
    )
    server = SimulatorServer([model], port=0)
    await server.start()
    daemon = Daemon(options())
    driver = {"type": "modbus", "host": "127.0.0.1", "port": server.port, "unit": 1}
    lane = await daemon.db(one_lane_zone, city, {**driver, "timeout_s": 0.5}, fail_mode)
    task = await start(daemon)
    try:
        yield ModbusLoop(model, server, daemon, lane)
    finally:
        await stop(daemon, task)
        await server.stop()


async def start(daemon: Daemon) -> asyncio.Task[None]:
    task = asyncio.create_task(daemon.run())
    await until(lambda: asyncio.sleep(0, daemon.ticks > 2), "the daemon's first ticks")
    return task


async def stop(daemon: Daemon, task: asyncio.Task[None]) -> None:
    daemon.stop()
    await asyncio.wait_for(task, 10)


def test_full_loop_over_modbus_tcp(city: Any) -> None:
    async def scenario() -> None:
        async with modbus_loop(city) as loop:
            model, daemon = loop.model, loop.daemon
            await until(
                lambda: daemon.db(
                    lambda: BarrierStatus.objects.filter(
                        barrier__lane=loop.lane, position="up", link_ok=True
                    ).exists()
                ),
                "the barrier's state stored",
            )
            request_id = await daemon.db(grant)
            # the decision is stored before any command
            decision = await daemon.db(AccessDecision.objects.get, request_id=request_id)
            assert decision.outcome == "grant"
            await until(passage_state(daemon, request_id), "passage exists")
            await until(
                lambda: asyncio.sleep(0, model.snapshot().position is Position.DOWN), "barrier down"
            )
            await until(lambda: _is(daemon, request_id, "open"), "passage open")
            lower = await daemon.db(lambda: list(DeviceCommand.objects.filter(command="lower")))
            assert len(lower) >= 1 and lower[0].outcome in ("accepted", "duplicate")
            assert lower[0].created_at >= decision.received_at
            # a vehicle drives over the loop, then leaves it
            model.set_loop(True)
            await until(lambda: _is(daemon, request_id, "vehicle_passing"), "vehicle passing")
            await asyncio.sleep(0.5)
            assert model.snapshot().position is Position.DOWN  # nothing rose over the vehicle
            model.set_loop(False)
            await until(lambda: _is(daemon, request_id, "closed"), "passage closed", 10)
            assert model.snapshot().position is Position.UP
            passage = await daemon.db(Passage.objects.get, decision__request_id=request_id)
            assert passage.close_reason == "vehicle passed" and passage.vehicle_cleared
            assert (
                await daemon.db(lambda: Alarm.objects.filter(cleared_at__isnull=True).count()) == 0
            )

    asyncio.run(scenario())


async def _is(daemon: Daemon, request_id: Any, state: str) -> bool:
    return await daemon.db(
        lambda: Passage.objects.filter(decision__request_id=request_id, state=state).exists()
    )


@pytest.mark.parametrize("fail_mode", ["secure", "safe"])
def test_lost_link_raises_an_alarm_within_5_s_naming_the_fail_mode(
    city: Any, fail_mode: str
) -> None:
    async def scenario() -> None:
        async with modbus_loop(city, fail_mode) as loop:
            model, server, daemon = loop.model, loop.server, loop.daemon
            await until(
                lambda: daemon.db(lambda: BarrierStatus.objects.filter(link_ok=True).exists()),
                "link up",
            )
            cut = time.monotonic()
            await server.stop()  # the controller vanishes from the network
            alarm = await until(
                lambda: daemon.db(
                    lambda: Alarm.objects.filter(kind="link_lost", cleared_at__isnull=True).first()
                ),
                "link-lost alarm",
                timeout_s=5.0,
            )
            assert time.monotonic() - cut < 5.0
            assert alarm.detail["fail_mode"] == fail_mode
            expected = "stays up (fail-secure)" if fail_mode == "secure" else "fail-safe"
            assert expected in alarm.message
            status = await daemon.db(BarrierStatus.objects.get)
            assert not status.link_ok and status.position == "unknown"
            # the control room shows the same
            lanes = await daemon.db(services.lane_states, Zone.objects.all())
            assert lanes[0]["barriers"][0]["link_ok"] is False
            assert lanes[0]["barriers"][0]["fail_mode"] == fail_mode
            # the link comes back: the alarm clears (and waits for acknowledgement)
            server2 = SimulatorServer([model], port=server.port)
            await server2.start()
            await until(
                lambda: daemon.db(
                    lambda: Alarm.objects.filter(
                        kind="link_lost", cleared_at__isnull=False
                    ).exists()
                ),
                "alarm cleared",
                timeout_s=8.0,
            )
            await server2.stop()

    asyncio.run(scenario())


def test_never_raises_over_an_occupied_loop(city: Any, make_user: Any) -> None:
    operator = make_user("operator", modules=("access",))

    async def scenario() -> None:
        async with modbus_loop(city) as loop:
            model, daemon, lane = loop.model, loop.daemon, loop.lane
            request_id = await daemon.db(grant)
            await until(lambda: _is(daemon, request_id, "open"), "passage open")
            model.set_loop(True)  # a vehicle stops on the loop
            await until(lambda: _is(daemon, request_id, "vehicle_passing"), "vehicle seen")
            await daemon.db(services.operator_close, lane, operator, "end of delivery hours")
            await until(
                lambda: daemon.db(lambda: Alarm.objects.filter(kind="interlock").exists()),
                "interlock alarm",
            )
            await asyncio.sleep(1.0)
            raises = await daemon.db(lambda: DeviceCommand.objects.filter(command="raise").count())
            assert raises == 0, "a raise was sent while the loop was occupied"
            assert model.snapshot().position is Position.DOWN
            assert (
                await daemon.db(lambda: Passage.objects.get(decision__request_id=request_id).state)
                == "closing"
            )
            model.set_loop(False)
            await until(lambda: _is(daemon, request_id, "closed"), "closed once clear")
            assert model.snapshot().position is Position.UP

    asyncio.run(scenario())


def test_tailgating_and_forced_entry_raise_alarms(city: Any) -> None:
    async def scenario() -> None:
        async with modbus_loop(city, rise_time_s=1.5) as loop:
            model, daemon = loop.model, loop.daemon
            request_id = await daemon.db(grant)
            await until(lambda: _is(daemon, request_id, "open"), "passage open")
            model.vehicle_passes(0.4)  # the vehicle granted
            await until(
                lambda: asyncio.sleep(0, model.snapshot().position is Position.RISING),
                "barrier rising behind it",
            )
            model.set_loop(True)  # a second vehicle rushes in: the bollard reverses
            alarm = await until(
                lambda: daemon.db(lambda: Alarm.objects.filter(kind="tailgating").first()),
                "tailgating alarm",
            )
            assert "loop-in" in alarm.message and alarm.detail["passage"]
            model.set_loop(False)
            await until(lambda: _is(daemon, request_id, "closed"), "closed after the tailgater")
            assert await daemon.db(lambda: Alarm.objects.filter(kind="tailgating").count()) == 1
            # a vehicle on the loop of a raised barrier with no passage: forced entry
            model.set_loop(True)
            await until(
                lambda: daemon.db(
                    lambda: Alarm.objects.filter(
                        kind="forced_entry", cleared_at__isnull=True
                    ).exists()
                ),
                "forced-entry alarm",
            )
            model.set_loop(False)

    asyncio.run(scenario())


def test_emergency_open_holds_barriers_down_and_a_stray_lowered_barrier_is_raised(
    city: Any, make_user: Any
) -> None:
    operator = make_user("operator", modules=("access",))

    async def scenario() -> None:
        async with modbus_loop(city) as loop:
            model, daemon, lane = loop.model, loop.daemon, loop.lane
            model.command(BarrierCommand.LOWER, 999)  # lowered by hand at the cabinet
            await until(
                lambda: asyncio.sleep(0, model.snapshot().position is Position.UP),
                "a barrier down without a passage is raised again",
            )
            zone = await daemon.db(lambda: lane.zone)
            await daemon.db(services.set_zone_mode, zone, "emergency_open", operator, "evacuation")
            await until(
                lambda: asyncio.sleep(0, model.snapshot().position is Position.DOWN),
                "barrier lowered in emergency_open",
            )
            await daemon.db(services.set_zone_mode, zone, "normal", operator, "over")
            await until(
                lambda: asyncio.sleep(0, model.snapshot().position is Position.UP), "raised again"
            )

    asyncio.run(scenario())


def test_full_loop_over_mqtt_through_mosquitto(city: Any) -> None:
    require_service("Mosquitto", "127.0.0.1", 1883)
    from rempart.access.drivers.mqtt_emulator import MqttDeviceEmulator

    topic = f"rempart/test/{uuid.uuid4().hex[:8]}/loop-b1"
    model = BollardModel("loop-b1", rise_time_s=0.6, lower_time_s=0.4)
    emulator = MqttDeviceEmulator(topic, model, publish_interval_s=0.2)
    emulator.start()
    one_lane_zone(city, {"type": "mqtt", "topic": topic, "host": "127.0.0.1", "port": 1883})

    async def scenario() -> None:
        daemon = Daemon(options())
        task = await start(daemon)
        try:
            await until(
                lambda: daemon.db(lambda: BarrierStatus.objects.filter(link_ok=True).exists()),
                "MQTT link up",
            )
            request_id = await daemon.db(grant)
            await until(lambda: _is(daemon, request_id, "open"), "passage open over MQTT")
            assert model.snapshot().position is Position.DOWN
            with emulator.lock:
                model.vehicle_passes(0.5)
            await until(lambda: _is(daemon, request_id, "closed"), "closed over MQTT")
            assert model.snapshot().position is Position.UP
            assert all(not c["retain"] for c in emulator.commands_received)
            # the device dies: its last will makes the link drop, the alarm follows
            emulator.crash()
            await until(
                lambda: daemon.db(lambda: Alarm.objects.filter(kind="link_lost").exists()),
                "link-lost alarm over MQTT",
                timeout_s=12.0,
            )
        finally:
            await stop(daemon, task)

    try:
        asyncio.run(scenario())
    finally:
        emulator.stop()
        emulator.clear_retained()
