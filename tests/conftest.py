"""Shared fixtures: cities, organisations, one user per role, sites; service availability checks."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from typing import Any

import pytest

SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[24.950, 60.168], [24.952, 60.168], [24.952, 60.169], [24.950, 60.169], [24.950, 60.168]]
    ],
}


def pytest_configure(config: pytest.Config) -> None:
    """Serve static files unhashed in tests: the hashed manifest exists only after collectstatic.

    On SQLite, the test database is a file in a directory of this session's own, never Django's
    default shared in-memory database: with that one, the live server's threads (browser tests,
    live streams) share the test thread's single connection, and two threads using one SQLite
    connection can deadlock (a CI run hung 90 minutes in a live-stream browser test's teardown).
    Its own directory keeps two sessions in one checkout apart. Browser tests end by waiting
    for the live server's request threads (``tests.browser``), so none outlives its test.
    """
    from django.conf import settings

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # a live stream learns that the browser has gone when it next writes: soon, in tests
    settings.ACCESS_STREAM_KEEPALIVE_S = 0.5
    directory = tempfile.mkdtemp(prefix="rempart-test-db-")
    config.stash[SQLITE_TEST_DIRECTORY] = directory
    # never the checkout's var/audit-checkpoints.jsonl, which belongs to its own database
    settings.AUDIT_CHECKPOINT_FILE = os.path.join(directory, "audit-checkpoints.jsonl")
    # never the checkout's var/prevention_key either (rempart.prevention.crypto)
    settings.PREVENTION_KEY_FILE = os.path.join(directory, "prevention_key")
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = os.path.join(directory, "test.sqlite3")
    else:
        _flush_past_the_audit_truncate_triggers()


def _flush_past_the_audit_truncate_triggers() -> None:
    """PostgreSQL: Django empties the tables between transactional tests with one TRUNCATE,
    which the audit trail's triggers refuse (core migration 0003); the test database's owner
    disables them around that statement, as only an owner could."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    guarded = {
        "core_auditentry": "core_auditentry_no_truncate",
        "core_audithead": "core_audithead_no_truncate",
    }
    plain_sql_flush = DatabaseOperations.sql_flush

    def sql_flush(self: Any, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        statements = plain_sql_flush(self, style, tables, **kwargs)
        present = [(table, trigger) for table, trigger in guarded.items() if table in tables]
        if not statements or not present:
            return statements
        disable = [f"ALTER TABLE {t} DISABLE TRIGGER {trigger};" for t, trigger in present]
        enable = [f"ALTER TABLE {t} ENABLE TRIGGER {trigger};" for t, trigger in present]
        return [*disable, *statements, *enable]

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def audit_checkpoint_file(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Each test writes the audit trail's checkpoints into a file of its own (the test database
    is emptied between tests, so another test's checkpoints would not match it), and starts
    with a fresh checkpoint writer."""
    from rempart.core.audit_checkpoints import writer

    path = tmp_path_factory.mktemp("audit") / "audit-checkpoints.jsonl"
    settings.AUDIT_CHECKPOINT_FILE = str(path)
    writer.reset()
    yield path
    writer.reset()


@pytest.fixture(autouse=True)
def practices_index_dir(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Each test keeps the saved practices search index (rempart.practices.index_cache) in a
    directory of its own, never under var/."""
    path = tmp_path_factory.mktemp("practices-index")
    settings.PRACTICES_INDEX_DIR = str(path)
    return path


def pytest_unconfigure(config: pytest.Config) -> None:
    directory = config.stash.get(SQLITE_TEST_DIRECTORY, None)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)


SQLITE_TEST_DIRECTORY = pytest.StashKey[str]()


def dashboard_waiting(client: Any, user: Any) -> list[tuple[str, int, str]]:
    """The dashboard's "Waiting for you" items (what, how many, link) as ``user`` sees them."""
    from django.urls import reverse

    client.force_login(user)
    response = client.get(reverse("core:dashboard"))
    assert response.status_code == 200
    return list(response.context["waiting"])


def service_available(host: str, port: int, timeout_s: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip when a local service is absent, naming it; fail instead when CI=true."""
    if service_available(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: a missing service is a failure)")
    pytest.skip(message)


@pytest.fixture
def city(db: Any) -> Any:
    from rempart.core.models import City

    return City.objects.create(name="Nice", slug="nice", country="FR", timezone="Europe/Paris")


@pytest.fixture
def other_city(db: Any) -> Any:
    from rempart.core.models import City

    return City.objects.create(name="Lyon", slug="lyon", country="FR", timezone="Europe/Paris")


@pytest.fixture
def organisation(city: Any) -> Any:
    from rempart.core.models import Organisation

    org = Organisation.objects.create(name="Ville de Nice", kind="municipality", city=city)
    org.cities.add(city)
    return org


#: Every user made by ``make_user`` logs in with this password.
USER_PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_user(organisation: Any) -> Callable[..., Any]:
    """make_user("editor") → a user of the Nice organisation holding that role in every module."""
    from django.contrib.auth import get_user_model

    from rempart.core.models import Profile
    from rempart.core.roles import MODULES, grant

    def factory(
        role: str | None = None,
        *,
        modules: tuple[str, ...] = MODULES,
        org: Any = organisation,
        username: str | None = None,
    ) -> Any:
        name = username or f"{role or 'nobody'}-{'-'.join(modules)}"
        user = get_user_model().objects.create_user(username=name, password=USER_PASSWORD)
        Profile.objects.create(user=user, organisation=org)
        if role:
            for module in modules:
                grant(user, module, role)
        return user

    return factory


@pytest.fixture
def site(city: Any) -> Any:
    from rempart.core.models import Site

    return Site.objects.create(
        city=city,
        name="Promenade test",
        kind="promenade",
        boundary=SQUARE,
        typical_crowd=100,
        peak_crowd=30000,
    )


@pytest.fixture(autouse=True)
def _english_unless_asked() -> Any:
    """Each test starts in the default language: Django's LocaleMiddleware leaves the last
    request's language active in the thread, so a French request would otherwise turn the
    next test's sentences French."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()
