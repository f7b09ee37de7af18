"""Calls from the EU Funding & Tenders portal: its search API and its topic detail files.

The portal's search (``POST <search URL>?apiKey=SEDIA&text=...&pageSize=...&pageNumber=...``,
with a multipart ``query`` and ``languages``) answers ``{"totalResults": n, "results": [...]}``;
each result's ``metadata`` maps names to *lists* of strings (``identifier``, ``callIdentifier``,
``title``, ``status``, ``startDate``, ``deadlineDate``, ``typesOfAction``...). Status codes:
31094501 forthcoming, 31094502 open, 31094503 closed. Topic details are one JSON file per topic
id (lower case) under the topic URL.

Users report that the search's filters are sometimes ignored and that open topics are shown as
closed, so we take every result and decide from the dates ourselves: a topic whose last
deadline has passed is skipped. Network errors and 5xx answers are retried (3 attempts, 0.5 s,
1 s, 2 s); answers are cached on disk for ``max_age_s`` so that a rerun does not hit the portal
again. Both URLs are settings (``REMPART_FUNDING_SEARCH_URL``, ``REMPART_FUNDING_TOPIC_URL``), so
tests and mirrors point elsewhere.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

SEARCH_URL = "https://api.tech.ec.europa.eu/search-api/prod/rest/search"
TOPIC_URL = "https://ec.europa.eu/info/funding-tenders/opportunities/data/topicDetails"
STATUS = {"31094501": "forthcoming", "31094502": "open", "31094503": "closed"}
#: The default searches: Horizon Europe Cluster 3 and ISF Union actions.
DEFAULT_QUERIES = ("HORIZON-CL3", "ISF")
PAGE_SIZE = 50
MAX_PAGES = 40
MAX_ANSWER_BYTES = 20_000_000
RETRY_DELAYS_S = (0.5, 1.0, 2.0)
#: What the cache keeps for an answer "no such file" (a topic without details).
MISSING = {"missing": True}


class PortalError(RuntimeError):
    """The portal could not be read: one sentence naming the URL and what went wrong."""


@dataclass
class Topic:
    """A topic as read from the portal, before it becomes a :class:`~models.Call`."""

    topic_id: str
    call_id: str
    title: str
    programme: str
    portal_status: str
    opens_at: dt.datetime | None
    deadlines: list[dt.datetime] = field(default_factory=list)
    action_type: str = ""
    budget_eur: Decimal | None = None
    url: str = ""

    @property
    def deadline_at(self) -> dt.datetime | None:
        return max(self.deadlines) if self.deadlines else None


def _first(metadata: dict[str, Any], name: str) -> str:
    value = metadata.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


def _moment(text: str) -> dt.datetime | None:
    """The portal's dates: ``2026-09-23T00:00:00.000+0000`` or ISO 8601."""
    if not text:
        return None
    text = text.replace(".000", "")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def programme_of(topic_id: str) -> str:
    upper = topic_id.upper()
    if upper.startswith("HORIZON-"):
        return "horizon"
    if upper.startswith("ISF"):
        return "isf"
    return "other"


def parse_result(result: dict[str, Any]) -> Topic | None:
    """A search result as a :class:`Topic`, or None when it has no topic identifier."""
    metadata = result.get("metadata") or {}
    if not isinstance(metadata, dict):
        return None
    topic_id = _first(metadata, "identifier")
    if not topic_id or len(topic_id) > 100:
        return None
    deadlines = [
        moment
        for moment in (_moment(str(v)) for v in (metadata.get("deadlineDate") or []))
        if moment is not None
    ]
    return Topic(
        topic_id=topic_id,
        call_id=_first(metadata, "callIdentifier")[:100] or topic_id,
        title=(_first(metadata, "title") or str(result.get("summary") or topic_id))[:300],
        programme=programme_of(topic_id),
        portal_status=STATUS.get(_first(metadata, "status"), ""),
        opens_at=_moment(_first(metadata, "startDate")),
        deadlines=deadlines,
        action_type=_first(metadata, "typesOfAction")[:60],
        url=str(result.get("url") or "")[:200],
    )


