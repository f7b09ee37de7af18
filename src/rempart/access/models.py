"""Access control records: zones, lanes, barriers, permits, decisions, passages, alarms.

The decision rules live in :mod:`rempart.access.decide` (pure Python); these models store what
the rules read (``to_engine()`` converts a row into the engine's frozen dataclass) and what
happened (decisions, passages, device commands, alarms).

Identifiers (``ident``) are the ids of the load file (``rempart access load``): zones, lanes
and barriers are unique across the installation (a camera's token names its lanes), permits
are unique per city.

Append-only, high-rate logs (decisions, passages, device commands, barrier status) set
``audit_exempt = True``: the generic audit trail would add a hash-chained entry per camera read.
They are summarised in the audit trail instead (``access_summary`` entries by the daemon, one
entry per purge, and one per operator action).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rempart.access import decide as engine
from rempart.access.drivers.base import (
    Barrier as EngineBarrier,
)
from rempart.access.drivers.base import (
    BarrierKind,
    DriverConfig,
    FailMode,
    ModbusDriverConfig,
    MqttDriverConfig,
    SimulatorDriverConfig,
)
from rempart.access.grants import JOINABLE_STATES
from rempart.access.schedule import DAY_NAMES, ScheduledMode, TimeWindow, ZoneMode
from rempart.core.models import City, Site


def _choices(enum: Any) -> list[tuple[str, str]]:
    return [(member.value, member.value.replace("_", " ")) for member in enum]


def driver_from_json(data: dict[str, Any] | None) -> DriverConfig:
    """The driver dataclass for a stored ``driver`` JSON (``{"type": "modbus", ...}``)."""
    data = dict(data or {"type": "simulator"})
    kind = data.pop("type", "simulator")
    if kind == "modbus":
        return ModbusDriverConfig(**data)
    if kind == "mqtt":
        return MqttDriverConfig(**data)
    return SimulatorDriverConfig()


def driver_to_json(config: DriverConfig) -> dict[str, Any]:
    """Inverse of :func:`driver_from_json` (only the fields that differ from the defaults)."""
    if isinstance(config, SimulatorDriverConfig):
        return {"type": "simulator"}
    defaults = type(config).__dataclass_fields__
    data: dict[str, Any] = {"type": config.type}
    for name, field in defaults.items():
        value = getattr(config, name)
        if name == "type" or value == field.default:
            continue
        data[name] = value
    # Always keep what locates the device.
    for name in ("host", "port", "unit", "topic"):
        if hasattr(config, name):
            data[name] = getattr(config, name)
    return data


class Zone(models.Model):
    """A protected area with barrier-controlled lanes; its base mode is set live by operators."""

    # where its city (and lane, zone) are, for rempart.core.access_rules
    city_path = "city"
    zone_path = "ident"

    city = models.ForeignKey(
        City, verbose_name=_("city"), on_delete=models.PROTECT, related_name="access_zones"
    )
    site = models.ForeignKey(
        Site,
        verbose_name=_("site"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="access_zones",
    )
    ident = models.CharField(_("identifier"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    mode = models.CharField(
        _("mode"), max_length=20, choices=_choices(ZoneMode), default=ZoneMode.NORMAL
    )
    lockdown_exit = models.CharField(
        _("exits during lockdown"),
        max_length=10,
        choices=_choices(engine.ExitPolicy),
        default=engine.ExitPolicy.FREE,
    )
    mode_reason = models.CharField(_("reason for the mode"), max_length=500, blank=True)
    mode_changed_at = models.DateTimeField(null=True, blank=True)
    mode_changed_by = models.CharField(max_length=150, blank=True)
    is_demo = models.BooleanField(_("demo data"), default=False)
    #: An exercise's simulated zone: simulator barriers only, never in the real control room,
    #: its decisions and commands kept out of the real lists, exports and figures.
    is_exercise = models.BooleanField(_("exercise zone"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["city", "ident"]
        verbose_name = _("zone")
        verbose_name_plural = _("zones")

    def __str__(self) -> str:
        return self.name or self.ident

    def get_absolute_url(self) -> str:
        return reverse("access:zone_detail", args=[self.ident])

    def to_engine(
        self,
        lanes: list[Lane] | None = None,
        schedules: list[ZoneSchedule] | None = None,
    ) -> engine.Zone:
        """The engine's ``Zone`` with its lanes and schedules (pass them to save queries)."""
        lanes = list(self.lanes.all()) if lanes is None else lanes
        schedules = list(self.schedules.all()) if schedules is None else schedules
        return engine.Zone(
            id=self.ident,
            timezone=self.timezone,
            mode=ZoneMode(self.mode),
            lanes=tuple(lane.to_engine(barriers=[]) for lane in lanes),
            schedules=tuple(s.to_engine() for s in schedules),
            lockdown_exit=engine.ExitPolicy(self.lockdown_exit),
            name=self.name,
        )


