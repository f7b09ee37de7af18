"""Alarms (issue 11 item 3): priority per type (configurable), procedure per type, escalation
to supervisors with a fake clock, acknowledgement with a comment; detection inputs raise and
clear alarms through real Modbus TCP on loopback and through MQTT (Mosquitto)."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import time
import uuid
from functools import partial
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from django.core import mail
from django.test import Client
from paho.mqtt.enums import CallbackAPIVersion
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from rempart.access import alarms, intrusion, services
from rempart.access.models import Alarm, DetectionInput
from rempart.core.audit_models import AuditEntry
from tests.access.test_models_fixtures import make_zone, zone  # noqa: F401
from tests.conftest import require_service

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2027, 7, 14, 20, 0, tzinfo=dt.UTC)


def raise_alarm(zone: Any, kind: str, at: dt.datetime = T0) -> Alarm:  # noqa: F811
    return Alarm.objects.create(zone=zone, kind=kind, message=f"{kind} test", raised_at=at)


# --- priority, procedure ----------------------------------------------------------------------


def test_priorities_per_type_are_configurable(settings: Any) -> None:
    assert alarms.priority("forced_entry") == "high" and alarms.priority("fault") == "medium"
    assert alarms.priority("intrusion") == "high" and alarms.priority("panic") == "high"
    settings.ACCESS_ALARM_PRIORITIES = {"fault": "high", "link_lost": "low"}
    assert alarms.priority("fault") == "high" and alarms.priority("link_lost") == "low"
    settings.ACCESS_ALARM_PRIORITIES = "interlock=high, tailgating=low"  # from the environment
    assert alarms.priority("interlock") == "high" and alarms.priority("tailgating") == "low"
    settings.ACCESS_ALARM_PRIORITIES = {"fault": "urgent"}
    with pytest.raises(ValueError, match="'urgent'; expected one of high, medium, low"):
        alarms.priority("fault")


def test_every_alarm_type_has_a_procedure_in_english_and_french(settings: Any) -> None:
    from django.utils import translation

    for kind in Alarm.Kind.values:
        with translation.override("en"):
            english = alarms.procedure(kind)
        with translation.override("fr"):
            french = alarms.procedure(kind)
        assert len(english) > 30 and french != english, kind
    settings.ACCESS_ALARM_PROCEDURES = {"panic": "Call the stewards' radio channel 3."}
    assert alarms.procedure("panic") == "Call the stewards' radio channel 3."


# --- escalation with a fake clock -------------------------------------------------------------


def test_a_high_alarm_unacknowledged_past_the_delay_escalates_once_to_supervisors(
    make_user: Any,
    zone: Any,  # noqa: F811
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.ACCESS_ALARM_ESCALATE_AFTER_S = 120
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    supervisor = make_user("supervisor", modules=("access",), username="chief")
    supervisor.email = "chief@nice.example"
    supervisor.save()
    operator = make_user("operator", modules=("access",), username="op")
    operator.email = "op@nice.example"
    operator.save()
    forced = raise_alarm(zone, "forced_entry")
    fault = raise_alarm(zone, "fault")  # medium: never escalates
    acked = raise_alarm(zone, "tailgating")
    services.acknowledge_alarm(acked, operator, "patrol sent")

    assert alarms.escalate(T0 + dt.timedelta(seconds=119)) == []
    with django_capture_on_commit_callbacks(execute=True):
        assert alarms.escalate(T0 + dt.timedelta(seconds=121)) == [forced.pk]
    forced.refresh_from_db()
    fault.refresh_from_db()
    assert forced.escalated_at == T0 + dt.timedelta(seconds=121) and fault.escalated_at is None
    assert [m.to for m in mail.outbox] == [["chief@nice.example"]]  # supervisors only
    assert "Vieille ville" in mail.outbox[0].subject and "2 minutes" in mail.outbox[0].body
    entry = AuditEntry.objects.get(action="access_alarm_escalated")
    assert entry.detail["notified"] == ["chief"] and entry.detail["waited_s"] == 121
    assert alarms.escalate(T0 + dt.timedelta(hours=1)) == []  # once


def test_acknowledging_with_a_comment_stops_escalation(
    client: Client,
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    alarm = raise_alarm(zone, "intrusion")
    client.force_login(make_user("operator", modules=("access",)))
    response = client.post(f"/access/alarms/{alarm.pk}/ack/", {"note": "patrol on site"})
    assert response.status_code == 302
    alarm.refresh_from_db()
    assert alarm.acknowledgement == "patrol on site" and alarm.acknowledged_at is not None
    assert alarms.escalate(T0 + dt.timedelta(hours=1)) == []


def test_the_control_room_shows_priority_procedure_sound_switch_and_escalation(
    client: Client,
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    high = raise_alarm(zone, "panic")
    raise_alarm(zone, "interlock")
    alarms.escalate(T0 + dt.timedelta(minutes=10))
    client.force_login(make_user("operator", modules=("access",)))
    page = client.get("/access/").content.decode()
    assert f'data-alarm="{high.pk}" data-priority="high"' in page
    assert 'data-priority="medium"' in page
    # raised at the same time, the later (medium) one would come first: high priority leads
    assert page.index('data-priority="high"') < page.index('data-priority="medium"')
    assert "call them back on the intercom" in page  # the panic procedure
    assert 'id="alarm-sound"' in page and "access/alarm_sound.js" in page
    assert 'class="badge alarm escalated"' in page
    assert 'name="note"' in page  # acknowledgement with a comment


# --- detection inputs -------------------------------------------------------------------------


class _Bits:
    """The state of a Modbus device's discrete inputs and coils, served by pymodbus."""

    def __init__(self) -> None:
        self.discrete = [0] * 8
        self.coils = [0] * 8

    async def action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        values: Any,
    ) -> None:
        source = self.coils if function_code == 1 else self.discrete
        if function_code in (1, 2):  # pymodbus packs 16 bits per register of a BITS block
            registers[0] = sum(bit << i for i, bit in enumerate(source))


