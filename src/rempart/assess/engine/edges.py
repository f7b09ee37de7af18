"""The site's whole edge as numbered stretches (issue 10 item 3), one entry type.

Hand-written (the grouping is the product's own rule). The edge samples of the off-road
search (about 2 m apart) are the only sampling of the edge: at each sample, per vehicle, the
worst of the off-road search, a road crossing covering the sample and the frontage swerve
model, by the speed normal to the edge (:func:`edge_worst`). Consecutive samples of one ring
whose governing requirement (the vehicle with the most energetic required test, and that
test) is the same form one stretch; a crossing's samples are a stretch of their own
(:func:`edge_stretches`). Each vehicle of a stretch reports its worst sample: impact speed
(km/h), angle to the edge (degrees, 90 = head-on), its component normal to the edge
(``speed_kmh``, the one rated), the source and the path that produces it, and the required
rating (lowest standard test speed at or above the normal speed,
:func:`ratings.required_rating`); with a stand-off an off-road stretch's rating carries the
allowed penetration (m) in the IWA 14-1 way (``V/7200[N2A]/64/90:10``). Distances in m in the
network's local CRS, output points WGS84.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from .drivable import WARNINGS
from .entries import (
    Entry,
    FrontageAt,
    VehicleEntry,
    _blocked_entry,
    _RunupQueue,
    required_rating_from,
)
from .entries import _vehicle_entry as _entry_at_speed
from .field import VehicleField
from .graph import FloatArray, IntArray, Network
from .offroad import EDGE_STEP_M, ROAD, EdgeSamples, EdgeThreat
from .ratings import TEST_SPEEDS_KMH, required_rating, required_test_speed
from .turns import approach_path_xy, path_length_m

EDGE = "edge"


def _rating_energy(mass_kg: float, speed_kmh: float) -> float:
    """Energy (kJ) of the required test at ``speed_kmh``; inf above the tested speeds."""
    r = required_test_speed(speed_kmh)
    return math.inf if r is None else 0.5 * mass_kg * (r / 3.6) ** 2 / 1000.0


def _rating_energies(mass_kg: float, speed_kmh: FloatArray) -> FloatArray:
    """:func:`_rating_energy` of every speed (km/h) of an array, from a table of the test
    speeds' energies (kJ; the same scalar arithmetic, so the same floats)."""
    table = np.array([_rating_energy(mass_kg, t) for t in TEST_SPEEDS_KMH] + [math.inf])
    return table[np.searchsorted(np.asarray(TEST_SPEEDS_KMH, dtype=float) + 1e-9, speed_kmh)]


def with_penetration(iwa: str | None, rating_kmh: float | None, standoff_m: float) -> str | None:
    """The IWA 14-1 notation with the allowed penetration (m, the stand-off) written after
    the angle, when there is a stand-off and a rated speed."""
    if standoff_m > 0 and rating_kmh is not None and iwa and ":" not in iwa:
        return f"{iwa}:{standoff_m:g}"
    return iwa


def _vehicle_entry(
    vf: VehicleField,
    th: EdgeThreat,
    i: int,
    samples: EdgeSamples,
    net: Network,
    standoff_m: float,
    impact_kmh: float,
) -> VehicleEntry:
    """The vehicle's entry at edge sample ``i`` of its off-road threats; ``impact_kmh`` is
    the exact ``V(x)`` at the sample (:func:`_exact_impact_kmh`)."""
    v = vf.vehicle
    if not np.isfinite(th.x_m[i]):
        return _blocked_entry(vf, "no straight run through the drivable space reaches this stretch")
    kmh = impact_kmh
    normal = kmh * math.sin(math.radians(float(th.angle_deg[i])))
    rating = required_rating(v, normal)
    iwa = with_penetration(rating.iwa, rating.speed_kmh, standoff_m)
    ex, ey = float(samples.x[i]), float(samples.y[i])
    path = _path_xy(th, i, ex, ey)
    return VehicleEntry(
        name=v.name,
        test_class=v.test_class,
        mass_kg=v.mass_kg,
        speed_kmh=round(normal, 1),
        energy_kj=round(0.5 * v.mass_kg * (normal / 3.6) ** 2 / 1000.0, 1),
        rating=iwa,
        pas68=rating.pas68,
        runup_m=round(path_length_m(path), 1),
        equivalent_runup_m=round(float(th.x_m[i]), 1),
        runup_start="road" if th.kind[i] == ROAD else "rest",
        runup_start_speed_kmh=round(float(th.start_speed_kmh[i]), 1),
        runup_tail_xy=path,
        approach_bearing_deg=round(math.degrees(math.atan2(th.ux[i], th.uy[i])) % 360.0, 1),
        impact_speed_kmh=round(kmh, 1),
        impact_angle_deg=round(float(th.angle_deg[i]), 1),
        worst_xy=(ex, ey),
        rating_speed_kmh=rating.speed_kmh,
    )


