"""The audit trail: automatic entries, immutability, and tamper detection by `rempart audit verify`.

The attacker here can write the database (raw SQL, triggers disabled as the tables' owner could)
but holds neither the audit key nor the checkpoint file, unless a test says otherwise. Each case
runs on SQLite and, with REMPART_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from rempart.core import audit
from rempart.core.audit_checkpoints import checkpoint_line, write_checkpoint
from rempart.core.audit_models import AuditEntry, AuditHead, AuditImmutableError
from rempart.core.audit_verify import verify_chain
from rempart.core.models import Site
from tests.conftest import SQUARE

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"
AUDIT_TABLES = ("core_auditentry", "core_audithead")


def _raw(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    """Tamper with the tables behind the application's back, as their owner could."""
    with connection.cursor() as cursor:
        if POSTGRES:
            for table in AUDIT_TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(sql, list(params))
        if POSTGRES:
            for table in AUDIT_TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def _broken() -> str:
    """`rempart audit verify` must fail; its one-line message."""
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify")
    assert info.value.returncode == 1
    message = str(info.value)
    assert "\n" not in message
    return message


def _set_head(seq: int, entry_hash: str) -> None:
    _raw("UPDATE core_audithead SET last_seq = %s, last_hash = %s WHERE id = 1", [seq, entry_hash])


def _rewrite(entries: list[AuditEntry], first_seq: int, hasher: Any, **changes: Any) -> None:
    """Change entry ``first_seq`` and recompute the hashes of it and every later entry with
    ``hasher(entry, prev_hash)``, the head too: a rewrite that keeps the chain self-consistent."""
    prev_hash = audit.GENESIS_HASH
    for entry in entries:
        if entry.seq < first_seq:
            prev_hash = entry.entry_hash
            continue
        if entry.seq == first_seq:
            for name, value in changes.items():
                setattr(entry, name, value)
        entry.prev_hash = prev_hash
        entry.entry_hash = hasher(entry, prev_hash)
        _raw(
            "UPDATE core_auditentry SET actor = %s, chain_version = %s, prev_hash = %s, "
            "entry_hash = %s WHERE id = %s",
            [entry.actor, entry.chain_version, entry.prev_hash, entry.entry_hash, entry.pk],
        )
        prev_hash = entry.entry_hash
    _set_head(entries[-1].seq, prev_hash)


def _unkeyed_hash(entry: AuditEntry, prev_hash: str) -> str:
    """Plain SHA-256 over the keyed entry's content: what an attacker without the key can do."""
    content = audit._hashed_content(entry)
    return hashlib.sha256((audit.canonical_json(content) + prev_hash).encode()).hexdigest()


@pytest.fixture
def trail(city: Any) -> list[AuditEntry]:
    """Six entries, the last one checkpointed, as a running platform would have them."""
    with audit.acting_as(audit.Actor("tester")):
        site = Site.objects.create(city=city, name="Place Masséna", kind="square", boundary=SQUARE)
        site.peak_crowd = 20000
        site.save()
        site.delete()
        for number in range(3):
            audit.record("export", object_type="core.site", detail={"n": number})
    entries = list(AuditEntry.objects.order_by("seq"))
    assert write_checkpoint(entries[-1].seq, entries[-1].entry_hash)
    return entries


def test_changes_are_recorded_with_before_and_after(trail: list[AuditEntry]) -> None:
    site_entries = [e for e in trail if e.object_type == "core.site" and e.action != "export"]
    assert [e.action for e in site_entries] == ["create", "update", "delete"]
    create, update, delete = site_entries
    assert create.changes["after"]["name"] == "Place Masséna"
    assert update.changes["changed"]["peak_crowd"] == [0, 20000]
    assert delete.changes["before"]["peak_crowd"] == 20000
    assert all(e.actor == "tester" for e in site_entries)
    assert create.city == "nice"
    assert create.at_local.endswith("Europe/Paris")


