"""Subject access: the archive is encrypted, watermarked, complete (every record and the log of
who read the case), opened by the command, and deleted after 30 days."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import InvalidToken
from django.test import Client
from django.urls import reverse

from rempart.prevention import subject_access, workflow
from rempart.prevention.models import Status, SubjectExport
from tests.prevention.conftest import CONCERN, NAME, Unit, make_case


@pytest.fixture(autouse=True)
def _exports(settings: Any, tmp_path: Any) -> None:
    settings.PREVENTION_EXPORT_DIR = str(tmp_path / "exports")
    settings.PREVENTION_REQUIRE_2FA = False


def _read(row: SubjectExport, passphrase: str) -> dict[str, Any]:
    blob = Path(row.path).read_bytes()
    with zipfile.ZipFile(io.BytesIO(subject_access.decrypt_archive(blob, passphrase))) as z:
        return json.loads(z.read("case.json"))


def test_the_export_is_complete_encrypted_and_watermarked(unit: Unit) -> None:
    case = make_case(unit, Status.MONITORING)
    factor = case.city.prevention_factors.get(name="Intent")
    workflow.add_review(
        case,
        unit.worker,
        held_on=dt.date(2026, 5, 1),
        significant_changes="Stopped sharing videos",
        judgement="Concern decreasing",
        evidence={factor: ("not_present", "Says he wants to finish school")},
    )
    client = Client()
    client.force_login(unit.worker)
    client.get(reverse("prevention:case", kwargs={"pk": case.pk}), {"purpose": "consultation"})
    row, passphrase = subject_access.export(case, unit.coordinator)
    blob = Path(row.path).read_bytes()
    assert NAME.encode() not in blob and b"Quellec" not in blob
    assert (Path(row.path).stat().st_mode & 0o777) == 0o600
    data = _read(row, passphrase)
    assert data["watermark"].startswith("Exported by coordinator at ")
    assert data["case"]["name"] == NAME and data["case"]["referral"]["concern"] == CONCERN
    assert len(data["consents"]) == 1 and len(data["consultations"]) == 1
    assert data["support_plan"][0]["description"] == "Weekly mentoring with a trained mentor"
    assert data["reviews"][0]["factors"] == [
        {"factor": "Intent", "view": "Not present", "evidence": "Says he wants to finish school"}
    ]
    reads = [e for e in data["access_log"] if e["action"] == "prevention_case_read"]
    assert [(e["who"], e["purpose"]) for e in reads] == [("worker", "consultation")]
    assert any(e["action"] == "create" for e in data["access_log"])
    with pytest.raises(InvalidToken):
        subject_access.decrypt_archive(blob, "wrong-passphrase")


def test_exports_are_deleted_after_30_days(unit: Unit) -> None:
    case = make_case(unit)
    t0 = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    row, _passphrase = subject_access.export(case, unit.coordinator, now=t0)
    assert subject_access.purge(t0 + dt.timedelta(days=29)) == 0
    assert subject_access.purge(t0 + dt.timedelta(days=30)) == 1
    assert not Path(row.path).exists() and not SubjectExport.objects.exists()


def test_the_page_and_the_command_open_the_archive(
    unit: Unit, tmp_path: Any, monkeypatch: Any
) -> None:
    from rempart.prevention.management.commands.prevention import Command

    case = make_case(unit)
    client = Client()
    client.force_login(unit.coordinator)
    page = client.post(reverse("prevention:export", kwargs={"pk": case.pk}))
    assert page.status_code == 200
    passphrase = page.context["passphrase"]
    row = SubjectExport.objects.get()
    download = client.get(reverse("prevention:export_download", kwargs={"pk": row.pk}))
    assert download.status_code == 200
    monkeypatch.setenv("REMPART_EXPORT_PASSPHRASE", passphrase)
    Command().run_from_argv(
        ["rempart", "prevention", "open-export", row.path, "--out", str(tmp_path / "o")]
    )
    assert json.loads((tmp_path / "o" / "case.json").read_text())["case"]["name"] == NAME
    # a worker of the team may not make or fetch archives (coordinators only)
    worker = Client()
    worker.force_login(unit.worker)
    assert (
        worker.get(reverse("prevention:export_download", kwargs={"pk": row.pk})).status_code == 403
    )
