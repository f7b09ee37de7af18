"""Demo data of access control: a pedestrian zone around Senaatintori and Esplanadi (Helsinki).

Four lanes with simulated bollards (``driver: {type: simulator}``: the daemon runs their physics
in-process, no separate simulator needed), permits in the spirit of Nice after 2016 (deliveries
up to 12 t from 05:00 to 10:30, then emergency vehicles only), residents, and a lockdown
scheduled for the coming New Year's Eve. Start ``rempart access run --with-simulated-traffic``
and the control room shows vehicles arriving. Idempotent: nothing is changed once the zone exists.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.db import transaction
from django.utils import timezone

from rempart.access import decide as engine
from rempart.access import services
from rempart.access.models import Zone, ZoneSchedule
from rempart.access.schedule import TimeWindow

ZONE_ID = "helsinki-centre"
LANES = (
    # id, name, lon, lat, direction, width m
    ("sen-unioninkatu-in", "Unioninkatu north (in)", 24.95196, 60.17032, "in", 6.0),
    ("sen-aleksanterinkatu-in", "Aleksanterinkatu east (in)", 24.95404, 60.16905, "in", 7.5),
    ("espa-mannerheimintie-in", "Esplanadi west (in)", 24.94445, 60.16758, "in", 6.5),
    ("sen-sofiankatu-out", "Sofiankatu (out)", 24.95262, 60.16863, "out", 4.0),
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat")
PERMITS = (
    # id, plate, holder, category, max mass kg, windows
    (
        "demo-delivery-1",
        "ABC-123",
        "Kauppatori Deli Oy",
        "delivery",
        12000,
        (WEEKDAYS, "05:00", "10:30"),
    ),
    (
        "demo-delivery-2",
        "XYZ-789",
        "Esplanadi Bakery",
        "delivery",
        7500,
        (WEEKDAYS, "05:00", "10:30"),
    ),
    ("demo-emergency-1", "HEL-112", "Helsinki City Rescue", "emergency", None, None),
    ("demo-emergency-2", "POL-110", "Helsinki Police", "emergency", None, None),
    ("demo-resident-1", "KLM-456", "Resident, Sofiankatu 4", "resident", 3500, None),
    ("demo-resident-2", "RST-321", "Resident, Aleksanterinkatu 12", "resident", 3500, None),
)


def load(city: Any, stdout: Any) -> None:
    if Zone.objects.filter(ident=ZONE_ID).exists():
        stdout.write("Access demo zone already present.\n")
        return
    tz = zoneinfo.ZoneInfo(city.timezone)
    site = city.sites.filter(name__startswith="Senaatintori").first()
    with transaction.atomic():
        zone = Zone.objects.create(
            city=city,
            site=site,
            ident=ZONE_ID,
            name="Senaatintori – Esplanadi",
            timezone=city.timezone,
            is_demo=True,
        )
        for ident, name, lon, lat, direction, width_m in LANES:
            lane = services.create_access_point(
                zone,
                ident,
                lon,
                lat,
                "IWA 14-1:2013 V/7200[N2A]/48/90",
                width_m,
                direction=direction,
                identification=("anpr", "intercom") if direction == "in" else ("anpr",),
                name=name,
            )
            lane.barriers.update(rise_time_s=4.0, lower_time_s=3.0)
        for ident, plate, holder, category, mass, window in PERMITS:
            permit = engine.Permit(
                id=ident,
                plate=plate,
                category=engine.PermitCategory(category),
                zones=frozenset({ZONE_ID}),
                holder=holder,
                windows=(TimeWindow.of(*window),) if window else (),
                max_mass_kg=mass,
            )
            services._save_permit(permit, city, [zone], is_demo=True)
        year = timezone.now().astimezone(tz).year
        ZoneSchedule.objects.create(
            zone=zone,
            mode="lockdown",
            start=dt.datetime(year, 12, 31, 20, 0, tzinfo=tz),
            end=dt.datetime(year + 1, 1, 1, 3, 0, tzinfo=tz),
            label="New Year's Eve on Senaatintori",
        )
    stdout.write(
        f"Access demo: zone {ZONE_ID} with {len(LANES)} lanes and {len(PERMITS)} permits; "
        "run `rempart access run --with-simulated-traffic` for live traffic.\n"
    )
