"""Append to the hash-chained audit trail.

Each entry's hash is HMAC-SHA256, under the audit key (``REMPART_AUDIT_KEY`` or
``var/audit_key``, never in the database), of the canonical JSON form (sorted keys, no
whitespace, UTF-8) of its content plus the previous entry's hash; the first entry chains to 64
zeros. Entries written before the key existed (``chain_version`` 1) keep their plain SHA-256
hashes; the first keyed entry chains to the last of them. The chain's head row records the last
sequence number and hash. Once an entry is committed, its sequence number and hash are handed to
the checkpoint writer (:mod:`rempart.core.audit_checkpoints`), which signs and writes them
outside the database; :mod:`rempart.core.audit_verify` checks the chain against them.

Who acts comes from a context variable set by the web middleware (the logged-in user and
address), by the API authentication (the token's user) or by command-line tools (``cli:<login>``).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import getpass
import hashlib
import hmac
import json
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from rempart.core.audit_models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64
#: ``AuditEntry.chain_version``: plain SHA-256 (entries written before the key), HMAC-SHA256.
CHAIN_UNKEYED = 1
CHAIN_KEYED = 2
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
    content = {
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
    if entry.chain_version != CHAIN_UNKEYED:
        content["chain"] = entry.chain_version
        content["organisation_id"] = entry.organisation_id
    return content


def audit_key() -> bytes:
    """The key of the chain and of its checkpoints (settings.AUDIT_KEY, from rempart.config)."""
    return str(settings.AUDIT_KEY).encode("utf-8")


def key_fingerprint() -> str:
    """A short public name of the audit key, written in checkpoints: it tells a wrong key from
    a tampered trail without revealing the key."""
    return hmac.new(audit_key(), b"rempart audit key fingerprint", hashlib.sha256).hexdigest()[:16]


def compute_hash(entry: AuditEntry, prev_hash: str) -> str:
    """The entry's hash as its ``chain_version`` defines it (keyed: HMAC-SHA256 under the key)."""
    payload = (canonical_json(_hashed_content(entry)) + prev_hash).encode("utf-8")
    if entry.chain_version == CHAIN_UNKEYED:
        return hashlib.sha256(payload).hexdigest()
    return hmac.new(audit_key(), payload, hashlib.sha256).hexdigest()


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


#: Attributes leading from an object to the one that belongs to a city, nearest first.
PARENT_PATHS = (
    "city",
    "site",
    "zone",
    "lane",
    "barrier",
    "practice",
    "exercise",
    "objective",
    "course",
)


def city_of(instance: Any) -> Any:
    """The City an object belongs to: itself, or through ``.city``, ``.site``, ``.zone``,
    ``.lane``, ``.barrier`` or ``.practice`` (e.g. a barrier's city is its lane's zone's)."""
    from rempart.core.models import City

    if isinstance(instance, City):
        return instance
    for path in PARENT_PATHS:
        related = getattr(instance, path, None)
        if related is None or not isinstance(related, models.Model):
            continue
        if isinstance(related, City):
            return related
        nested = city_of(related)
        if nested is not None:
            return nested
    return None


def organisation_of(instance: Any) -> int | None:
    """The organisation an object without a city concerns, as an id: an organisation itself, a
    profile's, a practice's owner, a person's (or a token's, through its user) own."""
    from django.contrib.auth.models import AbstractBaseUser

    from rempart.core.models import Organisation

    if isinstance(instance, Organisation):
        return int(instance.pk)
    for attribute in ("organisation_id", "owner_organisation_id"):
        value = getattr(instance, attribute, None)
        if value:
            return int(value)
    user = instance if isinstance(instance, AbstractBaseUser) else getattr(instance, "user", None)
    if isinstance(user, AbstractBaseUser):
        return organisation_of_user(user.pk)
    for path in PARENT_PATHS:
        related = getattr(instance, path, None)
        if isinstance(related, models.Model):
            return organisation_of(related)
    return None


def organisation_of_user(user_id: Any) -> int | None:
    """The organisation of the account ``user_id`` (None without one, or for no account)."""
    from rempart.core.models import Profile

    if user_id is None:
        return None
    value = Profile.objects.filter(user_id=user_id).values_list("organisation_id", flat=True)
    found = value.first()
    return int(found) if found else None


def organisation_of_username(username: str) -> int | None:
    """The organisation of the account named ``username`` (e.g. a failed login's target)."""
    from django.contrib.auth import get_user_model

    user_id = (
        get_user_model()
        .objects.filter(**{get_user_model().USERNAME_FIELD: username})
        .values_list("pk", flat=True)
        .first()
    )
    return organisation_of_user(user_id)


def _local_time(at_utc: dt.datetime, city: Any) -> str:
    zone_name = getattr(city, "timezone", None)
    if not zone_name:
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
    organisation_id: int | None = None,
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
    organisation_id
        For an entry without a city: the organisation it concerns. Left empty, it is the
        object's (:func:`organisation_of`), else the actor's. Who sees which entries:
        :mod:`rempart.core.audit_visibility`.
    """
    from rempart.core import audit_checkpoints

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
    if not city_slug and organisation_id is None:
        if obj is not None:
            organisation_id = organisation_of(obj)
        if organisation_id is None:
            organisation_id = organisation_of_user(actor.user_id)
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
            organisation_id=organisation_id,
            chain_version=CHAIN_KEYED,
            prev_hash=head.last_hash,
        )
        entry.entry_hash = compute_hash(entry, head.last_hash)
        entry.save()
        AuditHead.objects.filter(pk=1).update(last_seq=entry.seq, last_hash=entry.entry_hash)
        seq, entry_hash = entry.seq, entry.entry_hash
        transaction.on_commit(lambda: audit_checkpoints.writer.note(seq, entry_hash))
    return entry
