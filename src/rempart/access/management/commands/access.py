"""`rempart access`: load zones and permits, decide a request, simulate devices, run the daemon.

Subcommands::

    rempart access load FILE.yaml --city SLUG [--set-modes --reason TEXT]
                                                   validate all, then write in one transaction
    rempart access request --lane ID --plate P [--confidence C] [--pin N] [--at ISO] [--json] [--dry-run]
    rempart access simulate --devices N --port 5020 [--traffic-rate R --count N --log FILE]
    rempart access run [--zone ID ...] [--with-simulated-traffic [--traffic-rate R]]
    rempart access purge
    rempart access export-permits --city SLUG [FILE]
    rempart access import-permits --city SLUG FILE [--dry-run]

Errors are one line on stderr naming the thing, the value and what was expected, with a
non-zero exit status; nothing is written when a command fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from typing import Any, NoReturn

from django.core.management.base import BaseCommand

PROG = "rempart access"


def _fail(sub: str, message: str, code: int = 1) -> NoReturn:
    print(f"{PROG} {sub}: {message}", file=sys.stderr)
    sys.exit(code)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(2)


def _city(sub: str, slug: str | None) -> Any:
    from rempart.core.models import City

    if slug:
        city = City.objects.filter(slug=slug).first()
        if city is None:
            known = ", ".join(City.objects.values_list("slug", flat=True)) or "none"
            _fail(sub, f"--city {slug!r} does not exist; known cities: {known}")
        return city
    cities = list(City.objects.all()[:2])
    if len(cities) == 1:
        return cities[0]
    _fail(sub, "--city is required (the identifier of the city the file belongs to)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Access control of vehicle barriers.")
    subs = parser.add_subparsers(dest="sub", required=True, parser_class=_Parser)

    p = subs.add_parser("load", help="load zones, lanes, barriers, schedules and permits (YAML)")
    p.add_argument("file")
    p.add_argument("--city", help="city identifier (slug); optional when there is one city")
    p.add_argument("--check", action="store_true", help="validate only, write nothing")
    p.add_argument(
        "--set-modes",
        action="store_true",
        help="apply the file's zone modes to zones that exist (their live modes otherwise stay; "
        "a file mode that differs is refused)",
    )
    p.add_argument("--reason", help="why the modes change (required with --set-modes; audited)")

    p = subs.add_parser("request", help="decide a request as the camera API does")
    p.add_argument("--lane", required=True, help="lane identifier")
    p.add_argument("--plate", help="plate as read, e.g. AB-123-CD")
    p.add_argument("--confidence", type=float, default=1.0, help="ANPR confidence 0-1")
    p.add_argument("--pin", help="PIN typed at the keypad")
    p.add_argument("--mass-kg", type=int, help="vehicle class mass read by the camera, kg")
    p.add_argument("--at", help="time of the read, ISO 8601 with offset (default: now)")
    p.add_argument("--json", action="store_true", help="print the API's JSON answer")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="decide only: store nothing, command nothing (any --at allowed)",
    )

    p = subs.add_parser("simulate", help="simulated bollards over Modbus TCP (+ traffic)")
    p.add_argument("--devices", type=int, default=4)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5020)
    p.add_argument("--rise-time", type=float, default=4.0)
    p.add_argument("--lower-time", type=float, default=3.0)
    p.add_argument("--fail-mode", choices=["secure", "safe"], default="secure")
    p.add_argument("--vehicles-per-min", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--traffic-rate",
        type=float,
        default=0.0,
        help="camera reads per minute through the service layer on the lanes whose barriers "
        "use this simulator (driver modbus at --host/--port); vehicles drive when let through",
    )
    p.add_argument("--count", type=int, help="stop generating reads after this many")
    p.add_argument("--log", help="append '<request id> <decision>' per read to this file")
    p.add_argument(
        "--pass-time", type=float, default=1.5, help="seconds a vehicle occupies the loop"
    )

    p = subs.add_parser("run", help="the device daemon (Ctrl-C or SIGTERM stops it)")
    p.add_argument("--zone", action="append", help="only this zone (repeatable)")
    p.add_argument("--poll", type=float, default=0.25, help="seconds between polls")
    p.add_argument("--open-timeout", type=float, default=20.0, help="seconds open with no vehicle")
    p.add_argument(
        "--with-simulated-traffic",
        "--demo-traffic",
        action="store_true",
        help="generate camera reads and vehicles on lanes with simulated barriers",
    )
    p.add_argument("--traffic-rate", type=float, default=6.0, help="reads per minute")

    subs.add_parser("purge", help="pseudonymise and delete plate reads past their time")

    p = subs.add_parser("export-permits", help="permits as CSV (holders included)")
    p.add_argument("file", nargs="?", help="output file (default: standard output)")
    p.add_argument("--city")

    p = subs.add_parser("import-permits", help="permits from CSV (all rows or none)")
    p.add_argument("file")
    p.add_argument("--city")
    p.add_argument("--dry-run", action="store_true")
    return parser


class Command(BaseCommand):
    help = (
        "Access control: load zones and permits, decide requests, simulate bollards, run the "
        "device daemon, purge plate reads (`rempart access --help`)."
    )

    def run_from_argv(self, argv: list[str]) -> None:
        args = build_parser().parse_args(argv[2:])
        handler = getattr(self, f"_{args.sub.replace('-', '_')}")
        from rempart.core import audit

        with audit.acting_as(audit.current_actor()):
            code = handler(args)
        if code:
            sys.exit(code)

    # --- load ---------------------------------------------------------------------------------

    def _load(self, args: argparse.Namespace) -> int:
        import os

        from rempart.access import config, load_file

        if not os.path.isfile(args.file):
            _fail("load", f"{args.file}: no such file")
        try:
            parsed = config.load_config(args.file)
        except config.ConfigError as exc:
            print(
                f"{PROG} load: {args.file}: {len(exc.errors)} error(s); nothing written",
                file=sys.stderr,
            )
            for line in exc.errors:
                print(f"  {line}", file=sys.stderr)
            return 1
        if args.check:
            print(f"{args.file}: valid ({len(parsed.zones)} zones, {len(parsed.permits)} permits)")
            return 0
        if args.set_modes and not (args.reason or "").strip():
            _fail("load", "--set-modes needs --reason (who asked for the change and why)")
        if args.reason and not args.set_modes:
            _fail("load", "--reason is for --set-modes (the reason of a live mode change)")
        city = _city("load", args.city)
        try:
            summary = load_file.load_config(
                parsed, city, set_modes_reason=args.reason if args.set_modes else None
            )
        except load_file.ModeChangeRefused as exc:
            print(
                f"{PROG} load: {args.file}: would change {len(exc.errors)} live zone mode(s); "
                "nothing written",
                file=sys.stderr,
            )
            for line in exc.errors:
                print(f"  {line}", file=sys.stderr)
            return 1
        except ValueError as exc:
            _fail("load", f"{exc}; nothing written")
        print(
            f"{args.file}: {summary.zones} zones, {summary.lanes} lanes, {summary.barriers} "
            f"barriers, {summary.schedules} scheduled modes, {summary.permits} permits "
            f"written for {city.slug}"
        )
        return 0

    # --- request ------------------------------------------------------------------------------

    def _request(self, args: argparse.Namespace) -> int:
        from rempart.access import services
        from rempart.access.models import AccessDecision
        from rempart.core import audit

        if args.plate is None and args.pin is None:
            _fail("request", "give --plate and/or --pin")
        try:
            read_at = services.parse_read_at(args.at) if args.at else None
            result = services.submit_request(
                args.lane,
                plate=args.plate,
                confidence=args.confidence,
                pin=args.pin,
                mass_kg=args.mass_kg,
                read_at=read_at,
                source=AccessDecision.Source.CLI,
                actor=audit.current_actor().name,
                dry_run=args.dry_run,
                check_time=not args.dry_run,
            )
        except services.RequestError as exc:
            _fail("request", exc.message)
        answer = result.answer()
        if args.dry_run:
            answer["dry_run"] = True
        if args.json:
            print(json.dumps(answer))
        else:
            print(f"{answer['decision']} ({answer['reason_code']}): {answer['reason']}")
        return 0

    # --- simulate -----------------------------------------------------------------------------

    def _simulate(self, args: argparse.Namespace) -> int:
        from rempart.access.simulator_server import run_simulator

        if args.traffic_rate <= 0:
            argv = [
                "--devices",
                str(args.devices),
                "--host",
                args.host,
                "--port",
                str(args.port),
                "--rise-time",
                str(args.rise_time),
                "--lower-time",
                str(args.lower_time),
                "--fail-mode",
                args.fail_mode,
                "--vehicles-per-min",
                str(args.vehicles_per_min),
                "--seed",
                str(args.seed),
            ]
            return run_simulator(argv)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_simulate_with_traffic(args))
        return 0

    # --- run ------------------------------------------------------------------------------------

    def _run(self, args: argparse.Namespace) -> int:
        from rempart.access.daemon import Daemon, DaemonOptions

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        options = DaemonOptions(
            poll_s=args.poll,
            open_timeout_s=args.open_timeout,
            zones=args.zone,
            simulated_traffic_per_min=args.traffic_rate if args.with_simulated_traffic else 0.0,
        )
        daemon = Daemon(options)

        async def main() -> None:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, daemon.stop)
            await daemon.run()

        print(f"{PROG} run: supervising barriers (poll {args.poll} s); SIGTERM stops", flush=True)
        asyncio.run(main())
        return 0

    # --- purge --------------------------------------------------------------------------------

    def _purge(self, args: argparse.Namespace) -> int:
        from rempart.access import retention

        removed = retention.run()
        print(
            f"plate reads without a permit: {removed['plate_reads_pseudonymised']} pseudonymised "
            f"(older than {removed['pseudonymise_after_hours']:g} h), "
            f"{removed['plate_reads_deleted']} deleted (older than {removed['retention_days']} days)"
        )
        return 0

    # --- permits CSV --------------------------------------------------------------------------

    def _export_permits(self, args: argparse.Namespace) -> int:
        from rempart.access import services
        from rempart.access.models import Permit
        from rempart.core import audit

        city = _city("export-permits", args.city)
        permits = Permit.objects.filter(city=city).prefetch_related("zones")
        text = services.export_permits_csv(permits, with_holders=True)
        if args.file:
            with open(args.file, "w", newline="") as handle:
                handle.write(text)
        else:
            sys.stdout.write(text)
        audit.record(
            "export",
            object_type="access.permit",
            object_repr=f"{permits.count()} permits as CSV",
            city=city,
            detail={"format": "csv", "file": args.file or "-"},
        )
        return 0

    def _import_permits(self, args: argparse.Namespace) -> int:
        from rempart.access import services
        from rempart.inputs import InputError, check_size

        city = _city("import-permits", args.city)
        try:
            check_size(os.path.getsize(args.file), args.file)
            with open(args.file, "rb") as handle:
                raw = handle.read()
        except OSError as exc:
            _fail("import-permits", f"{args.file}: {exc.strerror}")
        except InputError as exc:
            _fail("import-permits", str(exc))
        result = services.import_permits_csv(raw, city, dry_run=args.dry_run, what=args.file)
        if result.errors:
            print(
                f"{PROG} import-permits: {args.file}: {len(result.errors)} error(s); nothing written",
                file=sys.stderr,
            )
            for line in result.errors:
                print(f"  {line}", file=sys.stderr)
            return 1
        verb = "would be" if args.dry_run else "were"
        print(f"{result.created} permits {verb} created, {result.updated} updated")
        return 0


async def _simulate_with_traffic(args: argparse.Namespace) -> None:
    """Modbus simulator for the barriers configured on this host/port, plus camera reads through
    the service layer and vehicles that drive when their barriers are down."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from rempart.access.daemon import SimulatedTraffic
    from rempart.access.drivers.base import FailMode
    from rempart.access.drivers.simulator import BollardModel
    from rempart.access.models import Barrier
    from rempart.access.simulator_server import SimulatorServer

    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simulate-db")
    loop = asyncio.get_running_loop()

    async def db(func: Any, *a: Any) -> Any:
        return await loop.run_in_executor(executor, lambda: func(*a))

    def barriers_here() -> list[tuple[int, str, str, bool]]:
        out = []
        for b in Barrier.objects.select_related("lane"):
            d = b.driver or {}
            if d.get("type") == "modbus" and int(d.get("port", 502)) == args.port:
                out.append((int(d.get("unit", 1)), b.lane.ident, b.fail_mode, b.loop_detector))
        return out

    configured = await db(barriers_here)
    units = max([args.devices, *[u for u, *_ in configured]])
    models = [
        BollardModel(
            f"sim-{i}",
            rise_time_s=args.rise_time,
            lower_time_s=args.lower_time,
            fail_mode=FailMode(args.fail_mode),
        )
        for i in range(1, units + 1)
    ]
    lane_models: dict[str, list[Any]] = {}
    for unit, lane, _fail_mode, _loop in configured:
        lane_models.setdefault(lane, []).append(models[unit - 1])
    server = SimulatorServer(models, args.host, args.port)
    await server.start()
    print(
        f"{units} bollards on {args.host}:{server.port}; traffic on "
        f"{', '.join(sorted(lane_models)) or 'no lane'} at {args.traffic_rate:g} reads/min",
        flush=True,
    )
    traffic = SimulatedTraffic(
        rate_per_min=args.traffic_rate,
        seed=args.seed,
        lane_models=lane_models,
        db=db,
        count=args.count,
        log_path=args.log,
        pass_s=args.pass_time,
    )
    try:
        await traffic.run()
        print(f"traffic done: {traffic.submitted} reads {dict(traffic.answers)}", flush=True)
        await asyncio.Event().wait()  # keep serving the devices
    finally:
        await server.stop()
        await db(lambda: connection.close())
        executor.shutdown()