def _modbus_server(bits: _Bits, port: int) -> ModbusTcpServer:
    def block() -> list[SimData]:
        return [SimData(0, count=8, values=0, datatype=DataType.BITS)]

    def words() -> list[SimData]:
        return [SimData(0, count=8, values=0, datatype=DataType.REGISTERS)]

    device = SimDevice(
        id=1, simdata=(block(), block(), words(), words()), action=partial(_Bits.action, bits)
    )
    return ModbusTcpServer([device], address=("127.0.0.1", port))


def test_an_intrusion_input_raises_and_clears_an_alarm_through_modbus_tcp(
    zone: Any,  # noqa: F811
) -> None:
    bits = _Bits()
    with socket.socket() as probe:  # a free loopback port for the device
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cable = DetectionInput.objects.create(
        zone=zone,
        ident="quay-cable",
        kind="intrusion_cable",
        driver={"type": "modbus", "host": "127.0.0.1", "port": port, "unit": 1, "address": 3},
    )
    door = DetectionInput.objects.create(
        zone=zone,
        ident="kiosk-door",
        kind="door_contact",
        active_high=False,  # normally closed: 0 is open
        driver={"type": "modbus", "port": port, "address": 5, "table": "coil"},
    )
    specs = intrusion.load_inputs(["old-town"])

    async def scenario() -> list[dict[int, bool | None]]:
        server = _modbus_server(bits, port)
        await server.serve_forever(background=True)
        bits.coils[5] = 1  # door closed
        watcher = intrusion.InputWatcher()
        seen = [await watcher.poll(specs)]
        bits.discrete[3] = 1  # the cable is cut
        bits.coils[5] = 0  # the door opens
        seen.append(await watcher.poll(specs))
        bits.discrete[3] = 0
        seen.append(await watcher.poll(specs))
        await server.shutdown()
        seen.append(await watcher.poll(specs))  # the device is gone: unknown
        await watcher.close()
        return seen

    seen = asyncio.run(scenario())
    assert seen[0] == {cable.pk: False, door.pk: False}
    assert seen[1] == {cable.pk: True, door.pk: True}
    assert seen[2] == {cable.pk: False, door.pk: True}
    assert seen[3] == {cable.pk: None, door.pk: None}

    assert intrusion.apply_states(seen[0], T0) == {"raised": 0, "cleared": 0}
    assert intrusion.apply_states(seen[1], T0) == {"raised": 2, "cleared": 0}
    assert intrusion.apply_states(seen[1], T0) == {"raised": 0, "cleared": 0}  # one per input
    alarm = Alarm.objects.get(detail__input="quay-cable")
    assert alarm.kind == "intrusion" and alarms.priority(alarm.kind) == "high"
    assert alarm.cleared_at is None and alarm.zone == zone
    later = T0 + dt.timedelta(seconds=30)
    assert intrusion.apply_states(seen[2], later) == {"raised": 0, "cleared": 1}
    alarm.refresh_from_db()
    assert alarm.cleared_at == later  # cleared when the cause ends
    assert intrusion.apply_states(seen[3], later) == {"raised": 0, "cleared": 0}  # unknown
    assert Alarm.objects.get(detail__input="kiosk-door").cleared_at is None
    assert alarm in services.open_alarms([zone])  # unacknowledged: still listed


