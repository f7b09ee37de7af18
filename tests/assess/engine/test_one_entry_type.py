"""One entry type along the edge (issue 10 item 3): the site's edge is sampled once every 2 m;
at every sample the worst of the off-road search, a road crossing and the frontage model
(normal speed); consecutive samples with one governing requirement form a numbered, named
``edge_stretch`` (a crossing is a stretch of its own). Former JSON keys are kept.

Expected speeds from constant-acceleration kinematics, ``v^2 = 2 a s`` (the test vehicle's
acceleration is 1.5 m/s2 at every speed and its top speed, 250 km/h, is out of reach), and
from the frontage swerve model's closed form ``v_n = sqrt(2 c a_lat - (c a_lat / v)^2)`` with
``c`` the lateral room (docs/method.md section 2). Every case is a small .osm file: the site
is x in [-50, 50], y in [0, 40] m, closed 1 m off its west, north and east sides by buildings
(too narrow for any vehicle), so the south edge y = 0 is the open one.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rempart.assess.engine.report import to_html
from rempart.assess.engine.report.formats import site_data
from rempart.assess.engine.report.words import words_for
from rempart.assess.engine.run import AssessOptions, assess

from ._netbuild import LAT0, LON0, M_PER_DEG_LAT, road, vehicle, write_osm
from .test_offroad import ENCLOSE, SITE, block, canyon

ACCEL_MS2 = 1.5
LAT_MS2 = 4.0
FAST = vehicle(
    "fast", top_kmh=250.0, lat=LAT_MS2, width=2.0, curve=((0, ACCEL_MS2), (250, ACCEL_MS2))
)


def kmh_after(run_m: float) -> float:
    """Speed (km/h) after ``run_m`` m from rest at constant acceleration: v^2 = 2 a s."""
    return math.sqrt(2 * ACCEL_MS2 * run_m) * 3.6


def _local(d):
    """The edge profile's sample points in the test's metres (x east, y north)."""
    pts = np.array(d["edge"]["points"], dtype=float)
    x = (pts[:, 0] - LON0) * M_PER_DEG_LAT * math.cos(math.radians(LAT0))
    y = (pts[:, 1] - LAT0) * M_PER_DEG_LAT
    return x, y


def _assess(tmp_path, ways):
    osm = write_osm(tmp_path / "case.osm", ways + ENCLOSE)
    res = assess(osm, [("site", SITE)], [FAST], options=AssessOptions(plan=False))[0]
    return res, site_data(res)


def _street_case(tmp_path):
    # a 205 m street from (0, -200) north into the site, in a canyon 12 m wide closed 1 m
    # behind the street's start: every run starts within 201 m of the edge. The street ends
    # 35 m from the north side, beyond the 30 m within which a stretch takes a street's name
    ways = [
        road([(0.0, -200.0), (0.0, 5.0)], width="8", name="Rue Droite"),
        *canyon(6.0, -3.0, bottom_y=-200.0),
    ]
    return _assess(tmp_path, ways)


def test_a_street_pointing_at_the_site_is_one_crossing_stretch_flanked_by_off_road(tmp_path):
    _, d = _street_case(tmp_path)
    entries = d["entries"]
    crossings = [e for e in entries if e["kind"] == "crossing"]
    assert len(crossings) == 1
    (stretch,) = crossings
    assert stretch["entry_type"] == "edge_stretch"
    assert stretch["source"] == "road crossing"
    assert stretch["street"] == "Rue Droite"
    # the crossing keeps its carriageway width: it is never diluted into a longer stretch
    assert stretch["stretch_length_m"] == pytest.approx(8.0, abs=0.05)
    # 200 m straight on from rest: v = sqrt(2 a 200) = 88.2 km/h, head-on
    ve = stretch["vehicles"][0]
    assert ve["speed_kmh"] == pytest.approx(kmh_after(200.0), abs=0.3)
    assert ve["impact_angle_deg"] == pytest.approx(90.0, abs=0.5)
    # its neighbours along the edge are off-road stretches (runs inside the canyon)
    k = entries.index(stretch)
    before, after = entries[k - 1], entries[(k + 1) % len(entries)]
    assert before["source"] == "off-road" and after["source"] == "off-road"
    # no point of the canyon's mouth is faster than the 201 m straight run from its end
    for e in (before, after):
        assert e["vehicles"][0]["speed_kmh"] <= kmh_after(201.0) + 0.3


def test_frontage_is_the_swerve_speed_where_nothing_is_faster(tmp_path):
    # a 1200 m road 10 m south of the site (carriageway 8 m), buildings south of it: along the
    # south edge the frontage swerve governs. At x the road speed is v = sqrt(2 a (600 + |x|))
    # (from rest at the far end), the lateral room c = 10 + 4 = 14 m
    res, d = _assess(
        tmp_path,
        [road([(-600.0, -10.0), (600.0, -10.0)], width="8"), block(-400, -400, 400, -15)],
    )
    x, y = _local(d)
    normal = np.array(d["edge"]["normal_speeds_kmh"]["fast"], dtype=float)
    sources = d["edge"]["sources"]["fast"]
    south = np.flatnonzero((np.abs(y) < 0.01) & (np.abs(x) < 45.0))
    assert south.size > 30
    c = 14.0
    for k in south:
        v = math.sqrt(2 * ACCEL_MS2 * (600.0 + abs(float(x[k]))))
        want = math.sqrt(2 * c * LAT_MS2 - (c * LAT_MS2 / v) ** 2) * 3.6  # about 37.8 km/h
        assert sources[k] == "frontage"
        assert normal[k] == pytest.approx(want, abs=0.3)
    # one stretch covers the south edge: the same required test (40 km/h) all along it
    middle = [e for e in d["entries"] if e["source"] == "frontage" and e["stretch_length_m"] > 90]
    assert len(middle) == 1
    assert middle[0]["kind"] == "frontage"  # the former key is kept
    assert middle[0]["vehicles"][0]["rating"].endswith("/40/90")


def test_frontage_and_off_road_take_the_maximum_where_both_apply(tmp_path):
    # the same road, and a 590 m street meeting it at a T-junction 10 m from the edge through
    # a gap in the buildings: straight on across the junction, 600 m from rest, beats the
    # frontage swerve in front of the street; frontage still governs further along
    res, d = _assess(
        tmp_path,
        [
            road([(-600.0, -10.0), (600.0, -10.0)], width="8"),
            road([(0.0, -600.0), (0.0, -10.0)], width="8"),
            block(-400, -400, -6, -15),
            block(6, -400, 400, -15),
        ],
    )
    x, y = _local(d)
    normal = np.array(d["edge"]["normal_speeds_kmh"]["fast"], dtype=float)
    sources = d["edge"]["sources"]["fast"]
    centre = int(np.argmin(np.hypot(x, y)))
    assert sources[centre] == "off-road"
    assert normal[centre] == pytest.approx(kmh_after(600.0), abs=0.5)  # 152.7 km/h
    far = int(np.argmin(np.hypot(x + 40.0, y)))
    v = math.sqrt(2 * ACCEL_MS2 * 640.0)
    swerve_kmh = math.sqrt(2 * 14.0 * LAT_MS2 - (14.0 * LAT_MS2 / v) ** 2) * 3.6
    # 40 m along, the frontage swerve (37.8 km/h) is the worst there is; a glancing off-road
    # run leaving the same road at 15 degrees is the same manoeuvre and may equal it
    assert sources[far] in {"frontage", "off-road"}
    assert swerve_kmh - 0.3 <= normal[far] <= swerve_kmh + 0.5
    # everywhere the profile is at least the frontage swerve speed (the maximum of both)
    south = np.flatnonzero((np.abs(y) < 0.01) & (np.abs(x) < 45.0))
    assert np.all(normal[south] >= 37.5)
    (head_on,) = [e for e in d["entries"] if (e["vehicles"][0]["speed_kmh"] or 0.0) >= 150.0]
    assert head_on["source"] == "off-road" and head_on["kind"] == "edge"


def test_stretches_numbered_clockwise_from_the_north_most_point_and_named(tmp_path):
    res, d = _street_case(tmp_path)
    entries = d["entries"]
    assert [e["number"] for e in entries] == list(range(1, len(entries) + 1))
    # stretch 1 holds the north-most point of the edge (the north side, y = 40)
    first = entries[0]["stretch_geometry"]["coordinates"]
    north_lat = max(lat for e in entries for _, lat in e["stretch_geometry"]["coordinates"])
    assert any(lat == pytest.approx(north_lat, abs=1e-7) for _, lat in first)
    # the north side is closed by buildings and has no street within 30 m: open ground
    assert entries[0]["place"] == {"en": "open ground north", "fr": "terrain ouvert au nord"}
    assert entries[0]["street"] == ""
    # clockwise: after the east side, the south edge is run from east to west
    south = [e for e in entries if abs(e["lat"] - entries[-1]["lat"]) < 1e-7 and e["number"] > 1]
    lons = [e["lon"] for e in south]
    assert lons == sorted(lons, reverse=True)
    # the path along the unnamed canyon runs named after the street it comes along
    crossing = next(e for e in entries if e["kind"] == "crossing")
    assert crossing["place"] == {"en": "Rue Droite", "fr": "Rue Droite"}


def test_json_keeps_every_former_key(tmp_path):
    _, d = _street_case(tmp_path)
    crossing = next(e for e in d["entries"] if e["kind"] == "crossing")
    for key in ("kind", "lon", "lat", "bearing_deg", "street", "way_id", "width_m", "vehicles"):
        assert key in crossing, key
    stretch = next(e for e in d["entries"] if e["kind"] == "edge")
    for key in ("kind", "lon", "lat", "street", "length_m", "geometry", "worst_point"):
        assert key in stretch, key
    for key in ("entry_type", "number", "source", "stretch_length_m", "place"):
        assert key in stretch and key in crossing, key
    ve = crossing["vehicles"][0]
    for key in (
        "name",
        "test_class",
        "mass_kg",
        "speed_kmh",
        "energy_kj",
        "rating",
        "pas68",
        "runup_m",
        "equivalent_runup_m",
        "runup_start",
        "runup_start_speed_kmh",
        "approach_bearing_deg",
        "impact_speed_kmh",
        "impact_angle_deg",
        "runup_geometry",
    ):
        assert key in ve, key
    # the worst of the crossing (200 m from rest) and the off-road runs of the canyon
    # (up to 201 m): either may give it
    assert ve["source"] in {"road crossing", "off-road"}
    for key in ("step_m", "points", "speeds_kmh", "angles_deg"):
        assert key in d["edge"], key


def test_french_report_names_sources_and_places_in_french(tmp_path):
    res, _ = _street_case(tmp_path)
    text = to_html([res], words=words_for("fr"))
    assert "terrain ouvert au nord" in text
    # the place is named in French (the report's other new words follow the catalogue)
    assert "open ground north" not in text
    text_en = to_html([res], words=words_for("en"))
    for needle in ("open ground north", "road crossing", "off-road", "Rue Droite"):
        assert needle in text_en, needle


def test_a_way_inside_the_site_names_no_stretch(tmp_path):
    # a named service road inside the site, 5 m from its north side: the site's own way, not a
    # street the north side can be found by (the north side stays "open ground north")
    _, d = _assess(
        tmp_path,
        [
            road([(0.0, -200.0), (0.0, 5.0)], width="8", name="Rue Droite"),
            road([(-40.0, 35.0), (40.0, 35.0)], "service", name="Cour du Site"),
            *canyon(6.0, -3.0, bottom_y=-200.0),
        ],
    )
    assert d["entries"][0]["place"]["en"] == "open ground north"
    assert all(e["street"] != "Cour du Site" for e in d["entries"])