class Lane(models.Model):
    """One traffic lane through the zone's perimeter: an access point with its barriers."""

    # where its city (and lane, zone) are, for rempart.core.access_rules
    city_path = "zone__city"
    lane_path = "ident"
    zone_path = "zone__ident"

    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.CASCADE, related_name="lanes"
    )
    ident = models.CharField(_("identifier"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    direction = models.CharField(
        _("direction"), max_length=3, choices=_choices(engine.Direction), default="in"
    )
    identification = models.JSONField(
        _("identification methods"),
        default=list,
        help_text=_("any of anpr, pin, intercom, badge"),
    )
    two_factor = models.BooleanField(_("plate + PIN"), default=False)
    lon = models.FloatField(_("longitude (WGS84)"), null=True, blank=True)
    lat = models.FloatField(_("latitude (WGS84)"), null=True, blank=True)
    width_m = models.FloatField(_("width, m"), null=True, blank=True)
    required_rating = models.CharField(_("required rating"), max_length=120, blank=True)

    class Meta:
        ordering = ["zone", "ident"]
        verbose_name = _("lane")
        verbose_name_plural = _("lanes")

    def __str__(self) -> str:
        return self.name or self.ident

    def to_engine(self, barriers: list[Barrier] | None = None) -> engine.Lane:
        barriers = list(self.barriers.all()) if barriers is None else barriers
        return engine.Lane(
            id=self.ident,
            direction=engine.Direction(self.direction),
            identification=frozenset(engine.IdentificationMethod(m) for m in self.identification),
            two_factor=self.two_factor,
            barriers=tuple(b.to_engine() for b in barriers),
        )


class Barrier(models.Model):
    """A barrier device on a lane (bollard group, road blocker, gate) and how to reach it."""

    # where its city (and lane, zone) are, for rempart.core.access_rules
    city_path = "lane__zone__city"
    lane_path = "lane__ident"
    zone_path = "lane__zone__ident"

    lane = models.ForeignKey(
        Lane, verbose_name=_("lane"), on_delete=models.CASCADE, related_name="barriers"
    )
    ident = models.CharField(_("identifier"), max_length=64, unique=True)
    kind = models.CharField(
        _("kind"),
        max_length=24,
        choices=_choices(BarrierKind),
        default=BarrierKind.RETRACTABLE_BOLLARD,
    )
    crash_rating = models.CharField(_("crash rating"), max_length=120, blank=True)
    fail_mode = models.CharField(
        _("fail mode"), max_length=6, choices=_choices(FailMode), default=FailMode.SECURE
    )
    rise_time_s = models.FloatField(_("rise time, s"), default=4.0)
    lower_time_s = models.FloatField(_("lower time, s"), default=3.0)
    loop_detector = models.BooleanField(_("loop detector"), default=True)
    driver = models.JSONField(_("driver"), default=dict, help_text='e.g. {"type": "simulator"}')

    class Meta:
        ordering = ["lane", "ident"]
        verbose_name = _("barrier")
        verbose_name_plural = _("barriers")

    def __str__(self) -> str:
        return self.ident

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuse a real driver on an exercise zone's barrier (lock 1 of exercise mode)."""
        driver_type = (self.driver or {}).get("type", "simulator")
        if driver_type != "simulator" and self.lane.zone.is_exercise:
            raise ValueError(
                f"barrier {self.ident}: driver {driver_type!r} refused, an exercise zone's "
                "barriers use the simulator driver only."
            )
        super().save(*args, **kwargs)

    def to_engine(self) -> EngineBarrier:
        return EngineBarrier(
            id=self.ident,
            kind=BarrierKind(self.kind),
            fail_mode=FailMode(self.fail_mode),
            crash_rating=self.crash_rating or None,
            rise_time_s=self.rise_time_s,
            lower_time_s=self.lower_time_s,
            loop_detector=self.loop_detector,
            driver=driver_from_json(self.driver),
        )


class BarrierStatus(models.Model):
    """The last state a barrier reported to the daemon, and the daemon's command counter.

    ``command_seq`` is the last sequence id the daemon allocated for this barrier; it is kept
    here so that a restarted daemon never reuses an id the controller would ignore as a repeat.
    """

    audit_exempt = True

    barrier = models.OneToOneField(Barrier, on_delete=models.CASCADE, related_name="status")
    position = models.CharField(max_length=10, default="unknown")
    position_pct = models.IntegerField(null=True, blank=True)
    faults = models.JSONField(default=list)
    loop_occupied = models.BooleanField(default=False)
    power_ok = models.BooleanField(default=True)
    link_ok = models.BooleanField(default=False)
    heartbeat = models.IntegerField(default=0)
    reported_at = models.DateTimeField(null=True, blank=True)
    link_lost_since = models.DateTimeField(null=True, blank=True)
    command_seq = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("barrier status")

    def __str__(self) -> str:
        return f"{self.barrier_id}: {self.position}"


class ZoneSchedule(models.Model):
    """A mode that overrides the zone's base mode over ``[start, end)`` (e.g. New Year's Eve)."""

    # where its city (and lane, zone) are, for rempart.core.access_rules
    city_path = "zone__city"
    zone_path = "zone__ident"

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="schedules")
    mode = models.CharField(_("mode"), max_length=20, choices=_choices(ZoneMode))
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    label = models.CharField(_("label"), max_length=200, blank=True)
    # Who scheduled it (user name; blank from the load file): named when a scheduled lockdown
    # refuses an operator's action (rempart.access.precedence).
    created_by = models.CharField(_("scheduled by"), max_length=150, blank=True)

    class Meta:
        ordering = ["zone", "start"]
        verbose_name = _("scheduled mode")
        verbose_name_plural = _("scheduled modes")

    def __str__(self) -> str:
        return f"{self.mode} {self.start:%Y-%m-%d %H:%M} {self.label}".strip()

    def to_engine(self) -> ScheduledMode:
        return ScheduledMode(
            mode=ZoneMode(self.mode), start=self.start, end=self.end, label=self.label
        )


def windows_to_engine(windows: list[dict[str, Any]]) -> tuple[TimeWindow, ...]:
    return tuple(TimeWindow.of(w["days"], w["from"], w["to"]) for w in windows)


def windows_to_json(windows: tuple[TimeWindow, ...]) -> list[dict[str, Any]]:
    from rempart.access.schedule import format_minute

    return [
        {
            "days": [DAY_NAMES[d] for d in sorted(w.days)],
            "from": format_minute(w.start_minute),
            "to": format_minute(w.end_minute),
        }
        for w in windows
    ]


class Permit(models.Model):
    """An authorisation for one vehicle (plate, normalised) in some zones of a city.

    ``holder`` and ``holder_contact`` are personal data: shown to access editors and above only.
    """

    # where its city (and lane, zone) are, for rempart.core.access_rules
    city_path = "city"

    city = models.ForeignKey(
        City, verbose_name=_("city"), on_delete=models.PROTECT, related_name="access_permits"
    )
    ident = models.CharField(_("identifier"), max_length=64)
    plate = models.CharField(_("plate"), max_length=16, db_index=True)
    holder = models.CharField(_("holder"), max_length=200)
    holder_contact = models.CharField(_("holder contact"), max_length=300, blank=True)
    category = models.CharField(
        _("category"), max_length=20, choices=_choices(engine.PermitCategory)
    )
    max_mass_kg = models.PositiveIntegerField(_("maximum mass, kg"), null=True, blank=True)
    zones = models.ManyToManyField(Zone, verbose_name=_("zones"), related_name="permits")
    windows = models.JSONField(
        _("weekly windows"),
        default=list,
        blank=True,
        help_text=_('zone local time, e.g. [{"days": ["mon"], "from": "05:00", "to": "10:30"}]'),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    exception_dates = models.JSONField(_("exception dates"), default=list, blank=True)
    pin_hash = models.CharField(_("PIN (hashed)"), max_length=200, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=_choices(engine.PermitStatus),
        default=engine.PermitStatus.ACTIVE,
    )
    is_demo = models.BooleanField(_("demo data"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["city", "ident"]
        constraints = [
            models.UniqueConstraint(fields=["city", "ident"], name="access_permit_unique_ident")
        ]
        verbose_name = _("permit")
        verbose_name_plural = _("permits")

    def __str__(self) -> str:
        return f"{self.ident} ({self.category})"

    def to_engine(self, zone_idents: list[str] | None = None) -> engine.Permit:
        idents = [z.ident for z in self.zones.all()] if zone_idents is None else list(zone_idents)
        return permit_to_engine(
            ident=self.ident,
            plate=self.plate,
            category=self.category,
            zones=idents,
            holder=self.holder,
            windows=self.windows,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            exception_dates=self.exception_dates,
            max_mass_kg=self.max_mass_kg,
            pin_hash=self.pin_hash,
            status=self.status,
        )


def permit_to_engine(
    *,
    ident: str,
    plate: str,
    category: str,
    zones: list[str],
    holder: str,
    windows: list[dict[str, Any]],
    valid_from: dt.date | None,
    valid_to: dt.date | None,
    exception_dates: list[str],
    max_mass_kg: int | None,
    pin_hash: str | None,
    status: str,
) -> engine.Permit:
    """The engine's ``Permit`` from a permit's stored values (a model's fields or a raw row's
    columns, as the camera path reads them): the one mapping of both."""
    return engine.Permit(
        id=ident,
        plate=plate,
        category=engine.PermitCategory(category),
        zones=frozenset(zones),
        holder=holder,
        windows=windows_to_engine(windows),
        valid_from=valid_from,
        valid_to=valid_to,
        exception_dates=frozenset(dt.date.fromisoformat(d) for d in exception_dates),
        max_mass_kg=max_mass_kg,
        pin_hash=pin_hash or None,
        status=engine.PermitStatus(status),
    )


class AccessDecision(models.Model):
    """One request at a lane and the engine's answer, stored before any command leaves.

    ``plate`` is the normalised plate read; for vehicles without a permit it is replaced by a
    keyed pseudonym after 24 h and the row is deleted after the retention period
    (:mod:`rempart.access.retention`).

    A ``refer`` decision waits for an operator; the operator's answer is a new decision (source
    ``operator``, reason ``operator_grant`` / ``operator_deny``) whose ``answers`` points at it
    (:func:`rempart.access.services.answer_referral`).
    """

    # where its city (and lane, zone) are, for rempart.core.access_rules
    city_path = "zone__city"
    lane_path = "lane__ident"
    zone_path = "zone__ident"

    audit_exempt = True

    class Source(models.TextChoices):
        API = "api", _("camera API")
        CLI = "cli", _("command line")
        OPERATOR = "operator", _("operator")
        SIMULATED = "simulated", _("simulated traffic")

    request_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    lane = models.ForeignKey(Lane, on_delete=models.PROTECT, related_name="decisions")
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="decisions")
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API)
    actor = models.CharField(max_length=150, blank=True)
    plate = models.CharField(max_length=40, blank=True, db_index=True)
    confidence = models.FloatField(null=True, blank=True)
    pin_given = models.BooleanField(default=False)
    has_permit = models.BooleanField(default=False)
    pseudonymised_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=5, choices=_choices(engine.Outcome))
    reason = models.CharField(max_length=32, choices=_choices(engine.Reason))
    message = models.TextField()
    mode = models.CharField(max_length=20)
    local_time = models.CharField(max_length=40)
    permit_ident = models.CharField(max_length=64, blank=True)
    # An operator's answer to a referred request points at it; one answer per referral (the
    # unique column is what makes a second, concurrent answer fail). SET_NULL: the privacy
    # purge may delete the referred read before the answer.
    answers = models.OneToOneField(
        "self",
        verbose_name=_("answers the referred request"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="answer",
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["has_permit", "received_at"], name="access_dec_privacy"),
            models.Index(fields=["zone", "received_at"], name="access_dec_zone"),
        ]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self) -> str:
        return f"{self.request_id.hex[:8]} {self.outcome} {self.reason}"

    def as_answer(self) -> dict[str, Any]:
        """The JSON answer of the camera API and ``rempart access request --json``."""
        return {
            "request_id": self.request_id.hex,
            "decision": self.outcome,
            "reason_code": self.reason,
            "reason": self.message,
        }


