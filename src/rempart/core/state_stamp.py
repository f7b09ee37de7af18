"""State stamps: a one-row table whose value database triggers change on every write to the
tables a process keeps something of, so that the process can keep it exactly as long as the
value is unchanged, whoever writes (the ORM, the admin, raw SQL, another process).

The value is random (not a counter): it cannot repeat after a rolled-back change. PostgreSQL
fires one trigger per statement; SQLite has only row triggers (one per event and row). The
tables have no model, so Django's test flush leaves them. Used by migrations (access 0003,
0005, 0008, 0011, 0012, practices 0004): what they create must stay what this module writes.
"""

from __future__ import annotations

from typing import Any

#: (table watched, columns whose UPDATE counts, or None for every column)
Watched = list[tuple[str, list[str] | None]]


def create(
    schema_editor: Any,
    *,
    table: str,
    function: str,
    suffix: str,
    watched: Watched,
) -> None:
    """Create the stamp ``table`` (one row, value ``initial``) and the triggers that change it:
    on PostgreSQL ``function`` and one trigger ``<watched>_<suffix>`` per watched table (TRUNCATE:
    :func:`watch_truncate`); on SQLite ``<watched>_<suffix>_<event>`` per event."""
    execute = schema_editor.execute
    quote = schema_editor.quote_name
    execute(f"CREATE TABLE {table} (id integer PRIMARY KEY, stamp varchar(64) NOT NULL)")
    execute(f"INSERT INTO {table} (id, stamp) VALUES (1, 'initial')")
    if schema_editor.connection.vendor == "postgresql":
        execute(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$ "
            f"BEGIN UPDATE {table} SET stamp = gen_random_uuid()::text WHERE id = 1; "
            "RETURN NULL; END; $$ LANGUAGE plpgsql"
        )
        for watched_table, columns in watched:
            update = f"UPDATE OF {', '.join(quote(c) for c in columns)}" if columns else "UPDATE"
            execute(
                f"CREATE TRIGGER {watched_table}_{suffix} AFTER INSERT OR {update} OR DELETE "
                f"ON {quote(watched_table)} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
        return
    for watched_table, columns in watched:
        _sqlite_triggers(
            schema_editor, table=table, suffix=suffix, watched=(watched_table, columns)
        )


def _sqlite_triggers(
    schema_editor: Any, *, table: str, suffix: str, watched: tuple[str, list[str] | None]
) -> None:
    """SQLite: the three row triggers ``<watched>_<suffix>_<event>`` that change the stamp."""
    quote = schema_editor.quote_name
    watched_table, columns = watched
    bump = f"UPDATE {table} SET stamp = lower(hex(randomblob(16))) WHERE id = 1;"
    update = f"UPDATE OF {', '.join(quote(c) for c in columns)}" if columns else "UPDATE"
    for event, name in (("INSERT", "insert"), (update, "update"), ("DELETE", "delete")):
        schema_editor.execute(
            f"CREATE TRIGGER {watched_table}_{suffix}_{name} AFTER {event} "
            f"ON {quote(watched_table)} BEGIN {bump} END"
        )


def restore_sqlite_triggers(
    schema_editor: Any,
    *,
    table: str,
    suffix: str,
    watched: tuple[str, list[str] | None],
) -> None:
    """SQLite: create again the triggers of one watched table, which a migration adding a column
    drops (SQLite rebuilds the table); nothing on PostgreSQL, whose ALTER TABLE keeps them.
    Used by access 0008, 0011 and 0012."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for name in ("insert", "update", "delete"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {watched[0]}_{suffix}_{name}")
    _sqlite_triggers(schema_editor, table=table, suffix=suffix, watched=watched)


def drop(schema_editor: Any, *, table: str, function: str, suffix: str, watched: Watched) -> None:
    """Undo :func:`create`."""
    execute = schema_editor.execute
    postgres = schema_editor.connection.vendor == "postgresql"
    for watched_table, _columns in watched:
        if postgres:
            quoted = schema_editor.quote_name(watched_table)
            execute(f"DROP TRIGGER IF EXISTS {watched_table}_{suffix} ON {quoted}")
        else:
            for name in ("insert", "update", "delete"):
                execute(f"DROP TRIGGER IF EXISTS {watched_table}_{suffix}_{name}")
    if postgres:
        execute(f"DROP FUNCTION IF EXISTS {function}()")
    execute(f"DROP TABLE {table}")


def watch_truncate(schema_editor: Any, *, function: str, suffix: str, watched: Watched) -> None:
    """PostgreSQL: also change the stamp on TRUNCATE of the watched tables (a statement that
    fires no DELETE trigger); a trigger ``<watched>_<suffix>_truncate`` each. Nothing on SQLite,
    which has no TRUNCATE."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for watched_table, _columns in watched:
        schema_editor.execute(
            f"CREATE TRIGGER {watched_table}_{suffix}_truncate AFTER TRUNCATE "
            f"ON {schema_editor.quote_name(watched_table)} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {function}()"
        )


def unwatch_truncate(schema_editor: Any, *, suffix: str, watched: Watched) -> None:
    """Undo :func:`watch_truncate`."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for watched_table, _columns in watched:
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {watched_table}_{suffix}_truncate "
            f"ON {schema_editor.quote_name(watched_table)}"
        )
