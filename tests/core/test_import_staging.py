"""Imports that don't block (issue 9): :func:`rempart.core.bulk.staged_upsert` validates first,
stages in a TEMP table, and shows all the rows or none of them."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from django.db import close_old_connections, connection

from rempart.access import services
from rempart.access.models import Permit
from rempart.core import bulk
from rempart.core.models import AuditEntry, City, Site
from rempart.core.sites_io import import_sites, parse_feature_collection
from tests.access.test_models_fixtures import make_zone
from tests.access.test_permit_import import permits_csv, sites_geojson

T = TypeVar("T")


@pytest.mark.django_db
def test_a_bad_row_at_line_40001_of_50000_refuses_with_its_line_and_writes_nothing(
    city: Any,
) -> None:
    make_zone(city)
    lines = permits_csv(50_000).splitlines()
    assert len(lines) == 50_001  # the header and 50,000 permits
    lines[40_000] = lines[40_000].replace(",delivery,", ",spaceship,")  # file line 40,001
    audits = AuditEntry.objects.count()
    result = services.import_permits_csv(("\n".join(lines) + "\n").encode(), city)
    assert len(result.errors) == 1
    assert result.errors[0].startswith("row 40001")
    assert "spaceship" in result.errors[0]
    assert not Permit.objects.exists()
    assert AuditEntry.objects.count() == audits


def on_another_connection(work: Callable[[], T]) -> T:
    """``work()`` run on another database connection (another thread), which is closed after;
    its result returned, its exception raised here."""
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(work())
        except BaseException as err:  # noqa: BLE001 - handed to the calling thread
            errors.append(err)
        finally:
            close_old_connections()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


def _count_elsewhere(model: Any, city: City) -> int:
    """Rows of ``model`` in ``city`` as another connection (another thread) sees them."""
    return on_another_connection(lambda: model.objects.filter(city=city).count())


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_reader_sees_none_of_the_rows_while_they_are_staged(
    city: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_zone(city)
    services.import_permits_csv(permits_csv(10).encode(), city)  # p0..p9 exist
    half_way: list[tuple[int, int, str]] = []
    real = bulk.staged_upsert

    def watched(model: Any, rows: Any, **kwargs: Any) -> Any:
        def look() -> None:
            with connection.cursor() as cursor:  # the importer's own connection: all staged
                cursor.execute(f"SELECT COUNT(*) FROM {bulk.stage_name(model)}")
                staged = cursor.fetchone()[0]
            renamed = Permit.objects.filter(holder__startswith="Autre").count()
            half_way.append((staged, _count_elsewhere(model, city), str(renamed)))

        return real(model, rows, after_staging=look, **kwargs)

    monkeypatch.setattr(bulk, "staged_upsert", watched)
    result = services.import_permits_csv(permits_csv(12_000, holder="Autre").encode(), city)
    assert (result.errors, result.created, result.updated) == ([], 11_990, 10)
    # staged: 12,000 rows; seen by another connection: the 10 permits from before, unchanged
    assert half_way == [(12_000, 10, "0")]
    assert Permit.objects.filter(city=city).count() == 12_000
    assert Permit.objects.filter(holder__startswith="Autre").count() == 12_000


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_the_final_transaction_leaves_the_sites_unchanged(
    city: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_sites(city, sites_geojson(20))
    before = sorted(Site.objects.values_list("name", "typical_crowd", "updated_at"))
    audits = AuditEntry.objects.count()
    bigger = sites_geojson(60)
    for feature in bigger["features"]:
        feature["properties"]["typical_crowd"] = 999

    def fails(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    from rempart.core import audit

    monkeypatch.setattr(audit, "record", fails)
    with pytest.raises(RuntimeError, match="disk full"):
        import_sites(city, bigger)
    assert sorted(Site.objects.values_list("name", "typical_crowd", "updated_at")) == before
    assert AuditEntry.objects.count() == audits


@pytest.mark.django_db
def test_the_staged_sites_equal_a_plain_row_by_row_import(city: Any) -> None:
    raw = sites_geojson(30)
    raw["features"][3]["properties"]["description"] = "Marché du cours Saleya"
    raw["features"][4]["properties"]["kind"] = "market"
    staged = import_sites(city, json.dumps(raw).encode(), what="sites.geojson")
    other = City.objects.create(name="Nice bis", slug="nice-bis", country="FR")
    plain = [
        Site.objects.create(
            city=other,
            name=item.name,
            kind=item.kind,
            description=item.description,
            boundary=item.boundary,
            typical_crowd=item.typical_crowd,
            peak_crowd=item.peak_crowd,
        )
        for item in parse_feature_collection(raw, city=city)
    ]
    skip = {"id", "city", "created_at", "updated_at"}
    names = [f.attname for f in Site._meta.concrete_fields if f.name not in skip]

    def values(sites: list[Site]) -> list[dict[str, Any]]:
        return [{n: getattr(Site.objects.get(pk=s.pk), n) for n in names} for s in sites]

    assert len(staged) == 30
    assert values(staged) == values(plain)
    entry = AuditEntry.objects.filter(object_type="core.site", action="import").latest("pk")
    assert entry.detail["file"] == "sites.geojson"
    assert entry.detail["sha256"] == bulk.sha256_of(json.dumps(raw).encode())
    assert (entry.detail["created"], entry.detail["updated"]) == (30, 0)


@pytest.mark.django_db
def test_a_staged_permit_has_every_field_of_its_csv_row(city: Any) -> None:
    make_zone(city)
    make_zone(city, "port")
    text = (
        "id,plate,holder,holder_contact,category,max_mass_kg,zones,windows,valid_from,"
        "valid_to,exception_dates\n"
        "p1,AB-123-CD,Boulangerie,+33 4 93 00 00 00,delivery,3500,port old-town,"
        "mon-sat 05:00-10:30,2026-01-01,2026-12-31,2026-07-14 2026-05-01\n"
    )
    result = services.import_permits_csv(text.encode(), city, what="permits.csv")
    assert (result.errors, result.created, result.updated) == ([], 1, 0)
    permit = Permit.objects.get(city=city, ident="p1")
    assert permit.plate == "AB123CD"
    assert (permit.holder, permit.holder_contact) == ("Boulangerie", "+33 4 93 00 00 00")
    assert (permit.category, permit.max_mass_kg, permit.status) == ("delivery", 3500, "active")
    assert sorted(permit.zones.values_list("ident", flat=True)) == ["old-town", "port"]
    assert permit.windows == [
        {"days": ["mon", "tue", "wed", "thu", "fri", "sat"], "from": "05:00", "to": "10:30"}
    ]
    assert (str(permit.valid_from), str(permit.valid_to)) == ("2026-01-01", "2026-12-31")
    assert permit.exception_dates == ["2026-05-01", "2026-07-14"]
    assert (permit.pin_hash, permit.is_demo) == ("", False)
    entry = AuditEntry.objects.filter(object_type="access.permit", action="import").latest("pk")
    assert entry.detail["file"] == "permits.csv"
    assert entry.detail["sha256"] == bulk.sha256_of(text.encode())


_KILLED_CHILD = """
import json, os, sys, time, django
os.environ["DJANGO_SETTINGS_MODULE"] = "rempart.settings"
django.setup()
from django.core.management import call_command
from django.db import connection
if sys.argv[2] == "migrate":
    call_command("migrate", verbosity=0)
