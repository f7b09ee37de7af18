"""Read rempart's configuration from the environment (12-factor).

Every variable is validated when the settings load; a bad value raises
:class:`ConfigError` whose message is one line naming the variable, the value
and what was expected. ``rempart`` (the console command) prints that line and
exits with status 2 instead of a traceback.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import zoneinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import dj_database_url

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "pgsql")


class ConfigError(Exception):
    """A configuration variable has a value rempart cannot use."""


def project_var_dir() -> Path:
    """Directory for the embedded database, the generated secret key and uploads.

    ``REMPART_VAR_DIR`` when set, else ``var/`` in the current working directory
    (the checkout when started by ``make run``).
    """
    raw = os.environ.get("REMPART_VAR_DIR", "").strip()
    path = Path(raw) if raw else Path.cwd() / "var"
    return path.resolve()


def database_config(var_dir: Path) -> dict[str, Any]:
    """Django DATABASES['default'] from ``REMPART_DATABASE_URL`` (default SQLite under var/)."""
    raw = os.environ.get("REMPART_DATABASE_URL", "").strip()
    if not raw:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(var_dir / "rempart.sqlite3"),
            # Reuse connections (as on PostgreSQL): opening one per request cost as much CPU as
            # deciding a camera read (docs/access-protocols.md, load benchmark).
            "CONN_MAX_AGE": 60,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    scheme = urlparse(raw).scheme
    if scheme not in DATABASE_SCHEMES:
        raise ConfigError(
            f"REMPART_DATABASE_URL={raw!r}: expected a URL such as "
            "postgres://user@host:5432/dbname or sqlite:////absolute/path.sqlite3"
        )
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(raw, conn_max_age=60))
    except Exception as exc:  # dj_database_url raises several kinds
        raise ConfigError(f"REMPART_DATABASE_URL={raw!r}: cannot be parsed ({exc})") from exc
    if not config.get("NAME"):
        raise ConfigError(f"REMPART_DATABASE_URL={raw!r}: expected a database name in the path")
    if scheme == "sqlite":
        config["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
        config["CONN_MAX_AGE"] = 60
    return config


def secret_key(var_dir: Path) -> str:
    """``REMPART_SECRET_KEY``, else a key generated once into ``var/secret_key`` (mode 0600)."""
    raw = os.environ.get("REMPART_SECRET_KEY", "").strip()
    if raw:
        if len(raw) < 32:
            raise ConfigError("REMPART_SECRET_KEY: expected at least 32 characters")
        return raw
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def allowed_hosts() -> list[str]:
    """``REMPART_ALLOWED_HOSTS``: comma-separated host names (default: loopback only)."""
    raw = os.environ.get("REMPART_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
    hosts = [host.strip() for host in raw.split(",") if host.strip()]
    for host in hosts:
        if " " in host or "/" in host:
            raise ConfigError(
                f"REMPART_ALLOWED_HOSTS={raw!r}: expected comma-separated host names, got {host!r}"
            )
    if not hosts:
        raise ConfigError("REMPART_ALLOWED_HOSTS='': expected at least one host name")
    return hosts


def time_zone() -> str:
    """``REMPART_TIME_ZONE``: an IANA zone name (default Europe/Paris)."""
    raw = os.environ.get("REMPART_TIME_ZONE", "Europe/Paris").strip()
    try:
        zoneinfo.ZoneInfo(raw)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"REMPART_TIME_ZONE={raw!r}: expected an IANA time zone such as Europe/Paris"
        ) from exc
    return raw


def log_level() -> str:
    """``REMPART_LOG_LEVEL``: one of DEBUG, INFO, WARNING, ERROR, CRITICAL (default INFO)."""
    raw = os.environ.get("REMPART_LOG_LEVEL", "INFO").strip().upper()
    if raw not in LOG_LEVELS:
        raise ConfigError(f"REMPART_LOG_LEVEL={raw!r}: expected one of {', '.join(LOG_LEVELS)}")
    logging.getLogger("rempart").setLevel(raw)
    return raw


def flag(name: str, default: bool) -> bool:
    """A boolean variable: 1/true/yes/on or 0/false/no/off."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r}: expected true or false")


def seconds(name: str, default: float, high: float) -> float:
    """A duration variable in seconds, above 0 and up to ``high``."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value <= high:  # also refuses nan
        raise ConfigError(
            f"{name}={raw!r}: expected a number of seconds above 0 and up to {high:g}"
        )
    return value
