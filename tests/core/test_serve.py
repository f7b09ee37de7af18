"""``rempart serve``: the production server (granian) for real, over loopback.

One server on a temporary SQLite database serves a page, a static file, a camera read through
the camera gateway, and the control room's live stream to a logged-in operator.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

SETUP = """
import json
import django
django.setup()
from django.contrib.auth import get_user_model
from rempart.access.models import Barrier, Lane, Permit, Zone
from rempart.core.models import ApiToken, City, Organisation, Profile
from rempart.core.roles import grant

city = City.objects.create(name="Nice", slug="nice", country="FR", timezone="Europe/Paris")
org = Organisation.objects.create(name="Nice", kind="municipality", city=city)
org.cities.add(city)
users = get_user_model().objects
camera_owner = users.create_user("camera-owner", password=None)
Profile.objects.create(user=camera_owner, organisation=org)
grant(camera_owner, "access", "operator")
operator = users.create_user("op", password="a long test password 1")
Profile.objects.create(user=operator, organisation=org)
grant(operator, "access", "operator")
zone = Zone.objects.create(city=city, ident="old-town", timezone="Europe/Paris")
lane = Lane.objects.create(zone=zone, ident="old-town-in", direction="in", identification=["anpr"])
Barrier.objects.create(lane=lane, ident="ot-1", driver={"type": "simulator"})
permit = Permit.objects.create(city=city, ident="p1", plate="EM112AA", holder="SAMU", category="emergency")
permit.zones.add(zone)
_, secret = ApiToken.issue(camera_owner, "camera", ["access:request"])
print(json.dumps({"token": secret}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Iterator[dict[str, Any]]:
    var = tmp_path_factory.mktemp("serve")
    env = {
        **os.environ,
        "REMPART_VAR_DIR": str(var),
        "REMPART_SECRET_KEY": "serve-test-" + "k" * 40,
        "DJANGO_SETTINGS_MODULE": "rempart.settings",
    }
    env.pop("REMPART_DATABASE_URL", None)  # its own SQLite file, whatever the suite runs on
    run = [sys.executable, "-m", "rempart.cli"]
    subprocess.run([*run, "migrate", "-v0"], env=env, check=True, cwd=var)
    subprocess.run([*run, "collectstatic", "--noinput", "-v0"], env=env, check=True, cwd=var)
    setup = subprocess.run(
        [sys.executable, "-c", SETUP], env=env, check=True, cwd=var, capture_output=True, text=True
    )
    port = _free_port()
    process = subprocess.Popen(
        [*run, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--quiet"],
        env=env,
        cwd=var,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            assert process.poll() is None, f"rempart serve exited with {process.returncode}"
            assert time.monotonic() < deadline, "rempart serve did not listen within 30 s"
            time.sleep(0.2)
    try:
        yield {
            "url": f"http://127.0.0.1:{port}",
            "port": port,
            "env": env,
            "var": var,
            **json.loads(setup.stdout),
        }
    finally:
        process.terminate()
        process.wait(20)


def test_pages_and_static_files(server: dict[str, Any]) -> None:
    with urllib.request.urlopen(f"{server['url']}/accounts/login/", timeout=10) as response:
        page = response.read().decode()
    assert response.status == 200 and "csrfmiddlewaretoken" in page
    assert "Content-Security-Policy" in response.headers
    css = re.search(r'href="(/static/[^"]+\.css)"', page)
    assert css is not None, "the login page links no stylesheet"
    with urllib.request.urlopen(server["url"] + css.group(1), timeout=10) as response:
        assert response.status == 200 and response.read()


def test_a_camera_read_through_the_gateway(server: dict[str, Any]) -> None:
    body = {
        "lane": "old-town-in",
        "plate": "EM-112-AA",
        "confidence": 0.97,
        "read_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    request = urllib.request.Request(
        f"{server['url']}/api/v1/access/requests",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {server['token']}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    assert answer["decision"] == "grant", answer
    bad = urllib.request.Request(
        request.full_url, data=b"{}", headers=dict(request.headers), method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(bad, timeout=10)
    assert refused.value.code == 422
    assert (
        json.loads(refused.value.read())["detail"]
        == "lane: missing; expected the lane id as a string"
    )


def test_the_control_room_stream_reaches_a_logged_in_operator(server: dict[str, Any]) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = f"{server['url']}/accounts/login/"
    opener.open(login, timeout=10).read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode(
        {"username": "op", "password": "a long test password 1", "csrfmiddlewaretoken": csrf}
    ).encode()
    with opener.open(
        urllib.request.Request(login, data=form, headers={"Referer": login}), timeout=10
    ) as response:
        assert "/accounts/login/" not in response.url, "the login failed"
    with opener.open(f"{server['url']}/access/stream/", timeout=10) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        lines = [stream.readline().decode().strip() for _ in range(4)]
    assert lines[0] == "retry: 2000"
    assert "event: update" in lines
    data = json.loads(next(line for line in lines if line.startswith("data: "))[6:])
    assert "old-town-in" in json.dumps(data)


def _second_serve(env: dict[str, str], var: Any, port: int) -> subprocess.CompletedProcess[str]:
    """Start another `rempart serve` on ``port``; expected to refuse at once. If it starts
    instead (the bug), stop its whole process group (granian and its workers) and fail."""
    command = [sys.executable, "-m", "rempart.cli", "serve", "--bind", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        [*command, "--quiet"],
        env=env,
        cwd=var,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=30)
        pytest.fail(f"a second rempart serve started on port {port} instead of refusing")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def test_a_second_server_on_the_same_port_refuses_with_one_sentence(
    server: dict[str, Any],
) -> None:
    """granian binds with SO_REUSEPORT: without the check, the second one would share the port
    (and the first one's users would lose their sessions at random)."""
    second = _second_serve(server["env"], server["var"], server["port"])
    assert second.returncode == 1
    lines = [line for line in second.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, second.stderr
    assert f"--bind 127.0.0.1:{server['port']}" in lines[0]
    assert "already" in lines[0]
    with urllib.request.urlopen(f"{server['url']}/accounts/login/", timeout=10) as response:
        assert response.status == 200  # the first one still serves


def test_a_port_held_by_another_program_is_refused(tmp_path: Any) -> None:
    env = {
        **os.environ,
        "REMPART_VAR_DIR": str(tmp_path),
        "REMPART_SECRET_KEY": "serve-test-" + "k" * 40,
    }
    env.pop("REMPART_DATABASE_URL", None)
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        result = _second_serve(env, tmp_path, other.getsockname()[1])
    assert result.returncode == 1
    assert "the port is already in use" in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1
