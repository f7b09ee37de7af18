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
            "tiles with a halo and assess every tile on Dask; writes results.parquet, ranked.csv "
            "and tiles/*.parquet in --out (a rerun resumes the missing tiles)."
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
    return parser


def main(argv: list[str]) -> int:
    """Run the screening; bad input prints one sentence and returns 2."""
    from pathlib import Path

    from rempart.screen.runner import load_sites_geojson, screen

    args = _parser().parse_args(argv)
    if not Path(args.osm).is_file():
        print(
            f"rempart screen: the OSM file {args.osm} does not exist; expected an .osm.pbf file.",
            file=sys.stderr,
        )
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

    report = screen(
        args.osm,
        args.out,
        sites=sites,
        workers=args.workers,
        scheduler=args.scheduler,
        geojson=args.geojson,
        retries=args.retries,
        memory_limit=args.memory_limit,
        on_start=started,
    )
    print(
        f"{report.n_sites} sites; {len(report.computed)} tiles computed, "
        f"{len(report.skipped)} already done; ranked table: {Path(args.out) / 'ranked.csv'}"
    )
    return 0


class Command(BaseCommand):
    help = (
        "Country-scale screening: every crowded public space of an OSM extract assessed tile by "
        "tile on Dask (`rempart screen --help`)."
    )

    def run_from_argv(self, argv: list[str]) -> None:
        code = main(argv[2:])
        if code:
            sys.exit(code)
