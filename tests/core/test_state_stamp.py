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
