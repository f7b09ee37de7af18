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
import osmium
import shapely
from shapely.geometry.base import BaseGeometry

from .drivable import RADIUS_M, Drivable, Features, drivable_space, grade_separated, read_features
from .edges import EdgeInputs, edge_stretches, profile_dict, warnings_to_dicts, worst_approach
from .entries import (
    DEFAULT_FRONTAGE_M,
    Entry,
    Obstacles,
    entries_to_dicts,
    frontage_at,
    site_entries,
)
from .field import BarrierOnLink, VehicleField, segment_speeds_ms, vehicle_field
from .graph import Network, build_network
from .offroad import (
    RatedShape,
    edge_samples,
    edge_threats,
    load_rated_shapes,
    rated_shapes_from_links,
    road_seeds,
)
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
from .plan_stretches import StretchContext, cover_stretches
from .sites import SiteInput, access_mask, site_geometry
from .vehicles import Vehicle, builtin_vehicles

Progress = Callable[[float, str], None]

#: Sites assessed together (their drivable rasters, about 5 MB each at 400 m, live at once):
#: enough to share the plans' bulk work, few enough that memory does not grow with the sites.
SITE_CHUNK = 8


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
    #: the off-road model (docs/method.md, "Off-road model"): edge entries over the drivable
    #: space within ``offroad_radius_m`` (m) of each site.
    offroad: bool = True
    offroad_radius_m: float = RADIUS_M


@dataclass
class LoadedNetwork:
    """A parsed OSM file and its movement network, reusable across sites."""

    osm: OsmData
    net: Network
    _fields: dict[tuple[Any, ...], list[VehicleField]] = field(default_factory=dict, repr=False)
    _extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def features(self) -> Features:
        """Obstacles of the OSM file (read once; none for in-memory data)."""
        if "features" not in self._extra:
            import os

            if os.path.isfile(self.osm.path):
                self._extra["features"] = read_features(
                    self.osm.path, self.net.project, areas=self._extra.pop("areas", None)
                )
            else:
                self._extra["features"] = Features()
            self._extra["trees"] = self._extra["features"].trees()
        return self._extra["features"]  # type: ignore[no-any-return]

    @property
    def feature_trees(self) -> Any:
        self.features  # noqa: B018 - reads them
        return self._extra["trees"]

    @property
    def grade_separated(self) -> np.ndarray:
        """(L,) bool, links of bridges, tunnels and ways with a layer other than 0."""
        if "grade" not in self._extra:
            index = {int(w): i for i, w in enumerate(self.osm.way_ids)}
            flags = np.array([grade_separated(t) for t in self.osm.way_tags], dtype=bool)
            ways = np.array([index[int(w)] for w in self.net.link_way_id], dtype=np.int64)
            self._extra["grade"] = flags[ways] if ways.size else np.zeros(0, dtype=bool)
        return self._extra["grade"]  # type: ignore[no-any-return]

    def outline_links(self, site: BaseGeometry) -> np.ndarray:
        """(L,) bool, links of pedestrian areas or footways that are the site's own outline
        (every vertex within 1.5 m of its boundary): never a road (issue 10)."""
        net = self.net
        mask = np.zeros(net.n_links, dtype=bool)
        cand = np.unique(net.link_tree.query(site.boundary, predicate="dwithin", distance=1.5))
        if cand.size == 0:
            return mask
        index = {int(w): i for i, w in enumerate(self.osm.way_ids)}
        boundary = site.boundary
        for link in cand:
            tags = self.osm.way_tags[index[int(net.link_way_id[link])]]
            if tags.get("highway") not in ("pedestrian", "footway") and tags.get("area") != "yes":
                continue
            x, y, _ = net.link_points(int(link))
            d = shapely.distance(shapely.points(np.column_stack([x, y])), boundary)
            if np.all(d <= 1.5):
                mask[link] = True
        return mask

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
    edge: dict[str, Any] | None = None
    worst_approach: dict[str, Any] | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    #: the road-graph crossings and frontage stretches (what the barrier plan is built on);
    #: with the off-road model ``entries`` are the numbered edge stretches instead
    road_entries: list[Entry] = field(default_factory=list)

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
                "offroad_radius_m": self.options.offroad_radius_m if self.options.offroad else None,
            },
            "worst_approach": self.worst_approach,
            "edge": self.edge,
            "warnings": self.warnings,
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
        # per segment, the vehicles' speeds (None where unreached)
        per_segment = [[None if v != v else v for v in row] for row in per.T.tolist()]
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
                        "speeds_kmh": dict(zip(names, per_segment[k], strict=True)),
                    },
                }
            )
        return feats


