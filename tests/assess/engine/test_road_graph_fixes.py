"""Road-graph fixes of issue 10 item 7: PAS 68 class names in a vehicles file and every
standard impact test speed.

Expected values come from the standards, not from the code: PAS 68:2013 tests N2 and N3
vehicles at 7,500 kg; ISO 22343-1:2023, IWA 14-1:2013 and PAS 68:2013 list the 16 km/h (10 mph)
series 16/32/48/64/80/96/112 km/h, and IWA 14-1 / ISO 22343-1 the round 30/40/50 km/h speeds.
The arc-end acceleration tests are in tests/assess/engine/test_bend_at_apex.py. PAS 170 (low
speed) is not used anywhere in rempart, so it has no list here.
"""

from __future__ import annotations

import pytest

from rempart.assess.engine.errors import VehicleFileError
from rempart.assess.engine.ratings import TEST_SPEEDS_KMH, required_rating
from rempart.assess.engine.vehicles import load_vehicles

#: the 10 mph series (10 to 70 mph) as the standards print it in km/h
MPH_SERIES_KMH = (16, 32, 48, 64, 80, 96, 112)
ROUND_SERIES_KMH = (30, 40, 50)


def _vehicle_toml(test_class: str, mass_kg: float) -> str:
    return (
        "[[vehicle]]\n"
        f'name = "pas68-{test_class}"\n'
        f'test_class = "{test_class}"\n'
        f"mass_kg = {mass_kg}\n"
        "top_speed_kmh = 90\n"
        "lateral_accel_ms2 = 4.0\n"
        "width_m = 2.5\n"
        "acceleration = [[0, 1.2], [50, 0.6], [90, 0.2]]\n"
    )


@pytest.mark.parametrize(
    ("pas68", "iso", "mass_kg"),
    [("N3", "N3C", 7500.0), ("N2", "N2A", 7500.0), ("N1", "N1", 3500.0), ("M1", "M1", 1500.0)],
)
def test_a_pas68_class_is_accepted_with_its_own_mass(tmp_path, pas68, iso, mass_kg):
    path = tmp_path / "vehicles.toml"
    path.write_text(_vehicle_toml(pas68, mass_kg))
    (vehicle,) = load_vehicles(path)
    assert vehicle.test_class == iso
    # the file's mass is kept: PAS 68 tests N2/N3 at 7,500 kg, not ISO's 7,200 kg
    assert vehicle.mass_kg == mass_kg
    rating = required_rating(vehicle, 47.0)
    assert rating.speed_kmh == 48
    assert rating.mass_kg == round(mass_kg)


def test_a_lower_case_pas68_class_is_accepted(tmp_path):
    path = tmp_path / "vehicles.toml"
    path.write_text(_vehicle_toml("n3", 7500))
    (vehicle,) = load_vehicles(path)
    assert vehicle.test_class == "N3C"


def test_an_unknown_class_is_refused_naming_it(tmp_path):
    path = tmp_path / "vehicles.toml"
    path.write_text(_vehicle_toml("N4", 7500))
    with pytest.raises(VehicleFileError) as err:
        load_vehicles(path)
    message = str(err.value)
    assert "N4" in message
    assert "PAS 68" in message


def test_every_standard_test_speed_is_listed():
    # each printed value is within 1 km/h of its mph speed (60 mph = 96.6, 70 mph = 112.7)
    for mph, kmh in zip((10, 20, 30, 40, 50, 60, 70), MPH_SERIES_KMH, strict=True):
        assert abs(mph * 1.609344 - kmh) < 1.0
    for speed_kmh in (*MPH_SERIES_KMH, *ROUND_SERIES_KMH):
        assert speed_kmh in TEST_SPEEDS_KMH, f"{speed_kmh} km/h missing"
    assert list(TEST_SPEEDS_KMH) == sorted(set(TEST_SPEEDS_KMH))


@pytest.mark.parametrize("speed_kmh", [16, 30, 32, 40, 48, 50, 64, 80, 96, 112])
def test_each_standard_speed_is_its_own_requirement(tmp_path, speed_kmh):
    path = tmp_path / "vehicles.toml"
    path.write_text(_vehicle_toml("N3", 7500))
    (vehicle,) = load_vehicles(path)
    # exactly at a test speed: that test; just above it: the next one (or none above 112)
    assert required_rating(vehicle, float(speed_kmh)).speed_kmh == speed_kmh
    above = required_rating(vehicle, speed_kmh + 0.5).speed_kmh
    following = sorted(s for s in (*MPH_SERIES_KMH, *ROUND_SERIES_KMH) if s > speed_kmh)
    assert above == (following[0] if following else None)


