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

from rempart.access.drivers.base import Position

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


def end(processes: list[subprocess.Popen[bytes] | None]) -> None:
    """Stop the processes this test started (SIGTERM, then SIGKILL after 10 s)."""
    for process in processes:
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def installation(tmp_path: Path, zone_file: str) -> tuple[Path, dict[str, str], int]:
    """A fresh SQLite installation (WAL) with the city of Nice and ``zone_file`` loaded, its
    Modbus port a free one: the database file, the processes' environment and the port."""
    db = tmp_path / "access.sqlite3"
    env = {
        **os.environ,
        "REMPART_DATABASE_URL": f"sqlite:///{db}",
        "REMPART_VAR_DIR": str(tmp_path),
        "REMPART_SECRET_KEY": "k" * 40,
        "REMPART_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "rempart.settings",
    }
    subprocess.run([*RUN, "migrate", "-v0"], env=env, check=True, timeout=120)
    query(db, "PRAGMA journal_mode=WAL")
    query(
        db,
        "INSERT INTO core_city (name, slug, country, timezone, is_demo) "
        "VALUES ('Nice', 'nice', 'FR', 'Europe/Paris', 0)",
    )
    port = free_port()
    (tmp_path / "zone.yaml").write_text(zone_file.format(port=port))
    subprocess.run(
        [*RUN, "access", "load", str(tmp_path / "zone.yaml"), "--city", "nice"],
        env=env,
        check=True,
        timeout=60,
    )
    return db, env, port


def test_daemon_killed_mid_traffic_resumes_from_the_database(tmp_path: Path) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("runs on a SQLite file of its own; nothing database-specific to check twice")
    db, env, port = installation(tmp_path, ZONE)
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
        # every grant had its passage (its own, or for a plate read again at the lane, the
        # one its first read made), and the ones caught by the kill were carried to the end
        grants = query(db, "SELECT count(*) FROM access_accessdecision WHERE outcome = 'grant'")[0][
            0
        ]
        without = query(db, "SELECT count(*) FROM access_accessdecision d WHERE outcome = 'grant' "
            "AND NOT EXISTS (SELECT 1 FROM access_passage p JOIN access_accessdecision f "
            "ON f.id = p.decision_id WHERE p.lane_id = d.lane_id AND (f.id = d.id OR "
            "(f.plate = d.plate AND f.plate != '' AND f.received_at <= d.received_at)))")  # fmt: skip
        assert without == [(0,)]
        states = dict(query(db, "SELECT state, count(*) FROM access_passage GROUP BY state"))
        assert 2 <= sum(states.values()) <= grants
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
        end([simulate, daemon, restarted])
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


GRANT_ZONE = """
zones:
  - id: stale-zone
    timezone: Europe/Paris
    lanes:
      - id: stale-in
        direction: in
        identification: [anpr]
        barriers:
          - {{id: stale-1, kind: retractable_bollard, fail_mode: secure, rise_time_s: 0.5, lower_time_s: 0.4,
             driver: {{type: modbus, host: 127.0.0.1, port: {port}, unit: 1, timeout_s: 0.5}}}}
permits:
  - {{id: s1, plate: AB-123-CD, holder: One, category: delivery, zones: [stale-zone]}}
"""

#: Three reads of one plate within 2 s, through the service layer (as the camera API).
THREE_READS = """
import time
import django
django.setup()
from rempart.access import services
for _ in range(3):
    print(services.submit_request("stale-in", plate="AB-123-CD", confidence=0.97).answer()["decision"])
    time.sleep(0.6)
"""


def controller(port: int) -> tuple[int, int, int]:
    """(position code, last sequence id, last outcome code) read over Modbus TCP."""
    from pymodbus.client import ModbusTcpClient

    from rempart.access.drivers import registers as reg

    client = ModbusTcpClient("127.0.0.1", port=port, timeout=1, retries=0)
    try:
        assert client.connect(), "the simulated controller does not answer"
        values = client.read_holding_registers(reg.STATUS_START, count=10, device_id=1).registers
    finally:
        client.close()
    at = {address: values[address - reg.STATUS_START] for address in range(10, 20)}
    return at[reg.POSITION], at[reg.LAST_SEQ], at[reg.LAST_OUTCOME]