def load_network(osm_path: str | Path, progress: Progress | None = None) -> LoadedNetwork:
    """Parse an OSM file (.osm.pbf or .osm XML) and build its movement network."""
    # the obstacles' area assembly: its pass over the relations is done in this read
    areas = osmium.area.AreaManager()
    osm = read_osm(
        osm_path, progress=(lambda f, m: progress(0.5 * f, m)) if progress else None, areas=areas
    )
    if progress:
        progress(0.5, "building the movement network")
    net = build_network(osm)
    if progress:
        progress(1.0, f"network: {net.n_links} links, {net.n_segments} segments")
    return LoadedNetwork(osm, net, _extra={"areas": areas})


def assess_sites(
    network: LoadedNetwork,
    sites: Sequence[SiteInput],
    vehicles: Sequence[Vehicle] | None = None,
    barriers: Sequence[BarrierOnLink] = (),
    costs: CostTable | None = None,
    options: AssessOptions | None = None,
    progress: Progress | None = None,
    rated_shapes: Sequence[RatedShape] | None = None,
) -> list[SiteResult]:
    """Assess sites on a loaded network.

    Parameters
    ----------
    sites : (name, GeoJSON Polygon/MultiPolygon geometry in WGS84) pairs.
    vehicles : defaults to the built-in IWA 14-1 / ISO 22343-1 vehicles.
    barriers : existing rated barriers snapped to links (:func:`sites.load_barriers`).
    costs : defaults to the built-in indicative cost table.
    rated_shapes : the barrier register as geometry for the off-road model (default: a line
        across the way at each of ``barriers``).

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
    # the frontage swerve must pass the buildings, walls and water (with the off-road data)
    obstacles = Obstacles.of(network.features, [g for _, g in geoms]) if options.offroad else None
    entries = site_entries(net, [g for _, g in geoms], fields, options.frontage_m, obstacles)
    shapes = (
        list(rated_shapes) if rated_shapes is not None else rated_shapes_from_links(net, barriers)
    )
    if progress:
        progress(0.4, f"off-road approaches and barrier plans of {len(geoms)} sites")
    shared: dict[str, Any] = {}
    # a few sites at a time: drivable space -> off-road search and edge stretches -> plans ->
    # the rasters dropped, so that peak memory does not grow with the number of sites
    # (docs/performance.md); the plans' bulk work is shared by the sites of a chunk
    for start in range(0, len(geoms), SITE_CHUNK):
        chunk: list[SiteResult] = []
        frontages: list[list[Entry]] = []
        drvs: list[Drivable | None] = []
        for (name, geom), (all_crossings, all_frontage) in zip(
            geoms[start : start + SITE_CHUNK], entries[start : start + SITE_CHUNK], strict=True
        ):
            # grade-separated ways and the site's own pedestrian outline are never roads in
            ex = network.grade_separated | network.outline_links(geom)
            crossings = [e for e in all_crossings if not _excluded(e, ex)]
            frontage = [e for e in all_frontage if not _excluded(e, ex)]
            result = SiteResult(
                name, geom, crossings + frontage, None, net, fields, options, _segment_kmh=shared
            )
            result.road_entries = crossings + frontage
            drv = (
                drivable_space(
                    geom,
                    network.features,
                    network.feature_trees,
                    radius_m=options.offroad_radius_m,
                )
                if options.offroad
                else None
            )
            if drv is not None:
                _offroad(network, result, shapes, ex, drv, crossings)
            chunk.append(result)
            frontages.append(frontage)
            drvs.append(drv)
        if options.plan:
            _plans(network, chunk, frontages, costs, access, shapes, drvs)
        del drvs, drv
        results.extend(chunk)
        if progress:
            done = len(results)
            progress(0.4 + 0.6 * done / len(geoms), f"{done} of {len(geoms)} sites assessed")
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
    shapes = load_rated_shapes(barriers_path, network.net) if barriers_path else []
    return assess_sites(
        network,
        sites,
        vehicles,
        barriers,
        costs,
        options,
        progress=(lambda f, m: progress(0.2 + 0.8 * f, m)) if progress else None,
        rated_shapes=shapes,
    )


def _excluded(e: Entry, excluded: np.ndarray) -> bool:
    """A road-graph entry on excluded links only (a frontage stretch: all its attack links)."""
    if e.link is not None:
        return bool(excluded[int(e.link)])
    return bool(e.attack_links) and all(excluded[int(k)] for k in e.attack_links)


def _plans(
    network: LoadedNetwork,
    results: Sequence[SiteResult],
    frontages: list[list[Entry]],
    costs: CostTable,
    access: np.ndarray,
    shapes: Sequence[RatedShape],
    drvs: list[Drivable | None],
) -> None:
    """The barrier plans of a few sites: the minimum cut on the road graph (:func:`plan_sites`,
    bulk over the sites), then, with the off-road model, a position of its own for every edge
    stretch whose governing threat the cut does not intercept (:func:`cover_stretches`,
    docs/method.md section 4)."""
    net = network.net
    options = results[0].options
    features = network.features if options.offroad else None
    trees = network.feature_trees if options.offroad else None
    plans = plan_sites(
        net,
        [r.geometry_xy for r in results],
        results[0].fields,
        frontages,
        costs,
        access,
        options.standoff_m,
        options.plan_radius_m,
        options.verge_m,
        drvs,
        network.grade_separated,
        features,
        trees,
        shapes,
    )
    shared: dict[str, Any] = {}  # the sites' road walks, shared (same network and fields)
    work = []
    for result, plan, drv in zip(results, plans, drvs, strict=True):
        result.plan = plan
        if drv is None:
            continue
        ctx = StretchContext(
            net,
            result.geometry_xy,
            result.fields,
            costs,
            drv,
            access,
            network.grade_separated,
            options.standoff_m,
            options.plan_radius_m,
            features,
            trees,
            shapes,
            shared=shared,
        )
        work.append((plan, ctx, result.entries))
    for plan, ctx, entries in work:
        cover_stretches(plan, ctx, entries)


def _offroad(
    network: LoadedNetwork,
    result: SiteResult,
    shapes: Sequence[RatedShape],
    excluded: np.ndarray,
    drv: Drivable,
    crossings: Sequence[Entry],
) -> None:
    """Add the off-road model to ``result``: the edge sampled once at 2 m, the worst of the
    off-road search, the road crossings and the frontage model at every sample, grouped into
    numbered stretches (``entries``), the worst approach, the edge profile and the data
    warnings; ``excluded`` links (grade-separated, the site's own outline) seed nothing
    (docs/method.md, "Off-road model")."""
    net, site, fields = network.net, result.geometry_xy, result.fields
    seeds = road_seeds(net, fields, drv, excluded)
    samples = edge_samples(site)
    threats = edge_threats(
        samples, drv, seeds, fields, shapes, radius_m=result.options.offroad_radius_m
    )
    frontage = frontage_at(
        net,
        site,
        samples.x,
        samples.y,
        fields,
        crossings,
        excluded,
        result.options.frontage_m,
        drivable=drv,
    )
    stretches, worst = edge_stretches(
        EdgeInputs(
            net,
            site,
            samples,
            threats,
            fields,
            crossings,
            frontage,
            excluded,
            result.options.standoff_m,
        )
    )
    result.entries = stretches
    result.worst_approach = worst_approach(net, samples, threats, fields)
    result.edge = profile_dict(net, samples, worst, fields, stretches)
    result.warnings = warnings_to_dicts(drv.warnings)
