"""SVG maps of a report, drawn from a site's JSON object and its speed-field features (WGS84),
so a stored run can be drawn again in another language without the network.

Projection: equirectangular around the site's first vertex (metres east/north; exact enough
over the 1-2 km a map covers). Hand-written: a few lines of SVG, no map library or tiles, so
the document stays self-contained and offline.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .formats import _SPEED_COLOURS, speed_colour
from .words import Words

_M_PER_DEG = 111_320.0
FloatArray = NDArray[np.float64]


class Frame:
    """Maps lon/lat (degrees) to SVG pixels for a square map around a site."""

    def __init__(self, site_geometry: dict[str, Any], margin_m: float, size_px: int) -> None:
        rings = _rings(site_geometry)
        lon0, lat0 = rings[0][0]
        self.lon0, self.lat0 = float(lon0), float(lat0)
        self.kx = _M_PER_DEG * math.cos(math.radians(self.lat0))
        xs = [self._x(p[0]) for r in rings for p in r]
        ys = [self._y(p[1]) for r in rings for p in r]
        self.minx, self.maxy = min(xs) - margin_m, max(ys) + margin_m
        self.span_m = max(max(xs) - min(xs), max(ys) - min(ys)) + 2 * margin_m
        self.size_px = size_px
        self.scale = size_px / self.span_m

    def _x(self, lon: float) -> float:
        return (lon - self.lon0) * self.kx

    def _y(self, lat: float) -> float:
        return (lat - self.lat0) * _M_PER_DEG

    def px(self, lon: float, lat: float) -> tuple[float, float]:
        return (self._x(lon) - self.minx) * self.scale, (self.maxy - self._y(lat)) * self.scale

    def points(self, coords: Iterable[Sequence[float]]) -> str:
        return " ".join("{:.1f},{:.1f}".format(*self.px(c[0], c[1])) for c in coords)

    def px_array(self, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        x = ((lon - self.lon0) * self.kx - self.minx) * self.scale
        y = (self.maxy - (lat - self.lat0) * _M_PER_DEG) * self.scale
        return x, y

    def inside(self, lon: float, lat: float) -> bool:
        x, y = self.px(lon, lat)
        return -20 <= x <= self.size_px + 20 and -20 <= y <= self.size_px + 20


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    return [ring for poly in geometry["coordinates"] for ring in poly]


def entry_speed_kmh(entry: dict[str, Any]) -> float | None:
    """Highest impact speed (km/h) over vehicles at an entry; ``None`` if none reaches it."""
    speeds = [v["speed_kmh"] for v in entry["vehicles"] if v.get("speed_kmh") is not None]
    return max(speeds) if speeds else None


def governing_vehicle(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The vehicle with the highest energy at an entry (the one its rating follows)."""
    best = [v for v in entry["vehicles"] if v.get("energy_kj") is not None]
    return max(best, key=lambda v: v["energy_kj"]) if best else None


def _open(size_px: int, label: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size_px}" height="{size_px}" '
        f'viewBox="0 0 {size_px} {size_px}" role="img" aria-label="{html.escape(label)}" '
        'style="background:#f4f4f0;border:1px solid #999">'
    ]


@dataclass(frozen=True)
class FieldArrays:
    """Speed-field segments as arrays (WGS84 ends, km/h; NaN where a vehicle cannot reach),
    built once per site and drawn on every map of it."""

    lon0: FloatArray
    lat0: FloatArray
    lon1: FloatArray
    lat1: FloatArray
    top_kmh: FloatArray
    per_vehicle_kmh: dict[str, FloatArray]

    @classmethod
    def of(cls, features: list[dict[str, Any]]) -> FieldArrays:
        ends: list[tuple[float, float, float, float]] = []
        tops: list[float] = []
        per: dict[str, list[float]] = {}
        names: list[str] = []
        for f in features:
            for name in f["properties"].get("speeds_kmh", {}):
                if name not in per:
                    per[name] = []
                    names.append(name)
        for f in features:
            coords = f["geometry"]["coordinates"]
            props = f["properties"]
            speeds = props.get("speeds_kmh", {})
            for a, b in zip(coords[:-1], coords[1:], strict=True):
                ends.append((a[0], a[1], b[0], b[1]))
                top = props.get("speed_kmh")
                tops.append(math.nan if top is None else float(top))
                for name in names:
                    value = speeds.get(name)
                    per[name].append(math.nan if value is None else float(value))
        arr = np.asarray(ends, dtype=float).reshape(-1, 4)
        return cls(
            arr[:, 0],
            arr[:, 1],
            arr[:, 2],
            arr[:, 3],
            np.asarray(tops, dtype=float),
            {n: np.asarray(v, dtype=float) for n, v in per.items()},
        )


