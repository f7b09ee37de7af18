"""The report an assessor signs: a dated, versioned HTML document with a cover, in the
reader's language, self-contained (inline CSS and SVG, no script, no link to anything), and
laid out for print so that :mod:`.pdf` turns it into the PDF.

It is drawn from each site's JSON object (:func:`.formats.site_data`) and speed-field features
only, and reads entries generically (kind, speed, angle, path geometry per vehicle), so a stored
run can be rendered again in another language and new entry kinds slot in.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from typing import Any

from ..drivable import RADIUS_M
from ..offroad import KERB_SPEED_LOSS_KMH
from ..ratings import EXCEEDS
from ..run import SiteResult
from .formats import site_data
from .maps import FieldArrays, heat_map, legend, site_map
from .meta import ReportMeta
from .words import Words, blocked_words, rating_words, source_words, words_for

SiteData = tuple[dict[str, Any], list[dict[str, Any]]]

_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm;
  @bottom-left { content: string(doc-id); font-size: 8pt; color: #555; }
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #555; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; margin: 0 auto; max-width: 1100px; }
.doc-id { string-set: doc-id content(); font-size: 8pt; color: #555; }
.cover { page-break-after: always; }
.cover h1 { font-size: 22pt; margin-top: 30mm; }
.cover table td { border: none; padding: 3px 10px 3px 0; font-size: 11pt; }
.cover table th { border: none; text-align: left; padding: 3px 14px 3px 0; font-size: 11pt; }
.sign td { border: none; padding: 14px 16px 2px 0; }
.sign .line { border-bottom: 1px solid #000; min-width: 60mm; display: inline-block; }
table { border-collapse: collapse; font-size: 8.5pt; margin: 6px 0; }
td, th { border: 1px solid #bbb; padding: 2px 5px; text-align: left; vertical-align: top; }
h2 { margin-top: 1.6em; page-break-before: always; }
h2.first { page-break-before: avoid; }
h3 { margin-top: 1.2em; }
.legend span { display: inline-block; padding: 1px 5px; margin-right: 1px; font-size: 8pt; }
.heat { display: inline-block; margin: 0 8px 8px 0; vertical-align: top; page-break-inside: avoid; }
.heat p { margin: 2px 0; font-weight: bold; }
.warn { background: #fff3b0; padding: 4px 8px; }
.exceeds { color: #b00; font-weight: bold; }
svg { max-width: 100%; height: auto; }
"""


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _rating(text: str | None, w: Words) -> str:
    """A rating's notation with its "exceeds tested speeds" part in the reader's language."""
    return rating_words(text, w.gettext)


def _street(e: dict[str, Any], w: Words) -> str:
    """The stretch's name: its street, else its place in words (e.g. "open ground north")."""
    _ = w.gettext
    if e.get("street"):
        return str(e["street"])
    place = e.get("place") or {}
    if e.get("way_id") is None and e.get("approach_way_id") is None and place.get(w.language):
        return str(place[w.language])
    return _("unnamed way")


