"""``rempart screen import DIR --city SLUG``: chosen screened sites become sites of a city.

The sites are chosen from ``DIR/results.parquet`` by rank (``top``: the first N of the ranking
of :mod:`.outputs`) or by id (``ids``: ``w123``, ``n45`` or a sites-file id). Each becomes a
GeoJSON Feature and goes through the platform's own site import
(:func:`rempart.core.sites_io.import_sites`): the same validation (the city's map data: a site
outside it is refused with a sentence), all or nothing, one audit entry (format
``screening``).

Boundary: the site's outline where OSM gives an area, else a circle of :data:`POINT_BUFFER_M`
around its point (64 vertices, drawn in an azimuthal equidistant projection centred on the
point, WGS84 ellipsoid), the radius within which the screening looked for its approaches.

Idempotence: a screened site is known by its OSM id, stored in ``Site.osm_ref`` (``way/123``,
``node/45``; ``screening/<id>`` for a sites-file id). A site of the city with that reference is
updated under its current name (a rename in the platform is kept); otherwise the site takes its
OSM name (or "<kind> <id>" without one), with " (<id>)" added when another site of the city or
of the same import already has that name. Re-running an import updates, never duplicates.

Crowd: ``peak_crowd`` is the screening's crowd capacity (OSM ``capacity`` or the area estimate,
capped at :data:`rempart.core.sites_io.MAX_CROWD`); ``typical_crowd`` is left at 0.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from django.utils.translation import gettext as _
from pyproj import Transformer

from .outputs import kind_words, rank
from .runner import SITE_RADIUS_M

#: Radius (m) of the circle drawn for a site known only as a point: the radius of its approaches.
POINT_BUFFER_M = SITE_RADIUS_M

#: Site kind (:class:`rempart.core.models.Site.Kind`) of each OSM selection tag.
SITE_KIND: dict[str, str] = {
    "highway=pedestrian": "street",
    "place=square": "square",
    "amenity=marketplace": "market",
    "leisure=stadium": "event_area",
    "amenity=events_venue": "event_area",
    "amenity=theatre": "event_area",
    "amenity=cinema": "event_area",
    "leisure=sports_centre": "event_area",
    "amenity=school": "school_surroundings",
    "amenity=college": "school_surroundings",
    "amenity=university": "school_surroundings",
    "railway=station": "transport_hub",
    "public_transport=station": "transport_hub",
}


class ScreenImportError(ValueError):
    """One sentence naming what is wrong, its value and what was expected."""


@dataclass
class ImportReport:
    """What an import did (or, with ``dry_run``, would do)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    dry_run: bool = False


def osm_ref(site_id: str) -> str:
    """``Site.osm_ref`` of a screened site id: ``w123`` -> ``way/123``, ``n45`` -> ``node/45``,
    anything else -> ``screening/<id>`` (at most 40 characters)."""
    for prefix, word in (("w", "way"), ("n", "node"), ("r", "relation")):
        if site_id.startswith(prefix) and site_id[1:].isdigit():
            return f"{word}/{site_id[1:]}"
    return f"screening/{site_id}"[:40]


def load_results(out_dir: str | Path) -> gpd.GeoDataFrame:
    """The ranked results of a screening output directory.

    Raises
    ------
    ScreenImportError
        When the directory or its results.parquet is missing or unreadable.
    """
    out = Path(out_dir)
    if not out.is_dir():
        raise ScreenImportError(
            _("The directory %(dir)s does not exist; expected the --out directory of a screening.")
            % {"dir": out}
        )
    path = out / "results.parquet"
    if not path.is_file():
        raise ScreenImportError(
            _(
                "%(dir)s has no results.parquet; expected the --out directory of a finished screening."
            )
            % {"dir": out}
        )
    try:
        results = gpd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types
        raise ScreenImportError(
            _("%(path)s cannot be read (%(error)s); expected the screening's GeoParquet results.")
            % {"path": path, "error": err}
        ) from None
    return rank(results)