_THRESHOLDS = np.array([t for t, _c in _SPEED_COLOURS], dtype=float)
_COLOURS = [c for _t, c in _SPEED_COLOURS]


def _field(frame: Frame, field: FieldArrays, vehicle: str | None, w: Words) -> list[str]:
    """The speed field as one SVG path per colour (few elements: a light document and PDF)."""
    _ = w.gettext
    x0, y0 = frame.px_array(field.lon0, field.lat0)
    x1, y1 = frame.px_array(field.lon1, field.lat1)
    lo, hi = -20.0, frame.size_px + 20.0
    keep = ((x0 >= lo) & (x0 <= hi) & (y0 >= lo) & (y0 <= hi)) | (
        (x1 >= lo) & (x1 <= hi) & (y1 >= lo) & (y1 <= hi)
    )
    speeds = field.top_kmh if vehicle is None else field.per_vehicle_kmh.get(vehicle)
    if speeds is None:
        speeds = np.full(field.top_kmh.shape, np.nan)
    # colour index: the last threshold at or below the speed; -1 for unreachable (grey)
    index = np.where(
        np.isfinite(speeds),
        np.maximum(np.searchsorted(_THRESHOLDS, np.nan_to_num(speeds), side="right") - 1, 0),
        -1,
    )
    parts = []
    for k in np.unique(index[keep]).tolist():
        rows = np.flatnonzero(keep & (index == k))
        colour = "#bbbbbb" if k < 0 else _COLOURS[k]
        label = _("not reachable") if k < 0 else f"≥ {int(_THRESHOLDS[k])} km/h"
        d = " ".join(
            f"M{a:.1f} {b:.1f} L{c:.1f} {e:.1f}"
            for a, b, c, e in zip(x0[rows], y0[rows], x1[rows], y1[rows], strict=True)
        )
        parts.append(
            f'<path d="{d}" stroke="{colour}" stroke-width="3" fill="none" '
            f'stroke-linecap="round"><title>{html.escape(label)}</title></path>'
        )
    return parts


def _site(frame: Frame, geometry: dict[str, Any]) -> list[str]:
    return [
        f'<polygon points="{frame.points(ring)}" fill="#7b3294" fill-opacity="0.2" '
        'stroke="#7b3294" stroke-width="1.5"/>'
        for ring in _rings(geometry)
    ]


def _edge(frame: Frame, d: dict[str, Any], vehicle: str | None) -> list[str]:
    """The site's edge coloured by impact speed (km/h) at every sample of the edge profile:
    of ``vehicle``, or the highest over vehicles; grey where no vehicle reaches it."""
    edge = d.get("edge") or {}
    points = edge.get("points") or []
    speeds = edge.get("speeds_kmh") or {}
    names = [vehicle] if vehicle is not None else list(speeds)
    parts = []
    for k, (lon, lat) in enumerate(points):
        values = [speeds[n][k] for n in names if n in speeds and speeds[n][k] is not None]
        colour = speed_colour(max(values)) if values else "#bbbbbb"
        x, y = frame.px(lon, lat)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{colour}"/>')
    return parts


def _scale_bar(frame: Frame) -> str:
    bar = max(10.0, 10 ** math.floor(math.log10(frame.span_m / 4)))
    y = frame.size_px - 12
    return (
        f'<line x1="10" y1="{y}" x2="{10 + bar * frame.scale:.1f}" y2="{y}" stroke="#000" '
        f'stroke-width="2"/><text x="10" y="{y - 4}" font-size="10">{bar:.0f} m</text>'
        f'<text x="{frame.size_px - 16}" y="18" font-size="12" text-anchor="middle">N</text>'
        f'<line x1="{frame.size_px - 16}" y1="34" x2="{frame.size_px - 16}" y2="22" '
        'stroke="#000" stroke-width="2"/>'
    )


