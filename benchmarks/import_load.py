"""Imports that don't block: import times, and camera read latency while an import runs.

On a fresh database (``--database sqlite``, the default: a temporary file, WAL; or
``--database postgres``: a database ``--pg-name`` created for the run on the server of
``--pg-url`` and dropped at its end), this script creates a city, a
zone with one lane and a camera token, then, each in a child process while this process posts
camera reads (``POST /api/v1/access/requests`` through Django's test client, one after the
other) and times every answer:

1. ``baseline``: the previous import, one ``update_or_create`` per permit and its zones in ONE
   transaction (what ``import_permits_csv`` did before issue 9), on ``--baseline-permits``;
2. ``permits``: ``rempart access import-permits`` on ``--permits`` rows (validation first,
   then staged in a TEMP table, then one final transaction: ``rempart.core.bulk.staged_upsert``);
3. ``sites``: ``import_sites`` on ``--sites`` square sites of a GeoJSON file.

Before them, ``idle``: the same reads with no import. Prints one JSON line per phase (import
wall and CPU time in the child, its final transaction's duration, reads sent, read latency
p50/p95/p99/max in ms, answers other than 200/201)
and the ratios against the baseline (permits per second, read p95).

    .venv/bin/python benchmarks/import_load.py --permits 50000 --sites 10000 --baseline-permits 2000
    .venv/bin/python benchmarks/import_load.py --database postgres \
        --permits 50000 --sites 10000 --baseline-permits 2000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


#: (CPU seconds, final transaction seconds) of each child, in order.
CHILD_TIMES: list[tuple[float, float]] = []


def _child(code: str, env: dict[str, str]) -> float:
    """Run ``code`` in a child Python with Django set up; its wall time, seconds."""
    prelude = (
        "import os, sys, time, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'rempart.settings')\n"
        "django.setup()\n"
        "from rempart.core import bulk, sites_io\n"
        "FINAL = []\n"
        "def _timed(real):\n"
        "    def upsert(*a, **k):\n"
        "        r = real(*a, **k); FINAL.append(r.final_s); return r\n"
        "    return upsert\n"
        "bulk.staged_upsert = _timed(bulk.staged_upsert)\n"
        "sites_io.staged_upsert = _timed(sites_io.staged_upsert)\n"
        "started = time.perf_counter(); cpu = time.process_time()\n"
    )
    epilogue = (
        "\nprint('ELAPSED', time.perf_counter() - started, time.process_time() - cpu, sum(FINAL))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", prelude + code + epilogue],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"child failed: {done.stderr.strip().splitlines()[-1:]}")
    _, wall, cpu, final = done.stdout.strip().splitlines()[-1].split()
    CHILD_TIMES.append((float(cpu), float(final)))
    return float(wall)


def _reads_while(work: Any, token: str, idle_reads: int = 0) -> tuple[Any, list[float], list[int]]:
    """Post camera reads until ``work()`` (run in a thread) returns (or ``idle_reads`` of them)."""
    from django.test import Client
    from django.utils import timezone

    client = Client()
    latencies: list[float] = []
    statuses: list[int] = []
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(work())) if work else None
    if thread:
        thread.start()
    n = 0
    while (thread and thread.is_alive()) or (not thread and n < idle_reads):
        body = {
            "lane": "bench-in",
            "plate": f"ZZ{n % 1000:03d}ZZ",
            "confidence": 0.97,
            "read_at": timezone.now().isoformat(),
        }
        started = time.perf_counter()
        response = client.post(
            "/api/v1/access/requests",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        latencies.append((time.perf_counter() - started) * 1000)
        statuses.append(response.status_code)
        n += 1
        time.sleep(0.02)  # about 40 reads a second: a busy gate, not a load test
    if thread:
        thread.join()
    return (result[0] if result else None), latencies, statuses


def _summary(
    name: str, rows: int, seconds: float | None, lat: list[float], st: list[int]
) -> dict[str, Any]:
    ordered = sorted(lat)
    return {
        "phase": name,
        "rows": rows,
        "import_s": None if seconds is None else round(seconds, 2),
        "rows_per_s": None if not seconds else round(rows / seconds),
        "reads": len(lat),
        "read_p50_ms": round(statistics.median(ordered), 1),
        "read_p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "read_p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 1),
        "import_cpu_s": round(CHILD_TIMES[-1][0], 2) if seconds is not None else None,
        "final_transaction_s": round(CHILD_TIMES[-1][1], 3) if seconds is not None else None,
        "read_max_ms": round(ordered[-1], 1),
        "read_errors": sum(1 for s in st if s not in (200, 201)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--permits", type=int, default=50_000)
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--baseline-permits", type=int, default=2_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--pg-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server (and a database to connect to) where --pg-name is created",
    )
    parser.add_argument("--pg-name", default="rempart_import_bench")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="rempart-import-bench-"))
    os.environ["REMPART_VAR_DIR"] = str(tmp)
    os.environ.pop("REMPART_DATABASE_URL", None)
    if args.database == "postgres":
        os.environ["REMPART_DATABASE_URL"] = _create_pg_database(args.pg_url, args.pg_name)
    try:
        return _run(args, tmp)
    finally:
        if args.database == "postgres":
            _drop_pg_database(args.pg_url, args.pg_name)


def _admin_sql(server_url: str, statement: str) -> None:
    """Run ``statement`` (CREATE/DROP DATABASE) outside a transaction on ``server_url``."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(statement)