def test_daemon_killed_and_restarted_after_the_grant_limit_moves_no_barrier(
    tmp_path: Path,
) -> None:
    """Issue 9, item 2: reads while the daemon is dead; restarted after the limit, nothing
    moves; restarted within it, the three reads make one barrier cycle."""
    from rempart.access.drivers import registers as reg

    if connection.vendor != "sqlite":
        pytest.skip("runs on a SQLite file of its own; nothing database-specific to check twice")
    db, env, port = installation(tmp_path, GRANT_ZONE)
    out = open(tmp_path / "processes.log", "w")  # noqa: SIM115  (closed in finally)
    simulate = subprocess.Popen(
        [*RUN, "access", "simulate", "--devices", "1", "--port", str(port),
         "--rise-time", "0.5", "--lower-time", "0.4"],
        env=env, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    daemon_cmd = [*RUN, "access", "run", "--poll", "0.1", "--open-timeout", "1"]
    processes: list[subprocess.Popen[bytes] | None] = [simulate]

    def start_daemon() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(daemon_cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    def kill(process: subprocess.Popen[bytes]) -> None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)

    def three_reads(limit_s: float) -> float:
        """Submit them with the grant limit ``limit_s``; the instant of the last read."""
        result = subprocess.run(
            [sys.executable, "-c", THREE_READS],
            env={**env, "REMPART_ACCESS_GRANT_MAX_AGE_S": str(limit_s)},
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        assert result.stdout.split() == ["grant"] * 3, result.stderr
        return time.monotonic()

    try:
        daemon = start_daemon()
        wait(
            lambda: query(db, "SELECT position, link_ok FROM access_barrierstatus") == [("up", 1)],
            "the daemon sees the barrier up",
            60,
        )
        kill(daemon)
        # 1. reads while the daemon is dead; started again after their 2 s limit
        last_read = three_reads(2.0)
        assert query(db, "SELECT count(*), min(state) FROM access_passage") == [(1, "granted")]
        time.sleep(max(0.0, last_read + 2.5 - time.monotonic()))
        daemon = start_daemon()
        wait(
            lambda: query(db, "SELECT state FROM access_passage") == [("expired",)],
            "the stale passage closed as expired",
            60,
        )
        deadline = time.monotonic() + 2.0  # the daemon keeps running: still nothing moves
        while time.monotonic() < deadline:
            position, last_seq, _ = controller(port)
            assert (position, last_seq) == (reg.POSITION_CODES[Position.UP], 0), "it moved"
            time.sleep(0.1)
        assert query(db, "SELECT count(*) FROM access_devicecommand") == [(0,)]
        assert query(
            db, "SELECT count(*) FROM core_auditentry WHERE action = 'access_grant_expired'"
        ) == [(1,)]
        # 2. killed again, three reads, started again within their limit: one barrier cycle
        kill(daemon)
        three_reads(60.0)
        daemon = start_daemon()
        wait(
            lambda: (
                query(db, "SELECT state FROM access_passage WHERE state != 'expired'")
                == [("closed",)]
                and controller(port)[0] == reg.POSITION_CODES[Position.UP]
            ),
            "the barrier lowered for the vehicle, then rose again",
            60,
        )
        time.sleep(1.0)
        commands = query(
            db, "SELECT command, outcome FROM access_devicecommand WHERE outcome != 'superseded' "
            "ORDER BY id",
        )  # fmt: skip
        assert commands == [("lower", "accepted"), ("raise", "accepted")]
        assert query(db, "SELECT count(*) FROM access_passage") == [(2,)]
    finally:
        end(processes)
        out.close()
