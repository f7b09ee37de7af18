"""Load benchmark of the camera API: N lanes, R plate reads per second for S seconds.

Starts the real server (``rempart serve``: granian, the camera gateway and its group committer)
on a free loopback port against a fresh database (a temporary SQLite file in WAL mode, or with
``--db postgres`` a fresh PostgreSQL database), creates a zone with ``--lanes`` lanes, permits
and a camera token, then sends ``POST /api/v1/access/requests`` at a fixed rate (open loop:
each read has its scheduled instant; ``--clients`` keep-alive HTTP/1.1 connections driven by
one asyncio loop, about 0.2 ms of CPU per read) and reports throughput, latency percentiles
(from the read's scheduled instant to the answer, so queueing counts), errors, lateness, and
the CPU per read of the server (all its processes), of its PostgreSQL backends, and of the
generator. At the end it counts the stored decisions: every 200 answer must be a committed row.

    .venv/bin/python benchmarks/access_load.py --rate 1000 --seconds 60 --lanes 200 --db sqlite
    .venv/bin/python benchmarks/access_load.py --db postgres --baseline   # gunicorn first

With ``--baseline`` the same load runs first against gunicorn with gthread workers (the
previous production server, same application code), then against ``rempart serve``, and the
ratios are printed. Prints one JSON line per run (and a readable summary on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "rempart_access_bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- inside the benchmark's Django environment (child processes) ----------------------------


def _setup(lanes: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rempart.settings")
    django.setup()
    from django.contrib.auth import get_user_model

    from rempart.access.models import Barrier, Lane, Permit, Zone
    from rempart.core.models import ApiToken, City, Organisation, Profile
    from rempart.core.roles import grant

    city = City.objects.create(name="Bench", slug="bench", country="FR", timezone="Europe/Paris")
    org = Organisation.objects.create(name="Bench", kind="municipality", city=city)
    org.cities.add(city)
    user = get_user_model().objects.create_user("camera-owner", password=None)
    Profile.objects.create(user=user, organisation=org)
    grant(user, "access", "operator")
    zone = Zone.objects.create(city=city, ident="bench-zone", timezone="Europe/Paris")
    for i in range(lanes):
        lane = Lane.objects.create(
            zone=zone, ident=f"bench-{i:03d}", direction="in", identification=["anpr"]
        )
        Barrier.objects.create(lane=lane, ident=f"bench-{i:03d}-b1", driver={"type": "simulator"})
    plates = [f"BE{i:03d}CH" for i in range(200)]
    for i, plate in enumerate(plates):
        permit = Permit.objects.create(
            city=city,
            ident=f"bench-p{i}",
            plate=plate,
            holder=f"Holder {i}",
            category=["delivery", "resident", "emergency"][i % 3],
            windows=[]
            if i % 2
            else [
                {
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    "from": "00:00",
                    "to": "24:00",
                }
            ],
        )
        permit.zones.add(zone)
    _, secret = ApiToken.issue(user, "bench camera", ["access:request"])
    print(json.dumps({"token": secret, "plates": plates}))


def _count() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rempart.settings")
    django.setup()
    from rempart.access.models import AccessDecision, Passage

    print(
        json.dumps(
            {"decisions": AccessDecision.objects.count(), "passages": Passage.objects.count()}
        )
    )


def _probe() -> None:
    """A process that only sleeps 1 ms at a time and notes when it woke up more than 20 ms late:
    it shares nothing with the server or the generator, so a stall it sees too is the machine's
    (scheduling, a paused virtual machine), not the code's. Prints its stalls on SIGTERM."""
    import signal

    stalls: list[tuple[float, float]] = []  # (time.monotonic() at the stall's start, late in s)
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    print("ready", flush=True)
    while running[0]:
        asked = time.monotonic()
        time.sleep(0.001)
        late = time.monotonic() - asked - 0.001
        if late > 0.02:
            stalls.append((asked, late))
    print(json.dumps(stalls), flush=True)


