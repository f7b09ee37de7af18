"""State stamps (rempart.core.state_stamp): emptying a watched table with TRUNCATE, which fires
no DELETE trigger, changes the stamp too (PostgreSQL; SQLite has no TRUNCATE)."""

from __future__ import annotations

import pytest
from django.db import connection

from rempart.access.camera import STAMP_SQL
from rempart.practices.search import INDEX_STAMP_SQL

pytestmark = pytest.mark.django_db


def stamp(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return str(cursor.fetchone()[0])


@pytest.mark.parametrize(
    ("stamp_sql", "table"),
    [
        (STAMP_SQL, "access_zoneschedule"),
        (STAMP_SQL, "core_apitoken"),
        (INDEX_STAMP_SQL, "practices_searchdocument"),
    ],
)
def test_truncate_changes_the_stamp(stamp_sql: str, table: str) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; on SQLite a DELETE fires the row triggers")
    before = stamp(stamp_sql)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} CASCADE")
    assert stamp(stamp_sql) != before


#: Every table a stamp watches (access 0003, practices 0004) and the stamp's trigger suffix.
WATCHED = [
    ("core_apitoken", "state_stamp"),
    ("auth_user", "state_stamp"),
    ("auth_user_groups", "state_stamp"),
    ("auth_group", "state_stamp"),
    ("core_profile", "state_stamp"),
    ("core_organisation_cities", "state_stamp"),
    ("access_zone", "state_stamp"),
    ("access_lane", "state_stamp"),
    ("access_zoneschedule", "state_stamp"),
    ("practices_searchdocument", "index_stamp"),
]


@pytest.mark.parametrize(("table", "suffix"), WATCHED)
def test_every_watched_table_keeps_its_triggers_after_all_migrations(
    table: str, suffix: str
) -> None:
    """On SQLite, a migration that adds a column rebuilds the table and drops its triggers; each
    such migration must create them again (access 0008, 0011), or a change to that table never
    reaches the camera path's (or the search index's) cache."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
            )
            expected = {f"{table}_{suffix}_{event}" for event in ("insert", "update", "delete")}
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [table],
            )
            expected = {f"{table}_{suffix}"}
        names = {row[0] for row in cursor.fetchall()}
    assert expected <= names, f"{table}: triggers {sorted(expected - names)} missing"
