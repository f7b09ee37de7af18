"""Core domain: cities, organisations, people, the public spaces (sites) a city protects, API tokens.

Geometry is stored as GeoJSON (RFC 7946, WGS84 longitude/latitude) in a JSON field so the
same schema runs on SQLite and PostgreSQL without a spatial extension; shapely validates it
(see :mod:`rempart.core.geo`).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rempart.core.audit_models import AuditEntry, AuditHead  # noqa: F401  (one app, two modules)


class City(models.Model):
    """A city whose public spaces are protected; its time zone is used for every local time."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("identifier"), unique=True)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2 code"))
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    is_demo = models.BooleanField(_("demo data"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("city")
        verbose_name_plural = _("cities")

    def __str__(self) -> str:
        return f"{self.name} (demo)" if self.is_demo else self.name


class Organisation(models.Model):
    """A municipality, police force, service or NGO; its members see the cities it works for."""

    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("Municipality")
        MUNICIPAL_POLICE = "municipal_police", _("Municipal police")
        NATIONAL_POLICE = "national_police", _("National police")
        FIRE_RESCUE = "fire_rescue", _("Fire and rescue")
        SOCIAL_SERVICES = "social_services", _("Social services")
        EDUCATION = "education", _("Education")
        HEALTH = "health", _("Health")
        NGO = "ngo", _("NGO")
        RESEARCH = "research", _("Research")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    city = models.ForeignKey(
        City,
        verbose_name=_("home city"),
        on_delete=models.PROTECT,
        related_name="home_organisations",
    )
    cities = models.ManyToManyField(
        City, verbose_name=_("cities it works for"), related_name="organisations", blank=True
    )
    is_demo = models.BooleanField(_("demo data"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """A user's organisation and preferences (one per user)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="members",
        null=True,
        blank=True,
    )
    is_demo = models.BooleanField(_("demo account"), default=False)
    # Set when someone else chose the password (a new account's one-time password): until the
    # owner chooses their own, every page sends them to the password change (API tokens work).
    must_change_password = models.BooleanField(_("must change password"), default=False)

    class Meta:
        verbose_name = _("profile")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation or '-'}"


class Site(models.Model):
    """A public space to protect: its boundary (GeoJSON Polygon/MultiPolygon, WGS84) and crowds."""

    # where its city (and lane, zone) are, for rempart.core.access_rules
    city_path = "city"

    class Kind(models.TextChoices):
        SQUARE = "square", _("Square")
        STREET = "street", _("Street")
        PROMENADE = "promenade", _("Promenade")
        MARKET = "market", _("Market")
        EVENT_AREA = "event_area", _("Event area")
        SCHOOL = "school_surroundings", _("School surroundings")
        WORSHIP = "place_of_worship", _("Place of worship")
        TRANSPORT_HUB = "transport_hub", _("Transport hub")
        OTHER = "other", _("Other")

    city = models.ForeignKey(
        City, verbose_name=_("city"), on_delete=models.PROTECT, related_name="sites"
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, default=Kind.SQUARE)
    description = models.TextField(_("description"), blank=True)
    boundary = models.JSONField(
        _("boundary"), help_text=_("GeoJSON Polygon or MultiPolygon in WGS84")
    )
    typical_crowd = models.PositiveIntegerField(_("typical crowd"), default=0)
    peak_crowd = models.PositiveIntegerField(_("peak crowd"), default=0)
    osm_ref = models.CharField(_("OpenStreetMap reference"), max_length=40, blank=True)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["city", "name"]
        constraints = [
            models.UniqueConstraint(fields=["city", "name"], name="site_unique_name_per_city")
        ]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return f"{self.name} (demo)" if self.is_demo else self.name

    def get_absolute_url(self) -> str:
        return reverse("core:site_detail", args=[self.pk])

    def as_feature(self) -> dict[str, Any]:
        """The site as a GeoJSON Feature (WGS84)."""
        return {
            "type": "Feature",
            "id": self.pk,
            "geometry": self.boundary,
            "properties": {
                "name": self.name,
                "kind": self.kind,
                "city": self.city.slug,
                "typical_crowd": self.typical_crowd,
                "peak_crowd": self.peak_crowd,
                "demo": self.is_demo,
                "url": self.get_absolute_url(),
            },
        }


class SiteEvent(models.Model):
    """A crowd event on a site, e.g. 14 July fireworks: when and how many people are expected."""

    # where its city (and lane, zone) are, for rempart.core.access_rules
    city_path = "site__city"

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="events"
    )
    name = models.CharField(_("name"), max_length=200)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    expected_crowd = models.PositiveIntegerField(_("expected crowd"), default=0)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return f"{self.name} ({self.starts_at:%Y-%m-%d})"


TOKEN_PREFIX = "rmp"


class ApiToken(models.Model):
    """A revocable machine credential (camera, script) limited to a set of scopes.

    Only a SHA-256 digest of the secret is stored: the token is shown once, at creation.
    Scopes are strings ``<module>:<action>`` (see :data:`rempart.core.roles.TOKEN_SCOPES`);
    ``constraints`` narrows them further (e.g. ``{"lanes": ["old-town-north-in"]}``).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    key_id = models.CharField(max_length=16, unique=True, editable=False)
    key_digest = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    constraints = models.JSONField(_("constraints"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")

    audit_redact = ("key_digest",)

    def __str__(self) -> str:
        return f"{self.name} ({TOKEN_PREFIX}_{self.key_id}…)"

    @staticmethod
    def digest(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def issue(
        cls,
        user: Any,
        name: str,
        scopes: list[str],
        constraints: dict[str, Any] | None = None,
        expires_at: Any = None,
    ) -> tuple[ApiToken, str]:
        """Create a token; returns it with the clear-text value, which is never stored."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            key_id=key_id,
            key_digest=cls.digest(secret),
            scopes=sorted(set(scopes)),
            constraints=constraints or {},
            expires_at=expires_at,
        )
        return token, f"{TOKEN_PREFIX}_{key_id}_{secret}"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class CityBasemap(models.Model):
    """Streets of a city as GeoJSON (WGS84), drawn under the maps so they work offline.

    Derived from OpenStreetMap data and replaced whole on import; the import itself is written
    to the audit trail as one entry (feature count), not as a field diff of the blob.
    """

    audit_exempt = True

    city = models.OneToOneField(City, on_delete=models.CASCADE, related_name="basemap")
    geojson = models.TextField()
    attribution = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("base map")

    def __str__(self) -> str:
        return f"base map of {self.city}"
