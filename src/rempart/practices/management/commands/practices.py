from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rempart.core import audit


class Command(BaseCommand):
    help = (
        "Practice catalogue: import/export JSON or CSV, ranked search, reindex.\n\n"
        "  rempart practices import FILE [--partial]\n"
        "  rempart practices export FILE          (format from the extension: .json or .csv)\n"
        '  rempart practices search "QUERY" [--json] [--limit N]\n'
        "  rempart practices reindex [--memory-only]\n"
        "  rempart practices remind               (e-mail reviewers whose review is due)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import practices from a .json or .csv file")
        imp.add_argument("file", type=Path)
        imp.add_argument(
            "--partial",
            action="store_true",
            help="write the valid rows even when others are rejected",
        )
        exp = sub.add_parser("export", help="export every practice to a .json or .csv file")
        exp.add_argument("file", type=Path)
        find = sub.add_parser(
            "search",
            help="ranked search of published practices, in any of the six languages",
        )
        find.add_argument("query")
        find.add_argument("--json", action="store_true", help="print a JSON list, best first")
        find.add_argument("--limit", type=int, default=10)
        reindex = sub.add_parser(
            "reindex",
            help="rebuild the search index of every practice, then build and save the "
            "in-memory index",
        )
        reindex.add_argument(
            "--memory-only",
            action="store_true",
            help="only build and save the in-memory index from the current search documents",
        )
        sub.add_parser(
            "remind",
            help="e-mail reviewers whose review is due within two days or overdue (run daily)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "import":
            self._import(options["file"], options["partial"])
        elif action == "export":
            self._export(options["file"])
        elif action == "search":
            self._search(options["query"], options["json"], options["limit"])
        elif action == "reindex":
            self._reindex(options["memory_only"])
        elif action == "remind":
            from rempart.practices.notifications import remind_due_reviews

            self.stdout.write(f"{remind_due_reviews()} review reminder(s) sent.\n")

    def _reindex(self, memory_only: bool) -> None:
        import time

        from rempart.practices import index_builder
        from rempart.practices.search import reindex_all

        if not memory_only:
            self.stdout.write(f"{reindex_all()} practices indexed.\n")
        start = time.perf_counter()
        path = index_builder.build_and_save()
        elapsed_s = time.perf_counter() - start
        self.stdout.write(f"In-memory index built and saved in {elapsed_s:.1f} s: {path}\n")

    def _import(self, path: Path, partial: bool) -> None:
        from rempart.practices.io import import_file

        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            report = import_file(path, partial=partial)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.rejected:
            self.stderr.write(f"rejected {line}")
        audit.record(
            "import",
            object_type="practices.practice",
            object_repr=str(path)[:200],
            detail={
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": len(report.rejected),
                "partial": partial,
            },
        )
        if report.rejected and not partial:
            raise CommandError(
                f"{path}: {len(report.rejected)} problem(s), nothing imported "
                "(fix them, or use --partial to import the valid rows)"
            )
        self.stdout.write(
            f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged"
            + (f", {len(report.rejected)} problem(s) skipped" if report.rejected else "")
            + ".\n"
        )
        if report.rejected:
            raise CommandError(f"{path}: some rows were rejected (see above)")

    def _export(self, path: Path) -> None:
        from rempart.practices.io import export_file, file_format

        try:
            file_format(path)
            count = export_file(path)
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        audit.record(
            "export",
            object_type="practices.practice",
            object_repr=str(path)[:200],
            detail={"count": count},
        )
        self.stdout.write(f"{count} practices written to {path}.\n")

    def _search(self, query: str, as_json: bool, limit: int) -> None:
        from rempart.practices.search import load_practices, search

        if not query.strip():
            raise CommandError("search: the query is empty")
        if limit < 1:
            raise CommandError(f"--limit {limit}: expected a positive number")
        result = search(query, limit=limit, facets=False)
        scores = {h.practice_id: h.score for h in result.hits}
        rows: list[dict[str, Any]] = [
            {
                "id": p.pk,
                "title": p.title,
                "score": round(scores[p.pk], 6),
                "evidence": p.evidence_label,
            }
            for p in load_practices(result.ids)
        ]
        if as_json:
            self.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
            return
        if not rows:
            self.stdout.write("No practice matches.\n")
        for rank, row in enumerate(rows, start=1):
            evidence = f", {row['evidence']}" if row["evidence"] else ""
            self.stdout.write(
                f"{rank:>3}. [{row['id']}] {row['title']}  (score {row['score']:.3f}{evidence})\n"
            )
