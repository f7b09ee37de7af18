"""The camera gateway (rempart.access.wsgi) and its group committer (rempart.access.group_commit).

The gateway is called as the WSGI server calls it (an environ, a start_response); its
committer thread has its own database connection, so these tests use a transactional database.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DatabaseError
from django.utils import timezone

from rempart.access import camera
from rempart.access.group_commit import GroupCommitter
from rempart.access.models import AccessDecision, Passage
from rempart.access.wsgi import MAX_BODY_BYTES, PATH, CameraGateway
from rempart.core.audit_models import AuditEntry
from tests.access.test_models_fixtures import camera_read as read
from tests.access.test_models_fixtures import make_permits, make_zone, token_for

pytestmark = pytest.mark.django_db(transaction=True)


class Inner:
    """The Django application behind the gateway: records what reaches it."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.paths.append(environ["PATH_INFO"])
        start_response("204 No Content", [])
        return [b""]


@pytest.fixture
def gateway() -> Iterator[tuple[CameraGateway, Inner]]:
    inner = Inner()
    gateway = CameraGateway(inner)
    yield gateway, inner
    gateway.committer.stop()


@pytest.fixture
def camera_token(city: Any, make_user: Any) -> str:
    zone = make_zone(city)
    make_permits(city, zone)
    operator = make_user("operator", modules=("access",))
    return token_for(operator, ["access:request"], ["old-town-in", "old-town-out"])


def call(
    app: Any,
    body: bytes | dict[str, Any],
    *,
    token: str | None,
    path: str = PATH,
    method: str = "POST",
    host: str = "127.0.0.1:8000",
) -> tuple[int, dict[str, str], bytes]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": host,
        "REMOTE_ADDR": "10.1.2.3",
        "CONTENT_LENGTH": str(len(raw)),
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(raw),
        "wsgi.url_scheme": "http",
    }
    if token is not None:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)

    payload = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], payload


def test_a_read_is_decided_stored_and_answered_before_django(
    gateway: Any, camera_token: str
) -> None:
    app, inner = gateway
    status, headers, payload = call(app, read(), token=camera_token)
    answer = json.loads(payload)
    assert status == 200 and answer["decision"] == "grant", answer
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"
    assert inner.paths == []  # Django never saw it
    row = AccessDecision.objects.get(request_id=answer["request_id"])
    assert (row.source, row.plate, row.outcome) == ("api", "EM112AA", "grant")
    assert Passage.objects.get(decision=row).state == "granted"


def test_other_requests_go_to_django(gateway: Any, camera_token: str) -> None:
    app, inner = gateway
    assert call(app, read(), token=camera_token, path="/api/v1/access/lanes")[0] == 204
    assert call(app, read(), token=camera_token, method="GET")[0] == 204
    assert call(app, read(), token=None)[0] == 204  # a session caller: Django's route
    assert inner.paths == ["/api/v1/access/lanes", PATH, PATH]
    assert AccessDecision.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        (b"{not json", 422, "not JSON"),
        (b"[1, 2]", 422, "not a JSON object"),
        ({"plate": "AB-123-CD", "confidence": 0.9, "read_at": "2027-01-01T00:00:00Z"}, 422, "lane: missing"),
        ({**read(), "confidence": "high"}, 422, 'confidence: expected a number between 0 and 1, got "high"'),
        ({**read(), "confidence": True}, 422, "confidence: expected a number"),
        ({**read(), "lane": 12}, 422, "lane: expected the lane id as a string, got 12"),
        ({**read(), "mass_kg": 12.5}, 422, "mass_kg: expected a whole number"),
        ({**read(), "plate": "??"}, 422, "plate:"),
        ({**read(), "read_at": "yesterday"}, 422, "not a date and time"),
        (read(lane="nowhere"), 404, "lane 'nowhere' does not exist"),
        (b"x" * (MAX_BODY_BYTES + 1), 413, f"a read is at most {MAX_BODY_BYTES}"),
    ],
)  # fmt: skip
def test_bad_bodies_are_4xx_with_one_line_and_store_nothing(
    gateway: Any, camera_token: str, body: Any, status: int, text: str
) -> None:
    app, _ = gateway
    got, _, payload = call(app, body, token=camera_token)
    detail = json.loads(payload)["detail"]
    assert got == status, detail
    assert text in detail and "\n" not in detail
    assert AccessDecision.objects.count() == 0 and Passage.objects.count() == 0


def test_an_unknown_host_is_refused(gateway: Any, camera_token: str) -> None:
    app, _ = gateway
    status, _, payload = call(app, read(), token=camera_token, host="evil.example:8000")
    assert status == 400 and "evil.example" in json.loads(payload)["detail"]
    assert AccessDecision.objects.count() == 0


def test_bad_tokens_and_refusals(gateway: Any, camera_token: str, make_user: Any) -> None:
    app, _ = gateway
    assert call(app, read(), token="rmp_nope_nope")[0] == 401
    assert call(app, read(), token=camera_token[:-2] + "xx")[0] == 401  # wrong secret
    status, _, payload = call(app, read(lane="old-town-2f"), token=camera_token)
    assert status == 403 and "may not act on lane 'old-town-2f'" in json.loads(payload)["detail"]
    viewer = make_user("viewer", modules=("access",), username="v")
    assert call(app, read(), token=token_for(viewer, ["access:read"]))[0] == 403
    assert AccessDecision.objects.count() == 0
    refusals = AuditEntry.objects.filter(action="permission_denied").order_by("seq")
    assert refusals.count() == 2
    assert refusals[0].ip == "10.1.2.3" and refusals[0].detail["lane"] == "old-town-2f"


