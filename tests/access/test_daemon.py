"""The daemon as a real process: killed with SIGKILL mid-traffic and started again.

Three processes on one SQLite file (WAL): ``rempart access simulate`` (Modbus controllers on
loopback plus camera reads through the service layer, and vehicles that drive when their
barrier is down), ``rempart access run`` (killed with SIGKILL while passages are in progress,
then started again), and this test, which reads the database file directly.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

pytestmark = pytest.mark.slow

RUN = [sys.executable, "-m", "rempart.cli"]

ZONE = """
zones:
  - id: kill-zone
    timezone: Europe/Paris
    lanes:
      - id: kill-a
        direction: in
        identification: [anpr]
        barriers:
          - {{id: kill-a-1, kind: retractable_bollard, fail_mode: secure, rise_time_s: 0.5, lower_time_s: 0.4,
             driver: {{type: modbus, host: 127.0.0.1, port: {port}, unit: 1, timeout_s: 0.5}}}}
      - id: kill-b
        direction: in
        identification: [anpr]
        barriers:
          - {{id: kill-b-1, kind: retractable_bollard, fail_mode: secure, rise_time_s: 0.5, lower_time_s: 0.4,
             driver: {{type: modbus, host: 127.0.0.1, port: {port}, unit: 2, timeout_s: 0.5}}}}
permits:
  - {{id: k1, plate: AB-123-CD, holder: One, category: delivery, zones: [kill-zone]}}
  - {{id: k2, plate: EF-456-GH, holder: Two, category: resident, zones: [kill-zone]}}
  - {{id: k3, plate: IJ-789-KL, holder: Three, category: emergency, zones: [kill-zone]}}
"""
READS = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db, timeout=20) as conn:
        return list(conn.execute(sql))


def wait(predicate: Any, what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def test_daemon_killed_mid_traffic_resumes_from_the_database(tmp_path: Path) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("runs on a SQLite file of its own; nothing database-specific to check twice")
    db = tmp_path / "access.sqlite3"
    env = {
        **os.environ,
        "REMPART_DATABASE_URL": f"sqlite:///{db}",
        "REMPART_VAR_DIR": str(tmp_path),
        "REMPART_SECRET_KEY": "k" * 40,
        "REMPART_LOG_LEVEL": "WARNING",
    }
    subprocess.run([*RUN, "migrate", "-v0"], env=env, check=True, timeout=120)
    query(db, "PRAGMA journal_mode=WAL")
    query(
        db,
        "INSERT INTO core_city (name, slug, country, timezone, is_demo) "
        "VALUES ('Nice', 'nice', 'FR', 'Europe/Paris', 0)",
    )
    port = free_port()
    (tmp_path / "zone.yaml").write_text(ZONE.format(port=port))
    subprocess.run(
        [*RUN, "access", "load", str(tmp_path / "zone.yaml"), "--city", "nice"],
        env=env,
        check=True,
        timeout=60,
    )
    log = tmp_path / "reads.log"
    out = open(tmp_path / "processes.log", "w")  # noqa: SIM115  (closed in finally)
    simulate = subprocess.Popen(
        [*RUN, "access", "simulate", "--devices", "2", "--port", str(port),
         "--rise-time", "0.5", "--lower-time", "0.4", "--traffic-rate", "120",
         "--count", str(READS), "--log", str(log), "--pass-time", "0.6", "--seed", "7"],
        env=env, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    daemon_cmd = [*RUN, "access", "run", "--poll", "0.1", "--open-timeout", "6"]
    daemon = subprocess.Popen(daemon_cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    restarted = None
    try:
        # mid-traffic: some passages under way (lowered, open or with a vehicle on the loop)
        wait(
            lambda: len(query(db, "SELECT id FROM access_passage WHERE state IN "
                              "('lowering', 'open', 'vehicle_passing', 'closing')")) > 0
            and len(query(db, "SELECT id FROM access_passage")) >= 2,
            "passages in progress",
            60,
        )  # fmt: skip
        in_progress = query(
            db, "SELECT id, state FROM access_passage WHERE state NOT IN ('closed', 'failed')"
        )
        os.kill(daemon.pid, signal.SIGKILL)
        daemon.wait(10)
        time.sleep(1.0)  # traffic goes on without the daemon
        restarted = subprocess.Popen(daemon_cmd, env=env, stdout=out, stderr=subprocess.STDOUT)

        def settled() -> bool:
            if not log.exists() or len(log.read_text().splitlines()) < READS:
                return False
            unfinished = query(
                db, "SELECT count(*) FROM access_passage WHERE state NOT IN ('closed', 'failed')"
            )[0][0]
            down = query(db, "SELECT count(*) FROM access_barrierstatus WHERE position != 'up'")[0][
                0
            ]
            return unfinished == 0 and down == 0

        wait(settled, "traffic over, every passage finished and every barrier up", 90)
        # no stored decision lost: every answer the cameras got is in the database
        answered = [line.split()[0] for line in log.read_text().splitlines()]
        stored = {
            row[0].replace("-", "")
            for row in query(db, "SELECT request_id FROM access_accessdecision")
        }
        assert len(answered) == READS and set(answered) <= stored
        # every grant had its passage, and the ones caught by the kill were carried to the end
        grants = query(db, "SELECT count(*) FROM access_accessdecision WHERE outcome = 'grant'")[0][
            0
        ]
        states = dict(query(db, "SELECT state, count(*) FROM access_passage GROUP BY state"))
        assert sum(states.values()) == grants and grants >= 2
        assert states.get("failed", 0) == 0, states
        ids = ",".join(str(pk) for pk, _ in in_progress)
        assert query(db, f"SELECT DISTINCT state FROM access_passage WHERE id IN ({ids})") == [
            ("closed",)
        ]
        # each command went out with its own sequence id per barrier, none reused after restart
        seqs = query(db, "SELECT barrier_id, seq, count(*) FROM access_devicecommand "
                         "WHERE outcome != 'superseded' GROUP BY barrier_id, seq HAVING count(*) > 1")  # fmt: skip
        assert seqs == []
    finally:
        for process in (simulate, daemon, restarted):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
        out.close()


@pytest.mark.django_db(transaction=True)
def test_demo_zone_with_simulated_traffic_moves_the_lanes(city: Any) -> None:
    """What `make run` shows: the demo zone, the daemon with simulated traffic, lanes moving."""
    import asyncio
    import io

    from rempart.access import demo
    from rempart.access.daemon import Daemon, DaemonOptions
    from rempart.access.models import AccessDecision, Barrier, Lane, Passage, Permit, Zone

    demo.load(city, io.StringIO())
    out = io.StringIO()
    demo.load(city, out)  # idempotent
    assert "already present" in out.getvalue()
    assert (Zone.objects.count(), Lane.objects.count(), Permit.objects.count()) == (1, 4, 6)
    assert Zone.objects.get().schedules.get().mode == "lockdown"
    Barrier.objects.update(rise_time_s=0.5, lower_time_s=0.4)  # a quick demo

    async def scenario() -> None:
        daemon = Daemon(
            DaemonOptions(poll_s=0.1, simulated_traffic_per_min=240, simulated_traffic_seed=3)
        )
        task = asyncio.create_task(daemon.run())
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                closed = await daemon.db(
                    lambda: Passage.objects.filter(state="closed", vehicle_cleared=True).count()
                )
                if closed >= 2:
                    break
                await asyncio.sleep(0.2)
            assert closed >= 2, "no simulated vehicle went through"
            assert (
                await daemon.db(lambda: AccessDecision.objects.filter(source="simulated").count())
                >= 3
            )
        finally:
            daemon.stop()
            await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
