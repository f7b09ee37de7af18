"""MSEL spreadsheets: round trip, French headings, saved mappings, bad files refused whole."""

from __future__ import annotations

import datetime as dt
import io as stdio
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from rempart.exercises import io
from rempart.exercises.models import Exercise, Inject
from tests.exercises.conftest import make_inject

pytestmark = pytest.mark.django_db

HEADER = "Number,Scenario time,Planned wall time,From,To,Method,Subject,Message,Expected action,Objectives,Parent,Contingency\n"


def test_a_csv_round_trip_keeps_every_column(
    exercise: Exercise, objectives: Any, make_user: Any
) -> None:
    editor = make_user("editor")
    first = make_inject(
        exercise,
        1,
        scenario_time_s=3725,
        planned_at=dt.datetime(2026, 7, 14, 19, 30, tzinfo=dt.UTC),
        expected_action="Raise the bollards",
        phase="Attack",
    )
    first.objectives.set(objectives)
    make_inject(exercise, 2, parent=first, trigger="no answer", contingency=True)
    text = io.to_csv(exercise)
    assert "1:02:05" in text and "2026-07-14 21:30" in text  # Nice is UTC+2 in July
    count = io.import_msel(exercise, "msel.csv", text.encode(), editor)
    assert count == 2
    back = Inject.objects.get(exercise=exercise, number=1)
    assert back.scenario_time_s == 3725
    assert back.planned_at == dt.datetime(2026, 7, 14, 19, 30, tzinfo=dt.UTC)
    assert sorted(back.objectives.values_list("number", flat=True)) == [1, 2]
    branch = Inject.objects.get(exercise=exercise, number=2)
    assert branch.parent == back and branch.contingency and branch.trigger == "no answer"
    assert exercise.versions.count() == 2  # before and after the import


def test_an_xlsx_with_french_headings_and_a_semicolon_csv(
    exercise: Exercise, make_user: Any
) -> None:
    editor = make_user("editor")
    book = Workbook()
    sheet = book.active
    sheet.append(["Numéro", "Temps du scénario", "De", "À", "Moyen", "Message"])
    sheet.append([1, "0:05:00", "Poste de commandement", "Salle de contrôle", "Radio", "Go"])
    buffer = stdio.BytesIO()
    book.save(buffer)
    assert io.import_msel(exercise, "msel.xlsx", buffer.getvalue(), editor) == 1
    inject = exercise.injects.get()
    assert (inject.scenario_time_s, inject.method) == (300, "radio")
    exported = load_workbook(stdio.BytesIO(io.to_xlsx(exercise))).active
    assert exported.cell(2, 8).value == "Go"
    semicolons = b"Number;From;To;Method;Message\n7;A;B;phone;Call\n"
    assert io.import_msel(exercise, "msel.csv", semicolons, editor) == 1
    assert exercise.injects.get().number == 7


