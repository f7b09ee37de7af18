"""The simulated access zone of an exercise: two lanes, simulator-driven bollards only.

``ensure_zone`` gives an exercise its zone (``access.Zone.is_exercise``), identified
``exercise-<pk>``, if it has none; ``simulate`` runs the access daemon on that zone alone with
simulated traffic (``rempart exercises simulate ID``).
"""

from __future__ import annotations

import asyncio

from django.db import transaction

from rempart.access.models import Barrier, Lane, Zone
from rempart.exercises.models import Exercise

#: (identifier suffix, direction) of its lanes
LANES = (("in", "in"), ("out", "out"))


def ensure_zone(exercise: Exercise) -> Zone:
    """The exercise's simulated zone, created (with its lanes and simulator bollards) if absent."""
    if exercise.zone is not None:
        return exercise.zone
    ident = f"exercise-{exercise.pk}"
    with transaction.atomic():
        zone, _created = Zone.objects.get_or_create(
            ident=ident,
            defaults={
                "city": exercise.city,
                "name": f"{exercise.name} (exercise)"[:200],
                "timezone": exercise.city.timezone,
                "is_exercise": True,
                "is_demo": exercise.is_demo,
            },
        )
        for suffix, direction in LANES:
            lane, _new = Lane.objects.get_or_create(
                ident=f"{ident}-{suffix}",
                defaults={"zone": zone, "direction": direction, "identification": ["anpr"]},
            )
            Barrier.objects.get_or_create(
                ident=f"{ident}-{suffix}-1",
                defaults={"lane": lane, "driver": {"type": "simulator"}},
            )
        exercise.zone = zone
        exercise.save(update_fields=["zone"])
    return zone


def simulate(exercise: Exercise, vehicles_per_min: float, duration_s: float | None) -> None:
    """Run the access daemon on the exercise zone alone, with simulated traffic, until
    ``duration_s`` seconds have passed (None: until interrupted)."""
    from rempart.access.daemon import Daemon, DaemonOptions

    zone = ensure_zone(exercise)
    daemon = Daemon(DaemonOptions(zones=[zone.ident], simulated_traffic_per_min=vehicles_per_min))

    async def run() -> None:
        task = asyncio.create_task(daemon.run())
        if duration_s is None:
            await task
            return
        await asyncio.sleep(duration_s)
        daemon.stop()
        await asyncio.wait_for(task, 30)

    asyncio.run(run())
