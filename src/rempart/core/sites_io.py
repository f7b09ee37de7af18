"""Import and export sites as GeoJSON FeatureCollections (WGS84).

Import validates every feature first, outside any transaction, and writes nothing when any is
rejected; each rejection is one line naming the feature and the reason. The file is read within
the limits of :mod:`rempart.inputs` (size, nesting depth, finite numbers, NUL bytes, features per
file) and every boundary must lie in the city's map data (:mod:`rempart.core.city_area`).

Existing sites (same city and name) are updated. Writes go through
:func:`rempart.core.bulk.staged_upsert`: staged in a TEMP table in short transactions, then one
short final transaction, so nothing is visible half-way and a failure leaves the sites as they
were. The import is written to the audit trail as one entry (counts, ids, file name, SHA-256).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from rempart.core import audit
from rempart.core.bulk import Upserted, sha256_of, staged_upsert
from rempart.core.city_area import city_area
from rempart.core.geo import BoundaryError, check_in_area, parse_boundary
from rempart.core.models import City, Site
from rempart.inputs import InputError, check_text, load_json, max_features

#: Longest name and description accepted, characters (the model's name column is 200).
MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 10_000
#: Largest crowd accepted (people).
MAX_CROWD = 10_000_000

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
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CROWD:
        errors.append(
            _("%(where)s: %(what)s %(value).40s is not a whole number from 0 to %(limit)d")
            % {"where": where, "what": what, "value": repr(value), "limit": MAX_CROWD}
        )
        return 0
    return value


def _text(value: Any, what: str, limit: int, errors: list[str], where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        errors.append(f"{where}: {what} is a {type(value).__name__}: expected text")
        return ""
    try:
        return check_text(str(value).strip(), what, limit)
    except InputError as exc:
        errors.append(_("%(where)s: %(problem)s") % {"where": where, "problem": exc})
        return ""


def parse_feature_collection(
    raw: bytes | str | dict[str, Any], *, city: City | None = None, what: str = "file"
) -> list[ImportedSite]:
    """Validate a GeoJSON FeatureCollection (or one Feature) of sites; raise SiteImportError.

    With ``city``, every boundary must lie inside the city's map data.
    """
    if isinstance(raw, (bytes, str)):
        try:
            data = load_json(raw, what)
        except InputError as exc:
            raise SiteImportError([str(exc)]) from None
    else:
        data = raw
    if isinstance(data, dict) and data.get("type") == "Feature":
        features = [data]
    elif isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features") or []
    else:
        found = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise SiteImportError(
            [
                _("%(what)s is a %(found).40s: expected a GeoJSON FeatureCollection or Feature")
                % {"what": what, "found": repr(found)}
            ]
        )
    if not isinstance(features, list):
        raise SiteImportError([f"{what}: 'features' is not a list: expected a list of Features"])
    if not features:
        raise SiteImportError(
            [_("%(what)s has no features: expected at least one site") % {"what": what}]
        )
    if len(features) > max_features():
        raise SiteImportError(
            [
                _(
                    "%(what)s has %(count)d features: expected at most %(limit)d "
                    "(REMPART_MAX_FEATURES)"
                )
                % {"what": what, "count": len(features), "limit": max_features()}
            ]
        )
    area = city_area(city) if city is not None else None
    errors: list[str] = []
    sites: list[ImportedSite] = []
    seen: set[str] = set()
    for index, feature in enumerate(features):
        if not isinstance(feature, dict):
            errors.append(f"feature {index}: a {type(feature).__name__}: expected a Feature object")
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            errors.append(f"feature {index}: 'properties' is not an object")
            continue
        name = _text(props.get("name"), "name", MAX_NAME_CHARS, errors, f"feature {index}")
        where = _("feature %(index)d (%(name)s)") % {
            "index": index,
            "name": name or _("no name"),
        }
        if not name:
            errors.append(
                _("%(where)s: property 'name' is missing: expected the site's name")
                % {"where": where}
            )
        elif name in seen:
            errors.append(
                _("%(where)s: name %(name)s appears twice in the file")
                % {"where": where, "name": repr(name)}
            )
        seen.add(name)
        kind = props.get("kind") or "other"
        if not isinstance(kind, str) or kind not in SITE_KINDS:
            errors.append(
                _("%(where)s: kind %(kind).40s is not one of %(kinds)s")
                % {"where": where, "kind": repr(kind), "kinds": ", ".join(sorted(SITE_KINDS))}
            )
        typical = _non_negative_int(props.get("typical_crowd"), "typical_crowd", errors, where)
        peak = _non_negative_int(props.get("peak_crowd"), "peak_crowd", errors, where)
        if isinstance(typical, int) and isinstance(peak, int) and peak and peak < typical:
            errors.append(
                _("%(where)s: peak_crowd %(peak)d is smaller than typical_crowd %(typical)d")
                % {"where": where, "peak": peak, "typical": typical}
            )
        description = _text(
            props.get("description"), "description", MAX_DESCRIPTION_CHARS, errors, where
        )
        geometry = feature.get("geometry")
        if geometry is None:
            errors.append(
                _("%(where)s: no geometry: expected a Polygon or MultiPolygon") % {"where": where}
            )
            continue
        try:
            boundary = parse_boundary(geometry)
            if area is not None:
                check_in_area(boundary, area[0], area[1])
        except BoundaryError as exc:
            errors.append(_("%(where)s: %(problem)s") % {"where": where, "problem": exc})
            continue
        if len(errors) > 100:
            errors.append("… (more errors not shown)")
            break
        sites.append(ImportedSite(name, kind, boundary, typical, peak, description))
    if errors:
        raise SiteImportError(errors)
    return sites


def import_sites(
    city: City,
    raw: bytes | str | dict[str, Any],
    *,
    is_demo: bool = False,
    what: str = "file",
    osm_refs: dict[str, str] | None = None,
    source: str = "geojson",
) -> list[Site]:
    """Create or update the sites of ``city`` from GeoJSON, all or nothing.

    ``osm_refs`` maps a site name to its OpenStreetMap reference (``way/123``), stored in
    ``osm_ref`` (a blank one keeps the stored reference); ``source`` names the format in the
    audit entry (``geojson``, ``screening``).

    Validation runs before any write; the sites are staged in a TEMP table in short
    transactions, then upserted in one short transaction with the audit entry (counts, file
    name, SHA-256) by :func:`rempart.core.bulk.staged_upsert`: nothing is visible half-way.
    """
    parsed = parse_feature_collection(raw, city=city, what=what)
    now = timezone.now()
    rows = [
        {
            "city_id": city.pk,
            "name": item.name,
            "kind": item.kind,
            "description": item.description,
            "boundary": item.boundary,
            "typical_crowd": item.typical_crowd,
            "peak_crowd": item.peak_crowd,
            "osm_ref": (osm_refs or {}).get(item.name, ""),
            "is_demo": is_demo,
            "created_at": now,
            "updated_at": now,
        }
        for item in parsed
    ]
    names = [item.name for item in parsed]
    digest = sha256_of(json.dumps(raw, sort_keys=True) if isinstance(raw, dict) else raw)

    def entry(result: Upserted) -> None:
        ids = Site.objects.filter(city=city, name__in=names).values_list("pk", flat=True)
        audit.record(
            "import",
            object_type="core.site",
            object_repr=f"{len(parsed)} sites from {'GeoJSON' if source == 'geojson' else source}",
            city=city,
            detail={
                "format": source,
                "file": what,
                "sha256": digest,
                "created": result.created,
                "updated": result.updated,
                "ids": sorted(ids),
            },
        )

    staged_upsert(
        Site,
        rows,
        key=("city_id", "name"),
        keep=("created_at",),
        merge={
            "osm_ref": "CASE WHEN {new} = '' THEN {old} ELSE {new} END",
            # a blank description keeps the stored one; demo data stays demo data
            "description": "CASE WHEN {new} = '' THEN {old} ELSE {new} END",
            "is_demo": "({old} OR {new})",
        },
        audit_entry=entry,
    )
    by_name = {s.name: s for s in Site.objects.filter(city=city, name__in=names)}
    return [by_name[name] for name in names]


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