def test_a_saved_mapping_reads_other_headings(exercise: Exercise, make_user: Any) -> None:
    editor = make_user("editor")
    data = b"No.,Sender,Receiver,Channel,Text\n3,SIMCELL,Police,email,Hello\n"
    with pytest.raises(
        io.ImportRefused, match="line 1: the columns Number, To, Method, Message are missing"
    ):
        io.import_msel(exercise, "other.csv", data, editor)
    mapping = {
        "number": "No.",
        "sender": "Sender",
        "recipient": "Receiver",
        "method": "Channel",
        "message": "Text",
    }
    assert io.import_msel(exercise, "other.csv", data, editor, mapping) == 1


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ("x,0:01,,A,B,phone,S,M,,,,", "line 3: number 'x' is not a whole number above 0"),
        ("1,0:01,,A,B,phone,S,M,,,,", "line 3: number 1 appears twice"),
        ("2,1:xx,,A,B,phone,S,M,,,,", "line 3: scenario time '1:xx' is not H:MM:SS"),
        ("2,,,A,B,pigeon,S,M,,,,", "line 3: method 'pigeon' is unknown"),
        ("2,,,A,B,phone,S,,,,,", "line 3: Message is empty"),
        ("2,,,A,B,phone,S,M,,9,,", "line 3: objective '9' is not one of the exercise's (1, 2)"),
        ("2,,,A,B,phone,S,M,,,5,", "line 3: parent 5 is not an inject of this file"),
        ("2,,,A,B,phone,S,M,,,,maybe", "line 3: contingency 'maybe' is not yes or no"),
        ("2,,14/07/2026 9h,A,B,phone,S,M,,,,", "line 3: planned wall time '14/07/2026 9h'"),
    ],
)
def test_a_bad_row_refuses_the_whole_file(
    exercise: Exercise, objectives: Any, make_user: Any, row: str, error: str
) -> None:
    editor = make_user("editor")
    make_inject(exercise, 9, message="kept")
    data = (HEADER + "1,0:00,,SIMCELL,Police,phone,Start,Go,,1,,\n" + row + "\n").encode()
    with pytest.raises(io.ImportRefused) as refused:
        io.import_msel(exercise, "msel.csv", data, editor)
    assert str(refused.value).startswith(error)
    assert list(exercise.injects.values_list("message", flat=True)) == ["kept"]
    assert exercise.versions.count() == 0


def test_files_that_are_not_spreadsheets_are_refused(exercise: Exercise, make_user: Any) -> None:
    editor = make_user("editor")
    with pytest.raises(io.ImportRefused, match="neither .csv nor .xlsx"):
        io.import_msel(exercise, "msel.pdf", b"%PDF", editor)
    with pytest.raises(io.ImportRefused, match="not a readable XLSX"):
        io.import_msel(exercise, "msel.xlsx", b"not a zip", editor)
    with pytest.raises(io.ImportRefused, match="not UTF-8"):
        io.import_msel(exercise, "msel.csv", "Numéro".encode("latin-1"), editor)
    with pytest.raises(io.ImportRefused, match="empty"):
        io.import_msel(exercise, "msel.csv", b"", editor)


def test_the_command_line_exports_and_imports(exercise: Exercise, tmp_path: Any) -> None:
    from django.core.management import CommandError, call_command

    make_inject(exercise, 1, message="From the shell")
    path = tmp_path / "msel.xlsx"
    call_command("exercises", "export", str(exercise.pk), str(path), stdout=stdio.StringIO())
    Inject.objects.all().delete()
    out = stdio.StringIO()
    call_command("exercises", "import", str(exercise.pk), str(path), stdout=out)
    assert "1 injects imported" in out.getvalue()
    assert exercise.injects.get().message == "From the shell"
    bad = tmp_path / "bad.csv"
    bad.write_text("Number,From,To,Method,Message\n1,A,B,carrier pigeon,hi\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 2: method 'carrier pigeon' is unknown"):
        call_command("exercises", "import", str(exercise.pk), str(bad), stdout=stdio.StringIO())


def test_formulas_are_exported_as_text_and_read_back(exercise: Exercise, make_user: Any) -> None:
    """A message a spreadsheet would run as a formula is written with an apostrophe before it
    (CSV) and as a plain string (XLSX), and imported back as written."""
    formula = '=HYPERLINK("http://example.org","open")'
    make_inject(exercise, 1, message=formula, subject="-5 min")
    text = io.to_csv(exercise)
    assert "'=HYPERLINK" in text and "'-5 min" in text
    cell = load_workbook(stdio.BytesIO(io.to_xlsx(exercise))).active.cell(2, 8)
    assert cell.data_type == "s" and cell.value == "'" + formula
    io.import_msel(exercise, "msel.csv", text.encode(), make_user("editor"))
    inject = exercise.injects.get()
    assert (inject.message, inject.subject) == (formula, "-5 min")
