from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Delete personal data past its retention period (login attempts, sessions, module data); run daily."

    def handle(self, *args: Any, **options: Any) -> None:
        from rempart.core.retention import purge

        self.stdout.write(json.dumps(purge(), sort_keys=True))
