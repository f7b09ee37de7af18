"""Verify the audit trail: the chain, its key, its head and the checkpoints kept outside it.

:func:`verify_chain` recomputes every entry's hash (HMAC-SHA256 under the audit key; plain
SHA-256 for the entries written before the key), follows the links, and compares the trail with
every signed checkpoint (:mod:`rempart.core.audit_checkpoints`). Its message names, in one
sentence, the first thing found wrong: an entry altered, forged, inserted, rewritten without the
key, the entries deleted from the middle or the end, an emptied trail, a head moved, a forged
checkpoint or a wrong key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from rempart.core.audit import CHAIN_KEYED, CHAIN_UNKEYED, GENESIS_HASH, compute_hash
from rempart.core.audit_checkpoints import Checkpoint, CheckpointError, read_checkpoints
from rempart.core.audit_models import AuditEntry, AuditHead


@dataclass(frozen=True)
class VerifyResult:
    """``ok``; how many entries were checked; one sentence; the last entry checked."""

    ok: bool
    checked: int
    message: str
    last_seq: int = 0
    last_hash: str = GENESIS_HASH


def _span(first: int, last: int) -> str:
    return f"entry #{first}" if first == last else f"entries #{first}-#{last}"


def _was(first: int, last: int) -> str:
    return "was" if first == last else "were"


def checkpoint_sources(extra: Iterable[Path] = ()) -> list[Path]:
    """The configured checkpoint file, then ``extra`` files (e.g. a syslog collector's)."""
    return [Path(settings.AUDIT_CHECKPOINT_FILE), *extra]


def verify_chain(
    extra_checkpoints: Iterable[Path] = (), *, since_latest_checkpoint: bool = False
) -> VerifyResult:
    """Check the trail (see the module docstring).

    Parameters
    ----------
    extra_checkpoints
        Files of checkpoints besides the configured one, e.g. collected from syslog.
    since_latest_checkpoint
        Check only the entries after the latest checkpoint (which the latest checkpointed entry
        must still match): what ``rempart audit checkpoint`` needs before signing the head.
    """
    sources = checkpoint_sources(extra_checkpoints)
    try:
        checkpoints = read_checkpoints(sources)
    except CheckpointError as exc:
        return VerifyResult(False, 0, f"checkpoint {exc}")
    by_seq: dict[int, Checkpoint] = {}
    for checkpoint in checkpoints:
        known = by_seq.get(checkpoint.seq)
        if known is not None and known.entry_hash != checkpoint.entry_hash:
            return VerifyResult(
                False,
                0,
                f"two checkpoints of entry #{checkpoint.seq} disagree ({known.source}, "
                f"{checkpoint.source}): the trail was rewritten after {known.at_utc} and the "
                "first checkpoint is the genuine one",
            )
        by_seq.setdefault(checkpoint.seq, checkpoint)
    latest = max(by_seq.values(), key=lambda c: c.seq, default=None)
    head = AuditHead.objects.filter(pk=1).first()  # before the entries: appends may follow

    entries = AuditEntry.objects.order_by("seq", "pk")
    prev_hash, expected_seq = GENESIS_HASH, 1
    if since_latest_checkpoint and latest is not None:
        entries = entries.filter(seq__gte=latest.seq)
        expected_seq = latest.seq
    checked = 0
    keyed_since = 0
    last_matched_checkpoint = 0
    head_entry_hash = GENESIS_HASH if head is None or head.last_seq == 0 else None
    for entry in entries.iterator(chunk_size=2000):
        checked += 1
        where = f"entry #{entry.seq} (id {entry.pk})"
        if entry.seq < expected_seq:
            return VerifyResult(
                False, checked, f"{where} was inserted: its sequence number repeats"
            )
        if entry.seq > expected_seq:
            return VerifyResult(
                False,
                checked,
                f"{_span(expected_seq, entry.seq - 1)} {_was(expected_seq, entry.seq - 1)} "
                f"deleted: the chain jumps to #{entry.seq}",
            )
        if entry.chain_version not in (CHAIN_UNKEYED, CHAIN_KEYED):
            return VerifyResult(
                False, checked, f"{where} has an unknown chain version {entry.chain_version}"
            )
        if entry.chain_version == CHAIN_UNKEYED and keyed_since:
            return VerifyResult(
                False,
                checked,
                f"{where} was rewritten without the audit key: it is unkeyed although keyed "
                f"entry #{keyed_since} precedes it",
            )
        if entry.chain_version == CHAIN_KEYED and not keyed_since:
            keyed_since = entry.seq
        if checked == 1 and since_latest_checkpoint and latest is not None:
            prev_hash = entry.prev_hash  # the checkpoint vouches for this entry's past
        if entry.prev_hash != prev_hash:
            return VerifyResult(
                False,
                checked,
                f"{where} was inserted or its predecessor replaced: it does not chain to the "
                "previous entry",
            )
        if compute_hash(entry, prev_hash) != entry.entry_hash:
            altered = (
                "was altered or forged: its keyed hash"
                if entry.chain_version == CHAIN_KEYED
                else "was altered: its hash"
            )
            return VerifyResult(False, checked, f"{where} {altered} does not match its content")
        vouched = by_seq.get(entry.seq)
        if vouched is not None:
            if vouched.entry_hash != entry.entry_hash:
                return VerifyResult(
                    False,
                    checked,
                    f"one of {_span(last_matched_checkpoint + 1, entry.seq)} was altered and "
                    f"the hashes after it recomputed: {where} no longer matches the checkpoint "
                    f"written at {vouched.at_utc}",
                )
            last_matched_checkpoint = entry.seq
        if head is not None and entry.seq == head.last_seq:
            head_entry_hash = entry.entry_hash
        prev_hash = entry.entry_hash
        expected_seq += 1
    last_seq = expected_seq - 1

    if latest is not None and latest.seq > last_seq:
        if last_seq == 0:
            message = (
                f"all entries were deleted (the trail is empty): the checkpoint written at "
                f"{latest.at_utc} records entry #{latest.seq}"
            )
        else:
            message = (
                f"{_span(last_seq + 1, latest.seq)} {_was(last_seq + 1, latest.seq)} deleted "
                f"from the end of the trail: the checkpoint written at {latest.at_utc} records "
                f"entry #{latest.seq}"
            )
        return VerifyResult(False, checked, message)
    if head is None and checked:
        return VerifyResult(
            False, checked, "the chain head is missing: entries were inserted outside rempart"
        )
    if head is not None and head.last_seq > last_seq:
        return VerifyResult(
            False,
            checked,
            f"{_span(last_seq + 1, head.last_seq)} {_was(last_seq + 1, head.last_seq)} deleted: "
            f"the chain head records #{head.last_seq} but the trail ends at #{last_seq}",
        )
    if head is not None and head_entry_hash is not None and head_entry_hash != head.last_hash:
        return VerifyResult(
            False,
            checked,
            f"the chain head was altered: the hash it records for entry #{head.last_seq} is not "
            "that entry's",
        )
    if head is not None and latest is not None and latest.seq > head.last_seq:
        return VerifyResult(
            False,
            checked,
            f"the chain head was moved back to #{head.last_seq}: the checkpoint written at "
            f"{latest.at_utc} records entry #{latest.seq}",
        )
    if latest is None and keyed_since and not since_latest_checkpoint:
        return VerifyResult(
            False,
            checked,
            f"no checkpoint found in {', '.join(str(p) for p in sources)} although the trail "
            "holds keyed entries: the checkpoints were deleted, so entries deleted from the end "
            "could go unnoticed",
        )
    message = f"audit trail intact: {checked} entries verified"
    if since_latest_checkpoint and latest is not None:
        message = f"audit trail intact: {checked} entries verified since checkpoint #{latest.seq}"
    if keyed_since:
        message += f" (keyed since #{keyed_since})"
    if latest is not None:
        message += f", against {len(checkpoints)} checkpoints, the latest of {latest.at_utc} for #{latest.seq}"
    return VerifyResult(True, checked, message, last_seq, prev_hash)