def choose(
    results: gpd.GeoDataFrame, top: int | None = None, ids: list[str] | None = None
) -> gpd.GeoDataFrame:
    """The sites to import: the first ``top`` of the ranking, or the given ``ids`` (in the given
    order). Raises :class:`ScreenImportError` on an unknown id or a ``top`` below 1."""
    if ids:
        known = set(results["site_id"].astype(str))
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ScreenImportError(
                _(
                    "The site id %(ids)s is not in the screening results; expected ids such as %(example)s."
                )
                % {
                    "ids": ", ".join(unknown),
                    "example": ", ".join(results["site_id"].astype(str).head(3)) or "w123",
                }
            )
        by_id = results.set_index(results["site_id"].astype(str))
        return by_id.loc[list(dict.fromkeys(ids))].reset_index(drop=True)
    if top is None or top < 1:
        raise ScreenImportError(
            _("--top %(top)s is not a number of sites; expected 1 or more.") % {"top": top}
        )
    return results.head(top)


def circle(lon: float, lat: float, radius_m: float, vertices: int = 64) -> shapely.Polygon:
    """A circle of ``radius_m`` around a WGS84 point, as a WGS84 polygon (see the module)."""
    proj = f"+proj=aeqd +lat_0={lat:.8f} +lon_0={lon:.8f} +ellps=WGS84 +units=m +no_defs"
    back = Transformer.from_crs(proj, "EPSG:4326", always_xy=True)
    angles = [2 * math.pi * k / vertices for k in range(vertices)]
    xs = [radius_m * math.cos(a) for a in angles]
    ys = [radius_m * math.sin(a) for a in angles]
    lons, lats = back.transform(xs, ys)
    return shapely.Polygon(list(zip(lons, lats, strict=True)))


def _features(
    chosen: gpd.GeoDataFrame, existing: dict[str, str], taken: set[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """(FeatureCollection, name -> osm_ref) of the chosen sites (names: see the module)."""
    from rempart.core.sites_io import MAX_CROWD

    features = []
    refs: dict[str, str] = {}
    for rec, point, outline in zip(
        chosen.to_dict("records"),
        chosen.geometry,
        chosen["boundary"] if "boundary" in chosen.columns else [None] * len(chosen),
        strict=True,
    ):
        sid = str(rec["site_id"])
        ref = osm_ref(sid)
        name = existing.get(ref)
        if name is None:
            name = str(rec["name"] or "").strip() or f"{kind_words(str(rec['kind']))} {sid}"
            if name in taken:
                name = f"{name} ({sid})"
        taken.add(name)
        refs[name] = ref
        geom = outline if outline is not None and not outline.is_empty else None
        if geom is None:
            geom = circle(float(point.x), float(point.y), POINT_BUFFER_M)
        crowd = rec.get("crowd_capacity")
        peak = 0 if crowd is None or pd.isna(crowd) else min(int(crowd), MAX_CROWD)
        description = _(
            "From the screening (%(ref)s): required rating %(rating)s, highest speed "
            "%(speed).0f km/h, exposed edge %(edge)s m."
        ) % {
            "ref": ref,
            "rating": rec["rating"] or _("none"),
            "speed": float(rec["speed_kmh"]),
            "edge": "—" if pd.isna(rec["exposed_edge_m"]) else f"{rec['exposed_edge_m']:.0f}",
        }
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(geom)),
                "properties": {
                    "name": name,
                    "kind": SITE_KIND.get(str(rec["kind"]), "other"),
                    "peak_crowd": peak,
                    "description": description,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}, refs


def import_screened(
    city: Any,
    out_dir: str | Path,
    top: int | None = None,
    ids: list[str] | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import the chosen screened sites into ``city`` (see the module); with ``dry_run``,
    validate and report without writing anything.

    Raises
    ------
    ScreenImportError
        Bad directory, results or choice (one sentence).
    rempart.core.sites_io.SiteImportError
        A site refused by the site import (one line per site, e.g. outside the city's map).
    """
    from rempart.core.models import Site
    from rempart.core.sites_io import import_sites, parse_feature_collection

    chosen = choose(load_results(out_dir), top=top, ids=ids)
    stored = Site.objects.filter(city=city).values_list("name", "osm_ref")
    existing = {ref: name for name, ref in stored if ref}
    fc, refs = _features(chosen, existing, {name for name, _ref in stored})
    names = [f["properties"]["name"] for f in fc["features"]]
    known = set(Site.objects.filter(city=city, name__in=names).values_list("name", flat=True))
    report = ImportReport(
        created=[n for n in names if n not in known],
        updated=[n for n in names if n in known],
        dry_run=dry_run,
    )
    what = str(Path(out_dir) / "results.parquet")
    if dry_run:
        parse_feature_collection(fc, city=city, what=what)
    else:
        import_sites(city, fc, what=what, osm_refs=refs, source="screening")
    return report
