"""Read rempart's configuration from the environment (12-factor).

Every variable is validated when the settings load; a bad value raises
:class:`ConfigError` whose message is one line naming the variable, the value
and what was expected. ``rempart`` (the console command) prints that line and
exits with status 2 instead of a traceback.
"""

from __future__ import annotations

import logging
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


def email_settings() -> dict[str, Any]:
    """Django's e-mail settings from ``REMPART_EMAIL_*`` and ``REMPART_DEFAULT_FROM_EMAIL``.

    Without ``REMPART_EMAIL_HOST`` messages go to the console (the process's standard output);
    with it, to that SMTP server: ``REMPART_EMAIL_PORT`` (default 587 with
    ``REMPART_EMAIL_USE_TLS``, else 25), ``REMPART_EMAIL_HOST_USER`` and
    ``REMPART_EMAIL_HOST_PASSWORD`` (both empty: no login), ``REMPART_EMAIL_USE_TLS``
    (STARTTLS, default false). ``REMPART_DEFAULT_FROM_EMAIL`` is the sender
    (default ``rempart@localhost``).
    """
    host = os.environ.get("REMPART_EMAIL_HOST", "").strip()
    use_tls = flag("REMPART_EMAIL_USE_TLS", False)
    raw_port = os.environ.get("REMPART_EMAIL_PORT", "").strip()
    port = 587 if use_tls else 25
    if raw_port:
        if not raw_port.isdigit() or not 1 <= int(raw_port) <= 65535:
            raise ConfigError(f"REMPART_EMAIL_PORT={raw_port!r}: expected a port number 1-65535")
        port = int(raw_port)
    if host and (" " in host or "/" in host):
        raise ConfigError(f"REMPART_EMAIL_HOST={host!r}: expected a host name or address")
    sender = os.environ.get("REMPART_DEFAULT_FROM_EMAIL", "").strip() or "rempart@localhost"
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    if "@" not in address or " " in address or address.startswith("@") or address.endswith("@"):
        raise ConfigError(
            f"REMPART_DEFAULT_FROM_EMAIL={sender!r}: expected an e-mail address such as "
            "rempart@city.example or 'Rempart <rempart@city.example>'"
        )
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"
        if host
        else "django.core.mail.backends.console.EmailBackend",
        "EMAIL_HOST": host or "localhost",
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": os.environ.get("REMPART_EMAIL_HOST_USER", ""),
        "EMAIL_HOST_PASSWORD": os.environ.get("REMPART_EMAIL_HOST_PASSWORD", ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_TIMEOUT": 10,
        "DEFAULT_FROM_EMAIL": sender,
        "SERVER_EMAIL": sender,
    }


def site_url() -> str:
    """``REMPART_SITE_URL``: the address people open, for links in e-mails (no trailing slash).

    Default: ``http://`` and ``REMPART_BIND`` (``http://127.0.0.1:8000``), what ``make run``
    serves.
    """
    raw = os.environ.get("REMPART_SITE_URL", "").strip().rstrip("/")
    if not raw:
        return "http://" + os.environ.get("REMPART_BIND", "127.0.0.1:8000").strip()
    parsed = urlparse(raw)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(
            f"REMPART_SITE_URL={raw!r}: expected an address such as https://rempart.city.example"
        )
    return raw
