"""Permit CSV imports (issue 9): hostile files give one sentence and write nothing; big files are
written in short batches, all or nothing; camera reads are answered during permit and site
imports."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse

from rempart.access import services
from rempart.access.management.commands.access import Command
from rempart.access.models import Permit
from rempart.core.models import Site
from rempart.core.sites_io import import_sites
from tests.access.test_models_fixtures import camera_read, make_zone, token_for

HEADER = "id,plate,holder,category,zones\n"


def permits_csv(count: int, *, holder: str = "Livreur", zones: str = "old-town") -> str:
    """``count`` delivery permits with distinct ids and plates (AA-000-AA, AA-001-AA, ...)."""
    lines = [
        f"p{i},{chr(65 + i // 26000 % 26)}{chr(65 + i // 1000 % 26)}-{i % 1000:03d}-AA,"
        f"{holder} {i},delivery,{zones}"
        for i in range(count)
    ]
    return HEADER + "\n".join(lines) + "\n"


def sites_geojson(count: int) -> dict[str, Any]:
    """``count`` small square sites (about 110 m x 90 m) on a grid near Nice (WGS84)."""
    features = []
    for i in range(count):
        x, y = 7.20 + (i % 50) * 0.002, 43.65 + (i // 50) * 0.002
        ring = [[x, y], [x + 0.0014, y], [x + 0.0014, y + 0.0008], [x, y + 0.0008], [x, y]]
        features.append(
            {
                "type": "Feature",
                "properties": {"name": f"Site {i}"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def run(*args: str) -> int:
    try:
        Command().run_from_argv(["rempart", "access", *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.django_db
def test_latin1_file_on_the_command_line_is_a_sentence(
    tmp_path: Path, city: Any, capsys: Any
) -> None:
    make_zone(city)
    path = tmp_path / "permits.csv"
    path.write_bytes(
        (HEADER + "p1,AB-123-CD,Boulangerie Hélène,delivery,old-town\n").encode("latin-1")
    )
    assert run("import-permits", str(path), "--city", "nice") == 1
    err = capsys.readouterr().err
    assert "is not UTF-8 text (byte 0xe9" in err and "Traceback" not in err
    assert not Permit.objects.exists()


@pytest.mark.django_db
def test_a_field_over_128_kb_on_the_web_is_400_and_one_sentence(
    client: Client, city: Any, make_user: Any
) -> None:
    make_zone(city)
    client.force_login(make_user("editor", modules=("access",)))
    text = HEADER + "p1,AB-123-CD," + "H" * 140_000 + ",delivery,old-town\n"
    upload = SimpleUploadedFile("permits.csv", text.encode())
    response = client.post(reverse("access:permits_import"), {"file": upload})
    assert response.status_code == 400
    assert "line 2 has a field over 100000 characters" in response.content.decode()
    assert not Permit.objects.exists()


@pytest.mark.django_db
def test_big_import_creates_then_updates_in_batches(city: Any) -> None:
    zone = make_zone(city)
    other = make_zone(city, "port")
    result = services.import_permits_csv(permits_csv(1_200).encode(), city)
    assert (result.errors, result.created, result.updated) == ([], 1_200, 0)
    assert Permit.objects.filter(city=city, zones=zone).count() == 1_200
    # the same ids again: 1,200 updates, zones moved to the port, holders renamed
    result = services.import_permits_csv(
        permits_csv(1_200, holder="Transporteur", zones="port").encode(), city
    )
    assert (result.created, result.updated) == (0, 1_200)
    assert Permit.objects.filter(zones=other).count() == 1_200
    assert not Permit.objects.filter(zones=zone).exists()
    assert Permit.objects.get(ident="p1199").holder == "Transporteur 1199"


@pytest.mark.django_db
def test_a_failing_batch_undoes_the_whole_import(
    city: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_zone(city)
    services.import_permits_csv(permits_csv(600).encode(), city)  # p0..p599 exist
    before = sorted(Permit.objects.values_list("ident", "holder"))
    # staged_upsert writes the rows, their zones and the audit entry in one final transaction:
    # the audit entry failing after the rows and zones were written must undo them all
    from rempart.core import audit

    def audit_fails(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", audit_fails)
    with pytest.raises(RuntimeError, match="disk full"):
        # 600 updates (p0..p599) and 1,400 creations (p600..p1999): fails in the 2nd batch
        services.import_permits_csv(permits_csv(2_000, holder="Autre").encode(), city)
    assert sorted(Permit.objects.values_list("ident", "holder")) == before
    assert Permit.objects.filter(zones__ident="old-town").count() == 600


@pytest.mark.django_db
def test_exports_are_formula_safe_and_import_back_unchanged(city: Any) -> None:
    make_zone(city)
    holder = '=HYPERLINK("http://evil.example","clic")'
    services.import_permits_csv(
        (
            HEADER + f'p1,AB-123-CD,"{holder.replace(chr(34), chr(34) * 2)}",delivery,old-town\n'
        ).encode(),
        city,
    )
    assert Permit.objects.get().holder == holder
    text = services.export_permits_csv(Permit.objects.all(), with_holders=True)
    assert "'=HYPERLINK" in text
    Permit.objects.all().delete()
    assert services.import_permits_csv(text.encode(), city).errors == []
    assert Permit.objects.get().holder == holder


@pytest.mark.django_db(transaction=True)
def test_camera_reads_are_answered_during_an_import(
    client: Client, city: Any, make_user: Any
) -> None:
    make_zone(city)
    operator = make_user("operator", modules=("access",))
    camera = token_for(operator, ["access:request"], ["old-town-in"])
    errors: list[BaseException] = []

    def importer() -> None:
        try:
            result = services.import_permits_csv(permits_csv(4_000).encode(), city)
            assert result.errors == []
            import_sites(city, json.dumps(sites_geojson(1_500)).encode())
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            close_old_connections()

    thread = threading.Thread(target=importer)
    thread.start()
    statuses = []
    while thread.is_alive() or not statuses:
        response = client.post(
            "/api/v1/access/requests",
            camera_read("old-town-in", "ZZ-999-ZZ"),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {camera}",
        )
        statuses.append(response.status_code)
        assert b"database is locked" not in response.content
    thread.join()
    assert errors == []
    assert Permit.objects.count() == 4_000
    assert Site.objects.filter(city=city).count() == 1_500
    assert set(statuses) <= {200, 201}, statuses
