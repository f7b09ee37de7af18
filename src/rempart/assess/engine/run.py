"""Public entry points: load a network once, assess any number of sites on it.

Public API (stable names, called by the Django app):

- :func:`load_network` (OSM path -> :class:`LoadedNetwork`, reusable across sites and runs)
- :func:`assess_sites` (LoadedNetwork + sites -> list of :class:`SiteResult`)
- :func:`assess` (OSM path + sites -> list of :class:`SiteResult`; loads the network itself)
- :meth:`SiteResult.to_dict` (the JSON shape), :func:`rempart.assess.engine.report.to_geojson`,
  :func:`rempart.assess.engine.report.to_html`

Every function takes ``progress: Callable[[float, str], None] | None`` (fraction 0..1, message).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .entries import DEFAULT_FRONTAGE_M, Entry, entries_to_dicts, site_entries
from .field import BarrierOnLink, VehicleField, segment_speeds_ms, vehicle_field
from .graph import Network, build_network
from .osm import OsmData, read_osm
from .plan import (
    DEFAULT_PLAN_RADIUS_M,
    DEFAULT_STANDOFF_M,
    DEFAULT_VERGE_M,
    CostTable,
    Plan,
    default_costs,
    plan_sites,
    plan_to_dict,
)
from .sites import SiteInput, access_mask, site_geometry
from .vehicles import Vehicle, builtin_vehicles

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class AssessOptions:
    """Options of an assessment (distances in m)."""

    frontage_m: float = DEFAULT_FRONTAGE_M
    standoff_m: float = DEFAULT_STANDOFF_M
    plan_radius_m: float = DEFAULT_PLAN_RADIUS_M
    verge_m: float = DEFAULT_VERGE_M
    field_radius_m: float = 600.0
    access_way_ids: tuple[int, ...] = ()
    access_lines: tuple[dict[str, Any], ...] = ()
    plan: bool = True


@dataclass
class LoadedNetwork:
    """A parsed OSM file and its movement network, reusable across sites."""

    osm: OsmData
    net: Network
    _fields: dict[tuple[Any, ...], list[VehicleField]] = field(default_factory=dict, repr=False)

    def fields(
        self, vehicles: Sequence[Vehicle], barriers: Sequence[BarrierOnLink] = ()
    ) -> list[VehicleField]:
        """Speed fields of ``vehicles`` (memoised per vehicles and barrier register)."""
        key = (tuple(vehicles), tuple(barriers))
        if key not in self._fields:
            self._fields[key] = [vehicle_field(self.net, v, tuple(barriers)) for v in vehicles]
        return self._fields[key]


@dataclass
class SiteResult:
    """Assessment of one site; ``to_dict()`` gives the JSON shape."""

    site: str
    geometry_xy: BaseGeometry
    entries: list[Entry]
    plan: Plan | None
    net: Network
    fields: list[VehicleField]
    options: AssessOptions
    # segment speeds (km/h, vehicles x segments) of ``fields``, shared by the sites of one run
    _segment_kmh: dict[str, Any] = field(default_factory=dict, repr=False)

    def segment_speeds_kmh(self) -> np.ndarray:
        """Highest speed (km/h) of every vehicle on every segment of the network (NaN where
        unreachable), computed once for all the sites assessed together."""
        if "kmh" not in self._segment_kmh:
            self._segment_kmh["kmh"] = (
                np.vstack([segment_speeds_ms(self.net, vf) for vf in self.fields]) * 3.6
            )
        return np.asarray(self._segment_kmh["kmh"])

    def to_dict(self) -> dict[str, Any]:
        geom = shapely.transform(
            self.geometry_xy, lambda c: np.column_stack(self.net.unproject(c[:, 0], c[:, 1]))
        )
        return {
            "site": self.site,
            "geometry": shapely.geometry.mapping(geom),
            "vehicles": [v.vehicle.name for v in self.fields],
            "entries": entries_to_dicts(self.entries, self.net),
            "plan": plan_to_dict(self.plan, self.net) if self.plan is not None else None,
            "options": {
                "frontage_m": self.options.frontage_m,
                "standoff_m": self.options.standoff_m,
                "plan_radius_m": self.options.plan_radius_m,
                "verge_m": self.options.verge_m,
            },
        }

    def speed_field_features(self) -> list[dict[str, Any]]:
        """GeoJSON LineString features (WGS84) of every segment near the site with the maximum
        speed per vehicle (``speed_kmh`` = the highest over vehicles, ``speeds_kmh`` per name)."""
        net = self.net
        region = self.geometry_xy.buffer(self.options.field_radius_m)
        links = np.unique(net.link_tree.query(region, predicate="intersects"))
        if links.size == 0:
            return []
        speeds = self.segment_speeds_kmh()
        names = [vf.vehicle.name for vf in self.fields]
        # every segment j (points j, j+1 of one link) of the links near the site, as arrays
        starts = net.link_offsets[links]
        counts = net.link_offsets[links + 1] - starts - 1
        seg = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        seg_link = np.repeat(links, counts)
        col = speeds[:, seg]
        reached = np.any(np.isfinite(col), axis=0)
        seg, seg_link, col = seg[reached], seg_link[reached], col[:, reached]
        lon0, lat0 = net.unproject(net.pt_x[seg], net.pt_y[seg])
        lon1, lat1 = net.unproject(net.pt_x[seg + 1], net.pt_y[seg + 1])
        ends = np.round(np.column_stack([lon0, lat0, lon1, lat1]), 7).tolist()
        with np.errstate(all="ignore"):
            top = np.round(np.nanmax(col, axis=0), 1).tolist()
        per = np.round(col, 1)
        per_lists = [[None if v != v else v for v in row] for row in per.tolist()]
        ways = net.link_way_id[seg_link].tolist()
        feats = []
        for k, (a, b, c, d) in enumerate(ends):
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": [[a, b], [c, d]]},
                    "properties": {
                        "layer": "speed_field",
                        "site": self.site,
                        "way_id": int(ways[k]),
                        "speed_kmh": top[k],
                        "speeds_kmh": {n: per_lists[i][k] for i, n in enumerate(names)},
                    },
                }
            )
        return feats


def load_network(osm_path: str | Path, progress: Progress | None = None) -> LoadedNetwork:
    """Parse an OSM file (.osm.pbf or .osm XML) and build its movement network."""
    osm = read_osm(osm_path, progress=(lambda f, m: progress(0.5 * f, m)) if progress else None)
    if progress:
        progress(0.5, "building the movement network")
    net = build_network(osm)
    if progress:
        progress(1.0, f"network: {net.n_links} links, {net.n_segments} segments")
    return LoadedNetwork(osm, net)


def assess_sites(
    network: LoadedNetwork,
    sites: Sequence[SiteInput],
    vehicles: Sequence[Vehicle] | None = None,
    barriers: Sequence[BarrierOnLink] = (),
    costs: CostTable | None = None,
    options: AssessOptions | None = None,
    progress: Progress | None = None,
) -> list[SiteResult]:
    """Assess sites on a loaded network.

    Parameters
    ----------
    sites : (name, GeoJSON Polygon/MultiPolygon geometry in WGS84) pairs.
    vehicles : defaults to the built-in IWA 14-1 / ISO 22343-1 vehicles.
    barriers : existing rated barriers snapped to links (:func:`sites.load_barriers`).
    costs : defaults to the built-in indicative cost table.

    Raises
    ------
    SiteError
        Before any computation, if any site is invalid or outside the data.
    """
    options = options or AssessOptions()
    vehicles = list(vehicles) if vehicles is not None else builtin_vehicles()
    costs = costs or default_costs()
    net = network.net
    geoms = [(name, site_geometry(name, geom, net)) for name, geom in sites]
    if progress:
        progress(0.0, f"speed fields of {len(vehicles)} vehicles")
    fields = network.fields(vehicles, barriers)
    access = access_mask(net, list(options.access_way_ids), list(options.access_lines))
    results: list[SiteResult] = []
    if progress:
        progress(0.3, f"entries of {len(geoms)} sites")
    # all sites at once: bulk spatial queries and one run-up walk per vehicle
    entries = site_entries(net, [g for _, g in geoms], fields, options.frontage_m)
    plans: list[Plan | None] = [None] * len(geoms)
    if options.plan:
        if progress:
            progress(0.6, f"barrier plans of {len(geoms)} sites")
        plans = list(
            plan_sites(
                net,
                [g for _, g in geoms],
                fields,
                [frontage for _, frontage in entries],
                costs,
                access,
                options.standoff_m,
                options.plan_radius_m,
                options.verge_m,
            )
        )
    shared: dict[str, Any] = {}
    for (name, geom), (crossings, frontage), plan in zip(geoms, entries, plans, strict=True):
        results.append(
            SiteResult(name, geom, crossings + frontage, plan, net, fields, options, shared)
        )
    if progress:
        progress(1.0, "done")
    return results


def assess(
    osm_path: str | Path,
    sites: Sequence[SiteInput],
    vehicles: Sequence[Vehicle] | None = None,
    barriers_path: str | Path | None = None,
    costs: CostTable | None = None,
    options: AssessOptions | None = None,
    progress: Progress | None = None,
) -> list[SiteResult]:
    """Load ``osm_path`` and assess ``sites`` on it (see :func:`assess_sites`)."""
    from .sites import load_barriers

    network = load_network(
        osm_path, progress=(lambda f, m: progress(0.2 * f, m)) if progress else None
    )
    barriers = load_barriers(barriers_path, network.net) if barriers_path else []
    return assess_sites(
        network,
        sites,
        vehicles,
        barriers,
        costs,
        options,
        progress=(lambda f, m: progress(0.2 + 0.8 * f, m)) if progress else None,
    )
