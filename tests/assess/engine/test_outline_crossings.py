"""A way whose end node lies on the site outline (within ``entries.ON_OUTLINE_M``) pointing
inwards is a crossing (docs/method.md section 4); a way along the outline is not; a node where
one way ends and another carries on inside is one crossing, not two. Hand-made networks; the
site is x in [-50, 50], y in [0, 40] m, projected through WGS84 like the ways."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from rempart.assess.engine.entries import ON_OUTLINE_M, find_crossings

from ._netbuild import Way, lonlat, network, road

CORNERS = [(-50.0, 0.0), (50.0, 0.0), (50.0, 40.0), (-50.0, 40.0)]


def crossings(ways: list[Way]):
    """The network of ``ways`` and the site's inbound crossings (local CRS, m)."""
    net = network(ways)
    lon, lat = zip(*(lonlat(x, y) for x, y in CORNERS), strict=True)
    x, y = net.project(np.asarray(lon), np.asarray(lat))
    return net, find_crossings(net, shapely.Polygon(list(zip(x, y, strict=True))))


def test_a_street_ending_on_the_outline_is_one_inbound_crossing_at_its_end():
    net, found = crossings([road([(0.0, -100.0), (0.0, 0.0)])])
    assert len(found) == 1
    link, directed, s_m, _x, _y = found[0]
    assert directed == 2 * link  # drawn towards the site: its forward direction enters
    assert s_m == pytest.approx(float(net.link_length_m[link]), abs=0.01)
    assert s_m == pytest.approx(100.0, abs=0.5)


def test_a_street_starting_on_the_outline_is_the_same_crossing_in_reverse():
    net, found = crossings([road([(0.0, 0.0), (0.0, -100.0)])])
    assert len(found) == 1
    link, directed, s_m, _x, _y = found[0]
    assert directed == 2 * link + 1
    assert s_m == pytest.approx(100.0, abs=0.5)


def test_the_tolerance_is_on_outline_m():
    _net, found = crossings([road([(0.0, -100.0), (0.0, -0.8 * ON_OUTLINE_M)])])
    assert len(found) == 1
    _net, found = crossings([road([(0.0, -100.0), (0.0, -3.0 * ON_OUTLINE_M)])])
    assert found == []


def test_a_street_ending_on_the_outline_and_going_on_inside_is_one_crossing():
    ways = [road([(0.0, -100.0), (0.0, 0.0)]), road([(0.0, 0.0), (0.0, 20.0)])]
    _net, found = crossings(ways)
    assert len(found) == 1


def test_a_way_along_the_outline_is_no_crossing():
    # ends on the corner, then runs along the south edge: never points inwards
    _net, found = crossings([road([(-80.0, 0.0), (-50.0, 0.0), (50.0, 0.0)])])
    assert found == []


def test_a_street_ending_on_the_outline_pointing_away_along_it_is_no_crossing():
    # it arrives at the south edge obliquely from the inside's mirror image: it ends on the
    # edge pointing east-north-east into the site, a crossing; pointing along it, none
    _net, found = crossings([road([(-100.0, -30.0), (0.0, 0.0)])])
    assert len(found) == 1
    _net, found = crossings([road([(-100.0, 0.0), (-50.0, 0.0)])])
    assert found == []
