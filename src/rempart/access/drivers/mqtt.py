"""Barrier driver for MQTT controllers (paho-mqtt 2), topics as Home Assistant's MQTT cover.

Topics under the barrier's base topic ``T`` (docs/access-protocols.md):

``T/command``       supervisor -> device, QoS 1, **never retained** (a retained "lower" would
                    replay to a device that reconnects hours later; domain.md section 3).
                    JSON ``{"command": "raise"|"lower", "seq": 1-65535, "request_id": hex,
                    "sent_at": ISO 8601}``.
``T/state``         device -> supervisor, QoS 1, retained, on every change and every second:
                    ``{"position", "position_pct", "faults": [names], "loop_occupied",
                    "power_ok", "heartbeat", "last_seq", "last_outcome",
                    "last_request_id"}``.
``T/availability``  ``online`` / ``offline``, retained; the device registers ``offline`` as its
                    MQTT last will, so the broker announces a crash or cut link.

The link is OK while the broker connection is up, availability is ``online`` and a state
arrived within ``stale_after_s``. A command is acknowledged by the first state whose
``last_request_id`` echoes the command's ``request_id`` (``seq`` alone cannot tell a resent
command's answer from the answer to its first sending).

paho runs its network loop in a thread; callbacks hand messages to the asyncio loop with
``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from rempart.access.drivers.base import (
    BarrierCommand,
    BarrierDriver,
    BarrierState,
    CommandOutcome,
    CommandResult,
    Fault,
    MqttDriverConfig,
    Position,
)

__all__ = [
    "AVAILABILITY_OFFLINE",
    "AVAILABILITY_ONLINE",
    "MqttBarrierDriver",
    "parse_state_payload",
    "state_payload",
    "topics",
]

log = logging.getLogger(__name__)

AVAILABILITY_ONLINE = "online"
AVAILABILITY_OFFLINE = "offline"
COMMAND_QOS = 1


def topics(base: str) -> dict[str, str]:
    """The three topics of a barrier whose base topic is ``base``."""
    base = base.rstrip("/")
    return {
        "command": f"{base}/command",
        "state": f"{base}/state",
        "availability": f"{base}/availability",
    }


def state_payload(state: BarrierState, last_request_id: str | None = None) -> bytes:
    """Encode a state for ``T/state`` (used by devices and the emulator)."""
    return json.dumps(
        {
            "position": state.position.value,
            "position_pct": state.position_pct,
            "faults": state.faults.names(),
            "loop_occupied": state.loop_occupied,
            "power_ok": state.power_ok,
            "heartbeat": state.heartbeat,
            "last_seq": state.last_seq,
            "last_outcome": state.last_outcome.value if state.last_outcome else None,
            "last_request_id": last_request_id,
        }
    ).encode()


def parse_state_payload(payload: bytes) -> BarrierState:
    """Decode ``T/state``; raise ``ValueError`` with one line on a malformed payload."""
    try:
        data = json.loads(payload)
        outcome = data.get("last_outcome")
        return BarrierState(
            position=Position(data.get("position", "unknown")),
            position_pct=data.get("position_pct"),
            faults=Fault.from_names(list(data.get("faults", []))),
            loop_occupied=bool(data.get("loop_occupied", False)),
            power_ok=bool(data.get("power_ok", True)),
            heartbeat=int(data.get("heartbeat", 0)),
            link_ok=True,
            last_seq=int(data.get("last_seq", 0)),
            last_outcome=CommandOutcome(outcome) if outcome else None,
        )
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed barrier state payload {payload[:80]!r}: {exc}") from exc


class MqttBarrierDriver(BarrierDriver):
    """Driver for one barrier whose controller speaks MQTT under ``config.topic``."""

    def __init__(self, barrier_id: str, config: MqttDriverConfig, *, password: str | None = None):
        super().__init__(barrier_id)
        self.config = config
        self.topics = topics(config.topic)
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"rempart-{barrier_id}-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv311,
        )
        if config.username:
            self._client.username_pw_set(config.username, password)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected = asyncio.Event()
        self._state_changed = asyncio.Event()
        self._broker_up = False
        self._available = False
        self._state: BarrierState | None = None
        self._last_request_id: str | None = None
        self._state_at_s = float("-inf")
        self._started = False

    # --- paho callbacks (network thread) -------------------------------------------------

    def _call(self, func: Any, *args: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(func, *args)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any):
        if reason.is_failure:
            log.warning("barrier %s: MQTT broker refused: %s", self.barrier_id, reason)
            return
        client.subscribe([(self.topics["state"], 1), (self.topics["availability"], 1)])
        self._call(self._set_broker, True)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props):
        self._call(self._set_broker, False)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._call(self._handle, message.topic, bytes(message.payload))

    # --- asyncio side ----------------------------------------------------------------------

    def _set_broker(self, up: bool) -> None:
        self._broker_up = up
        if up:
            self._connected.set()
        else:
            self._connected.clear()

    def _handle(self, topic: str, payload: bytes) -> None:
        if topic == self.topics["availability"]:
            self._available = payload.decode(errors="replace").strip() == AVAILABILITY_ONLINE
        elif topic == self.topics["state"]:
            if not payload:  # retained state cleared
                return
            try:
                self._state = parse_state_payload(payload)
                self._last_request_id = json.loads(payload).get("last_request_id")
            except ValueError as exc:
                log.warning("barrier %s: %s", self.barrier_id, exc)
                return
            self._state_at_s = time.monotonic()
            self._state_changed.set()

    async def connect(self) -> bool:
        if not self._started:
            self._loop = asyncio.get_running_loop()
            self._client.connect_async(self.config.host, self.config.port, keepalive=10)
            self._client.loop_start()
            self._started = True
        try:
            await asyncio.wait_for(self._connected.wait(), timeout=self.config.command_timeout_s)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        if self._started:
            self._client.disconnect()
            await asyncio.to_thread(self._client.loop_stop)
            self._started = False
            self._broker_up = False

    @property
    def link_ok(self) -> bool:
        """Broker up, device online and a state no older than ``stale_after_s``."""
        fresh = time.monotonic() - self._state_at_s < self.config.stale_after_s
        return self._broker_up and self._available and fresh and self._state is not None

    async def read_state(self) -> BarrierState:
        if not self.link_ok or self._state is None:
            heartbeat = self._state.heartbeat if self._state else 0
            return BarrierState.link_lost(heartbeat=heartbeat)
        return self._state

    async def command(self, command: BarrierCommand, seq: int | None = None) -> CommandResult:
        seq = self.next_seq() if seq is None else seq
        if not 1 <= seq <= 65535:
            raise ValueError(f"command seq {seq} is outside 1-65535")
        if not (self._broker_up and self._available):
            return CommandResult(command, seq, CommandOutcome.NO_RESPONSE, "device offline")
        # the device publishes its state on every change: the latest one is the freshest view
        # of the loop there is, newer than the supervisor's last poll
        if (
            command is BarrierCommand.RAISE
            and self._state is not None
            and self._state.loop_occupied
        ):
            return CommandResult.held_over_loop(command, seq)
        request_id = uuid.uuid4().hex
        payload = json.dumps(
            {
                "command": command.value,
                "seq": seq,
                "request_id": request_id,
                "sent_at": datetime.now(UTC).isoformat(),
            }
        )
        self._state_changed.clear()
        info = self._client.publish(self.topics["command"], payload, qos=COMMAND_QOS, retain=False)
        deadline = time.monotonic() + self.config.command_timeout_s
        try:
            await asyncio.to_thread(info.wait_for_publish, self.config.command_timeout_s)
        except (RuntimeError, ValueError) as exc:
            return CommandResult(command, seq, CommandOutcome.NO_RESPONSE, f"publish: {exc}")
        while (remaining := deadline - time.monotonic()) > 0:
            # clear-then-check has no await in between: no state can slip through unseen
            self._state_changed.clear()
            state = self._state
            if (
                state is not None
                and self._last_request_id == request_id
                and state.last_outcome is not None
            ):
                return CommandResult(command, seq, state.last_outcome)
            try:
                await asyncio.wait_for(self._state_changed.wait(), timeout=remaining)
            except TimeoutError:
                break
        return CommandResult(
            command, seq, CommandOutcome.NO_RESPONSE, "no state acknowledged the request id"
        )