class Portal:
    """A reader of the portal with retries and an on-disk cache of answers."""

    def __init__(
        self,
        search_url: str = SEARCH_URL,
        topic_url: str = TOPIC_URL,
        cache_dir: Path | None = None,
        max_age_s: float = 86_400,
        sleep: Callable[[float], None] = time.sleep,
        timeout_s: float = 30,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.page_size = page_size
        self.search_url = search_url
        self.topic_url = topic_url.rstrip("/")
        self.cache_dir = cache_dir
        self.max_age_s = max_age_s
        self.sleep = sleep
        self.timeout_s = timeout_s
        self.requests = 0

    def _cached(self, key: str) -> Any | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / f"{key}.json"
        try:
            if time.time() - path.stat().st_mtime <= self.max_age_s:
                return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return None

    def _store(self, key: str, value: Any) -> None:
        if self.cache_dir is None:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.cache_dir / f"{key}.tmp"
        tmp.write_text(json.dumps(value), encoding="utf-8")
        tmp.replace(self.cache_dir / f"{key}.json")

    def _fetch(
        self,
        url: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        form_key: str = "",
    ) -> Any:
        """The JSON answer of ``url`` (None for a 404), from the cache when young enough.
        ``form_key`` stands for the body in the cache key (a multipart body's boundary is
        random)."""
        key = hashlib.sha256(f"{url}\0{form_key}".encode()).hexdigest()[:32]
        cached = self._cached(key)
        if cached is not None:
            return None if cached == MISSING else cached
        last = ""
        for delay in (*RETRY_DELAYS_S, None):
            request = urllib.request.Request(
                url, data=body, headers=headers or {}, method="POST" if body else "GET"
            )
            try:
                self.requests += 1
                with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                    data = answer.read(MAX_ANSWER_BYTES + 1)
                if len(data) > MAX_ANSWER_BYTES:
                    raise PortalError(f"{url}: answer larger than {MAX_ANSWER_BYTES:,} bytes")
                value = json.loads(data)
                self._store(key, value)
                return value
            except urllib.error.HTTPError as error:
                if error.code == 404:
                    self._store(key, MISSING)
                    return None
                if error.code < 500:
                    raise PortalError(
                        f"{url}: the portal answered {error.code} {error.reason}"
                    ) from None
                last = f"{error.code} {error.reason}"
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                last = str(getattr(error, "reason", error))
            except ValueError:
                raise PortalError(f"{url}: the answer is not JSON") from None
            if delay is not None:
                self.sleep(delay)
        raise PortalError(f"{url}: no answer after {len(RETRY_DELAYS_S) + 1} attempts ({last})")

    def search(self, text: str) -> list[Topic]:
        """Every topic the search finds for ``text``, following the pages."""
        topics: dict[str, Topic] = {}
        for page in range(1, MAX_PAGES + 1):
            query = urllib.parse.urlencode(
                {"apiKey": "SEDIA", "text": text, "pageSize": self.page_size, "pageNumber": page}
            )
            boundary = uuid.uuid4().hex
            form = {
                "query": json.dumps({"bool": {"must": [{"terms": {"type": ["1", "2", "8"]}}]}}),
                "languages": json.dumps(["en"]),
            }
            body = (
                b"".join(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n'
                    f"Content-Type: application/json\r\n\r\n{value}\r\n".encode()
                    for name, value in form.items()
                )
                + f"--{boundary}--\r\n".encode()
            )
            answer = self._fetch(
                f"{self.search_url}?{query}",
                body,
                {"Content-Type": f"multipart/form-data; boundary={boundary}"},
                form_key=json.dumps(form, sort_keys=True),
            )
            if not isinstance(answer, dict):
                raise PortalError(f"{self.search_url}: expected a JSON object with results")
            results = answer.get("results") or []
            for result in results:
                topic = parse_result(result) if isinstance(result, dict) else None
                if topic is not None:
                    topics.setdefault(topic.topic_id, topic)
            total = int(answer.get("totalResults") or 0)
            if not results or page * self.page_size >= total:
                break
        return list(topics.values())

    def details(self, topic: Topic) -> None:
        """Complete ``topic`` from its detail file (budget, deadlines) when there is one."""
        answer = self._fetch(f"{self.topic_url}/{urllib.parse.quote(topic.topic_id.lower())}.json")
        details = (answer or {}).get("TopicDetails") if isinstance(answer, dict) else None
        if not isinstance(details, dict):
            return
        for action in details.get("actions") or []:
            if not isinstance(action, dict):
                continue
            for text in action.get("deadlineDates") or []:
                moment = _moment(str(text))
                if moment is not None and moment not in topic.deadlines:
                    topic.deadlines.append(moment)
            types = action.get("types")
            if not topic.action_type and isinstance(types, list) and types:
                topic.action_type = str(types[0])[:60]
        budget = details.get("budgetEUR")
        if budget is not None:
            with contextlib.suppress(InvalidOperation):
                topic.budget_eur = Decimal(str(budget)).quantize(Decimal("0.01"))


def current(topics: list[Topic], now: dt.datetime) -> list[Topic]:
    """Topics not yet closed, judged from the deadlines (not from the portal's status)."""
    return [t for t in topics if t.deadline_at is None or t.deadline_at > now]