def _cover(sites: Sequence[SiteData], meta: ReportMeta, w: Words, title: str) -> str:
    _ = w.gettext
    names = ", ".join(d["site"] for d, _f in sites)
    unknown = _("unknown")
    map_date = meta.map_data_date
    if map_date:
        try:
            parsed = dt.datetime.fromisoformat(map_date.replace("Z", "+00:00"))
            map_date = w.moment(parsed, meta.time_zone)
        except ValueError:
            pass
    rows = [
        (_("Site"), names),
        (_("City"), meta.city or unknown),
        (_("Date"), w.moment(meta.created, meta.time_zone)),
        (_("Author"), meta.author or unknown),
        (_("Run number"), unknown if meta.run_number is None else str(meta.run_number)),
        (_("Software"), _("rempart version %(version)s") % {"version": meta.software_version}),
        (_("Map data"), map_date or unknown),
        (_("Map data file"), meta.map_file or unknown),
    ]
    out = [f"<section class='cover'><h1>{_esc(title)}</h1><table>"]
    out += [f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows]
    out.append("</table>")
    if not meta.map_data_date:
        undated = _(
            "The map data carries no date: check that it is recent before relying on this report."
        )
        out.append(f"<p class='warn'>{_esc(undated)}</p>")
    scope = _(
        "Worst-case speeds a hostile vehicle can reach at every entry of the site, the barrier rating each entry requires and a barrier plan. The method is summarised at the end of this document."
    )
    out.append(f"<p>{_esc(scope)}</p>")
    out.append(
        "<table class='sign'>"
        + "".join(
            f"<tr><td>{_esc(label)}</td><td><span class='line'>&nbsp;</span></td></tr>"
            for label in (_("Checked by"), _("Signature"), _("Date of signature"))
        )
        + "</table></section>"
    )
    return "".join(out)


def _summary(sites: Sequence[SiteData], w: Words) -> str:
    _ = w.gettext
    heads = (
        _("Site"),
        _("Vehicle"),
        _("Highest impact speed, km/h"),
        _("Entry"),
        _("Required rating"),
    )
    summary_title = _("Summary")
    out = [
        f"<h2 class='first'>{_esc(summary_title)}</h2><table><tr>"
        + "".join(f"<th>{_esc(h)}</th>" for h in heads)
        + "</tr>"
    ]
    none_reached = _("no entry reached")
    for d, _f in sites:
        for name in d["vehicles"]:
            best: tuple[float, int, dict[str, Any], dict[str, Any]] | None = None
            for i, e in enumerate(d["entries"]):
                for ve in e["vehicles"]:
                    speed = ve.get("speed_kmh") if ve["name"] == name else None
                    if speed is not None and (best is None or speed > best[0]):
                        best = (speed, e.get("number", i + 1), e, ve)
            if best is None:
                out.append(
                    f"<tr><td>{_esc(d['site'])}</td><td>{_esc(name)}</td><td colspan='3'>{_esc(none_reached)}</td></tr>"
                )
                continue
            speed, number, e, ve = best
            # "6: Rue" in English, "6 : Rue" in French: the colon's spacing is the language's
            numbered = _("%(number)s: %(street)s") % {"number": number, "street": _street(e, w)}
            out.append(
                f"<tr><td>{_esc(d['site'])}</td><td>{_esc(name)}</td><td>{w.number(speed, 1)}</td>"
                f"<td>{_esc(numbered)}</td><td>{_esc(_rating(ve.get('rating'), w))}</td></tr>"
            )
    out.append("</table>")
    return "".join(out)


def _warning_text(warning: dict[str, Any], w: Words) -> str:
    _ = w.gettext
    kind = warning.get("kind")
    if kind == "unnamed_way":
        return _(
            "Entry %(n)s: the approach way has no name in the map data (OSM way %(way)s); check it on site."
        ) % {"n": warning.get("entry"), "way": warning.get("detail") or "?"}
    if kind == "exceeds":
        return _(
            "A barrier position exceeds tested speeds: move the line closer to the site or reduce speed. It is not costed."
        )
    if w.language in warning:  # engine warnings that carry their own EN/FR text (off-road)
        return str(warning[w.language])
    return str(warning.get("message") or warning.get("detail") or kind)


