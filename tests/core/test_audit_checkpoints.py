"""Checkpoints of the audit trail written outside the database: when, where, and by real
processes; verified against a syslog collector's copy."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rempart.core import audit, audit_checkpoints
from rempart.core.audit_checkpoints import CheckpointWriter, read_checkpoints, syslog_handler
from rempart.core.audit_models import AuditEntry

WAIT_S = 30.0  # generous: the machine is shared; nothing here measures speed


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The sequence numbers a fresh writer checkpoints, in order (nothing reaches a file)."""
    calls: list[int] = []

    def fake_write(seq: int, entry_hash: str, **kwargs: Any) -> bool:
        calls.append(seq)
        return True

    monkeypatch.setattr(audit_checkpoints, "write_checkpoint", fake_write)
    yield calls


def test_first_entry_and_every_nth_are_checkpointed_at_once(
    written: list[int], settings: Any
) -> None:
    settings.AUDIT_CHECKPOINT_EVERY = 5
    settings.AUDIT_CHECKPOINT_SECONDS = 3600
    writer = CheckpointWriter()
    try:
        writer.note(1, "a" * 64)
        _wait_for(lambda: written == [1], "the first entry's checkpoint")
        for seq in (2, 3, 4, 5):
            writer.note(seq, "a" * 64)
        _wait_for(lambda: len(written) == 2, "the fifth entry's checkpoint")
        assert written == [1, 5]  # 2-4 waited for the hour, 5 is a multiple of 5
        writer.note(6, "b" * 64)
        writer.flush()  # as at exit
        assert written == [1, 5, 6]
        writer.flush()
        assert written == [1, 5, 6]  # nothing new: nothing written
    finally:
        writer.reset()


def test_an_entry_is_checkpointed_within_the_configured_seconds(
    written: list[int], settings: Any
) -> None:
    settings.AUDIT_CHECKPOINT_EVERY = 1000
    settings.AUDIT_CHECKPOINT_SECONDS = 1
    writer = CheckpointWriter()
    try:
        writer.note(1, "a" * 64)
        writer.note(2, "a" * 64)
        _wait_for(lambda: written[-1:] == [2], "the checkpoint one second after entry #2")
    finally:
        writer.reset()


def test_noting_an_entry_never_waits_for_the_checkpoint_file(
    settings: Any, audit_checkpoint_file: Path
) -> None:
    """The camera path's committer hands entries over and goes on, even while the file is
    locked (by a slow disk, a backup, another process)."""
    import fcntl

    writer = CheckpointWriter()
    audit_checkpoint_file.touch()
    with audit_checkpoint_file.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        noting = threading.Thread(target=writer.note, args=(1, "a" * 64))
        noting.start()
        noting.join(timeout=WAIT_S)
        assert not noting.is_alive()
        assert audit_checkpoint_file.read_text() == ""
    try:
        _wait_for(lambda: audit_checkpoint_file.read_text() != "", "the checkpoint line")
        assert [c.seq for c in read_checkpoints([audit_checkpoint_file])] == [1]
    finally:
        writer.reset()


@pytest.mark.django_db
def test_committed_entries_are_checkpointed_rolled_back_ones_never(
    audit_checkpoint_file: Path, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True):
        kept = audit.record("export", object_type="core.site", object_repr="kept")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),  # e.g. a request that failed after writing its entry
    ):
        audit.record("export", object_type="core.site", object_repr="rolled back")
        raise RuntimeError("the change failed after its entry")
    audit_checkpoints.writer.flush()
    seqs = [c.seq for c in read_checkpoints([audit_checkpoint_file])]
    assert seqs and set(seqs) == {kept.seq}