class Passage(models.Model):
    """One granted vehicle through one lane, driven by the daemon through its states.

    granted -> lowering -> open -> vehicle_passing -> closing -> closed, or failed, or expired
    (not executed before ``expires_at``). It is created with the granting decision (the
    request itself is the :class:`AccessDecision`); a repeated read of the same plate on the
    lane while the passage is unfinished joins it instead of making another
    (:mod:`rempart.access.grants`). Only the oldest unfinished passage of a lane drives the
    barriers: one vehicle per cycle, which is what stops tailgaters.
    """

    audit_exempt = True

    class State(models.TextChoices):
        GRANTED = "granted", _("granted")
        LOWERING = "lowering", _("lowering")
        OPEN = "open", _("open")
        VEHICLE_PASSING = "vehicle_passing", _("vehicle passing")
        CLOSING = "closing", _("closing")
        CLOSED = "closed", _("closed")
        FAILED = "failed", _("failed")
        EXPIRED = "expired", _("expired (not executed in time)")

    ACTIVE = (
        State.GRANTED,
        State.LOWERING,
        State.OPEN,
        State.VEHICLE_PASSING,
        State.CLOSING,
    )

    decision = models.OneToOneField(
        AccessDecision, on_delete=models.CASCADE, related_name="passage"
    )
    lane = models.ForeignKey(Lane, on_delete=models.CASCADE, related_name="passages")
    state = models.CharField(max_length=16, choices=State.choices, default=State.GRANTED)
    # The normalised plate of a plate grant (None otherwise), for the one-unfinished-passage-
    # per-plate-and-lane constraint; cleared by the privacy purge.
    # NULL, not "": NULLs never collide in a unique index, so plateless grants never join.
    plate = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now)
    # Not executed after this instant (rempart.access.grants.expires_at).
    expires_at = models.DateTimeField()
    updated_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(null=True, blank=True)
    vehicle_at = models.DateTimeField(null=True, blank=True)
    closing_since = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=200, blank=True)
    vehicle_cleared = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["state"], name="access_passage_state")]
        constraints = [
            models.UniqueConstraint(
                fields=["lane", "plate"],
                condition=Q(state__in=JOINABLE_STATES),
                name="access_passage_one_per_plate",
            )
        ]
        verbose_name = _("passage")
        verbose_name_plural = _("passages")

    def __str__(self) -> str:
        return f"passage {self.pk} {self.lane_id} {self.state}"