def _path_xy(th: EdgeThreat, i: int, ex: float, ey: float) -> list[tuple[float, float]]:
    """The path of the approach kept at edge sample ``i`` (edge point ``ex, ey``; m, local
    CRS): its road start's turn, its bend point, the edge point (:func:`turns.approach_path_xy`)."""
    vx, vy = float(th.via_x[i]), float(th.via_y[i])
    via = (vx, vy) if math.isfinite(vx) and math.isfinite(vy) else None
    return approach_path_xy(
        (float(th.start_x[i]), float(th.start_y[i])),
        (float(th.turn_ux[i]), float(th.turn_uy[i])),
        float(th.turn_r_m[i]),
        via,
        (ex, ey),
    )


def worst_approach(
    net: Network,
    samples: EdgeSamples,
    threats: Sequence[EdgeThreat],
    fields: Sequence[VehicleField],
) -> dict[str, Any] | None:
    """The site's worst straight-run approach: the highest kinetic energy normal to the edge
    over all vehicles and edge samples (WGS84 points, km/h, degrees, kJ)."""
    best: tuple[float, int, int] | None = None
    for vi, (vf, th) in enumerate(zip(fields, threats, strict=True)):
        if not np.any(np.isfinite(th.x_m)):
            continue
        i = int(np.argmax(np.where(np.isfinite(th.normal_kmh), th.normal_kmh, -1.0)))
        e = 0.5 * vf.vehicle.mass_kg * (float(th.normal_kmh[i]) / 3.6) ** 2 / 1000.0
        if best is None or e > best[0]:
            best = (e, vi, i)
    if best is None:
        return None
    _, vi, i = best
    th, vf = threats[vi], fields[vi]
    kmh = float(vf.kin.v_of_x(max(float(th.x_m[i]), 0.0))) * 3.6
    normal = kmh * math.sin(math.radians(float(th.angle_deg[i])))
    ex, ey = float(samples.x[i]), float(samples.y[i])
    pxy = np.asarray(_path_xy(th, i, ex, ey))
    lon, lat = net.unproject(np.r_[ex, pxy[:, 0]], np.r_[ey, pxy[:, 1]])
    link = int(th.link[i])
    return {
        "vehicle": vf.vehicle.name,
        "impact_speed_kmh": round(kmh, 1),
        "impact_angle_deg": round(float(th.angle_deg[i]), 1),
        "normal_speed_kmh": round(normal, 1),
        "energy_kj": round(0.5 * vf.vehicle.mass_kg * (normal / 3.6) ** 2 / 1000.0, 1),
        "rating": required_rating(vf.vehicle, normal).iwa,
        "start": "road" if th.kind[i] == ROAD else "rest",
        "start_speed_kmh": round(float(th.start_speed_kmh[i]), 1),
        "street": net.link_name[link] if link >= 0 else "",
        "edge_point": {"lon": round(float(lon[0]), 7), "lat": round(float(lat[0]), 7)},
        "path": {
            "type": "LineString",
            "coordinates": [
                [round(float(a), 7), round(float(b), 7)]
                for a, b in zip(lon[1:], lat[1:], strict=True)
            ],
        },
    }


def warnings_to_dicts(codes: Sequence[str]) -> list[dict[str, Any]]:
    """Data-quality warnings: code (also as ``kind``, the report's key) with its English and
    French text; site-wide, so no entry and no position."""
    return [
        {"kind": c, "code": c, "entry": None, "en": WARNINGS[c][0], "fr": WARNINGS[c][1]}
        for c in codes
    ]


# --- One sampling of the whole edge (issue 10 item 3) ------------------------------------

