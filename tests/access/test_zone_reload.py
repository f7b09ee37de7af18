"""Loading the zone file again (``rempart access load``) by a careless admin.

Issue 9, item 3: a file without ``mode`` set a locked-down zone back to ``normal`` with the old
lockdown reason left in place, and a key written twice (``mode: normal`` then
``mode: emergency_open``) silently left the zone open. A hostile or broken file (deep nesting,
alias bombs, huge, wrong types) must get one sentence and write nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rempart.access import services
from rempart.access.models import Passage, Permit, Zone, ZoneSchedule
from rempart.core.audit_models import AuditEntry
from tests.access.test_cli import run

pytestmark = pytest.mark.django_db

ZONE = """
zones:
  - id: promenade
    timezone: Europe/Paris
{extra}    lanes:
      - id: prom-in
        direction: in
        identification: [anpr]
        barriers:
          - {{id: prom-1, kind: retractable_bollard, fail_mode: secure, driver: {{type: simulator}}}}
    schedules:
      - {{mode: lockdown, start: 2027-07-14T18:00, end: 2027-07-15T02:00, label: 14 juillet}}
permits:
  - {{id: p1, plate: AB-123-CD, holder: One, category: delivery, zones: [promenade]}}
"""


def write(tmp_path: Path, extra: str = "", name: str = "zones.yaml") -> str:
    path = tmp_path / name
    path.write_text(ZONE.format(extra=extra))
    return str(path)


@pytest.fixture
def locked_down(tmp_path: Path, city: Any, make_user: Any) -> Zone:
    """The promenade zone, loaded, then put in lockdown by a supervisor in the control room."""
    assert run("load", write(tmp_path, "    lockdown_exit: closed\n"), "--city", "nice") == 0
    zone = Zone.objects.get()
    supervisor = make_user("supervisor", modules=("access",))
    services.set_zone_mode(zone, "lockdown", supervisor, "vehicle seen circling the market")
    zone.refresh_from_db()
    return zone


def test_a_file_without_mode_keeps_the_live_lockdown_and_its_reason(
    tmp_path: Path, locked_down: Zone, capsys: Any
) -> None:
    before = (locked_down.mode_reason, locked_down.mode_changed_by, locked_down.mode_changed_at)
    assert run("load", write(tmp_path), "--city", "nice") == 0
    zone = Zone.objects.get()
    assert zone.mode == "lockdown"
    assert (zone.mode_reason, zone.mode_changed_by, zone.mode_changed_at) == before
    assert zone.lockdown_exit == "closed"  # left out of the file: kept as well


def test_a_file_mode_that_lifts_the_lockdown_is_refused_and_writes_nothing(
    tmp_path: Path, locked_down: Zone, capsys: Any
) -> None:
    schedules = list(ZoneSchedule.objects.values_list("pk", flat=True))
    path = write(tmp_path, "    mode: normal\n")
    (tmp_path / "zones.yaml").write_text(
        Path(path).read_text().replace("id: p1", "id: p2")  # a new permit, not to be written
    )
    assert run("load", path, "--city", "nice") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].endswith("would change 1 live zone mode(s); nothing written")
    assert len(err) == 2
    assert "zones[0].mode: zone 'promenade' is live in lockdown" in err[1]
    assert "vehicle seen circling the market" in err[1] and "the file says normal" in err[1]
    assert "--set-modes with --reason" in err[1]
    assert Zone.objects.get().mode == "lockdown"
    assert not Permit.objects.filter(ident="p2").exists()
    assert list(ZoneSchedule.objects.values_list("pk", flat=True)) == schedules


def test_an_explicit_mode_change_is_applied_with_who_and_why(
    tmp_path: Path, locked_down: Zone, capsys: Any
) -> None:
    path = write(tmp_path, "    mode: normal\n")
    assert run("load", path, "--city", "nice", "--set-modes") == 1
    assert "--set-modes needs --reason" in capsys.readouterr().err
    assert run("load", path, "--city", "nice", "--set-modes", "--reason", "  ") == 1
    assert run("load", path, "--city", "nice", "--reason", "why") == 1
    assert Zone.objects.get().mode == "lockdown"
    assert (
        run(
            "load", path, "--city", "nice", "--set-modes", "--reason", "market over, prefect's call"
        )
        == 0
    )
    zone = Zone.objects.get()
    assert zone.mode == "normal"
    assert zone.mode_reason == "market over, prefect's call"  # the lockdown's reason is gone
    assert zone.mode_changed_by.startswith("cli:")
    entry = AuditEntry.objects.filter(action="access_mode").order_by("-seq").first()
    assert entry is not None and entry.actor.startswith("cli:")
    assert entry.detail == {
        "from": "lockdown",
        "to": "normal",
        "reason": "market over, prefect's call",
        "passages_closed": 0,
        "source": "load file",
    }


def test_a_file_lockdown_closes_passages_as_a_lockdown_by_hand(tmp_path: Path, city: Any) -> None:
    assert run("load", write(tmp_path), "--city", "nice") == 0
    services.submit_request("prom-in", plate="AB-123-CD", confidence=0.97)
    path = write(tmp_path, "    mode: lockdown\n")
    assert run("load", path, "--city", "nice") == 1  # raising it needs the flag as well
    assert Passage.objects.get().state == "granted"
    assert run("load", path, "--city", "nice", "--set-modes", "--reason", "threat") == 0
    assert Zone.objects.get().mode == "lockdown"
    assert Passage.objects.get().state == "closing"


def test_a_new_zone_takes_the_file_mode(tmp_path: Path, city: Any) -> None:
    assert run("load", write(tmp_path, "    mode: maintenance\n"), "--city", "nice") == 0
    zone = Zone.objects.get()
    assert zone.mode == "maintenance" and zone.mode_reason == "set by the load file"


DUPLICATES = [
    ("    mode: normal\n    mode: emergency_open\n", 6, "'mode'", 5),
    ("    name: A\n    timezone: Europe/Paris\n", 6, "'timezone'", 4),
]


@pytest.mark.parametrize(("extra", "line", "key", "first"), DUPLICATES)
def test_a_key_written_twice_is_refused_naming_the_key_and_line(
    tmp_path: Path, city: Any, capsys: Any, extra: str, line: int, key: str, first: int
) -> None:
    assert run("load", write(tmp_path, extra), "--city", "nice") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[1].strip() == (
        f"line {line}: key {key} appears twice in the same mapping (first at line {first}); "
        "remove one: only one value can apply"
    )
    assert len(err) == 2 and Zone.objects.count() == 0


def laughs() -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    return "\n".join(lines) + "\nzones: *j\n"


HOSTILE = [
    ("zones: " + "[" * 5000 + "]" * 5000 + "\n", "line 1: nesting deeper than 32 levels"),
    ("zones: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", "nesting deeper than 32 levels"),
    (laughs(), "anchors and aliases expand to more than 2,000,000 values"),
    ("zones: 5\n", "zones: expected a list, got a number"),
    ("- zones\n", "expected a mapping, got a list"),
    ("zones:\n  - id: [1, 2]\n", "zones[0].id: expected text, got [1, 2]"),
    ("zones: [{id: z, timezone: Europe/Paris, lanes: {a: 1}}]\n", "lanes: expected a list"),
    ("zones:\n  - id: " + "x" * 200_000 + "\n", "zones[0].id: 'xxxxxxxx"),
    ("zones: [{id: z, timezone: Europe/Paris, mode: 7, lanes: []}]\n", "7 is not one of normal"),
    ("zones:\n  ? [a]\n  : b\n", "not valid YAML: found unhashable key"),
]


@pytest.mark.parametrize(("text", "words"), HOSTILE)
def test_hostile_files_get_one_sentence_each_and_write_nothing(
    tmp_path: Path, city: Any, capsys: Any, text: str, words: str
) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    assert run("load", str(path), "--city", "nice") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert "nothing written" in err[0]
    assert any(words in line for line in err[1:]), err
    assert all(len(line) <= 310 for line in err), "an error line quotes a whole value"
    assert Zone.objects.count() == 0


def test_a_huge_file_is_refused_before_it_is_read(
    tmp_path: Path, city: Any, capsys: Any, monkeypatch: Any
) -> None:
    from rempart.access import config

    monkeypatch.setattr(config, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "huge.yaml"
    path.write_text(ZONE.format(extra="") + "#" * 2000 + "\n")
    assert run("load", str(path), "--city", "nice") == 1
    err = capsys.readouterr().err
    assert "bytes; a load file is at most 1,000" in err
    assert Zone.objects.count() == 0
