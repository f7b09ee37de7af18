"""The MQTT driver against Mosquitto on 127.0.0.1:1883, with the device emulator.

Each test uses its own topic prefix and clears its retained messages afterwards. Without a
broker the tests skip, naming it; with CI=true they fail instead (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from rempart.access.drivers import create_driver
from rempart.access.drivers.base import (
    Barrier,
    BarrierCommand,
    BarrierState,
    CommandOutcome,
    MqttDriverConfig,
    Position,
)
from rempart.access.drivers.mqtt import (
    MqttBarrierDriver,
    parse_state_payload,
    state_payload,
    topics,
)
from rempart.access.drivers.mqtt_emulator import MqttDeviceEmulator
from rempart.access.drivers.simulator import BollardModel
from tests.conftest import require_service

HOST, PORT = "127.0.0.1", 1883


@pytest.fixture
def topic() -> Iterator[str]:
    require_service("Mosquitto (MQTT broker)", HOST, PORT)
    base = f"rempart-test/{uuid.uuid4().hex}/bollard-1"
    yield base
    clear = MqttDeviceEmulator(base)
    clear.clear_retained()


@pytest.fixture
def emulator(topic: str) -> Iterator[MqttDeviceEmulator]:
    model = BollardModel("bollard-1", rise_time_s=0.4, lower_time_s=0.3)
    device = MqttDeviceEmulator(topic, model, host=HOST, port=PORT, publish_interval_s=0.2)
    device.start()
    yield device
    device.stop()


def config(topic: str) -> MqttDriverConfig:
    return MqttDriverConfig(topic=topic, host=HOST, port=PORT, command_timeout_s=2.0,
                            stale_after_s=1.0)  # fmt: skip


def with_driver(topic: str, scenario: Callable[[MqttBarrierDriver], Awaitable[None]]) -> None:
    async def main() -> None:
        driver = create_driver(Barrier("bollard-1", driver=config(topic)))
        assert isinstance(driver, MqttBarrierDriver)
        try:
            assert await driver.connect()
            await scenario(driver)
        finally:
            await driver.close()

    asyncio.run(asyncio.wait_for(main(), timeout=20))


async def wait_for_state(
    driver: MqttBarrierDriver, predicate: Callable[[BarrierState], bool], within_s: float
) -> BarrierState:
    deadline = time.monotonic() + within_s
    while True:
        state = await driver.read_state()
        if predicate(state) or time.monotonic() > deadline:
            return state
        await asyncio.sleep(0.05)


def collect(topic_filter: str, listen_s: float) -> list[mqtt.MQTTMessage]:
    """Subscribe now (a late subscriber) and return what arrives within ``listen_s``."""
    received: list[mqtt.MQTTMessage] = []
    subscribed = threading.Event()
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *_: c.subscribe(topic_filter, qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda _c, _u, message: received.append(message)
    client.connect(HOST, PORT)
    client.loop_start()
    try:
        assert subscribed.wait(3), "late subscriber could not subscribe"
        time.sleep(listen_s)
    finally:
        client.disconnect()
        client.loop_stop()
    return received


def test_state_comes_back_and_commands_move_the_bollard(emulator: MqttDeviceEmulator) -> None:
    async def scenario(driver: MqttBarrierDriver) -> None:
        state = await wait_for_state(driver, lambda s: s.link_ok, 2.0)
        assert state.link_ok and state.position is Position.UP
        result = await driver.command(BarrierCommand.LOWER, seq=41)
        assert (result.outcome, result.seq) == (CommandOutcome.ACCEPTED, 41)
        down = await wait_for_state(driver, lambda s: s.position is Position.DOWN, 2.0)
        assert down.position is Position.DOWN and down.last_seq == 41
        again = await driver.command(BarrierCommand.LOWER, seq=41)
        assert again.outcome is CommandOutcome.DUPLICATE
        # heartbeat moves with the device's clock
        first = (await driver.read_state()).heartbeat
        await asyncio.sleep(1.2)
        assert (await driver.read_state()).heartbeat > first

    with_driver(emulator.topics["command"].rsplit("/", 1)[0], scenario)
    assert [c["seq"] for c in emulator.commands_received] == [41, 41]
    assert not any(c["retain"] for c in emulator.commands_received)


def test_refusal_travels_back_through_the_state(emulator: MqttDeviceEmulator) -> None:
    with emulator.lock:
        emulator.model.set_power(False)
    emulator.publish_state()

    async def scenario(driver: MqttBarrierDriver) -> None:
        state = await wait_for_state(driver, lambda s: s.link_ok and not s.power_ok, 2.0)
        assert not state.power_ok
        result = await driver.command(BarrierCommand.LOWER)
        assert result.outcome is CommandOutcome.REFUSED_NO_POWER

    with_driver(emulator.topics["command"].rsplit("/", 1)[0], scenario)


def test_commands_are_not_retained_for_late_subscribers(emulator: MqttDeviceEmulator) -> None:
    base = emulator.topics["command"].rsplit("/", 1)[0]

    async def scenario(driver: MqttBarrierDriver) -> None:
        await wait_for_state(driver, lambda s: s.link_ok, 2.0)
        assert (await driver.command(BarrierCommand.LOWER)).ok

    with_driver(base, scenario)
    late = collect(f"{base}/#", listen_s=0.5)
    by_topic = {m.topic: m for m in late if m.retain}
    # positive control: retained state and availability do reach a late subscriber ...
    assert json.loads(by_topic[f"{base}/state"].payload)["last_seq"] == 1
    assert by_topic[f"{base}/availability"].payload == b"online"
    # ... the command does not
    assert not [m for m in late if m.topic == f"{base}/command"]


def test_last_will_marks_a_crashed_device_offline(emulator: MqttDeviceEmulator) -> None:
    base = emulator.topics["command"].rsplit("/", 1)[0]

    async def scenario(driver: MqttBarrierDriver) -> None:
        assert (await wait_for_state(driver, lambda s: s.link_ok, 2.0)).link_ok
        started = time.monotonic()
        emulator.crash()
        lost = await wait_for_state(driver, lambda s: not s.link_ok, 5.0)
        assert not lost.link_ok and lost.position is Position.UNKNOWN
        assert time.monotonic() - started < 5.0
        refused = await driver.command(BarrierCommand.RAISE)
        assert refused.outcome is CommandOutcome.NO_RESPONSE

    with_driver(base, scenario)
    deadline = time.monotonic() + 5
    availability: list[bytes] = []
    while time.monotonic() < deadline:  # the broker publishes the will, retained
        availability = [bytes(m.payload) for m in collect(f"{base}/availability", 0.2)]
        if availability == [b"offline"]:
            break
    assert availability == [b"offline"]


def test_graceful_stop_publishes_offline(topic: str) -> None:
    device = MqttDeviceEmulator(topic, host=HOST, port=PORT, publish_interval_s=0.2)
    device.start()

    async def scenario(driver: MqttBarrierDriver) -> None:
        assert (await wait_for_state(driver, lambda s: s.link_ok, 2.0)).link_ok
        await asyncio.to_thread(device.stop)
        assert not (await wait_for_state(driver, lambda s: not s.link_ok, 2.0)).link_ok

    with_driver(topic, scenario)


def test_no_device_means_no_link(topic: str) -> None:
    async def scenario(driver: MqttBarrierDriver) -> None:
        await asyncio.sleep(0.3)
        assert not (await driver.read_state()).link_ok
        started = time.monotonic()
        result = await driver.command(BarrierCommand.LOWER)
        assert result.outcome is CommandOutcome.NO_RESPONSE
        assert time.monotonic() - started < 0.5

    with_driver(topic, scenario)


def test_state_payload_round_trip_and_errors() -> None:
    state = BarrierState(Position.RISING, 40, heartbeat=7, last_seq=3,
                         last_outcome=CommandOutcome.ACCEPTED)  # fmt: skip
    back = parse_state_payload(state_payload(state))
    assert (back.position, back.position_pct, back.heartbeat, back.last_seq, back.last_outcome) == (
        Position.RISING, 40, 7, 3, CommandOutcome.ACCEPTED,
    )  # fmt: skip
    with pytest.raises(ValueError, match="malformed barrier state payload"):
        parse_state_payload(b'{"position": "sideways"}')
    assert topics("a/b/")["availability"] == "a/b/availability"