class DeviceCommand(models.Model):
    """A command for one barrier, written (committed) before it is sent; resent with its seq."""

    audit_exempt = True

    barrier = models.ForeignKey(Barrier, on_delete=models.CASCADE, related_name="commands")
    passage = models.ForeignKey(
        Passage, on_delete=models.SET_NULL, null=True, blank=True, related_name="commands"
    )
    command = models.CharField(max_length=5)
    seq = models.IntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.IntegerField(default=0)
    outcome = models.CharField(max_length=24, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    done = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["done"], name="access_cmd_done")]
        verbose_name = _("device command")

    def __str__(self) -> str:
        return f"{self.command} #{self.seq} -> {self.barrier_id} ({self.outcome or 'pending'})"


class Alarm(models.Model):
    """Something the control room must see and acknowledge."""

    # where its city (and lane, zone) are, for rempart.core.access_rules
    city_path = "zone__city"
    lane_path = "lane__ident"
    zone_path = "zone__ident"

    class Kind(models.TextChoices):
        LINK_LOST = "link_lost", _("link lost")
        FAULT = "fault", _("fault")
        POWER_LOSS = "power_loss", _("power loss")
        FORCED_ENTRY = "forced_entry", _("forced entry / tailgating")
        TAILGATING = "tailgating", _("tailgating")
        INTERLOCK = "interlock", _("raise refused over occupied loop")
        COMMAND_FAILED = "command_failed", _("command failed")
        INTRUSION = "intrusion", _("intrusion detected")
        PANIC = "panic", _("panic button")

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="alarms")
    lane = models.ForeignKey(
        Lane, on_delete=models.CASCADE, null=True, blank=True, related_name="alarms"
    )
    barrier = models.ForeignKey(
        Barrier, on_delete=models.CASCADE, null=True, blank=True, related_name="alarms"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    message = models.CharField(max_length=500)
    detail = models.JSONField(default=dict, blank=True)
    raised_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledgement = models.CharField(max_length=500, blank=True)
    # when supervisors were told that this high-priority alarm stayed unacknowledged
    # (rempart.access.alarms.escalate)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class DaemonHeartbeat(models.Model):
    """The device daemon writes here every few seconds; the control room shows if it is alive."""

    audit_exempt = True

    name = models.CharField(max_length=40, unique=True, default="access")
    pid = models.IntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now)
    last_purge_at = models.DateTimeField(null=True, blank=True)
    last_summary_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} pid {self.pid}"


