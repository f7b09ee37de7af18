"""Signed checkpoints of the audit trail's head, written outside the database.

A checkpoint is one line of JSON: the sequence number and hash of a committed entry, when, on
which host, the audit key's fingerprint, and an HMAC-SHA256 signature under the audit key. It is
appended to a file (``REMPART_AUDIT_CHECKPOINT_FILE``, default ``var/audit-checkpoints.jsonl``;
opened O_APPEND, locked, fsynced) and, optionally, sent to syslog (``REMPART_AUDIT_CHECKPOINT_SYSLOG``:
UDP, TCP or a local socket; Python's SysLogHandler), where a separate machine can keep it.

Someone who can write the database but holds neither the key nor the file cannot make the trail
agree with its checkpoints again after deleting its end, emptying it or rewriting entries:
``rempart audit verify`` (:mod:`rempart.core.audit_verify`) compares the trail with every
checkpoint.

When: each process hands every entry it commits to :data:`writer` (a few microseconds under a
lock, nothing else: the camera path's refusals are entries too). A thread of its own writes a
checkpoint of the latest one at once for the first entry of the process and for every
``REMPART_AUDIT_CHECKPOINT_EVERY``-th sequence number (default 100), and otherwise at most
``REMPART_AUDIT_CHECKPOINT_SECONDS`` (default 60) after an entry; at exit, whatever is left.
``rempart audit checkpoint`` (e.g. from cron) checkpoints the head after checking the entries
since the last checkpoint, for entries of processes that were killed before they wrote theirs.
"""

from __future__ import annotations

import atexit
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import logging
import logging.handlers
import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

logger = logging.getLogger("rempart.audit")

KIND = "rempart-audit-checkpoint"
#: Fields of a checkpoint line, signature excluded.
FIELDS = ("kind", "seq", "hash", "at_utc", "host", "key")


class CheckpointError(Exception):
    """A checkpoint source cannot be read or holds a line that is not a genuine checkpoint."""


@dataclass(frozen=True)
class Checkpoint:
    """The entry ``seq`` had ``entry_hash`` at ``at_utc`` (ISO 8601, UTC); read from ``source``."""

    seq: int
    entry_hash: str
    at_utc: str
    host: str
    key: str
    source: str = ""


def _signature(fields: dict[str, Any]) -> str:
    from rempart.core.audit import audit_key, canonical_json

    message = f"{KIND}\n{canonical_json(fields)}".encode()
    return hmac.new(audit_key(), message, hashlib.sha256).hexdigest()


