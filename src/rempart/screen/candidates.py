"""Finding candidate crowded public spaces in an OpenStreetMap extract (.osm.pbf or .osm XML).

pyosmium streams the file (nodes, then ways, then relations are visited once each; no network is
built), so a country extract is read in bounded memory apart from the node-location index that
pyosmium keeps for way geometry. One candidate is reported per matching node or way, located at
the mean of its node coordinates (WGS84 longitude/latitude, degrees). A closed way (first node =
last node, at least 4 nodes) that OSM draws as an area (any matching tag but ``highway``, or
``area=yes``) also keeps its outline (WGS84 ring) for the exposed-edge and crowd columns of
:mod:`.outputs`; its OSM ``capacity=*`` tag (a whole number of people) is kept when present.

The selection (:data:`DEFAULT_FILTER`) is a list of ``(key, value)`` tag pairs; an object matches
when any pair matches (``"*"`` matches any value). Default selection, with its reason:

- ``highway=pedestrian`` — pedestrian streets and areas;
- ``place=square`` — squares;
- ``amenity=marketplace`` — markets;
- ``leisure=stadium``, ``amenity=events_venue``, ``amenity=theatre``, ``amenity=cinema``,
  ``leisure=sports_centre`` — event venues and their forecourts;
- ``amenity=school``, ``amenity=college``, ``amenity=university`` — school forecourts;
- ``railway=station``, ``public_transport=station`` — station forecourts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import osmium

#: Default selection of crowded spaces: (tag key, tag value or "*").
DEFAULT_FILTER: tuple[tuple[str, str], ...] = (
    ("highway", "pedestrian"),
    ("place", "square"),
    ("amenity", "marketplace"),
    ("leisure", "stadium"),
    ("amenity", "events_venue"),
    ("amenity", "theatre"),
    ("amenity", "cinema"),
    ("leisure", "sports_centre"),
    ("amenity", "school"),
    ("amenity", "college"),
    ("amenity", "university"),
    ("railway", "station"),
    ("public_transport", "station"),
)


@dataclass(frozen=True)
class Candidate:
    """One candidate site.

    Attributes
    ----------
    site_id : str
        ``"n<id>"`` for a node, ``"w<id>"`` for a way (OSM ids).
    kind : str
        The matching ``key=value`` pair, e.g. ``"place=square"``.
    name : str
        OSM ``name`` tag, empty when absent.
    lon, lat : float
        WGS84 degrees: the node, or the mean of the way's nodes.
    ring : tuple of (lon, lat) or None
        The outline of an area (closed ring, WGS84 degrees), ``None`` for a point or a line.
    capacity : int or None
        OSM ``capacity=*`` (people) when tagged with a whole number.
    """

    site_id: str
    kind: str
    name: str
    lon: float
    lat: float
    ring: tuple[tuple[float, float], ...] | None = None
    capacity: int | None = None


def parse_capacity(text: str | None) -> int | None:
    """A ``capacity=*`` value as a whole number of people, ``None`` when absent or not one
    (``"1 200"`` and ``"1200"`` give 1200; ``"approx. 300"`` gives ``None``)."""
    if not text:
        return None
    digits = text.strip().replace(" ", "").replace("\u202f", "")
    return int(digits) if digits.isdigit() and len(digits) <= 9 else None


def _match(tags: osmium.osm.TagList, rules: Iterable[tuple[str, str]]) -> str | None:
    for key, value in rules:
        got = tags.get(key)
        if got is not None and (value == "*" or got == value):
            return f"{key}={got}"
    return None


class _Finder(osmium.SimpleHandler):  # type: ignore[misc]
    def __init__(self, rules: tuple[tuple[str, str], ...]) -> None:
        super().__init__()
        self.rules = rules
        self.found: list[Candidate] = []

    def node(self, n: osmium.osm.Node) -> None:
        kind = _match(n.tags, self.rules)
        if kind is not None and n.location.valid():
            self.found.append(
                Candidate(
                    f"n{n.id}",
                    kind,
                    n.tags.get("name") or "",
                    n.location.lon,
                    n.location.lat,
                    capacity=parse_capacity(n.tags.get("capacity")),
                )
            )

    def way(self, w: osmium.osm.Way) -> None:
        kind = _match(w.tags, self.rules)
        if kind is None:
            return
        pts = [(nd.location.lon, nd.location.lat) for nd in w.nodes if nd.location.valid()]
        if not pts:
            return
        lon = sum(p[0] for p in pts) / len(pts)
        lat = sum(p[1] for p in pts) / len(pts)
        closed = len(pts) >= 4 and pts[0] == pts[-1] and len(pts) == len(w.nodes)
        is_area = not kind.startswith("highway=") or w.tags.get("area") == "yes"
        self.found.append(
            Candidate(
                f"w{w.id}",
                kind,
                w.tags.get("name") or "",
                lon,
                lat,
                ring=tuple(pts) if closed and is_area else None,
                capacity=parse_capacity(w.tags.get("capacity")),
            )
        )


def find_candidates(
    osm_path: str | Path, rules: tuple[tuple[str, str], ...] = DEFAULT_FILTER
) -> list[Candidate]:
    """Candidate crowded spaces of an OSM file, in file order (nodes first, then ways).

    Raises
    ------
    FileNotFoundError
        When ``osm_path`` does not exist, naming it.
    """
    path = Path(osm_path)
    if not path.is_file():
        raise FileNotFoundError(
            f"The OSM file {path} does not exist; expected an .osm or .osm.pbf file."
        )
    finder = _Finder(tuple(rules))
    finder.apply_file(str(path), locations=True)
    return finder.found
