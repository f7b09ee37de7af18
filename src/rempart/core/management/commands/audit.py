from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Audit trail: `rempart audit verify` recomputes the hash chain and names the first broken entry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"], help="verify: recompute the whole chain")

    def handle(self, *args: Any, **options: Any) -> None:
        from rempart.core.audit import verify_chain

        result = verify_chain()
        if not result.ok:
            raise CommandError(f"audit trail broken: {result.message}", returncode=1)
        self.stdout.write(result.message)