def test_new_entries_are_keyed_with_hmac(trail: list[AuditEntry], settings: Any) -> None:
    """HMAC-SHA256 under the audit key: another key gives another hash, no key a third."""
    entry = trail[0]
    assert entry.chain_version == audit.CHAIN_KEYED
    assert audit.compute_hash(entry, entry.prev_hash) == entry.entry_hash
    assert _unkeyed_hash(entry, entry.prev_hash) != entry.entry_hash
    settings.AUDIT_KEY = "another key of the right length, 1234567890"
    assert audit.compute_hash(entry, entry.prev_hash) != entry.entry_hash


def test_verify_passes_on_an_intact_chain(trail: list[AuditEntry]) -> None:
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "intact" in out.getvalue()
    assert f"{len(trail)} entries" in out.getvalue()


def test_verify_names_an_altered_entry(trail: list[AuditEntry]) -> None:
    target = trail[2]
    _raw("UPDATE core_auditentry SET actor = %s WHERE id = %s", ["mallory", target.pk])
    message = _broken()
    assert f"entry #{target.seq} (id {target.pk}) was altered" in message


def test_verify_names_an_entry_altered_and_the_following_hashes_recomputed(
    trail: list[AuditEntry],
) -> None:
    """Without the key, recomputing gives plain SHA-256 hashes: the altered entry is named."""
    target = trail[1]
    _rewrite(trail, target.seq, _unkeyed_hash, actor="mallory")
    message = _broken()
    assert f"entry #{target.seq} (id {target.pk}) was altered or forged" in message


def test_verify_catches_a_rewrite_with_a_stolen_key_by_the_checkpoint(
    trail: list[AuditEntry],
) -> None:
    """Even with the key, a rewrite no longer matches the checkpoint written outside."""
    target = trail[1]
    _rewrite(trail, target.seq, audit.compute_hash, actor="mallory")
    message = _broken()
    assert f"one of entries #1-#{trail[-1].seq} was altered" in message
    assert f"entry #{trail[-1].seq}" in message
    assert "checkpoint" in message


def test_verify_catches_a_downgrade_to_the_unkeyed_chain(trail: list[AuditEntry]) -> None:
    """Marking rewritten entries 'unkeyed' (chain version 1) does not escape the key."""
    target = trail[3]
    _rewrite(trail, target.seq, _unkeyed_hash, actor="mallory", chain_version=1)
    message = _broken()
    assert f"entry #{target.seq} (id {target.pk}) was rewritten without the audit key" in message


def test_verify_names_an_inserted_entry(trail: list[AuditEntry]) -> None:
    """A forged entry appended at the end with a correctly computed plain hash."""
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
        chain_version=audit.CHAIN_KEYED,
        prev_hash=last.entry_hash,
    )
    forged.entry_hash = _unkeyed_hash(forged, last.entry_hash)
    _raw(
        "INSERT INTO core_auditentry (seq, at_utc, at_local, actor, action, object_type, object_id,"
        " object_repr, city, changes, detail, ip, chain_version, prev_hash, entry_hash)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
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
            forged.chain_version,
            forged.prev_hash,
            forged.entry_hash,
        ],
    )
    _set_head(forged.seq, forged.entry_hash)
    message = _broken()
    assert f"entry #{forged.seq}" in message
    assert "forged" in message


def test_verify_names_an_entry_inserted_in_the_middle(trail: list[AuditEntry]) -> None:
    """Making room in the middle means renumbering: the renumbered entry no longer matches."""
    middle = trail[1]
    _raw("UPDATE core_auditentry SET seq = seq + 1000000 WHERE seq > %s", [middle.seq])
    _raw("UPDATE core_auditentry SET seq = seq - 1000000 + 1 WHERE seq > 1000000")
    _raw(
        "INSERT INTO core_auditentry (seq, at_utc, at_local, actor, action, object_type, object_id,"
        " object_repr, city, changes, detail, ip, chain_version, prev_hash, entry_hash)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
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
            2,
            middle.entry_hash,
            "e" * 64,
        ],
    )
    assert f"entry #{middle.seq + 1}" in _broken()


