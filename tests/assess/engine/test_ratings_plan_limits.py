"""Test speeds of the standards, PAS 68 class names in a vehicles file, and plans that never
price a position no tested barrier covers (issue 10, items 6 and 7)."""

from __future__ import annotations

import pytest

from rempart.assess.engine import assess
from rempart.assess.engine.errors import VehicleFileError
from rempart.assess.engine.plan import default_costs
from rempart.assess.engine.ratings import EXCEEDS_ADVICE, Rating, required_rating
from rempart.assess.engine.vehicles import builtin_vehicles, load_vehicles

from ._netbuild import road, square, write_osm

PAS68_FILE = """[[vehicle]]
name = "lorry"
test_class = "{cls}"
mass_kg = 7500
top_speed_kmh = 90
lateral_accel_ms2 = 3.5
width_m = 2.5
acceleration = [[0, 1.6], [50, 1.0], [90, 0.3]]
"""


@pytest.mark.parametrize(
    "speed_kmh, test_kmh",
    # the lowest nominal test speed at or above the speed, over 16, 30, 32, 40, 48, 50, 64,
    # 80, 96, 112 km/h
    [(10, 16), (16, 16), (29.5, 30), (31, 32), (35, 40), (41, 48), (49, 50), (50.5, 64), (97, 112)],
)
def test_required_rating_uses_every_listed_test_speed(speed_kmh, test_kmh):
    n2a = builtin_vehicles()[3]
    assert required_rating(n2a, speed_kmh).iwa == f"V/7200[N2A]/{test_kmh}/90"


def test_above_112_kmh_exceeds_tested_speeds():
    m1 = builtin_vehicles()[0]
    assert required_rating(m1, 112.5).speed_kmh is None


@pytest.mark.parametrize(
    "pas68, iso, pas_notation",
    [("N3", "N3C", "V/7500(N3)/48/90"), ("N2", "N2A", "V/7500(N2)/48/90"), ("n1", "N1", None)],
)
def test_pas68_class_names_are_accepted(tmp_path, pas68, iso, pas_notation):
    path = tmp_path / "v.toml"
    path.write_text(PAS68_FILE.format(cls=pas68))
    (v,) = load_vehicles(path)
    assert v.test_class == iso
    if pas_notation:
        assert required_rating(v, 45).pas68 == pas_notation


def test_unknown_class_is_one_clear_line(tmp_path):
    path = tmp_path / "v.toml"
    path.write_text(PAS68_FILE.format(cls="N9"))
    with pytest.raises(VehicleFileError) as info:
        load_vehicles(path)
    text = str(info.value)
    assert "'N9'" in text and "PAS 68:2013" in text and "\n" not in text


def test_a_30_kmh_rating_is_priced_as_the_next_priced_speed():
    costs = default_costs()
    r30 = Rating("N2A", 7200, 30)
    r32 = Rating("N2A", 7200, 32)
    assert costs.price(costs.fixed_bollard_eur, r30) == costs.price(costs.fixed_bollard_eur, r32)


def test_plan_does_not_price_positions_above_tested_speeds(tmp_path):
    # a car on a 1.5 km straight reaches its top speed (180 km/h) long before the site:
    # no tested barrier covers the crossing, so the plan says so and does not price it; the
    # frontage beside it (a swerve, far below 112 km/h) is still priced
    osm = write_osm(tmp_path / "straight.osm", [road([(-1500.0, 0.0), (0.0, 0.0), (60.0, 0.0)])])
    car = builtin_vehicles()[0]
    (res,) = assess(osm, [("square", square(10, -30, 70, 30))], vehicles=[car])
    plan = res.to_dict()["plan"]
    over = [p for p in plan["positions"] if p["rating"].endswith("exceeds tested speeds")]
    within = [p for p in plan["positions"] if p not in over]
    assert len(over) == 1 and over[0]["speed_kmh"] == pytest.approx(180.0)
    assert over[0]["costed"] is False and over[0]["cost_eur"] == 0
    assert over[0]["advice"] == EXCEEDS_ADVICE
    assert all(p["costed"] and p["cost_eur"] > 0 for p in within)
    assert plan["total_cost_eur"] == sum(p["cost_eur"] for p in within)
    assert plan["not_costed"] == 1


def test_plan_prices_positions_within_tested_speeds(tmp_path):
    # 40 m from rest: a 7.2 t truck reaches well under 112 km/h; its position is priced
    osm = write_osm(tmp_path / "short.osm", [road([(-40.0, 0.0), (0.0, 0.0), (60.0, 0.0)])])
    n2a = builtin_vehicles()[3]
    (res,) = assess(osm, [("square", square(10, -30, 70, 30))], vehicles=[n2a])
    plan = res.to_dict()["plan"]
    assert plan["positions"] and all(p["costed"] for p in plan["positions"])
    assert plan["total_cost_eur"] == sum(p["cost_eur"] for p in plan["positions"]) > 0
    assert plan["not_costed"] == 0
