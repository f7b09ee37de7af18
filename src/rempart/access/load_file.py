"""Writing a validated load file (``rempart access load``): zones, lanes, barriers, scheduled
modes and permits, in one transaction; a stored zone's live mode is kept unless the admin asks
for the file's with a reason (docs/access-protocols.md, "Load file").

Validation (YAML, types, ranges, ids) is :mod:`rempart.access.config`'s; nothing here runs
before it has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from rempart.access.config import AccessConfig
from rempart.access.models import Barrier, Lane, Zone, ZoneSchedule, driver_to_json
from rempart.access.schedule import ZoneMode
from rempart.access.services import _apply_mode, _save_permit
from rempart.core import audit


@dataclass(frozen=True)
class LoadSummary:
    zones: int
    lanes: int
    barriers: int
    schedules: int
    permits: int


class ModeChangeRefused(ValueError):
    """The load file would change live zone modes without ``set_modes_reason``; ``errors``
    holds one line per zone."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def _live_mode_conflicts(config: AccessConfig, stored: dict[str, Zone]) -> list[str]:
    """One line per stored zone whose live mode the file would change."""
    lines = []
    for index, z in enumerate(config.zones):
        zone = stored.get(z.id)
        if zone is None or not config.declares(z.id, "mode") or z.mode.value == zone.mode:
            continue
        since = (
            f" (set by {zone.mode_changed_by or 'unknown'} at "
            f"{zone.mode_changed_at:%Y-%m-%d %H:%M} UTC"
            + (f": {zone.mode_reason[:80]!r}" if zone.mode_reason else "")
            + ")"
            if zone.mode_changed_at
            else ""
        )
        lines.append(
            f"zones[{index}].mode: zone {z.id!r} is live in {zone.mode}{since}; the file says "
            f"{z.mode.value}. Leave mode out of the file to keep the live mode, or pass "
            "--set-modes with --reason to change it"
        )
    return lines


def load_config(
    config: AccessConfig,
    city: Any,
    *,
    is_demo: bool = False,
    set_modes_reason: str | None = None,
) -> LoadSummary:
    """Write a validated load file for ``city`` in one transaction (upsert by ids).

    A zone's schedules are replaced by the file's; lanes, barriers and permits are created or
    updated, none deleted (removing equipment is a deliberate act in the admin).

    **Live modes.** A stored zone's mode is live state, set in the control room with a role
    and a reason. The file changes it only when it writes ``mode`` and the caller gives
    ``set_modes_reason`` (``--set-modes --reason``); a file without ``mode`` (or
    ``lockdown_exit``) keeps the stored value. Each change is written like a change by hand:
    who (the current audit actor) and why (the reason replaces the old one), passages closed on
    entering lockdown, one ``access_mode`` audit entry naming the load file.

    Raises
    ------
    ModeChangeRefused
        The file would change live modes and no reason was given; nothing is written.
    ValueError
        An id already belongs to another city or zone; an empty ``set_modes_reason``.
    """
    if set_modes_reason is not None and not set_modes_reason.strip():
        raise ValueError("--set-modes needs a --reason (who asked for the change and why)")
    counts = {"lanes": 0, "barriers": 0, "schedules": 0}
    now = timezone.now()
    actor = audit.current_actor().name
    with transaction.atomic():
        idents = [z.id for z in config.zones]
        stored = {
            zone.ident: zone
            for zone in Zone.objects.filter(ident__in=idents).select_related("city")
        }
        for ident, zone in stored.items():
            if zone.city_id != city.pk:
                raise ValueError(f"zone {ident!r} already belongs to city {zone.city.slug}")
        conflicts = _live_mode_conflicts(config, stored)
        if conflicts and set_modes_reason is None:
            raise ModeChangeRefused(conflicts)
        zones: dict[str, Zone] = {}
        for z in config.zones:
            defaults: dict[str, Any] = {
                "city": city,
                "name": z.name,
                "timezone": z.timezone,
                "is_demo": is_demo,
            }
            existing = stored.get(z.id)
            if existing is None or config.declares(z.id, "lockdown_exit"):
                defaults["lockdown_exit"] = z.lockdown_exit.value
            if existing is None:
                defaults["mode"] = z.mode.value
                if z.mode is not ZoneMode.NORMAL:
                    defaults.update(
                        mode_reason=(set_modes_reason or "set by the load file").strip()[:500],
                        mode_changed_at=now,
                        mode_changed_by=actor[:150],
                    )
            zone, _ = Zone.objects.update_or_create(ident=z.id, defaults=defaults)
            if existing is not None and config.declares(z.id, "mode") and z.mode.value != zone.mode:
                assert set_modes_reason is not None  # refused above otherwise
                _apply_mode(
                    zone, z.mode, actor, set_modes_reason.strip()[:500], now, source="load file"
                )
            zones[z.id] = zone
            for ln in z.lanes:
                other = Lane.objects.filter(ident=ln.id).exclude(zone=zone).first()
                if other is not None and other.zone.city_id != city.pk:
                    raise ValueError(f"lane {ln.id!r} already belongs to another city")
                lane, _ = Lane.objects.update_or_create(
                    ident=ln.id,
                    defaults={
                        "zone": zone,
                        "direction": ln.direction.value,
                        "identification": sorted(m.value for m in ln.identification),
                        "two_factor": ln.two_factor,
                    },
                )
                counts["lanes"] += 1
                for b in ln.barriers:
                    Barrier.objects.update_or_create(
                        ident=b.id,
                        defaults={
                            "lane": lane,
                            "kind": b.kind.value,
                            "crash_rating": b.crash_rating or "",
                            "fail_mode": b.fail_mode.value,
                            "rise_time_s": b.rise_time_s,
                            "lower_time_s": b.lower_time_s,
                            "loop_detector": b.loop_detector,
                            "driver": driver_to_json(b.driver),
                        },
                    )
                    counts["barriers"] += 1
            zone.schedules.all().delete()
            for s in z.schedules:
                ZoneSchedule.objects.create(
                    zone=zone, mode=s.mode.value, start=s.start, end=s.end, label=s.label
                )
                counts["schedules"] += 1
        for p in config.permits:
            _save_permit(p, city, [zones[z] for z in sorted(p.zones)], is_demo=is_demo)
        audit.record(
            "access_load",
            object_type="access.config",
            object_repr=f"{len(config.zones)} zones, {len(config.permits)} permits",
            city=city,
            detail={**counts, "zones": len(config.zones), "permits": len(config.permits)},
        )
    return LoadSummary(
        zones=len(config.zones),
        lanes=counts["lanes"],
        barriers=counts["barriers"],
        schedules=counts["schedules"],
        permits=len(config.permits),
    )
