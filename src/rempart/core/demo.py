"""Load the Helsinki demo city: organisations, one user per role, real sites, a street base map.

Idempotent: objects are looked up by their natural keys and left as they are when present, so
running it again duplicates nothing and resets no password. Every object is marked as demo.
Modules add their own demo data through ``rempart.<module>.demo.load(city, stdout)``.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import zoneinfo
from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.db import transaction

from rempart.core import audit
from rempart.core.models import City, CityBasemap, Organisation, Profile, Site, SiteEvent
from rempart.core.plugins import plugins
from rempart.core.roles import MODULES, ROLES, grant
from rempart.demo.helsinki import OSM_ATTRIBUTION, demo_sites, street_basemap


class Writer(Protocol):
    """Where progress lines go (a management command's stdout, sys.stdout, a StringIO)."""

    def write(self, text: str) -> Any: ...


DEMO_CITY = {
    "slug": "helsinki-demo",
    "name": "Helsinki",
    "country": "FI",
    "timezone": "Europe/Helsinki",
}
DEMO_ORGANISATIONS = (
    ("City of Helsinki (demo)", Organisation.Kind.MUNICIPALITY),
    ("Helsinki Police Department (demo)", Organisation.Kind.NATIONAL_POLICE),
    ("Helsinki City Rescue Department (demo)", Organisation.Kind.FIRE_RESCUE),
)


def load(stdout: Writer) -> City:
    """Create what is missing of the demo city; print the demo password the first time."""
    with transaction.atomic():
        city, created = City.objects.get_or_create(
            slug=DEMO_CITY["slug"],
            defaults={
                "name": DEMO_CITY["name"],
                "country": DEMO_CITY["country"],
                "timezone": DEMO_CITY["timezone"],
                "is_demo": True,
            },
        )
        organisations = []
        for name, kind in DEMO_ORGANISATIONS:
            organisation, _ = Organisation.objects.get_or_create(
                name=name, defaults={"kind": kind, "city": city, "is_demo": True}
            )
            if not organisation.cities.filter(pk=city.pk).exists():
                organisation.cities.add(city)
            organisations.append(organisation)
        _load_users(organisations[0], stdout)
        _load_sites(city)
        _load_basemap(city)
    for _label, module in plugins("demo"):
        module.load(city, stdout)
    stdout.write(f"Demo city {city.name} ready ({'created' if created else 'already present'}).\n")
    return city


def _load_users(organisation: Organisation, stdout: Writer) -> None:
    user_model = get_user_model()
    missing = [
        role for role in ROLES if not user_model.objects.filter(username=f"demo-{role}").exists()
    ]
    if not missing:
        return
    password = secrets.token_urlsafe(12)
    for role in missing:
        user = user_model.objects.create_user(username=f"demo-{role}", password=password)
        Profile.objects.create(user=user, organisation=organisation, is_demo=True)
        for module in MODULES:
            grant(user, module, role)
    stdout.write(
        "Demo accounts (one per role, all modules): "
        + ", ".join(f"demo-{role}" for role in missing)
        + f"\n  password for these demo accounts: {password}\n"
    )


def _load_sites(city: City) -> None:
    zone = zoneinfo.ZoneInfo(city.timezone)
    for demo in demo_sites():
        if Site.objects.filter(city=city, name=demo.name).exists():
            continue
        site = Site.objects.create(
            city=city,
            name=demo.name,
            kind=demo.kind,
            boundary=demo.geometry,
            typical_crowd=demo.typical_crowd,
            peak_crowd=demo.peak_crowd,
            description=f"{demo.description} (Demo data: crowd figures are illustrative.)",
            osm_ref=demo.osm_ref,
            is_demo=True,
        )
        if demo.kind in ("square", "promenade"):
            SiteEvent.objects.create(
                site=site,
                name="New Year's Eve celebration (demo)",
                starts_at=dt.datetime(2026, 12, 31, 20, 0, tzinfo=zone),
                ends_at=dt.datetime(2027, 1, 1, 1, 0, tzinfo=zone),
                expected_crowd=demo.peak_crowd,
            )


def _load_basemap(city: City) -> None:
    if CityBasemap.objects.filter(city=city).exists():
        return
    layer: dict[str, Any] = street_basemap(demo_sites())
    CityBasemap.objects.create(
        city=city, geojson=json.dumps(layer, separators=(",", ":")), attribution=OSM_ATTRIBUTION
    )
    audit.record(
        "import",
        object_type="core.citybasemap",
        object_repr=f"base map of {city}",
        city=city,
        detail={"features": len(layer["features"]), "source": OSM_ATTRIBUTION},
    )
