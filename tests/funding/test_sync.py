"""`rempart funding sync` against a local HTTP server answering in the portal's shapes:
pagination, lists as values, status codes, a closed topic shown as open, retries, the cache."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rempart.funding.models import Call
from rempart.funding.portal import Portal, PortalError
from rempart.funding.sync import DEFAULT_RULES, sync

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def result(topic: str, status: str, deadline: str, title: str) -> dict[str, Any]:
    return {
        "url": f"https://portal.example/{topic}",
        "summary": title,
        "metadata": {
            "identifier": [topic],
            "callIdentifier": [topic.rsplit("-", 1)[0]],
            "title": [title],
            "status": [status],
            "startDate": ["2026-05-13T00:00:00.000+0000"],
            "deadlineDate": [deadline],
            "typesOfAction": ["HORIZON Research and Innovation Actions"],
        },
    }


RESULTS = [
    result("HORIZON-CL3-2026-FCT-01-01", "31094502", "2027-01-20T16:00:00.000+0000", "Crowds"),
    # The portal marks this one closed although its deadline is next year: dates decide.
    result("HORIZON-CL3-2026-FCT-01-02", "31094503", "2027-02-10T16:00:00.000+0000", "Squares"),
    # Shown as open, but its deadline has passed: skipped.
    result("ISF-2025-TF2-AG-PROTECT", "31094502", "2026-03-01T16:00:00.000+0000", "Old"),
]


class Portal503Then200(BaseHTTPRequestHandler):
    hits: list[str] = []
    failures_left = 1

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, value: Any) -> None:
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).hits.append(self.path)
        if type(self).failures_left:
            type(self).failures_left -= 1
            self._send(503, {"error": "busy"})
            return
        query = parse_qs(urlparse(self.path).query)
        page, size = int(query["pageNumber"][0]), int(query["pageSize"][0])
        rows = RESULTS[(page - 1) * size : page * size]
        self._send(200, {"totalResults": len(RESULTS), "pageNumber": page, "results": rows})

    def do_GET(self) -> None:  # noqa: N802
        type(self).hits.append(self.path)
        if self.path.endswith("horizon-cl3-2026-fct-01-01.json"):
            self._send(
                200,
                {
                    "TopicDetails": {
                        "budgetEUR": 6000000,
                        "actions": [{"types": ["RIA"], "deadlineDates": ["2027-01-20T16:00:00Z"]}],
                    }
                },
            )
        else:
            self._send(404, {})


@pytest.fixture
def portal_server() -> Iterator[str]:
    Portal503Then200.hits = []
    Portal503Then200.failures_left = 1
    server = ThreadingHTTPServer(("127.0.0.1", 0), Portal503Then200)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_sync_pages_statuses_retries_and_cache(portal_server: str, tmp_path: Path) -> None:
    waits: list[float] = []
    portal = Portal(
        f"{portal_server}/search",
        f"{portal_server}/topics",
        cache_dir=tmp_path,
        sleep=waits.append,
        page_size=2,
    )
    summary = sync(portal, ["HORIZON-CL3"], now=NOW)
    assert waits == [0.5]  # one 503, retried once
    assert (summary.found, summary.skipped_closed, summary.created) == (3, 1, 2)
    crowds = Call.objects.get(topic_id="HORIZON-CL3-2026-FCT-01-01")
    assert crowds.budget_eur == Decimal("6000000.00")
    assert crowds.deadline_at == dt.datetime(2027, 1, 20, 16, 0, tzinfo=dt.UTC)
    assert crowds.call_id == "HORIZON-CL3-2026-FCT-01" and crowds.programme == "horizon"
    assert crowds.rules == DEFAULT_RULES["horizon"]
    assert Call.objects.filter(topic_id="HORIZON-CL3-2026-FCT-01-02").exists()
    assert not Call.objects.filter(topic_id="ISF-2025-TF2-AG-PROTECT").exists()
    # Rules entered by hand survive the next sync; the cache answers it without the server.
    crowds.rules = [
        *DEFAULT_RULES["horizon"],
        {"kind": "required_type", "legal_type": "police", "count": 3},
    ]
    crowds.save()
    hits = len(Portal503Then200.hits)
    again = Portal(
        f"{portal_server}/search", f"{portal_server}/topics", cache_dir=tmp_path, page_size=2
    )
    summary = sync(again, ["HORIZON-CL3"], now=NOW)
    assert summary.updated == 2 and len(Portal503Then200.hits) == hits
    assert Call.objects.get(pk=crowds.pk).rules[-1]["legal_type"] == "police"


def test_an_unreachable_portal_is_one_sentence(tmp_path: Path) -> None:
    portal = Portal("http://127.0.0.1:9/search", "http://127.0.0.1:9/t", sleep=lambda s: None)
    with pytest.raises(PortalError, match=r"no answer after 4 attempts"):
        sync(portal, ["X"], now=NOW)
    assert Call.objects.count() == 0


def test_the_command(portal_server: str, settings: Any, tmp_path: Path) -> None:
    settings.FUNDING_SEARCH_URL = f"{portal_server}/search"
    settings.FUNDING_TOPIC_URL = f"{portal_server}/topics"
    settings.VAR_DIR = tmp_path
    with pytest.raises(CommandError, match="--max-age-h -1"):
        call_command("funding", "sync", "--max-age-h", "-1")
    call_command("funding", "sync", "--query", "HORIZON-CL3")
    assert Call.objects.filter(source="portal").count() >= 2
