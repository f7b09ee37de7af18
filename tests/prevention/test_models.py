"""Encryption at rest, audit redaction and the absence of any score (issue 14, items 2 and 4)."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, models

from rempart.core.audit_models import AuditEntry
from rempart.prevention import crypto
from rempart.prevention.models import Case, Presence, Status
from tests.prevention.conftest import CONCERN, NAME, Unit, make_case

SECRETS = (NAME, "Quellec", CONCERN, "Kestrel-Vigil", "Héloïse", "mentoring with a trained")


def _dump_tables() -> str:
    """Every row of every prevention table and of the audit trail, as the database holds it."""
    lines = []
    tables = [m._meta.db_table for m in apps.get_app_config("prevention").get_models()]
    tables += [AuditEntry._meta.db_table]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            lines.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(lines)


def test_raw_rows_and_audit_hold_only_ciphertext(unit: Unit) -> None:
    case = make_case(unit, Status.MONITORING)
    dump = _dump_tables()
    for secret in SECRETS:
        assert secret not in dump, f"{secret!r} readable in the database"
    assert "fernet:" in dump
    # the audit trail saw the changes, redacted
    entries = AuditEntry.objects.filter(object_type="prevention.case", object_id=str(case.pk))
    assert entries.filter(action="create").exists()
    created = entries.get(action="create")
    assert created.changes["after"]["person_name"] == "[redacted]"
    # and the application reads the plain text back
    again = Case.objects.get(pk=case.pk)
    assert again.person_name == NAME and again.concern == CONCERN


def test_key_rotation_keeps_everything_readable(unit: Unit, settings: Any, tmp_path: Any) -> None:
    settings.PREVENTION_KEY_FILE = str(tmp_path / "prevention_key")
    case = make_case(unit, Status.CONSULTED)
    key_before = Path(settings.PREVENTION_KEY_FILE).read_text().split()
    stored_before = crypto._raw_row(Case, case.pk, ["person_name"])
    counts = crypto.rotate_key_file(retire_old=True)
    keys_after = Path(settings.PREVENTION_KEY_FILE).read_text().split()
    assert len(keys_after) == 1 and keys_after[0] not in key_before
    assert counts["prevention.case"] == 1 and counts["prevention.consultation"] == 1
    stored_after = crypto._raw_row(Case, case.pk, ["person_name"])
    assert stored_after != stored_before
    case = Case.objects.get(pk=case.pk)
    assert case.person_name == NAME
    assert case.consultations.get().minutes.startswith("Discussed")
    assert (Path(settings.PREVENTION_KEY_FILE).stat().st_mode & 0o777) == 0o600


def test_a_process_holding_the_old_key_list_reads_rows_rotated_by_another(
    unit: Unit, settings: Any, tmp_path: Any
) -> None:
    settings.PREVENTION_KEY_FILE = str(tmp_path / "prevention_key")
    case = make_case(unit)
    old = crypto.fernet()
    crypto.rotate_key_file(retire_old=True)
    crypto._cache["fernet"], crypto._cache["stamp"] = old, crypto._stamp()  # a stale process
    assert Case.objects.get(pk=case.pk).person_name == NAME


def test_a_malformed_key_is_named(monkeypatch: Any, db: Any) -> None:
    monkeypatch.setenv("REMPART_PREVENTION_KEY", "not-a-key")
    with pytest.raises(crypto.PreventionKeyError, match="REMPART_PREVENTION_KEY: key 1 is not"):
        crypto.keys()


# --- no score -------------------------------------------------------------------------------

NUMERIC = (models.IntegerField, models.FloatField, models.DecimalField, models.DurationField)
#: bookkeeping numbers that are about no person: a factor's display order
ALLOWED_NUMBERS = {("factor", "position")}


def test_no_model_has_a_numeric_field_about_a_person() -> None:
    """Nothing in the module can hold a rating, a score, a rank or a probability."""
    found = [
        (model._meta.model_name, field.name)
        for model in apps.get_app_config("prevention").get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, NUMERIC)
        and not field.primary_key
        and not field.is_relation
        and (model._meta.model_name, field.name) not in ALLOWED_NUMBERS
    ]
    assert found == []
    for model in apps.get_app_config("prevention").get_models():
        for field in model._meta.concrete_fields:
            assert not any(w in field.name for w in ("score", "rank", "risk", "predict")), field


def test_presence_values_are_words_that_cannot_be_added() -> None:
    for value in Presence.values:
        assert not value.lstrip("-").isdigit()
        with pytest.raises(ValueError):
            float(value)


def test_no_code_path_sums_or_ranks_factor_views() -> None:
    """The module's source never aggregates numbers over evidence, presence or judgement: no
    sum(), Sum/Avg/Count over them, no sorting by them (the statistics count cases only)."""
    root = Path(__import__("rempart.prevention").prevention.__file__).parent
    offending = []
    for source in root.rglob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            text = ast.unparse(node) if isinstance(node, ast.Call) else ""
            if not text:
                continue
            head = text.split("(", 1)[0]
            touches = any(w in text for w in ("presence", "evidence", "judgement", "factor"))
            if touches and head.split(".")[-1] in {"sum", "Sum", "Avg", "Max", "Min", "sorted"}:
                offending.append(f"{source.name}: {text[:80]}")
            if touches and head.endswith("order_by") and "presence" in text:
                offending.append(f"{source.name}: {text[:80]}")
    assert offending == []


def test_case_str_and_alerts_name_only_the_reference(unit: Unit) -> None:
    case = make_case(unit)
    assert str(case) == case.reference
    assert NAME not in json.dumps(list(AuditEntry.objects.values("object_repr", "detail")))