class MachineStalls:
    """Runs :func:`_probe` from now to :meth:`stop`."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--_probe"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.process.stdout.readline()  # "ready"

    def stop(self, start: float) -> list[list[float]]:
        """The stalls as [second of the run from ``start`` (time.monotonic), ms late], worst first."""
        self.process.terminate()
        out, _ = self.process.communicate(timeout=10)
        stalls = json.loads(out)
        return [
            [round(at - start, 1), round(late * 1000, 1)]
            for at, late in sorted(stalls, key=lambda stall: -stall[1])
        ]


# --- the benchmark ------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="plate reads per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--lanes", type=int, default=200)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker")
    parser.add_argument("--clients", type=int, default=32, help="keep-alive connections")
    parser.add_argument(
        "--server",
        choices=["serve", "gunicorn"],
        default="serve",
        help="serve: `rempart serve` (granian); gunicorn: gthread workers (the baseline)",
    )
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="first run the same load against gunicorn (gthread), then against --server; ratios",
    )
    parser.add_argument("--_setup", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--_count", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--_probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._setup is not None:
        _setup(args._setup)
        return 0
    if args._count:
        _count()
        return 0
    if args._probe:
        _probe()
        return 0
    if not args.baseline:
        result = run_once(args)
        return 0 if result["all_stored"] and not result["errors"] else 1
    baseline = run_once(argparse.Namespace(**{**vars(args), "server": "gunicorn"}))
    result = run_once(args)
    ratios = {
        "server_cpu_per_read": round(
            baseline["server_cpu_ms_per_read"] / result["server_cpu_ms_per_read"], 2
        ),
        "p99": round(baseline["p99_ms"] / result["p99_ms"], 2),
    }
    print(json.dumps({"baseline": "gunicorn", "ratio_baseline_over_serve": ratios}))
    print(
        f"gunicorn / serve: server CPU per read x{ratios['server_cpu_per_read']}, p99 x{ratios['p99']}",
        file=sys.stderr,
    )
    ok = all(r["all_stored"] and not r["errors"] for r in (baseline, result))
    return 0 if ok else 1


def run_once(args: argparse.Namespace) -> dict:
    """One fresh database, one server, the warm-up and the measured load; the result line."""
    tmp = Path(tempfile.mkdtemp(prefix="rempart-access-bench-"))
    env = {
        **os.environ,
        "REMPART_VAR_DIR": str(tmp),
        "REMPART_SECRET_KEY": "bench-" + "k" * 40,
        "REMPART_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "rempart.settings",
    }
    env.pop("REMPART_DATABASE_URL", None)  # SQLite: var/rempart.sqlite3 in WAL mode
    if args.db == "postgres":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB}")
            conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
        env["REMPART_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
    me = [sys.executable, str(Path(__file__).resolve())]
    subprocess.run(
        [sys.executable, "-m", "rempart.cli", "migrate", "-v0"], env=env, check=True, cwd=tmp
    )
    setup = json.loads(
        subprocess.run(
            [*me, "--_setup", str(args.lanes)], env=env, check=True, capture_output=True, text=True
        ).stdout
    )
    port = free_port()
    if args.server == "gunicorn":  # the previous production server, kept as the baseline
        command = [sys.executable, "-m", "gunicorn", "rempart.wsgi:application",
                   "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
                   "--threads", str(args.threads), "--worker-class", "gthread",
                   "--timeout", "120", "--log-level", "warning", "--keep-alive", "30"]  # fmt: skip
    else:  # exactly what `rempart serve` runs
        command = [sys.executable, "-m", "rempart.cli", "serve", "--bind", f"127.0.0.1:{port}",
                   "--workers", str(args.workers), "--threads", str(args.threads), "--quiet"]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=tmp)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1.0)  # let every worker boot
        # Warm-up (not measured): every worker thread imports and connects on first use.
        warm = argparse.Namespace(**{**vars(args), "rate": 100.0, "seconds": 3.0})
        warmed = run_load(warm, port, setup["token"], setup["plates"])
        server_cpu, own_cpu = process_cpu_s(server.pid), time.process_time()
        db_sampler = DatabaseCpu(args.db)
        machine = MachineStalls()
        result = run_load(args, port, setup["token"], setup["plates"])
        server_cpu = process_cpu_s(server.pid) - server_cpu
        own_cpu = time.process_time() - own_cpu
        db_cpu_s = db_sampler.stop()
        stalls = machine.stop(result.pop("start_monotonic"))
        # an independent process late by 20 ms or more: how many times, and the worst five
        result["machine_stalls"] = len(stalls)
        result["machine_worst_stalls"] = stalls[:5]
        result["warmup_requests"] = warmed["ok"]
        handled = max(1, result["ok"] + result["errors"])
        result["server_cpu_ms_per_read"] = round(server_cpu / handled * 1000, 3)
        result["generator_cpu_ms_per_read"] = round(own_cpu / max(1, result["sent"]) * 1000, 3)
        result["server_cpu_cores"] = round(server_cpu / result["elapsed_s"], 2)
        if args.db == "postgres":  # the server's PostgreSQL backends work for it too
            result["database_cpu_ms_per_read"] = round(db_cpu_s / handled * 1000, 3)
        result["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        server.terminate()
        server.wait(30)
    stored = json.loads(
        subprocess.run(
            [*me, "--_count"], env=env, check=True, capture_output=True, text=True
        ).stdout
    )
    result.update(stored)
    result["all_stored"] = stored["decisions"] == result["ok"] + result["warmup_requests"]
    result["machine"] = f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    print(json.dumps(result))
    print(
        f"{args.db} ({args.server}): {result['ok']} ok / {result['sent']} sent in {result['elapsed_s']:.1f} s "
        f"= {result['throughput_rps']:.0f} req/s (target {args.rate:.0f}); latency p50 "
        f"{result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms; "
        f"errors {result['errors']}; late sends (>50 ms behind schedule) {result['late']}; "
        f"decisions stored {stored['decisions']} ({'all' if result['all_stored'] else 'MISSING'}); "
        f"server CPU {result['server_cpu_ms_per_read']} ms/read "
        f"({result['server_cpu_cores']} cores), "
        + (
            f"PostgreSQL backends {result['database_cpu_ms_per_read']} ms/read, "
            if "database_cpu_ms_per_read" in result
            else ""
        )
        + f"generator CPU "
        f"{result['generator_cpu_ms_per_read']} ms/read; load average {result['load_avg']}; "
        f"worst seconds {result['worst_seconds']}; machine stalls over 20 ms "
        f"{result['machine_stalls']}, worst {result['machine_worst_stalls']}",
        file=sys.stderr,
    )
    return result


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds user + system) of a process, from /proc; None once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu_s(db: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving the benchmark's database now, found by
    its process title (``postgres: <user> <database> <client> <state>``), without connecting."""
    if db != "postgres":
        return {}
    found = {}
    for pid in _pids():
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        is_backend = title.startswith(b"postgres: ") and f" {PG_BENCH_DB} ".encode() in title
        if is_backend and (stat := _stat(pid)) is not None:
            found[pid] = stat[1]
    return found


