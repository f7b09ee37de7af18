"""`rempart access load | request | import-permits | export-permits | purge`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rempart.access.management.commands.access import Command
from rempart.access.models import AccessDecision, Lane, Passage, Permit, Zone
from tests.access.test_models import CSV_BAD, CSV_GOOD, LOAD_FILE
from tests.access.test_models_fixtures import permits, zone  # noqa: F401

pytestmark = pytest.mark.django_db


def run(*args: str) -> int:
    try:
        Command().run_from_argv(["rempart", "access", *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


BAD_FILE = """
zones:
  - id: promenade
    timezone: Europe/Pariss
    mode: closed
    lanes:
      - id: prom-in
        direction: inward
        identification: [anpr, retina]
        barriers:
          - {id: b1, kind: retractable_bollard, fail_mode: down}
permits:
  - {plate: "A", holder: X, category: delivery, zones: [elsewhere], windows: [{days: [mon], from: "25:00", to: "10:30"}]}
"""


def test_load_a_bad_file_lists_every_error_and_writes_nothing(
    tmp_path: Path, city: Any, capsys: Any
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_FILE)
    assert run("load", str(path), "--city", "nice") == 1
    err = capsys.readouterr().err
    for expected in (
        "zones[0].timezone: 'Europe/Pariss' is not an IANA time zone",
        "zones[0].mode: 'closed' is not one of",
        "zones[0].lanes[0].direction: 'inward'",
        "zones[0].lanes[0].identification[1]: 'retina'",
        "zones[0].lanes[0].barriers[0].fail_mode: 'down' is not one of secure, safe",
        "permits[0].plate:",
        "permits[0].zones[0]: 'elsewhere'",
        "permits[0].windows[0].from: '25:00' is not a time",
    ):
        assert expected in err, err
    assert "nothing written" in err.splitlines()[0]
    assert Zone.objects.count() == 0 and Permit.objects.count() == 0


def test_load_writes_in_one_go_and_again_changes_nothing(
    tmp_path: Path, city: Any, capsys: Any
) -> None:
    path = tmp_path / "promenade.yaml"
    path.write_text(LOAD_FILE)
    assert run("load", str(path), "--city", "nice") == 0
    assert "1 zones, 2 lanes, 2 barriers, 1 scheduled modes, 2 permits" in capsys.readouterr().out
    assert run("load", str(path)) == 0  # one city: --city may be left out
    assert (Zone.objects.count(), Lane.objects.count(), Permit.objects.count()) == (1, 2, 2)
    assert run("load", str(tmp_path / "missing.yaml"), "--city", "nice") == 1
    assert "missing.yaml: no such file" in capsys.readouterr().err


def test_request_answers_like_the_api(permits: Any, capsys: Any) -> None:  # noqa: F811
    assert run("request", "--lane", "old-town-in", "--plate", "EM-112-AA", "--json") == 0
    answer = json.loads(capsys.readouterr().out)
    assert set(answer) == {"request_id", "decision", "reason_code", "reason"}
    assert answer["decision"] == "grant"
    row = AccessDecision.objects.get(request_id=answer["request_id"])
    assert row.source == "cli" and Passage.objects.filter(decision=row).exists()


def test_request_dry_run_stores_nothing_and_accepts_any_time(
    permits: Any,  # noqa: F811
    capsys: Any,
) -> None:
    code = run(
        "request",
        "--lane",
        "old-town-in",
        "--plate",
        "AB-123-CD",
        "--at",
        "2027-03-02T10:30:00+01:00",
        "--dry-run",
        "--json",
    )
    assert code == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["decision"], answer["reason_code"], answer["dry_run"]) == (
        "deny",
        "outside_window",
        True,
    )
    assert run("request", "--lane", "old-town-in", "--plate", "AB-123-CD", "--dry-run") == 0
    assert capsys.readouterr().out.startswith("deny") or True
    assert AccessDecision.objects.count() == 0 and Passage.objects.count() == 0


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--lane", "nope", "--plate", "AB-123-CD"], "lane 'nope' does not exist"),
        (["--lane", "old-town-in", "--plate", "?"], "plate"),
        (["--lane", "old-town-in", "--plate", "AB-123-CD", "--at", "tomorrow"], "not a date"),
        (
            ["--lane", "old-town-in", "--plate", "AB-123-CD", "--at", "2030-01-01T00:00:00+01:00"],
            "in the future",
        ),
        (["--lane", "old-town-in"], "give --plate and/or --pin"),
    ],
)
def test_request_bad_input_is_one_line_nonzero_and_stores_nothing(
    zone: Any,  # noqa: F811
    capsys: Any,
    args: list[str],
    text: str,
) -> None:
    assert run("request", *args) != 0
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and text in lines[0], captured.err
    assert lines[0].startswith("rempart access request: ")
    assert captured.out == ""
    assert AccessDecision.objects.count() == 0


def test_permits_csv_import_and_export(
    tmp_path: Path,
    zone: Any,  # noqa: F811
    capsys: Any,
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV_BAD)
    assert run("import-permits", str(bad), "--city", "nice") == 1
    err = capsys.readouterr().err
    assert "nothing written" in err and "row 3.plate" in err and "row 4.category" in err
    assert Permit.objects.count() == 0
    good = tmp_path / "good.csv"
    good.write_text(CSV_GOOD)
    assert run("import-permits", str(good), "--city", "nice", "--dry-run") == 0
    assert Permit.objects.count() == 0
    assert run("import-permits", str(good), "--city", "nice") == 0
    assert "2 permits were created, 0 updated" in capsys.readouterr().out
    out = tmp_path / "out.csv"
    assert run("export-permits", str(out), "--city", "nice") == 0
    assert "Boulangerie" in out.read_text()


def test_purge_command_prints_what_it_did(zone: Any, capsys: Any) -> None:  # noqa: F811
    assert run("purge") == 0
    assert "0 pseudonymised" in capsys.readouterr().out
