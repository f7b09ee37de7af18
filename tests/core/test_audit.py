"""The audit trail: automatic entries, immutability, and tamper detection by `rempart audit verify`."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from rempart.core import audit
from rempart.core.audit_models import AuditEntry, AuditImmutableError
from rempart.core.models import Site
from tests.conftest import SQUARE

pytestmark = pytest.mark.django_db


def _raw(sql: str, params: list[Any]) -> None:
    """Tamper with the table behind the application's back, as a database owner could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE core_auditentry DISABLE TRIGGER core_auditentry_append_only"
            )
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditentry ENABLE TRIGGER core_auditentry_append_only")


@pytest.fixture
def trail(city: Any) -> list[AuditEntry]:
    with audit.acting_as(audit.Actor("tester")):
        site = Site.objects.create(city=city, name="Place Masséna", kind="square", boundary=SQUARE)
        site.peak_crowd = 20000
        site.save()
        site.delete()
    return list(AuditEntry.objects.order_by("seq"))


def test_changes_are_recorded_with_before_and_after(trail: list[AuditEntry]) -> None:
    site_entries = [e for e in trail if e.object_type == "core.site"]
    assert [e.action for e in site_entries] == ["create", "update", "delete"]
    create, update, delete = site_entries
    assert create.changes["after"]["name"] == "Place Masséna"
    assert update.changes["changed"]["peak_crowd"] == [0, 20000]
    assert delete.changes["before"]["peak_crowd"] == 20000
    assert all(e.actor == "tester" for e in site_entries)
    assert create.city == "nice"
    assert create.at_local.endswith("Europe/Paris")


def test_verify_passes_on_an_intact_chain(trail: list[AuditEntry]) -> None:
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "intact" in out.getvalue()


def test_verify_names_an_altered_entry(trail: list[AuditEntry]) -> None:
    target = trail[2]
    _raw("UPDATE core_auditentry SET actor = %s WHERE id = %s", ["mallory", target.pk])
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify")
    assert f"entry #{target.seq}" in str(info.value)
    assert "altered" in str(info.value)


def test_verify_names_an_inserted_entry(trail: list[AuditEntry]) -> None:
    """A forged entry with a correctly computed hash is still caught by the chain head."""
    last = trail[-1]
    forged = AuditEntry(
        seq=last.seq + 1,
        at_utc=last.at_utc,
        at_local=last.at_local,
        actor="mallory",
        actor_id=None,
        action="delete",
        object_type="core.site",
        object_id="1",
        object_repr="forged",
        city="",
        changes={},
        detail={},
        ip="",
        prev_hash=last.entry_hash,
    )
    forged.entry_hash = audit.compute_hash(forged, last.entry_hash)
    _raw(
        "INSERT INTO core_auditentry (seq, at_utc, at_local, actor, action, object_type, object_id, object_repr,"
        " city, changes, detail, ip, prev_hash, entry_hash)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            forged.seq,
            forged.at_utc,
            forged.at_local,
            forged.actor,
            forged.action,
            forged.object_type,
            forged.object_id,
            forged.object_repr,
            "",
            "{}",
            "{}",
            "",
            forged.prev_hash,
            forged.entry_hash,
        ],
    )
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify")
    assert f"entry #{forged.seq} was inserted" in str(info.value)


def test_verify_names_an_entry_inserted_in_the_middle(trail: list[AuditEntry]) -> None:
    """Making room in the middle means renumbering: the renumbered entry no longer matches its hash."""
    middle = trail[1]
    _raw("UPDATE core_auditentry SET seq = seq + 1000000 WHERE seq > %s", [middle.seq])
    _raw("UPDATE core_auditentry SET seq = seq - 1000000 + 1 WHERE seq > 1000000", [])
    _raw(
        "INSERT INTO core_auditentry (seq, at_utc, at_local, actor, action, object_type, object_id, object_repr,"
        " city, changes, detail, ip, prev_hash, entry_hash)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            middle.seq + 1,
            middle.at_utc,
            middle.at_local,
            "mallory",
            "login",
            "auth.user",
            "1",
            "forged",
            "",
            "{}",
            "{}",
            "",
            middle.entry_hash,
            "e" * 64,
        ],
    )
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify")
    assert f"entry #{middle.seq + 1}" in str(info.value)


def test_verify_names_a_deleted_entry(trail: list[AuditEntry]) -> None:
    target = trail[1]
    _raw("DELETE FROM core_auditentry WHERE id = %s", [target.pk])
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify")
    assert f"entry #{target.seq} was deleted" in str(info.value)


def test_verify_notices_the_last_entries_deleted(trail: list[AuditEntry]) -> None:
    last = trail[-1]
    _raw("DELETE FROM core_auditentry WHERE id = %s", [last.pk])
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify")
    assert "deleted" in str(info.value)
    assert f"#{last.seq}" in str(info.value)


def test_entries_cannot_be_changed_or_deleted_through_django(trail: list[AuditEntry]) -> None:
    entry = trail[0]
    entry.actor = "mallory"
    with pytest.raises(AuditImmutableError):
        entry.save()
    with pytest.raises(AuditImmutableError):
        entry.delete()
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.filter(pk=entry.pk).update(actor="mallory")
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.all().delete()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database trigger exists on PostgreSQL only"
)
def test_database_refuses_update_on_postgresql(trail: list[AuditEntry]) -> None:
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET actor = 'mallory'")


def test_secrets_are_redacted(make_user: Any) -> None:
    user = make_user("viewer")
    created = AuditEntry.objects.filter(
        object_type="auth.user", object_id=str(user.pk), action="create"
    ).get()
    assert created.changes["after"]["password"] == "[redacted]"


def test_file_fields_are_recorded_by_name() -> None:
    from django.db.models.fields.files import FieldFile, FileField

    field = FileField(name="attachment", upload_to="x")
    field.attname = "attachment"

    class Holder:
        audit_redact = ()

        class _meta:  # noqa: N801  (duck-typed model options)
            concrete_fields = [field]

    holder = Holder()
    holder.attachment = FieldFile(holder, field, "practices/report.pdf")  # type: ignore[attr-defined]
    assert audit.snapshot(holder)["attachment"] == "practices/report.pdf"  # type: ignore[arg-type]
