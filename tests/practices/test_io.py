"""Import and export: every bad row reported, nothing written, identical round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rempart.practices.io import FIELDS, catalogue, export_file, import_file, to_csv, to_json
from rempart.practices.models import Practice, PracticeFacet, SearchDocument
from rempart.practices.search import search

pytestmark = pytest.mark.django_db


GOOD = {
    "ref": "good-one",
    "title": "Good practice",
    "summary": "A summary.",
    "themes": ["education"],
    "status": "published",
}


def write_json(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def test_bad_rows_all_reported_nothing_written(tmp_path: Path) -> None:
    rows = [
        GOOD,
        {"ref": "no-summary", "title": "Missing summary"},
        {**GOOD, "ref": "bad-theme", "themes": ["knitting"]},
        {**GOOD, "ref": "bad-lang", "language": "xx", "country": "France"},
        {**GOOD, "ref": "bad-years", "start_year": "2020", "end_year": 2019},
        {**GOOD, "ref": "bad-label", "evidence_label": "excellent"},
        {**GOOD, "ref": "good-one"},  # repeats row 1
        {**GOOD, "ref": "bad-link", "links": [{"url": "javascript:alert(1)"}]},
        {**GOOD, "ref": "Bad Ref"},
        {**GOOD, "ref": "extra", "colour": "blue"},
    ]
    report = import_file(write_json(tmp_path / "bad.json", rows))
    text = "\n".join(report.rejected)
    for expected in (
        "row 2 (no-summary): summary: required",
        "row 3 (bad-theme): themes: unknown value(s) 'knitting'",
        "row 4 (bad-lang): language: 'xx'",
        "row 4 (bad-lang): country: 'FRANCE'",
        "row 5 (bad-years): end_year: 2019 is before start_year 2020",
        "row 6 (bad-label): evidence_label: 'excellent'",
        "row 7 (good-one): ref: 'good-one' repeats row 1",
        "row 8 (bad-link): links: 'javascript:alert(1)' is not an http(s) URL",
        "row 9 (Bad Ref): ref: 'Bad Ref'",
        "row 10 (extra): unknown field(s) colour",
    ):
        assert expected in text, expected
    assert not any(line.startswith("row 1 ") for line in report.rejected)
    assert report.written == 0
    assert not Practice.objects.exists()
    assert not SearchDocument.objects.exists()


def test_partial_writes_valid_rows(tmp_path: Path) -> None:
    rows = [GOOD, {"ref": "no-summary", "title": "Missing summary"}]
    report = import_file(write_json(tmp_path / "p.json", rows), partial=True)
    assert report.created == 1 and len(report.rejected) == 1
    assert list(Practice.objects.values_list("ref", flat=True)) == ["good-one"]
    assert search("good").ids == [Practice.objects.get().pk]


def test_bad_csv_reports_rows(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "ref,title,summary,links,start_year\n"
        "a,Title A,Summary A,[],2019\n"
        'b,Title B,Summary B,"[not json",2019\n'
        "c,Title C,Summary C,[],nineteen\n",
        encoding="utf-8",
    )
    report = import_file(path)
    assert report.rejected == [
        'row 2 (b): links: expected a JSON list of {"url", "title"}',
        "row 3 (c): start_year: 'nineteen', expected a year such as 2017",
    ]
    assert not Practice.objects.exists()


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_round_trip_identical(catalogue: dict[str, Practice], tmp_path: Path, suffix: str) -> None:
    practice = catalogue["bollards-promenade"]
    practice.contacts = [{"name": "Service", "email": "contact@example.org"}]
    practice.links = [{"url": "https://example.org/a", "title": "Report, 2019"}]
    practice.evaluation_references = "Line one\nLine two, with a comma"
    practice.start_year, practice.end_year = 2017, 2020
    practice.save()
    first = tmp_path / f"first{suffix}"
    export_file(first)
    before = catalogue_as_text(suffix)
    Practice.objects.all().delete()
    assert not PracticeFacet.objects.exists()
    report = import_file(first)
    assert report.rejected == [] and report.created == len(catalogue)
    assert catalogue_as_text(suffix) == before
    second = tmp_path / f"second{suffix}"
    export_file(second)
    assert second.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")
    # the imported catalogue is searchable again, with the same facets
    assert search("").total == len(catalogue)


def catalogue_as_text(suffix: str) -> str:
    records = catalogue()
    return to_csv(records) if suffix == ".csv" else to_json(records)


def test_reimport_is_idempotent(catalogue: dict[str, Practice], tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    export_file(path)
    report = import_file(path)
    assert (report.created, report.updated, report.unchanged) == (0, 0, len(catalogue))


def test_export_has_every_field(catalogue: dict[str, Practice]) -> None:
    header = to_csv(catalogue_records := catalogue_list()).splitlines()[0]
    assert header.split(",") == list(FIELDS)
    assert set(catalogue_records[0]) == set(FIELDS)


def catalogue_list() -> list[dict[str, Any]]:
    return catalogue()
