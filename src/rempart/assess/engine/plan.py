"""The barrier plan: the cheapest set of barrier positions separating a site from every
vehicle start point, as a minimum cut on the movement network.

Hand-written: the construction of the cut graph (links, crossings of the stand-off line,
frontage stretches, designated access routes) and the costing. The maximum flow itself is
``scipy.sparse.csgraph.maximum_flow`` (Dinic); the cut is read from the residual graph with
``scipy.sparse.csgraph.breadth_first_order``.

Cut graph: S -> every start node (nodes on the edge of the planning area, i.e. joined to the
rest of the network, or beyond ``plan_radius_m``); each link ``u-v`` becomes ``u -> m`` (cost
of a barrier across the link near ``u`` for traffic leaving ``u``), ``m -> v`` (infinite) and the
mirror pair, so parallel links stay distinct and one barrier blocks the link; a link reaching
the stand-off line is cut at its crossing; frontage stretch ``F`` is fed by its adjacent links
and ``F -> T`` costs a linear barrier. Designated access routes are first completed to the
edge of the planning area and into the site (:func:`_complete_routes`); positions on their
links are active (retractable) barriers, priced as such, so the route stays open from the
outside into the site through active positions only (docs/method.md, section 4). Positions cost more with the rating their speed
requires and with their width (number of bollards for a clear gap of at most 1.2 m).

Each position is a barrier line across the whole drivable gap (:mod:`.plan_lines`), computed
for every candidate before the cut, so the cut weighs real lines; its active part is the
designated route's carriageway. Bridges and tunnels over or under the protected area are no
way into it and carry no position there; no position stands beyond the planning radius.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import breadth_first_order, connected_components, dijkstra, maximum_flow
from shapely.geometry.base import BaseGeometry

from rempart.inputs import InputError, load_toml

from .drivable import Drivable, Features
from .entries import Entry, cut_points
from .errors import InputFileError, InputLimitError
from .field import VehicleField
from .graph import FloatArray, IntArray, Network
from .offroad import RatedShape
from .plan_lines import Lines, barrier_lines, carriageway_links, words
from .ratings import EXCEEDS, EXCEEDS_ADVICE, TEST_SPEEDS_KMH, Rating, required_rating

#: Test speeds every cost table must price (km/h); the others are optional.
PRICED_SPEEDS_KMH: tuple[int, ...] = (16, 32, 48, 64, 80, 96, 112)

DEFAULT_STANDOFF_M = 0.0
DEFAULT_PLAN_RADIUS_M = 300.0
DEFAULT_VERGE_M = 1.5
_POSITION_OFFSET_M = 3.0
#: A position whose link leaves the planning area stands this far (m, along the link) inside it.
_RADIUS_INSET_M = 2.0


@dataclass(frozen=True)
class CostTable:
    """Barrier prices (EUR); see data/costs.toml for the meaning of each field."""

    fixed_bollard_eur: dict[int, float]
    active_bollard_eur: dict[int, float]
    linear_eur_per_m: dict[int, float]
    mass_factor: list[tuple[float, float]]
    active_position_eur: float
    exceeds_factor: float
    bollard_diameter_m: float
    max_clear_gap_m: float
    currency: str = "EUR"

    def factor(self, mass_kg: float) -> float:
        for limit, f in self.mass_factor:
            if mass_kg <= limit + 1e-9:
                return f
        return self.mass_factor[-1][1]

    def price(self, table: dict[int, float], rating: Rating) -> float:
        """Price of ``rating`` from ``table``: the priced test speed at or above the rating's
        (a table may list only the 16 km/h series; a 30 km/h rating is priced as 32)."""
        speed = rating.speed_kmh
        if speed is None:
            base = table[max(table)] * self.exceeds_factor
        else:
            base = table[min((s for s in table if s >= speed), default=max(table))]
        return base * self.factor(rating.mass_kg)

    def bollards(self, width_m: float) -> int:
        """Bollards across ``width_m`` leaving no clear gap wider than ``max_clear_gap_m``."""
        gap, dia = self.max_clear_gap_m, self.bollard_diameter_m
        return max(1, math.ceil((width_m - gap) / (dia + gap)))


def _table(data: dict[str, Any], key: str, source: str) -> dict[int, float]:
    raw = data.get(key)
    if not isinstance(raw, dict):
        raise InputFileError(f"{source}: table [{key}]", raw, "a table of test speed -> EUR")
    out: dict[int, float] = {}
    for speed in TEST_SPEEDS_KMH:
        value = raw.get(str(speed))
        if value is None and speed not in PRICED_SPEEDS_KMH:
            continue  # optional: priced as the next listed speed
        if not isinstance(value, int | float) or value < 0:
            raise InputFileError(f"{source}: [{key}] {speed}", value, "a non-negative price")
        out[speed] = float(value)
    unknown = sorted(set(raw) - {str(s) for s in TEST_SPEEDS_KMH})
    if unknown:
        raise InputFileError(
            f"{source}: [{key}] speed", unknown[0], f"one of {', '.join(map(str, TEST_SPEEDS_KMH))}"
        )
    return out


def cost_table_from_dict(data: dict[str, Any], source: str) -> CostTable:
    """Validate a cost table (same shape as data/costs.toml)."""
    mf_raw = data.get("mass_factor")
    if not isinstance(mf_raw, dict) or not mf_raw:
        raise InputFileError(f"{source}: table [mass_factor]", mf_raw, "test mass kg -> factor")
    try:
        mass_factor = sorted((float(k), float(v)) for k, v in mf_raw.items())
    except (TypeError, ValueError):
        raise InputFileError(f"{source}: [mass_factor]", mf_raw, "numbers") from None
    numbers = {}
    for key in ("active_position_eur", "exceeds_factor", "bollard_diameter_m", "max_clear_gap_m"):
        value = data.get(key)
        if not isinstance(value, int | float) or value < 0:
            raise InputFileError(f"{source}: {key}", value, "a non-negative number")
        numbers[key] = float(value)
    return CostTable(
        fixed_bollard_eur=_table(data, "fixed_bollard_eur", source),
        active_bollard_eur=_table(data, "active_bollard_eur", source),
        linear_eur_per_m=_table(data, "linear_barrier_eur_per_m", source),
        mass_factor=mass_factor,
        currency=str(data.get("currency", "EUR")),
        **numbers,
    )


def load_costs(path: str | Path) -> CostTable:
    try:
        with open(path, "rb") as handle:
            data = load_toml(handle.read(), f"cost table {path}")
    except InputError as err:
        raise InputLimitError(str(err)) from None
    except OSError as err:
        raise InputFileError(
            "cost table", str(path), f"a readable TOML file ({err.strerror})"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise InputFileError("cost table", str(path), f"valid TOML ({err})") from None
    return cost_table_from_dict(data, str(path))


def default_costs() -> CostTable:
    text = resources.files("rempart.assess.engine").joinpath("data/costs.toml").read_text()
    return cost_table_from_dict(tomllib.loads(text), "built-in cost table")


@dataclass
class Position:
    """One barrier position of the plan (local metres; exported in WGS84)."""

    kind: str  # "bollards" (across a way) | "linear" (along frontage)
    x: float
    y: float
    width_m: float
    n_bollards: int
    rating: str
    pas68: str
    ratings: dict[str, str]
    speed_kmh: float
    active: bool
    cost_eur: float
    link: int | None = None
    way_id: int | None = None
    geometry_xy: list[tuple[float, float]] = field(default_factory=list)
    street: str = ""
    # False when the required rating exceeds every tested speed: no product is tested for it,
    # so the position is not priced; ``advice`` says what to do instead (ratings.EXCEEDS_ADVICE)
    costed: bool = True
    advice: str = ""
    # the barrier line (plan_lines): its length (m), what each end closes on (codes of
    # plan_lines.END_WORDS), the length (m) of its active part, and whether it was clipped
    length_m: float = 0.0
    closes_between: list[str] = field(default_factory=list)
    active_length_m: float = 0.0
    clipped: bool = False
    #: numbers of the edge stretches whose governing threat this position intercepts
    covers_stretches: list[int] = field(default_factory=list)


@dataclass
class Plan:
    """The barrier plan of one site."""

    positions: list[Position]
    total_cost_eur: float
    standoff_m: float
    currency: str
    cut_links: list[int]
    cut_frontage: list[int]
    note: str = "costs indicative (unsourced default table unless --costs is given)"
    # links kept passable behind active positions: the designated access routes and their
    # completion to the edge of the planning area and into the site (network link ids)
    access_links: list[int] = field(default_factory=list)
    #: (N,) bool over the network's nodes: behind the road-graph cut (not reachable from a
    #: start without passing a position); empty before the cut is made
    behind_nodes: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    #: per edge stretch (off-road model): whether its governing threat is intercepted and by
    #: which positions (:func:`cover_stretches`)
    stretches: list[StretchCover] = field(default_factory=list)


#: How an edge stretch is covered (codes of :class:`StretchCover`) -> (English, French).
COVER_WORDS: dict[str, tuple[str, str]] = {
    "road_plan": (
        "intercepted by the road positions of the plan",
        "interceptée par les positions du plan sur les voies",
    ),
    "stretch_line": (
        "intercepted by the line of another stretch",
        "interceptée par la ligne d'un autre tronçon",
    ),
    "own_line": (
        "a line of its own across the open ground its approach uses",
        "une ligne propre en travers du terrain ouvert que prend son approche",
    ),
    "along": (
        "a line along the stretch at the stand-off",
        "une ligne le long du tronçon, au recul",
    ),
    "unreached": ("no vehicle reaches it", "aucun véhicule ne l'atteint"),
}


@dataclass
class StretchCover:
    """How one edge stretch is covered: ``how`` is ``road_plan`` (the road-graph cut
    intercepts its governing threat), ``own_line`` (a line of its own across the drivable gap
    its approach uses), ``along`` (a line along the stretch at the stand-off), or
    ``unreached`` (no vehicle reaches it); ``positions`` are 1-based position numbers."""

    number: int
    covered: bool
    how: str
    positions: list[int] = field(default_factory=list)


def _governing(
    fields: list[VehicleField], link: int, d: int, s: float
) -> tuple[Rating | None, dict[str, str], float]:
    """Governing rating (highest test energy) over vehicles at a point of a directed link."""
    best: Rating | None = None
    best_e = -1.0
    per: dict[str, str] = {}
    top_speed = 0.0
    for vf in fields:
        if not vf.link_ok[link]:
            continue
        v = float(vf.speed_at_ms(np.array([d]), np.array([s]))[0])
        if not math.isfinite(v):
            continue
        r = required_rating(vf.vehicle, v * 3.6)
        per[vf.vehicle.name] = r.iwa
        top_speed = max(top_speed, v * 3.6)
        if r.energy_kj > best_e:
            best, best_e = r, r.energy_kj
    return best, per, top_speed


def _entry_governing(entry: Entry) -> tuple[Rating | None, dict[str, str], float]:
    best: Rating | None = None
    best_e = -1.0
    per: dict[str, str] = {}
    top = 0.0
    for ve in entry.vehicles:
        if ve.speed_kmh is None or ve.rating is None:
            continue
        r = Rating(ve.test_class, int(round(ve.mass_kg)), ve.rating_speed_kmh)
        per[ve.name] = ve.rating
        top = max(top, ve.speed_kmh)
        if r.energy_kj > best_e:
            best, best_e = r, r.energy_kj
    return best, per, top


def plan_site(
    net: Network,
    site: BaseGeometry,
    fields: list[VehicleField],
    frontage: list[Entry],
    costs: CostTable,
    access_links: np.ndarray | None = None,
    standoff_m: float = DEFAULT_STANDOFF_M,
    plan_radius_m: float = DEFAULT_PLAN_RADIUS_M,
    verge_m: float = DEFAULT_VERGE_M,
    drivable: Drivable | None = None,
    grade_separated: np.ndarray | None = None,
    features: Features | None = None,
    feature_trees: Any = None,
    rated_shapes: Sequence[RatedShape] = (),
) -> Plan:
    """Minimum-cost barrier plan for one site (geometry in the network's local CRS, metres).

    Parameters
    ----------
    access_links : (L,) bool mask of links on designated access routes (kept passable behind
        active barriers), or ``None``.
    standoff_m : barriers stand at least this far outside the site boundary.
    plan_radius_m : barriers are placed within this distance of the site; vehicles start
        anywhere beyond it (or from the edge of the planning area).
    verge_m : pavement allowance each side of the carriageway included in a barrier line
        (vehicles mount pavements to bypass obstacles) where no ``drivable`` space is given.
    drivable : the site's drivable space (:func:`drivable.drivable_space`): each position's
        line then runs across the whole drivable gap (:mod:`.plan_lines`) and is priced by
        its length.
    grade_separated : (L,) bool, bridges, tunnels and ways off layer 0: not at ground level,
        they are no way into the site and carry no position inside the protected area.
    features, feature_trees : the obstacles (to name what a line closes on).
    rated_shapes : the barrier register (a rated barrier may end a line).
    """
    return plan_sites(
        net,
        [site],
        fields,
        [frontage],
        costs,
        access_links,
        standoff_m,
        plan_radius_m,
        verge_m,
        [drivable],
        grade_separated,
        features,
        feature_trees,
        rated_shapes,
    )[0]


@dataclass
class _Candidates:
    """Candidate bollard positions of all sites (arrays, one row per position).

    ``tail`` is the local node the barrier faces (traffic leaving it), ``head`` the local node
    at the other end or -1 for a position at the protected line (edge to T); ``d``/``s`` the
    directed link and distance from its tail (m); ``x``/``y`` local metres.
    """

    site: IntArray
    link: IntArray
    tail: IntArray
    head: IntArray
    d: IntArray
    s: FloatArray
    x: FloatArray
    y: FloatArray


def plan_sites(
    net: Network,
    sites: list[BaseGeometry],
    fields: list[VehicleField],
    frontages: list[list[Entry]],
    costs: CostTable,
    access_links: np.ndarray | None = None,
    standoff_m: float = DEFAULT_STANDOFF_M,
    plan_radius_m: float = DEFAULT_PLAN_RADIUS_M,
    verge_m: float = DEFAULT_VERGE_M,
    drivables: Sequence[Drivable | None] | None = None,
    grade_separated: np.ndarray | None = None,
    features: Features | None = None,
    feature_trees: Any = None,
    rated_shapes: Sequence[RatedShape] = (),
) -> list[Plan]:
    """Minimum-cost barrier plans of many sites (local CRS, metres); see :func:`plan_site`.

    The candidate positions of all sites come from bulk STRtree queries and vectorised
    shapely operations, their speeds from one field evaluation per vehicle, their governing
    ratings and costs from numpy lookups; :class:`Position` objects are built only for the
    positions in the cut. Each site keeps its own cut graph and maximum flow (scipy, Dinic).
    """
    n_sites = len(sites)
    if n_sites == 0:
        return []
    any_ok = np.zeros(net.n_links, dtype=bool)
    for vf in fields:
        any_ok |= vf.link_ok
    if access_links is None:
        access_links = np.zeros(net.n_links, dtype=bool)
    grade = (
        np.zeros(net.n_links, dtype=bool) if grade_separated is None else grade_separated
    ).astype(bool)
    if drivables is None:
        drivables = [None] * n_sites
    site_arr = np.empty(n_sites, dtype=object)
    site_arr[:] = list(sites)
    protected = shapely.buffer(site_arr, standoff_m) if standoff_m > 0 else site_arr.copy()
    shapely.prepare(protected)
    regions = shapely.buffer(site_arr, plan_radius_m)
    if net.n_links:
        q_site, q_link = net.link_tree.query(regions, predicate="intersects")
    else:
        q_site = q_link = np.zeros(0, dtype=np.int64)
    order = np.lexsort((q_link, q_site))
    q_site, q_link = q_site[order].astype(np.int64), q_link[order].astype(np.int64)
    ok = any_ok[q_link]
    q_site, q_link = q_site[ok], q_link[ok]
    site_ptr = np.searchsorted(q_site, np.arange(n_sites + 1))
    # nodes of each site's candidate links (sorted, unique per site) and their local ids
    node_site = np.concatenate([q_site, q_site])
    node_all = np.concatenate([net.link_u[q_link], net.link_v[q_link]])
    key = np.unique(node_site * max(net.node_x.size, 1) + node_all)
    n_nodes_total = max(net.node_x.size, 1)
    n_site_of_key = key // n_nodes_total
    n_node_of_key = key % n_nodes_total
    node_ptr = np.searchsorted(n_site_of_key, np.arange(n_sites + 1))

    def local(site_idx: IntArray, node: IntArray) -> IntArray:
        return np.searchsorted(key, site_idx * n_nodes_total + node) - node_ptr[site_idx]

    inside = shapely.contains_xy(
        protected[n_site_of_key], net.node_x[n_node_of_key], net.node_y[n_node_of_key]
    )
    # a node reached only by bridges or tunnels is not in the site (no way in at grade)
    ground = any_ok & ~grade
    ground_node = np.zeros(n_nodes_total, dtype=bool)
    ground_node[net.link_u[ground]] = True
    ground_node[net.link_v[ground]] = True
    inside &= ground_node[n_node_of_key]
    lu = local(q_site, net.link_u[q_link])
    lv = local(q_site, net.link_v[q_link])
    length = net.link_length_m[q_link]
    lines = net.link_lines[q_link]
    # a bridge or tunnel over or under the protected area is no way into it: a plain link
    touches = shapely.intersects(lines, protected[q_site]) & ~grade[q_link]
    # links clear of the protected area: a position near each end, for traffic leaving it
    free = np.flatnonzero(~touches)
    s_off = np.minimum(_POSITION_OFFSET_M, length[free] / 2)
    # links reaching it: a position at the outermost cut, for each end outside
    hit = np.flatnonzero(touches)
    boundaries = shapely.boundary(protected)
    pt_pair, pt_s, _xy = cut_points(lines[hit], boundaries[q_site[hit]])
    has_cut = np.zeros(hit.size, dtype=bool)
    has_cut[pt_pair] = True
    cut_min = np.full(hit.size, np.inf)
    cut_max = np.full(hit.size, -np.inf)
    np.minimum.at(cut_min, pt_pair, pt_s)
    np.maximum.at(cut_max, pt_pair, pt_s)
    ins_u = inside[node_ptr[q_site[hit]] + lu[hit]]
    ins_v = inside[node_ptr[q_site[hit]] + lv[hit]]
    use_u = has_cut & ~ins_u
    use_v = has_cut & ~ins_v
    # rows in the order of a per-link loop: clear links give (u->v, v->u), links reaching
    # the protected area give (at u, at v) where applicable
    rank = np.empty(q_link.size, dtype=np.int64)
    rank[:] = np.arange(q_link.size)
    r_pair = np.concatenate([free, free, hit[use_u], hit[use_v]])
    r_sub = np.concatenate(
        [np.zeros(free.size), np.ones(free.size), np.zeros(use_u.sum()), np.ones(use_v.sum())]
    )
    r_link = q_link[r_pair]
    is_free = np.concatenate(
        [np.ones(2 * free.size, dtype=bool), np.zeros(r_pair.size - 2 * free.size, dtype=bool)]
    )
    fwd = r_sub == 0
    s_dir = np.empty(r_pair.size)
    s_u = np.empty(r_pair.size)
    n_f = free.size
    s_dir[: 2 * n_f] = np.concatenate([s_off, s_off])
    s_u[:n_f] = s_off
    s_u[n_f : 2 * n_f] = length[free] - s_off
    # a position beyond the planning radius moves along its link to _RADIUS_INSET_M inside
    # it: for traffic leaving the tail, the first point within the radius
    far_u = (
        shapely.distance(
            site_arr[q_site[free]], shapely.points(*net.points_at(q_link[free], s_off))
        )
        > plan_radius_m
    )
    far_v = (
        shapely.distance(
            site_arr[q_site[free]],
            shapely.points(*net.points_at(q_link[free], length[free] - s_off)),
        )
        > plan_radius_m
    )
    if np.any(far_u | far_v):
        sel = np.flatnonzero(far_u | far_v)
        r_pair_, r_s, _ = cut_points(lines[free[sel]], shapely.boundary(regions[q_site[free[sel]]]))
        first = np.full(sel.size, np.inf)
        last = np.full(sel.size, -np.inf)
        np.minimum.at(first, r_pair_, r_s)
        np.maximum.at(last, r_pair_, r_s)
        fu, fv = far_u[sel], far_v[sel]
        ok_u = fu & np.isfinite(first)
        ok_v = fv & np.isfinite(last)
        su = np.minimum(first + _RADIUS_INSET_M, length[free[sel]])
        sv = np.maximum(last - _RADIUS_INSET_M, 0.0)
        s_u[sel[ok_u]] = su[ok_u]
        s_dir[sel[ok_u]] = su[ok_u]
        s_u[n_f + sel[ok_v]] = sv[ok_v]
        s_dir[n_f + sel[ok_v]] = length[free[sel[ok_v]]] - sv[ok_v]
    cu = cut_min[use_u]
    cv = cut_max[use_v]
    s_u[2 * n_f : 2 * n_f + cu.size] = cu
    s_dir[2 * n_f : 2 * n_f + cu.size] = cu
    s_u[2 * n_f + cu.size :] = cv
    s_dir[2 * n_f + cu.size :] = length[hit[use_v]] - cv
    tail = np.where(fwd, lu[r_pair], lv[r_pair])
    head = np.where(is_free, np.where(fwd, lv[r_pair], lu[r_pair]), -1)
    d = np.where(fwd, 2 * r_link, 2 * r_link + 1)
    row_order = np.lexsort((r_sub, r_pair))
    px, py, pdx, pdy = net.segments_at(r_link, s_u)
    cands = _Candidates(
        q_site[r_pair][row_order],
        r_link[row_order],
        tail[row_order],
        head[row_order],
        d[row_order],
        s_dir[row_order],
        px[row_order],
        py[row_order],
    )
    gov = _governing_bulk(cands, fields)
    cand_ptr = np.searchsorted(cands.site, np.arange(n_sites + 1))
    pdx, pdy = pdx[row_order], pdy[row_order]
    lines_all = _lines(
        net,
        sites,
        protected,
        cands,
        gov,
        fields,
        cand_ptr,
        pdx,
        pdy,
        drivables,
        verge_m,
        plan_radius_m,
        any_ok,
        grade,
        access_links,
        rated_shapes,
        features,
        feature_trees,
    )
    width = lines_all.priced_m
    gap, dia = costs.max_clear_gap_m, costs.bollard_diameter_m

    def count(w: FloatArray) -> IntArray:
        return np.where(w > 1e-6, np.maximum(1, np.ceil((w - gap) / (dia + gap))), 0).astype(
            np.int64
        )

    n_bollards = np.maximum(count(width), 1)
    fixed_unit, active_unit = _unit_prices(fields, costs)
    veh = np.maximum(gov.vehicle, 0)
    f_unit = fixed_unit[veh, gov.speed_idx]
    a_unit = active_unit[veh, gov.speed_idx]
    # every candidate priced both ways: which positions must be active depends on each
    # site's completion of the designated routes (see _complete_routes). The active part of
    # a line is the carriageway of a route it closes and any designated link it crosses.
    crossed = np.minimum(lines_all.crossed_access_m, width)
    cost_fixed = np.round(
        count(width - crossed) * f_unit
        + count(crossed) * a_unit
        + np.where(crossed > 0, costs.active_position_eur, 0.0)
    ).astype(np.int64)
    act_len = np.minimum(width, net.link_width_m[cands.link] + crossed)
    cost_active = np.round(
        count(act_len) * a_unit + count(width - act_len) * f_unit + costs.active_position_eur
    ).astype(np.int64)
    # a bridge or tunnel inside the protected area is no place for a barrier: uncuttable
    off_grade = grade[cands.link] & shapely.contains_xy(protected[cands.site], cands.x, cands.y)
    # nor is any point beyond the planning radius (barriers stay within it)
    beyond = shapely.distance(site_arr[cands.site], shapely.points(cands.x, cands.y)) > (
        plan_radius_m + 0.5
    )
    cost_fixed[off_grade | beyond] = -1
    cost_active[off_grade | beyond] = -1
    deg_ok = np.bincount(net.link_u[any_ok], minlength=n_nodes_total) + np.bincount(
        net.link_v[any_ok], minlength=n_nodes_total
    )
    plans: list[Plan] = []
    for si in range(n_sites):
        plans.append(
            _plan_one(
                net,
                sites[si],
                fields,
                frontages[si],
                costs,
                standoff_m,
                plan_radius_m,
                q_link[site_ptr[si] : site_ptr[si + 1]],
                n_node_of_key[node_ptr[si] : node_ptr[si + 1]],
                inside[node_ptr[si] : node_ptr[si + 1]],
                deg_ok,
                any_ok,
                slice(int(cand_ptr[si]), int(cand_ptr[si + 1])),
                cands,
                gov,
                width,
                n_bollards,
                access_links,
                cost_fixed,
                cost_active,
                lines_all,
                act_len,
            )
        )
    return plans


def _lines(
    net: Network,
    sites: list[BaseGeometry],
    protected: NDArray[np.object_],
    cands: _Candidates,
    gov: _Governing,
    fields: list[VehicleField],
    cand_ptr: IntArray,
    dx: FloatArray,
    dy: FloatArray,
    drivables: Sequence[Drivable | None],
    verge_m: float,
    plan_radius_m: float,
    any_ok: NDArray[np.bool_],
    grade: NDArray[np.bool_],
    access: NDArray[np.bool_],
    rated: Sequence[RatedShape],
    features: Features | None,
    trees: Any,
) -> Lines:
    """The barrier line of every candidate (:mod:`.plan_lines`); where a site has no drivable
    space, the road's cross-section: its carriageway plus ``verge_m`` each side."""
    n = cands.link.size
    norm = np.hypot(dx, dy)
    norm = np.where(norm > 0, norm, 1.0)
    half = 0.5 * net.link_width_m[cands.link] + verge_m
    nx_, ny_ = -dy / norm * half, dx / norm * half
    out = Lines(
        cands.x + nx_,
        cands.y + ny_,
        cands.x - nx_,
        cands.y - ny_,
        2 * half,
        2 * half,
        np.full(n, "carriageway_only", dtype=object),
        np.full(n, "carriageway_only", dtype=object),
        np.zeros(n),
        np.zeros(n, dtype=bool),
    )
    if not fields:
        return out
    carriageway = carriageway_links(net, any_ok, grade)
    min_width = min(float(vf.vehicle.width_m) for vf in fields)
    veh = np.maximum(gov.vehicle, 0)
    mass = np.array([vf.vehicle.mass_kg for vf in fields])[veh]
    test = np.append(np.asarray(TEST_SPEEDS_KMH, dtype=float), np.inf)[gov.speed_idx]
    for si, drv in enumerate(drivables):
        if drv is None:
            continue
        sl = slice(int(cand_ptr[si]), int(cand_ptr[si + 1]))
        if sl.stop <= sl.start:
            continue
        got = barrier_lines(
            net,
            cands.link[sl],
            cands.x[sl],
            cands.y[sl],
            dx[sl],
            dy[sl],
            drv,
            sites[si],
            protected[si],
            plan_radius_m,
            min_width,
            carriageway,
            access,
            rated,
            mass[sl],
            test[sl],
            features,
            trees,
        )
        for name in (
            "ax",
            "ay",
            "bx",
            "by",
            "length_m",
            "priced_m",
            "end_a",
            "end_b",
            "crossed_access_m",
        ):
            getattr(out, name)[sl] = getattr(got, name)
        out.clipped[sl] = got.clipped
    return out


@dataclass
class _Governing:
    """Governing vehicle per candidate (-1: no vehicle reaches it), its test speed index into
    TEST_SPEEDS_KMH (len = above tested speeds) and every vehicle's speed (km/h, NaN)."""

    vehicle: IntArray
    speed_idx: IntArray
    speeds_kmh: FloatArray
    speed_idx_all: IntArray


_TEST_SPEEDS = np.asarray(TEST_SPEEDS_KMH, dtype=float)


def _governing_bulk(cands: _Candidates, fields: list[VehicleField]) -> _Governing:
    """Governing rating (highest test energy, first vehicle on ties) of every candidate."""
    n = cands.link.size
    speeds = np.full((len(fields), n), np.nan)
    for i, vf in enumerate(fields):
        v_ms = vf.speed_at_ms(cands.d, cands.s)
        speeds[i] = np.where(vf.link_ok[cands.link], v_ms, np.nan) * 3.6
    # lowest test speed at or above the speed (same tolerance as ratings.required_rating)
    idx = np.searchsorted(_TEST_SPEEDS + 1e-9, np.nan_to_num(speeds, nan=np.inf), side="left")
    test_kmh = np.append(_TEST_SPEEDS, np.nan)[idx]
    mass = np.array([int(round(vf.vehicle.mass_kg)) for vf in fields], dtype=float)[:, None]
    with np.errstate(invalid="ignore"):
        energy = np.where(
            idx < len(TEST_SPEEDS_KMH), 0.5 * mass * (test_kmh / 3.6) ** 2 / 1000.0, np.inf
        )
    energy = np.where(np.isfinite(speeds), energy, -1.0)
    veh = np.argmax(energy, axis=0) if len(fields) else np.zeros(n, dtype=np.int64)
    reached = np.any(np.isfinite(speeds), axis=0)
    veh = np.where(reached, veh, -1)
    col = np.arange(n)
    sidx = idx[np.maximum(veh, 0), col] if len(fields) else np.zeros(n, dtype=np.int64)
    return _Governing(veh.astype(np.int64), sidx.astype(np.int64), speeds, idx)


def _unit_prices(fields: list[VehicleField], costs: CostTable) -> tuple[FloatArray, FloatArray]:
    """Price per bollard (EUR) per vehicle and test speed index, fixed and active."""
    fixed = np.zeros((max(len(fields), 1), len(TEST_SPEEDS_KMH) + 1))
    act = np.zeros_like(fixed)
    for i, vf in enumerate(fields):
        for j, speed in enumerate([*TEST_SPEEDS_KMH, None]):
            rating = Rating(vf.vehicle.test_class, int(round(vf.vehicle.mass_kg)), speed)
            fixed[i, j] = costs.price(costs.fixed_bollard_eur, rating)
            act[i, j] = costs.price(costs.active_bollard_eur, rating)
    return fixed, act


def _plan_one(
    net: Network,
    site: BaseGeometry,
    fields: list[VehicleField],
    frontage: list[Entry],
    costs: CostTable,
    standoff_m: float,
    plan_radius_m: float,
    cand: IntArray,
    nodes: IntArray,
    inside: NDArray[np.bool_],
    deg_ok: IntArray,
    any_ok: NDArray[np.bool_],
    rows: slice,
    cands: _Candidates,
    gov: _Governing,
    width: FloatArray,
    n_bollards: IntArray,
    access_links: NDArray[np.bool_],
    cost_fixed: IntArray,
    cost_active: IntArray,
    lines: Lines,
    act_len: FloatArray,
) -> Plan:
    """Cut graph, maximum flow and cut of one site from the bulk candidate arrays."""
    if cand.size == 0:
        return Plan([], 0.0, standoff_m, costs.currency, [], [])
    n_nodes = nodes.size
    # sources: nodes joined to usable links outside the planning area, or beyond it
    cand_deg = np.bincount(
        np.searchsorted(nodes, np.concatenate([net.link_u[cand], net.link_v[cand]])),
        minlength=n_nodes,
    )
    touch = deg_ok[nodes] > cand_deg
    far = (
        shapely.distance(site, shapely.points(net.node_x[nodes], net.node_y[nodes])) > plan_radius_m
    )
    source = (touch | far) & ~inside
    if not np.any(source):
        source = ~inside
    s_nodes = np.flatnonzero(source)
    S, T = n_nodes, n_nodes + 1
    next_id = n_nodes + 2
    INF = -1  # placeholder, replaced once the finite capacities are known
    src: list[IntArray] = [np.flatnonzero(inside)]
    dst: list[IntArray] = [np.full(int(inside.sum()), T, dtype=np.int64)]
    cap: list[IntArray] = [np.full(int(inside.sum()), INF, dtype=np.int64)]
    # bollard positions reached by some vehicle: tail -> m (cost), m -> head or T (infinite);
    # one middle node per link for its two clear-link positions, so one barrier blocks it
    r = np.arange(rows.start, rows.stop)
    r = r[gov.vehicle[r] >= 0]
    link = cands.link[r]
    to_t = cands.head[r] < 0
    mids = np.empty(r.size, dtype=np.int64)
    paired_links, first_of = np.unique(link[~to_t], return_inverse=True)
    n_paired = paired_links.size
    mids[~to_t] = next_id + first_of
    mids[to_t] = next_id + n_paired + np.arange(int(to_t.sum()))
    # designated routes, completed to the outside and into the site, can only be cut by
    # active positions
    route = _complete_routes(net, any_ok, nodes, inside, s_nodes, cands, r, to_t, access_links)
    act = route[link]
    cost_r = np.where(act, cost_active[r], cost_fixed[r])
    # node ids in order of first use, as a per-position loop would assign them (the cut
    # does not depend on the numbering; the order only keeps the graph reproducible)
    next_id += n_paired + int(to_t.sum())
    src += [cands.tail[r], mids]
    dst += [mids, np.where(to_t, T, cands.head[r])]
    cap += [cost_r, np.full(r.size, INF, dtype=np.int64)]
    pos_edges = (cands.tail[r], mids)
    frontage_pos: dict[int, tuple[int, Position]] = {}
    node_of = {int(nd): i for i, nd in enumerate(nodes)}
    f_src: list[int] = []
    f_dst: list[int] = []
    f_cap: list[int] = []
    for idx, entry in enumerate(frontage):
        rating, per, speed = _entry_governing(entry)
        if rating is None:
            continue
        f = next_id
        next_id += 1
        cost = entry.length_m * costs.price(costs.linear_eur_per_m, rating)
        geom = _away_from_site(entry.geometry_xy, site, standoff_m)
        pos = Position(
            "linear",
            entry.x,
            entry.y,
            entry.length_m,
            0,
            rating.iwa,
            rating.pas68,
            per,
            round(speed, 1),
            False,
            round(cost),
            None,
            None,
            geom,
            entry.street,
            length_m=round(float(entry.length_m), 1),
        )
        for lk in entry.attack_links:
            for end in (int(net.link_u[lk]), int(net.link_v[lk])):
                if end in node_of:
                    f_src.append(node_of[end])
                    f_dst.append(f)
                    f_cap.append(INF)
        f_src.append(f)
        f_dst.append(T)
        f_cap.append(int(pos.cost_eur))
        frontage_pos[f] = (idx, pos)
    src.append(np.asarray(f_src, dtype=np.int64))
    dst.append(np.asarray(f_dst, dtype=np.int64))
    cap.append(np.asarray(f_cap, dtype=np.int64))
    src.append(np.full(s_nodes.size, S, dtype=np.int64))
    dst.append(s_nodes)
    cap.append(np.full(s_nodes.size, INF, dtype=np.int64))
    rows_a = np.concatenate(src)
    cols_a = np.concatenate(dst)
    caps_a = np.concatenate(cap)
    finite = caps_a[caps_a >= 0]
    total = float(int(finite.sum())) + 1.0
    scale = max(1.0, total / 1e8)  # int32 capacities for scipy
    inf_cap = int(total / scale) + 1
    scaled = np.maximum(np.round(caps_a / scale), 1).astype(np.int64)
    cap_int = np.where(caps_a < 0, inf_cap, scaled).astype(np.int32)
    n_all = next_id
    graph = sp.csr_array((cap_int, (rows_a, cols_a)), shape=(n_all, n_all))
    graph.sum_duplicates()
    result = maximum_flow(graph, S, T)
    residual = (graph - result.flow).tocsr()
    residual.data = np.where(residual.data > 0, 1, 0).astype(np.int32)
    residual.eliminate_zeros()
    reach = np.zeros(n_all, dtype=bool)
    reach[breadth_first_order(residual, S, directed=True, return_predecessors=False)] = True
    positions: list[Position] = []
    cut_links: list[int] = []
    in_cut = reach[pos_edges[0]] & ~reach[pos_edges[1]]
    # one position per cut edge: the two positions of a link that starts and ends at the
    # same node share their edge (listed where first met, described by the last)
    edge_key = pos_edges[0] * n_all + pos_edges[1]
    cut_rows: dict[int, int] = {}
    for k in np.flatnonzero(in_cut).tolist():
        cut_rows[int(edge_key[k])] = k
    for k in cut_rows.values():
        pos = _position(
            net,
            fields,
            cands,
            gov,
            int(r[k]),
            width,
            n_bollards,
            bool(act[k]),
            int(cost_r[k]),
            lines,
            act_len,
        )
        positions.append(pos)
        if pos.link is not None:
            cut_links.append(pos.link)
    cut_frontage: list[int] = []
    for f, (idx, pos) in frontage_pos.items():
        if reach[f]:
            positions.append(pos)
            cut_frontage.append(idx)
    for p in positions:
        if p.rating.endswith(EXCEEDS):
            # no tested product stops this: never price it as if one did
            p.costed, p.cost_eur, p.advice = False, 0, EXCEEDS_ADVICE
    total_cost = float(sum(p.cost_eur for p in positions if p.costed))
    # behind the cut: reached from a start in the cut graph, but not once the cut is made
    # (a node no start reaches at all is not behind a position), and the site's own nodes
    reach_all = np.zeros(n_all, dtype=bool)
    reach_all[breadth_first_order(graph, S, directed=True, return_predecessors=False)] = True
    behind = np.zeros(net.node_x.size, dtype=bool)
    behind[nodes[(reach_all[:n_nodes] & ~reach[:n_nodes]) | inside]] = True
    return Plan(
        positions,
        total_cost,
        standoff_m,
        costs.currency,
        sorted(set(cut_links)),
        cut_frontage,
        access_links=np.unique(cand[route[cand]]).tolist(),
        behind_nodes=behind,
    )


_ROUTE_EPS_M = 0.01


def _search_graph(
    a: IntArray, b: IntArray, w: FloatArray, link: IntArray, n: int
) -> tuple[sp.csr_array, IntArray, IntArray]:
    """Undirected search graph (the lightest of parallel links per node pair) with the sorted
    pair keys ``min * n + max`` and the link of each key, to turn a path back into links."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((w, hi, lo))
    lo, hi, w, link = lo[order], hi[order], w[order], link[order]
    first = np.ones(lo.size, dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, w, link = lo[first], hi[first], w[first], link[first]
    graph = sp.csr_array((np.r_[w, w], (np.r_[lo, hi], np.r_[hi, lo])), shape=(n, n))
    return graph, lo * n + hi, link


def _complete_routes(
    net: Network,
    any_ok: NDArray[np.bool_],
    nodes: IntArray,
    inside: NDArray[np.bool_],
    s_nodes: IntArray,
    cands: _Candidates,
    r: IntArray,
    to_t: NDArray[np.bool_],
    access_links: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """Links (network mask) to keep passable behind active positions: the designated links
    plus, for every connected fragment of them in the cut graph, the shortest way from a
    start node to the fragment (over the cut graph: the route must be open from where it
    leaves the planning area) and the shortest way from the fragment into the site (over the
    whole usable network, which may leave the planning area and come back; a link reaching
    the protected area ends there at its crossing).

    Designated links weigh a token 1 cm instead of their length, so that a completion follows
    the designated ways wherever it can and joins the fragments of one route.
    """
    route = access_links.copy()
    link = cands.link[r]
    des = access_links[link]
    if not np.any(des):
        return route
    n = int(net.node_x.size)
    site_node = n  # virtual node: the site
    tail = nodes[cands.tail[r]]
    free = ~to_t
    head = nodes[cands.head[r][free]]

    def weight(links: IntArray, base: FloatArray) -> FloatArray:
        return np.where(access_links[links], _ROUTE_EPS_M, base + _ROUTE_EPS_M)

    # cut graph: fragments and the outward search
    cut, cut_keys, cut_link = _search_graph(
        tail[free], head, weight(link[free], net.link_length_m[link[free]]), link[free], n + 1
    )
    des_free = des[free]
    _, label = connected_components(
        sp.csr_array(
            (np.ones(int(des_free.sum())), (tail[free][des_free], head[des_free])), shape=(n, n)
        ),
        directed=False,
    )
    des_node = np.zeros(n, dtype=bool)
    des_node[tail[des]] = True
    des_node[head[des_free]] = True
    d_out, p_out, _ = dijkstra(cut, indices=nodes[s_nodes], min_only=True, return_predecessors=True)
    # whole network minus the links touching the protected area (those end at the site node)
    in_site = np.zeros(n, dtype=bool)
    in_site[nodes[inside]] = True
    keep = any_ok & ~in_site[net.link_u] & ~in_site[net.link_v]
    keep[link[to_t]] = False
    kl = np.flatnonzero(keep)
    whole, whole_keys, whole_link = _search_graph(
        np.r_[net.link_u[kl], tail[to_t]],
        np.r_[net.link_v[kl], np.full(int(to_t.sum()), site_node)],
        np.r_[weight(kl, net.link_length_m[kl]), weight(link[to_t], cands.s[r][to_t])],
        np.r_[kl, link[to_t]],
        n + 1,
    )
    d_in, p_in = dijkstra(whole, indices=site_node, return_predecessors=True)
    searches = ((d_out[:n], p_out, cut_keys, cut_link), (d_in[:n], p_in, whole_keys, whole_link))
    for comp in np.unique(label[des_node]).tolist():
        members = np.flatnonzero(des_node & (label == comp))
        for dist, pred, keys, key_link in searches:
            node = int(members[np.argmin(dist[members])])
            if not math.isfinite(float(dist[node])):
                continue  # not reachable: no hostile vehicle gets there that way either
            while pred[node] >= 0:
                prev = int(pred[node])
                key = min(prev, node) * (n + 1) + max(prev, node)
                route[key_link[np.searchsorted(keys, key)]] = True
                node = prev
    return route


def _position(
    net: Network,
    fields: list[VehicleField],
    cands: _Candidates,
    gov: _Governing,
    k: int,
    width: FloatArray,
    n_bollards: IntArray,
    active: bool,
    cost_eur: int,
    lines: Lines,
    act_len: FloatArray,
) -> Position:
    """The :class:`Position` of candidate row ``k`` (only built for positions in the cut)."""
    per: dict[str, str] = {}
    top = 0.0
    for i, vf in enumerate(fields):
        spd = float(gov.speeds_kmh[i, k])
        if not math.isfinite(spd):
            continue
        per[vf.vehicle.name] = required_rating(vf.vehicle, spd).iwa
        top = max(top, spd)
    best = required_rating(
        fields[int(gov.vehicle[k])].vehicle, float(gov.speeds_kmh[gov.vehicle[k], k])
    )
    link = int(cands.link[k])
    crossed = min(float(lines.crossed_access_m[k]), float(width[k]))
    return Position(
        "bollards",
        float(cands.x[k]),
        float(cands.y[k]),
        round(float(width[k]), 1),
        int(n_bollards[k]),
        best.iwa,
        best.pas68,
        per,
        round(top, 1),
        active,
        cost_eur,
        link,
        int(net.link_way_id[link]),
        [
            (float(lines.ax[k]), float(lines.ay[k])),
            (float(lines.bx[k]), float(lines.by[k])),
        ],
        net.link_name[link],
        length_m=round(float(lines.length_m[k]), 1),
        closes_between=[str(lines.end_a[k]), str(lines.end_b[k])],
        active_length_m=round(float(act_len[k]) if active else crossed, 1),
        clipped=bool(lines.clipped[k]),
    )


def _away_from_site(
    geom: list[tuple[float, float]], site: BaseGeometry, standoff_m: float
) -> list[tuple[float, float]]:
    """A line along the site's edge moved ``standoff_m`` (m) away from the site (as is where
    the offset fails or the stand-off is zero)."""
    if standoff_m > 0 and len(geom) >= 2:
        off = shapely.offset_curve(shapely.LineString(geom), standoff_m)
        if not off.is_empty and off.geom_type == "LineString":
            # keep the side away from the site
            if off.distance(site) < standoff_m * 0.5:
                off = shapely.offset_curve(shapely.LineString(geom), -standoff_m)
            if off.geom_type == "LineString":
                return [(float(a), float(b)) for a, b in off.coords]
    return geom


def _coords(geom: BaseGeometry) -> list[tuple[float, float]]:
    if geom.is_empty:
        return []
    if geom.geom_type == "Point":
        return [(geom.x, geom.y)]
    if hasattr(geom, "geoms"):
        out: list[tuple[float, float]] = []
        for g in geom.geoms:
            out.extend(_coords(g))
        return out
    c = list(geom.coords)
    return [c[0], c[-1]]


def plan_to_dict(plan: Plan, net: Network) -> dict[str, Any]:
    out_positions = []
    for number, p in enumerate(plan.positions, start=1):
        lon, lat = net.unproject(np.array([p.x]), np.array([p.y]))
        d: dict[str, Any] = {
            "number": number,
            "kind": p.kind,
            "lon": round(float(lon[0]), 7),
            "lat": round(float(lat[0]), 7),
            "width_m": p.width_m,
            "n_bollards": p.n_bollards,
            "rating": p.rating,
            "pas68": p.pas68,
            "ratings": p.ratings,
            "speed_kmh": p.speed_kmh,
            "barrier": "active" if p.active else "fixed",
            "cost_eur": p.cost_eur,
            "street": p.street,
            "costed": p.costed,
        }
        if p.advice:
            d["advice"] = p.advice
        # the edge stretches whose governing threat this position intercepts (issue 10 item 5)
        d["covers_stretches"] = list(p.covers_stretches)
        if p.way_id is not None:
            d["way_id"] = p.way_id
        # the barrier line (issue 10 item 5): "geometry" is the whole line, end to end
        d["length_m"] = p.length_m
        if p.closes_between:
            d["closes_between"] = p.closes_between
            d["closes_between_words"] = [
                {"code": c, "en": words(c), "fr": words(c, "fr")} for c in p.closes_between
            ]
            d["open_ended"] = "open_end" in p.closes_between
            d["clipped"] = p.clipped
        if p.active or p.active_length_m > 0:
            d["active_length_m"] = p.active_length_m
        if p.geometry_xy:
            arr = np.asarray(p.geometry_xy)
            glon, glat = net.unproject(arr[:, 0], arr[:, 1])
            d["geometry"] = {
                "type": "LineString",
                "coordinates": [
                    [round(float(a), 7), round(float(b), 7)]
                    for a, b in zip(glon, glat, strict=True)
                ],
            }
        out_positions.append(d)
    return {
        "positions": out_positions,
        "total_cost_eur": round(plan.total_cost_eur),
        "currency": plan.currency,
        "standoff_m": plan.standoff_m,
        "note": plan.note,
        "not_costed": sum(1 for p in plan.positions if not p.costed),
        # per edge stretch: covered or not, how, and by which positions (numbers above)
        "stretches": [
            {
                "number": c.number,
                "covered": c.covered,
                "how": c.how,
                "how_words": {"en": COVER_WORDS[c.how][0], "fr": COVER_WORDS[c.how][1]},
                "positions": c.positions,
            }
            for c in plan.stretches
        ],
    }
