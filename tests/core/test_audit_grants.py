"""The GRANT/REVOKE statements of docs/operations.md, run for real on PostgreSQL: the
application's role can write the trail but not alter, delete, empty it or move its head back."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from rempart.core import audit
from rempart.core.audit_models import AuditEntry, AuditHead
from rempart.core.models import Site
from tests.conftest import SQUARE

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL roles and grants"),
]

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def documented_grants() -> str:
    """The second SQL block after the audit-grants marker in docs/operations.md."""
    text = OPERATIONS.read_text()
    after = text[text.index("<!-- audit-grants") :]
    blocks = re.findall(r"```sql\n(.*?)```", after, flags=re.DOTALL)
    return blocks[1]


@pytest.fixture
def app_role(city: Any) -> Iterator[str]:
    """A role of this test only (roles are server-wide), granted exactly as documented; the
    test's transaction, rolled back at its end, takes the role away again."""
    role = f"rempart_app_test_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(documented_grants().replace("rempart_app", role))
        cursor.execute(f"SET ROLE {role}")
    try:
        yield role
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def _refused(sql: str) -> str:
    with pytest.raises(DatabaseError) as info, transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql)
    return str(info.value)


def test_the_application_role_works_and_writes_the_trail(app_role: str, city: Any) -> None:
    with audit.acting_as(audit.Actor("app")):
        site = Site.objects.create(city=city, name="Cours Saleya", boundary=SQUARE)
        site.peak_crowd = 5000
        site.save()
        entry = audit.record("export", obj=site)
    assert AuditHead.objects.get().last_seq == entry.seq
    assert AuditEntry.objects.filter(object_type="core.site", object_id=str(site.pk)).count() == 3


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE core_auditentry SET actor = 'mallory'",
        "DELETE FROM core_auditentry",
        "TRUNCATE core_auditentry",
        "DELETE FROM core_audithead",
        "TRUNCATE core_audithead",
        "ALTER TABLE core_auditentry DISABLE TRIGGER USER",
        "DROP TRIGGER core_auditentry_append_only ON core_auditentry",
    ],
)
def test_the_application_role_cannot_alter_the_trail(app_role: str, statement: str) -> None:
    with audit.acting_as(audit.Actor("app")):
        audit.record("export", object_type="core.site")
    message = _refused(statement)
    assert "permission denied" in message or "must be owner" in message


def test_the_application_role_cannot_move_the_head_back(app_role: str) -> None:
    with audit.acting_as(audit.Actor("app")):
        audit.record("export", object_type="core.site")
        audit.record("export", object_type="core.site")
    message = _refused("UPDATE core_audithead SET last_seq = last_seq - 1")
    assert "only moves forward" in message
