"""The web side of an off-road assessment, checked as an outside checker would: another
city's admin reaches none of a run's pages, downloads or actions (404, as for a run that
does not exist, never another city's data), and the French run page shows no raw code."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rempart.assess import services
from rempart.assess.models import Assessment, CityOsmData
from rempart.core.models import Organisation, Site

from .engine._netbuild import road, square, write_osm
from .engine.test_offroad import ENCLOSE, canyon
from .test_report_deliverable import RAW_CODES, visible

pytestmark = pytest.mark.django_db

#: every page and download of one run
RUN_URLS = (
    "run_detail",
    "run_speed_field",
    "run_report",
    "run_report_pdf",
    "run_json",
    "run_geojson",
)


@pytest.fixture
def run(city: Any, tmp_path: Any, settings: Any, make_user: Any) -> Assessment:
    """A finished run of Nice's square behind a T-junction, an untagged footway and a kerb:
    off-road stretches from rest, from the road and across the kerb, and data warnings."""
    settings.MAP_DIR = tmp_path
    osm = write_osm(
        tmp_path / "town.osm",
        [
            road([(-600.0, -12.0), (600.0, -12.0)], "secondary", name="Rue de la Paix"),
            road([(0.0, -600.0), (0.0, -12.0)]),
            ({"highway": "footway"}, [(30.0, -200.0), (30.0, -12.0)]),
            ({"barrier": "kerb"}, [(-50.0, -5.0), (50.0, -5.0)]),
            *canyon(6.0, -20.0),
            *ENCLOSE,
        ],
    )
    CityOsmData.objects.create(city=city, osm_path=str(osm))
    site = Site.objects.create(city=city, name="Place test", boundary=square(-50, 0, 50, 40))
    done = services.execute(services.request_run(site, make_user("editor")).pk)
    assert done.status == Assessment.Status.DONE, done.error
    return done


def test_another_citys_admin_reaches_nothing_of_the_run(
    client: Client, run: Assessment, make_user: Any, other_city: Any
) -> None:
    lyon = Organisation.objects.create(name="Ville de Lyon", kind="municipality", city=other_city)
    lyon.cities.add(other_city)
    client.force_login(make_user("admin", org=lyon, username="lyon-admin"))
    for name in RUN_URLS:
        assert client.get(reverse(f"assess:{name}", args=[run.pk])).status_code == 404, name
    # nor may they act on it: turn its plan into access points, or re-run its site
    points = client.post(reverse("assess:create_access_points", args=[run.pk]), {"zone": "A"})
    assert points.status_code == 404
    assert client.post(reverse("assess:run_site", args=[run.site.pk])).status_code == 404
    assert Assessment.objects.count() == 1


def test_the_french_run_page_shows_no_raw_code(
    client: Client, run: Assessment, make_user: Any
) -> None:
    client.force_login(make_user("viewer", modules=("core", "assess")))
    client.cookies["django_language"] = "fr"
    body = client.get(run.get_absolute_url()).content.decode()
    # the text a reader sees (the map's data is read by the script, its labels are in words)
    text = visible(re.sub(r"<script.*?</script>", "", body, flags=re.S))
    for code in (*RAW_CODES, "road", "open_ground", "off-road", "frontage", "crossing", "edge"):
        pattern = re.compile(rf"(?<![\w/-]){re.escape(code)}(?![\w/-])")
        assert not [t for t in text if pattern.search(t)], code
