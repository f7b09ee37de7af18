"""Grants in time: a grant is executed while its vehicle can still be there, or never.

A grant (a decision ``grant``) makes a :class:`~rempart.access.models.Passage` that the device
daemon executes by lowering the lane's barriers. Two rules keep a stored grant from lowering a
barrier for the wrong vehicle:

* **Age limit.** A passage carries ``expires_at``: the read's instant (the earlier of the
  camera's ``read_at`` and the server's reception, so a camera clock running ahead buys no
  time) plus :func:`grant_max_age_s` (``REMPART_ACCESS_GRANT_MAX_AGE_S``, default 30 s). A
  passage not yet executed by then is never executed: :func:`expire_due` closes it as
  ``expired`` (one audit entry per city and sweep), and no ``lower`` command of it is sent or
  resent after that instant (:func:`abandon_late_lowers`). The daemon applies both at every
  tick, so after a restart, a lost database or a lost link it executes only what is still valid.
* **One passage per vehicle.** A grant for a plate that already has an unfinished passage on
  the same lane (``granted``, ``lowering``, ``open``, ``vehicle_passing``: the vehicle has not
  gone through yet) makes no second passage: it is stored as its own decision and moves that
  passage's ``expires_at`` to its own, later limit (the vehicle was seen again, so it is still
  there). Three reads of one plate in 2 s are one passage and one barrier cycle. A database
  constraint (one unfinished passage per lane and plate) holds this across server processes;
  the camera path writes it with ``INSERT ... ON CONFLICT`` (:data:`UPSERT_CONFLICT`), the
  general path with :func:`open_passage`.

``Passage.plate`` exists only for that constraint; the privacy purge clears it
(:mod:`rempart.access.retention`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from rempart.core import audit

#: Unfinished passages whose vehicle has not gone through: a repeated read joins them. The
#: partial unique constraint ``access_passage_one_per_plate`` covers exactly these states.
JOINABLE_STATES = ("granted", "lowering", "open", "vehicle_passing")

#: Why an expired passage was closed (stored in ``close_reason``).
EXPIRED_REASON = "grant expired before it was executed"

#: The conflict clause of the camera path's passage INSERT: a repeated read of a plate with an
#: unfinished passage on the lane moves that passage's limit to the later one instead of adding
#: a passage. The WHERE repeats the partial index's condition so both databases pick it.
UPSERT_CONFLICT = (
    "ON CONFLICT (lane_id, plate) WHERE state IN ({states}) "
    "DO UPDATE SET expires_at = CASE WHEN excluded.expires_at > {table}.expires_at "
    "THEN excluded.expires_at ELSE {table}.expires_at END"
).replace("{states}", ", ".join(f"'{s}'" for s in JOINABLE_STATES))


def grant_max_age_s() -> float:
    """The age limit of a grant, seconds: ``REMPART_ACCESS_GRANT_MAX_AGE_S`` (default 30, at
    most 600), checked when the settings load (``settings.ACCESS_GRANT_MAX_AGE_S``)."""
    return float(settings.ACCESS_GRANT_MAX_AGE_S)


def expires_at(read_at: dt.datetime, received_at: dt.datetime) -> dt.datetime:
    """The instant after which a grant for a read at ``read_at`` (camera clock), received at
    ``received_at`` (server clock), is no longer executed."""
    return min(read_at, received_at) + dt.timedelta(seconds=grant_max_age_s())


def open_passage(decision: Any, now: dt.datetime) -> Any:
    """The passage that executes the granting ``decision`` (a saved ``AccessDecision``), inside
    the caller's transaction: a new one, or the lane's unfinished passage of the same plate,
    whose limit moves to this read's if later (see the module docstring)."""
    from rempart.access.models import Passage

    limit = expires_at(decision.read_at, now)
    plate = decision.plate or None
    if plate is not None:
        joined = _join(decision.lane_id, plate, limit)
        if joined is not None:
            return joined
    try:
        with transaction.atomic():  # a savepoint: a concurrent insert must not end the outer one
            return Passage.objects.create(
                decision=decision,
                lane_id=decision.lane_id,
                plate=plate,
                state=Passage.State.GRANTED,
                created_at=now,
                updated_at=now,
                expires_at=limit,
            )
    except IntegrityError:
        # another process stored the same plate's passage on this lane in the meantime
        joined = _join(decision.lane_id, plate, limit) if plate is not None else None
        if joined is None:
            raise
        return joined


def _join(lane_pk: int, plate: str, limit: dt.datetime) -> Any:
    from rempart.access.models import Passage

    passage = (
        Passage.objects.select_for_update()
        .filter(lane_id=lane_pk, plate=plate, state__in=JOINABLE_STATES)
        .first()
    )
    if passage is not None and limit > passage.expires_at:
        Passage.objects.filter(pk=passage.pk).update(expires_at=limit)
        passage.expires_at = limit
    return passage


