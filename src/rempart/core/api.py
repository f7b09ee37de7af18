"""Core API: the caller, cities and sites (GeoJSON, WGS84)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from rempart.core.access_rules import fetch, require_scope
from rempart.core.api_errors import Input, id_path
from rempart.core.city_area import check_site_area
from rempart.core.geo import BoundaryError, parse_boundary
from rempart.core.models import City, Site
from rempart.core.roles import MODULES, ROLES, user_cities, user_roles
from rempart.core.sites_io import MAX_CROWD, SITE_KINDS, export_sites

router = Router(tags=["core"])


class MeOut(Schema):
    username: str
    organisation: str | None
    roles: dict[str, str]
    cities: list[str]


class CityOut(Schema):
    slug: str
    name: str
    country: str
    timezone: str
    demo: bool


#: A site's kind: one of the site kinds (``Site.Kind``).
SiteKind = Literal[tuple(sorted(SITE_KINDS))]  # type: ignore[valid-type]


Longitude = Annotated[float, Field(ge=-180, le=180)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
#: A position: [longitude, latitude] in degrees, WGS84 (EPSG:4326).
Position = tuple[Longitude, Latitude]
#: A linear ring: closed (first position = last), at least 4 positions.
Ring = Annotated[list[Position], Field(max_length=100_000)]


class PolygonIn(Input):
    type: Literal["Polygon"]
    coordinates: list[Ring] = Field(..., max_length=1_000)


class MultiPolygonIn(Input):
    type: Literal["MultiPolygon"]
    coordinates: list[Annotated[list[Ring], Field(max_length=1_000)]] = Field(..., max_length=1_000)


class FeatureIn(Input):
    type: Literal["Feature"]
    geometry: PolygonIn | MultiPolygonIn
    properties: dict[str, str | float | bool | None] | None = None


#: A site's boundary: a GeoJSON Polygon or MultiPolygon (or a Feature of one) in WGS84. Rings
#: must be closed and valid, and the site lie in its city's map data (checked on save, 422).
Geometry = PolygonIn | MultiPolygonIn | FeatureIn


class SiteIn(Input):
    city: str = Field(..., min_length=1, max_length=64)
    name: str = Field(..., min_length=1, max_length=200)
    kind: SiteKind = "other"  # type: ignore[valid-type]
    description: str = Field("", max_length=10_000)
    typical_crowd: int = Field(0, ge=0, le=MAX_CROWD)
    peak_crowd: int = Field(0, ge=0, le=MAX_CROWD)
    boundary: Geometry


class SitePatch(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: SiteKind | None = None  # type: ignore[valid-type]
    description: str | None = Field(None, max_length=10_000)
    typical_crowd: int | None = Field(None, ge=0, le=MAX_CROWD)
    peak_crowd: int | None = Field(None, ge=0, le=MAX_CROWD)
    boundary: Geometry | None = None


@router.get("/me", response=MeOut, summary="Who is calling, with roles and visible cities")
def me(request: HttpRequest) -> dict[str, Any]:
    user: Any = request.user
    profile = getattr(user, "profile", None)
    ranks = (
        {module: "admin" for module in MODULES}
        if user.is_superuser
        else {module: ROLES[rank] for module, rank in user_roles(user).items()}
    )
    return {
        "username": user.get_username(),
        "organisation": str(profile.organisation) if profile and profile.organisation else None,
        "roles": ranks,
        "cities": list(user_cities(user).values_list("slug", flat=True)),
    }


@router.get("/cities", response=list[CityOut], summary="Cities the caller may see")
def cities(request: HttpRequest) -> list[dict[str, Any]]:
    require_scope(request, "core:read")
    return [
        {
            "slug": c.slug,
            "name": c.name,
            "country": c.country,
            "timezone": c.timezone,
            "demo": c.is_demo,
        }
        for c in user_cities(request.user)
    ]


def _visible_city(request: HttpRequest, slug: str) -> City:
    return fetch(request, City.objects, f"city {slug!r}", slug=slug)


def _visible_site(request: HttpRequest, site_id: int) -> Site:
    return fetch(request, Site.objects, f"site {site_id}", pk=site_id)


@router.get("/sites", summary="Sites of a city as a GeoJSON FeatureCollection")
def list_sites(
    request: HttpRequest, city: str = Query(..., min_length=1, max_length=64)
) -> dict[str, Any]:
    require_scope(request, "core:read")
    visible = _visible_city(request, city)
    return export_sites(visible.sites.all(), city=visible)


@router.get("/sites/{site_id}", summary="One site as a GeoJSON Feature")
def get_site(request: HttpRequest, site_id: int = id_path("site")) -> dict[str, Any]:
    require_scope(request, "core:read")
    return _visible_site(request, site_id).as_feature()


def _geometry(boundary: Geometry | None) -> dict[str, Any] | None:
    return None if boundary is None else boundary.model_dump()


def _validated(
    kind: str | None,
    boundary: dict[str, Any] | None,
    typical: int | None,
    peak: int | None,
    city: Any = None,
) -> dict[str, Any] | None:
    if kind is not None and kind not in SITE_KINDS:
        raise HttpError(422, f"kind {kind!r} is not one of {', '.join(sorted(SITE_KINDS))}")
    for label, value in (("typical_crowd", typical), ("peak_crowd", peak)):
        if value is not None and not 0 <= value <= MAX_CROWD:
            raise HttpError(
                422,
                f"{label} {value} is out of range: expected a whole number from 0 to {MAX_CROWD}",
            )
    if boundary is None:
        return None
    try:
        geometry = parse_boundary(boundary)
        if city is not None:
            check_site_area(city, geometry)
    except BoundaryError as exc:
        raise HttpError(422, str(exc)) from exc
    return geometry


@router.post("/sites", response={201: dict}, summary="Create a site")
def create_site(request: HttpRequest, payload: SiteIn) -> Status:
    require_scope(request, "core:write")
    city = _visible_city(request, payload.city)
    boundary = _validated(
        payload.kind, _geometry(payload.boundary), payload.typical_crowd, payload.peak_crowd, city
    )
    try:
        with transaction.atomic():
            site = Site.objects.create(
                city=city,
                name=payload.name,
                kind=payload.kind,
                description=payload.description,
                typical_crowd=payload.typical_crowd,
                peak_crowd=payload.peak_crowd,
                boundary=boundary,
            )
    except IntegrityError as exc:
        raise HttpError(
            409, f"a site named {payload.name!r} already exists in {city.slug}"
        ) from exc
    return Status(201, site.as_feature())


@router.patch("/sites/{site_id}", summary="Change a site")
def update_site(
    request: HttpRequest, payload: SitePatch, site_id: int = id_path("site")
) -> dict[str, Any]:
    require_scope(request, "core:write")
    site = _visible_site(request, site_id)
    boundary = _validated(
        payload.kind,
        _geometry(payload.boundary),
        payload.typical_crowd,
        payload.peak_crowd,
        site.city,
    )
    for field in ("name", "kind", "description", "typical_crowd", "peak_crowd"):
        value = getattr(payload, field)
        if value is not None:
            setattr(site, field, value)
    if boundary is not None:
        site.boundary = boundary
    try:
        with transaction.atomic():
            site.save()
    except IntegrityError as exc:
        raise HttpError(
            409, f"a site named {site.name!r} already exists in {site.city.slug}"
        ) from exc
    return site.as_feature()


@router.delete("/sites/{site_id}", response={204: None}, summary="Delete a site")
def delete_site(request: HttpRequest, site_id: int = id_path("site")) -> Status:
    require_scope(request, "core:write")
    site = _visible_site(request, site_id)
    site.delete()
    return Status(204, None)
