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
        "  rempart exercises import ID FILE         (.csv or .xlsx; all rows or none)\n"
        "  rempart exercises simulate ID            (simulated traffic in the exercise zone)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("remind", help="e-mail holders whose certificate lapses within 30 days")
        for name in ("export", "import"):
            cmd = sub.add_parser(name, help=f"{name} an exercise's MSEL as .csv or .xlsx")
            cmd.add_argument("exercise", type=int)
            cmd.add_argument("file", type=Path)
        sim = sub.add_parser("simulate", help="drive simulated traffic in an exercise's zone")
        sim.add_argument("exercise", type=int)
        sim.add_argument("--vehicles-per-min", type=float, default=6.0)
        sim.add_argument("--duration-s", type=float, default=None)

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
        if options["action"] == "simulate":
            self._simulate(exercise, options)
            return
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

    def _simulate(self, exercise: Any, options: dict[str, Any]) -> None:
        from rempart.exercises import exercise_zone

        rate = options["vehicles_per_min"]
        if not 0 < rate <= 600:
            raise CommandError(
                f"--vehicles-per-min {rate} is out of range; expected more than 0 and at most 600"
            )
        zone = exercise_zone.ensure_zone(exercise)
        self.stdout.write(f"EXERCISE: simulated traffic in zone {zone.ident} (no real device).\n")
        exercise_zone.simulate(exercise, rate, options["duration_s"])