def test_a_panic_button_raises_an_alarm_through_mqtt(zone: Any) -> None:  # noqa: F811
    require_service("Mosquitto MQTT broker", "127.0.0.1", 1883)
    topic = f"rempart-test/{uuid.uuid4().hex}/panic"
    button = DetectionInput.objects.create(
        zone=zone,
        ident="stage-panic",
        kind="panic_button",
        driver={"type": "mqtt", "host": "127.0.0.1", "port": 1883, "topic": topic},
    )
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
    publisher.connect("127.0.0.1", 1883)
    publisher.loop_start()

    def publish(payload: str) -> None:
        publisher.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)

    specs = intrusion.load_inputs()

    async def until(watcher: intrusion.InputWatcher, wanted: bool | None) -> dict[int, Any]:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            states = await watcher.poll(specs)
            if states[button.pk] is wanted:
                return states
            await asyncio.sleep(0.05)
        raise AssertionError(f"input never became {wanted}")

    async def scenario() -> list[dict[int, Any]]:
        watcher = intrusion.InputWatcher()
        try:
            publish("0")
            rest = await until(watcher, False)
            publish('{"active": true}')
            active = await until(watcher, True)
            publish("off")
            cleared = await until(watcher, False)
            return [rest, active, cleared]
        finally:
            await watcher.close()

    try:
        rest, active, cleared = asyncio.run(scenario())
    finally:
        publisher.publish(topic, b"", retain=True)  # remove the retained message
        publisher.loop_stop()
        publisher.disconnect()
    intrusion.apply_states(rest, T0)
    assert not Alarm.objects.exists()
    intrusion.apply_states(active, T0)
    alarm = Alarm.objects.get()
    assert alarm.kind == "panic" and alarm.detail["input"] == "stage-panic"
    intrusion.apply_states(cleared, T0 + dt.timedelta(seconds=5))
    alarm.refresh_from_db()
    assert alarm.cleared_at is not None


def test_mqtt_payloads() -> None:
    assert intrusion.parse_payload(b"1") is True and intrusion.parse_payload(b" ON ") is True
    assert intrusion.parse_payload(b"0") is False and intrusion.parse_payload(b"inactive") is False
    assert intrusion.parse_payload(b'{"active": false}') is False
    assert intrusion.parse_payload(b"maybe") is None
    assert intrusion.parse_payload(b'{"active": "yes"}') is None
