"""`rempart assess`: the engine's command line, plus runs on the platform's stored sites."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Vehicle-approach assessment: worst-case speed, energy and required barrier rating at every "
        "entry of a site, and the cheapest barrier plan (`rempart assess --help`)."
    )

    def run_from_argv(self, argv: list[str]) -> None:
        args = argv[2:]
        if "--stored" in args:
            self._run_stored(args)
            return
        from rempart.assess.cli import main

        code = main(args)
        if code:
            sys.exit(code)

    def _run_stored(self, args: list[str]) -> None:
        import argparse

        parser = argparse.ArgumentParser(
            prog="rempart assess --stored",
            description="Assess the platform's stored sites and keep the results.",
        )
        parser.add_argument("--stored", action="store_true", required=True)
        parser.add_argument(
            "--city", help="city identifier (slug); default: every city with OSM data"
        )
        parser.add_argument(
            "--site-id", type=int, action="append", help="only this site (repeatable)"
        )
        options = parser.parse_args(args)
        from rempart.assess import services
        from rempart.core.models import Site

        sites = Site.objects.select_related("city").order_by("city__slug", "name")
        if options.city:
            sites = sites.filter(city__slug=options.city)
        if options.site_id:
            sites = sites.filter(pk__in=options.site_id)
            missing = set(options.site_id) - set(sites.values_list("pk", flat=True))
            if missing:
                raise_error(f"--site-id {sorted(missing)[0]}: no such site")
        if not sites.exists():
            raise_error(
                f"--city {options.city!r}: no site to assess"
                if options.city
                else "no site to assess"
            )
        failures = 0
        for site in sites:
            try:
                run = services.request_run(site)
            except services.NoOsmData as exc:
                raise_error(str(exc))
            run = services.execute(run.pk)
            if run.status == run.Status.DONE:
                self.stdout.write(
                    f"{site.city.slug}/{site.name}: {run.entry_count} entries, "
                    f"max {run.max_speed_kmh} km/h, plan {run.plan_cost_eur} EUR (run #{run.pk})"
                )
            else:
                failures += 1
                self.stderr.write(f"{site.city.slug}/{site.name}: failed: {run.error}")
        if failures:
            sys.exit(1)

    def handle(
        self, *args: Any, **options: Any
    ) -> None:  # pragma: no cover - run_from_argv does the work
        raise CommandError("use rempart assess --help")


def raise_error(message: str) -> None:
    print(f"rempart assess: {message}", file=sys.stderr)
    sys.exit(2)