#: each standard's nominal impact test speeds (km/h) as its speed table prints them; the 10 mph
#: series from domain.md s. 2 (all three), the round 30/40/50 km/h from IWA 14-1 / ISO 22343-1
#: as issue 10 lists them (docs/method.md "Required rating" flags them as not checked against a
#: public copy: the standards are paywalled)
STANDARD_TEST_SPEEDS_KMH = {
    "ISO 22343-1:2023": (16, 30, 32, 40, 48, 50, 64, 80, 96, 112),
    "IWA 14-1:2013": (16, 30, 32, 40, 48, 50, 64, 80, 96, 112),
    "PAS 68:2013": (16, 32, 48, 64, 80, 96, 112),
}


@pytest.mark.parametrize("standard", sorted(STANDARD_TEST_SPEEDS_KMH))
def test_every_speed_of_each_standard_is_a_test_speed(standard):
    missing = set(STANDARD_TEST_SPEEDS_KMH[standard]) - set(TEST_SPEEDS_KMH)
    assert not missing, f"{standard} test speeds missing: {sorted(missing)}"


def test_no_test_speed_is_invented():
    # every listed speed comes from at least one standard's table
    listed = {s for speeds in STANDARD_TEST_SPEEDS_KMH.values() for s in speeds}
    assert set(TEST_SPEEDS_KMH) == listed


def _corner_speed_kmh(extra_tags: dict[str, str], width: str = "6") -> float:
    """Speed (km/h) of a 90 km/h truck (a_lat 4 m/s2) at the apex of a single-vertex 60-degree
    corner after a 600 m straight, the street drawn as one way with ``extra_tags``."""
    import math

    import numpy as np

    from rempart.assess.engine.field import vehicle_field

    from ._netbuild import network, road, vehicle

    theta = math.radians(60.0)
    far = (300 * math.cos(theta), 300 * math.sin(theta))
    net = network([road([(-600.0, 0.0), (0.0, 0.0), far], "secondary", width=width, **extra_tags)])
    truck = vehicle("truck", top_kmh=90.0, lat=4.0, width=2.5)
    vf = vehicle_field(net, truck)
    (link,) = range(net.n_links)
    apex = float(net.pt_s[net.link_offsets[link] + 1])
    return float(vf.speed_at_ms(np.array([2 * link]), np.array([apex]))[0]) * 3.6


def _expected_kmh(usable_m: float) -> float:
    # widest line R = w_eff / (1 - cos(theta/2)), cap = sqrt(a_lat R) (domain.md s. 2)
    import math

    return math.sqrt(4.0 * usable_m / (1 - math.cos(math.radians(30.0)))) * 3.6


@pytest.mark.parametrize(
    ("tags", "usable_m"),
    [
        ({}, 6.0),  # no pavement mapped: the carriageway only
        ({"sidewalk": "both", "sidewalk:both:width": "1.5"}, 9.0),
        ({"sidewalk": "left", "sidewalk:left:width": "2.5"}, 8.5),
        ({"sidewalk:right": "yes", "sidewalk:right:width": "1 m"}, 7.0),
        ({"sidewalk": "both"}, 10.0),  # mapped without a width: 2.0 m each side (assumption)
        ({"sidewalk": "both", "sidewalk:width": "8"}, 12.0),  # capped at 3.0 m per side
        ({"sidewalk": "separate", "sidewalk:both:width": "2"}, 6.0),  # its own way: not beside
        ({"sidewalk": "no"}, 6.0),
    ],
)
def test_the_widest_line_uses_the_drivable_pavement(tags, usable_m):
    assert _corner_speed_kmh(tags) == pytest.approx(_expected_kmh(usable_m), abs=0.05)


def test_the_pavement_does_not_make_a_narrow_street_passable():
    # a 2 m lane with wide pavements: the 2.5 m truck still does not fit the carriageway
    from rempart.assess.engine.field import vehicle_field

    from ._netbuild import network, road, vehicle

    net = network([road([(0.0, 0.0), (100.0, 0.0)], "service", width="2", sidewalk="both")])
    vf = vehicle_field(net, vehicle("truck", width=2.5))
    assert not vf.link_ok.any()