class DatabaseCpu:
    """CPU the server's PostgreSQL backends spend from now to :meth:`stop` (they run on the
    same cores). Sampled every 0.5 s, because the server recycles its connections (every 60 s):
    a backend that ends during the run counts up to its last sample, one that starts counts
    from its birth. Nothing for SQLite (it runs inside the server's processes)."""

    def __init__(self, db: str) -> None:
        self.db = db
        self.first = database_cpu_s(db)
        self.last = dict(self.first)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.last.update(database_cpu_s(self.db))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self.last.update(database_cpu_s(self.db))
        return sum(cpu - self.first.get(pid, 0.0) for pid, cpu in self.last.items())


def process_cpu_s(root: int) -> float:
    """CPU seconds (user + system) of ``root`` and its children (the server's master + workers)."""
    stats = [(pid, _stat(pid)) for pid in _pids()]
    return sum(stat[1] for pid, stat in stats if stat and root in (pid, stat[0]))


def run_load(args: argparse.Namespace, port: int, token: str, plates: list[str]) -> dict:
    """Open loop: read ``i`` is due at ``start + i / rate``; ``--clients`` keep-alive HTTP/1.1
    connections in one asyncio loop take the due reads in order. Latency is measured from the
    read's due instant (so time queued behind a busy connection counts) and, separately, from
    the send ("service")."""
    return asyncio.run(_run_load(args, port, token, plates))


