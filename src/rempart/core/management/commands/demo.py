from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Demo data: `rempart demo load` builds the Helsinki demo city (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action", choices=["load"], help="load: create what is missing of the demo city"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from rempart.core.demo import load

        load(self.stdout)
