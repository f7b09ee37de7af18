"""Shared fixtures: cities, organisations, one user per role, sites; service availability checks."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
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

    Remove what an earlier run left of the SQLite test database (see ``remove_sqlite_test_files``).
    """
    from django.conf import settings

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    remove_sqlite_test_files()


def pytest_unconfigure(config: pytest.Config) -> None:
    remove_sqlite_test_files()


def remove_sqlite_test_files() -> None:
    """Delete the SQLite test database file with its ``-wal`` and ``-shm`` companions.

    Django deletes the file before creating it again but not the companions, which threads still
    holding a connection at the end of a run leave behind; SQLite would replay a stale write-ahead
    log into the new file.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3") and database.get("TEST", {}).get("NAME"):
        test_file = Path(database["TEST"]["NAME"])
        for suffix in ("", "-wal", "-shm", "-journal"):
            test_file.with_name(test_file.name + suffix).unlink(missing_ok=True)


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
