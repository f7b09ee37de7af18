"""Load-file parsing and validation (rempart.access.config)."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from rempart.access.config import ConfigError, load_config, parse_config, validate_config
from rempart.access.decide import Direction, IdentificationMethod, PermitCategory, PermitStatus
from rempart.access.drivers.base import (
    BarrierKind,
    FailMode,
    ModbusDriverConfig,
    MqttDriverConfig,
    SimulatorDriverConfig,
)
from rempart.access.plates import hash_pin, verify_pin
from rempart.access.schedule import ZoneMode

GOOD = textwrap.dedent(
    """\
    zones:
      - id: old-town
        name: Vieille ville
        timezone: Europe/Paris
        lockdown_exit: refer
        lanes:
          - id: old-town-north-in
            direction: in
            identification: [anpr, pin, intercom]
            two_factor: true
            barriers:
              - {id: ot-n-1, kind: retractable_bollard, fail_mode: secure,
                 crash_rating: "IWA 14-1:2013 V/7200[N2A]/48/90", rise_time_s: 3.5,
                 driver: {type: simulator}}
              - {id: ot-n-2, kind: road_blocker, fail_mode: safe, loop_detector: false,
                 driver: {type: modbus, host: 127.0.0.1, port: 5020, unit: 2}}
          - id: old-town-north-out
            direction: out
            identification: [anpr]
            barriers:
              - {id: ot-n-3, kind: gate, fail_mode: safe,
                 driver: {type: mqtt, topic: rempart/old-town/ot-n-3}}
        schedules:
          - {mode: lockdown, start: 2027-07-14T18:00, end: 2027-07-15T02:00, label: 14 juillet}
    permits:
      - plate: AB-123-CD
        holder: Boulangerie du Port
        category: delivery
        max_mass_kg: 12000
        zones: [old-town]
        windows: [{days: [mon, tue, wed, thu, fri, sat], from: "05:00", to: 10:30}]
        valid_from: 2027-01-01
        valid_to: 2027-12-31
        exception_dates: [2027-07-14]
        pin: "482913"
      - id: night-works
        plate: wk 220 nt
        holder: Voirie
        category: works
        zones: [old-town]
        windows: [{days: [fri], from: "22:00", to: "02:00"}, {days: [sun], from: 00:00, to: 24:00}]
        status: suspended
    """
)


def test_good_file_becomes_dataclasses() -> None:
    config = parse_config(GOOD)
    (zone,) = config.zones
    assert (zone.id, zone.name, zone.timezone, zone.mode) == (
        "old-town",
        "Vieille ville",
        "Europe/Paris",
        ZoneMode.NORMAL,
    )
    lane_in, lane_out = zone.lanes
    assert lane_in.direction is Direction.IN and lane_in.two_factor
    assert lane_in.identification == {
        IdentificationMethod.ANPR,
        IdentificationMethod.PIN,
        IdentificationMethod.INTERCOM,
    }
    b1, b2 = lane_in.barriers
    assert (b1.kind, b1.fail_mode, b1.rise_time_s, b1.lower_time_s) == (
        BarrierKind.RETRACTABLE_BOLLARD,
        FailMode.SECURE,
        3.5,
        3.0,
    )
    assert b1.crash_rating == "IWA 14-1:2013 V/7200[N2A]/48/90"
    assert b1.driver == SimulatorDriverConfig()
    assert b2.driver == ModbusDriverConfig(host="127.0.0.1", port=5020, unit=2)
    assert b2.loop_detector is False
    assert lane_out.barriers[0].driver == MqttDriverConfig(topic="rempart/old-town/ot-n-3")
    (schedule,) = zone.schedules
    assert schedule.mode is ZoneMode.LOCKDOWN
    assert schedule.start == datetime(2027, 7, 14, 16, 0, tzinfo=UTC)  # 18:00 CEST
    assert schedule.end == datetime(2027, 7, 15, 0, 0, tzinfo=UTC)
    assert schedule.label == "14 juillet"

    bakery, works = config.permits
    assert (bakery.id, bakery.plate, bakery.category, bakery.max_mass_kg) == (
        "permit-1",
        "AB123CD",
        PermitCategory.DELIVERY,
        12000,
    )
    window = bakery.windows[0]
    assert (window.start_minute, window.end_minute) == (5 * 60, 10 * 60 + 30)  # 10:30 unquoted
    assert bakery.exception_dates == {date(2027, 7, 14)}
    assert (bakery.valid_from, bakery.valid_to) == (date(2027, 1, 1), date(2027, 12, 31))
    assert bakery.pin_hash is not None and verify_pin("482913", bakery.pin_hash)
    assert "482913" not in repr(bakery)
    assert (works.id, works.plate, works.status) == (
        "night-works",
        "WK220NT",
        PermitStatus.SUSPENDED,
    )
    assert works.windows[0].crosses_midnight
    assert (works.windows[1].start_minute, works.windows[1].end_minute) == (0, 1440)


def test_every_error_is_reported_with_its_path() -> None:
    bad = textwrap.dedent(
        """\
        zones:
          - id: port
            timezone: Europe/Pariss
            lanes: [{id: port-in, direction: in, identification: [anpr]}]
          - id: old-town
            timezone: Europe/Paris
            mode: closed
            lanes:
              - id: north-in
                direction: inward
                identification: [anpr, retina]
                two_factor: true
                barriers:
                  - {id: b1, kind: bollard, fail_mode: down, driver: {type: simulator}}
                  - {id: b1, kind: gate, fail_mode: safe, driver: {type: modbus, port: 70000}}
                  - {id: b3, kind: wedge, fail-mode: safe, rise_time_s: -1,
                     driver: {type: mqtt, topic: "rempart/#"}}
              - id: north-in
                direction: out
                identification: []
            schedules:
              - {mode: lockdown, start: 2027-03-28T02:30, end: 2027-03-28T01:00}
              - {mode: lockdown, start: 14 July, end: 2027-07-15T02:00}
        permits:
          - plate: A
            holder: Someone
            category: vip
            zones: [old-town, harbour]
            windows: [{days: [mon, funday], from: "25:00", to: "05:00"}, {days: [tue], from: "08:00", to: "08:00"}]
            valid_from: 2027-12-31
            valid_to: 2027-01-01
            max_mass_kg: heavy
            pin: 123456
          - {plate: 123456, category: resident, zones: [old-town], colour: red}
        """
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(bad, source="bad.yaml")
    errors = caught.value.errors
    expected = [
        "zones[0].timezone: 'Europe/Pariss' is not an IANA time zone such as 'Europe/Paris'; "
        "did you mean 'Europe/Paris'?",
        "zones[1].mode: 'closed' is not one of normal, lockdown, emergency_open, maintenance",
        "zones[1].lanes[0].direction: 'inward' is not one of in, out",
        "zones[1].lanes[0].identification[1]: 'retina' is not one of anpr, pin, intercom, badge",
        "zones[1].lanes[0].barriers[0].kind: 'bollard' is not one of retractable_bollard, "
        "road_blocker, gate, wedge",
        "zones[1].lanes[0].barriers[0].fail_mode: 'down' is not one of secure, safe",
        "zones[1].lanes[0].barriers[1].id: barrier id 'b1' is already used at "
        "zones[1].lanes[0].barriers[0].id",
        "zones[1].lanes[0].barriers[1].driver.host: is required",
        "zones[1].lanes[0].barriers[1].driver.port: 70000 is not a whole number from 1 to 65535",
        "zones[1].lanes[0].barriers[2]: unknown key 'fail-mode'; did you mean 'fail_mode'? "
        "expected one of crash_rating, driver, fail_mode, id, kind, loop_detector, "
        "lower_time_s, name, rise_time_s",
        "zones[1].lanes[0].barriers[2].fail_mode: is required",
        "zones[1].lanes[0].barriers[2].rise_time_s: -1 is not a number above 0.0 and up to 60.0 s",
        "zones[1].lanes[0].barriers[2].driver.topic: 'rempart/#' is not valid; expected an MQTT "
        "topic without wildcards (+ #), spaces or leading/trailing '/'",
        "zones[1].lanes[1].id: lane id 'north-in' is already used at zones[1].lanes[0].id",
        "zones[1].lanes[1].identification: must not be empty",
        "permits[0].plate: plate 'A' has 1 characters after "
        "normalisation; expected 2-10 Latin letters (accents allowed) or digits after removing "
        "spaces, dashes and dots",
        "permits[0].category: 'vip' is not one of resident, delivery, emergency, public_service, "
        "taxi, event_staff, works",
        "permits[0].max_mass_kg: 'heavy' is not a whole number from 1 to 100000 kg",
        "permits[0].zones[1]: 'harbour' is not a zone of this file (old-town, port)",
        "permits[0].windows[0].days[1]: 'funday' is not one of mon, tue, wed, thu, fri, sat, sun",
        "permits[0].windows[0].from: '25:00' is not a time; expected 'HH:MM' from 00:00 to 23:59",
        "permits[0].windows[1].to: '08:00' equals from; a window must not be empty (use from "
        "'00:00' to '24:00' for a whole day)",
        "permits[0].valid_to: 2027-01-01 is before valid_from 2027-12-31",
        "permits[0].pin: is a number (write it in quotes); expected 4 to 8 digits in quotes",
        "permits[1]: unknown key 'colour'; expected one of category, exception_dates, holder, "
        "id, max_mass_kg, pin, pin_hash, plate, status, valid_from, valid_to, windows, zones",
        "permits[1].holder: is required",
        "permits[1].plate: 123456 is not text; write the plate in quotes",
    ]
    for line in expected:
        assert line in errors, f"missing: {line}\nall errors:\n" + "\n".join(errors)
    # schedule problems: the gap, the order, the unparsable start
    joined = "\n".join(errors)
    assert (
        "zones[1].schedules[0].start: '2027-03-28T02:30' does not exist in Europe/Paris" in joined
    )
    assert "zones[1].schedules[1].start: '14 July' is not a date and time" in joined
    assert (  # identification lists anpr and 'retina', not pin
        "zones[1].lanes[0].two_factor: true needs both 'anpr' and 'pin'" in joined
    )
    # one line each, and the summary counts them
    assert all("\n" not in line for line in errors)
    assert str(caught.value).startswith(f"bad.yaml: {len(errors)} errors\n")
    assert "123456" not in joined.replace("123456 is not text", "")  # the PIN is not echoed


def test_schedule_order_is_checked_when_both_ends_parse() -> None:
    text = GOOD.replace("end: 2027-07-15T02:00", "end: 2027-07-14T17:00")
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert caught.value.errors == [
        "zones[0].schedules[0].end: '2027-07-14T17:00' is not after start '2027-07-14T18:00'"
    ]


def test_ambiguous_local_time_takes_the_first_occurrence() -> None:
    text = GOOD.replace("start: 2027-07-14T18:00, end: 2027-07-15T02:00",
                        "start: 2027-10-31T02:30, end: 2027-10-31T05:00")  # fmt: skip
    (schedule,) = parse_config(text).zones[0].schedules
    assert schedule.start == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 CEST


def test_explicit_offset_is_used_as_written() -> None:
    text = GOOD.replace("start: 2027-07-14T18:00", "start: 2027-07-14T18:00+00:00")
    (schedule,) = parse_config(text).zones[0].schedules
    assert schedule.start == datetime(2027, 7, 14, 18, 0, tzinfo=UTC)


def test_two_factor_needs_anpr_and_pin() -> None:
    text = GOOD.replace("identification: [anpr, pin, intercom]", "identification: [anpr]")
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert caught.value.errors == [
        "zones[0].lanes[0].two_factor: true needs both 'anpr' and 'pin' in identification "
        "(plate + PIN)"
    ]


def test_same_modbus_endpoint_twice_is_an_error() -> None:
    text = GOOD.replace("{type: simulator}", "{type: modbus, host: 127.0.0.1, port: 5020, unit: 2}")
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert caught.value.errors == [
        "zones[0].lanes[0].barriers[1].driver: Modbus endpoint "
        "'modbus://127.0.0.1:5020/2' is already used at zones[0].lanes[0].barriers[0].driver"
    ]


def test_pin_hash_is_accepted_and_pin_plus_hash_refused() -> None:
    stored = hash_pin("482913", n=2**4)
    text = GOOD.replace('pin: "482913"', f"pin_hash: '{stored}'")
    assert parse_config(text).permits[0].pin_hash == stored
    both = GOOD.replace('pin: "482913"', f"pin: '482913'\n    pin_hash: '{stored}'")
    with pytest.raises(ConfigError, match="give pin or pin_hash, not both"):
        parse_config(both)


def test_yaml_1_1_traps_are_avoided() -> None:
    # 'no' stays text (Norway problem), 10:30 stays a time, not the integer 630.
    text = GOOD.replace("id: old-town\n", "id: 'no'\n").replace("[old-town]", "['no']")
    config = parse_config(text)
    assert config.zone("no").id == "no"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "the file is empty; expected keys zones and permits"),
        ("- a\n- b\n", "expected a mapping, got a list"),
        ("zones: []\n", "zones: must not be empty"),
        ("zones: [\n", "line 2, column 1: not valid YAML"),
    ],
)
def test_degenerate_files(text: str, error: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert any(error in line for line in caught.value.errors), caught.value.errors


def test_load_config_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "access.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_config(path).zones[0].id == "old-town"
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_validate_config_accepts_python_data() -> None:
    data = {
        "zones": [
            {
                "id": "port",
                "timezone": "Europe/Oslo",
                "lanes": [{"id": "p-in", "direction": "in", "identification": ["badge"]}],
            }
        ],
        "permits": [
            {
                "plate": "ÆØ 12345",
                "holder": "Havnevesen",
                "category": "public_service",
                "zones": ["port"],
                "valid_from": date(2027, 1, 1),
            }
        ],
    }
    config = validate_config(data)
    assert config.permits[0].plate == "ÆØ12345"
    assert config.zones[0].lanes[0].barriers == ()
