"""Issue 9, "Imports that don't block" and "Limits on all input": the items the other import
tests did not pin down.

* Validation outside the write transaction: every permit row and every site is checked while
  no transaction is open on the importer's connection, and another connection can write
  meanwhile (on SQLite a held write lock would make that write wait, then fail).
* Features per file: a GeoJSON file with more sites than ``REMPART_MAX_FEATURES`` is one
  sentence naming the count and the limit, in the user's language, and nothing is written.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from rempart.access import services
from rempart.core import sites_io
from rempart.core.models import AuditEntry, City, Site
from tests.access.test_models_fixtures import make_zone
from tests.access.test_permit_import import permits_csv, sites_geojson
from tests.core.test_import_staging import on_another_connection


def _write_elsewhere(slug: str) -> bool:
    """Create a city from another connection (another thread); True once it is committed."""

    def write() -> bool:
        try:
            City.objects.create(name=slug, slug=slug, country="FR", timezone="Europe/Paris")
        except Exception:  # noqa: BLE001 - "database is locked" is the failure looked for
            return False
        return True

    return on_another_connection(write)


@pytest.mark.django_db(transaction=True)
def test_permit_rows_are_checked_outside_any_transaction(
    city: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_zone(city)
    seen: list[tuple[bool, bool]] = []
    real = services.check_permit_fields

    def watched(*args: Any, **kwargs: Any) -> Any:
        if len(seen) < 2:  # the first row and the second: no transaction, others may write
            seen.append((connection.in_atomic_block, _write_elsewhere(f"elsewhere-{len(seen)}")))
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "check_permit_fields", watched)
    result = services.import_permits_csv(permits_csv(30).encode(), city)
    assert (result.errors, result.created, result.updated) == ([], 30, 0)
    assert seen == [(False, True), (False, True)]
    assert City.objects.filter(slug__startswith="elsewhere-").count() == 2


@pytest.mark.django_db(transaction=True)
def test_sites_are_checked_outside_any_transaction(
    city: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[bool, bool]] = []
    real = sites_io.parse_feature_collection

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append((connection.in_atomic_block, _write_elsewhere("elsewhere-before")))
        parsed = real(*args, **kwargs)
        seen.append((connection.in_atomic_block, _write_elsewhere("elsewhere-after")))
        return parsed

    monkeypatch.setattr(sites_io, "parse_feature_collection", watched)
    assert len(sites_io.import_sites(city, sites_geojson(25))) == 25
    assert seen == [(False, True), (False, True)]
    assert Site.objects.filter(city=city).count() == 25


@pytest.mark.django_db
def test_more_features_than_the_limit_is_one_sentence_and_writes_nothing(
    city: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMPART_MAX_FEATURES", "5")
    audits = AuditEntry.objects.count()
    with pytest.raises(sites_io.SiteImportError) as caught:
        sites_io.import_sites(city, sites_geojson(6), what="sites.geojson")
    assert caught.value.errors == [
        "sites.geojson has 6 features: expected at most 5 (REMPART_MAX_FEATURES)"
    ]
    assert not Site.objects.exists()
    assert AuditEntry.objects.count() == audits
    assert len(sites_io.import_sites(city, sites_geojson(5))) == 5  # the limit itself is fine


@pytest.mark.django_db
def test_an_upload_with_too_many_features_is_400_in_french(
    client: Client, city: Any, make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMPART_MAX_FEATURES", "3")
    client.force_login(make_user("editor"))
    upload = SimpleUploadedFile("sites.geojson", json.dumps(sites_geojson(4)).encode())
    response = client.post(
        reverse("core:site_import"),
        {"city": city.pk, "file": upload},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 400
    assert "compte 4 éléments : au plus 3 attendus (REMPART_MAX_FEATURES)" in (
        response.content.decode()
    )
    assert not Site.objects.exists()
