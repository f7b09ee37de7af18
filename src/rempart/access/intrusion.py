"""Detection inputs of a zone (intrusion cables, loops, door contacts, panic buttons) read
through the barriers' transports, their alarms in the same queue.

A :class:`~rempart.access.models.DetectionInput` names its transport in ``driver``:

* Modbus TCP (``{"type": "modbus", "host", "port", "unit", "address", "table"}``): the bit at
  ``address`` of the ``discrete_input`` table (function 2, the default) or the ``coil`` table
  (function 1), read every poll; ``active_high`` False inverts it (a normally-closed contact).
  A read that fails leaves the input's state unknown (its alarm stays as it was).
* MQTT (``{"type": "mqtt", "host", "port", "topic"}``): the device publishes its state
  (retained) on ``topic``: ``1``/``true``/``on``/``active`` or JSON ``{"active": true}``;
  ``0``/``false``/``off``/``inactive``/``{"active": false}`` otherwise.

:class:`InputWatcher` (asyncio; one Modbus connection per host/port, one MQTT client per
broker) gives the states; :func:`apply_states` (database) raises one alarm per active input --
kind ``panic`` for a panic button, ``intrusion`` otherwise, high priority by default
(:mod:`rempart.access.alarms`) -- and clears it when the input goes back to rest. The device
daemon runs both every tick for the inputs of its zones.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pymodbus.client import AsyncModbusTcpClient

log = logging.getLogger(__name__)

ACTIVE_WORDS = {"1", "true", "on", "active", "alarm"}
REST_WORDS = {"0", "false", "off", "inactive", "normal", "rest"}


def parse_payload(payload: bytes | bytearray) -> bool | None:
    """An MQTT payload as active (True), at rest (False) or not understood (None)."""
    text = payload.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            value = json.loads(text).get("active")
        except (ValueError, AttributeError):
            return None
        return value if isinstance(value, bool) else None
    word = text.lower()
    if word in ACTIVE_WORDS:
        return True
    if word in REST_WORDS:
        return False
    return None


@dataclass(frozen=True)
class InputSpec:
    """What the watcher needs of one input (read from the database once per refresh)."""

    pk: int
    ident: str
    driver: dict[str, Any]
    active_high: bool


class InputWatcher:
    """Reads detection inputs over Modbus TCP and MQTT; :meth:`poll` returns their states."""

    def __init__(self, timeout_s: float = 1.0) -> None:
        self.timeout_s = timeout_s
        self._modbus: dict[tuple[str, int], AsyncModbusTcpClient] = {}
        self._mqtt: dict[tuple[str, int], mqtt.Client] = {}
        self._topics: dict[tuple[str, int], set[str]] = {}
        self._retained: dict[tuple[str, int, str], bool | None] = {}
        self._lock = threading.Lock()

    async def poll(self, inputs: list[InputSpec]) -> dict[int, bool | None]:
        """The state of every input: True active, False at rest, None unknown."""
        states: dict[int, bool | None] = {}
        for spec in inputs:
            kind = spec.driver.get("type")
            raw: bool | None
            if kind == "modbus":
                raw = await self._read_modbus(spec.driver)
            elif kind == "mqtt":
                raw = self._read_mqtt(spec.driver)
            else:
                raw = None
            states[spec.pk] = None if raw is None else (raw if spec.active_high else not raw)
        return states

    async def _read_modbus(self, driver: dict[str, Any]) -> bool | None:
        key = (str(driver.get("host", "127.0.0.1")), int(driver.get("port", 502)))
        client = self._modbus.get(key)
        try:
            if client is None or not client.connected:
                if client is not None:
                    client.close()
                client = AsyncModbusTcpClient(key[0], port=key[1], timeout=self.timeout_s)
                self._modbus[key] = client
                if not await client.connect():
                    return None
            address, unit = int(driver.get("address", 0)), int(driver.get("unit", 1))
            if driver.get("table", "discrete_input") == "coil":
                response = await client.read_coils(address, count=1, device_id=unit)
            else:
                response = await client.read_discrete_inputs(address, count=1, device_id=unit)
        except Exception as exc:  # a link error means unknown, never "at rest"
            log.warning("detection input on %s:%d unreadable: %s", *key, exc)
            return None
        if response.isError():
            return None
        return bool(response.bits[0])

    def _read_mqtt(self, driver: dict[str, Any]) -> bool | None:
        key = (str(driver.get("host", "127.0.0.1")), int(driver.get("port", 1883)))
        topic = str(driver["topic"])
        client = self._mqtt.get(key)
        if client is None:
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id=f"rempart-inputs-{uuid.uuid4().hex[:8]}"
            )
            client.on_message = self._on_message(key)
            client.on_connect = self._on_connect(key)
            self._mqtt[key] = client
            self._topics[key] = set()
            try:
                client.connect_async(key[0], key[1], keepalive=30)
                client.loop_start()
            except Exception as exc:
                log.warning("MQTT broker %s:%d unreachable: %s", *key, exc)
        if topic not in self._topics[key]:
            self._topics[key].add(topic)
            with contextlib.suppress(Exception):
                client.subscribe(topic, qos=1)
        with self._lock:
            return self._retained.get((*key, topic))

    def _on_connect(self, key: tuple[str, int]) -> Any:
        def on_connect(client: mqtt.Client, *_args: Any) -> None:
            for topic in self._topics.get(key, ()):
                client.subscribe(topic, qos=1)

        return on_connect

    def _on_message(self, key: tuple[str, int]) -> Any:
        def on_message(_client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
            with self._lock:
                self._retained[(*key, message.topic)] = parse_payload(message.payload)

        return on_message

    async def close(self) -> None:
        for client in self._modbus.values():
            client.close()
        for mqtt_client in self._mqtt.values():
            with contextlib.suppress(Exception):
                mqtt_client.loop_stop()
                mqtt_client.disconnect()
        self._modbus.clear()
        self._mqtt.clear()
        await asyncio.sleep(0)


def load_inputs(zone_idents: Sequence[str] | None = None) -> list[InputSpec]:
    """The detection inputs of the zones ``zone_idents`` (every zone when None or empty)."""
    from rempart.access.models import DetectionInput

    rows = DetectionInput.objects.all()
    if zone_idents:
        rows = rows.filter(zone__ident__in=list(zone_idents))
    return [InputSpec(r.pk, r.ident, dict(r.driver or {}), r.active_high) for r in rows]


def apply_states(states: dict[int, bool | None], now: dt.datetime) -> dict[str, int]:
    """Raise an alarm for each input that became active, clear it when the input is at rest;
    an unknown state (None) changes nothing. Returns counts ``raised`` and ``cleared``."""
    from rempart.access.models import Alarm, DetectionInput

    inputs = DetectionInput.objects.filter(pk__in=list(states)).select_related("zone", "lane")
    raised = cleared = 0
    for item in inputs:
        state = states[item.pk]
        if state is None:
            continue
        kind = (
            Alarm.Kind.PANIC
            if item.kind == DetectionInput.Kind.PANIC_BUTTON
            else (Alarm.Kind.INTRUSION)
        )
        open_alarm = Alarm.objects.filter(
            zone=item.zone, kind=kind, detail__input=item.ident, cleared_at__isnull=True
        ).first()
        if state and open_alarm is None:
            Alarm.objects.create(
                zone=item.zone,
                lane=item.lane,
                kind=kind,
                message=f"{item.get_kind_display()} {item.name or item.ident} active",
                detail={"input": item.ident, "input_kind": item.kind},
                raised_at=now,
            )
            raised += 1
            log.warning("alarm: detection input %s active", item.ident)
        elif not state and open_alarm is not None:
            open_alarm.cleared_at = now
            open_alarm.save(update_fields=["cleared_at"])
            cleared += 1
    return {"raised": raised, "cleared": cleared}
