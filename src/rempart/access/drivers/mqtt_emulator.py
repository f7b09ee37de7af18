"""An MQTT barrier controller in software: a small paho client that behaves as a device.

It speaks the topics of ``rempart.access.drivers.mqtt`` over a ``BollardModel``: registers
``T/availability = offline`` as its last will, publishes ``online`` (retained) on connect,
executes ``T/command`` messages and publishes ``T/state`` (retained) after each command and
every ``publish_interval_s`` seconds (the heartbeat). ``crash()`` drops the TCP connection
without an MQTT DISCONNECT, so the broker publishes the last will, as for a real power cut.

Used by the tests and by demos without hardware.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from rempart.access.drivers.base import BarrierCommand
from rempart.access.drivers.mqtt import (
    AVAILABILITY_OFFLINE,
    AVAILABILITY_ONLINE,
    state_payload,
    topics,
)
from rempart.access.drivers.simulator import BollardModel

__all__ = ["MqttDeviceEmulator"]

log = logging.getLogger(__name__)


class MqttDeviceEmulator:
    """One emulated controller under base topic ``topic``; thread-based, start/stop are sync."""

    def __init__(
        self,
        topic: str,
        model: BollardModel | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        publish_interval_s: float = 1.0,
        keepalive_s: int = 5,
    ) -> None:
        self.topics = topics(topic)
        self.model = model or BollardModel(topic.rsplit("/", 1)[-1])
        self.host, self.port = host, port
        self.publish_interval_s = publish_interval_s
        self.keepalive_s = keepalive_s
        self.commands_received: list[dict[str, Any]] = []
        self._last_request_id: str | None = None
        #: Hold while changing ``model`` from another thread (paho and the ticker read it).
        self.lock = threading.Lock()
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._running = False
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"emulator-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv311,
        )
        self._client.will_set(self.topics["availability"], AVAILABILITY_OFFLINE, qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any):
        if reason.is_failure:
            return
        client.subscribe(self.topics["command"], qos=1)
        client.publish(self.topics["availability"], AVAILABILITY_ONLINE, qos=1, retain=True)
        self.publish_state()
        self._connected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            data = json.loads(message.payload)
            command = BarrierCommand(data["command"])
            seq = int(data["seq"])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("emulator %s: bad command %r: %s", self.topics["command"], message, exc)
            return
        self.commands_received.append({**data, "retain": bool(message.retain)})
        with self.lock:
            self.model.command(command, seq)
            self._last_request_id = str(data.get("request_id") or "") or None
        self.publish_state()

    def publish_state(self) -> None:
        """Publish the model's state, retained."""
        with self.lock:
            payload = state_payload(self.model.state(), self._last_request_id)
        self._client.publish(self.topics["state"], payload, qos=1, retain=True)

    def _tick(self) -> None:
        while not self._stop.wait(self.publish_interval_s):
            if self._connected.is_set():
                self.publish_state()

    def start(self, timeout_s: float = 5.0) -> None:
        """Connect and begin publishing; raise ``TimeoutError`` if the broker does not answer."""
        self._client.connect(self.host, self.port, keepalive=self.keepalive_s)
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self._client.loop_stop()
            raise TimeoutError(f"MQTT broker {self.host}:{self.port} did not accept the emulator")
        self._ticker = threading.Thread(target=self._tick, daemon=True, name="mqtt-emulator")
        self._ticker.start()
        self._running = True

    def _stop_ticker(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)

    def stop(self) -> None:
        """Graceful shutdown: announce ``offline`` and disconnect; idempotent, no-op after crash."""
        if not self._running:
            return
        self._running = False
        self._stop_ticker()
        info = self._client.publish(
            self.topics["availability"], AVAILABILITY_OFFLINE, qos=1, retain=True
        )
        info.wait_for_publish(2)
        self._client.disconnect()
        self._client.loop_stop()

    def crash(self) -> None:
        """Drop the connection without DISCONNECT: the broker then publishes the last will."""
        self._running = False
        self._stop_ticker()
        self._client.loop_stop()
        sock = self._client.socket()
        if sock is not None:
            sock.close()
        self._connected.clear()

    def clear_retained(self) -> None:
        """Remove this device's retained messages from the broker (test clean-up)."""
        with _OneShotClient(self.host, self.port) as client:
            for name in ("state", "availability"):
                client.publish(self.topics[name], b"", qos=1, retain=True).wait_for_publish(2)


class _OneShotClient:
    """A connected paho client for a few publishes, as a context manager."""

    def __init__(self, host: str, port: int) -> None:
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        self.client.connect(host, port, keepalive=10)
        self.client.loop_start()

    def __enter__(self) -> mqtt.Client:
        return self.client

    def __exit__(self, *exc_info: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()
