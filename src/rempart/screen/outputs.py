"""The screening's reports: the ranked table (CSV and HTML) and the summary map (HTML).

Ranking (:func:`rank`): sites by the test energy of their required rating (IWA 14-1 test mass and
speed; "exceeds tested speeds" first), then exposed edge length, then crowd capacity (unknown
last), then kinetic energy and speed at the site, then site id.

``ranked.csv`` keeps stable machine headers (``rank, site_id, kind, ...``; the names of
:data:`CSV_COLUMNS`). ``ranked.html`` and ``map.html`` are for people: every label in words in
the chosen language (``en`` or ``fr``), no raw codes, and they are offline: inline CSS and
JavaScript, no external resource. The map is an inline SVG drawn in an equirectangular
projection of WGS84 (x = longitude x cos(mean latitude)), with a scale bar, the sites' outlines
where known and a dot at every site point, coloured by the test speed of the required rating.
No background map or country outline is drawn (none is available offline).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from django.utils import translation
from django.utils.formats import get_format, number_format
from django.utils.translation import gettext as _

from rempart.assess.engine.ratings import EXCEEDS, TEST_SPEEDS_KMH

from .tile_assess import CROWD_DENSITY_PER_M2, EDGE_REACH_M, SITE_COLUMNS

#: Languages of the reports.
LANGUAGES = ("en", "fr")

#: Columns of every site's row in the tile files and results.parquet (besides the point
#: ``geometry`` and the outline ``boundary``).
RESULT_COLUMNS = [
    "site_id",
    "kind",
    "name",
    "tile_id",
    "speed_kmh",
    "vehicle",
    "rating",
    "energy_kj",
    *SITE_COLUMNS,
]
#: ranked.csv columns, in order (machine headers: stable): the rank, the results' columns and
#: the site point.
CSV_COLUMNS = ["rank", *RESULT_COLUMNS, "lon", "lat"]

#: Colour of each required test speed (km/h; ``None``: exceeds tested speeds; 0: no approach).
BAND_COLOURS: dict[int | None, str] = {
    0: "#9e9e9e",
    16: "#1a9850",
    32: "#66bd63",
    48: "#d9ef8b",
    64: "#fee08b",
    80: "#fdae61",
    96: "#f46d43",
    112: "#d73027",
    None: "#67001f",
}


def _kind_words() -> dict[str, str]:
    return {
        "highway=pedestrian": _("Pedestrian street or area"),
        "place=square": _("Square"),
        "amenity=marketplace": _("Market"),
        "leisure=stadium": _("Stadium"),
        "amenity=events_venue": _("Event venue"),
        "amenity=theatre": _("Theatre"),
        "amenity=cinema": _("Cinema"),
        "leisure=sports_centre": _("Sports centre"),
        "amenity=school": _("School"),
        "amenity=college": _("College"),
        "amenity=university": _("University"),
        "railway=station": _("Railway station"),
        "public_transport=station": _("Station"),
        "sites-file": _("Site from the sites file"),
    }


def kind_words(kind: str) -> str:
    """The kind of site in words (the OSM tag that selected it, else its key=value)."""
    return _kind_words().get(kind, kind.replace("=", ": ").replace("_", " "))


def band_speed_kmh(rating: str) -> int | None:
    """Test speed (km/h) of a rating written ``V/mass[class]/speed/angle``; ``None`` when it
    exceeds tested speeds; 0 when there is no rating (no approach)."""
    if not isinstance(rating, str) or not rating:
        return 0
    if EXCEEDS in rating:
        return None
    try:
        return int(rating.split("/")[2])
    except (IndexError, ValueError):
        return 0


def band_energy_kj(rating: str) -> float:
    """Test energy (kJ) of a rating: ½ x test mass x test speed²; infinite above tested
    speeds, 0 without a rating."""
    if not isinstance(rating, str) or not rating:
        return 0.0
    speed = band_speed_kmh(rating)
    if speed is None:
        return math.inf
    try:
        mass_kg = float(rating.split("/")[1].split("[")[0])
    except (IndexError, ValueError):
        return 0.0
    return 0.5 * mass_kg * (speed / 3.6) ** 2 / 1000.0


def rank(results: pd.DataFrame) -> pd.DataFrame:
    """The sites in ranking order (see the module)."""
    if results.empty:
        return results
    results = results.copy()
    for name in ("exposed_edge_m", "crowd_capacity", "crowd_source"):
        if name not in results.columns:  # tiles written before these columns existed
            results[name] = "" if name == "crowd_source" else math.nan
    order = pd.DataFrame(
        {
            "band": [-band_energy_kj(r) for r in results["rating"]],
            "edge": -pd.to_numeric(results["exposed_edge_m"], errors="coerce").fillna(-1.0),
            "crowd": -pd.to_numeric(results["crowd_capacity"], errors="coerce").fillna(-1.0),
            "energy": -results["energy_kj"].astype(float),
            "speed": -results["speed_kmh"].astype(float),
            "site": results["site_id"].astype(str),
        },
        index=results.index,
    )
    order = order.sort_values(["band", "edge", "crowd", "energy", "speed", "site"])
    return results.loc[order.index]


def ranked_table(results: gpd.GeoDataFrame) -> pd.DataFrame:
    """The ranked table of :data:`CSV_COLUMNS` (results already ranked)."""
    table = pd.DataFrame(results.drop(columns=["geometry", "boundary"], errors="ignore"))
    table.insert(0, "rank", range(1, len(table) + 1))
    points = results.geometry
    table["lon"] = points.x.round(7).to_numpy() if len(points) else []
    table["lat"] = points.y.round(7).to_numpy() if len(points) else []
    for name in CSV_COLUMNS:
        if name not in table.columns:
            table[name] = pd.NA
    return table[CSV_COLUMNS]


def _num(value: Any, decimals: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "—"
    return str(number_format(value, decimals, use_l10n=True, force_grouping=True))


def _rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """One dict per site: display words and the raw sort keys (words looked up once, numbers
    formatted with the active language's separators)."""
    thousands = str(get_format("THOUSAND_SEPARATOR"))
    decimal = str(get_format("DECIMAL_SEPARATOR"))

    def num(value: Any) -> str:
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return "—"
        text = f"{float(value):,.0f}"
        return text.replace(",", "\x00").replace(".", decimal).replace("\x00", thousands)

    kinds = _kind_words()
    no_name, no_approach = _("(no name)"), _("no road approach found")
    exceeds = _("exceeds tested speeds")
    tagged = _("%(people)s (OpenStreetMap capacity)")
    estimate = _("%(people)s (estimate: area × %(density)s persons/m²)")
    unknown, no_outline, metres = _("unknown"), _("unknown (no outline)"), _("%(edge)s m")
    density = num(CROWD_DENSITY_PER_M2)
    out = []
    for rec in table.to_dict("records"):
        edge = rec["exposed_edge_m"]
        crowd = rec["crowd_capacity"]
        rating = str(rec["rating"] or "")
        kind = str(rec["kind"])
        source = str(rec["crowd_source"] or "")
        if source == "tagged":
            crowd_words = tagged % {"people": num(crowd)}
        elif source == "estimate":
            crowd_words = estimate % {"people": num(crowd), "density": density}
        else:
            crowd_words = unknown
        out.append(
            {
                "rank": int(rec["rank"]),
                "name": str(rec["name"] or "") or no_name,
                "kind": kinds.get(kind) or kind.replace("=", ": ").replace("_", " "),
                "rating": rating.replace(EXCEEDS, exceeds) if rating else no_approach,
                "band": band_speed_kmh(rating),
                "band_kj": band_energy_kj(rating),
                "vehicle": str(rec["vehicle"] or "") or "—",
                "speed": num(float(rec["speed_kmh"])),
                "speed_v": float(rec["speed_kmh"]),
                "edge": num(edge),
                "edge_v": -1.0 if pd.isna(edge) else float(edge),
                "edge_words": no_outline if pd.isna(edge) else metres % {"edge": num(edge)},
                "crowd": crowd_words,
                "crowd_v": -1.0 if pd.isna(crowd) else float(crowd),
                "lon": float(rec["lon"]),
                "lat": float(rec["lat"]),
            }
        )
    return out


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;font-size:.9em}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left}
th{background:#eee;cursor:pointer}
td.n{text-align:right}
.sw{display:inline-block;width:.9em;height:.9em;border:1px solid #555;vertical-align:middle}
#info{border:1px solid #999;padding:.5em;min-height:3em;background:#fafafa;max-width:60em}
"""

_SORT_JS = """
document.querySelectorAll('th[data-col]').forEach(function(th){
 th.addEventListener('click',function(){
  var t=th.closest('table'),b=t.tBodies[0],c=+th.dataset.col,num=th.dataset.num==='1';
  var up=th.dataset.dir!=='asc';th.dataset.dir=up?'asc':'desc';
  var rows=Array.prototype.slice.call(b.rows);
  rows.sort(function(x,y){
   var a=x.cells[c].dataset.v,z=y.cells[c].dataset.v;
   var r=num?(+a)-(+z):a.localeCompare(z);return up?r:-r;});
  rows.forEach(function(r){b.appendChild(r);});});});
"""


def _page(title: str, body: str, script: str) -> str:
    lang = translation.get_language() or "en"
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"{body}\n<script>{script}</script>\n</body>\n</html>\n"
    )


def _legend() -> str:
    items = []
    for speed in [*TEST_SPEEDS_KMH, None, 0]:
        if speed == 0:
            words = _("no road approach found")
        elif speed is None:
            words = _("exceeds tested speeds")
        else:
            words = _("test speed %(speed)s km/h") % {"speed": speed}
        colour = BAND_COLOURS.get(speed, "#000")
        items.append(f'<li><span class="sw" style="background:{colour}"></span> {words}</li>')
    return (
        f"<h2>{html.escape(_('Required rating'))}</h2>"
        f'<ul style="list-style:none;padding:0">{"".join(items)}</ul>'
    )


def ranked_html(rows: list[dict[str, Any]]) -> str:
    """``ranked.html``: the ranked table with a header row in words, sortable by clicking a
    header (inline JavaScript)."""
    heads: list[tuple[str, str, bool]] = [
        (_("Rank"), "rank", True),
        (_("Name"), "name", False),
        (_("Kind"), "kind", False),
        (_("Required rating"), "rating", False),
        (_("Vehicle"), "vehicle", False),
        (_("Highest speed at the site, km/h"), "speed", True),
        (_("Exposed edge, m"), "edge", True),
        (_("Crowd capacity, people"), "crowd", True),
    ]
    sort_key: dict[str, Callable[[dict[str, Any]], Any]] = {
        "rank": lambda r: r["rank"],
        "rating": lambda r: 1e12 if math.isinf(r["band_kj"]) else r["band_kj"],
        "speed": lambda r: r["speed_v"],
        "edge": lambda r: r["edge_v"],
        "crowd": lambda r: r["crowd_v"],
    }
    th = "".join(
        f'<th data-col="{i}" data-num="{1 if num or key in sort_key else 0}">'
        f"{html.escape(label)}</th>"
        for i, (label, key, num) in enumerate(heads)
    )
    body_rows = []
    for r in rows:
        cells = []
        for _label, key, num in heads:
            raw = sort_key[key](r) if key in sort_key else r[key]
            cls = ' class="n"' if num else ""
            cells.append(
                f'<td{cls} data-v="{html.escape(str(raw))}">{html.escape(str(r[key]))}</td>'
            )
        body_rows.append(f"<tr>{''.join(cells)}</tr>")
    title = _("Screening: sites ranked by required rating")
    note = _(
        "Sites by required rating, then exposed edge length, then crowd capacity. The exposed "
        "edge is the length of the site's outline within %(reach)s m of a road segment "
        "requiring at least the site's rating; it is unknown for a site known only as a point. "
        "Click a column header to sort."
    ) % {"reach": _num(EDGE_REACH_M, 0)}
    body = (
        f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(note)}</p>\n"
        f"<table>\n<thead><tr>{th}</tr></thead>\n<tbody>\n"
        + "\n".join(body_rows)
        + "\n</tbody>\n</table>"
    )
    return _page(title, body, _SORT_JS)


def _nice_length_m(span_m: float) -> float:
    """A round length (1, 2 or 5 x 10^k m) of about a fifth of ``span_m``."""
    target = max(span_m / 5.0, 1.0)
    power = 10 ** math.floor(math.log10(target))
    for step in (5, 2, 1):
        if step * power <= target:
            return float(step * power)
    return float(power)


def map_html(results: gpd.GeoDataFrame, rows: list[dict[str, Any]]) -> str:
    """``map.html``: the sites on an inline SVG map (see the module), a legend, a scale bar;
    hovering a site shows its name, rating, speed, exposed edge and crowd, clicking shows them
    in the box under the map."""
    width, height, pad = 1000.0, 700.0, 30.0
    boundaries = list(results["boundary"]) if "boundary" in results.columns else []
    lons = [r["lon"] for r in rows]
    lats = [r["lat"] for r in rows]
    for geom in boundaries:
        if geom is not None and not geom.is_empty:
            x0, y0, x1, y1 = geom.bounds
            lons += [x0, x1]
            lats += [y0, y1]
    if not lons:
        lons, lats = [0.0], [0.0]
    cos_lat = math.cos(math.radians((min(lats) + max(lats)) / 2.0))
    span_x = max((max(lons) - min(lons)) * cos_lat, 1e-6)
    span_y = max(max(lats) - min(lats), 1e-6)
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)  # px per degree

    lon_min, lat_min = min(lons), min(lats)

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (
            pad + (lon - lon_min) * cos_lat * scale,
            height - pad - (lat - lat_min) * scale,
        )

    tip_words = _(
        "%(name)s — %(kind)s; required rating: %(rating)s; speed: %(speed)s km/h; "
        "exposed edge: %(edge)s; crowd: %(crowd)s"
    )
    shapes = []
    for i, r in enumerate(rows):
        colour = BAND_COLOURS.get(r["band"], "#000")
        tip = tip_words % {**r, "edge": r["edge_words"]}
        geom = boundaries[i] if i < len(boundaries) else None
        parts = []
        if geom is not None and not geom.is_empty:
            pts = " ".join("{:.1f},{:.1f}".format(*xy(x, y)) for x, y in geom.exterior.coords)
            parts.append(
                f'<polygon points="{pts}" fill="{colour}" fill-opacity="0.5" stroke="#333"/>'
            )
        cx, cy = xy(r["lon"], r["lat"])
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{colour}" stroke="#333"/>')
        shapes.append(
            f'<g class="site" data-info="{html.escape(tip)}"><title>{html.escape(tip)}</title>'
            + "".join(parts)
            + "</g>"
        )
    metres_per_degree = 6_371_008.8 * math.pi / 180.0
    span_m = (width - 2 * pad) / scale * metres_per_degree
    bar_m = _nice_length_m(span_m)
    bar_px = bar_m / metres_per_degree * scale
    bar_words = (
        _("%(km)s km") % {"km": _num(bar_m / 1000.0, 0 if bar_m >= 1000 else 1)}
        if bar_m >= 100
        else _("%(edge)s m") % {"edge": _num(bar_m, 0)}
    )
    scale_bar = (
        f'<g><line x1="{pad}" y1="{height - 10}" x2="{pad + bar_px:.1f}" y2="{height - 10}" '
        f'stroke="#000" stroke-width="3"/><text x="{pad}" y="{height - 15}" font-size="12">'
        f"{html.escape(bar_words)}</text></g>"
    )
    svg = (
        f'<svg viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" style="background:#f4f1ea;'
        f'border:1px solid #999" role="img" aria-label="{html.escape(_("Map of the sites"))}">'
        + "".join(shapes)
        + scale_bar
        + "</svg>"
    )
    title = _("Screening: map of the sites by required rating")
    hint = _("Hover over a site for its details, or click it to show them below the map.")
    body = (
        f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(hint)}</p>\n"
        f'<div style="display:flex;gap:1.5em;align-items:flex-start">{svg}'
        f"<div>{_legend()}</div></div>\n"
        f'<div id="info" aria-live="polite">{html.escape(_("No site chosen."))}</div>'
    )
    script = (
        "document.querySelectorAll('g.site').forEach(function(g){g.style.cursor='pointer';"
        "g.addEventListener('click',function(){document.getElementById('info').textContent="
        "g.dataset.info;});});"
    )
    return _page(title, body, script)


def check_language(lang: str) -> None:
    """Raise ValueError (one sentence) unless ``lang`` is one of :data:`LANGUAGES`."""
    if lang not in LANGUAGES:
        raise ValueError(
            f"The report language {lang!r} is not available; expected one of "
            f"{', '.join(LANGUAGES)}."
        )


def write_reports(results: gpd.GeoDataFrame, out_dir: str | Path, lang: str = "en") -> None:
    """Write ``ranked.csv``, ``ranked.html`` and ``map.html`` in ``out_dir`` from ranked results
    (each file written whole under a temporary name, then renamed)."""
    check_language(lang)
    out = Path(out_dir)
    table = ranked_table(results)
    with translation.override(lang):
        rows = _rows(table)
        pages = {"ranked.html": ranked_html(rows), "map.html": map_html(results, rows)}
    tmp = out / ".ranked.csv.tmp"
    table.to_csv(tmp, index=False)
    tmp.replace(out / "ranked.csv")
    for name, text in pages.items():
        part = out / f".{name}.tmp"
        part.write_text(text, encoding="utf-8")
        part.replace(out / name)
