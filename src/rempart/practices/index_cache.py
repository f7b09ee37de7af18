"""The in-memory search index (:class:`~rempart.practices.sparse_index.SparseIndex`) kept on
disk per index stamp, so that a new process loads it instead of rebuilding it.

One file per stamp, ``<directory>/practices-index-<hash of the stamp>.npz`` (numpy's archive,
no pickle: loading runs no code from the file). The directory is the setting
``PRACTICES_INDEX_DIR`` when set, else ``<VAR_DIR>/practices-index``. The stamp is written
inside the file too and checked on load: a file of another stamp is never served. A file that
cannot be read (truncated, corrupt, another format) is logged, deleted and reported absent, so
the caller rebuilds. Files are written to a temporary name and renamed (never half-written);
files of older stamps are deleted after a save.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from rempart.practices.sparse_index import TEXT_KINDS, SparseIndex

logger = logging.getLogger(__name__)

PREFIX = "practices-index-"
FORMAT = 1
BIT_KINDS = ("theme", "audience", "setting")


def directory() -> Path:
    """Where the index files are kept (see the module)."""
    from django.conf import settings

    configured = getattr(settings, "PRACTICES_INDEX_DIR", None)
    if configured:
        return Path(configured)
    return Path(settings.VAR_DIR) / "practices-index"


def path_for(stamp: str, where: Path | None = None) -> Path:
    """The file of the index built under ``stamp``."""
    digest = hashlib.sha256(stamp.encode("utf-8")).hexdigest()[:24]
    return (where or directory()) / f"{PREFIX}{digest}.npz"


def save(index: SparseIndex, where: Path | None = None) -> Path | None:
    """Write ``index`` under its stamp (nothing for an index without a stamp); the path written."""
    if index.stamp is None:
        return None
    target = path_for(index.stamp, where)
    target.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": FORMAT,
        "stamp": index.stamp,
        "values": {kind: list(index.values[kind]) for kind in TEXT_KINDS},
        "extra": [[row, [list(item) for item in items]] for row, items in index.extra.items()],
        "build_s": index.build_s,
    }
    names = sorted(index.columns, key=index.columns.__getitem__)
    arrays = {
        "ids": index.ids,
        "indptr": index.indptr,
        "rows": index.rows,
        "weights": index.weights,
        "lengths": index.lengths,
        # column names in column order, one per line (index terms hold no newline)
        "columns": np.frombuffer("\n".join(names).encode("utf-8"), dtype=np.uint8),
        "meta": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
    }
    for kind in BIT_KINDS:
        arrays[f"bits_{kind}"] = index.bits[kind]
    for kind in TEXT_KINDS:
        arrays[f"codes_{kind}"] = index.codes[kind]
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)  # type: ignore[arg-type]
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    for old in target.parent.glob(f"{PREFIX}*.npz"):
        if old != target:
            old.unlink(missing_ok=True)
    return target


def load(stamp: str | None, where: Path | None = None) -> SparseIndex | None:
    """The index saved under ``stamp``; None when there is none or it cannot be read (then the
    file is deleted with a log line)."""
    if stamp is None:
        return None
    path = path_for(stamp, where)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(archive["meta"].tobytes().decode("utf-8"))
            if meta.get("format") != FORMAT or meta.get("stamp") != stamp:
                raise ValueError(f"stamp {meta.get('stamp')!r}, format {meta.get('format')!r}")
            text = archive["columns"].tobytes().decode("utf-8")
            names = text.split("\n") if text else []
            index = SparseIndex(
                stamp=stamp,
                ids=archive["ids"],
                indptr=archive["indptr"],
                rows=archive["rows"],
                weights=archive["weights"],
                columns=dict(zip(names, range(len(names)), strict=True)),
                lengths=archive["lengths"],
                bits={kind: archive[f"bits_{kind}"] for kind in BIT_KINDS},
                codes={kind: archive[f"codes_{kind}"] for kind in TEXT_KINDS},
                values={kind: tuple(meta["values"][kind]) for kind in TEXT_KINDS},
                extra={
                    int(row): tuple((str(k), str(v)) for k, v in items)
                    for row, items in meta["extra"]
                },
                build_s=float(meta["build_s"]),
            )
        n = index.size
        if index.indptr.shape[0] != len(names) + 1 or index.lengths.shape[0] != n:
            raise ValueError("array sizes disagree")
        if not int(index.indptr[-1]) == index.rows.shape[0] == index.weights.shape[0]:
            raise ValueError("column entries disagree")
    except Exception as exc:  # noqa: BLE001 - any unreadable file is rebuilt, never served
        logger.warning(
            "Practices search index cache %s is unreadable (%s); it is deleted and rebuilt.",
            path,
            exc,
        )
        path.unlink(missing_ok=True)
        return None
    return index
