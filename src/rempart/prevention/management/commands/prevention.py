"""`rempart prevention`: retention purge, key rotation, opening a subject access archive.

Subcommands::

    rempart prevention purge [--now ISO] [--dry-run]   delete closed cases whose period ran out
    rempart prevention rotate-key [--keep-old]          new key first, every row re-encrypted
    rempart prevention rotate-key --reencrypt-only      (keys in REMPART_PREVENTION_KEY)
    rempart prevention open-export FILE --out DIR       decrypt an archive (asks the passphrase,
                                                        or REMPART_EXPORT_PASSPHRASE)

Errors are one line on stderr naming the thing, the value and what was expected, with a
non-zero exit status.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import io
import json
import os
import sys
import zipfile
from pathlib import Path
from typing import NoReturn

from django.core.management.base import BaseCommand

PROG = "rempart prevention"


def _fail(sub: str, message: str, code: int = 1) -> NoReturn:
    print(f"{PROG} {sub}: {message}", file=sys.stderr)
    sys.exit(code)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="The prevention and support unit.")
    subs = parser.add_subparsers(dest="sub", required=True, parser_class=_Parser)
    p = subs.add_parser("purge", help="delete closed cases whose retention period ran out")
    p.add_argument("--now", help="the time to purge as of (ISO 8601; default: now)")
    p.add_argument("--dry-run", action="store_true", help="list what is due, delete nothing")
    p = subs.add_parser("rotate-key", help="encrypt every row under a new key")
    p.add_argument("--keep-old", action="store_true", help="keep the old keys in the key file")
    p.add_argument(
        "--reencrypt-only",
        action="store_true",
        help="re-encrypt under the first key already configured (keys in the environment)",
    )
    p = subs.add_parser("open-export", help="decrypt a subject access archive")
    p.add_argument("file")
    p.add_argument("--out", required=True, help="directory to write case.json and README.txt")
    return parser


class Command(BaseCommand):
    help = "Prevention unit: purge on schedule, rotate the key, open an export (`--help`)."

    def run_from_argv(self, argv: list[str]) -> None:
        args = build_parser().parse_args(argv[2:])
        handler = getattr(self, f"_{args.sub.replace('-', '_')}")
        from rempart.core import audit

        with audit.acting_as(audit.current_actor()):
            code = handler(args)
        if code:
            sys.exit(code)

    def _purge(self, args: argparse.Namespace) -> int:
        from django.utils import timezone

        from rempart.core import audit
        from rempart.prevention import retention

        now = timezone.now()
        if args.now:
            try:
                now = dt.datetime.fromisoformat(args.now)
            except ValueError:
                _fail("purge", f"--now {args.now!r}: expected an ISO 8601 date and time")
            if timezone.is_naive(now):
                now = timezone.make_aware(now, dt.UTC)
        if args.dry_run:
            for case, rule in retention.due(now):
                print(f"{case.reference}\t{rule}\tclosed {case.closed_at:%Y-%m-%d}")
            return 0
        removed = retention.purge(now)
        audit.record(
            "prevention_purge",
            object_type="personal_data",
            object_repr="prevention purge",
            detail={"removed": removed},
        )
        print(json.dumps(removed, sort_keys=True))
        return 0

    def _rotate_key(self, args: argparse.Namespace) -> int:
        from rempart.core import audit
        from rempart.prevention import crypto

        try:
            if args.reencrypt_only:
                counts = crypto.reencrypt_all()
            else:
                counts = crypto.rotate_key_file(retire_old=not args.keep_old)
        except crypto.PreventionKeyError as error:
            _fail("rotate-key", str(error))
        audit.record(
            "prevention_key_rotated",
            object_type="prevention.key",
            object_repr="prevention key",
            detail={"rows": counts},
        )
        print(json.dumps(counts, sort_keys=True))
        return 0

    def _open_export(self, args: argparse.Namespace) -> int:
        from cryptography.fernet import InvalidToken

        from rempart.prevention.subject_access import decrypt_archive

        path = Path(args.file)
        if not path.is_file():
            _fail("open-export", f"{args.file}: no such file")
        passphrase = os.environ.get("REMPART_EXPORT_PASSPHRASE") or getpass.getpass("Passphrase: ")
        try:
            data = decrypt_archive(path.read_bytes(), passphrase)
        except ValueError as error:
            _fail("open-export", f"{args.file}: {error}")
        except InvalidToken:
            _fail("open-export", f"{args.file}: wrong passphrase, or the file was altered")
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in ("case.json", "README.txt"):
                (out / name).write_bytes(archive.read(name))
        print(f"{out / 'case.json'}")
        return 0