def _site_section(d: dict[str, Any], features: list[dict[str, Any]], w: Words) -> str:
    _ = w.gettext
    out = [f"<h2>{_esc(d['site'])}</h2>"]
    n = len(d["entries"])
    ngettext = w.ngettext
    count = ngettext("%(n)d entry", "%(n)d entries", n) % {"n": n}
    out.append(f"<p>{_esc(count)}</p>")
    field = FieldArrays.of(features)
    out.append(site_map(d, field, w))
    out.append(legend(w))
    key = _(
        "Numbered circles: entries, coloured by impact speed (as the edge stretches). Dashed: worst path to each entry, from its start (black dot). Squares and lines: barrier positions (black fixed, green active, red exceeds tested speeds). Yellow triangles: data gaps."
    )
    out.append(f"<p>{_esc(key)}</p>")
    entries_title = _("Entries")
    out.append(
        f"<h3>{_esc(entries_title)}</h3><table><tr>"
        + "".join(
            f"<th>{_esc(h)}</th>"
            for h in (
                "#",
                _("Street"),
                _("Source"),
                _("Length, m"),
                _("Vehicle"),
                _("Impact speed, km/h"),
                _("Angle, degrees"),
                _("Rated (normal) speed, km/h"),
                _("Energy, kJ"),
                _("Run-up, m"),
                _("Required rating"),
                _("PAS 68"),
            )
        )
        + "</tr>"
    )
    for i, e in enumerate(d["entries"]):
        rows = e["vehicles"]
        length = e.get("stretch_length_m")
        for k, ve in enumerate(rows):
            speed = ve.get("speed_kmh")
            impact = ve.get("impact_speed_kmh", speed)
            angle = ve.get("impact_angle_deg")
            cells = []
            if k == 0:
                source = source_words(e.get("source") or e.get("kind"), w.gettext)
                cells = [
                    f"<td rowspan='{len(rows)}'><b>{e.get('number', i + 1)}</b></td>",
                    f"<td rowspan='{len(rows)}'>{_esc(_street(e, w))}</td>",
                    f"<td rowspan='{len(rows)}'>{_esc(source)}</td>",
                    f"<td rowspan='{len(rows)}'>{'-' if length is None else w.number(length, 1)}</td>",
                ]
            raw = ve.get("rating") or ""
            rating = _rating(raw, w) if raw else (blocked_words(ve.get("blocked"), _) or "-")
            cls = " class='exceeds'" if raw.endswith(EXCEEDS) else ""
            cells += [
                f"<td>{_esc(ve['name'])}</td>",
                f"<td>{'-' if impact is None else w.number(impact, 1)}</td>",
                f"<td>{'-' if angle is None else w.number(angle)}</td>",
                f"<td>{'-' if speed is None else w.number(speed, 1)}</td>",
                f"<td>{'-' if ve.get('energy_kj') is None else w.number(ve['energy_kj'])}</td>",
                f"<td>{'-' if ve.get('runup_m') is None else w.number(ve['runup_m'])}</td>",
                f"<td{cls}>{_esc(rating)}</td>",
                f"<td>{_esc(_rating(ve.get('pas68'), w))}</td>",
            ]
            out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    warnings = d.get("warnings", [])
    gaps_title = _("Data gaps and warnings")
    out.append(f"<h3>{_esc(gaps_title)}</h3>")
    if warnings:
        out.append(
            "<ul>" + "".join(f"<li>{_esc(_warning_text(x, w))}</li>" for x in warnings) + "</ul>"
        )
    else:
        none_found = _("None found.")
        out.append(f"<p>{_esc(none_found)}</p>")
    heat_title = _("Speeds per vehicle")
    out.append(f"<h3>{_esc(heat_title)}</h3>")
    for name in d["vehicles"]:
        out.append(f"<div class='heat'><p>{_esc(name)}</p>{heat_map(d, field, name, w)}</div>")
    out.append(_plan(d, w))
    return "".join(out)