from rempart.core import sites_io
from rempart.core.models import City
city = City.objects.create(name="Nice", slug="nice", country="FR", timezone="Europe/Paris")
first, second = json.loads(open(sys.argv[1]).read())
sites_io.import_sites(city, first)
real = sites_io.staged_upsert
def stop_half_way(*args, **kwargs):
    def wait():
        backend = 0
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend = cursor.fetchone()[0]
        print("STAGED", backend, flush=True)
        time.sleep(120)
    return real(*args, after_staging=wait, **kwargs)
sites_io.staged_upsert = stop_half_way
sites_io.import_sites(city, second)
"""


def _import_then_kill(
    tmp_path: Any, env: dict[str, str], *, migrate: bool, look_half_way: Any = None
) -> int:
    """Run :data:`_KILLED_CHILD` with ``env``: it imports 20 sites, then stages 5,000 (every one
    with a crowd of 999) and is killed with SIGKILL once they are staged. Returns what the child
    printed when staged (its PostgreSQL backend's pid, 0 on SQLite); ``look_half_way(pid)``, if
    given, runs while the child waits, staged."""
    import signal
    import subprocess
    import sys

    second = sites_geojson(5_000)
    for feature in second["features"]:
        feature["properties"]["typical_crowd"] = 999
    files = tmp_path / "sites.json"
    files.write_text(json.dumps([sites_geojson(20), second]))
    env = {**env, "REMPART_VAR_DIR": str(tmp_path), "REMPART_MAX_FEATURES": "20000"}
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_CHILD, str(files), "migrate" if migrate else "-"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().split()
        assert line[:1] == ["STAGED"], child.stderr.read() if child.stderr else ""
        backend = int(line[1])
        if look_half_way is not None:
            look_half_way(backend)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return backend


def test_a_process_killed_mid_import_leaves_the_sites_unchanged(tmp_path: Any) -> None:
    """SQLite (the default database, a file here): a child imports 20 sites, then starts
    importing 5,000 and is killed with SIGKILL once they are staged; the file holds the 20."""
    import sqlite3

    env = {k: v for k, v in os.environ.items() if k != "REMPART_DATABASE_URL"}
    _import_then_kill(tmp_path, env, migrate=True)
    database = sqlite3.connect(tmp_path / "rempart.sqlite3")
    try:
        rows = database.execute("SELECT COUNT(*), MAX(typical_crowd) FROM core_site").fetchone()
        imports = database.execute(
            "SELECT COUNT(*) FROM core_auditentry WHERE action = 'import'"
        ).fetchone()
    finally:
        database.close()
    assert rows[0] == 20
    assert rows[1] != 999
    assert imports == (1,)


def _pg_count(sql: str, *params: Any) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_process_killed_mid_import_leaves_the_sites_unchanged_on_postgresql(
    tmp_path: Any,
) -> None:
    """PostgreSQL: the child imports into this test's own database (same server, same name);
    killed with SIGKILL once the 5,000 sites are staged, its session ends: the TEMP staging
    table goes with it, and every session sees the 20 sites of the first import only."""
    import time

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: this pass runs on SQLite (REMPART_DATABASE_URL unset)")
    db = connection.settings_dict
    user = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    url = f"postgres://{user}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    stage = bulk.stage_name(Site)
    temp_tables = "SELECT COUNT(*) FROM pg_class WHERE relname = %s AND relpersistence = 't'"
    half_way: list[tuple[int, int, int]] = []

    def look(backend: int) -> None:
        half_way.append(
            (
                _pg_count(temp_tables, stage),
                Site.objects.count(),
                _pg_count("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = %s", backend),
            )
        )

    env = {**os.environ, "REMPART_DATABASE_URL": url}
    backend = _import_then_kill(tmp_path, env, migrate=False, look_half_way=look)
    # half-way: the child's TEMP table exists, its session is live, other sessions see 20 sites
    assert half_way == [(1, 20, 1)]
    deadline = time.monotonic() + 20
    while _pg_count("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = %s", backend):
        assert time.monotonic() < deadline, f"backend {backend} still alive 20 s after SIGKILL"
        time.sleep(0.1)
    assert _pg_count(temp_tables, stage) == 0
    assert Site.objects.count() == 20
    assert not Site.objects.filter(typical_crowd=999).exists()
    assert AuditEntry.objects.filter(action="import").count() == 1
