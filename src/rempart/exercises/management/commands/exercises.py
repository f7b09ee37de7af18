from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rempart.core import audit


class Command(BaseCommand):
    help = (
        "Exercises and training: certificate reminders, MSEL export and import.\n\n"
        "  rempart exercises remind                 (e-mail holders of certificates lapsing soon)\n"
        "  rempart exercises export ID FILE         (.csv or .xlsx)\n"
        "  rempart exercises import ID FILE         (.csv or .xlsx; all rows or none)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("remind", help="e-mail holders whose certificate lapses within 30 days")
        for name in ("export", "import"):
            cmd = sub.add_parser(name, help=f"{name} an exercise's MSEL as .csv or .xlsx")
            cmd.add_argument("exercise", type=int)
            cmd.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        from rempart.exercises import io, training
        from rempart.exercises.models import Exercise

        if options["action"] == "remind":
            sent = training.send_reminders()
            self.stdout.write(f"{sent} reminder(s) sent.\n")
            return
        exercise = Exercise.objects.filter(pk=options["exercise"]).first()
        if exercise is None:
            raise CommandError(f"exercise {options['exercise']} does not exist")
        path: Path = options["file"]
        if path.suffix.lower() not in (".csv", ".xlsx"):
            raise CommandError(f"file {str(path)!r} is neither .csv nor .xlsx")
        if options["action"] == "export":
            data = io.to_xlsx(exercise) if path.suffix.lower() == ".xlsx" else io.to_csv(exercise)
            if isinstance(data, str):
                path.write_text(data, encoding="utf-8")
            else:
                path.write_bytes(data)
            audit.record("export", obj=exercise, detail={"what": "msel", "file": path.name})
            self.stdout.write(f"{exercise.injects.count()} injects written to {path}.\n")
            return
        try:
            data_in = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"file {str(path)!r} cannot be read: {exc.strerror}") from None
        try:
            count = io.import_msel(exercise, path.name, data_in, None)
        except io.ImportRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{count} injects imported into {exercise}.\n")
