"""Group commit: one thread per server process stores the camera reads of many request threads.

A committed decision costs a database transaction, and a transaction costs round trips and a
flush to disk whatever its size. Request threads therefore hand their read to one committer
thread and wait; the committer takes every read that has arrived, decides and stores them in
one transaction (:func:`rempart.access.camera.decide_batch`), then wakes their threads. Under
light load a batch holds one read and nothing waits; under heavy load the batches grow and the
cost per read falls -- the same technique as PostgreSQL's own ``commit_delay`` and the write
queues of databases generally. Nothing is answered before its batch is committed.

On SQLite the committer's connection runs with ``PRAGMA synchronous=FULL``: a commit is on
disk (an fsync of the write-ahead log) before any read of the batch is answered, so a decision
survives a power cut, not only a crash of the process. PostgreSQL's default
``synchronous_commit = on`` gives the same.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from django.db import close_old_connections, connection

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

#: Most reads stored in one transaction: bounds the statement size and the wait of the last.
MAX_BATCH = 256

#: How long the committer lets a batch gather after its first read arrives (seconds). A batch
#: costs about 0.6 ms of CPU whatever its size (three queries, a commit, an fsync) and a read
#: about 0.3 ms more; at a few hundred reads a second per process, batches taken at once hold
#: one or two reads, so the fixed cost dominates. Waiting 2 ms lets 1-10 reads join, halving
#: the CPU per read under load, for 2 ms more on each answer (docs/access-protocols.md).
GATHER_S = 0.002


@dataclass
class _Job(Generic[Item, Result]):
    item: Item
    done: threading.Event = field(default_factory=threading.Event)
    result: Result | None = None
    error: BaseException | None = None


class GroupCommitter(Generic[Item, Result]):
    """Runs ``process`` over batches of the items submitted from any thread.

    ``process`` receives a list of items and returns one result per item, in order; it runs
    on the committer's own thread (with its own database connection). An exception in
    ``process`` is raised in every submitting thread of that batch.
    """

    def __init__(
        self,
        process: Callable[[Sequence[Item]], list[Result]],
        *,
        max_batch: int = MAX_BATCH,
        gather_s: float = GATHER_S,
        name: str = "rempart-group-commit",
    ) -> None:
        self._process = process
        self._max_batch = max_batch
        self._gather_s = gather_s
        self._name = name
        self._queue: queue.SimpleQueue[_Job[Item, Result] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.items = 0

    def submit(self, item: Item, timeout_s: float = 60.0) -> Result:
        """Process ``item`` in the next batch and return its result (blocks until committed)."""
        job: _Job[Item, Result] = _Job(item)
        self._start()
        self._queue.put(job)
        if not job.done.wait(timeout_s):
            raise TimeoutError(f"no answer from the committer within {timeout_s:.0f} s")
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def stop(self, timeout_s: float = 5.0) -> None:
        """Finish the batch under way and end the thread (tests; a server process just exits)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout_s)

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                if self._gather_s > 0:
                    time.sleep(self._gather_s)
                jobs = [first]
                while len(jobs) < self._max_batch:
                    try:
                        job = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        self._queue.put(None)  # stop after this batch
                        break
                    jobs.append(job)
                self._run_batch(jobs)
        finally:
            connection.close()

    def _run_batch(self, jobs: list[_Job[Item, Result]]) -> None:
        try:
            close_old_connections()  # as Django does around a request: drop a broken link
            if connection.connection is None:  # this thread's first batch, or after a failure
                self._connect()
            results = self._process([job.item for job in jobs])
            if len(results) != len(jobs):
                raise RuntimeError(f"{len(results)} results for {len(jobs)} items")
        except BaseException as exc:  # every waiting thread gets the error
            log.exception("a batch of %d failed", len(jobs))
            for job in jobs:
                job.error = exc
                job.done.set()
            return
        self.batches += 1
        self.items += len(jobs)
        for job, result in zip(jobs, results, strict=True):
            job.result = result
            job.done.set()

    def _connect(self) -> None:
        """Open this thread's connection; on SQLite, commits with ``synchronous=FULL``."""
        connection.ensure_connection()
        # A long-lived thread keeps its connection: closing it every CONN_MAX_AGE would
        # checkpoint SQLite's whole write-ahead log, or start a cold PostgreSQL backend, in the
        # middle of the traffic (a 200 ms stall, measured).
        connection.close_at = None
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=FULL")