def checkpoint_line(seq: int, entry_hash: str, at_utc: dt.datetime | None = None) -> str:
    """The signed JSON line (without newline) for entry ``seq`` with ``entry_hash``."""
    from rempart.core.audit import canonical_json, key_fingerprint

    at = (at_utc or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    fields: dict[str, Any] = {
        "kind": KIND,
        "seq": seq,
        "hash": entry_hash,
        "at_utc": at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "host": socket.gethostname(),
        "key": key_fingerprint(),
    }
    return canonical_json({**fields, "sig": _signature(fields)})


def parse_line(text: str, where: str) -> Checkpoint | None:
    """A checkpoint from one line of a checkpoint file or of a syslog collector's file (the JSON
    after any syslog prefix); None for a line that is no checkpoint (blank, another program's).

    Raises :class:`CheckpointError` naming ``where`` for a damaged or forged checkpoint.
    """
    from rempart.core.audit import key_fingerprint

    start = text.find("{")
    if start < 0 or KIND not in text:
        return None
    try:
        data = json.loads(text[start:])
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{where}: not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise CheckpointError(f"{where}: expected an object with kind {KIND!r}")
    missing = [name for name in (*FIELDS, "sig") if name not in data]
    if missing or not isinstance(data["seq"], int) or not isinstance(data["hash"], str):
        raise CheckpointError(f"{where}: expected the fields {', '.join((*FIELDS, 'sig'))}")
    if data["key"] != key_fingerprint():
        raise CheckpointError(
            f"{where}: signed with the audit key of fingerprint {data['key']}, but the key in use "
            f"has fingerprint {key_fingerprint()}: set REMPART_AUDIT_KEY (or var/audit_key) to "
            "the key the trail was written with"
        )
    fields = {name: data[name] for name in FIELDS}
    if not hmac.compare_digest(str(data["sig"]), _signature(fields)):
        raise CheckpointError(f"{where}: the signature does not match: a forged checkpoint")
    return Checkpoint(
        seq=data["seq"],
        entry_hash=data["hash"],
        at_utc=str(data["at_utc"]),
        host=str(data["host"]),
        key=str(data["key"]),
        source=where,
    )


def read_checkpoints(paths: Iterable[Path]) -> list[Checkpoint]:
    """Every checkpoint in ``paths`` (missing files hold none), in the order written."""
    found: list[Checkpoint] = []
    for path in paths:
        try:
            handle = path.open(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise CheckpointError(f"{path}: cannot be read ({exc.strerror})") from exc
        with handle:
            for number, text in enumerate(handle, start=1):
                checkpoint = parse_line(text, f"{path} line {number}")
                if checkpoint is not None:
                    found.append(checkpoint)
    return found


class _RaisingSysLogHandler(logging.handlers.SysLogHandler):
    """SysLogHandler that lets a sending error reach the caller instead of printing it."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802  (logging's name)
        raise


def _write_file(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # lines of concurrent processes never interleave
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


class CheckpointWriter:
    """Writes checkpoints of the latest entry this process committed (see the module docstring)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._latest: tuple[int, str] | None = None
        self._written_seq = 0
        self._written_at: float | None = None  # time.monotonic() of the last write (or try)
        self._due = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._syslog: logging.handlers.SysLogHandler | None = None
        self._atexit_registered = False

    def note(self, seq: int, entry_hash: str) -> None:
        """Entry ``seq`` with ``entry_hash`` was committed (called on commit; never blocks)."""
        with self._condition:
            if self._latest is None or seq > self._latest[0]:
                self._latest = (seq, entry_hash)
            elapsed_s = None if self._written_at is None else time.monotonic() - self._written_at
            if (
                seq % settings.AUDIT_CHECKPOINT_EVERY == 0
                or elapsed_s is None
                or elapsed_s >= settings.AUDIT_CHECKPOINT_SECONDS
            ):
                self._due = True
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(
                    target=self._run, name="audit-checkpoints", daemon=True
                )
                self._thread.start()
            if not self._atexit_registered:
                atexit.register(self.flush)
                self._atexit_registered = True
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._stopping:
                    pending = self._latest is not None and self._latest[0] > self._written_seq
                    if not pending:
                        self._condition.wait()
                        continue
                    wait_s = (
                        0.0
                        if self._due or self._written_at is None
                        else self._written_at + settings.AUDIT_CHECKPOINT_SECONDS - time.monotonic()
                    )
                    if wait_s <= 0:
                        break
                    self._condition.wait(wait_s)
                if self._stopping:
                    return
                assert self._latest is not None
                seq, entry_hash = self._latest
                self._due = False
            self._write(seq, entry_hash)

    def flush(self) -> None:
        """Write the latest entry's checkpoint now if it has none yet (at exit; in tests)."""
        with self._condition:
            latest = self._latest
            if latest is None or latest[0] <= self._written_seq:
                return
        self._write(*latest)

    def _write(self, seq: int, entry_hash: str) -> None:
        ok = write_checkpoint(seq, entry_hash, syslog=self._syslog_handler())
        with self._condition:
            self._written_at = time.monotonic()
            if ok:
                self._written_seq = max(self._written_seq, seq)

    def _syslog_handler(self) -> logging.handlers.SysLogHandler | None:
        target = settings.AUDIT_CHECKPOINT_SYSLOG
        if not target:
            return None
        if self._syslog is None:
            try:
                self._syslog = syslog_handler(target)
            except OSError as exc:
                logger.error("audit checkpoints: cannot reach syslog at %s: %s", target, exc)
                return None
        return self._syslog

    def _forget_after_fork(self) -> None:
        """In a forked child: a fresh writer (the parent's thread and lock state are not ours)."""
        self.__init__()  # type: ignore[misc]

    def reset(self) -> None:
        """Forget everything and stop the thread (tests; a forked child starts afresh)."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        with self._condition:
            self._latest = None
            self._written_seq = 0
            self._written_at = None
            self._due = False
            self._thread = None
            if self._syslog is not None:
                self._syslog.close()
                self._syslog = None


def syslog_handler(target: tuple[str, Any]) -> logging.handlers.SysLogHandler:
    """A handler sending to ``target`` (from rempart.config.audit_checkpoint_syslog)."""
    transport, address = target
    if transport == "unix":
        handler = _RaisingSysLogHandler(address=address, facility="authpriv")
    else:
        kind = socket.SOCK_STREAM if transport == "tcp" else socket.SOCK_DGRAM
        handler = _RaisingSysLogHandler(address=tuple(address), facility="authpriv", socktype=kind)
    if transport == "tcp":  # one message per line (RFC 6587 non-transparent framing), not NUL
        handler.append_nul = False
        handler.setFormatter(logging.Formatter("%(message)s\n"))
    handler.ident = "rempart: "
    return handler


def write_checkpoint(
    seq: int, entry_hash: str, *, syslog: logging.handlers.SysLogHandler | None = None
) -> bool:
    """Append the checkpoint of entry ``seq`` to the file (and send it to ``syslog``); False,
    with the reason logged, when the file could not be written."""
    line = checkpoint_line(seq, entry_hash)
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    try:
        _write_file(path, line)
    except OSError as exc:
        logger.error("audit checkpoints: cannot append to %s: %s", path, exc)
        return False
    if syslog is not None:
        record = logging.LogRecord("rempart.audit", logging.INFO, __file__, 0, line, None, None)
        try:
            syslog.emit(record)
        except OSError as exc:
            logger.error("audit checkpoints: syslog did not take checkpoint #%s: %s", seq, exc)
    return True


#: The process's writer; rempart.core.audit.record hands it every committed entry.
writer = CheckpointWriter()
os.register_at_fork(after_in_child=writer._forget_after_fork)
