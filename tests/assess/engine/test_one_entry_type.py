"""One entry type along the edge (issue 10 item 3): every entry of ``rempart assess --json`` is
an ``edge_stretch`` with a number, street, source and stretch length; crossings and frontage
are special cases (their former keys are kept).

Expected speeds from constant-acceleration kinematics, ``v^2 = 2 a s`` (the test vehicle's
acceleration is 1.5 m/s2 at every speed and its top speed is out of reach).
"""

from __future__ import annotations

import math

import pytest

from rempart.assess.engine.run import AssessOptions

from ._netbuild import road, square, vehicle
from .test_speed import run

NO_PLAN = AssessOptions(plan=False)
ACCEL_MS2 = 1.5
FAST = vehicle("fast", top_kmh=250.0, lat=4.0, width=2.0, curve=((0, ACCEL_MS2), (250, ACCEL_MS2)))


def _entries(ways, site):
    res, _ = run(ways, site, [FAST], options=NO_PLAN)
    return res.to_dict()["entries"]


def test_a_street_pointing_at_the_site_is_one_stretch_at_the_straight_on_speed():
    # a dead-end street from (0, -100) north into the site, whose south edge is y = 0: from
    # rest at its far end the vehicle runs 100 m straight on
    entries = _entries([road([(0.0, -100.0), (0.0, 50.0)], width="8")], square(-50, 0, 50, 100))
    crossings = [e for e in entries if e["source"] == "road crossing"]
    assert len(crossings) == 1
    (stretch,) = crossings
    assert stretch["entry_type"] == "edge_stretch"
    assert stretch["kind"] == "crossing"  # the former key is kept
    assert stretch["stretch_length_m"] == pytest.approx(8.0, abs=0.05)
    expected_kmh = math.sqrt(2 * ACCEL_MS2 * 100.0) * 3.6  # 62.35 km/h
    assert stretch["vehicles"][0]["speed_kmh"] == pytest.approx(expected_kmh, abs=0.2)


def test_every_entry_is_one_numbered_edge_stretch():
    entries = _entries([road([(0.0, -100.0), (0.0, 50.0)], width="8")], square(-50, 0, 50, 100))
    assert entries, "the street crosses the site's edge"
    assert [e["number"] for e in entries] == list(range(1, len(entries) + 1))
    for e in entries:
        assert e["entry_type"] == "edge_stretch"
        assert e["source"] in {"road crossing", "frontage", "off-road"}
        assert e["stretch_length_m"] > 0
        assert "street" in e


def test_frontage_is_a_stretch_with_its_length():
    # a road 10 m south of the site, along its 100 m south edge: frontage, not a crossing
    entries = _entries([road([(-500.0, -10.0), (600.0, -10.0)], width="8")], square(0, 0, 100, 100))
    assert [e for e in entries if e["source"] == "road crossing"] == []
    frontage = [e for e in entries if e["source"] == "frontage"]
    assert len(frontage) == 1
    (stretch,) = frontage
    assert stretch["entry_type"] == "edge_stretch"
    assert stretch["stretch_length_m"] == pytest.approx(stretch["length_m"], abs=0.05)
    # the frontage runs along the whole 100 m south edge
    assert stretch["stretch_length_m"] >= 95.0
