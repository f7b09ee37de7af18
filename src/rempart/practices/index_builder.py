"""Builds the in-memory search index in a child process and saves it for the stamp it was
built under (:mod:`rempart.practices.index_cache`), so that a web process never blocks a
request on a rebuild of a large catalogue (9-12 s at 100,000 practices).

:func:`start` launches ``python -m rempart.practices.index_builder`` at most once per stamp
per process and returns at once; the child reads the current stamp and the search documents,
builds, saves and exits. Meanwhile the parent answers from the database
(:func:`rempart.practices.search.search` with the index unavailable), then loads the saved file
at the first search after it appears.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_running: dict[str, subprocess.Popen[bytes]] = {}
_failed: set[str] = set()
#: a marker file younger than this means another process's child is building the same stamp
MARKER_MAX_AGE_S = 600.0


def start(stamp: str) -> bool:
    """Launch the child building the index of ``stamp`` unless one is running (in this process
    or, by a marker file beside the index files, in another worker) or one failed for this
    stamp in this process (then the database keeps answering, and the failure is logged);
    whether one was launched."""
    with _lock:
        for known, process in list(_running.items()):
            code = process.poll()
            if code is not None:
                del _running[known]
                if code != 0:
                    _failed.add(known)
                    logger.error(
                        "Practices search index: the rebuild for stamp %s exited with %s; "
                        "searches use the database until the next change.",
                        known,
                        code,
                    )
        if stamp in _running or stamp in _failed:
            return False
        marker = marker_for(stamp)
        marker.parent.mkdir(parents=True, exist_ok=True)
        try:
            age_s = time.time() - marker.stat().st_mtime
        except FileNotFoundError:
            age_s = None
        if age_s is not None and age_s < MARKER_MAX_AGE_S:
            return False  # another worker's child builds it; its file will be loaded
        marker.write_text(str(os.getpid()), encoding="utf-8")
        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "rempart.settings")
        env["REMPART_PRACTICES_INDEX_MARKER"] = str(marker)
        _running[stamp] = subprocess.Popen(  # noqa: S603 - our own module, no user input
            [sys.executable, "-m", "rempart.practices.index_builder"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        logger.info("Practices search index: rebuild for stamp %s started in a child.", stamp)
        return True


def marker_for(stamp: str) -> Path:
    """The file telling other processes that a child builds the index of ``stamp``."""
    from rempart.practices import index_cache

    path = index_cache.path_for(stamp)
    return path.with_name(f".building-{path.stem}")


def running() -> bool:
    """Whether a child launched by this process is still building."""
    with _lock:
        return any(process.poll() is None for process in _running.values())


def build_and_save() -> str:
    """Build the index from the database under its current stamp and save it; the file."""
    from django.db import connection

    from rempart.practices import index_cache, sparse_index
    from rempart.practices.search import INDEX_STAMP_SQL

    with connection.cursor() as cursor:
        cursor.execute(INDEX_STAMP_SQL)
        row = cursor.fetchone()
        index = sparse_index.build(cursor, str(row[0]) if row else None)
    path = index_cache.save(index)
    return str(path) if path else ""


def main() -> int:
    """Entry point of the child process."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rempart.settings")
    django.setup()
    try:
        build_and_save()
    except Exception:
        logger.exception("Practices search index: the rebuild failed.")
        return 1
    finally:
        marker = os.environ.get("REMPART_PRACTICES_INDEX_MARKER")
        if marker:
            Path(marker).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
