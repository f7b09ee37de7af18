"""Hostile vehicles files (issue 10 checked as an outside checker would): a number no vehicle
has is refused in one line naming the vehicle, the field, the value and what was expected,
and nothing is written; it must never reach the engine's tables (a top speed of 10^9 km/h
made them need exabytes: a MemoryError traceback instead of a sentence).

Bounds (docs/method.md section 3, vehicles.py): full-throttle acceleration 0.01-9.81 m/s2,
top speed at most 400 km/h, width at most 5 m, mass at most 100,000 kg, at most 50 vehicles.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from rempart.assess.cli import main

from ._netbuild import lonlat
from .test_issue10_acceptance import N2A, _argv, _refused, case, v_of, worst

__all__ = ["case"]  # the fixture, imported for the tests below


def _edited(case: dict[str, Path], tmp_path: Path, text: str) -> Path:
    path = tmp_path / "odd.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        # 10^9 km/h: the run-up tables would need 2.6e17 values (was a MemoryError)
        ("top_speed_kmh = 90", "top_speed_kmh = 1e9", ("'top_speed_kmh'", "1000000000", "400")),
        # 900 for 90
        ("top_speed_kmh = 90", "top_speed_kmh = 900", ("'top_speed_kmh'", "900", "400")),
        # 25 for 2.5: wider than any street, it would close every way without a word
        ("width_m = 2.5", "width_m = 25", ("'width_m'", "25", "at most 5 m")),
        ("mass_kg = 7200", "mass_kg = 7200000", ("'mass_kg'", "7200000", "100,000 kg")),
        # 10^-6 m/s2 all the way: 3e8 m to reach 90 km/h, tables of 6e8 values
        (
            "acceleration = [",
            "acceleration = [[0, 1e-6]] #",
            ("acceleration at 0 km/h", "1e-06", "at least 0.01"),
        ),
    ],
)
def test_a_number_no_vehicle_has_is_one_clear_line(tmp_path, case, capsys, old, new, expect):
    text = case["vehicles"].read_text()
    assert old in text
    odd = _edited(case, tmp_path, text.replace(old, new))
    err = _refused(tmp_path, capsys, _argv(case, vehicles=odd), "odd.toml", "'N2A-7t'", *expect)
    assert "Traceback" not in err


def test_a_table_pasted_in_a_loop_is_one_clear_line(tmp_path, case, capsys):
    # 51 copies of the truck under different names: more vehicles than a run may take
    text = case["vehicles"].read_text()
    many = "\n".join(text.replace(f'name = "{N2A}"', f'name = "truck {i}"') for i in range(51))
    odd = _edited(case, tmp_path, many)
    _refused(tmp_path, capsys, _argv(case, vehicles=odd), "[[vehicle]] tables", "51", "at most 50")


def _assess(case: dict[str, Path], vehicles: Path) -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*_argv(case, vehicles=vehicles), "--json"]) == 0
    data = json.loads(out.getvalue())
    assert isinstance(data, dict)
    return data


def test_a_vehicle_at_every_bound_is_assessed(tmp_path, case):
    # the bounds themselves are vehicles: 400 km/h, 5 m, 100 t, and a curve of 0.01 m/s2.
    # At 0.01 m/s2 from rest, v^2 = 2 a x: the canyon holds about 620 m of ground in front of
    # the edge, sqrt(2 * 0.01 * 620) m/s = 12.7 km/h. The test asks only that such a vehicle
    # is assessed, at a speed of that order, far from its 400 km/h top (the road field
    # overstates the run-up of so weak a curve by 20-47 m: reported, speed.py is not ours)
    text = case["vehicles"].read_text()
    slow = text.replace("acceleration = [", "acceleration = [[0, 0.01]] #")
    slow = slow.replace("top_speed_kmh = 90", "top_speed_kmh = 400")
    slow = slow.replace("mass_kg = 7200", "mass_kg = 100000")
    best = worst(_assess(case, _edited(case, tmp_path, slow)))
    assert best is not None
    assert 10.0 < best["speed_kmh"] < 15.0
    # 5 m wide: the dead end's canyon is 12 m wide, so the truck still fits and reaches the
    # same speed as the 2.5 m truck (V(600 m) of the N2A curve: its 90 km/h top)
    wide = _edited(case, tmp_path, text.replace("width_m = 2.5", "width_m = 5"))
    best = worst(_assess(case, wide))
    assert best is not None
    assert best["speed_kmh"] == pytest.approx(v_of(N2A, 600.0), abs=0.3)


def test_a_barrier_line_of_one_point_is_one_clear_line(tmp_path, case, capsys):
    # a LineString of a single position is no line (GeoJSON RFC 7946 3.1.4: two or more
    # positions); it was a GEOSException traceback
    reg = tmp_path / "barriers.geojson"
    line = {"type": "LineString", "coordinates": [list(lonlat(-6.0, -20.0))]}
    feature = {"type": "Feature", "geometry": line, "properties": {"rating": "V/7200[N2A]/48/90"}}
    reg.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    _refused(
        tmp_path,
        capsys,
        [*_argv(case), "--barriers", str(reg)],
        "barrier geometry",
        "LineString",
        "a GeoJSON Point or LineString",
    )


@pytest.mark.parametrize("where", ["road", "building"])
def test_a_coordinate_that_is_no_number_in_the_osm_file_is_one_clear_line(
    tmp_path, case, capsys, where
):
    # osmium raises InvalidLocationError (not a RuntimeError) for lat="nan...": it was a
    # traceback from the road read, or from the obstacles read for a building's node
    text = case["osm"].read_text()
    head, sep, rest = text.partition('lat="')
    assert sep
    if where == "building":
        # the last node of the file belongs to the enclosure's buildings, not to the road
        head, sep, rest = text.rpartition('lat="')
    bad = tmp_path / "bad.osm"
    bad.write_text(head + sep + "nan" + rest)
    _refused(tmp_path, capsys, _argv(case, osm=bad), "OSM file", "bad.osm", "readable")