def test_a_zone_limited_token_and_another_citys_lane_on_the_gateway(
    gateway: Any, camera_token: str, make_user: Any, city: Any, other_city: Any
) -> None:
    from rempart.core.models import ApiToken

    app, _ = gateway
    make_zone(city, "port")
    make_zone(other_city, "lyon")
    operator = make_user("operator", modules=("access",), username="port-op")
    port_camera = token_for(operator, ["access:request"])
    ApiToken.objects.filter(user=operator).update(constraints={"zones": ["port"]})
    assert call(app, read(lane="port-in"), token=port_camera)[0] == 200
    status, _, payload = call(app, read(lane="old-town-in"), token=port_camera)
    assert status == 403
    assert json.loads(payload)["detail"].endswith("it is limited to zones port")
    status, _, payload = call(app, read(lane="lyon-in"), token=port_camera)
    assert (status, json.loads(payload)["detail"]) == (404, "lane 'lyon-in' does not exist")
    refusals = AuditEntry.objects.filter(action="permission_denied").order_by("seq")
    assert [(r.city, r.detail["answered"]) for r in refusals] == [("nice", 403), ("lyon", 404)]
    assert AccessDecision.objects.count() == 1


def test_concurrent_reads_share_transactions_and_all_are_stored(
    gateway: Any, camera_token: str
) -> None:
    app, _ = gateway
    answers: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    def send(i: int) -> None:
        plate = "EM-112-AA" if i % 2 else f"ZZ-{i:03d}-ZZ"
        status, _, payload = call(app, read(plate=plate), token=camera_token)
        with lock:
            answers.append((status, json.loads(payload)))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [status for status, _ in answers] == [200] * 40
    stored = set(AccessDecision.objects.values_list("request_id", flat=True))
    assert {answer["request_id"] for _, answer in answers} == {r.hex for r in stored}
    # the 20 reads of the emergency vehicle are 20 grants of one vehicle at one lane within its
    # passage time: one passage, however the batches fell
    assert AccessDecision.objects.filter(outcome="grant").count() == 20
    assert Passage.objects.count() == 1
    assert app.committer.items == 40
    assert app.committer.batches < 40  # some reads shared a transaction


def test_a_failed_transaction_answers_503_and_stores_nothing(
    gateway: Any, camera_token: str, monkeypatch: Any
) -> None:
    app, _ = gateway

    def broken(*args: Any) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(camera, "_store", broken)
    status, _, payload = call(app, read(), token=camera_token)
    assert status == 503 and "nothing was decided" in json.loads(payload)["detail"]
    assert AccessDecision.objects.count() == 0


def test_the_committer_gives_each_submitter_its_result_or_the_batch_error() -> None:
    seen: list[list[int]] = []

    def double(items: Any) -> list[int]:
        seen.append(list(items))
        if -1 in items:
            raise ValueError("bad item")
        return [2 * item for item in items]

    committer: GroupCommitter[int, int] = GroupCommitter(double, gather_s=0.01)
    results: dict[int, Any] = {}

    def submit(item: int) -> None:
        try:
            results[item] = committer.submit(item)
        except ValueError as exc:
            results[item] = exc

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(1, 6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert results == {i: 2 * i for i in range(1, 6)}
    assert sum(len(batch) for batch in seen) == 5 and len(seen) < 5  # gathered
    submit(-1)
    assert isinstance(results[-1], ValueError)
    assert committer.submit(7) == 14  # the thread survived the failed batch
    committer.stop()


def test_without_insert_returning_decisions_are_inserted_one_by_one(
    gateway: Any, camera_token: str, monkeypatch: Any
) -> None:
    """SQLite before 3.35 has no INSERT ... RETURNING: one INSERT per decision, same rows."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("every supported PostgreSQL has INSERT ... RETURNING; SQLite before 3.35 not")
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    answers = [camera.decide_batch([camera.CameraRead(
        token=camera_token, ip="", lane="old-town-in", plate=plate, confidence=0.97,
        read_at=timezone.now().isoformat(), pin=None, mass_kg=None, received_at=timezone.now(),
    ) for plate in ("EM-112-AA", "ZZ-999-ZZ", "RE-456-ZZ")])]  # fmt: skip
    decisions = [answer.body["decision"] for answer in answers[0]]
    assert decisions == ["grant", "deny", "grant"]
    granted = Passage.objects.values_list("decision__request_id", flat=True)
    assert {r.hex for r in granted} == {
        a.body["request_id"] for a in answers[0] if a.body["decision"] == "grant"
    }


def test_the_committer_commits_to_disk_on_sqlite_and_keeps_its_connection() -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("synchronous=FULL is SQLite's; PostgreSQL flushes each commit by default")

    def seen(items: Any) -> list[tuple[int, int]]:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous")
            return [(int(cursor.fetchone()[0]), id(connection.connection)) for _ in items]

    committer: GroupCommitter[int, tuple[int, int]] = GroupCommitter(seen, gather_s=0)
    first, second = committer.submit(1), committer.submit(2)
    committer.stop()
    assert first[0] == second[0] == 2  # FULL
    assert first[1] == second[1]  # the same connection, not reopened per batch
