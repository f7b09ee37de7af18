"""Reference implementation of the entries: the straightforward per-site, per-entry loops.

Kept as the oracle for the vectorised implementation in :mod:`entries` (the tests and
``benchmarks/assess_scale.py`` check that both give the same entries); not used by the
engine itself. Same units and CRS as :mod:`entries` (metres, local projection).
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from .entries import (
    DEFAULT_FRONTAGE_M,
    FRONTAGE_STEP_M,
    MAX_BACKTRACK,
    Entry,
    VehicleEntry,
    _blocked_entry,
    _runs,
    _vehicle_entry,
    swerve,
)
from .field import VehicleField
from .graph import Network


def _runup(
    net: Network, vf: VehicleField, directed: int, s_m: float
) -> tuple[list[tuple[int, float, float]], float, str, float]:
    """The run-up that achieves the speed at ``s_m`` along ``directed``.

    Walks the best-predecessor pointers backwards from the entry until the run-up starts: from
    rest (no better predecessor), at a junction turn whose cap binds, or at a bend of a link
    whose cap binds. Returns (pieces ``(directed link, s0, s1)`` from start to entry, length m,
    start kind ``"rest" | "turn" | "bend"``, equivalent run-up at the start m).
    """
    pieces: list[tuple[int, float, float]] = []
    length = 0.0
    d, s = directed, s_m
    start_kind, start_x = "rest", 0.0
    seen: set[int] = set()
    for _ in range(MAX_BACKTRACK):
        bend = vf.binding_bend_s(d, s)
        s0 = bend[0] if bend else 0.0
        pieces.append((d, s0, s))
        length += s - s0
        if bend:
            start_kind, start_x = "bend", bend[1]
            break
        x_in = float(vf.field.x_in_m[d])
        p = int(vf.field.pred[d])
        if p < 0 or x_in <= 1e-6:
            start_kind, start_x = "rest", 0.0
            break
        if x_in < float(vf.field.x_out_m[p]) - 1e-6 or p in seen:
            start_kind, start_x = "turn", x_in
            break
        seen.add(d)
        d, s = p, float(net.dl_length_m[p])
    pieces.reverse()
    return pieces, length, start_kind, start_x


def runup_path_reference(
    net: Network, vf: VehicleField, directed: int, s_m: float
) -> tuple[list[tuple[int, float, float]], float, str, float]:
    """Like :func:`_runup` but with the start speed in m/s instead of its equivalent run-up."""
    pieces, length, kind, start_x = _runup(net, vf, directed, s_m)
    return pieces, length, kind, float(vf.kin.v_of_x(start_x))


def find_crossings_reference(
    net: Network, site: BaseGeometry
) -> list[tuple[int, int, float, float, float]]:
    """Inbound crossings of links over the site boundary.

    Returns (link, inbound directed link, s from its tail m, x, y) for each crossing.
    """
    boundary = site.boundary
    out: list[tuple[int, int, float, float, float]] = []
    if net.n_links == 0:
        return out
    cand = net.link_tree.query(boundary, predicate="intersects")
    for link in np.unique(cand):
        line = net.link_lines[link]
        inter = line.intersection(boundary)
        points = _points_of(inter)
        length = float(net.link_length_m[link])
        seen: list[float] = []
        for px, py in points:
            s = float(line.project(Point(px, py)))
            if any(abs(s - o) < 1.0 for o in seen):
                continue
            seen.append(s)
            before = line.interpolate(max(s - 0.5, 0.0))
            after = line.interpolate(min(s + 0.5, length))
            in_b = site.contains(before)
            in_a = site.contains(after)
            if in_a and not in_b:
                out.append((int(link), 2 * int(link), s, px, py))
            elif in_b and not in_a:
                out.append((int(link), 2 * int(link) + 1, length - s, px, py))
    return out


def _points_of(geom: BaseGeometry) -> list[tuple[float, float]]:
    if geom.is_empty:
        return []
    if geom.geom_type == "Point":
        return [(geom.x, geom.y)]
    if geom.geom_type in ("MultiPoint", "GeometryCollection", "MultiLineString"):
        pts: list[tuple[float, float]] = []
        for g in geom.geoms:  # type: ignore[attr-defined]
            pts.extend(_points_of(g))
        return pts
    if geom.geom_type == "LineString":
        # a way running along the boundary: its ends are where it meets the boundary
        c = list(geom.coords)
        return [c[0], c[-1]]
    return []


def crossing_entries_reference(
    net: Network, site: BaseGeometry, fields: list[VehicleField]
) -> list[Entry]:
    """Assess every inbound crossing for every vehicle (vectorised per vehicle)."""
    found = find_crossings_reference(net, site)
    if not found:
        return []
    links = np.array([c[0] for c in found], dtype=np.int64)
    dirs = np.array([c[1] for c in found], dtype=np.int64)
    s_arr = np.array([c[2] for c in found], dtype=float)
    per_vehicle: list[list[VehicleEntry]] = []
    for vf in fields:
        x = vf.x_at(dirs, s_arr)
        v = vf.kin.v_of_x(np.maximum(x, 0.0))
        rows: list[VehicleEntry] = []
        start_x: list[float] = []
        for i, (link, d, s, _, _) in enumerate(found):
            if not math.isfinite(x[i]):
                if net.link_width_m[link] < vf.vehicle.width_m - 1e-9:
                    reason = "too narrow"
                elif vf.barrier_before(d, s):
                    reason = "rated barrier"
                else:
                    reason = "unreachable"
                rows.append(_blocked_entry(vf, reason))
                start_x.append(0.0)
                continue
            ve = _vehicle_entry(vf, float(v[i]))
            pieces, run_m, kind, x0 = _runup(net, vf, d, s)
            ve.runup_pieces = pieces
            ve.runup_m = round(run_m, 1)
            ve.equivalent_runup_m = round(float(x[i]), 1)
            ve.runup_start = kind
            ve.impact_speed_kmh = ve.speed_kmh
            ve.impact_angle_deg = 90.0
            rows.append(ve)
            start_x.append(x0)
        v0 = vf.kin.v_of_x(np.asarray(start_x))
        for ve, v_start in zip(rows, v0, strict=True):
            if ve.speed_kmh is not None:
                ve.runup_start_speed_kmh = round(float(v_start) * 3.6, 1)
        per_vehicle.append(rows)
    entries: list[Entry] = []
    for i, (link, d, s, px, py) in enumerate(found):
        _, _, bearing = net.point_at(link, float(net.link_length_m[link]) - s if d % 2 else s)
        if d % 2:
            bearing += math.pi
        bearing_deg = round(math.degrees(bearing) % 360.0, 1)
        vehicles = [rows[i] for rows in per_vehicle]
        for ve in vehicles:
            if ve.speed_kmh is not None:
                ve.approach_bearing_deg = bearing_deg
        entries.append(
            Entry(
                kind="crossing",
                x=px,
                y=py,
                bearing_deg=bearing_deg,
                link=link,
                way_id=int(net.link_way_id[link]),
                street=net.link_name[link],
                geometry_xy=[(px, py)],
                length_m=0.0,
                vehicles=vehicles,
                directed=d,
                s_m=s,
                attack_links=[link],
                width_m=float(net.link_width_m[link]),
            )
        )
    del links
    return entries


def frontage_entries_reference(
    net: Network,
    site: BaseGeometry,
    fields: list[VehicleField],
    crossings: list[Entry],
    frontage_m: float = DEFAULT_FRONTAGE_M,
    step_m: float = FRONTAGE_STEP_M,
) -> list[Entry]:
    """Boundary stretches within ``frontage_m`` of a traversable way outside the site."""
    rings: list[LineString] = []
    polys = list(site.geoms) if site.geom_type == "MultiPolygon" else [site]  # type: ignore[attr-defined]
    for poly in polys:
        rings.append(LineString(poly.exterior.coords))
        rings.extend(LineString(r.coords) for r in poly.interiors)
    entries: list[Entry] = []
    cross_pts: dict[int | None, list[tuple[float, float]]] = {}
    for e in crossings:
        cross_pts.setdefault(e.link, []).append((e.x, e.y))
    for ring in rings:
        n = max(int(math.ceil(ring.length / step_m)), 3)
        dist = np.linspace(0.0, ring.length, n, endpoint=False)
        samples = shapely.line_interpolate_point(ring, dist)
        pair_pt, pair_link = net.link_tree.query(samples, predicate="dwithin", distance=frontage_m)
        if pair_pt.size == 0:
            continue
        lines = net.link_lines[pair_link]
        s_link = shapely.line_locate_point(lines, samples[pair_pt])
        near = shapely.line_interpolate_point(lines, s_link)
        nx, ny = shapely.get_x(near), shapely.get_y(near)
        sx, sy = shapely.get_x(samples[pair_pt]), shapely.get_y(samples[pair_pt])
        outside = ~shapely.contains_xy(site, nx, ny)
        dist_m = np.hypot(sx - nx, sy - ny)
        keep = outside.copy()
        for kk in np.flatnonzero(keep):
            k = int(kk)
            link = int(pair_link[k])
            for cx, cy in cross_pts.get(link, []):
                if math.hypot(sx[k] - cx, sy[k] - cy) < net.link_width_m[link] / 2 + 2.0:
                    keep[k] = False
                    break
        pair_pt, pair_link, s_link, dist_m = (
            pair_pt[keep],
            pair_link[keep],
            s_link[keep],
            dist_m[keep],
        )
        if pair_pt.size == 0:
            continue
        room = dist_m + net.link_width_m[pair_link] / 2.0
        length = net.link_length_m[pair_link]
        # per vehicle, per sample: best normal speed and the speed/angle that achieve it
        per_vehicle = []
        exposed = np.zeros(n, dtype=bool)
        for vf in fields:
            v_f = vf.speed_at_ms(2 * pair_link, s_link)
            v_b = vf.speed_at_ms(2 * pair_link + 1, length - s_link)
            fwd_better = np.nan_to_num(v_f, nan=-1.0) >= np.nan_to_num(v_b, nan=-1.0)
            v = np.where(fwd_better, v_f, v_b)
            normal, angle = swerve(np.nan_to_num(v, nan=0.0), room, vf.vehicle.lateral_accel_ms2)
            normal = np.where(np.isfinite(v), normal, -1.0)
            best = np.full(n, -1.0)
            np.maximum.at(best, pair_pt, normal)
            win = normal >= best[pair_pt] - 1e-12
            arg = np.full(n, -1, dtype=np.int64)
            arg[pair_pt[win]] = np.flatnonzero(win)
            per_vehicle.append((best, arg, v, angle, fwd_better))
            exposed |= best > 0
        attackers: dict[int, set[int]] = {}
        for p, link in zip(pair_pt, pair_link, strict=True):
            attackers.setdefault(int(p), set()).add(int(link))
        for run in _runs(exposed):
            idx = np.asarray(run)
            d0 = max(dist[idx[0]] - step_m / 2, 0.0)
            d1 = min(dist[idx[-1]] + step_m / 2, ring.length)
            if idx[-1] < idx[0]:  # the run wraps past the ring's start
                head = substring(ring, d0, ring.length)
                tail = substring(ring, 0.0, d1)
                geom = LineString(list(head.coords) + list(tail.coords)[1:])
                run_length = (ring.length - d0) + d1
            else:
                geom = substring(ring, d0, d1)
                run_length = d1 - d0
            vehicles = []
            best_energy, worst_sample = -1.0, int(idx[0])
            for vf, (best, arg, v, angle, fwd_better) in zip(fields, per_vehicle, strict=True):
                sub = best[idx]
                if np.all(sub <= 0):
                    vehicles.append(_blocked_entry(vf, "no traversable way within reach"))
                    continue
                jw = int(idx[int(np.argmax(sub))])
                k = int(arg[jw])
                ve = _vehicle_entry(vf, float(best[jw]))
                ve.impact_speed_kmh = round(float(v[k]) * 3.6, 1)
                ve.impact_angle_deg = round(math.degrees(float(angle[k])), 1)
                link = int(pair_link[k])
                d = 2 * link if fwd_better[k] else 2 * link + 1
                s = float(s_link[k]) if fwd_better[k] else float(length[k] - s_link[k])
                pts, run_m, kind, v0 = runup_path_reference(net, vf, d, s)
                ve.runup_pieces = pts
                ve.runup_tail_xy = [
                    (float(shapely.get_x(samples[jw])), float(shapely.get_y(samples[jw])))
                ]
                ve.runup_m = round(run_m, 1)
                ve.equivalent_runup_m = round(float(vf.x_at(np.array([d]), np.array([s]))[0]), 1)
                ve.runup_start = kind
                ve.runup_start_speed_kmh = round(v0 * 3.6, 1)
                px, py, road_bearing = net.point_at(link, float(s_link[k]))
                heading = road_bearing if fwd_better[k] else road_bearing + math.pi
                wx_, wy_ = ve.runup_tail_xy[0]
                side = math.sin(heading) * (wy_ - py) - math.cos(heading) * (wx_ - px)
                # turn towards the boundary point by the swerve angle
                turn = float(angle[k]) if side < 0 else -float(angle[k])
                ve.approach_bearing_deg = round(math.degrees(heading + turn) % 360.0, 1)
                ve.worst_xy = (float(shapely.get_x(samples[jw])), float(shapely.get_y(samples[jw])))
                if ve.energy_kj is not None and ve.energy_kj > best_energy:
                    best_energy, worst_sample = ve.energy_kj, jw
                vehicles.append(ve)
            links = sorted({lk for p in idx for lk in attackers.get(int(p), set())})
            wx = float(shapely.get_x(samples[worst_sample]))
            wy = float(shapely.get_y(samples[worst_sample]))
            entries.append(
                Entry(
                    kind="frontage",
                    x=wx,
                    y=wy,
                    bearing_deg=None,
                    link=None,
                    way_id=None,
                    street=", ".join(
                        sorted({net.link_name[lk] for lk in links if net.link_name[lk]})
                    ),
                    geometry_xy=[(float(a), float(b)) for a, b in geom.coords]
                    if geom.geom_type == "LineString"
                    else [(wx, wy)],
                    length_m=round(float(run_length), 1),
                    vehicles=vehicles,
                    attack_links=links,
                )
            )
    return entries
