"""The command line: import/export/search, errors as one line and a non-zero exit."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from rempart.practices.models import Practice

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("practices", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_help_first_line() -> None:
    from rempart.practices.management.commands.practices import Command

    assert Command.help.splitlines()[0].startswith("Practice catalogue")


def test_search_json(catalogue: dict[str, Practice]) -> None:
    out, _ = run("search", "Online counter-narratives", "--json")
    rows = json.loads(out)
    assert rows[0]["id"] == catalogue["mentoring-online"].pk
    assert set(rows[0]) == {"id", "title", "score", "evidence"}
    assert rows[0]["evidence"] == "no_effect"
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)


def test_search_text_and_empty(catalogue: dict[str, Practice]) -> None:
    out, _ = run("search", "bollards")
    assert "1. [" in out and "promenade" in out
    with pytest.raises(CommandError, match="empty"):
        run("search", "  ")


def test_export_import_round_trip(catalogue: dict[str, Practice], tmp_path: Path) -> None:
    path = tmp_path / "all.csv"
    out, _ = run("export", str(path))
    assert f"{len(catalogue)} practices written" in out
    Practice.objects.all().delete()
    out, _ = run("import", str(path))
    assert f"{len(catalogue)} created" in out


def test_import_errors(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file"):
        run("import", str(tmp_path / "missing.json"))
    wrong = tmp_path / "x.txt"
    wrong.write_text("x")
    with pytest.raises(CommandError, match="expected .json or .csv"):
        run("import", str(wrong))
    bad = tmp_path / "bad.json"
    bad.write_text('[{"title": "T"}, {"title": "U", "summary": "S"}]')
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("practices", "import", str(bad), stdout=io.StringIO(), stderr=err)
    assert "rejected row 1 (t): summary: required" in err.getvalue()
    assert not Practice.objects.exists()
    with pytest.raises(CommandError, match="rejected"):
        run("import", str(bad), "--partial")
    assert Practice.objects.count() == 1