class DecisionImage(models.Model):
    """The camera's plate crop or context image sent with a request (:mod:`rempart.access.evidence`):
    JPEG or PNG checked by its magic bytes, size-limited, deleted with the plate in clear."""

    audit_exempt = True

    decision = models.OneToOneField(AccessDecision, on_delete=models.CASCADE, related_name="image")
    content_type = models.CharField(max_length=20)
    data = models.BinaryField()
    size_bytes = models.IntegerField()
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("camera image")

    def __str__(self) -> str:
        return f"{self.content_type} {self.size_bytes} B"


class DetectionInput(models.Model):
    """A detection device of a zone (intrusion cable, loop, door contact, panic button) wired
    through the barrier drivers' transports; :mod:`rempart.access.intrusion` reads it and
    raises an alarm in the zone's queue while it is active.

    ``driver``: ``{"type": "modbus", "host", "port", "unit", "address", "table":
    "discrete_input"|"coil"}`` or ``{"type": "mqtt", "host", "port", "topic"}`` (payload ``1``,
    ``true``, ``on``, ``active`` or JSON ``{"active": true}`` means active).
    """

    # where its city (and lane, zone) are, for rempart.core.access_rules
    city_path = "zone__city"
    zone_path = "zone__ident"

    class Kind(models.TextChoices):
        INTRUSION_CABLE = "intrusion_cable", _("intrusion-protection cable")
        LOOP = "loop", _("detection loop")
        DOOR_CONTACT = "door_contact", _("door contact")
        PANIC_BUTTON = "panic_button", _("panic button")

    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.CASCADE, related_name="inputs"
    )
    lane = models.ForeignKey(
        Lane, on_delete=models.SET_NULL, null=True, blank=True, related_name="inputs"
    )
    ident = models.CharField(_("identifier"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    driver = models.JSONField(_("driver"), default=dict)
    active_high = models.BooleanField(_("active when the input is 1"), default=True)

    class Meta:
        ordering = ["zone", "ident"]
        verbose_name = _("detection input")
        verbose_name_plural = _("detection inputs")

    def __str__(self) -> str:
        return self.name or self.ident
