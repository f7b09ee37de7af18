"""Bulk writes of imports in short transactions, all or nothing by undoing what was written.

SQLite (the default database) lets one connection write at a time: an import that writes
50,000 rows in one transaction keeps every camera read waiting until it commits (issue 9: 503
"database is locked" after 20 s). Imports therefore validate everything first, outside any
transaction, then write :data:`BATCH` rows per transaction with ``bulk_create`` /
``bulk_update`` (a few statements per batch, each commit short), so another writer waits at
most one batch. If a batch fails, the batches already committed are undone (rows created by the
import deleted, rows it changed restored from the snapshot taken before), so a refused or failed
import leaves the data as it was. While an import runs, the rows of committed batches are
visible; an import of 50,000 permits takes seconds (docs/performance.md).

On SQLite a writer that finds the database locked sleeps in its busy handler and retries (every
100 ms once it has waited a while); an import that began its next batch at once after each
commit would starve it (a camera read waited 9 s behind a 50,000-permit import in the first
benchmark run). So after each batch the import pauses as long as the batch took, at most
:data:`PAUSE_MAX_S`: waiting writers get the lock within about one batch.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection, models, transaction

#: Rows per transaction.
BATCH = 500
#: Longest pause after a batch on SQLite, seconds (the busy handler's longest sleep).
PAUSE_MAX_S = 0.1

M = TypeVar("M", bound=models.Model)


def snapshot(rows: Sequence[models.Model], fields: Sequence[str]) -> dict[Any, dict[str, Any]]:
    """The current values of ``fields`` of existing ``rows``, keyed by primary key."""
    return {row.pk: {f: getattr(row, f) for f in fields} for row in rows}


def _adapter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """A cheap function from a Python value to the database value of ``field``."""
    ops = connection.ops
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda value: None if value is None else ops.adapt_json_value(value, encoder)
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    return lambda value: value


def insert_rows(model: type[M], rows: list[M], key: str, scope: dict[str, Any]) -> list[M]:
    """INSERT ``rows`` with one ``executemany`` (no ORM statement compiling per row), then set
    their primary keys from ``key``, unique within ``scope`` (e.g. ``ident`` within a city).

    ``bulk_create`` spent most of a 50,000-permit import compiling SQL; defaults and
    ``auto_now`` values must already be on the objects (Model.__init__ sets the defaults).
    """
    if not rows:
        return rows
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    adapters = [(f.attname, _adapter(f)) for f in fields]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    params = [tuple(adapt(getattr(row, name)) for name, adapt in adapters) for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    keys = [getattr(row, key) for row in rows]
    ids = dict(
        model._default_manager.filter(**scope, **{f"{key}__in": keys}).values_list(key, "pk")
    )
    for row in rows:
        row.pk = ids[getattr(row, key)]
        row._state.adding = False
    return rows


def write_batches(
    model: type[M],
    created: list[M],
    updated: list[M],
    fields: Sequence[str],
    before: dict[Any, dict[str, Any]],
    *,
    after_batch: Callable[[list[M], list[M]], None] | None = None,
    undo_extra: Callable[[], None] | None = None,
    batch: int = BATCH,
    key: str = "",
    scope: dict[str, Any] | None = None,
) -> list[M]:
    """Insert ``created`` and update ``fields`` of ``updated``, ``batch`` rows per transaction.

    ``after_batch(created_part, updated_part)`` runs inside each batch's transaction (e.g. to
    write many-to-many rows). ``before`` is :func:`snapshot` of ``updated`` taken before the
    changes; on any error everything written is undone (``undo_extra`` restores what
    ``after_batch`` changed on updated rows), then the error is raised again. With ``key`` and
    ``scope``, new rows are written by :func:`insert_rows` instead of ``bulk_create``.
    """
    written: list[M] = []
    done_updates = False
    try:
        for start in range(0, max(len(created), len(updated)), batch):
            new_part = created[start : start + batch]
            old_part = updated[start : start + batch]
            started = time.perf_counter()
            with transaction.atomic():
                if new_part and key:
                    written.extend(insert_rows(model, new_part, key, scope or {}))
                elif new_part:
                    written.extend(model._default_manager.bulk_create(new_part))
                if old_part:
                    done_updates = True
                    model._default_manager.bulk_update(old_part, list(fields))
                if after_batch is not None:
                    after_batch(new_part, old_part)
            if connection.vendor == "sqlite":
                time.sleep(min(PAUSE_MAX_S, time.perf_counter() - started))
    except Exception:
        ids = [row.pk for row in written if row.pk is not None]
        for start in range(0, len(ids), batch):
            with transaction.atomic():
                model._default_manager.filter(pk__in=ids[start : start + batch]).delete()
        if done_updates:
            with transaction.atomic():
                for pk, values in before.items():
                    model._default_manager.filter(pk=pk).update(**values)
                if undo_extra is not None:
                    undo_extra()
        raise
    return written


# --- Staged upsert: nothing visible half-way ------------------------------------------------
#
# ``write_batches`` commits each batch into the real table, so a reader sees an import half-way
# and a killed process leaves the batches already written. ``staged_upsert`` writes the batches
# into a TEMP table instead (private to this connection, dropped with it, so a SIGKILL leaves
# nothing), each batch in its own short transaction (SQLite: BEGIN DEFERRED, which locks only the
# connection's temp database), then moves everything into the real table with ONE short
# transaction: ``INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE``, the caller's follow-up
# statements (e.g. many-to-many rows) and ONE audit entry. Either all rows appear, or none.

#: Rows per staging transaction.
STAGE_BATCH = 5_000


@dataclass(frozen=True)
class Upserted:
    """What :func:`staged_upsert` did: rows created and updated in the real table."""

    created: int
    updated: int
    #: Duration of the final transaction (upsert, ``final``, audit entry), seconds.
    final_s: float = 0.0


def sha256_of(data: str | bytes) -> str:
    """SHA-256 (hex) of an imported file's bytes (text is encoded as UTF-8)."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def stage_name(model: type[models.Model]) -> str:
    """Name of the TEMP staging table of ``model`` (one per connection)."""
    return f"rempart_stage_{model._meta.db_table}"


