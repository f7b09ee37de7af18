"""The run page shows the edge as numbered stretches (issue 10 items 3 and 6): number, street,
source in words, length, per-vehicle impact speed and angle, required rating; the map labels
each stretch with its number and colours it by impact speed; a heat map per vehicle."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from rempart.assess import services
from rempart.assess.models import Assessment, CityOsmData
from rempart.core.models import Site

from .engine._netbuild import road, square, write_osm

pytestmark = pytest.mark.django_db


def street_run(city: Any, tmp_path: Any, settings: Any, make_user: Any) -> Assessment:
    """A finished run of a 360 m secondary street ("Rue de France") ending in a square site."""
    settings.MAP_DIR = tmp_path
    osm = write_osm(
        tmp_path / "town.osm",
        [road([(-300.0, 0.0), (0.0, 0.0), (60.0, 0.0)], "secondary", name="Rue de France")],
    )
    CityOsmData.objects.create(city=city, osm_path=str(osm))
    site = Site.objects.create(city=city, name="Place test", boundary=square(10, -30, 70, 30))
    done = services.execute(services.request_run(site, make_user("editor")).pk)
    assert done.status == Assessment.Status.DONE, done.error
    return done


@pytest.fixture
def run(city: Any, tmp_path: Any, settings: Any, make_user: Any) -> Assessment:
    return street_run(city, tmp_path, settings, make_user)


def test_run_page_lists_numbered_stretches_with_sources_in_words(
    client: Client, run: Assessment, make_user: Any
) -> None:
    client.force_login(make_user("viewer", modules=("core", "assess")))
    body = client.get(run.get_absolute_url()).content.decode()
    entries = run.result["entries"]
    assert entries and all(e["entry_type"] == "edge_stretch" for e in entries)
    # one row per stretch, headed by its number
    for e in entries:
        assert f'<tr class="entry-start"><td>{e["number"]}</td>' in body
    # the source in words (the avenue is a road crossing), never a raw kind code
    assert "road crossing" in body
    assert "<td>crossing</td>" not in body and "<td>edge</td>" not in body
    # the map: every stretch a line coloured by impact speed, every entry point numbered
    data = json.loads(re.search(r'id="run-data"[^>]*>(.*?)</script>', body, re.S).group(1))
    kinds = [f["properties"].get("kind") for f in data["features"]]
    assert kinds.count("stretch") == len(entries)
    numbers = [
        f["properties"]["number"]
        for f in data["features"]
        if f["properties"].get("kind") == "entry"
    ]
    assert numbers == [e["number"] for e in entries]
    # one heat map per vehicle
    for name in run.result["vehicles"]:
        assert f'aria-label="Speeds of {name}"' in body


def test_run_page_heat_maps_in_french(client: Client, run: Assessment, make_user: Any) -> None:
    client.force_login(make_user("viewer", modules=("core", "assess")))
    client.cookies["django_language"] = "fr"
    body = client.get(run.get_absolute_url()).content.decode()
    name = run.result["vehicles"][0]
    assert f'aria-label="Vitesses de {name}"' in body
