"""Encryption at rest of the prevention unit's personal data (names, concerns, notes, minutes).

Fernet (AES-128-CBC + HMAC-SHA256, from the ``cryptography`` package) under keys kept outside
the database: ``REMPART_PREVENTION_KEY`` (one or more Fernet keys, comma-separated, the first
encrypts), else the file ``var/prevention_key`` (one key a line, the first encrypts), created
once with mode 0600 the first time a key is needed. :class:`~cryptography.fernet.MultiFernet`
decrypts with any listed key, so a key is rotated without downtime
(:func:`rotate_key_file`, ``rempart prevention rotate-key``): the new key is put first in the
file, every row is re-encrypted under it, and processes that still hold the old list re-read the
file when they meet a token they cannot decrypt; the old key is retired afterwards.

:class:`EncryptedTextField` stores ``fernet:<token>`` in a text column; the database, its
dumps, its history and the audit trail (the models name these fields in ``audit_redact``)
never see the plain text.
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

PREFIX = "fernet:"
_lock = threading.Lock()
_cache: dict[str, Any] = {"stamp": None, "fernet": None}


class PreventionKeyError(Exception):
    """A prevention key that is missing or malformed (one line naming it)."""


def key_file() -> Path:
    return Path(
        getattr(settings, "PREVENTION_KEY_FILE", "") or (settings.VAR_DIR / "prevention_key")
    )


def _parse(raw: str, where: str) -> list[bytes]:
    keys = [part.strip().encode() for part in raw.replace("\n", ",").split(",") if part.strip()]
    if not keys:
        raise PreventionKeyError(f"{where}: expected one or more Fernet keys, found none")
    for index, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except (ValueError, TypeError) as error:
            raise PreventionKeyError(
                f"{where}: key {index} is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from error
    return keys


def _create_file(path: Path) -> None:
    """Write a new key to ``path`` (mode 0600) unless another process did it first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode() + "\n")
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)


def keys() -> list[bytes]:
    """The Fernet keys in use, the encrypting one first."""
    raw = os.environ.get("REMPART_PREVENTION_KEY", "").strip()
    if raw:
        return _parse(raw, "REMPART_PREVENTION_KEY")
    path = key_file()
    if not path.exists():
        _create_file(path)
    return _parse(path.read_text(), str(path))


def _stamp() -> Any:
    raw = os.environ.get("REMPART_PREVENTION_KEY", "").strip()
    if raw:
        return ("env", raw)
    path = key_file()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return ("file", str(path), stat.st_mtime_ns, stat.st_size)


def fernet(reload: bool = False) -> MultiFernet:
    """The MultiFernet of the current keys, re-read when the key file or variable changed."""
    with _lock:
        stamp = _stamp()
        if reload or _cache["fernet"] is None or stamp != _cache["stamp"]:
            _cache["fernet"] = MultiFernet([Fernet(key) for key in keys()])
            _cache["stamp"] = _stamp()
        return _cache["fernet"]


def encrypt(text: str) -> str:
    return PREFIX + fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise ValueError("an encrypted field holds a value without the 'fernet:' prefix")
    token = stored[len(PREFIX) :].encode("ascii")
    try:
        return fernet().decrypt(token).decode("utf-8")
    except InvalidToken:
        # another process may have rotated the key since we read it
        try:
            return fernet(reload=True).decrypt(token).decode("utf-8")
        except InvalidToken as error:
            raise PreventionKeyError(
                "a prevention record cannot be decrypted with the configured keys "
                "(REMPART_PREVENTION_KEY or var/prevention_key)"
            ) from error


def rotate(stored: str) -> str:
    """The same value re-encrypted under the first key."""
    token = stored[len(PREFIX) :].encode("ascii")
    return PREFIX + fernet().rotate(token).decode("ascii")


class EncryptedTextField(models.TextField):
    """A text field stored encrypted (``fernet:<token>``); empty stays empty.

    It cannot be searched or ordered in the database, by design.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))


def encrypted_fields(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def rotate_key_file(retire_old: bool = False) -> dict[str, int]:
    """Put a new key first in the key file, re-encrypt every row under it, and (with
    ``retire_old``) drop the older keys. Returns rows re-encrypted per model.

    Raises :class:`PreventionKeyError` when the keys come from ``REMPART_PREVENTION_KEY``: then the
    operator adds a new key in front of the variable, runs ``rotate-key --reencrypt-only`` and
    removes the old key afterwards.
    """
    if os.environ.get("REMPART_PREVENTION_KEY", "").strip():
        raise PreventionKeyError(
            "REMPART_PREVENTION_KEY is set: put a new key first in it, restart, then run "
            "'rempart prevention rotate-key --reencrypt-only'"
        )
    path = key_file()
    current = keys()
    new_key = Fernet.generate_key()
    _write_keys(path, [new_key, *current])
    fernet(reload=True)
    counts = reencrypt_all()
    if retire_old:
        _write_keys(path, [new_key])
        fernet(reload=True)
    return counts


def _write_keys(path: Path, key_list: list[bytes]) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("".join(key.decode() + "\n" for key in key_list))
    os.replace(temporary, path)


def reencrypt_all() -> dict[str, int]:
    """Re-encrypt every encrypted column of the prevention app under the first key, row by row
    with raw values (no model signals: the audit trail records one summary entry)."""
    from django.apps import apps
    from django.db import transaction

    counts: dict[str, int] = {}
    for model in apps.get_app_config("prevention").get_models():
        names = encrypted_fields(model)
        if not names:
            continue
        done = 0
        for pk in list(model._default_manager.values_list("pk", flat=True)):
            with transaction.atomic():
                raw = _raw_row(model, pk, names)
                if raw is None:
                    continue
                updates = {n: rotate(v) for n, v in raw.items() if v}
                if updates:
                    _raw_update(model, pk, updates)
                    done += 1
        counts[model._meta.label_lower] = done
    return counts


def _column(model: type[models.Model], name: str) -> str:
    from django.db import connection

    return connection.ops.quote_name(str(model._meta.get_field(name).column))  # type: ignore[union-attr]


def _table(model: type[models.Model]) -> tuple[str, str]:
    from django.db import connection

    pk_column = str(model._meta.pk.column) if model._meta.pk is not None else "id"
    return connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(pk_column)


def _raw_row(model: type[models.Model], pk: Any, names: list[str]) -> dict[str, str] | None:
    """The stored (encrypted) values of ``names`` in one row, read past the field's decryption."""
    from django.db import connection

    table, pk_col = _table(model)
    cols = ", ".join(_column(model, n) for n in names)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cols} FROM {table} WHERE {pk_col} = %s", [pk])  # noqa: S608
        row = cursor.fetchone()
    return None if row is None else dict(zip(names, row, strict=True))


def _raw_update(model: type[models.Model], pk: Any, updates: dict[str, str]) -> None:
    from django.db import connection

    table, pk_col = _table(model)
    sets = ", ".join(f"{_column(model, n)} = %s" for n in updates)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {sets} WHERE {pk_col} = %s",  # noqa: S608
            [*updates.values(), pk],
        )
