"""Designated access routes stay open from outside the planning area into the site, behind
active positions only (docs/method.md, section 4, "Designated access routes")."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely

from rempart.assess.engine.field import vehicle_field
from rempart.assess.engine.plan import Plan, default_costs, plan_site
from rempart.assess.engine.sites import access_mask, site_geometry
from rempart.assess.engine.vehicles import builtin_vehicles

from ._netbuild import network, road, square
from .test_plan import _check_separation

RADIUS = 220.0


def _assert_routes_open(net, site, plan: Plan, access, fields, radius) -> None:
    """Every designated link joins a start node (beyond ``radius``) and the site in the network
    minus the links carrying a fixed position: authorised vehicles get from the outside along
    the route into the site past active positions only."""
    any_ok = np.zeros(net.n_links, dtype=bool)
    for vf in fields:
        any_ok |= vf.link_ok
    fixed = {p.link for p in plan.positions if p.link is not None and not p.active}
    g = nx.Graph()
    for link in np.flatnonzero(any_ok).tolist():
        if link not in fixed:
            g.add_edge(int(net.link_u[link]), int(net.link_v[link]))
    far = set(
        np.flatnonzero(shapely.distance(site, shapely.points(net.node_x, net.node_y)) > radius)
    )
    inside = set(np.flatnonzero(shapely.contains_xy(site, net.node_x, net.node_y)).tolist())
    entering = [
        link
        for link in np.flatnonzero(any_ok).tolist()
        if link not in fixed and net.link_lines[link].intersects(site)
    ]
    site_nodes = (
        inside | {int(net.link_u[k]) for k in entering} | {int(net.link_v[k]) for k in entering}
    )
    for link in np.flatnonzero(access).tolist():
        comp = nx.node_connected_component(g, int(net.link_u[link]))
        assert comp & far, f"designated link {link} is cut off from the outside"
        assert comp & site_nodes, f"designated link {link} has no way into the site"
    # no fixed position anywhere on the route kept open (planning-area part of it)
    assert not fixed & set(plan.access_links)


def _entry_network():
    """Site [0, 100]^2. A service road enters it from the north as two ways: an inner piece
    (designated) and its outer continuation to a dead end 600 m out; a residential street
    enters from the east; an east-west street passes south of the site."""
    return network(
        [
            road([(50, 50), (50, 120), (50, 200)], "service"),  # inner piece (designated)
            road([(50, 200), (50, 400), (50, 600)], "service"),  # outer continuation
            road([(50, 50), (150, 50), (400, 50)]),
            road([(-400, -60), (50, -60), (400, -60), (500, -60)], "secondary"),
            road([(400, 50), (400, -60)]),
        ]
    )


def test_designated_fragment_is_open_from_outside_into_the_site():
    net = _entry_network()
    site = site_geometry("site", square(0, 0, 100, 100), net)
    fields = [vehicle_field(net, v) for v in builtin_vehicles()[::4]]
    costs = default_costs()
    inner = int(net.link_way_id[np.flatnonzero(net.link_highway == "service")[0]])
    access = access_mask(net, [inner])
    assert access.sum() == 1
    plan = plan_site(net, site, fields, [], costs, access, standoff_m=0.0, plan_radius_m=RADIUS)
    # (3) closed actives included, the cut still separates the site from every start
    _check_separation(net, site, plan, fields, RADIUS)
    # (1) the designated entry keeps an active position and no fixed one on its way in
    route = set(plan.access_links)
    on_route = [p for p in plan.positions if p.link in route]
    assert on_route and all(p.active for p in on_route)
    assert all(not p.active for p in plan.positions if p.link not in route)
    outer = np.flatnonzero(net.link_highway == "service")
    assert set(outer.tolist()) <= route, "the outer continuation completes the route"
    _assert_routes_open(net, site, plan, access, fields, RADIUS)
    # the completed route is priced as active: dearer than the undesignated plan
    plain = plan_site(net, site, fields, [], costs, None, standoff_m=0.0, plan_radius_m=RADIUS)
    assert plain.access_links == []
    assert all(not p.active for p in plain.positions)
    assert plan.total_cost_eur >= plain.total_cost_eur


def test_designated_way_short_of_the_site_gets_its_way_in():
    """A designated way that stops short of the site (the east-west street) is joined to the
    site by the shortest way in (here the east residential street), kept behind actives."""
    net = _entry_network()
    site = site_geometry("site", square(0, 0, 100, 100), net)
    fields = [vehicle_field(net, v) for v in builtin_vehicles()[::4]]
    street = int(net.link_way_id[np.flatnonzero(net.link_highway == "secondary")[0]])
    access = access_mask(net, [street])
    plan = plan_site(
        net, site, fields, [], default_costs(), access, standoff_m=0.0, plan_radius_m=RADIUS
    )
    _check_separation(net, site, plan, fields, RADIUS)
    _assert_routes_open(net, site, plan, access, fields, RADIUS)
    assert any(p.active for p in plan.positions)


def test_helsinki_senate_square_designated_service_ways():
    """The designated service ways 609208668 and 609208675 lead into the service tunnel
    (layer -4) under the square, which is no way into it at ground level (issue 10, grade
    separation): the plan puts no position on them or in the tunnel, and nothing closes them.
    (Before the plan respected grade separation, the tunnel's four crossings were the square's
    only road entries and the plan kept them open behind active bollards in the tunnel.)"""
    pyrosm = pytest.importorskip("pyrosm")
    from rempart.assess.engine.osm import find_named_areas
    from rempart.assess.engine.run import AssessOptions, assess_sites, load_network

    path = str(pyrosm.get_data("helsinki_pbf"))
    loaded = load_network(path)
    net = loaded.net
    sites = find_named_areas(path, "Senaatintori")
    ways = (609208668, 609208675)
    (result,) = assess_sites(loaded, sites, options=AssessOptions(access_way_ids=ways))
    plan = result.plan
    assert plan is not None
    access = access_mask(net, list(ways))
    radius = result.options.plan_radius_m
    grade = loaded.grade_separated
    assert grade[access].all(), "the designated ways are tunnel ways"
    _check_separation(net, result.geometry_xy, plan, result.fields, radius, grade)
    # the designated ways and their continuations carry no position at all
    tunnel_ways = {int(w) for w in net.link_way_id[grade]}
    assert not {p.way_id for p in plan.positions} & ({609208668, 609208675} | tunnel_ways)
    assert plan.positions, "the square is still protected at ground level"