def expire_due(now: dt.datetime, zone_idents: Sequence[str] | None = None) -> int:
    """Close as ``expired`` every passage still ``granted`` whose limit has passed (in the
    zones ``zone_idents``, or all); one audit entry per city. Returns how many."""
    from rempart.access.models import Passage

    due = Passage.objects.filter(state=Passage.State.GRANTED, expires_at__lte=now)
    if zone_idents:
        due = due.filter(lane__zone__ident__in=list(zone_idents))
    rows = list(
        due.values_list(
            "pk",
            "lane__ident",
            "lane__zone__city_id",
            "decision__request_id",
            "created_at",
            "expires_at",
        )
    )
    if not rows:
        return 0
    # the same conditions again: a repeated read may have extended a limit since the select
    expired = Passage.objects.filter(
        pk__in=[row[0] for row in rows], state=Passage.State.GRANTED, expires_at__lte=now
    ).update(
        state=Passage.State.EXPIRED,
        updated_at=now,
        closed_at=now,
        close_reason=EXPIRED_REASON,
    )
    if expired != len(rows):  # rare: audit only those this sweep closed
        closed = set(
            Passage.objects.filter(
                pk__in=[row[0] for row in rows], state=Passage.State.EXPIRED, closed_at=now
            ).values_list("pk", flat=True)
        )
        rows = [row for row in rows if row[0] in closed]
    _audit_expired(rows)
    return expired


def expire_passage(passage: Any, now: dt.datetime) -> bool:
    """Close one unfinished ``passage`` (``granted`` or ``lowering`` with no barrier moved) as
    ``expired``, audited; False if its state changed meanwhile."""
    from rempart.access.models import Passage

    moved = (
        Passage.objects.filter(pk=passage.pk, state=passage.state).update(
            state=Passage.State.EXPIRED,
            updated_at=now,
            closed_at=now,
            close_reason=EXPIRED_REASON,
        )
        == 1
    )
    if moved:
        passage.state = Passage.State.EXPIRED
        lane = passage.lane
        _audit_expired(
            [
                (
                    passage.pk,
                    lane.ident,
                    lane.zone.city_id,
                    passage.decision.request_id,
                    passage.created_at,
                    passage.expires_at,
                )
            ]
        )
    return moved


def _audit_expired(rows: Iterable[tuple[Any, ...]]) -> None:
    """One ``access_grant_expired`` entry per city for ``rows`` (pk, lane, city pk, request
    id, granted at, limit)."""
    from rempart.core.models import City

    by_city: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        by_city[row[2]].append(row)
    cities = City.objects.in_bulk(list(by_city))
    for city_pk, city_rows in by_city.items():
        audit.record(
            "access_grant_expired",
            object_type="access.passage",
            object_repr=f"{len(city_rows)} grant(s) not executed within {grant_max_age_s():g} s",
            city=cities.get(city_pk),
            detail={
                "count": len(city_rows),
                "max_age_s": grant_max_age_s(),
                # the first hundred are enough to find them; the count says how many in all
                "passages": [
                    {
                        "lane": lane,
                        "request_id": request_id.hex,
                        "granted_at": granted.isoformat(),
                        "expired_at": limit.isoformat(),
                    }
                    for _pk, lane, _city, request_id, granted, limit in city_rows[:100]
                ],
            },
        )


def abandon_late_lowers(pending: dict[int, Any], now: dt.datetime) -> list[Any]:
    """Take out of ``pending`` (barrier pk -> unanswered ``DeviceCommand``) every ``lower`` of a
    passage whose limit has passed, marked done with outcome ``expired``: written before a
    kill, a restart or a lost link, it must not be sent (or resent) now. Returns them."""
    from rempart.access.models import DeviceCommand

    late = [
        command
        for command in pending.values()
        if command.command == "lower"
        and command.passage_id is not None
        and command.passage is not None
        and command.passage.expires_at <= now
    ]
    if late:
        DeviceCommand.objects.filter(pk__in=[c.pk for c in late], done=False).update(
            done=True, outcome="expired", detail="not sent: its grant expired"
        )
        for command in late:
            command.done = True
            pending.pop(command.barrier_id, None)
    return late


def lowered_for(passage: Any) -> bool:
    """Whether any ``lower`` of ``passage`` was executed by a controller (the grant has begun:
    what remains is the normal cycle, never a late start)."""
    from rempart.access.models import DeviceCommand

    return DeviceCommand.objects.filter(
        passage=passage, command="lower", outcome__in=("accepted", "duplicate")
    ).exists()