#: Sources of the worst approach at an edge sample (``source`` in the JSON, shown in words).
OFFROAD_SRC, CROSSING_SRC, FRONTAGE_SRC = 1, 2, 3
SOURCE_NAMES = {OFFROAD_SRC: "off-road", CROSSING_SRC: "road crossing", FRONTAGE_SRC: "frontage"}
#: A stretch is named by the nearest named street within this distance (m) of it; else it is
#: described as open ground in the compass direction from the site's centre.
NAME_RADIUS_M = 30.0
#: A way lying within the site grown by this much (m) is the site's own and names nothing.
OWN_WAY_TOLERANCE_M = 1.5
UNNAMED = {"en": "unnamed way", "fr": "voie sans nom"}
#: Compass directions (English, French with its preposition) of a stretch from the site's
#: centre, every 45 degrees from north.
COMPASS = (
    ("north", "au nord"),
    ("north-east", "au nord-est"),
    ("east", "à l'est"),
    ("south-east", "au sud-est"),
    ("south", "au sud"),
    ("south-west", "au sud-ouest"),
    ("west", "à l'ouest"),
    ("north-west", "au nord-ouest"),
)


@dataclass
class EdgeWorst:
    """The worst approach at every edge sample, per vehicle, over the three sources (arrays
    vehicles x samples): ``normal_kmh`` (the rated component; -1 none), ``impact_kmh``,
    ``angle_deg`` (90 = head-on), ``source`` (0 none, :data:`OFFROAD_SRC`,
    :data:`CROSSING_SRC`, :data:`FRONTAGE_SRC`) and ``crossing`` (per sample, the index of
    the road crossing whose span covers it, -1 none)."""

    normal_kmh: FloatArray
    impact_kmh: FloatArray
    angle_deg: FloatArray
    source: IntArray
    crossing: IntArray


def edge_worst(
    samples: EdgeSamples,
    threats: Sequence[EdgeThreat],
    crossings: Sequence[Entry],
    frontage: Sequence[FrontageAt],
) -> EdgeWorst:
    """Per edge sample and vehicle the worst of the off-road search, a road crossing whose
    crossing point falls in the sample's span (a crossing covers the samples within half its
    carriageway width, at least the nearest one) and the frontage model, by normal speed."""
    n, nv = samples.x.size, len(threats)
    norm = np.full((nv, n), -1.0)
    imp = np.full((nv, n), np.nan)
    ang = np.full((nv, n), np.nan)
    src = np.zeros((nv, n), dtype=np.int64)
    for vi, th in enumerate(threats):
        ok = np.isfinite(th.normal_kmh) & np.isfinite(th.x_m)
        norm[vi, ok], imp[vi, ok], ang[vi, ok] = (
            th.normal_kmh[ok],
            th.speed_kmh[ok],
            th.angle_deg[ok],
        )
        src[vi, ok] = OFFROAD_SRC
        if vi < len(frontage):
            fr = frontage[vi]
            better = np.isfinite(fr.normal_kmh) & (
                np.nan_to_num(fr.normal_kmh, nan=-1.0) > norm[vi]
            )
            norm[vi, better] = fr.normal_kmh[better]
            imp[vi, better], ang[vi, better] = fr.impact_kmh[better], fr.angle_deg[better]
            src[vi, better] = FRONTAGE_SRC
    cross_of = np.full(n, -1, dtype=np.int64)
    for ci, e in enumerate(crossings):
        if n == 0:
            break
        d = np.hypot(samples.x - e.x, samples.y - e.y)
        j0 = int(np.argmin(d))
        sel = (samples.ring == samples.ring[j0]) & (d <= max(e.width_m / 2.0, 0.0))
        sel[j0] = True
        cross_of[sel] = ci
        for vi, ve in enumerate(e.vehicles[:nv]):
            if ve.speed_kmh is None:
                continue
            win = sel & (ve.speed_kmh >= norm[vi] - 1e-9)
            norm[vi, win] = ve.speed_kmh
            imp[vi, win] = ve.impact_speed_kmh if ve.impact_speed_kmh is not None else ve.speed_kmh
            ang[vi, win] = ve.impact_angle_deg if ve.impact_angle_deg is not None else 90.0
            src[vi, win] = CROSSING_SRC
    return EdgeWorst(norm, imp, ang, src, cross_of)


def _clockwise_from_north(samples: EdgeSamples, r: int) -> NDArray[np.int64]:
    """Sample indices of ring ``r`` clockwise (seen on a map, y north), from its north-most."""
    idx = np.flatnonzero(samples.ring == r)
    x, y = samples.x[idx], samples.y[idx]
    area2 = float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
    if area2 > 0:  # counter-clockwise: reverse
        idx, y = idx[::-1], y[::-1]
    return np.roll(idx, -int(np.argmax(y)))


