"""``rempart sites import FILE --city SLUG`` and ``rempart sites export --city SLUG [FILE]``.

The command-line side of the sites' GeoJSON import and export (the web page's): the same
limits (:mod:`rempart.inputs`), the same checks (the city's map data), all or nothing. A refused
file prints one line per problem on stderr, "nothing written", and exits with status 1.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Sites as GeoJSON: import FILE --city SLUG (all or nothing), export --city SLUG [FILE]."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="create or update sites from a GeoJSON file")
        imp.add_argument("file")
        imp.add_argument("--city", required=True, help="the city's identifier (slug)")
        exp = sub.add_parser("export", help="the city's sites as a GeoJSON FeatureCollection")
        exp.add_argument("file", nargs="?", help="default: standard output")
        exp.add_argument("--city", required=True, help="the city's identifier (slug)")

    def _fail(self, message: str) -> None:
        self.stderr.write(f"rempart sites: {message}")
        sys.exit(1)

    def handle(self, *args: Any, **options: Any) -> None:
        from rempart.core.models import City
        from rempart.core.sites_io import SiteImportError, export_sites, import_sites
        from rempart.inputs import InputError, check_size

        city = City.objects.filter(slug=options["city"]).first()
        if city is None:
            self._fail(f"--city {options['city']!r}: no city with that identifier")
            return
        if options["action"] == "export":
            text = json.dumps(export_sites(city.sites.all(), city=city), ensure_ascii=False)
            if options["file"]:
                with open(options["file"], "w", encoding="utf-8") as handle:
                    handle.write(text + "\n")
            else:
                self.stdout.write(text)
            return
        path = options["file"]
        try:
            check_size(os.path.getsize(path), path)
            with open(path, "rb") as handle:
                raw = handle.read()
            saved = import_sites(city, raw, what=path)
        except OSError as exc:
            self._fail(f"{path}: {exc.strerror}")
            return
        except InputError as exc:
            self._fail(str(exc))
            return
        except SiteImportError as exc:
            self.stderr.write(
                f"rempart sites import: {path}: {len(exc.errors)} error(s); nothing written"
            )
            for line in exc.errors:
                self.stderr.write(f"  {line}")
            sys.exit(1)
        self.stdout.write(f"{len(saved)} sites imported into {city.slug}")
