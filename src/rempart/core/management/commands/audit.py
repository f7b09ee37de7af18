from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Audit trail: `rempart audit verify` checks the keyed chain against its checkpoints and "
        "names the first thing wrong; `rempart audit checkpoint` signs the head (e.g. from cron)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action",
            choices=["verify", "checkpoint"],
            help="verify: check the whole trail; checkpoint: check the entries since the latest "
            "checkpoint, then write a checkpoint of the last one",
        )
        parser.add_argument(
            "--checkpoints",
            action="append",
            type=Path,
            default=[],
            metavar="FILE",
            help="also compare with the checkpoints in FILE (e.g. collected by a syslog server); "
            "repeatable",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from rempart.core.audit_checkpoints import write_checkpoint
        from rempart.core.audit_verify import verify_chain

        for path in options["checkpoints"]:
            if not path.is_file():
                raise CommandError(f"--checkpoints {path}: expected a readable file", returncode=2)
        checkpointing = options["action"] == "checkpoint"
        result = verify_chain(options["checkpoints"], since_latest_checkpoint=checkpointing)
        if not result.ok:
            raise CommandError(f"audit trail broken: {result.message}", returncode=1)
        if checkpointing:
            if result.last_seq == 0:
                self.stdout.write("audit trail empty: nothing to checkpoint")
                return
            if not write_checkpoint(result.last_seq, result.last_hash):
                raise CommandError(
                    "the checkpoint could not be written (see the log line above)", returncode=1
                )
            self.stdout.write(f"checkpoint of entry #{result.last_seq} written ({result.message})")
            return
        self.stdout.write(result.message)
