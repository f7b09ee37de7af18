"""The min-cut barrier plan separates the site and keeps access routes passable."""

from __future__ import annotations

import networkx as nx
import numpy as np
import shapely

from rempart.assess.engine.field import vehicle_field
from rempart.assess.engine.plan import default_costs, plan_site
from rempart.assess.engine.sites import access_mask, site_geometry
from rempart.assess.engine.vehicles import builtin_vehicles

from ._netbuild import network, road, square

STEP = 100.0
N = 7


def grid_ways():
    ways = []
    for i in range(N):
        row = [(j * STEP, i * STEP) for j in range(N)]
        col = [(i * STEP, j * STEP) for j in range(N)]
        ways.append(road(row, "secondary" if i == 3 else "residential"))
        ways.append(road(col, "residential"))
    # a narrow dead-end service road into the site from the north-west
    return ways


def _check_separation(net, site, plan, fields, radius, grade=None):
    """Remove the cut links: no start node may reach a link entering the site. ``grade``:
    (L,) bool, bridges and tunnels, which enter nothing (a node reached only by them is not
    in the site)."""
    any_ok = np.zeros(net.n_links, dtype=bool)
    for vf in fields:
        any_ok |= vf.link_ok
    grade = np.zeros(net.n_links, dtype=bool) if grade is None else grade
    ground = np.zeros(net.node_x.size, dtype=bool)
    ground[net.link_u[any_ok & ~grade]] = True
    ground[net.link_v[any_ok & ~grade]] = True
    g = nx.Graph()
    cut = set(plan.cut_links)
    for link in range(net.n_links):
        if any_ok[link] and link not in cut:
            g.add_edge(int(net.link_u[link]), int(net.link_v[link]))
    pts = shapely.points(net.node_x, net.node_y)
    far = shapely.distance(site, pts) > radius
    inside = shapely.contains_xy(site, net.node_x, net.node_y) & ground
    entering = [
        link
        for link in range(net.n_links)
        if any_ok[link]
        and not grade[link]
        and link not in cut
        and net.link_lines[link].intersects(site)
    ]
    targets = (
        {int(net.link_u[link]) for link in entering}
        | {int(net.link_v[link]) for link in entering}
        | set(np.flatnonzero(inside).tolist())
    )
    sources = [int(n) for n in np.flatnonzero(far) if n in g]
    for s in sources:
        reach = nx.node_connected_component(g, s)
        assert not (reach & targets), f"start node {s} reaches the site"


def test_min_cut_separates_site_and_keeps_access_active():
    net = network(grid_ways())
    site = site_geometry("centre", square(250, 250, 350, 350), net)
    fields = [vehicle_field(net, v) for v in builtin_vehicles()[::4]]
    costs = default_costs()
    plan = plan_site(net, site, fields, [], costs, None, standoff_m=0.0, plan_radius_m=220.0)
    assert plan.positions
    # the car passes 112 km/h on the grid's 600 m streets: such positions are not priced
    # (issue 10), every other position is
    for p in plan.positions:
        assert p.costed == (not p.rating.endswith("exceeds tested speeds"))
        assert (p.cost_eur > 0) == p.costed
    assert plan.total_cost_eur == sum(p.cost_eur for p in plan.positions if p.costed)
    _check_separation(net, site, plan, fields, 220.0)
    for p in plan.positions:
        assert p.n_bollards >= p.width_m / 1.5 - 1
        assert not p.active
    # designate the east-west secondary road (way of row 3) as an access route
    access_way = int(net.link_way_id[np.flatnonzero(net.link_highway == "secondary")[0]])
    access = access_mask(net, [access_way])
    plan2 = plan_site(net, site, fields, [], costs, access, standoff_m=0.0, plan_radius_m=220.0)
    _check_separation(net, site, plan2, fields, 220.0)
    on_access = [p for p in plan2.positions if p.link is not None and access[p.link]]
    assert on_access, "the access road must be crossed by the cut"
    assert all(p.active for p in on_access)
    assert all(not p.active for p in plan2.positions if p.link is None or not access[p.link])
    # an active position costs more than a fixed one of the same rating
    assert plan2.total_cost_eur >= plan.total_cost_eur


def test_standoff_moves_barriers_outward():
    net = network(grid_ways())
    site = site_geometry("centre", square(250, 250, 350, 350), net)
    fields = [vehicle_field(net, builtin_vehicles()[3])]
    plan = plan_site(
        net, site, fields, [], default_costs(), None, standoff_m=20.0, plan_radius_m=220.0
    )
    _check_separation(net, site, plan, fields, 220.0)
    for p in plan.positions:
        assert shapely.Point(p.x, p.y).distance(site) >= 20.0 - 0.5
