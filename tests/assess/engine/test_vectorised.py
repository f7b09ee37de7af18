"""The vectorised entries (all sites at once) equal the per-site reference loops."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rempart.assess.engine._reference import (
    crossing_entries_reference,
    frontage_entries_reference,
)
from rempart.assess.engine.entries import entry_to_dict, runups, site_entries
from rempart.assess.engine.field import vehicle_field
from rempart.assess.engine.sites import barriers_on_links, site_geometry
from rempart.assess.engine.vehicles import builtin_vehicles

from ._netbuild import lonlat, network, road, square
from .test_regression import networks


def _circle(cx: float, cy: float, r: float, n: int) -> list[tuple[float, float]]:
    pts = [
        (cx + r * math.cos(2 * math.pi * k / n), cy + r * math.sin(2 * math.pi * k / n))
        for k in range(n)
    ]
    return pts + [pts[0]]


def _cases():
    ways, sites = networks()["grid_curve"]
    yield "grid_curve", ways, sites, ()
    # a wide ring road driven at top speed: run-ups go round the loop (a cycle of
    # predecessors); a spoke leads from the ring into the site
    ring = road(_circle(0.0, 0.0, 2000.0, 240), "primary", width="20")
    spoke = road([(2000.0, 0.0), (2600.0, 0.0)], "primary", width="20")
    # a second spoke splits the ring into two links: a two-link cycle of predecessors
    spoke2 = road([(-2000.0, 0.0), (-2600.0, 0.0)], "primary", width="20")
    yield (
        "ring",
        [ring, spoke, spoke2],
        [square(2300.0, -60.0, 2450.0, 60.0), square(1900.0, -300.0, 2050.0, -150.0)],
        (),
    )
    # a closed way alone (one link from a node back to itself) next to a site
    loop = road(_circle(0.0, 0.0, 1500.0, 180), "primary", width="20")
    yield "self_loop", [loop], [square(1450.0, -50.0, 1600.0, 50.0)], ()
    # a register barrier on the grid
    bar = ({"type": "Point", "coordinates": list(lonlat(240.0, 300.0))}, 7200.0, 112.0)
    yield "barrier", ways, sites, (bar,)


@pytest.mark.parametrize("case", list(_cases()), ids=lambda c: c[0])
def test_bulk_entries_equal_reference(case) -> None:
    _, ways, sites, barriers = case
    net = network(ways)
    bars = []
    for geom, mass, speed in barriers:
        bars.extend(barriers_on_links(net, geom, mass, speed, "b"))
    fields = [vehicle_field(net, v, tuple(bars)) for v in builtin_vehicles()]
    geoms = [site_geometry(f"s{i}", s, net) for i, s in enumerate(sites)]
    bulk = site_entries(net, geoms, fields)
    for geom, (cr, fr) in zip(geoms, bulk, strict=True):
        ref_cr = crossing_entries_reference(net, geom, fields)
        ref_fr = frontage_entries_reference(net, geom, fields, ref_cr)
        assert len(cr) + len(fr) > 0
        want = [entry_to_dict(e, net) for e in ref_cr + ref_fr]
        got = [entry_to_dict(e, net) for e in cr + fr]
        assert got == want


def test_runup_round_a_loop_stops_before_repeating_a_link() -> None:
    ring = road(_circle(0.0, 0.0, 2000.0, 240), "primary", width="20")
    spokes = [road([(x, 0.0), (1.3 * x, 0.0)], "primary", width="20") for x in (2000.0, -2000.0)]
    net = network([ring, *spokes])
    car = builtin_vehicles()[0]
    vf = vehicle_field(net, car)
    d = np.arange(net.n_directed)
    r = runups(net, vf, d, net.dl_length_m[d])
    for pieces in r.pieces:
        links = [p[0] for p in pieces]
        assert len(links) == len(set(links))
    assert max(len(p) for p in r.pieces) >= 2
    assert "turn" in r.start_kind