def _plan(d: dict[str, Any], w: Words) -> str:
    _ = w.gettext
    plan = d.get("plan")
    if not plan:
        return ""
    ngettext = w.ngettext
    positions = plan["positions"]
    plan_title = _("Barrier plan")
    count = ngettext("%(n)d position", "%(n)d positions", len(positions)) % {"n": len(positions)}
    total = _("total %(amount)s %(currency)s") % {
        "amount": w.number(plan["total_cost_eur"]),
        "currency": plan["currency"],
    }
    indicative = _("Costs are indicative unless a local cost table was given.")
    out = [f"<h3>{_esc(plan_title)}</h3><p>{_esc(count)}, {_esc(total)}. {_esc(indicative)}</p>"]
    if plan.get("not_costed"):
        n = plan["not_costed"]
        advice = ngettext(
            "%(n)d position exceeds tested speeds and is not costed: move the line closer to the site or reduce speed.",
            "%(n)d positions exceed tested speeds and are not costed: move the line closer to the site or reduce speed.",
            n,
        ) % {"n": n}
        out.append(f"<p class='warn'>{_esc(advice)}</p>")
    out.append(
        "<table><tr>"
        + "".join(
            f"<th>{_esc(h)}</th>"
            for h in (
                _("Street"),
                _("Kind"),
                _("Barrier"),
                _("Width, m"),
                _("Bollards"),
                _("Required rating"),
                _("PAS 68"),
                _("Edge stretches covered"),
                _("Cost"),
            )
        )
        + "</tr>"
    )
    for p in positions:
        kind = {"bollards": _("bollards"), "linear": _("linear barrier")}.get(p["kind"], p["kind"])
        barrier = _("active") if p["barrier"] == "active" else _("fixed")
        costed = p.get("costed", True)
        cost = w.number(p["cost_eur"]) if costed else _("not costed")
        cls = "" if costed else " class='exceeds'"
        out.append(
            "<tr>"
            + "".join(
                f"<td>{_esc(c)}</td>"
                for c in (
                    p.get("street") or _position_place(p, w),
                    kind,
                    barrier,
                    w.number(p["width_m"], 1),
                    p["n_bollards"],
                )
            )
            + f"<td{cls}>{_esc(_rating(p['rating'], w))}</td><td>{_esc(_rating(p['pas68'], w))}</td>"
            + f"<td>{_esc(', '.join(str(n) for n in p.get('covers_stretches') or []) or '–')}</td>"
            + f"<td{cls}>{_esc(cost)}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def _position_place(p: dict[str, Any], w: Words) -> str:
    """Where an unnamed position stands: on an unnamed way, or in front of edge stretches."""
    _ = w.gettext
    if p.get("way_id") is None and p.get("covers_stretches"):
        numbers = ", ".join(str(n) for n in p["covers_stretches"])
        return _("in front of edge stretch %(numbers)s") % {"numbers": numbers}
    return _("unnamed way")


def _method(w: Words, radius_m: float | None = RADIUS_M) -> str:
    """The method summarised; ``radius_m`` the drivable space's radius of the run (m),
    ``None`` when the off-road model is off (the road network only)."""
    _ = w.gettext
    if radius_m:
        drivable = _(
            "Drivable space: within %(radius)s m of the site every vehicle may drive anywhere except through buildings, walls, water, cliffs, steps, railway platforms and level changes: roads, pavements, squares, parks and unmapped ground are drivable. A gap narrower than a vehicle is closed to it. A mapped kerb costs %(kerb)s km/h (an assumption: kerbs do not stop trucks). Bridges, tunnels and ways on another layer are no way in."
        ) % {"radius": w.number(radius_m), "kerb": w.number(KERB_SPEED_LOSS_KMH)}
    else:
        drivable = _(
            "Off-road runs are not modelled in this assessment: vehicles keep to the streets and ways of the map data."
        )
    items = [
        _(
            "Worst-case hostile driver: any route, loops included; one-way and access restrictions ignored; a start from rest anywhere; full throttle along the vehicle's acceleration curve, capped at its top speed."
        ),
        _(
            "Bends and turns cap the speed at the square root of the lateral acceleration limit times the radius of the widest line the carriageway allows."
        ),
        _(
            "Frontage: where the site edge lies within the frontage distance of a drivable way, the vehicle swerves at its lateral limit; the rated speed is the part of its speed normal to the edge."
        ),
        _(
            "The whole edge: the site's edge is sampled every 2 m; at each point the worst approach of each vehicle is the fastest of a road crossing, the frontage swerve and a straight run over open ground (from rest, or leaving a road at a speed its turn allows), rated by its speed normal to the edge. Consecutive points with the same governing requirement form one stretch, numbered from the north-most point clockwise and named by the nearest street; a road crossing is a stretch of its own."
        ),
        drivable,
        _(
            "A rated barrier of the register stops a vehicle no heavier than its test mass that reaches it no faster than its test speed times the sine of its test angle: a test at an angle proves only the speed normal to the barrier."
        ),
        _(
            "Data gaps: footways without a width, sites mapped only by their outline and large unmapped areas are listed per site; the assessment treats them as drivable, in the threat's favour. Street furniture, trees, parked vehicles and unmapped kerbs are not obstacles."
        ),
        _(
            "Required rating: ISO 22343-1 / IWA 14-1 notation (vehicle, test mass, class, speed, angle), with the lowest standard test speed at or above the assessed speed (16, 30, 32, 40, 48, 50, 64, 80, 96 or 112 km/h); the PAS 68 equivalent where PAS 68 has a test vehicle. Above 112 km/h no tested barrier exists."
        ),
        _(
            "Barrier plan: the cheapest set of positions separating the site from every start, as a minimum cut on the road network; positions above tested speeds are not costed."
        ),
        _(
            "Edge stretches in the plan: a stretch whose worst approach the road positions do not intercept gets a line of its own across the open ground that approach uses, closing between obstacles, or along the stretch at the stand-off, priced per metre at its rating; a line above tested speeds moves out along the approach to where the run-up gives a tested speed, or is not costed."
        ),
        _(
            "Not modelled: impact and penetration, debris, blast, gradient, traffic and parked vehicles."
        ),
    ]
    method_title = _("Method and assumptions")
    return (
        f"<h2>{_esc(method_title)}</h2><ul>"
        + "".join(f"<li>{_esc(i)}</li>" for i in items)
        + "</ul>"
    )


def render_html(
    sites: Sequence[SiteData], meta: ReportMeta, words: Words, title: str | None = None
) -> str:
    """The report of ``sites`` (each: its JSON object with ``warnings``, and its speed-field
    features) as one HTML document."""
    w = words
    _ = w.gettext
    title = title or _("Vehicle-approach assessment")
    doc_id = _("rempart %(version)s, run %(run)s, %(date)s") % {
        "version": meta.software_version,
        "run": "-" if meta.run_number is None else meta.run_number,
        "date": w.moment(meta.created, meta.time_zone),
    }
    out = [
        f"<!DOCTYPE html><html lang='{w.language}'><head><meta charset='utf-8'>"
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<div class='doc-id'>{_esc(doc_id)}</div>",
        _cover(sites, meta, w, title),
        _summary(sites, w),
    ]
    for d, features in sites:
        out.append(_site_section(d, features, w))
    # the off-road model's radius of the run (options.offroad_radius_m, None or 0 when off)
    radii = [d.get("options", {}).get("offroad_radius_m", RADIUS_M) for d, _f in sites]
    out.append(_method(w, max((r for r in radii if r), default=None)))
    licence = _("Map data © OpenStreetMap contributors, ODbL 1.0.")
    out.append(f"<p>{_esc(licence)}</p></body></html>")
    return "".join(out)


def to_html(
    results: Sequence[SiteResult],
    title: str | None = None,
    meta: ReportMeta | None = None,
    words: Words | None = None,
) -> str:
    """The report of engine results (see :func:`render_html`); English and today's date
    unless ``words`` and ``meta`` are given."""
    meta = meta or ReportMeta(created=dt.datetime.now(dt.UTC))
    sites = [(site_data(r, meta), r.speed_field_features()) for r in results]
    return render_html(sites, meta, words or words_for("en"), title)
