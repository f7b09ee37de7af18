"""The in-memory search index saved per stamp (rempart.practices.index_cache) and rebuilt by a
child process for a large catalogue (rempart.practices.index_builder).

A saved and loaded index must equal a fresh build; a file of another stamp or an unreadable
file is never served; while a large catalogue's index is rebuilt, searches are answered by the
database (the same results), without waiting.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
from django.db import connection

from rempart.practices import index_builder, index_cache, search, sparse_index
from rempart.practices.models import Practice, SearchDocument

from .conftest import publish

pytestmark = pytest.mark.django_db


def _stamp() -> str:
    with connection.cursor() as cursor:
        cursor.execute(search.INDEX_STAMP_SQL)
        return str(cursor.fetchone()[0])


def _fresh() -> sparse_index.SparseIndex:
    with connection.cursor() as cursor:
        return sparse_index.build(cursor, _stamp())


def _equal(a: sparse_index.SparseIndex, b: sparse_index.SparseIndex) -> None:
    assert a.stamp == b.stamp
    for name in ("ids", "indptr", "rows", "weights", "lengths"):
        left, right = getattr(a, name), getattr(b, name)
        assert left.dtype == right.dtype, name
        assert np.array_equal(left, right), name
    assert a.columns == b.columns
    for kind in a.bits:
        assert np.array_equal(a.bits[kind], b.bits[kind])
    for kind in a.codes:
        assert np.array_equal(a.codes[kind], b.codes[kind])
    assert a.values == b.values
    assert a.extra == b.extra


def test_saved_and_loaded_index_equals_a_fresh_build(
    catalogue: dict[str, Practice], tmp_path: Any
) -> None:
    practice = catalogue["exit-mentoring"]
    practice.themes = [*practice.themes, "harbour_security"]  # a value outside FACET_BITS
    practice.save()
    search.index_practices([practice])
    built = _fresh()
    assert built.extra  # the round trip covers values outside the vocabularies
    path = index_cache.save(built, tmp_path)
    assert path is not None and path.is_file()
    loaded = index_cache.load(built.stamp, tmp_path)
    assert loaded is not None
    _equal(loaded, built)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_a_file_of_another_stamp_is_never_served(
    catalogue: dict[str, Practice], tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    built = _fresh()
    path = index_cache.save(built, tmp_path)
    assert path is not None
    assert index_cache.load("another stamp", tmp_path) is None
    # even when renamed to the other stamp's file name: the stamp inside is checked
    path.rename(index_cache.path_for("another stamp", tmp_path))
    with caplog.at_level(logging.WARNING, logger="rempart.practices.index_cache"):
        assert index_cache.load("another stamp", tmp_path) is None
    assert "unreadable" in caplog.text


def test_search_after_a_change_never_uses_the_old_saved_index(
    catalogue: dict[str, Practice],
) -> None:
    assert search.search("mentoring").total > 0
    old = _stamp()
    assert index_cache.path_for(old).is_file()  # saved by the first search
    added = publish(title="Numbat mentoring circle", language="en", summary="A circle.")
    assert _stamp() != old
    assert search.search("numbat").ids == [added.pk]
    cached = sparse_index.INDEX.get_cached()
    assert cached is not None and cached.stamp == _stamp()
    assert not index_cache.path_for(old).is_file()  # older stamps' files are deleted


def test_a_new_process_loads_the_saved_index_instead_of_building(
    catalogue: dict[str, Practice], monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = _fresh()
    index_cache.save(saved)
    sparse_index.INDEX.clear()  # as in a new process

    def no_build(*args: Any) -> None:
        raise AssertionError("built although a saved index exists")

    monkeypatch.setattr(sparse_index, "build", no_build)
    with connection.cursor() as cursor:
        index = sparse_index.INDEX.get(cursor)
    assert index is not None
    _equal(index, saved)


def test_a_large_rebuild_runs_elsewhere_and_the_database_answers_meanwhile(
    catalogue: dict[str, Practice], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "IN_MEMORY", False)
    expected = search.search("mentoring youth")
    monkeypatch.setattr(search, "IN_MEMORY", True)
    started: list[str] = []
    monkeypatch.setattr(index_builder, "start", started.append)
    monkeypatch.setattr(sparse_index, "INLINE_MAX", 1)  # the catalogue counts as large
    sparse_index.INDEX.clear()
    during = search.search("mentoring youth")
    assert (during.ids, during.total, during.facets) == (
        expected.ids,
        expected.total,
        expected.facets,
    )
    assert started == [_stamp()]
    assert sparse_index.INDEX.get_cached() is None  # nothing built in this process
    # the child's work, done here: the next search loads the file
    index_builder.build_and_save()
    after = search.search("mentoring youth")
    assert (after.ids, after.total) == (expected.ids, expected.total)
    cached = sparse_index.INDEX.get_cached()
    assert cached is not None and cached.stamp == _stamp()
    assert len(started) == 1


def test_a_corrupt_file_is_ignored_logged_and_rebuilt(
    catalogue: dict[str, Practice], caplog: pytest.LogCaptureFixture
) -> None:
    stamp = _stamp()
    path = index_cache.path_for(stamp)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x03\x04 not an index")
    sparse_index.INDEX.clear()
    with caplog.at_level(logging.WARNING, logger="rempart.practices.index_cache"):
        found = search.search("mentoring")
    assert found.total > 0
    assert f"cache {path} is unreadable" in caplog.text
    loaded = index_cache.load(stamp)  # replaced by the rebuilt index
    assert loaded is not None and loaded.size == SearchDocument.objects.count()


def test_a_truncated_file_is_rebuilt(catalogue: dict[str, Practice]) -> None:
    saved = _fresh()
    path = index_cache.save(saved)
    assert path is not None
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert index_cache.load(saved.stamp) is None
    assert not path.exists()


def test_reindex_command_saves_the_index(catalogue: dict[str, Practice]) -> None:
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("practices", "reindex", "--memory-only", stdout=out)
    path = index_cache.path_for(_stamp())
    assert str(path) in out.getvalue() and "practices indexed" not in out.getvalue()
    loaded = index_cache.load(_stamp())
    assert loaded is not None and loaded.size == len(catalogue)
    out = io.StringIO()
    call_command("practices", "reindex", stdout=out)
    assert f"{len(catalogue)} practices indexed." in out.getvalue()
    assert index_cache.load(_stamp()) is not None  # saved under the stamp after the reindex


class _FakeChild:
    """Stands for the child process: running until ``code`` is set."""

    launched: list[dict[str, str]] = []

    def __init__(self, command: list[str], env: dict[str, str], **kwargs: Any) -> None:
        assert command[1:] == ["-m", "rempart.practices.index_builder"]
        self.code: int | None = None
        _FakeChild.launched.append(env)

    def poll(self) -> int | None:
        return self.code


def test_one_child_per_stamp_across_workers_and_no_relaunch_after_a_failure(
    settings: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _FakeChild.launched = []
    monkeypatch.setattr(index_builder.subprocess, "Popen", _FakeChild)
    monkeypatch.setattr(index_builder, "_running", {})
    monkeypatch.setattr(index_builder, "_failed", set())
    assert index_builder.start("s1") is True
    assert index_builder.start("s1") is False  # running in this process
    assert index_builder.running()
    marker = index_builder.marker_for("s1")
    assert marker.is_file()
    assert _FakeChild.launched[0]["REMPART_PRACTICES_INDEX_MARKER"] == str(marker)
    child = index_builder._running.pop("s1")
    assert index_builder.start("s1") is False  # as another worker: the marker is fresh
    index_builder._running["s1"] = child
    child.code = 1  # type: ignore[attr-defined]
    marker.unlink()
    with caplog.at_level(logging.ERROR, logger="rempart.practices.index_builder"):
        assert index_builder.start("s1") is False  # failed here: the database keeps answering
    assert "exited with 1" in caplog.text
    assert index_builder.start("s2") is True  # a new stamp is tried again
    assert len(_FakeChild.launched) == 2


def test_the_child_entry_point_builds_saves_and_removes_its_marker(
    catalogue: dict[str, Practice], monkeypatch: pytest.MonkeyPatch
) -> None:
    import django

    marker = index_builder.marker_for(_stamp())
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("1")
    monkeypatch.setenv("REMPART_PRACTICES_INDEX_MARKER", str(marker))
    monkeypatch.setattr(django, "setup", lambda: None)  # already set up in the tests
    assert index_builder.main() == 0
    assert not marker.exists()
    loaded = index_cache.load(_stamp())
    assert loaded is not None
    _equal(loaded, _fresh())


def test_an_unwritable_index_directory_builds_inline(
    catalogue: dict[str, Practice],
    settings: Any,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings.PRACTICES_INDEX_DIR = str(blocker / "index")  # cannot be created
    monkeypatch.setattr(sparse_index, "INLINE_MAX", 1)
    sparse_index.INDEX.clear()
    with caplog.at_level(logging.WARNING, logger="rempart.practices.sparse_index"):
        found = search.search("mentoring")
    assert found.total > 0
    cached = sparse_index.INDEX.get_cached()
    assert cached is not None and cached.stamp == _stamp()
    assert "rebuilt inline" in caplog.text and "not saved" in caplog.text
