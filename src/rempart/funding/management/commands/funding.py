from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rempart.funding import countries, partners
from rempart.funding.calls_io import CallFileError, export_calls, import_calls
from rempart.funding.cordis import CordisError
from rempart.funding.eligibility import LEGAL_TYPES, Member, check
from rempart.funding.importer import import_cordis
from rempart.funding.models import Call
from rempart.funding.portal import DEFAULT_QUERIES, Portal, PortalError
from rempart.funding.project_io import ProjectFileError, import_project
from rempart.funding.reminders import remind
from rempart.funding.sync import sync


class Command(BaseCommand):
    help = (
        "Funding: calls, consortium eligibility, partner search from CORDIS.\n\n"
        "  rempart funding sync [--query TEXT ...] [--max-age-h H]\n"
        "  rempart funding import-cordis project.csv organization.csv\n"
        "  rempart funding calls-import FILE.json | calls-export FILE.json\n"
        "  rempart funding check CONSORTIUM.json [--call TOPIC_ID]\n"
        "  rempart funding partners [--country FR] [--type police] [--topic WORDS]\n"
        "  rempart funding project-import FILE.json --city SLUG --organisation NAME\n"
        "  rempart funding remind              (e-mail deadlines due within 7 days; run daily)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        syn = sub.add_parser("sync", help="read current calls from the EU Funding & Tenders portal")
        syn.add_argument(
            "--query",
            action="append",
            default=[],
            help="search text (repeatable; default: HORIZON-CL3 and ISF)",
        )
        syn.add_argument(
            "--max-age-h", type=float, default=24.0, help="reuse cached answers this young"
        )
        cordis = sub.add_parser(
            "import-cordis", help="load CORDIS project.csv and organization.csv"
        )
        cordis.add_argument("projects", type=Path)
        cordis.add_argument("organisations", type=Path)
        imp = sub.add_parser("calls-import", help="create or update calls from a JSON file")
        imp.add_argument("file", type=Path)
        exp = sub.add_parser("calls-export", help="write every call to a JSON file")
        exp.add_argument("file", type=Path)
        chk = sub.add_parser(
            "check",
            help="which calls a consortium (JSON list of members) is eligible for, and why not",
        )
        chk.add_argument("file", type=Path)
        chk.add_argument("--call", default="", help="only this topic id")
        proj = sub.add_parser("project-import", help="create a funded project from a JSON file")
        proj.add_argument("file", type=Path)
        proj.add_argument("--city", required=True, help="the city's identifier (slug)")
        proj.add_argument("--organisation", required=True, help="the organisation's name")
        sub.add_parser("remind", help="e-mail the deadlines due within 7 days (run daily)")
        find = sub.add_parser("partners", help="past participants of security research projects")
        find.add_argument("--country", default="")
        find.add_argument("--type", default="", choices=["", *LEGAL_TYPES])
        find.add_argument("--topic", default="")
        find.add_argument("--limit", type=int, default=20)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "sync":
                self._sync(options["query"], options["max_age_h"])
            elif action == "import-cordis":
                summary = import_cordis(options["projects"], options["organisations"])
                self.stdout.write(
                    f"Loaded {summary.projects} projects ({summary.security_related} in security "
                    f"research) and {summary.participations} participations."
                )
            elif action == "calls-import":
                self.stdout.write(f"Imported {import_calls(options['file'])} calls.")
            elif action == "calls-export":
                options["file"].write_text(
                    json.dumps(export_calls(), indent=2, ensure_ascii=False), encoding="utf-8"
                )
                self.stdout.write(f"Wrote {Call.objects.count()} calls to {options['file']}.")
            elif action == "project-import":
                self._project_import(options["file"], options["city"], options["organisation"])
            elif action == "remind":
                self.stdout.write(f"Reminded {remind()} deadlines.")
            elif action == "check":
                self._check(options["file"], options["call"])
            else:
                if not 1 <= options["limit"] <= 500:
                    raise CommandError(f"--limit {options['limit']}: expected 1 to 500")
                for c in partners.search(
                    country=countries.normalise(options["country"]) if options["country"] else "",
                    legal_type=options["type"],
                    topic=options["topic"],
                    limit=options["limit"],
                ):
                    self.stdout.write(
                        f"{c.name} ({c.country}, {LEGAL_TYPES.get(c.legal_type, c.legal_type)}): "
                        f"{c.projects} projects, {c.coordinated} coordinated — "
                        + ", ".join(c.acronyms)
                    )
        except (CordisError, CallFileError, PortalError, ProjectFileError) as error:
            raise CommandError(str(error)) from None

    def _project_import(self, path: Path, city_slug: str, organisation_name: str) -> None:
        from rempart.core.models import City, Organisation

        city = City.objects.filter(slug=city_slug).first()
        if city is None:
            raise CommandError(f"--city {city_slug!r}: no city with that identifier")
        organisation = Organisation.objects.filter(name=organisation_name, cities=city).first()
        if organisation is None:
            raise CommandError(
                f"--organisation {organisation_name!r}: no organisation of that name works for "
                f"{city.name}"
            )
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            raise CommandError(f"{path}: not a readable UTF-8 JSON file ({error})") from None
        project = import_project(raw, city, organisation)
        self.stdout.write(f"Created {project} for {city.name}.")

    def _sync(self, queries: list[str], max_age_h: float) -> None:
        if not 0 <= max_age_h <= 24 * 30:
            raise CommandError(f"--max-age-h {max_age_h}: expected 0 to 720 hours")
        for text in queries:
            if not text.strip() or len(text) > 200:
                raise CommandError(f"--query {text!r}: expected 1 to 200 characters")
        portal = Portal(
            settings.FUNDING_SEARCH_URL,
            settings.FUNDING_TOPIC_URL,
            cache_dir=Path(settings.VAR_DIR) / "cache" / "funding",
            max_age_s=max_age_h * 3600,
        )
        summary = sync(portal, queries or list(DEFAULT_QUERIES))
        self.stdout.write(
            f"Portal: {summary.found} topics found, {summary.skipped_closed} past their "
            f"deadline skipped, {summary.created} new calls, {summary.updated} updated "
            f"({summary.requests} requests)."
        )

    def _check(self, path: Path, topic: str) -> None:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            raise CommandError(f"{path}: not a readable UTF-8 JSON file ({error})") from None
        if not isinstance(raw, list) or not raw or len(raw) > 500:
            raise CommandError(f"{path}: expected a JSON list of 1 to 500 members")
        members = []
        for index, item in enumerate(raw, start=1):
            if not isinstance(item, dict):
                raise CommandError(f"{path}: member {index} is not an object")
            try:
                member = Member(
                    str(item["name"]),
                    countries.normalise(str(item["country"])),
                    str(item["legal_type"]),
                    str(item.get("role", "beneficiary")),
                    str(item.get("group", "")),
                )
            except KeyError as error:
                raise CommandError(f"{path}: member {index} has no {error.args[0]}") from None
            if member.legal_type not in LEGAL_TYPES:
                raise CommandError(
                    f"{path}: member {index} legal_type {member.legal_type!r} is not one of "
                    f"{', '.join(LEGAL_TYPES)}"
                )
            members.append(member)
        calls = Call.objects.all()
        if topic:
            calls = calls.filter(topic_id=topic)
            if not calls.exists():
                raise CommandError(f"no call with topic id {topic!r}")
        for call in calls:
            failures = check(members, call.rules)
            if not failures:
                self.stdout.write(f"ELIGIBLE  {call.topic_id}  {call.title}")
            else:
                self.stdout.write(f"NOT ELIGIBLE  {call.topic_id}  {call.title}")
                for failure in failures:
                    self.stdout.write(f"  - {failure.sentence}")
