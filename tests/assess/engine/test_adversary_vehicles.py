"""Vehicles files with a number too small for any vehicle (issue 10, adversarial review): each
rated too low without a word (a top speed of 1e-6 km/h rated every approach /16/, a mass of
0.001 kg gave V/0[N2A]/96/90); now refused in one line naming the vehicle, the field, the
value and the bound (docs/method.md section 3, vehicles.MIN_FIELD)."""

from __future__ import annotations

import pytest

from .test_issue10_acceptance import _argv, _refused, case

__all__ = ["case"]  # the fixture, imported for the tests below


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        ("top_speed_kmh = 90", "top_speed_kmh = 1e-6", ("'top_speed_kmh'", "1e-06", "at least 10")),
        ("width_m = 2.5", "width_m = 1e-9", ("'width_m'", "1e-09", "at least 0.5 m")),
        ("mass_kg = 7200", "mass_kg = 0.001", ("'mass_kg'", "0.001", "at least 100 kg")),
        (
            "lateral_accel_ms2 = ",
            "lateral_accel_ms2 = 0.04 #",
            ("'lateral_accel_ms2'", "0.04", "at least 1 m/s2"),
        ),
    ],
)
def test_a_number_too_small_for_any_vehicle_is_one_clear_line(
    tmp_path, case, capsys, old, new, expect
):
    text = case["vehicles"].read_text()
    assert old in text
    odd = tmp_path / "odd.toml"
    odd.write_text(text.replace(old, new))
    _refused(tmp_path, capsys, _argv(case, vehicles=odd), "odd.toml", "'N2A-7t'", *expect)


def test_the_smallest_numbers_allowed_are_read(tmp_path, case, capsys):
    from rempart.assess.engine.vehicles import MIN_FIELD, load_vehicles

    text = case["vehicles"].read_text()
    for old, field in (
        ("top_speed_kmh = 90", "top_speed_kmh"),
        ("width_m = 2.5", "width_m"),
        ("mass_kg = 7200", "mass_kg"),
    ):
        text = text.replace(old, f"{field} = {MIN_FIELD[field][0]}")
    low = tmp_path / "low.toml"
    low.write_text(text)
    (v,) = load_vehicles(low)
    assert (v.top_speed_kmh, v.width_m, v.mass_kg) == (10.0, 0.5, 100.0)
