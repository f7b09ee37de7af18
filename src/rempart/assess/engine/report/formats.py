"""Data outputs: JSON (via ``SiteResult.to_dict``), GeoJSON (the same content plus the speed
field layer) and a readable text table. The report document is :mod:`.document`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..run import SiteResult
from .meta import ReportMeta

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


def site_data(result: SiteResult, meta: ReportMeta | None = None) -> dict[str, Any]:
    """The JSON object of one site: ``SiteResult.to_dict()`` plus entry numbers (as on the
    map and in the report's table), data-gap warnings and, with ``meta``, the report's cover
    (``report``). Fields are only ever added to the issue-1 shape."""
    d = result.to_dict()
    for i, e in enumerate(d["entries"]):
        e.setdefault("number", i + 1)
    d["warnings"] = data_gaps(d)
    if meta is not None:
        d["report"] = meta.to_dict()
    return d


def data_gaps(d: dict[str, Any]) -> list[dict[str, Any]]:
    """Where the data is thin, from a site's JSON object: warnings already in it (other
    engine modules may add them), approach ways without a name, positions no tested barrier
    covers. Each is ``{"kind", "entry" (number) or None, "lon", "lat", "detail"}``."""
    own = ("unnamed_way", "exceeds")  # recomputed below, so a stored object is not doubled
    out: list[dict[str, Any]] = [dict(w) for w in d.get("warnings", []) if w.get("kind") not in own]
    for i, e in enumerate(d["entries"]):
        # the way the worst path comes along has no name (open ground has no way to name)
        way = e.get("approach_way_id", e.get("way_id"))
        if way is not None and not e.get("approach_street", e.get("street")):
            out.append(
                {
                    "kind": "unnamed_way",
                    "entry": e.get("number", i + 1),
                    "lon": e["lon"],
                    "lat": e["lat"],
                    "detail": str(way),
                }
            )
    plan = d.get("plan") or {}
    for p in plan.get("positions", []):
        if p.get("costed") is False:
            out.append(
                {"kind": "exceeds", "entry": None, "lon": p["lon"], "lat": p["lat"], "detail": ""}
            )
    return out


def to_json(results: Sequence[SiteResult], meta: ReportMeta | None = None) -> str:
    """JSON text: one object per site (:func:`site_data`), a list when several."""
    data: Any = [site_data(r, meta) for r in results]
    if len(data) == 1:
        data = data[0]
    return json.dumps(data, ensure_ascii=False, indent=1)


def to_geojson(results: Sequence[SiteResult], meta: ReportMeta | None = None) -> dict[str, Any]:
    """One FeatureCollection (WGS84) with layers: site, entry, runup, plan, warning,
    speed_field (:func:`geojson_features` of each site)."""
    features: list[dict[str, Any]] = []
    for r in results:
        features += geojson_features(site_data(r, meta), r.speed_field_features())
    out: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if meta is not None:
        out["report"] = meta.to_dict()
    return out


def geojson_features(d: dict[str, Any], speed_field: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The GeoJSON features of one site's JSON object (:func:`site_data`): it carries what the
    JSON carries. The site feature holds the site-level fields (vehicles, options, warnings,
    plan totals, report cover); entries, run-ups, positions and warnings are features of their
    own; ``speed_field`` (the speed-field layer) is appended as it is."""
    site = d["site"]
    features: list[dict[str, Any]] = []
    site_props = {k: v for k, v in d.items() if k not in ("geometry", "entries", "plan")}
    if d.get("plan") is not None:
        site_props["plan"] = {k: v for k, v in d["plan"].items() if k != "positions"}
    features.append(
        {
            "type": "Feature",
            "geometry": d["geometry"],
            "properties": {"layer": "site", **site_props},
        }
    )
    for i, e in enumerate(d["entries"]):
        geom = (
            e.get("geometry")
            or e.get("stretch_geometry")
            or {"type": "Point", "coordinates": [e["lon"], e["lat"]]}
        )
        props = {k: v for k, v in e.items() if k not in ("geometry", "vehicles")}
        props.update({"layer": "entry", "site": site, "entry": i})
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
                            "site": site,
                            "entry": i,
                            "number": e.get("number", i + 1),
                            "vehicle": ve["name"],
                            "speed_kmh": ve["speed_kmh"],
                            "runup_m": ve["runup_m"],
                        },
                    }
                )
    if d.get("plan"):
        for p in d["plan"]["positions"]:
            geom = p.get("geometry") or {"type": "Point", "coordinates": [p["lon"], p["lat"]]}
            props = {k: v for k, v in p.items() if k != "geometry"}
            props.update({"layer": "plan", "site": site})
            features.append({"type": "Feature", "geometry": geom, "properties": props})
    for w in d.get("warnings", []):
        if w.get("lon") is None:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [w["lon"], w["lat"]]},
                "properties": {"layer": "warning", "site": site, **w},
            }
        )
    features.extend(speed_field)
    return features


def to_text(results: Sequence[SiteResult]) -> str:
    """A readable table per site."""
    lines: list[str] = []
    for r in results:
        d = r.to_dict()
        lines.append(f"Site: {r.site}  ({len(d['entries'])} entries)")
        lines.append(
            f"{'#':>3} {'source':13} {'street':28} {'vehicle':12} {'km/h':>6} {'kJ':>8} {'run-up m':>8}  rating"
        )
        for i, e in enumerate(d["entries"]):
            for ve in e["vehicles"]:
                speed = "-" if ve["speed_kmh"] is None else f"{ve['speed_kmh']:.1f}"
                energy = "-" if ve["energy_kj"] is None else f"{ve['energy_kj']:.0f}"
                run = "-" if ve.get("runup_m") is None else f"{ve['runup_m']:.0f}"
                rating = ve["rating"] or ve.get("blocked", "")
                lines.append(
                    f"{e.get('number', i + 1):>3} {e.get('source', e['kind'])[:13]:13} {(e['street'] or '-')[:28]:28} {ve['name'][:12]:12} {speed:>6} {energy:>8} {run:>8}  {rating}"
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
