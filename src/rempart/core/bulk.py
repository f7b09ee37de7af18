"""Bulk writes of imports: staged in a TEMP table, then one short final transaction.

SQLite (the default database) lets one connection write at a time: an import that writes
50,000 rows in one transaction keeps every camera read waiting until it commits (issue 9: 503
"database is locked" after 20 s). Imports therefore validate everything first, outside any
transaction, then call :func:`staged_upsert`, which writes the rows into a TEMP table (private
to this connection, dropped with it, so a SIGKILL leaves nothing) in short transactions of
:data:`STAGE_BATCH` rows (SQLite: BEGIN DEFERRED, which locks only the connection's temp
database), then moves everything into the real table with ONE short transaction:
``INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE``, the caller's follow-up statements (e.g.
many-to-many rows, staged with :func:`stage_table`) and ONE audit entry. Either all rows
appear, or none; nobody sees an import half-way. Figures: docs/performance.md, "Imports
through a staging table". Works on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction


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
        _insert_batches(
            f"INSERT INTO {stage} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})",
            rows,
            lambda row: tuple(adapt(row[name]) for name, adapt in adapters),
            batch,
        )
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
        drop_stage(stage_name(model))
    return result


def _insert_batches(
    insert: str, rows: Sequence[Any], params: Callable[[Any], tuple[Any, ...]], batch: int
) -> None:
    """Run ``insert`` for every row (its parameters from ``params``), one short transaction per
    ``batch`` rows."""
    for start in range(0, len(rows), batch):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert, [params(row) for row in rows[start : start + batch]])


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
    _insert_batches(insert, rows, tuple, STAGE_BATCH)
    return quoted


def drop_stage(name: str) -> None:
    """Drop the TEMP table ``name`` if the connection is still open."""
    if connection.connection is not None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(name)}")