def _cyclic_runs(keys: list[tuple[Any, ...]]) -> list[list[int]]:
    """Runs of equal consecutive keys on a closed ring (positions); a run crossing the ring's
    start is merged and listed first."""
    runs: list[list[int]] = []
    for k, key in enumerate(keys):
        if runs and keys[runs[-1][-1]] == key:
            runs[-1].append(k)
        else:
            runs.append([k])
    if len(runs) > 1 and keys[runs[0][0]] == keys[runs[-1][0]]:
        runs[0] = runs.pop() + runs[0]
    return runs


def _place(
    net: Network,
    site: BaseGeometry,
    pts: list[tuple[float, float]],
    excluded: NDArray[np.bool_],
    approach_link: int = -1,
    crossing: bool = False,
    zone: BaseGeometry | None = None,
) -> tuple[str, dict[str, str]]:
    """(street, the stretch's name in English and French). A crossing is named by its way.
    Another stretch by the nearest named street within :data:`NAME_RADIUS_M` m of it (a
    street the reader can find it by), else by the way its worst path comes along
    (``approach_link``), else "" and "open ground <direction from the site's centre>". Ways
    lying within the site (1.5 m tolerance: ``zone``, the site grown by
    :data:`OWN_WAY_TOLERANCE_M`, built here when not given) name nothing. A path along an unnamed way is named :data:`UNNAMED` (a data gap the report lists)."""

    def by_approach() -> tuple[str, dict[str, str]]:
        street = net.link_name[approach_link]
        return street, ({"en": street, "fr": street} if street else dict(UNNAMED))

    if crossing and approach_link >= 0:
        return by_approach()
    line = LineString(pts) if len(pts) > 1 else shapely.Point(pts[0])
    if net.n_links:
        cand = net.link_tree.query(line, predicate="dwithin", distance=NAME_RADIUS_M)
        named = [int(k) for k in cand if net.link_name[int(k)] and not excluded[int(k)]]
        if named:
            # a way lying within the site (its own paths, often named after it) names nothing
            if zone is None:
                zone = site.buffer(OWN_WAY_TOLERANCE_M)
            inside = shapely.within(net.link_lines[np.asarray(named)], zone)
            named = [k for k, i in zip(named, inside.tolist(), strict=True) if not i]
        if named:
            dist = shapely.distance(net.link_lines[np.asarray(named)], line)
            street = net.link_name[named[int(np.argmin(dist))]]
            return street, {"en": street, "fr": street}
    if approach_link >= 0:
        return by_approach()
    c = site.centroid
    mx, my = pts[len(pts) // 2]
    bearing = math.degrees(math.atan2(mx - c.x, my - c.y)) % 360.0
    en, fr = COMPASS[int(((bearing + 22.5) % 360.0) // 45.0)]
    return "", {"en": f"open ground {en}", "fr": f"terrain ouvert {fr}"}


def _exact_impact_kmh(
    fields: Sequence[VehicleField], threats: Sequence[EdgeThreat]
) -> list[FloatArray]:
    """Per vehicle, the exact impact speed ``V(x)`` (km/h) at every edge sample of its
    off-road threats (0 where no run reaches it), in one call per vehicle: the search's own
    speeds are interpolated from tables; reported speeds are recomputed exactly
    (``Kinematics.v_of_x`` gives each point the same result alone or in a batch)."""
    out = []
    for vf, th in zip(fields, threats, strict=False):
        x = np.where(np.isfinite(th.x_m), np.maximum(th.x_m, 0.0), 0.0)
        out.append(np.asarray(vf.kin.v_of_x(x), dtype=float) * 3.6)
    return out


@dataclass(frozen=True)
class EdgeInputs:
    """What the edge stretches of one site are built from: the network and the site (local
    metres), the edge samples, per vehicle the off-road threats and frontage at each sample,
    the road-graph crossings, the links excluded as the site's own ways, and the stand-off (m)
    appended to the ratings."""

    net: Network
    site: BaseGeometry
    samples: EdgeSamples
    threats: Sequence[EdgeThreat]
    fields: Sequence[VehicleField]
    crossings: Sequence[Entry]
    frontage: Sequence[FrontageAt]
    excluded: NDArray[np.bool_]
    standoff_m: float = 0.0

    @cached_property
    def site_zone(self) -> BaseGeometry:
        """The site grown by :data:`OWN_WAY_TOLERANCE_M` (local m), built once per site for
        :func:`_place`."""
        return self.site.buffer(OWN_WAY_TOLERANCE_M)


def edge_stretches(inp: EdgeInputs) -> tuple[list[Entry], EdgeWorst]:
    """The site's edge as numbered stretches, one entry type (issue 10 item 3).

    Consecutive samples of one ring with the same governing requirement (the vehicle whose
    required test has the most energy, and that test) form one stretch; the samples of a road
    crossing (its carriageway width) are a stretch of their own, so a crossing is never
    diluted. Per vehicle a stretch reports its worst sample (by normal speed) from whichever
    source gives it, with its path. Stretches are numbered 1..n ring by ring, clockwise from
    each ring's north-most point, and named by the nearest street (:func:`_place`).
    """
    samples, threats, fields = inp.samples, inp.threats, inp.fields
    worst = edge_worst(samples, threats, inp.crossings, inp.frontage)
    n = samples.x.size
    if n == 0 or not fields:
        return [], worst
    energy = np.full((len(fields), n), -1.0)
    for vi, vf in enumerate(fields):
        ok = worst.normal_kmh[vi] > 0
        energy[vi, ok] = _rating_energies(vf.vehicle.mass_kg, worst.normal_kmh[vi, ok])
    gov = np.argmax(energy, axis=0)
    gov_e = energy[gov, np.arange(n)]
    gov_key = np.where(gov_e < 0, -1, gov)
    e_key = np.where(np.isinf(gov_e), -2.0, np.round(gov_e))
    queue = _RunupQueue(len(fields))
    exact_kmh = _exact_impact_kmh(fields, threats)
    out: list[Entry] = []
    for r in np.unique(samples.ring).tolist():
        order = _clockwise_from_north(samples, int(r))
        keys = [(int(gov_key[j]), float(e_key[j]), int(worst.crossing[j])) for j in order.tolist()]
        spacing = 2.0 * float(samples.s_m[order].min())
        for run in _cyclic_runs(keys):
            idx = order[np.asarray(run)]
            out.append(_stretch(inp, worst, idx, spacing, queue, exact_kmh))
    queue.resolve(inp.net, list(fields))
    for number, e in enumerate(out, start=1):
        e.number = number
    return out, worst


def _stretch(
    inp: EdgeInputs,
    worst: EdgeWorst,
    idx: NDArray[np.int64],
    spacing_m: float,
    queue: _RunupQueue,
    exact_kmh: Sequence[FloatArray],
) -> Entry:
    """One stretch (sample indices ``idx``, clockwise) as an :class:`Entry`."""
    net, site, samples, fields = inp.net, inp.site, inp.samples, inp.fields
    threats, crossings, frontage, excluded = inp.threats, inp.crossings, inp.frontage, inp.excluded
    vehicles: list[VehicleEntry] = []
    best_e, worst_j, gov_src, gov_link = -1.0, int(idx[len(idx) // 2]), 0, -1
    for vi, vf in enumerate(fields):
        col = worst.normal_kmh[vi, idx]
        j = int(idx[int(np.argmax(col))])
        src = int(worst.source[vi, j]) if col.max() > 0 else 0
        ve: VehicleEntry
        if src == OFFROAD_SRC:
            kmh = float(exact_kmh[vi][j])
            ve = _vehicle_entry(vf, threats[vi], j, samples, net, inp.standoff_m, kmh)
        elif src == CROSSING_SRC:
            ve = dataclasses.replace(crossings[int(worst.crossing[j])].vehicles[vi])
        elif src == FRONTAGE_SRC:
            fr = frontage[vi]
            ve = _entry_at_speed(vf, float(fr.normal_kmh[j]) / 3.6)
            ve.impact_speed_kmh = round(float(fr.impact_kmh[j]), 1)
            ve.impact_angle_deg = round(float(fr.angle_deg[j]), 1)
            ve.approach_bearing_deg = round(float(fr.bearing_deg[j]), 1)
            wxy = (float(samples.x[j]), float(samples.y[j]))
            ve.runup_tail_xy = [wxy]
            ve.worst_xy = wxy
            queue.add(vi, int(fr.directed[j]), float(fr.s_m[j]), ve, True)
        elif int(worst.crossing[idx[0]]) >= 0:
            # the crossing's own reason (too narrow, rated barrier, unreachable)
            ve = dataclasses.replace(crossings[int(worst.crossing[idx[0]])].vehicles[vi])
        else:
            ve = _blocked_entry(vf, "no approach reaches this stretch")
        ve.source = SOURCE_NAMES.get(src)
        if src in (CROSSING_SRC, FRONTAGE_SRC):
            ve.rating = with_penetration(ve.rating, ve.rating_speed_kmh, inp.standoff_m)
        vehicles.append(ve)
        e = required_rating_from(ve)
        if e is not None and e > best_e:
            best_e, worst_j, gov_src = e, j, src
            gov_link = (
                int(threats[vi].link[j])
                if src == OFFROAD_SRC
                else int(frontage[vi].directed[j]) // 2
                if src == FRONTAGE_SRC
                else -1
            )
    ci = int(worst.crossing[idx[0]])
    pts = [(float(samples.x[k]), float(samples.y[k])) for k in idx]
    if ci >= 0:
        c = crossings[ci]
        return dataclasses.replace(
            c,
            vehicles=vehicles,
            source=SOURCE_NAMES[CROSSING_SRC],
            stretch_m=round(c.width_m, 1),
            place=_place(
                net,
                site,
                pts,
                excluded,
                c.link if c.link is not None else -1,
                crossing=True,
                zone=inp.site_zone,
            )[1],
            geometry_xy=pts,
        )
    street, place = _place(net, site, pts, excluded, gov_link, zone=inp.site_zone)
    gov_ve = next((ve for ve in vehicles if required_rating_from(ve) == best_e), None)
    bearing = gov_ve.approach_bearing_deg if gov_ve is not None else None
    return Entry(
        kind="frontage" if gov_src == FRONTAGE_SRC else EDGE,
        x=float(samples.x[worst_j]),
        y=float(samples.y[worst_j]),
        bearing_deg=bearing,
        link=None,
        way_id=None,
        street=street,
        geometry_xy=pts,
        length_m=round(len(idx) * spacing_m, 1),
        vehicles=vehicles,
        source=SOURCE_NAMES.get(gov_src, SOURCE_NAMES[OFFROAD_SRC]),
        stretch_m=round(len(idx) * spacing_m, 1),
        place=place,
        approach_way_id=int(net.link_way_id[gov_link]) if gov_link >= 0 else None,
        approach_street=net.link_name[gov_link] if gov_link >= 0 else None,
    )


def profile_dict(
    net: Network,
    samples: EdgeSamples,
    worst: EdgeWorst,
    fields: Sequence[VehicleField],
    stretches: Sequence[Entry],
) -> dict[str, Any]:
    """The edge profile (JSON ``edge``): at every 2 m sample per vehicle the worst impact
    speed (km/h), its angle (degrees), normal speed (km/h) and source over the three sources,
    and the number of the stretch it belongs to; sample points in WGS84."""
    lon, lat = net.unproject(samples.x, samples.y)
    number = np.zeros(samples.x.size, dtype=np.int64)
    index = {
        (round(x, 6), round(y, 6)): k
        for k, (x, y) in enumerate(zip(samples.x.tolist(), samples.y.tolist(), strict=True))
    }
    for e in stretches:
        for x, y in e.geometry_xy:
            k = index.get((round(x, 6), round(y, 6)))
            if k is not None:
                number[k] = e.number or 0

    def col(a: FloatArray) -> list[float | None]:
        return [round(float(s), 1) if s == s and s >= 0 else None for s in a.tolist()]

    names = [vf.vehicle.name for vf in fields]
    none = worst.normal_kmh <= 0
    return {
        "step_m": EDGE_STEP_M,
        "points": [[round(float(a), 7), round(float(b), 7)] for a, b in zip(lon, lat, strict=True)],
        "speeds_kmh": {
            n: col(np.where(none[i], np.nan, worst.impact_kmh[i])) for i, n in enumerate(names)
        },
        "angles_deg": {
            n: col(np.where(none[i], np.nan, worst.angle_deg[i])) for i, n in enumerate(names)
        },
        "normal_speeds_kmh": {n: col(worst.normal_kmh[i]) for i, n in enumerate(names)},
        "sources": {
            n: [SOURCE_NAMES.get(int(s)) for s in worst.source[i].tolist()]
            for i, n in enumerate(names)
        },
        "stretch": number.tolist(),
    }
