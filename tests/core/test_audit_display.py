"""The audit page in words: one time zone in the time column, named in its heading; changes as
"field: before → after" lines with the fields' labels (never a Python dict); English and French."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rempart.core import audit
from rempart.core.audit_models import AuditEntry
from rempart.core.models import City, Site
from tests.conftest import SQUARE

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    """The page as read: tags removed, whitespace folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


@pytest.fixture
def helsinki(organisation: Any) -> City:
    city = City.objects.create(
        name="Helsinki", slug="helsinki", country="FI", timezone="Europe/Helsinki"
    )
    organisation.cities.add(city)
    return city


@pytest.fixture
def edited_site(helsinki: City) -> Site:
    with audit.acting_as(audit.Actor("editor")):
        site = Site.objects.create(
            city=helsinki, name="Senaatintori", kind="square", boundary=SQUARE
        )
        site.peak_crowd = 20000
        site.kind = "market"
        site.save()
    return site


def _page(make_user: Any, city: City, language: str = "en") -> str:
    client = Client()
    client.force_login(make_user("admin", modules=("core",), username="auditor"))
    client.cookies["django_language"] = language
    response = client.get(reverse("core:audit_list"), {"city": city.slug})
    assert response.status_code == 200
    return response.content.decode()


def test_changes_read_as_labelled_before_and_after_lines(
    edited_site: Site, make_user: Any, helsinki: City
) -> None:
    html = _page(make_user, helsinki)
    text = _text(html)
    assert "Peak crowd: 0 → 20000" in text
    assert "Kind: Square → Market" in text
    assert "Name: Senaatintori" in text
    assert "{&#x27;" not in html and "{'" not in html  # no Python dict
    assert "&quot;changed&quot;" not in html and '"changed"' not in html


def test_changes_read_in_french(edited_site: Site, make_user: Any, helsinki: City) -> None:
    text = _text(_page(make_user, helsinki, "fr"))
    assert "Foule de pointe : 0 → 20000" in text or "Foule de pointe: 0 → 20000" in text
    assert "modifié" in text
    assert "Heure (Europe/Helsinki)" in text


def test_one_time_zone_in_the_time_column_named_in_its_heading(
    edited_site: Site, make_user: Any, helsinki: City
) -> None:
    html = _page(make_user, helsinki)
    entry = AuditEntry.objects.filter(object_type="core.site").order_by("seq").last()
    assert entry is not None
    local = entry.at_utc.astimezone(zoneinfo.ZoneInfo("Europe/Helsinki"))
    assert "Time (Europe/Helsinki)" in _text(html)
    assert local.strftime("%Y-%m-%d %H:%M:%S") in html
    assert "UTC" not in _text(html).split("Time (Europe/Helsinki)")[1].split("</thead>")[0]
    assert entry.at_local not in html  # the stored string, with its own zone, is not shown
    assert local.utcoffset() != dt.timedelta(0)  # so a UTC time would have been told apart


def test_details_and_relations_read_as_lines(make_user: Any, helsinki: City) -> None:
    viewer = make_user("viewer", modules=("core",), username="someone")
    with audit.acting_as(audit.Actor("tester")):
        audit.record(
            "permission_denied",
            object_type="page",
            object_repr="/sites/9/",
            detail={"reason": "requires the core:editor role", "method": "POST"},
            city=helsinki,
        )
    text = _text(_page(make_user, helsinki))
    assert "refused" in text
    assert "Reason: requires the core:editor role" in text
    assert "Method: POST" in text
    groups = AuditEntry.objects.filter(object_id=str(viewer.pk), detail__operation="add")
    assert groups.exists()
    assert "Groups added:" in text or "groups added:" in text.lower()
