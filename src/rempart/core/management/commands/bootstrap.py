from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Prepare the platform: migrate, collect static files, load the demo city, create the admin once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-demo", action="store_true", help="do not load the demo city")
        parser.add_argument(
            "--admin", default="admin", help="username of the administrator account"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if not options["no_demo"]:
            call_command("demo", "load", stdout=self.stdout)
        self._ensure_admin(options["admin"])

    def _ensure_admin(self, username: str) -> None:
        user_model = get_user_model()
        if user_model.objects.filter(username=username).exists():
            self.stdout.write(
                f"Administrator '{username}' already exists; password unchanged "
                f"(reset it with: .venv/bin/rempart changepassword {username})."
            )
            return
        password = secrets.token_urlsafe(12)
        from rempart.core.accounts import require_change

        admin = user_model.objects.create_superuser(username=username, email="", password=password)
        require_change(admin)
        self.stdout.write(
            self.style.SUCCESS(
                f"Administrator account created (shown once):\n  username: {username}\n"
                f"  password: {password}\n  (a one-time password: choose your own at first login)"
            )
        )
