"""Configuration from the environment: a bad value stops start-up with one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RUN = [sys.executable, "-c", "from rempart.cli import main; raise SystemExit(main(['check']))"]


def run_with(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "REMPART_VAR_DIR": str(tmp_path), **env}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        RUN, capture_output=True, text=True, env=environment, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("REMPART_DATABASE_URL", "mysql://root@localhost/x"),
        ("REMPART_DATABASE_URL", "not a url"),
        ("REMPART_TIME_ZONE", "Mars/Olympus"),
        ("REMPART_LOG_LEVEL", "LOUD"),
        ("REMPART_SECRET_KEY", "short"),
        ("REMPART_DEBUG", "maybe"),
        ("REMPART_AUDIT_KEY", "short"),
        ("REMPART_AUDIT_CHECKPOINT_SYSLOG", "http://logs:514"),
        ("REMPART_AUDIT_CHECKPOINT_EVERY", "0"),
        ("REMPART_EMAIL_FROM", "nobody"),
    ],
)
def test_bad_variable_gives_one_line_and_exit_2(tmp_path: Path, variable: str, value: str) -> None:
    result = run_with(tmp_path, **{variable: value})
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "expected" in lines[0]


def test_unreachable_database_gives_one_line(tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "REMPART_VAR_DIR": str(tmp_path),
        "REMPART_DATABASE_URL": "postgres://postgres@127.0.0.1:9/none",
    }
    result = subprocess.run(
        [sys.executable, "-c", "from rempart.cli import main; raise SystemExit(main(['migrate']))"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "REMPART_DATABASE_URL" in lines[0]


def test_secret_key_is_generated_once_into_var(tmp_path: Path) -> None:
    assert run_with(tmp_path).returncode == 0
    key_file = tmp_path / "secret_key"
    first = key_file.read_text()
    assert len(first) >= 40
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert run_with(tmp_path).returncode == 0
    assert key_file.read_text() == first


def test_audit_key_is_generated_once_into_var_apart_from_the_secret_key(tmp_path: Path) -> None:
    assert run_with(tmp_path).returncode == 0
    key_file = tmp_path / "audit_key"
    first = key_file.read_text()
    assert len(first) >= 40
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert first != (tmp_path / "secret_key").read_text()
    assert run_with(tmp_path).returncode == 0
    assert key_file.read_text() == first
    assert not list(tmp_path.glob(".audit_key.*"))  # no temporary file left behind


def test_audit_key_from_the_environment_writes_no_file(tmp_path: Path) -> None:
    assert run_with(tmp_path, REMPART_AUDIT_KEY="k" * 40).returncode == 0
    assert not (tmp_path / "audit_key").exists()


def test_email_goes_to_the_console_unless_an_smtp_host_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rempart.config import email_settings

    for name in list(os.environ):
        if name.startswith("REMPART_EMAIL_"):
            monkeypatch.delenv(name)
    assert email_settings()["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    monkeypatch.setenv("REMPART_EMAIL_HOST", "smtp.city.example")
    monkeypatch.setenv("REMPART_EMAIL_PORT", "465")
    monkeypatch.setenv("REMPART_EMAIL_SECURITY", "tls")
    monkeypatch.setenv("REMPART_EMAIL_USER", "rempart")
    monkeypatch.setenv("REMPART_EMAIL_PASSWORD", "s3cret")
    monkeypatch.setenv("REMPART_EMAIL_FROM", "security@city.example")
    smtp = email_settings()
    assert smtp["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (smtp["EMAIL_HOST"], smtp["EMAIL_PORT"]) == ("smtp.city.example", 465)
    assert (smtp["EMAIL_USE_SSL"], smtp["EMAIL_USE_TLS"]) == (True, False)
    assert (smtp["EMAIL_HOST_USER"], smtp["EMAIL_HOST_PASSWORD"]) == ("rempart", "s3cret")
    assert smtp["DEFAULT_FROM_EMAIL"] == "security@city.example"
    monkeypatch.setenv("REMPART_EMAIL_PORT", "smtp")
    with pytest.raises(Exception, match="REMPART_EMAIL_PORT='smtp': expected a port number"):
        email_settings()