async def _run_load(args: argparse.Namespace, port: int, token: str, plates: list[str]) -> dict:
    total = int(args.rate * args.seconds)
    lanes = [f"bench-{i:03d}" for i in range(args.lanes)]
    rng = random.Random(args.rate)
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    latencies: list[float] = []
    worst_by_second: dict[int, float] = {}  # second of the run -> worst latency, ms
    service: list[float] = []
    errors: list[str] = []
    late = [0]
    loop = asyncio.get_running_loop()
    head = (
        f"POST /api/v1/access/requests HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
    )

    def body() -> bytes:
        known = rng.random() < 0.8
        return json.dumps(
            {
                "lane": rng.choice(lanes),
                "plate": rng.choice(plates) if known else f"ZZ{rng.randint(100, 999)}XY",
                "confidence": round(rng.uniform(0.85, 0.99), 3),
                "read_at": datetime.now(UTC).isoformat(),
            }
        ).encode()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (item := await queue.get()) is not None:
            _, due = item
            payload = body()
            sent = loop.time()
            if sent - due > 0.05:
                late[0] += 1
            try:
                writer.write(f"{head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                answer = await reader.readexactly(length)
                status = int(status_line.split()[1])
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            done = loop.time()
            if status != 200:
                errors.append(f"{status} {answer[:120]!r}")
                continue
            latencies.append((done - due) * 1000)
            second = int(due - start)
            worst_by_second[second] = max(worst_by_second.get(second, 0.0), latencies[-1])
            service.append((done - sent) * 1000)
        writer.close()

    lag = [0.0]  # the generator's own worst stall: how late its event loop woke up, seconds
    running = [True]

    async def watch_lag() -> None:
        while running[0]:
            asked = loop.time()
            await asyncio.sleep(0.01)
            lag[0] = max(lag[0], loop.time() - asked - 0.01)

    workers = [asyncio.create_task(connection()) for _ in range(args.clients)]
    watcher = asyncio.create_task(watch_lag())
    await asyncio.sleep(0.2)
    start = loop.time() + 0.3
    for i in range(total):
        due = start + i / args.rate
        wait = due - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        queue.put_nowait((i, due))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = loop.time() - start
    running[0] = False
    await watcher
    latencies.sort()
    service.sort()
    return {
        "db": args.db,
        "lanes": args.lanes,
        "target_rps": args.rate,
        "seconds": args.seconds,
        "sent": total,
        "ok": len(latencies),
        "errors": len(errors),
        "error_sample": errors[:3],
        "late": late[0],
        "elapsed_s": round(elapsed, 2),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p90_ms": round(percentile(latencies, 0.90), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(latencies[-1], 2) if latencies else None,
        "service_p99_ms": round(percentile(service, 0.99), 2),
        "service_max_ms": round(service[-1], 2) if service else None,
        "generator_max_stall_ms": round(lag[0] * 1000, 1),
        "start_monotonic": start,  # asyncio's clock is time.monotonic()
        # where the tail comes from: the 5 seconds of the run with the slowest answer
        "worst_seconds": [
            [second, round(ms, 1)]
            for second, ms in sorted(worst_by_second.items(), key=lambda kv: -kv[1])[:5]
        ],
        "server": args.server,
        "workers": args.workers,
        "threads": args.threads,
        "clients": args.clients,
    }


if __name__ == "__main__":
    raise SystemExit(main())
