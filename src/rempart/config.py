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
    return _key_from_env_or_file("REMPART_SECRET_KEY", var_dir / "secret_key")


def audit_key(var_dir: Path) -> str:
    """``REMPART_AUDIT_KEY``, else a key generated once into ``var/audit_key`` (mode 0600).

    The key of the audit trail's HMAC chain and of its checkpoints (rempart.core.audit): it is
    kept outside the database, so that someone who can write the database cannot recompute the
    chain. Separate from the secret key, which may be rotated without touching the trail.
    """
    return _key_from_env_or_file("REMPART_AUDIT_KEY", var_dir / "audit_key")


def _key_from_env_or_file(variable: str, key_file: Path) -> str:
    """A key from ``variable`` (32 characters or more), else from ``key_file``, created once.

    The file is written complete under a temporary name and linked into place, so that two
    processes starting together never read a half-written key: the second one's link fails and
    it reads the first one's key.
    """
    raw = os.environ.get(variable, "").strip()
    if raw:
        if len(raw) < 32:
            raise ConfigError(f"{variable}: expected at least 32 characters")
        return raw
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    temporary = key_file.with_name(f".{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        os.link(temporary, key_file)
    except FileExistsError:
        return key_file.read_text().strip()
    finally:
        temporary.unlink(missing_ok=True)
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


def positive_int(name: str, default: int) -> int:
    """A whole number of 1 or more (e.g. ``REMPART_AUDIT_CHECKPOINT_EVERY``)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name}={raw!r}: expected a whole number of 1 or more")
    return int(raw)


def audit_checkpoint_file(var_dir: Path) -> Path:
    """``REMPART_AUDIT_CHECKPOINT_FILE``: where signed checkpoints of the audit trail's head are
    appended (default ``var/audit-checkpoints.jsonl``); keep it off the database's disk."""
    raw = os.environ.get("REMPART_AUDIT_CHECKPOINT_FILE", "").strip()
    path = Path(raw) if raw else var_dir / "audit-checkpoints.jsonl"
    if path.exists() and path.is_dir():
        raise ConfigError(
            f"REMPART_AUDIT_CHECKPOINT_FILE={raw!r}: expected a file path, got a directory"
        )
    return path.resolve()


def map_dir(var_dir: Path) -> Path:
    """``REMPART_MAP_DIR``: the only directory OpenStreetMap files may be registered from
    (default ``var/maps``); an assessment admin cannot point rempart at any other file."""
    raw = os.environ.get("REMPART_MAP_DIR", "").strip()
    path = Path(raw) if raw else var_dir / "maps"
    if path.exists() and not path.is_dir():
        raise ConfigError(f"REMPART_MAP_DIR={raw!r}: expected a directory, got a file")
    return path.resolve()


SYSLOG_TRANSPORTS = ("udp", "tcp", "unix")


def audit_checkpoint_syslog() -> tuple[str, str | tuple[str, int]] | None:
    """``REMPART_AUDIT_CHECKPOINT_SYSLOG``: also send each checkpoint to syslog, as
    ``udp://host:port``, ``tcp://host:port`` or ``unix:///dev/log``; empty (default): no syslog.

    Returns (transport, address): address is (host, port) for udp/tcp, a socket path for unix.
    """
    raw = os.environ.get("REMPART_AUDIT_CHECKPOINT_SYSLOG", "").strip()
    if not raw:
        return None
    expected = "expected udp://host:port, tcp://host:port or unix:///path/to/socket"
    parsed = urlparse(raw)
    if parsed.scheme not in SYSLOG_TRANSPORTS:
        raise ConfigError(f"REMPART_AUDIT_CHECKPOINT_SYSLOG={raw!r}: {expected}")
    if parsed.scheme == "unix":
        if not parsed.path:
            raise ConfigError(f"REMPART_AUDIT_CHECKPOINT_SYSLOG={raw!r}: {expected}")
        return "unix", parsed.path
    try:
        port = parsed.port
    except ValueError:
        port = None
    if not parsed.hostname or port is None:
        raise ConfigError(f"REMPART_AUDIT_CHECKPOINT_SYSLOG={raw!r}: {expected}")
    return parsed.scheme, (parsed.hostname, port)


EMAIL_SECURITY = ("starttls", "tls", "none")


def email_settings() -> dict[str, Any]:
    """Django's e-mail settings from ``REMPART_EMAIL_*`` (password reset, notifications).

    Without ``REMPART_EMAIL_HOST`` mails are printed on the server's console (Django's console
    backend), which suits a trial; with it they go out over SMTP.
    """
    sender = os.environ.get("REMPART_EMAIL_FROM", "").strip() or "rempart@localhost"
    if "@" not in sender:
        raise ConfigError(f"REMPART_EMAIL_FROM={sender!r}: expected an e-mail address")
    host = os.environ.get("REMPART_EMAIL_HOST", "").strip()
    if not host:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
            "DEFAULT_FROM_EMAIL": sender,
        }
    raw_port = os.environ.get("REMPART_EMAIL_PORT", "").strip() or "587"
    if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        raise ConfigError(f"REMPART_EMAIL_PORT={raw_port!r}: expected a port number (1-65535)")
    security = os.environ.get("REMPART_EMAIL_SECURITY", "").strip().lower() or "starttls"
    if security not in EMAIL_SECURITY:
        raise ConfigError(
            f"REMPART_EMAIL_SECURITY={security!r}: expected one of {', '.join(EMAIL_SECURITY)}"
        )
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": host,
        "EMAIL_PORT": int(raw_port),
        "EMAIL_HOST_USER": os.environ.get("REMPART_EMAIL_USER", ""),
        "EMAIL_HOST_PASSWORD": os.environ.get("REMPART_EMAIL_PASSWORD", ""),
        "EMAIL_USE_TLS": security == "starttls",
        "EMAIL_USE_SSL": security == "tls",
        "EMAIL_TIMEOUT": 20,
        "DEFAULT_FROM_EMAIL": sender,
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
