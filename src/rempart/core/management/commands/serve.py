"""``rempart serve``: granian in front of the WSGI application, refusing a port already in use.

granian binds one listening socket per worker with SO_REUSEPORT (on Linux), so a second server
on the same port would start without a word and share the connections with the first: sessions
and the live streams would break at random. Before starting granian, ``rempart serve`` takes a
lock named for the address (an abstract Unix socket, released by the kernel when the server's
last process ends: two servers started at once cannot both pass) and binds the port once without
SO_REUSEPORT (which fails while anything listens there, granian or another program).
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Serve the platform with granian (production server; static files by whitenoise), optionally with the device daemon."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--bind",
            default=os.environ.get("REMPART_BIND", "127.0.0.1:8000"),
            help="address:port to listen on (default 127.0.0.1:8000, env REMPART_BIND)",
        )
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("REMPART_WORKERS", "2"))
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("REMPART_THREADS", "16")),
            help="threads per worker (live control-room streams each hold one)",
        )
        parser.add_argument(
            "--quiet", action="store_true", help="no access log (benchmarks); warnings only"
        )
        parser.add_argument(
            "--with-daemon",
            action="store_true",
            help="also run the barrier device daemon (rempart access run) and stop it with the server",
        )
        parser.add_argument(
            "--demo-traffic",
            action="store_true",
            help="with --with-daemon: simulated camera reads on lanes whose barriers are simulated",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = _bind(options["bind"])
        _claim(host, port, options["bind"])  # held until the server's last process ends
        # granian (a Rust HTTP server) runs the WSGI application: a third of gunicorn's CPU per
        # request (docs/performance.md, access control load), which matters for camera reads.
        server = [
            sys.executable, "-m", "granian", "--interface", "wsgi",
            "--host", host, "--port", str(port), "--workers", str(options["workers"]),
            "--blocking-threads", str(options["threads"]), "--respawn-failed-workers",
            "--workers-kill-timeout", "10", "--no-ws",
            "--log-level", "warning" if options["quiet"] else "info",
            *([] if options["quiet"] else ["--access-log"]),
            "rempart.wsgi:application",
        ]  # fmt: skip
        self.stdout.write(f"rempart listening on http://{options['bind']}/  (Ctrl-C stops it)")
        self.stdout.flush()
        if not options["with_daemon"]:
            os.execv(sys.executable, server)
        daemon = [sys.executable, "-m", "rempart.cli", "access", "run"]
        if options["demo_traffic"]:
            daemon.append("--with-simulated-traffic")
        self._supervise([server, daemon])

    def _supervise(self, commands: list[list[str]]) -> None:
        """Run the server and its helpers side by side; restart a helper that dies (after 5 s);
        when the server ends or a signal arrives, stop them all."""
        children = [subprocess.Popen(command) for command in commands]
        restart_at: dict[int, float] = {}
        stopping = False

        def stop(signum: int, _frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping and children[0].poll() is None:
            for index in range(1, len(children)):
                if children[index].poll() is None:
                    continue
                if index not in restart_at:
                    self.stderr.write(
                        f"{' '.join(commands[index][2:])} stopped (exit {children[index].returncode}); restarting in 5 s"
                    )
                    restart_at[index] = time.monotonic() + 5
                elif time.monotonic() >= restart_at[index]:
                    del restart_at[index]
                    children[index] = subprocess.Popen(commands[index])
            time.sleep(0.5)
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        if not stopping and children[0].returncode:
            sys.exit(children[0].returncode)


def _bind(raw: str) -> tuple[str, int]:
    """``address:port`` -> (address, port); ``CommandError`` with one line otherwise."""
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--bind {raw!r}: expected address:port, e.g. 127.0.0.1:8000")
    return host.strip("[]"), int(port)


#: Each server's claim on its address, kept open (and inherited by granian) while it runs.
_claims: list[socket.socket] = []


def _claim(host: str, port: int, shown: str) -> None:
    """Refuse (CommandError, exit 1) an address another server is using or starting on."""
    if sys.platform.startswith("linux"):
        lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            lock.bind(f"\0rempart-serve:{host}:{port}")
        except OSError as exc:
            lock.close()
            raise CommandError(
                f"--bind {shown}: another rempart serve is already using this address; stop it "
                "or choose another port",
                returncode=1,
            ) from exc
        lock.set_inheritable(True)  # os.execv hands it to granian, whose workers inherit it
        _claims.append(lock)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR only: a stopped server's connections in TIME_WAIT do not count, a
        # listening socket does (with or without SO_REUSEPORT)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reasons = {
                errno.EADDRINUSE: "the port is already in use (another rempart serve or another "
                "program listens there); stop it or choose another port",
                errno.EADDRNOTAVAIL: "this machine has no such address",
                errno.EACCES: "permission denied (ports below 1024 need privileges)",
            }
            reason = reasons.get(exc.errno or 0, exc.strerror or str(exc))
            raise CommandError(f"--bind {shown}: {reason}", returncode=1) from exc
