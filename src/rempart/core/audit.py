"""Append to and verify the hash-chained audit trail.

Each entry's hash is SHA-256 over the canonical JSON form (sorted keys, no whitespace, UTF-8)
of its content plus the previous entry's hash; the first entry chains to 64 zeros. The chain's
head row records the last sequence number and hash. :func:`verify_chain` recomputes everything
and names the first entry that was altered, inserted or deleted.

Who acts comes from a context variable set by the web middleware (the logged-in user and
address), by the API authentication (the token's user) or by command-line tools (``cli:<login>``).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import getpass
import hashlib
import json
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from rempart.core.audit_models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64
REDACTED = "[redacted]"
ALWAYS_REDACTED = ("password", "pin_hash", "key_digest")


@dataclass(frozen=True)
class Actor:
    """Who is acting: a username (or ``cli:<login>``, ``system``), the user's id, the address."""

    name: str
    user_id: int | None = None
    ip: str = ""


_current_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar(
    "audit_actor", default=None
)


def current_actor() -> Actor:
    actor = _current_actor.get()
    if actor is not None:
        return actor
    try:
        login = getpass.getuser()
    except Exception:  # no login name in some containers
        login = "unknown"
    return Actor(name=f"cli:{login}")


@contextlib.contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Attribute every entry written inside the block to ``actor``."""
    token = _current_actor.set(actor)
    try:
        yield
    finally:
        _current_actor.reset(token)


def set_actor(actor: Actor) -> None:
    """Switch the actor for the rest of the current context (e.g. once an API token is checked)."""
    _current_actor.set(actor)


def actor_for_user(user: Any, ip: str = "") -> Actor:
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(name="anonymous", ip=ip)
    return Actor(name=user.get_username(), user_id=user.pk, ip=ip)


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, compact separators, dates as ISO 8601."""
    return json.dumps(
        value, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def _hashed_content(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at_utc": entry.at_utc.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "at_local": entry.at_local,
        "actor": entry.actor,
        "actor_id": entry.actor_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "city": entry.city,
        "changes": entry.changes,
        "detail": entry.detail,
        "ip": entry.ip,
    }


def compute_hash(entry: AuditEntry, prev_hash: str) -> str:
    payload = canonical_json(_hashed_content(entry)) + prev_hash
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def snapshot(instance: models.Model) -> dict[str, Any]:
    """A JSON-safe dict of a model instance's concrete fields, secrets redacted."""
    redact = set(ALWAYS_REDACTED) | set(getattr(instance, "audit_redact", ()))
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        value = field.value_from_object(instance)
        if field.name in redact or field.attname in redact:
            value = REDACTED if value else value
        elif isinstance(value, FieldFile):
            value = value.name or ""  # the stored file's name, not its content
        data[field.attname] = json.loads(canonical_json(value))
    return data


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """Changed fields only: ``{"field": [before, after]}``; create/delete keep the full side."""
    if before is None:
        return {"after": after or {}}
    if after is None:
        return {"before": before}
    changed = {
        key: [before.get(key), value] for key, value in after.items() if before.get(key) != value
    }
    return {"changed": changed}


def city_of(instance: Any) -> Any:
    """The City an object belongs to (itself, ``.city``, or ``.site.city``), if any."""
    from rempart.core.models import City

    if isinstance(instance, City):
        return instance
    for path in ("city", "site", "zone"):
        related = getattr(instance, path, None)
        if related is None:
            continue
        if isinstance(related, City):
            return related
        nested = city_of(related)
        if nested is not None:
            return nested
    return None


def _local_time(at_utc: dt.datetime, city: Any) -> str:
    zone_name = getattr(city, "timezone", None)
    if not zone_name:
        from django.conf import settings

        zone_name = settings.TIME_ZONE
    local = at_utc.astimezone(zoneinfo.ZoneInfo(zone_name))
    return f"{local.isoformat(timespec='seconds')} {zone_name}"


def record(
    action: str,
    *,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
    city: Any = None,
    actor: Actor | None = None,
) -> AuditEntry:
    """Append one entry to the chain (in its own atomic block, joining an outer transaction).

    Parameters
    ----------
    action
        ``create``, ``update``, ``delete``, ``login``, ``login_failed``, ``logout``,
        ``permission_denied``, ``export``, ``sensitive_read``, ``device_command``, ...
    obj
        The object concerned; its type, id, text and city fill the fields left empty.
    """
    actor = actor or current_actor()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        city = city if city is not None else city_of(obj)
    city_slug = city if isinstance(city, str) else getattr(city, "slug", "") or ""
    if isinstance(city, str):
        from rempart.core.models import City

        city = City.objects.filter(slug=city).first()
    at_utc = timezone.now()
    with transaction.atomic():
        head, _created = AuditHead.objects.select_for_update().get_or_create(pk=1)
        entry = AuditEntry(
            seq=head.last_seq + 1,
            at_utc=at_utc,
            at_local=_local_time(at_utc, city),
            actor=actor.name[:150],
            actor_id=actor.user_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id)[:64],
            object_repr=object_repr[:200],
            city=city_slug,
            changes=json.loads(canonical_json(changes or {})),
            detail=json.loads(canonical_json(detail or {})),
            ip=actor.ip,
            prev_hash=head.last_hash,
        )
        entry.entry_hash = compute_hash(entry, head.last_hash)
        entry.save()
        AuditHead.objects.filter(pk=1).update(last_seq=entry.seq, last_hash=entry.entry_hash)
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    message: str


def verify_chain() -> VerifyResult:
    """Recompute the whole chain; the message names the first entry found altered, inserted or deleted."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for entry in AuditEntry.objects.order_by("seq", "pk").iterator(chunk_size=2000):
        checked += 1
        if entry.seq < expected_seq:
            return VerifyResult(
                False,
                checked,
                f"entry #{entry.seq} (id {entry.pk}) was inserted: its sequence number repeats",
            )
        if entry.seq > expected_seq:
            missing = (
                f"#{expected_seq}"
                if entry.seq == expected_seq + 1
                else f"#{expected_seq}-#{entry.seq - 1}"
            )
            return VerifyResult(
                False, checked, f"entry {missing} was deleted: the chain jumps to #{entry.seq}"
            )
        if entry.prev_hash != prev_hash:
            return VerifyResult(
                False,
                checked,
                f"entry #{entry.seq} (id {entry.pk}) was inserted or its predecessor replaced: "
                "it does not chain to the previous entry",
            )
        if compute_hash(entry, prev_hash) != entry.entry_hash:
            return VerifyResult(
                False,
                checked,
                f"entry #{entry.seq} (id {entry.pk}) was altered: its hash does not match its content",
            )
        prev_hash = entry.entry_hash
        expected_seq += 1
    head = AuditHead.objects.filter(pk=1).first()
    last_seq = expected_seq - 1
    if head is not None and (head.last_seq != last_seq or head.last_hash != prev_hash):
        if head.last_seq > last_seq:
            return VerifyResult(
                False,
                checked,
                f"entry #{last_seq + 1}-#{head.last_seq} was deleted: the chain head records #{head.last_seq}",
            )
        return VerifyResult(
            False, checked, f"entry #{head.last_seq + 1} was inserted after the chain head"
        )
    if head is None and checked:
        return VerifyResult(
            False, checked, "the chain head is missing: entries were inserted outside rempart"
        )
    return VerifyResult(True, checked, f"audit trail intact: {checked} entries verified")