def test_verify_names_a_deleted_entry(trail: list[AuditEntry]) -> None:
    target = trail[1]
    _raw("DELETE FROM core_auditentry WHERE id = %s", [target.pk])
    assert f"entry #{target.seq} was deleted" in _broken()


def test_verify_names_the_last_entries_deleted_and_the_head_moved(
    trail: list[AuditEntry],
) -> None:
    """The end cut off and the head set to the new last entry: only the checkpoint knows."""
    keep = trail[2]
    _raw("DELETE FROM core_auditentry WHERE seq > %s", [keep.seq])
    _set_head(keep.seq, keep.entry_hash)
    message = _broken()
    assert f"entries #{keep.seq + 1}-#{trail[-1].seq} were deleted from the end" in message


def test_verify_names_the_last_entries_deleted_under_an_unmoved_head(
    trail: list[AuditEntry],
) -> None:
    last = trail[-1]
    _raw("DELETE FROM core_auditentry WHERE id = %s", [last.pk])
    assert f"entry #{last.seq} was deleted" in _broken()


def test_verify_names_a_trail_emptied_and_its_head_reset(trail: list[AuditEntry]) -> None:
    if POSTGRES:
        _raw("TRUNCATE core_auditentry, core_audithead")
    else:
        _raw("DELETE FROM core_auditentry")
        _raw("DELETE FROM core_audithead")
    message = _broken()
    assert "all entries were deleted" in message
    assert f"#{trail[-1].seq}" in message


def test_verify_names_a_head_moved_back(trail: list[AuditEntry]) -> None:
    """Entries left in place, the head set back: the checkpoint records further."""
    _set_head(trail[2].seq, trail[2].entry_hash)
    message = _broken()
    assert f"the chain head was moved back to #{trail[2].seq}" in message


def test_verify_names_a_head_moved_forward(trail: list[AuditEntry]) -> None:
    _set_head(trail[-1].seq + 5, "f" * 64)
    message = _broken()
    assert f"entries #{trail[-1].seq + 1}-#{trail[-1].seq + 5} were deleted" in message


def test_verify_names_a_head_with_another_hash(trail: list[AuditEntry]) -> None:
    _set_head(trail[-1].seq, "f" * 64)
    assert "the chain head was altered" in _broken()


def test_verify_refuses_a_forged_checkpoint(
    trail: list[AuditEntry], audit_checkpoint_file: Path
) -> None:
    """An attacker who can append to the file but lacks the key cannot vouch for a cut trail."""
    keep = trail[1]
    _raw("DELETE FROM core_auditentry WHERE seq > %s", [keep.seq])
    _set_head(keep.seq, keep.entry_hash)
    line = json.loads(checkpoint_line(keep.seq, keep.entry_hash))
    line["seq"], line["hash"] = trail[-1].seq + 1, "a" * 64  # a made-up later checkpoint
    with audit_checkpoint_file.open("a") as handle:
        handle.write(json.dumps(line) + "\n")
    message = _broken()
    assert "line 2" in message
    assert "forged checkpoint" in message


def test_an_old_checkpoint_replayed_is_harmless(
    trail: list[AuditEntry], audit_checkpoint_file: Path
) -> None:
    """Copying an old genuine line to the end does not make the trail's end forgettable."""
    write_checkpoint(trail[1].seq, trail[1].entry_hash)
    lines = audit_checkpoint_file.read_text().splitlines()
    audit_checkpoint_file.write_text("\n".join([lines[0], lines[1], lines[1]]) + "\n")
    call_command("audit", "verify", stdout=StringIO())
    _raw("DELETE FROM core_auditentry WHERE seq > %s", [trail[1].seq])
    _set_head(trail[1].seq, trail[1].entry_hash)
    assert "deleted from the end" in _broken()


def test_verify_tells_a_wrong_key_from_tampering(trail: list[AuditEntry], settings: Any) -> None:
    settings.AUDIT_KEY = "a key that is not the one the trail was written with"
    message = _broken()
    assert "fingerprint" in message
    assert "REMPART_AUDIT_KEY" in message