def site_map(d: dict[str, Any], field: FieldArrays, w: Words, size_px: int = 720) -> str:
    """The main map of a site: the speed field (highest over vehicles), the site edge coloured
    by impact speed, the worst path to each entry drawn from its start, entries numbered as
    in the table, barrier positions, and data-gap warnings (triangles)."""
    _ = w.gettext
    margin = max(float(d.get("options", {}).get("plan_radius_m", 200.0)) * 0.6, 120.0)
    frame = Frame(d["geometry"], margin, size_px)
    parts = _open(size_px, _("Map of %(site)s") % {"site": d["site"]})
    parts += _field(frame, field, None, w)
    parts += _site(frame, d["geometry"])
    parts += _edge(frame, d, None)
    for i, e in enumerate(d["entries"]):
        number = int(e.get("number", i + 1))
        gov = governing_vehicle(e)
        path = (gov or {}).get("runup_geometry", {}).get("coordinates") or []
        if len(path) >= 2:
            sx, sy = frame.px(*path[0])
            path_title = _("worst path to entry %(n)d") % {"n": number}
            start_title = _("start of the worst path to entry %(n)d") % {"n": number}
            parts.append(
                f'<polyline points="{frame.points(path)}" stroke="#000" stroke-dasharray="6,4" '
                f'stroke-width="1.5" fill="none"><title>{html.escape(path_title)}</title></polyline>'
                f'<circle cx="{sx:.1f}" cy="{sy:.1f}" r="3.5" fill="#000"><title>{html.escape(start_title)}</title></circle>'
            )
    for i, e in enumerate(d["entries"]):
        speed = entry_speed_kmh(e)
        colour = "#777777" if speed is None else speed_colour(speed)
        geom = e.get("geometry") or e.get("stretch_geometry")
        if d.get("edge") is None and geom and len(geom.get("coordinates", [])) >= 2:
            # no edge profile (off-road model off): colour the stretch by its worst speed
            parts.append(
                f'<polyline points="{frame.points(geom["coordinates"])}" stroke="{colour}" '
                f'stroke-width="7" fill="none" stroke-linecap="round"/>'
            )
        x, y = frame.px(e["lon"], e["lat"])
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="8" fill="{colour}" stroke="#000" stroke-width="1.2"/>'
            f'<text x="{x:.1f}" y="{y + 3.5:.1f}" font-size="9" font-weight="bold" '
            f'text-anchor="middle">{int(e.get("number", i + 1))}</text>'
        )
    for p in (d.get("plan") or {}).get("positions", []):
        colour = "#1a9641" if p["barrier"] == "active" else "#000000"
        if p.get("costed") is False:
            colour = "#d7191c"
        geom = p.get("geometry")
        if geom and len(geom.get("coordinates", [])) >= 2:
            parts.append(
                f'<polyline points="{frame.points(geom["coordinates"])}" stroke="{colour}" '
                'stroke-width="3" fill="none"/>'
            )
        else:
            x, y = frame.px(p["lon"], p["lat"])
            parts.append(
                f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
            )
    for warning in d.get("warnings", []):
        if warning.get("lon") is None:
            continue
        x, y = frame.px(warning["lon"], warning["lat"])
        parts.append(
            f'<polygon points="{x:.1f},{y - 16:.1f} {x - 6:.1f},{y - 6:.1f} {x + 6:.1f},{y - 6:.1f}" '
            'fill="#ffd400" stroke="#000" stroke-width="1"/>'
        )
    parts.append(_scale_bar(frame))
    parts.append("</svg>")
    return "".join(parts)


def heat_map(
    d: dict[str, Any], field: FieldArrays, vehicle: str, w: Words, size_px: int = 340
) -> str:
    """The speed field of one vehicle around a site (km/h colour scale of the main map)."""
    _ = w.gettext
    margin = max(float(d.get("options", {}).get("plan_radius_m", 200.0)) * 0.6, 120.0)
    frame = Frame(d["geometry"], margin, size_px)
    parts = _open(size_px, _("Speeds of %(vehicle)s") % {"vehicle": vehicle})
    parts += _field(frame, field, vehicle, w)
    parts += _site(frame, d["geometry"])
    parts += _edge(frame, d, vehicle)
    parts.append(_scale_bar(frame))
    parts.append("</svg>")
    return "".join(parts)


def legend(w: Words) -> str:
    """The colour scale, km/h."""
    _ = w.gettext
    cells = "".join(f'<span style="background:{c}">&ge;{t}</span>' for t, c in _SPEED_COLOURS)
    scale = _("Speed, km/h:")
    unreachable = _("not reachable")
    return (
        f"<p class='legend'>{html.escape(scale)} {cells} "
        f"<span style='background:#bbb'>{html.escape(unreachable)}</span></p>"
    )
