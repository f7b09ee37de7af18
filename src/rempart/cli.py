"""The ``rempart`` command: Django's management commands plus the project's own.

``rempart --help`` lists every command with the first line of its help. A configuration error
(a bad REMPART_* variable) prints one line and exits with status 2 instead of a traceback.
"""

from __future__ import annotations

import os
import sys

PROJECT_COMMANDS = (
    "bootstrap",
    "serve",
    "demo",
    "audit",
    "purge",
    "assess",
    "access",
    "practices",
    "exercises",
    "funding",
    "sites",
    "prevention",
    "screen",
)


def _help_text() -> str:
    from django.core.management import get_commands, load_command_class

    commands = get_commands()
    lines = ["usage: rempart <command> [options]", "", "rempart's own commands:"]

    def describe(name: str) -> str:
        try:
            text = load_command_class(commands[name], name).help or ""
        except Exception as exc:  # a broken command must not hide the others
            text = f"(cannot load: {exc})"
        first = text.strip().splitlines()[0] if text.strip() else ""
        return f"  {name:<22} {first}"

    lines += [describe(name) for name in PROJECT_COMMANDS if name in commands]
    lines += ["", "Django's commands:"]
    lines += [describe(name) for name in sorted(commands) if name not in PROJECT_COMMANDS]
    lines += ["", "`rempart <command> --help` shows a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else ["rempart", *argv])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rempart.settings")
    from rempart.config import ConfigError

    try:
        import django

        django.setup()
    except ConfigError as exc:
        print(f"rempart: configuration error: {exc}", file=sys.stderr)
        return 2
    if len(argv) < 2 or (len(argv) == 2 and argv[1] in ("-h", "--help", "help")):
        print(_help_text())
        return 0
    from django.core.management import execute_from_command_line
    from django.db import OperationalError

    try:
        execute_from_command_line(argv)
    except OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"rempart: cannot use the database (REMPART_DATABASE_URL): {reason}", file=sys.stderr)
        return 2
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