def test_verify_fails_when_the_checkpoints_are_gone(
    trail: list[AuditEntry], audit_checkpoint_file: Path
) -> None:
    audit_checkpoint_file.unlink()
    message = _broken()
    assert "no checkpoint found" in message
    assert str(audit_checkpoint_file) in message


def test_unkeyed_entries_of_before_the_key_verify_and_are_anchored_by_the_first_keyed_one(
    trail: list[AuditEntry], audit_checkpoint_file: Path
) -> None:
    """An upgraded trail: entries 1-3 were written unkeyed (chain version 1) before migration
    0003. They still verify; rewriting them, even with a consistent plain chain, is caught where
    the first keyed entry chains to them."""
    old, new = trail[:3], trail[3:]

    def unkeyed(entry: AuditEntry, prev_hash: str) -> str:
        entry.chain_version = audit.CHAIN_UNKEYED
        return audit.compute_hash(entry, prev_hash)

    audit_checkpoint_file.write_text("")  # the trail is rebuilt as an upgraded one would be:
    _rewrite(trail, 1, unkeyed)  # 1-3 unkeyed ...
    for entry in new:
        entry.chain_version = audit.CHAIN_KEYED
    _rewrite(trail, new[0].seq, audit.compute_hash)  # ... then 4-6 keyed, checkpointed
    write_checkpoint(trail[-1].seq, trail[-1].entry_hash)
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert f"keyed since #{new[0].seq}" in out.getvalue()

    for entry in old:  # rewrite the unkeyed part consistently, as anyone could
        entry.actor = "mallory" if entry.seq == 2 else entry.actor
    prev_hash = audit.GENESIS_HASH
    for entry in old:
        entry.prev_hash, entry.entry_hash = prev_hash, unkeyed(entry, prev_hash)
        _raw(
            "UPDATE core_auditentry SET actor = %s, prev_hash = %s, entry_hash = %s WHERE id = %s",
            [entry.actor, entry.prev_hash, entry.entry_hash, entry.pk],
        )
        prev_hash = entry.entry_hash
    assert f"entry #{new[0].seq} (id {new[0].pk}) was inserted or its predecessor replaced" in (
        _broken()
    )


def test_checkpoint_command_signs_the_head_after_checking_what_follows_the_last_one(
    trail: list[AuditEntry], audit_checkpoint_file: Path
) -> None:
    with audit.acting_as(audit.Actor("tester")):
        later = audit.record("export", object_type="core.site")
    out = StringIO()
    call_command("audit", "checkpoint", stdout=out)
    assert f"checkpoint of entry #{later.seq} written" in out.getvalue()
    assert json.loads(audit_checkpoint_file.read_text().splitlines()[-1])["seq"] == later.seq

    _raw("UPDATE core_auditentry SET actor = 'mallory' WHERE id = %s", [later.pk])
    with pytest.raises(CommandError) as info:
        call_command("audit", "checkpoint")
    assert f"entry #{later.seq}" in str(info.value)
    assert len(audit_checkpoint_file.read_text().splitlines()) == 2  # nothing signed


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


@pytest.mark.skipif(not POSTGRES, reason="the database triggers exist on PostgreSQL only")
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE core_auditentry SET actor = 'mallory'",
        "DELETE FROM core_auditentry",
        "TRUNCATE core_auditentry",
        "TRUNCATE core_audithead",
        "DELETE FROM core_audithead",
        "UPDATE core_audithead SET last_seq = last_seq - 1",
        "UPDATE core_audithead SET last_hash = 'x'",
    ],
)
def test_database_refuses_tampering_on_postgresql(trail: list[AuditEntry], statement: str) -> None:
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEntry.objects.count() == len(trail)
    assert AuditHead.objects.get().last_seq == trail[-1].seq


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


def test_verify_chain_reports_the_last_entry(trail: list[AuditEntry]) -> None:
    result = verify_chain()
    assert result.ok
    assert (result.last_seq, result.last_hash) == (trail[-1].seq, trail[-1].entry_hash)
