"""In a real browser (Debian chromium): the control room's map follows a barrier going down and
an alarm live, a click on a lane opens its actions; the control room and the logs fit a 390 px
phone (no horizontal scroll) and use a wall screen's width (issue 11 items 4 and 8)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from rempart.access import services
from rempart.access.models import Alarm, Barrier, BarrierStatus, Lane
from tests.access.test_models_fixtures import make_permits, make_zone
from tests.browser import artifact_path, browser_page, log_in  # noqa: F401  (fixture)
from tests.conftest import USER_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _zone_on_the_map(city: Any) -> Any:
    """The Nice test zone with its three lanes placed near Place Masséna (WGS84)."""
    zone = make_zone(city)
    make_permits(city, zone)
    for i, lane in enumerate(Lane.objects.filter(zone=zone).order_by("ident")):
        lane.lon, lane.lat = 7.2700 + i * 0.0005, 43.6970
        lane.save()
    return zone


def _report(barrier_ident: str, position: str) -> None:
    """The daemon's report of a barrier's position (as the device daemon writes it). The daemon
    reports every tick and a report older than 10 s reads as a lost link; here no daemon runs,
    so the report is stamped 10 minutes ahead to stay fresh however slow the machine is."""
    BarrierStatus.objects.update_or_create(
        barrier=Barrier.objects.get(ident=barrier_ident),
        defaults={
            "position": position,
            "link_ok": True,
            "reported_at": timezone.now() + dt.timedelta(minutes=10),
        },
    )


def _open(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next=/access/")
    log_in(page, username, USER_PASSWORD)
    page.wait_for_url(f"{live_server.url}/access/")
    expect(page.locator("#live-status")).to_have_text("live", timeout=10_000)


def test_the_map_shows_a_barrier_going_down_live(
    live_server: Any,
    browser_page: Any,  # noqa: F811
    city: Any,
    make_user: Any,
) -> None:
    _zone_on_the_map(city)
    for lane in ("old-town-in", "old-town-2f", "old-town-out"):
        _report(f"{lane}-b1", "up")
    make_user("operator", modules=("access",), username="watcher")
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _open(page, live_server, "watcher")
    marker = page.locator('#live-map path.lane-marker[data-lane="old-town-in"]')
    expect(marker).to_have_attribute("data-state", "up", timeout=10_000)
    expect(page.locator("#live-map path.lane-marker")).to_have_count(3)
    page.evaluate("window.__marker = 'same page'")

    # the daemon reports the barrier lowering, then down: the map follows without a reload
    _report("old-town-in-b1", "lowering")
    expect(marker).to_have_attribute("data-state", "moving", timeout=10_000)
    _report("old-town-in-b1", "down")
    expect(marker).to_have_attribute("data-state", "down", timeout=10_000)
    other = page.locator('#live-map path.lane-marker[data-lane="old-town-2f"]')
    expect(other).to_have_attribute("data-state", "up")
    # an alarm on the lane rings it; a link lost paints it as a fault
    lane = Lane.objects.get(ident="old-town-in")
    Alarm.objects.create(
        zone=lane.zone, lane=lane, kind=Alarm.Kind.FORCED_ENTRY, message="vehicle on the loop"
    )
    expect(page.locator('#live-map path.alarm-ring[data-lane="old-town-in"]')).to_have_count(
        1, timeout=10_000
    )
    BarrierStatus.objects.filter(barrier__ident="old-town-2f-b1").update(
        reported_at=timezone.now() - dt.timedelta(minutes=1)
    )
    expect(other).to_have_attribute("data-state", "fault", timeout=10_000)
    # an alarm of no lane (a zone's panic button): listed on the map
    zone_alarms = page.locator("#live-map .zone-alarms")
    expect(zone_alarms).to_be_hidden()
    Alarm.objects.create(zone=lane.zone, kind=Alarm.Kind.FAULT, message="zone-level fault")
    expect(zone_alarms).to_be_visible(timeout=10_000)
    expect(zone_alarms).to_contain_text("Alarms of no lane")
    expect(zone_alarms).to_contain_text("Fault · old-town")
    assert page.evaluate("window.__marker") == "same page"

    # a click on the lane: its popup names it and its state; its button opens the actions
    marker.click()
    popup = page.locator(".leaflet-popup .lane-popup")
    expect(popup).to_contain_text("old-town-in")
    expect(popup).to_contain_text("Lowered (open)")
    expect(popup).to_contain_text("Forced entry / tailgating")
    popup.get_by_role("button", name="Open the lane's actions").click()
    row = page.locator('tr[data-lane="old-town-in"]')
    expect(row.locator("details").first).to_have_attribute("open", "")
    expect(row.locator("input[name=reason]").first).to_be_focused()
    page.screenshot(path=str(artifact_path("access-live-map.png")), full_page=True)
    assert not errors, errors


def test_the_control_room_fits_a_phone_and_a_wall_screen(
    live_server: Any,
    browser_page: Any,  # noqa: F811
    city: Any,
    make_user: Any,
) -> None:
    zone = _zone_on_the_map(city)
    for lane in ("old-town-in", "old-town-2f", "old-town-out"):
        _report(f"{lane}-b1", "up")
    services.submit_request("old-town-in", plate="RE-456-ZZ", confidence=0.97)
    services.submit_request("old-town-2f", plate="EM-112-AA", confidence=0.4)  # a referral
    Alarm.objects.create(
        zone=zone,
        lane=Lane.objects.get(ident="old-town-out"),
        kind=Alarm.Kind.INTERLOCK,
        message="lane old-town-out: close requested over an occupied loop; a long message " * 3,
    )
    make_user("supervisor", modules=("access",), username="night-shift")
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    _open(page, live_server, "night-shift")
    expect(page.locator("#referral-list tr[data-referral]")).to_have_count(1)
    expect(page.locator("#referral-list tr.none")).to_be_hidden()  # stacked rows keep [hidden]
    for url in ("/access/", "/access/decisions/", "/access/alarms/"):
        if url != "/access/":
            page.goto(f"{live_server.url}{url}")
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 390, f"{url} is {width} px wide on a 390 px screen"
    page.goto(f"{live_server.url}/access/")
    expect(page.locator("#live-status")).to_have_text("live", timeout=10_000)
    # the lane's actions open and stay within the screen
    page.locator('tr[data-lane="old-town-in"] details summary').click()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    page.screenshot(path=str(artifact_path("access-control-room-390.png")), full_page=True)

    # a wall screen: the page takes the whole width, the map is tall
    page.set_viewport_size({"width": 2560, "height": 1440})
    page.reload()
    main_width = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
    assert main_width > 2400, main_width
    map_height = page.evaluate("document.getElementById('live-map').getBoundingClientRect().height")
    assert map_height >= 500, map_height
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 2560


def test_the_live_feed_speaks_french(
    live_server: Any,
    browser_page: Any,  # noqa: F811
    city: Any,
    make_user: Any,
) -> None:
    _zone_on_the_map(city)
    _report("old-town-in-b1", "up")
    make_user("viewer", modules=("access",), username="veilleur")
    page = browser_page
    _open(page, live_server, "veilleur")
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "fr", "url": live_server.url}]
    )
    page.reload()  # as after choosing FR in the language selector
    expect(page.locator("#live-status")).to_have_text("en direct", timeout=10_000)
    row = page.locator('tr[data-lane="old-town-in"]')
    expect(row.locator(".barrier")).to_have_text("Levée (bloque)")
    _report("old-town-in-b1", "lowering")
    expect(row.locator(".barrier")).to_have_text("En descente", timeout=10_000)
    services.submit_request("old-town-in", plate="ZZ-999-ZZ", confidence=0.97)
    expect(row.locator(".last-decision")).to_contain_text("Refusé", timeout=10_000)
    expect(row.locator(".last-decision")).to_contain_text("Pas d'autorisation")
    expect(row).to_contain_text("Entrée")
