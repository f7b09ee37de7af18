"""Import and export sites as GeoJSON FeatureCollections (WGS84).

Import validates every feature first and writes nothing when any is rejected; each rejection is
one line naming the feature and the reason. Existing sites (same city and name) are updated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from rempart.core import audit
from rempart.core.geo import BoundaryError, parse_boundary
from rempart.core.models import City, Site

SITE_KINDS = {choice for choice, _label in Site.Kind.choices}


class SiteImportError(ValueError):
    """The file was rejected; ``errors`` holds one line per bad feature."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class ImportedSite:
    name: str
    kind: str
    boundary: dict[str, Any]
    typical_crowd: int
    peak_crowd: int
    description: str


def _non_negative_int(value: Any, what: str, errors: list[str], where: str) -> int:
    if value in (None, ""):
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors.append(f"{where}: {what} {value!r} is not a whole number ≥ 0")
        return 0
    return value


def parse_feature_collection(raw: bytes | str | dict[str, Any]) -> list[ImportedSite]:
    """Validate a GeoJSON FeatureCollection (or one Feature) of sites; raise SiteImportError."""
    if isinstance(raw, (bytes, str)):
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SiteImportError([f"file is not valid JSON: {exc}"]) from exc
    else:
        data = raw
    if isinstance(data, dict) and data.get("type") == "Feature":
        features = [data]
    elif isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features") or []
    else:
        raise SiteImportError(["file: expected a GeoJSON FeatureCollection or Feature"])
    if not features:
        raise SiteImportError(["file has no features: expected at least one site"])
    errors: list[str] = []
    sites: list[ImportedSite] = []
    seen: set[str] = set()
    for index, feature in enumerate(features):
        props = (feature or {}).get("properties") or {}
        name = str(props.get("name") or "").strip()
        where = f"feature {index} ({name or 'no name'})"
        if not name:
            errors.append(f"{where}: property 'name' is missing: expected the site's name")
        elif name in seen:
            errors.append(f"{where}: name {name!r} appears twice in the file")
        seen.add(name)
        kind = props.get("kind") or "other"
        if kind not in SITE_KINDS:
            errors.append(f"{where}: kind {kind!r} is not one of {', '.join(sorted(SITE_KINDS))}")
        typical = _non_negative_int(props.get("typical_crowd"), "typical_crowd", errors, where)
        peak = _non_negative_int(props.get("peak_crowd"), "peak_crowd", errors, where)
        try:
            boundary = parse_boundary((feature or {}).get("geometry"))
        except BoundaryError as exc:
            errors.append(f"{where}: {exc}")
            continue
        sites.append(
            ImportedSite(name, kind, boundary, typical, peak, str(props.get("description") or ""))
        )
    if errors:
        raise SiteImportError(errors)
    return sites


def import_sites(
    city: City, raw: bytes | str | dict[str, Any], *, is_demo: bool = False
) -> list[Site]:
    """Create or update the sites of ``city`` from GeoJSON, all or nothing."""
    parsed = parse_feature_collection(raw)
    saved: list[Site] = []
    with transaction.atomic():
        for item in parsed:
            site = Site.objects.filter(city=city, name=item.name).first() or Site(
                city=city, name=item.name
            )
            site.kind = item.kind
            site.boundary = item.boundary
            site.typical_crowd = item.typical_crowd
            site.peak_crowd = item.peak_crowd
            site.description = item.description or site.description
            site.is_demo = is_demo or site.is_demo
            site.save()
            saved.append(site)
    return saved


def export_sites(sites: Any, *, city: City | None = None) -> dict[str, Any]:
    """A FeatureCollection of the given sites; the export is written to the audit trail."""
    features = [site.as_feature() for site in sites]
    audit.record(
        "export",
        object_type="core.site",
        object_repr=f"{len(features)} sites as GeoJSON",
        city=city,
        detail={"format": "geojson", "count": len(features), "ids": [f["id"] for f in features]},
    )
    return {"type": "FeatureCollection", "features": features}
