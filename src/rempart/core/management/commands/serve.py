from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the platform with gunicorn (production server; static files by whitenoise)."

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

    def handle(self, *args: Any, **options: Any) -> None:
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "rempart.wsgi:application",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--worker-class",
            "gthread",
            "--access-logfile",
            "-",
            "--timeout",
            "120",
            "--graceful-timeout",
            "10",
        ]
        self.stdout.write(f"rempart listening on http://{options['bind']}/  (Ctrl-C stops it)")
        self.stdout.flush()
        os.execv(sys.executable, argv)
