"""No raise is ever sent over an occupied loop, even when a vehicle arrives between the
supervisor's poll and the command (the poll-to-send race: issue 9 saw 12 of 270 raises reach a
controller whose loop was occupied).

Each driver reads the loop as late as its protocol allows and holds the raise
(``held_loop_occupied``) without sending it. The controllers here record what they received,
so the tests check the wire, not only the driver's answer.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from django.utils import timezone

from rempart.access.daemon import Daemon, _Send, load_topology
from rempart.access.drivers.base import (
    BarrierCommand,
    CommandOutcome,
    CommandResult,
    ModbusDriverConfig,
    MqttDriverConfig,
    Position,
)
from rempart.access.drivers.modbus import ModbusBarrierDriver
from rempart.access.drivers.simulator import BollardModel, SimulatorDriver
from rempart.access.models import Alarm, DeviceCommand
from rempart.access.simulator_server import SimulatorServer
from tests.access.test_loop import one_lane_zone, options
from tests.conftest import require_service


def lowered_model() -> BollardModel:
    model = BollardModel("race", rise_time_s=0.4, lower_time_s=0.3)
    model.command(BarrierCommand.LOWER, 1)
    model.advance(model.snapshot().now_s + 1.0)
    assert model.snapshot().position is Position.DOWN
    return model


def test_modbus_raise_is_held_when_the_loop_fills_after_the_poll() -> None:
    async def scenario() -> None:
        model = BollardModel("race", rise_time_s=0.4, lower_time_s=0.3)
        server = SimulatorServer([model], port=0)
        await server.start()
        driver = ModbusBarrierDriver("race", ModbusDriverConfig("127.0.0.1", server.port, 1, 0.5))
        try:
            assert (await driver.command(BarrierCommand.LOWER, 1)).ok
            await asyncio.sleep(0.5)
            polled = await driver.read_state()  # the supervisor's poll: down, loop clear
            assert polled.position is Position.DOWN and not polled.loop_occupied
            model.set_loop(True)  # a vehicle arrives before the raise leaves
            result = await driver.command(BarrierCommand.RAISE, 2)
            assert result.outcome is CommandOutcome.HELD_LOOP_OCCUPIED and not result.ok
            # the controller never received it: its last command is still the lower
            snap = model.snapshot()
            assert (snap.last_seq, snap.last_outcome) == (1, CommandOutcome.ACCEPTED)
            assert snap.position is Position.DOWN
            # the loop clears: the same raise goes out and is executed
            model.set_loop(False)
            assert (await driver.command(BarrierCommand.RAISE, 2)).outcome is (
                CommandOutcome.ACCEPTED
            )
            assert model.snapshot().last_seq == 2
            # a lower is never held (the loop does not stop a barrier going down)
            model.set_loop(True)
            assert (await driver.command(BarrierCommand.LOWER, 3)).ok
        finally:
            await driver.close()
            await server.stop()

    asyncio.run(asyncio.wait_for(scenario(), 20))


def test_in_process_simulator_raise_is_held_over_an_occupied_loop() -> None:
    async def scenario() -> None:
        model = lowered_model()
        driver = SimulatorDriver("race", model)
        await driver.connect()
        assert not (await driver.read_state()).loop_occupied
        model.vehicle_passes(5.0)
        result = await driver.command(BarrierCommand.RAISE, 2)
        assert result.outcome is CommandOutcome.HELD_LOOP_OCCUPIED
        assert model.snapshot().last_seq == 1  # never reached the model

    asyncio.run(scenario())


def test_mqtt_raise_is_held_when_the_device_reports_the_loop_occupied() -> None:
    require_service("Mosquitto (MQTT broker)", "127.0.0.1", 1883)
    from rempart.access.drivers.mqtt import MqttBarrierDriver
    from rempart.access.drivers.mqtt_emulator import MqttDeviceEmulator

    topic = f"rempart/test/{uuid.uuid4().hex[:8]}/race"
    model = lowered_model()
    emulator = MqttDeviceEmulator(topic, model, publish_interval_s=5.0)
    emulator.start()

    async def scenario() -> None:
        driver = MqttBarrierDriver("race", MqttDriverConfig(topic=topic, stale_after_s=10.0))
        try:
            assert await driver.connect()
            for _ in range(100):
                polled = await driver.read_state()
                if polled.link_ok:
                    break
                await asyncio.sleep(0.05)
            assert polled.link_ok and not polled.loop_occupied
            with emulator.lock:
                model.set_loop(True)
            emulator.publish_state()  # the device reports the change, as on every change
            for _ in range(100):
                if (await driver.read_state()).loop_occupied:
                    break
                await asyncio.sleep(0.05)
            result = await driver.command(BarrierCommand.RAISE, 2)
            assert result.outcome is CommandOutcome.HELD_LOOP_OCCUPIED
            await asyncio.sleep(0.3)
            assert emulator.commands_received == []
        finally:
            await driver.close()

    try:
        asyncio.run(asyncio.wait_for(scenario(), 20))
    finally:
        emulator.stop()
        emulator.clear_retained()


@pytest.mark.django_db
def test_the_daemon_records_a_held_raise_as_done_without_an_interlock_alarm(city: Any) -> None:
    """A raise its driver held is done (never resent over the vehicle) and raises no 'raise
    refused' alarm: the lane's rules (tailgating, forced entry) say why the loop is occupied,
    and the next tick orders a new raise once it is clear."""
    lane = one_lane_zone(city, {"type": "simulator"})
    barrier = lane.barriers.get()
    row = DeviceCommand.objects.create(barrier=barrier, command="raise", seq=5)
    daemon = Daemon(options())
    try:
        daemon._topology = load_topology(None)
        held = CommandResult.held_over_loop(BarrierCommand.RAISE, 5)
        send = _Send(row.pk, barrier.pk, BarrierCommand.RAISE, 5)
        daemon._record_results([(send, held)], timezone.now())
    finally:
        daemon._executor.shutdown()
    row.refresh_from_db()
    assert row.done and row.outcome == "held_loop_occupied"
    assert not Alarm.objects.exists()
