"""Existing barriers' ratings in a register (issue 10, adversarial review): a rating whose
test mass, test speed, angle or penetration no standard lists is refused in one line naming the
field, the value and what was expected; the command line exits 2 and writes nothing.

What the standards list (docs/method.md sections 3-4): IWA 14-1 / ISO 22343-1 test masses M1
1,500, N1G 2,500, N1 3,500, N2A 7,200, N2B 6,800, N3C 7,200, N3D 12,000, N3E and N3F 30,000 kg;
PAS 68:2013 M1 1,500, N1G 2,500, N1 3,500, N2 and N3 7,500 kg; test speeds 16, 30, 32, 40, 48,
50, 64, 80, 96, 112 km/h; angles 1-90 degrees.
"""

from __future__ import annotations

import pytest

from rempart.assess.engine.ratings import (
    listed_test_masses_kg,
    parse_rating,
    register_rating_problem,
    required_rating,
)

from .test_issue10_acceptance import _argv, _refused, barrier_file, case

__all__ = ["case"]  # the fixture, imported for the tests below

ABSURD = [
    # (rating, field, value quoted in the line)
    ("V/99999999999999999999[N2A]/48/90", "test mass", "99999999999999999999"),
    ("V/0[N2A]/48/90", "test mass", "'0'"),
    ("V/-7200[N2A]/48/90", "test mass", "-7200"),
    ("V/7201[N2A]/48/90", "test mass", "7201"),  # 7,200 kg is the N2A test mass
    ("V/7200.5[N2A]/48/90", "test mass", "7200.5"),
    ("V/30000[N2A]/48/90", "test mass", "30000"),  # an N3E's mass under an N2A class
    ("V/nan[N2A]/48/90", "test mass", "nan"),
    ("V/7200[N2A]/99999999999999999999/90", "test speed", "99999999999999999999"),
    ("V/7200[N2A]/0/90", "test speed", "'0'"),
    ("V/7200[N2A]/-48/90", "test speed", "-48"),
    ("V/7200[N2A]/49/90", "test speed", "49"),
    ("V/7200[N2A]/inf/90", "test speed", "inf"),
    ("V/7200[N2A]/48/0", "angle", "'0'"),
    ("V/7200[N2A]/48/-90", "angle", "-90"),
    ("V/7200[N2A]/48/45.5", "angle", "45.5"),
    ("V/7200[N2A]/48/99999999999999999999", "angle", "99999999999999999999"),
    ("V/7200[N2A]/48/90:-1", "penetration", "-1"),
    ("V/7200[N2A]/48/90:1e20", "penetration", "1e20"),
    ("V/7200[N2A]/48/90:nan", "penetration", "nan"),
    ("V/7200[X9]/48/90", "class", "X9"),
]


@pytest.mark.parametrize(("rating", "field", "value"), ABSURD)
def test_an_absurd_rating_names_its_field(rating, field, value):
    problem = register_rating_problem(rating)
    assert problem is not None
    assert problem[0] == field
    assert value.strip("'") == problem[1]


@pytest.mark.parametrize(
    ("rating", "mass_kg", "speed_kmh", "angle_deg"),
    [
        ("V/7200[N2A]/48/90", 7200, 48, 90),
        ("V/6800[N2B]/64/90", 6800, 64, 90),
        ("V/12000[N3D]/48/90", 12000, 48, 90),
        ("V/30000[N3F]/80/90", 30000, 80, 90),
        ("V/1500[M1]/112/90", 1500, 112, 90),
        ("V/2500[N1G]/32/90", 2500, 32, 90),
        ("V/7500(N2)/64/90:1.5", 7500, 64, 90),  # PAS 68
        ("V/7500(N3)/48/45", 7500, 48, 45),
        ("V/7500[N3C]/96/90", 7500, 96, 90),  # a PAS 68 N3 rated in ISO notation (the engine's)
        ("V/7200[N2A]/30/90:0", 7200, 30, 90),
        ("v/7200[n2a]/80", 7200, 80, 90),
    ],
)
def test_every_rating_the_standards_list_is_accepted(rating, mass_kg, speed_kmh, angle_deg):
    assert register_rating_problem(rating) is None
    got = parse_rating(rating)
    assert got is not None
    assert (got.mass_kg, got.speed_kmh, got.angle_deg) == (mass_kg, speed_kmh, angle_deg)


def test_test_masses_of_every_class():
    assert listed_test_masses_kg("N2A") == (7200, 7500)
    assert listed_test_masses_kg("n2") == (7200, 7500)  # PAS 68 N2 is ISO's N2A kind
    assert listed_test_masses_kg("N3D") == (12000,)  # no PAS 68 vehicle that heavy
    assert listed_test_masses_kg("M1") == (1500,)
    assert listed_test_masses_kg("Z9") == ()


def test_the_engine_still_reads_its_own_ratings_of_any_vehicle_mass():
    # a vehicles file may give any mass up to 100 t: its required ratings carry it and the
    # plan reads them back (parse_rating); a register may not (test masses only)
    from ._netbuild import vehicle

    heavy = vehicle("H", mass=44000, test_class="N3F")
    text = required_rating(heavy, 60.0).iwa
    assert text == "V/44000[N3F]/64/90"
    assert parse_rating(text) is not None
    assert register_rating_problem(text) is not None
    assert parse_rating("V/99999999999999999999[N2A]/48/90") is None


@pytest.mark.parametrize(("rating", "field", "value"), ABSURD[:1] + ABSURD[7:8] + ABSURD[16:18])
def test_the_command_line_refuses_it_in_one_line(tmp_path, case, capsys, rating, field, value):
    reg = barrier_file(tmp_path, (-6.0, -20.0), (6.0, -20.0), rating)
    err = _refused(
        tmp_path,
        capsys,
        [*_argv(case), "--barriers", str(reg)],
        "barriers.geojson",
        "feature #1 rating",
        repr(rating),
        field,
        value,
    )
    assert "V/mass[class]/speed/angle" in err


@pytest.mark.parametrize(
    "rating",
    [
        "IWA 14-1:2013 V/7200[N2A]/48/90",  # the access app's barriers (its demo lanes)
        "IWA 14-1 V/7500[N2]/48/90",
        "ISO 22343-1:2023 V/7200[N2A]/48/90",
        "pas 68 V/7500(N2)/48/90",
    ],
)
def test_a_rating_written_after_its_standard_is_read(rating):
    # the exercises read the access app's barrier ratings with parse_rating: a rating after
    # its standard's name was no rating at all, so a rated barrier stopped nothing there
    got = parse_rating(rating)
    assert got is not None and got.speed_kmh == 48
    assert register_rating_problem(rating) is None
    assert register_rating_problem("IWA 14-1:2013 V/7201[N2A]/48/90") == (
        "test mass",
        "7201",
        "7,200 or 7,500 kg, the test mass of N2A",
    )