def staged_upsert(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
    keep: Sequence[str] = (),
    merge: dict[str, str] | None = None,
    final: Callable[[Any, str], None] | None = None,
    audit_entry: Callable[[Upserted], None] | None = None,
    after_staging: Callable[[], None] | None = None,
    batch: int = STAGE_BATCH,
) -> Upserted:
    """Upsert ``rows`` (attname → Python value, every concrete non-key-column field) into
    ``model``'s table through a TEMP staging table; all or nothing.

    ``rows`` must already be validated (nothing here checks them). ``key`` names the columns of
    a unique constraint (e.g. ``("city_id", "ident")``): an existing row with the same key is
    updated, others are inserted. ``keep`` columns are written on insert only (``created_at``);
    ``merge`` maps a column to an SQL expression of ``{old}`` (the stored value) and ``{new}``
    (the imported one), e.g. ``"CASE WHEN {new} = '' THEN {old} ELSE {new} END"`` to keep a
    stored value when the import leaves it blank. ``final(cursor, stage)`` runs inside the final
    transaction after the upsert (the staging table is named ``stage``); ``audit_entry(result)``
    too, so the audit entry commits with the rows. ``after_staging`` runs between staging and
    the final transaction (tests use it to look at the database half-way).
    """
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns = [str(f.column) for f in fields]
    adapters = [(f.attname, _adapter(f)) for f in fields]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    stage = quote(stage_name(model))
    cols = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {stage}")
        cursor.execute(f"CREATE TEMP TABLE {stage} AS SELECT {cols} FROM {table} WHERE 1 = 0")
    try:
        insert = f"INSERT INTO {stage} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"
        for start in range(0, len(rows), batch):
            params = [
                tuple(adapt(row[name]) for name, adapt in adapters)
                for row in rows[start : start + batch]
            ]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(insert, params)
        if after_staging is not None:
            after_staging()
        merge = merge or {}
        sets = []
        for column in columns:
            if column in key or column in keep:
                continue
            old, new = f"{table}.{quote(column)}", f"excluded.{quote(column)}"
            expression = merge.get(column, "{new}").format(old=old, new=new)
            sets.append(f"{quote(column)} = {expression}")
        on = " AND ".join(f"s.{quote(c)} = t.{quote(c)}" for c in key)
        final_started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {stage} s JOIN {table} t ON {on}")
            updated = int(cursor.fetchone()[0])
            cursor.execute(
                f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} WHERE 1 = 1 "
                f"ON CONFLICT ({', '.join(quote(c) for c in key)}) DO UPDATE SET {', '.join(sets)}"
            )
            result = Upserted(created=len(rows) - updated, updated=updated)
            if final is not None:
                final(cursor, stage)
            if audit_entry is not None:
                audit_entry(result)
        result = Upserted(result.created, result.updated, time.perf_counter() - final_started)
    finally:
        if connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {stage}")
    return result


def stage_table(name: str, columns_sql: str, rows: Sequence[tuple[Any, ...]]) -> str:
    """Create (again) the TEMP table ``name`` with ``columns_sql`` (e.g. ``"ident varchar(64),
    zone_id integer"``) and fill it with ``rows`` in short transactions of :data:`STAGE_BATCH`
    rows; returns its quoted name. For rows that go with a :func:`staged_upsert` (e.g.
    many-to-many links), read in its ``final``; drop it with :func:`drop_stage`.
    """
    quoted = connection.ops.quote_name(name)
    width = columns_sql.count(",") + 1
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {quoted}")
        cursor.execute(f"CREATE TEMP TABLE {quoted} ({columns_sql})")
    insert = f"INSERT INTO {quoted} VALUES ({', '.join(['%s'] * width)})"
    for start in range(0, len(rows), STAGE_BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert, list(rows[start : start + STAGE_BATCH]))
    return quoted


def drop_stage(name: str) -> None:
    """Drop the TEMP table ``name`` if the connection is still open."""
    if connection.connection is not None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(name)}")
