"""Edge entries: the off-road threat along a site's whole edge, grouped into stretches.

Hand-written (the grouping is the product's own rule): consecutive edge samples of one ring
whose governing requirement (the vehicle with the most energetic required test, and that
test) is the same form one stretch, an :class:`entries.Entry` of kind ``"edge"``. Each vehicle
of a stretch reports its worst sample: impact speed (km/h), angle to the edge (degrees, 90 =
head-on), its component normal to the edge (``speed_kmh``, the one rated, as for frontage),
the straight run that produces it and the required rating (lowest standard test speed at or
above the normal speed, :func:`ratings.required_rating`); with a stand-off the
allowed penetration (m) is appended in the IWA 14-1 way (``V/7200[N2A]/64/90:10``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .drivable import WARNINGS
from .entries import Entry, VehicleEntry
from .field import VehicleField
from .graph import Network
from .offroad import EDGE_STEP_M, ROAD, EdgeSamples, EdgeThreat
from .ratings import required_rating

EDGE = "edge"


def _rating_energy(mass_kg: float, speed_kmh: float) -> float:
    """Energy (kJ) of the required test at ``speed_kmh``; inf above the tested speeds."""
    r = required_rating_speed(speed_kmh)
    return math.inf if r is None else 0.5 * mass_kg * (r / 3.6) ** 2 / 1000.0


def required_rating_speed(speed_kmh: float) -> int | None:
    from .ratings import TEST_SPEEDS_KMH

    for t in TEST_SPEEDS_KMH:
        if speed_kmh <= t + 1e-9:
            return t
    return None


def _vehicle_entry(
    vf: VehicleField,
    th: EdgeThreat,
    i: int,
    samples: EdgeSamples,
    net: Network,
    standoff_m: float,
) -> VehicleEntry:
    v = vf.vehicle
    if not np.isfinite(th.x_m[i]):
        return VehicleEntry(
            v.name,
            v.test_class,
            v.mass_kg,
            None,
            None,
            None,
            None,
            blocked="no straight run through the drivable space reaches this stretch",
        )
    kmh = float(vf.kin.v_of_x(max(float(th.x_m[i]), 0.0))) * 3.6
    normal = kmh * math.sin(math.radians(float(th.angle_deg[i])))
    rating = required_rating(v, normal)
    iwa = rating.iwa
    if standoff_m > 0 and rating.speed_kmh is not None:
        iwa = f"{iwa}:{standoff_m:g}"
    sx, sy = float(th.start_x[i]), float(th.start_y[i])
    ex, ey = float(samples.x[i]), float(samples.y[i])
    return VehicleEntry(
        name=v.name,
        test_class=v.test_class,
        mass_kg=v.mass_kg,
        speed_kmh=round(normal, 1),
        energy_kj=round(0.5 * v.mass_kg * (normal / 3.6) ** 2 / 1000.0, 1),
        rating=iwa,
        pas68=rating.pas68,
        runup_m=round(math.hypot(ex - sx, ey - sy), 1),
        equivalent_runup_m=round(float(th.x_m[i]), 1),
        runup_start="road" if th.kind[i] == ROAD else "rest",
        runup_start_speed_kmh=round(float(th.start_speed_kmh[i]), 1),
        runup_tail_xy=[(sx, sy), (ex, ey)],
        approach_bearing_deg=round(math.degrees(math.atan2(th.ux[i], th.uy[i])) % 360.0, 1),
        impact_speed_kmh=round(kmh, 1),
        impact_angle_deg=round(float(th.angle_deg[i]), 1),
        worst_xy=(ex, ey),
        rating_speed_kmh=rating.speed_kmh,
    )


def edge_entries(
    net: Network,
    samples: EdgeSamples,
    threats: Sequence[EdgeThreat],
    fields: Sequence[VehicleField],
    standoff_m: float = 0.0,
) -> list[Entry]:
    """Stretches of the edge with one governing requirement each (see module docstring)."""
    n = samples.x.size
    if n == 0 or not fields:
        return []
    # energy of the required test per vehicle and sample
    energy = np.full((len(fields), n), -1.0)
    for vi, (vf, th) in enumerate(zip(fields, threats, strict=True)):
        ok = np.isfinite(th.normal_kmh)
        energy[vi, ok] = [_rating_energy(vf.vehicle.mass_kg, s) for s in th.normal_kmh[ok]]
    gov = np.argmax(energy, axis=0)
    gov_e = energy[gov, np.arange(n)]
    key = np.stack([samples.ring, gov, np.where(np.isinf(gov_e), -2, np.round(gov_e))], axis=1)
    change = np.ones(n, dtype=bool)
    change[1:] = np.any(key[1:] != key[:-1], axis=1)
    starts = np.flatnonzero(change)
    ends = np.concatenate([starts[1:], [n]])
    out: list[Entry] = []
    for a, b in zip(starts, ends, strict=True):
        idx = np.arange(a, b)
        vehicles = []
        worst_gov = idx[0]
        for vi, (vf, th) in enumerate(zip(fields, threats, strict=True)):
            xs = np.where(np.isfinite(th.normal_kmh[idx]), th.normal_kmh[idx], -1.0)
            j = idx[int(np.argmax(xs))]
            vehicles.append(_vehicle_entry(vf, th, int(j), samples, net, standoff_m))
            if vi == gov[a]:
                worst_gov = int(j)
        th_g = threats[int(gov[a])]
        link = int(th_g.link[worst_gov])
        street = net.link_name[link] if link >= 0 else ""
        geometry = [(float(samples.x[k]), float(samples.y[k])) for k in idx]
        if len(geometry) == 1:
            geometry = geometry * 2
        bearing = (
            round(math.degrees(math.atan2(th_g.ux[worst_gov], th_g.uy[worst_gov])) % 360.0, 1)
            if np.isfinite(th_g.x_m[worst_gov])
            else None
        )
        out.append(
            Entry(
                kind=EDGE,
                x=float(samples.x[worst_gov]),
                y=float(samples.y[worst_gov]),
                bearing_deg=bearing,
                link=link if link >= 0 else None,
                way_id=int(net.link_way_id[link]) if link >= 0 else None,
                street=street,
                geometry_xy=geometry,
                length_m=round(float(b - a) * EDGE_STEP_M, 1),
                vehicles=vehicles,
            )
        )
    return out


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
    lon, lat = net.unproject(
        np.array([samples.x[i], th.start_x[i]]), np.array([samples.y[i], th.start_y[i]])
    )
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
                [round(float(lon[1]), 7), round(float(lat[1]), 7)],
                [round(float(lon[0]), 7), round(float(lat[0]), 7)],
            ],
        },
    }


def edge_profile(
    net: Network,
    samples: EdgeSamples,
    threats: Sequence[EdgeThreat],
    fields: Sequence[VehicleField],
) -> dict[str, Any]:
    """Impact speed (km/h) and angle (degrees) at every edge sample per vehicle (``None``:
    no approach), with the sample points (WGS84), for heat maps."""
    lon, lat = net.unproject(samples.x, samples.y)
    speeds: dict[str, list[float | None]] = {}
    angles: dict[str, list[float | None]] = {}
    for vf, th in zip(fields, threats, strict=True):
        ok = np.isfinite(th.speed_kmh)
        speeds[vf.vehicle.name] = [
            round(float(s), 1) if o else None for s, o in zip(th.speed_kmh, ok, strict=True)
        ]
        angles[vf.vehicle.name] = [
            round(float(s), 1) if o else None for s, o in zip(th.angle_deg, ok, strict=True)
        ]
    return {
        "step_m": EDGE_STEP_M,
        "points": [[round(float(a), 7), round(float(b), 7)] for a, b in zip(lon, lat, strict=True)],
        "speeds_kmh": speeds,
        "angles_deg": angles,
    }


def warnings_to_dicts(codes: Sequence[str]) -> list[dict[str, Any]]:
    """Data-quality warnings: code (also as ``kind``, the report's key) with its English and
    French text; site-wide, so no entry and no position."""
    return [
        {"kind": c, "code": c, "entry": None, "en": WARNINGS[c][0], "fr": WARNINGS[c][1]}
        for c in codes
    ]
