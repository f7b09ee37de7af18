"""`rempart screen`: country-scale screening of crowded public spaces (rempart.screen)."""

from __future__ import annotations

import argparse
import sys

from django.core.management.base import BaseCommand


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rempart screen",
        description=(
            "Find the crowded public spaces of an OSM extract (or take --sites), cut them into "
            "tiles with a halo and assess every tile on Dask; writes results.parquet, ranked.csv, "
            "ranked.html, map.html and tiles/*.parquet in --out (a rerun resumes the missing "
            "tiles). `rempart screen import --help`: load chosen sites into a city."
        ),
    )
    parser.add_argument("--osm", required=True, help="the region's .osm.pbf (or .osm) extract")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--sites", help="GeoJSON FeatureCollection of sites instead of OSM finding")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers (0: no Dask)")
    parser.add_argument(
        "--scheduler", help="address of an existing Dask scheduler, tcp://host:8786"
    )
    parser.add_argument("--memory-limit", default="4GiB", help="memory limit per worker (4GiB)")
    parser.add_argument("--retries", type=int, default=2, help="retries of a failed tile (2)")
    parser.add_argument("--geojson", action="store_true", help="also write results.geojson")
    parser.add_argument(
        "--lang", default="en", help="language of ranked.html and map.html: en or fr (en)"
    )
    parser.add_argument(
        "--tile-km", type=float, default=5.0, help="side of the tiles' grid cells, km (5)"
    )
    parser.add_argument(
        "--node-index",
        default="flex_mem",
        help="pyosmium node-location index of the cut: flex_mem (default, in memory) or "
        "sparse_file_array,PATH / dense_file_array,PATH (on disk, for country extracts)",
    )
    return parser


def _node_index_problem(value: str) -> str | None:
    """Why ``value`` is not a pyosmium node-location index, or None."""
    import osmium.index

    name, _, path = value.partition(",")
    known = osmium.index.map_types()
    if name not in known:
        return f"--node-index {value!r} is not a node-location index; expected one of {', '.join(known)}"
    if name.endswith("_file_array") and not path:
        return f"--node-index {value!r} keeps the index in a file; expected {name},PATH"
    return None


def _import_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rempart screen import",
        description=(
            "Load chosen sites of a screening (DIR/results.parquet) into a city as sites, through "
            "the site import (same checks, all or nothing, one audit entry); a re-run updates "
            "the same sites (known by their OSM id)."
        ),
    )
    parser.add_argument("dir", help="the --out directory of a screening")
    parser.add_argument("--city", required=True, help="the city's identifier (slug)")
    chosen = parser.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--top", type=int, help="the first N sites of the ranking")
    chosen.add_argument("--ids", help="site ids, comma-separated (w123,n45)")
    parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    return parser


def import_main(argv: list[str]) -> int:
    """``rempart screen import``; bad input prints one sentence and returns 2, nothing written."""
    from rempart.core.models import City
    from rempart.core.sites_io import SiteImportError
    from rempart.screen.importer import ScreenImportError, import_screened

    args = _import_parser().parse_args(argv)
    city = City.objects.filter(slug=args.city).first()
    if city is None:
        print(
            f"rempart screen import: --city {args.city!r} is not a city of the platform; "
            "expected the identifier (slug) of an existing city.",
            file=sys.stderr,
        )
        return 2
    ids = [i.strip() for i in args.ids.split(",") if i.strip()] if args.ids else None
    if args.ids is not None and not ids:
        print(
            f"rempart screen import: --ids {args.ids!r} names no site; expected ids such as w123.",
            file=sys.stderr,
        )
        return 2
    try:
        report = import_screened(city, args.dir, top=args.top, ids=ids, dry_run=args.dry_run)
    except ScreenImportError as err:
        print(f"rempart screen import: {err}", file=sys.stderr)
        return 2
    except SiteImportError as err:
        print(
            f"rempart screen import: {len(err.errors)} site(s) refused; nothing written.",
            file=sys.stderr,
        )
        for line in err.errors:
            print(f"  {line}", file=sys.stderr)
        return 2
    verb = "would be" if report.dry_run else "were"
    print(
        f"{len(report.created)} sites {verb} created and {len(report.updated)} updated in "
        f"{city.slug}" + (" (dry run: nothing written)" if report.dry_run else "")
    )
    return 0


def main(argv: list[str]) -> int:
    """Run the screening; bad input prints one sentence and returns 2."""
    from pathlib import Path

    from rempart.screen.outputs import LANGUAGES
    from rempart.screen.runner import OutDirInUse, load_sites_geojson, screen

    if argv[:1] == ["import"]:
        return import_main(argv[1:])
    args = _parser().parse_args(argv)
    if args.lang not in LANGUAGES:
        print(
            f"rempart screen: --lang {args.lang!r} is not available; expected en or fr.",
            file=sys.stderr,
        )
        return 2
    if not Path(args.osm).is_file():
        print(
            f"rempart screen: the OSM file {args.osm} does not exist; expected an .osm.pbf file.",
            file=sys.stderr,
        )
        return 2
    if not (0.5 <= args.tile_km <= 100.0):
        print(
            f"rempart screen: --tile-km {args.tile_km:g} is out of range; expected 0.5 to 100 km.",
            file=sys.stderr,
        )
        return 2
    problem = _node_index_problem(args.node_index)
    if problem:
        print(f"rempart screen: {problem}.", file=sys.stderr)
        return 2
    if args.workers < 0:
        print(
            f"rempart screen: --workers {args.workers} is negative; expected 0 or more.",
            file=sys.stderr,
        )
        return 2
    try:
        sites = load_sites_geojson(args.sites) if args.sites else None
    except ValueError as err:
        print(f"rempart screen: {err}", file=sys.stderr)
        return 2

    def started(link: str | None) -> None:
        print(f"Dask dashboard: {link}", file=sys.stderr)

    try:
        report = screen(
            args.osm,
            args.out,
            sites=sites,
            workers=args.workers,
            scheduler=args.scheduler,
            geojson=args.geojson,
            retries=args.retries,
            memory_limit=args.memory_limit,
            node_index=args.node_index,
            tile_m=args.tile_km * 1000.0,
            on_start=started,
            lang=args.lang,
        )
    except OutDirInUse as err:
        print(f"rempart screen: {err}", file=sys.stderr)
        return 2
    print(
        f"{report.n_sites} sites; {len(report.computed)} tiles computed, "
        f"{len(report.skipped)} already done; ranked table: {Path(args.out) / 'ranked.csv'}, "
        f"ranked.html and map.html"
    )
    return 0


class Command(BaseCommand):
    help = (
        "Country-scale screening: every crowded public space of an OSM extract assessed tile by "
        "tile on Dask (`rempart screen --help`); `rempart screen import DIR --city SLUG` loads "
        "chosen sites into a city."
    )

    def run_from_argv(self, argv: list[str]) -> None:
        code = main(argv[2:])
        if code:
            sys.exit(code)