class _SyslogServer:
    """A syslog collector on loopback (UDP or TCP) writing what it receives to a file."""

    def __init__(self, transport: str, path: Path) -> None:
        self.transport, self.path = transport, path
        kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
        self.sock = socket.socket(socket.AF_INET, kind)
        self.sock.bind(("127.0.0.1", 0))
        if transport == "tcp":
            self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _keep(self, data: bytes) -> None:
        with self.path.open("ab") as handle:
            for message in data.replace(b"\x00", b"\n").splitlines():
                if message.strip():
                    handle.write(message + b"\n")
                    self.received += 1

    def _serve(self) -> None:
        connection = None
        pending = b""
        while not self.stopping:
            try:
                if self.transport == "udp":
                    self._keep(self.sock.recv(65536))
                elif connection is None:
                    connection, _ = self.sock.accept()
                    connection.settimeout(0.2)
                else:
                    data = connection.recv(65536)
                    if not data:
                        connection = None
                        self._keep(pending)  # the peer closed: what is left is whole
                        pending = b""
                        continue
                    # a stream: a message may arrive in two reads; keep what follows the
                    # last separator (NUL or newline) until the rest of it comes
                    pending += data.replace(b"\x00", b"\n")
                    whole, _, pending = pending.rpartition(b"\n")
                    self._keep(whole)
            except TimeoutError:
                continue
        if connection is not None:
            connection.close()

    def stop(self) -> None:
        self.stopping = True
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.mark.django_db
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_checkpoints_sent_to_syslog_catch_a_cut_trail_when_the_file_is_gone(
    transport: str,
    tmp_path: Path,
    settings: Any,
    audit_checkpoint_file: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The attacker empties the local checkpoint file too; the collector's copy still knows."""
    collected = tmp_path / "collector.log"
    server = _SyslogServer(transport, collected)
    settings.AUDIT_CHECKPOINT_SYSLOG = (transport, ("127.0.0.1", server.port))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            for number in range(4):
                audit.record("export", object_type="core.site", detail={"n": number})
        audit_checkpoints.writer.flush()
        entries = list(AuditEntry.objects.order_by("seq"))
        _wait_for(lambda: server.received >= 1, f"the checkpoint over syslog ({transport})")
        _wait_for(
            lambda: entries[-1].seq in {c.seq for c in read_checkpoints([collected])},
            "the last entry's checkpoint at the collector",
        )
    finally:
        server.stop()
        audit_checkpoints.writer.reset()
    call_command("audit", "verify", "--checkpoints", str(collected))

    from tests.core.test_audit import _raw, _set_head

    _raw("DELETE FROM core_auditentry WHERE seq > %s", [entries[1].seq])
    _set_head(entries[1].seq, entries[1].entry_hash)
    audit_checkpoint_file.write_text("")
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify", "--checkpoints", str(collected))
    assert f"#{entries[2].seq}-#{entries[-1].seq} were deleted from the end" in str(info.value)


def test_a_syslog_collector_that_is_down_does_not_stop_the_file(
    settings: Any, audit_checkpoint_file: Path
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OSError):
        syslog_handler(("tcp", ("127.0.0.1", port)))
    settings.AUDIT_CHECKPOINT_SYSLOG = ("tcp", ("127.0.0.1", port))
    writer = CheckpointWriter()
    try:
        writer.note(1, "a" * 64)
        writer.flush()
        _wait_for(lambda: audit_checkpoint_file.exists(), "the checkpoint file")
        assert [c.seq for c in read_checkpoints([audit_checkpoint_file])][:1] == [1]
    finally:
        writer.reset()


def _rempart(var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "REMPART_VAR_DIR": str(var),
        "REMPART_SECRET_KEY": "checkpoint-test-" + "k" * 40,
        "DJANGO_SETTINGS_MODULE": "rempart.settings",
    }
    env.pop("REMPART_DATABASE_URL", None)
    env.pop("REMPART_AUDIT_KEY", None)
    env.pop("REMPART_AUDIT_CHECKPOINT_FILE", None)
    return subprocess.run(
        [sys.executable, "-m", "rempart.cli", *args],
        env=env,
        cwd=var,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_real_processes_checkpoint_their_entries_and_verify_catches_cut_and_emptied_trails(
    tmp_path: Path,
) -> None:
    """`rempart migrate` writes entries (the role groups) and checkpoints them before it exits;
    the key is created once outside the database (mode 0600). Then the database is cut with
    sqlite3 as an attacker with the file would, and `rempart audit verify` says so in one
    line, with exit status 1."""
    assert _rempart(tmp_path, "migrate", "-v0").returncode == 0
    key_file = tmp_path / "audit_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    lines = (tmp_path / "audit-checkpoints.jsonl").read_text().splitlines()
    last_checkpoint = json.loads(lines[-1])  # signed with that process's key, not this one's
    database = sqlite3.connect(tmp_path / "rempart.sqlite3")
    last_seq, last_hash = database.execute(
        "SELECT seq, entry_hash FROM core_auditentry ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    assert last_seq > 1
    assert (last_checkpoint["seq"], last_checkpoint["hash"]) == (last_seq, last_hash)
    intact = _rempart(tmp_path, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert f"{last_seq} entries verified" in intact.stdout

    keep_seq, keep_hash = database.execute(
        "SELECT seq, entry_hash FROM core_auditentry WHERE seq = ?", [last_seq - 3]
    ).fetchone()
    with database:
        database.execute("DELETE FROM core_auditentry WHERE seq > ?", [keep_seq])
        database.execute(
            "UPDATE core_audithead SET last_seq = ?, last_hash = ?", [keep_seq, keep_hash]
        )
    cut = _rempart(tmp_path, "audit", "verify")
    assert cut.returncode == 1
    assert [line for line in cut.stderr.splitlines() if line.strip()] == [
        f"CommandError: audit trail broken: entries #{keep_seq + 1}-#{last_seq} were deleted "
        f"from the end of the trail: the checkpoint written at {last_checkpoint['at_utc']} records "
        f"entry #{last_seq}"
    ]
    with database:
        database.execute("DELETE FROM core_auditentry")
        database.execute("DELETE FROM core_audithead")
    database.close()
    emptied = _rempart(tmp_path, "audit", "verify")
    assert emptied.returncode == 1
    assert "all entries were deleted (the trail is empty)" in emptied.stderr