def _create_pg_database(server_url: str, name: str) -> str:
    """Create the empty database ``name`` (dropping a leftover one); its URL."""
    from urllib.parse import urlparse, urlunparse

    if not name.replace("_", "").isalnum():
        raise SystemExit(f"--pg-name {name!r}: expected letters, digits and underscores only")
    _admin_sql(server_url, f'DROP DATABASE IF EXISTS "{name}"')
    _admin_sql(server_url, f'CREATE DATABASE "{name}"')
    return urlunparse(urlparse(server_url)._replace(path=f"/{name}"))


def _drop_pg_database(server_url: str, name: str) -> None:
    """Drop the benchmark's database once this process's connections are closed."""
    from django.db import connections

    connections.close_all()
    _admin_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(args: argparse.Namespace, tmp: Path) -> int:
    """Create the data, run the phases, print the figures."""
    os.environ["REMPART_MAX_UPLOAD_MB"] = "100"
    os.environ["REMPART_MAX_FEATURES"] = str(max(args.sites, 20_000))
    os.environ["DJANGO_SETTINGS_MODULE"] = "rempart.settings"
    env = dict(os.environ)
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    call_command("migrate", verbosity=0)
    from rempart.access.models import Barrier, Lane, Zone
    from rempart.core.models import ApiToken, City, Organisation, Profile
    from rempart.core.roles import grant

    city = City.objects.create(name="Bench", slug="bench", country="FR", timezone="Europe/Paris")
    org = Organisation.objects.create(name="Bench", kind="municipality", city=city)
    org.cities.add(city)
    user = get_user_model().objects.create_user("camera-owner", password=None)
    Profile.objects.create(user=user, organisation=org)
    grant(user, "access", "operator")
    zone = Zone.objects.create(city=city, ident="bench-zone", timezone="Europe/Paris")
    lane = Lane.objects.create(zone=zone, ident="bench-in", direction="in", identification=["anpr"])
    Barrier.objects.create(lane=lane, ident="bench-in-b1", driver={"type": "simulator"})
    _, token = ApiToken.issue(user, "bench camera", ["access:request"])

    def permits_csv(path: Path, count: int, prefix: str) -> None:
        lines = ["id,plate,holder,category,zones"]
        lines += [
            f"{prefix}{i},{prefix.upper()}{i:06d},Holder {i},delivery,bench-zone"
            for i in range(count)
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    big = tmp / "permits.csv"
    permits_csv(big, args.permits, "p")
    small = tmp / "baseline.csv"
    permits_csv(small, args.baseline_permits, "b")
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"Site {i}", "kind": "square"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [x, y],
                        [x + 0.001, y],
                        [x + 0.001, y + 0.0008],
                        [x, y + 0.0008],
                        [x, y],
                    ]
                    for x, y in [(2.0 + (i % 100) * 0.002, 48.0 + (i // 100) * 0.002)]
                ],
            },
        }
        for i in range(args.sites)
    ]
    sites_file = tmp / "sites.geojson"
    sites_file.write_text(json.dumps({"type": "FeatureCollection", "features": features}))

    results = []
    _reads_while(None, token, idle_reads=5)  # warm-up: connection, caches
    _, lat, st = _reads_while(None, token, idle_reads=200)
    results.append(_summary("idle", 0, None, lat, st))

    baseline_code = (
        "from django.db import transaction\n"
        "from rempart.access import services\n"
        "from rempart.access.config import _Checker\n"
        "from rempart.access.models import Zone\n"
        "from rempart.core.models import City\n"
        "from rempart.inputs import csv_rows\n"
        "city = City.objects.get(slug='bench'); zones = {z.ident: z for z in Zone.objects.filter(city=city)}\n"
        f"_h, rows = csv_rows(open({str(small)!r}).read(), 'f')\n"
        "checker = _Checker(); ids = {}\n"
        "parsed = [services.check_permit_fields(r, 'row', set(zones), checker, index=i, permit_ids=ids) for i, r in enumerate(rows)]\n"
        "with transaction.atomic():\n"
        "    for p in parsed:\n"
        "        services._save_permit(p, city, [zones[z] for z in sorted(p.zones)], holder_contact='')\n"
    )
    seconds, lat, st = _reads_while(lambda: _child(baseline_code, env), token)
    results.append(_summary("baseline", args.baseline_permits, seconds, lat, st))

    permits_code = (
        "from rempart.access.management.commands.access import Command\n"
        "try:\n"
        f"    Command().run_from_argv(['rempart', 'access', 'import-permits', {str(big)!r}, '--city', 'bench'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
    )
    seconds, lat, st = _reads_while(lambda: _child(permits_code, env), token)
    results.append(_summary("permits", args.permits, seconds, lat, st))

    sites_code = (
        "from rempart.core.models import City\n"
        "from rempart.core.sites_io import import_sites\n"
        f"import_sites(City.objects.get(slug='bench'), open({str(sites_file)!r}, 'rb').read())\n"
    )
    seconds, lat, st = _reads_while(lambda: _child(sites_code, env), token)
    results.append(_summary("sites", args.sites, seconds, lat, st))

    for row in results:
        print(json.dumps(row))
    base, new = results[1], results[2]
    print(
        json.dumps(
            {
                "permits_per_s_vs_baseline": round(new["rows_per_s"] / base["rows_per_s"], 1),
                "read_p95_during_import_vs_baseline": round(
                    new["read_p95_ms"] / base["read_p95_ms"], 2
                ),
                "database": args.database,
                "load_average": os.getloadavg(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
