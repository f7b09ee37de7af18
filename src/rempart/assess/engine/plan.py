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
and ``F -> T`` costs a linear barrier. Links on designated access routes can only be cut with
active (retractable) barriers, priced as such. Positions cost more with the rating their speed
requires and with their width (number of bollards for a clear gap of at most 1.2 m).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import breadth_first_order, maximum_flow
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from .entries import Entry
from .errors import InputFileError
from .field import VehicleField
from .graph import Network
from .ratings import TEST_SPEEDS_KMH, Rating, required_rating

DEFAULT_STANDOFF_M = 0.0
DEFAULT_PLAN_RADIUS_M = 300.0
DEFAULT_VERGE_M = 1.5
_POSITION_OFFSET_M = 3.0


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
        speed = rating.speed_kmh
        base = table[112] * self.exceeds_factor if speed is None else table[speed]
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
        if not isinstance(value, int | float) or value < 0:
            raise InputFileError(f"{source}: [{key}] {speed}", value, "a non-negative price")
        out[speed] = float(value)
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
            data = tomllib.load(handle)
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
        (vehicles mount pavements to bypass obstacles).
    """
    protected = site.buffer(standoff_m) if standoff_m > 0 else site
    any_ok = np.zeros(net.n_links, dtype=bool)
    for vf in fields:
        any_ok |= vf.link_ok
    if access_links is None:
        access_links = np.zeros(net.n_links, dtype=bool)
    region = site.buffer(plan_radius_m)
    cand = np.unique(net.link_tree.query(region, predicate="intersects"))
    cand = cand[any_ok[cand]]
    positions: list[Position] = []
    if cand.size == 0:
        return Plan([], 0.0, standoff_m, costs.currency, [], [])

    nodes = np.unique(np.concatenate([net.link_u[cand], net.link_v[cand]]))
    node_id = {int(n): i for i, n in enumerate(nodes)}
    n_nodes = nodes.size
    S, T = n_nodes, n_nodes + 1
    next_id = n_nodes + 2
    inside = shapely.contains_xy(protected, net.node_x[nodes], net.node_y[nodes])
    rows: list[int] = []
    cols: list[int] = []
    caps: list[float] = []
    INF = -1.0  # placeholder, replaced after the finite capacities are known
    edge_pos: dict[tuple[int, int], Position] = {}

    def add(a: int, b: int, c: float) -> None:
        rows.append(a)
        cols.append(b)
        caps.append(c)

    # candidate bollard positions: (tail node, head node or -1 for T, link, directed, s, x, y)
    pending: list[tuple[int, int, int, int, float, float, float]] = []
    for k in range(n_nodes):
        if inside[k]:
            add(k, T, INF)
    boundary = protected.boundary
    for link in cand:
        link = int(link)
        u, v = node_id[int(net.link_u[link])], node_id[int(net.link_v[link])]
        length = float(net.link_length_m[link])
        line = net.link_lines[link]
        if not line.intersects(protected):
            for tail, head, d in ((u, v, 2 * link), (v, u, 2 * link + 1)):
                s = min(_POSITION_OFFSET_M, length / 2)
                s_u = s if d % 2 == 0 else length - s
                px, py, _ = net.point_at(link, s_u)
                pending.append((tail, head, link, d, s, px, py))
            continue
        cuts = [float(line.project(Point(p))) for p in _coords(line.intersection(boundary))]
        for end, d, inside_end in ((u, 2 * link, inside[u]), (v, 2 * link + 1, inside[v])):
            if inside_end or not cuts:
                continue
            s_u = min(cuts) if d % 2 == 0 else max(cuts)
            s = s_u if d % 2 == 0 else length - s_u
            px, py, _ = net.point_at(link, s_u)
            pending.append((end, -1, link, d, s, px, py))
    if pending:
        p_link = np.array([p[2] for p in pending], dtype=np.int64)
        p_d = np.array([p[3] for p in pending], dtype=np.int64)
        p_s = np.array([p[4] for p in pending], dtype=float)
        speeds = []
        for vf in fields:
            v_ms = vf.speed_at_ms(p_d, p_s)
            speeds.append(np.where(vf.link_ok[p_link], v_ms, np.nan))
        link_mids: dict[int, int] = {}
        for i, (tail, head, link, _d, _s, px, py) in enumerate(pending):
            best: Rating | None = None
            per: dict[str, str] = {}
            top = 0.0
            for vf, sp_ in zip(fields, speeds, strict=True):
                spd = float(sp_[i])
                if not math.isfinite(spd):
                    continue
                r = required_rating(vf.vehicle, spd * 3.6)
                per[vf.vehicle.name] = r.iwa
                top = max(top, spd * 3.6)
                if best is None or r.energy_kj > best.energy_kj:
                    best = r
            if best is None:
                continue
            active = bool(access_links[link])
            width = float(net.link_width_m[link]) + 2 * verge_m
            n_b = costs.bollards(width)
            unit = costs.price(
                costs.active_bollard_eur if active else costs.fixed_bollard_eur, best
            )
            cost = n_b * unit + (costs.active_position_eur if active else 0.0)
            pos = Position(
                "bollards",
                px,
                py,
                round(width, 1),
                n_b,
                best.iwa,
                best.pas68,
                per,
                round(top, 1),
                active,
                round(cost),
                link,
                int(net.link_way_id[link]),
                [],
                net.link_name[link],
            )
            if head >= 0:
                m = link_mids.get(link)
                if m is None:
                    m = next_id
                    next_id += 1
                    link_mids[link] = m
                add(tail, m, pos.cost_eur)
                add(m, head, INF)
            else:
                m = next_id
                next_id += 1
                add(tail, m, pos.cost_eur)
                add(m, T, INF)
            edge_pos[(tail, m)] = pos

    frontage_pos: dict[int, tuple[int, Position]] = {}
    for idx, entry in enumerate(frontage):
        rating, per, speed = _entry_governing(entry)
        if rating is None:
            continue
        f = next_id
        next_id += 1
        cost = entry.length_m * costs.price(costs.linear_eur_per_m, rating)
        geom = entry.geometry_xy
        if standoff_m > 0 and len(geom) >= 2:
            off = shapely.offset_curve(shapely.LineString(geom), standoff_m)
            if not off.is_empty and off.geom_type == "LineString":
                # keep the side away from the site
                if off.distance(site) < standoff_m * 0.5:
                    off = shapely.offset_curve(shapely.LineString(geom), -standoff_m)
                if off.geom_type == "LineString":
                    geom = [(float(a), float(b)) for a, b in off.coords]
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
        )
        for link in entry.attack_links:
            for end in (int(net.link_u[link]), int(net.link_v[link])):
                if end in node_id:
                    add(node_id[end], f, INF)
        add(f, T, pos.cost_eur)
        frontage_pos[f] = (idx, pos)

    # sources: nodes joined to links outside the planning area, or beyond it
    outside_links = np.ones(net.n_links, dtype=bool)
    outside_links[cand] = False
    outside_links &= any_ok
    touch = np.zeros(net.node_x.size, dtype=bool)
    touch[net.link_u[outside_links]] = True
    touch[net.link_v[outside_links]] = True
    far = (
        shapely.distance(site, shapely.points(net.node_x[nodes], net.node_y[nodes])) > plan_radius_m
    )
    source = (touch[nodes] | far) & ~inside
    if not np.any(source):
        source = ~inside
    for src in np.flatnonzero(source):
        add(S, int(src), INF)

    finite = [c for c in caps if c >= 0]
    total = float(sum(finite)) + 1.0
    scale = max(1.0, total / 1e8)  # int32 capacities for scipy
    inf_cap = int(total / scale) + 1
    cap_int = np.array(
        [inf_cap if c < 0 else max(int(round(c / scale)), 1) for c in caps], dtype=np.int32
    )
    n_all = next_id
    graph = sp.csr_array((cap_int, (np.array(rows), np.array(cols))), shape=(n_all, n_all))
    graph.sum_duplicates()
    result = maximum_flow(graph, S, T)
    flow = result.flow
    residual = (graph - flow).tocsr()
    residual.data = np.where(residual.data > 0, 1, 0).astype(np.int32)
    residual.eliminate_zeros()
    reach = np.zeros(n_all, dtype=bool)
    reach[breadth_first_order(residual, S, directed=True, return_predecessors=False)] = True
    cut_links: list[int] = []
    for (a, b), pos in edge_pos.items():
        if reach[a] and not reach[b]:
            positions.append(pos)
            if pos.link is not None:
                cut_links.append(pos.link)
    cut_frontage: list[int] = []
    for f, (idx, pos) in frontage_pos.items():
        if reach[f]:
            positions.append(pos)
            cut_frontage.append(idx)
    total_cost = float(sum(p.cost_eur for p in positions))
    return Plan(
        positions, total_cost, standoff_m, costs.currency, sorted(set(cut_links)), cut_frontage
    )


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
    for p in plan.positions:
        lon, lat = net.unproject(np.array([p.x]), np.array([p.y]))
        d: dict[str, Any] = {
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
        }
        if p.way_id is not None:
            d["way_id"] = p.way_id
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
    }
