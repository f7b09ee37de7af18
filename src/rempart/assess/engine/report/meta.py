"""What a report states about itself: site, city, date, author, run number, software version
and the date of the map data (OSM file header or newest object timestamp)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Any

import osmium

import rempart


@dataclass(frozen=True)
class ReportMeta:
    """The cover of a report.

    Attributes
    ----------
    created : aware datetime of the run (shown in ``time_zone``).
    time_zone : IANA name of the city's time zone, e.g. ``"Europe/Helsinki"``.
    author : the user who ran the assessment (or ``--author``); ``""`` if unknown.
    run_number : per site, increasing; ``None`` when the run is not stored (command line).
    map_data_date : ISO 8601 date-time of the OSM data, ``None`` when unknown.
    """

    created: dt.datetime
    time_zone: str = "UTC"
    city: str = ""
    author: str = ""
    run_number: int | None = None
    software_version: str = field(default_factory=lambda: rempart.__version__)
    map_data_date: str | None = None
    map_file: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "created": self.created.isoformat(),
            "time_zone": self.time_zone,
            "city": self.city,
            "author": self.author,
            "run_number": self.run_number,
            "software_version": self.software_version,
            "map_data_date": self.map_data_date,
            "map_file": self.map_file,
        }


_HEADER_KEYS = ("osmosis_replication_timestamp", "timestamp")


def map_data_date(path: str) -> str | None:
    """Date of the OSM data in ``path`` (ISO 8601, UTC): the file header's replication
    timestamp, else the newest timestamp of its objects; ``None`` when neither is present
    (a file written without metadata)."""
    if not os.path.isfile(path):
        return None
    try:
        header = osmium.io.Reader(path, osmium.osm.osm_entity_bits.NOTHING).header()
        for key in _HEADER_KEYS:
            value = header.get(key, "")
            if value:
                return str(value)
        newest = 0.0
        for obj in osmium.FileProcessor(path):
            moment: Any = getattr(obj, "timestamp", None)
            stamp = moment.timestamp() if moment else 0.0
            newest = max(newest, stamp)
    except (RuntimeError, ValueError, OSError):
        return None
    if newest <= 0:
        return None
    return dt.datetime.fromtimestamp(newest, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
