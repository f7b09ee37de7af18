"""Outputs: JSON (via ``SiteResult.to_dict``), GeoJSON, a readable text table and a
self-contained offline HTML report (inline SVG map in the local metric projection, no CDN).

Hand-written: the layout of the report; the SVG is drawn directly from the local coordinates.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .entries import runup_xy
from .run import SiteResult

_SPEED_COLOURS = (
    (0, "#2c7bb6"),
    (16, "#00a6ca"),
    (32, "#00ccbc"),
    (48, "#90eb9d"),
    (64, "#ffff8c"),
    (80, "#f9d057"),
    (96, "#f29e2e"),
    (112, "#e76818"),
    (130, "#d7191c"),
)


def speed_colour(speed_kmh: float) -> str:
    """Colour of a speed on the heat-map scale."""
    colour = _SPEED_COLOURS[0][1]
    for threshold, c in _SPEED_COLOURS:
        if speed_kmh >= threshold:
            colour = c
    return colour


def to_json(results: Sequence[SiteResult]) -> str:
    """JSON text: one object per site, a list when several."""
    data: Any = [r.to_dict() for r in results]
    if len(data) == 1:
        data = data[0]
    return json.dumps(data, ensure_ascii=False, indent=1)


def to_geojson(results: Sequence[SiteResult]) -> dict[str, Any]:
    """One FeatureCollection (WGS84) with layers: site, entry, runup, plan, speed_field."""
    features: list[dict[str, Any]] = []
    for r in results:
        d = r.to_dict()
        features.append(
            {
                "type": "Feature",
                "geometry": d["geometry"],
                "properties": {"layer": "site", "site": r.site},
            }
        )
        for i, e in enumerate(d["entries"]):
            geom = e.get("geometry") or {"type": "Point", "coordinates": [e["lon"], e["lat"]]}
            props = {k: v for k, v in e.items() if k not in ("geometry", "vehicles")}
            props.update({"layer": "entry", "site": r.site, "entry": i})
            props["vehicles"] = [
                {k: v for k, v in ve.items() if k != "runup_geometry"} for ve in e["vehicles"]
            ]
            features.append({"type": "Feature", "geometry": geom, "properties": props})
            for ve in e["vehicles"]:
                if ve.get("runup_geometry") and ve["runup_geometry"]["coordinates"]:
                    features.append(
                        {
                            "type": "Feature",
                            "geometry": ve["runup_geometry"],
                            "properties": {
                                "layer": "runup",
                                "site": r.site,
                                "entry": i,
                                "vehicle": ve["name"],
                                "speed_kmh": ve["speed_kmh"],
                                "runup_m": ve["runup_m"],
                            },
                        }
                    )
        if d["plan"]:
            for p in d["plan"]["positions"]:
                geom = p.get("geometry") or {"type": "Point", "coordinates": [p["lon"], p["lat"]]}
                props = {k: v for k, v in p.items() if k != "geometry"}
                props.update({"layer": "plan", "site": r.site})
                features.append({"type": "Feature", "geometry": geom, "properties": props})
        features.extend(r.speed_field_features())
    return {"type": "FeatureCollection", "features": features}


def to_text(results: Sequence[SiteResult]) -> str:
    """A readable table per site."""
    lines: list[str] = []
    for r in results:
        d = r.to_dict()
        lines.append(f"Site: {r.site}  ({len(d['entries'])} entries)")
        lines.append(
            f"{'#':>3} {'kind':9} {'street':28} {'vehicle':12} {'km/h':>6} {'kJ':>8} {'run-up m':>8}  rating"
        )
        for i, e in enumerate(d["entries"]):
            for ve in e["vehicles"]:
                speed = "-" if ve["speed_kmh"] is None else f"{ve['speed_kmh']:.1f}"
                energy = "-" if ve["energy_kj"] is None else f"{ve['energy_kj']:.0f}"
                run = "-" if ve.get("runup_m") is None else f"{ve['runup_m']:.0f}"
                rating = ve["rating"] or ve.get("blocked", "")
                lines.append(
                    f"{i + 1:>3} {e['kind']:9} {(e['street'] or '-')[:28]:28} {ve['name'][:12]:12} {speed:>6} {energy:>8} {run:>8}  {rating}"
                )
        plan = d["plan"]
        if plan:
            lines.append(
                f"Plan: {len(plan['positions'])} positions, {plan['total_cost_eur']:,} {plan['currency']} ({plan['note']})"
            )
            for p in plan["positions"]:
                lines.append(
                    f"    {p['kind']:8} {p['barrier']:6} {p['rating']:36} {p['width_m']:>6.1f} m {p['n_bollards']:>3} bollards {p['cost_eur']:>10,} at {p['lat']:.6f},{p['lon']:.6f} {p['street']}"
                )
        lines.append("")
    return "\n".join(lines)


def _svg(r: SiteResult, size_px: int = 720) -> str:
    net = r.net
    site = r.geometry_xy
    minx, miny, maxx, maxy = site.buffer(max(r.options.plan_radius_m * 0.6, 120.0)).bounds
    span = max(maxx - minx, maxy - miny)
    scale = size_px / span

    def pt(x: float, y: float) -> str:
        return f"{(x - minx) * scale:.1f},{(maxy - y) * scale:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size_px}" height="{size_px}" viewBox="0 0 {size_px} {size_px}" style="background:#f4f4f0;border:1px solid #999">'
    ]
    from .field import segment_speeds_ms

    speeds = np.vstack([segment_speeds_ms(net, vf) for vf in r.fields]) * 3.6
    with np.errstate(all="ignore"):
        seg_max = np.nanmax(np.where(np.isfinite(speeds), speeds, -1.0), axis=0)
    import shapely

    box = shapely.box(minx, miny, maxx, maxy)
    for link in np.unique(net.link_tree.query(box, predicate="intersects")):
        a, b = int(net.link_offsets[link]), int(net.link_offsets[link + 1])
        for j in range(a, b - 1):
            v = seg_max[j]
            colour = "#bbbbbb" if v < 0 else speed_colour(float(v))
            title = "not traversable" if v < 0 else f"{v:.0f} km/h"
            parts.append(
                f'<polyline points="{pt(net.pt_x[j], net.pt_y[j])} {pt(net.pt_x[j + 1], net.pt_y[j + 1])}" stroke="{colour}" stroke-width="3" fill="none"><title>{title}</title></polyline>'
            )
    polys = list(site.geoms) if site.geom_type == "MultiPolygon" else [site]
    for poly in polys:
        ring = " ".join(pt(x, y) for x, y in poly.exterior.coords)
        parts.append(
            f'<polygon points="{ring}" fill="#7b3294" fill-opacity="0.25" stroke="#7b3294" stroke-width="2"/>'
        )
    for i, e in enumerate(r.entries):
        gov = e.governing()
        gov_xy = runup_xy(net, gov) if gov is not None else []
        if gov is not None and gov_xy:
            parts.append(
                f'<polyline points="{" ".join(pt(x, y) for x, y in gov_xy)}" stroke="#000" stroke-dasharray="6,4" stroke-width="1.5" fill="none"><title>run-up {gov.name} {gov.runup_m} m</title></polyline>'
            )
        if e.kind == "frontage" and len(e.geometry_xy) >= 2:
            parts.append(
                f'<polyline points="{" ".join(pt(x, y) for x, y in e.geometry_xy)}" stroke="#d01c8b" stroke-width="5" fill="none" opacity="0.7"><title>frontage {i + 1}</title></polyline>'
            )
        label = f"{i + 1}"
        parts.append(
            f'<circle cx="{(e.x - minx) * scale:.1f}" cy="{(maxy - e.y) * scale:.1f}" r="7" fill="#fff" stroke="#d01c8b" stroke-width="2"/><text x="{(e.x - minx) * scale:.1f}" y="{(maxy - e.y) * scale + 4:.1f}" font-size="9" text-anchor="middle">{label}</text>'
        )
    if r.plan:
        for p in r.plan.positions:
            colour = "#1a9641" if p.active else "#000000"
            if p.geometry_xy:
                parts.append(
                    f'<polyline points="{" ".join(pt(x, y) for x, y in p.geometry_xy)}" stroke="{colour}" stroke-width="4" fill="none"><title>{html.escape(p.rating)}</title></polyline>'
                )
            else:
                parts.append(
                    f'<rect x="{(p.x - minx) * scale - 5:.1f}" y="{(maxy - p.y) * scale - 5:.1f}" width="10" height="10" fill="{colour}"><title>{html.escape(p.rating)} ({"active" if p.active else "fixed"})</title></rect>'
                )
    bar = max(10.0, 10 ** math.floor(math.log10(span / 4)))
    parts.append(
        f'<line x1="10" y1="{size_px - 12}" x2="{10 + bar * scale:.1f}" y2="{size_px - 12}" stroke="#000" stroke-width="2"/><text x="10" y="{size_px - 16}" font-size="10">{bar:.0f} m</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


_CSS = "body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 5px;text-align:left}h2{margin-top:2em}.legend span{display:inline-block;padding:2px 6px;margin-right:2px}"

_METHOD = """<h2>Method and assumptions</h2>
<ul>
<li>Worst case hostile driver: any route, loops included, one-way and access restrictions ignored; start from rest anywhere; full throttle along the vehicle's acceleration curve (exact integration of v/a(v)), capped at top speed; braking before bends assumed sufficient.</li>
<li>Bends and junction turns cap the speed at sqrt(a_lat R), R the widest line the carriageway allows: R = (Rc - w/2) + w/(1 - cos(theta/2)), bends grouped over 30 m windows so the result does not depend on how densely a curve is drawn.</li>
<li>Frontage: boundary within the frontage distance of a traversable way; the vehicle swerves at its lateral limit; the rated speed is the component normal to the boundary.</li>
<li>Required ratings: IWA 14-1 / ISO 22343-1 notation, lowest standard test speed at or above the assessed speed, 90 degrees; PAS 68 equivalents where PAS 68 has a test vehicle.</li>
<li>Plan: minimum cut on the movement network; costs from an indicative, unsourced table unless a local table was supplied.</li>
<li>Not modelled: impact and penetration, debris, blast, gradient, traffic and parked vehicles, off-road driving beyond the frontage distance. See docs/method.md.</li>
</ul>"""


def to_html(
    results: Sequence[SiteResult], title: str = "rempart vehicle-approach assessment"
) -> str:
    """Self-contained HTML report (works offline: inline CSS and SVG, no scripts, no CDN)."""
    out = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
    ]
    legend = "".join(f'<span style="background:{c}">&ge;{t}</span>' for t, c in _SPEED_COLOURS)
    out.append(
        f"<p class='legend'>Speed field, km/h (maximum over vehicles): {legend} <span style='background:#bbb'>not traversable</span>. Dashed: run-up of the governing vehicle. Squares: barrier positions (black fixed, green active).</p>"
    )
    for r in results:
        d = r.to_dict()
        out.append(f"<h2>{html.escape(r.site)}</h2>")
        out.append(_svg(r))
        out.append(
            "<table><tr><th>#</th><th>kind</th><th>street</th><th>lat, lon</th><th>vehicle</th><th>km/h</th><th>kJ</th><th>run-up m</th><th>from</th><th>bearing</th><th>required rating</th><th>PAS 68</th></tr>"
        )
        for i, e in enumerate(d["entries"]):
            for ve in e["vehicles"]:
                speed = "-" if ve["speed_kmh"] is None else f"{ve['speed_kmh']:.1f}"
                energy = "-" if ve["energy_kj"] is None else f"{ve['energy_kj']:.0f}"
                run = "-" if ve.get("runup_m") is None else f"{ve['runup_m']:.0f}"
                out.append(
                    "<tr>"
                    + "".join(
                        f"<td>{html.escape(str(c))}</td>"
                        for c in (
                            i + 1,
                            e["kind"],
                            e["street"] or "-",
                            f"{e['lat']:.6f}, {e['lon']:.6f}",
                            ve["name"],
                            speed,
                            energy,
                            run,
                            ve.get("runup_start") or ve.get("blocked", ""),
                            ve.get("approach_bearing_deg") or "",
                            ve["rating"] or "-",
                            ve["pas68"] or "-",
                        )
                    )
                    + "</tr>"
                )
        out.append("</table>")
        plan = d["plan"]
        if plan:
            out.append(
                f"<h3>Barrier plan: {len(plan['positions'])} positions, {plan['total_cost_eur']:,} {plan['currency']}</h3><p>{html.escape(plan['note'])}</p>"
            )
            out.append(
                "<table><tr><th>kind</th><th>type</th><th>street</th><th>lat, lon</th><th>width m</th><th>bollards</th><th>rating</th><th>PAS 68</th><th>cost</th></tr>"
            )
            for p in plan["positions"]:
                out.append(
                    "<tr>"
                    + "".join(
                        f"<td>{html.escape(str(c))}</td>"
                        for c in (
                            p["kind"],
                            p["barrier"],
                            p["street"] or "-",
                            f"{p['lat']:.6f}, {p['lon']:.6f}",
                            p["width_m"],
                            p["n_bollards"],
                            p["rating"],
                            p["pas68"],
                            f"{p['cost_eur']:,}",
                        )
                    )
                    + "</tr>"
                )
            out.append("</table>")
    out.append(_METHOD)
    out.append("<p>Map data © OpenStreetMap contributors, ODbL 1.0.</p></body></html>")
    return "".join(out)
