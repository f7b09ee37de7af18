"""The control room's map without a browser: lanes as GeoJSON, barrier states, the base map for
access roles (issue 11 item 4)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone, translation

from rempart.access import live_map, services
from rempart.access.models import Barrier, BarrierStatus, Lane
from rempart.core.models import CityBasemap
from tests.access.test_models_fixtures import make_zone

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english() -> Any:
    """Words in English whatever the thread's last language (a French page test may run before)."""
    with translation.override("en"):
        yield


STREETS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[7.27, 43.69], [7.28, 43.70]]},
            "properties": {"highway": "primary"},
        }
    ],
}


def _status(barrier: str, **fields: Any) -> None:
    BarrierStatus.objects.update_or_create(
        barrier=Barrier.objects.get(ident=barrier),
        defaults={"link_ok": True, "reported_at": timezone.now(), **fields},
    )


def test_lanes_with_a_position_are_points_in_wgs84(city: Any) -> None:
    zone = make_zone(city)
    Lane.objects.filter(ident="old-town-in").update(lon=7.2705, lat=43.6972)
    features, unplaced = live_map.lane_features([zone])
    assert unplaced == 2
    (feature,) = features["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [7.2705, 43.6972]}  # lon, lat
    assert feature["properties"]["id"] == "old-town-in"
    assert feature["properties"]["direction_label"] == "Entry"
    assert feature["properties"]["zone_url"] == "/access/zones/old-town/"


def test_a_lane_takes_its_worst_barriers_state(city: Any) -> None:
    zone = make_zone(city)
    lane = Lane.objects.get(ident="old-town-in")
    Barrier.objects.create(lane=lane, ident="old-town-in-b2")
    _status("old-town-in-b1", position="up")
    _status("old-town-in-b2", position="down")
    _status("old-town-2f-b1", position="rising")
    _status("old-town-out-b1", position="up", faults=["hydraulic"])
    lanes = {row["id"]: row for row in live_map.worded_lanes(services.lane_states([zone]))}
    # one barrier down lets a vehicle through: the lane is down
    assert [b["state"] for b in lanes["old-town-in"]["barriers"]] == ["up", "down"]
    assert lanes["old-town-in"]["state"] == "down"
    assert lanes["old-town-2f"]["state"] == "moving"
    assert lanes["old-town-out"]["state"] == "fault"  # a fault, even raised
    assert lanes["old-town-out"]["barriers"][0]["fault_labels"] == ["Hydraulic or motor fault"]
    # a report older than 10 s is a lost link
    BarrierStatus.objects.filter(barrier__ident="old-town-2f-b1").update(
        reported_at=timezone.now() - dt.timedelta(seconds=11)
    )
    lanes = {row["id"]: row for row in live_map.worded_lanes(services.lane_states([zone]))}
    assert lanes["old-town-2f"]["state"] == "fault"


def test_access_viewers_get_the_citys_streets(client: Any, make_user: Any, city: Any) -> None:
    client.force_login(make_user("viewer", modules=("access",)))
    response = client.get("/access/basemap.geojson")
    assert response.status_code == 200
    assert json.loads(response.content) == {"type": "FeatureCollection", "features": []}
    CityBasemap.objects.create(city=city, geojson=json.dumps(STREETS))
    response = client.get("/access/basemap.geojson")
    assert json.loads(response.content) == STREETS
    assert response["Content-Type"] == "application/geo+json"
    page = client.get("/access/").content.decode()
    assert 'data-basemap="/access/basemap.geojson"' in page


def test_the_page_counts_lanes_missing_from_the_map(client: Any, make_user: Any, city: Any) -> None:
    make_zone(city)
    client.force_login(make_user("viewer", modules=("access",)))
    page = client.get("/access/").content.decode()
    assert "3 lanes have no position" in page
    Lane.objects.exclude(ident="old-town-in").update(lon=7.27, lat=43.69)
    page = client.get("/access/").content.decode()
    assert "1 lane has no position" in page
    page = client.get("/access/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "1 voie n&#x27;a pas de position" in page or "1 voie n'a pas de position" in page
    Lane.objects.update(lon=7.27, lat=43.69)
    assert "no position" not in client.get("/access/").content.decode()
