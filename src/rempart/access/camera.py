"""The camera hot path: ``POST /api/v1/access/requests`` with a bearer token, in 3 reads + 2 inserts.

A camera read is the one request of the platform that arrives hundreds of times a second, so it
skips the ORM's query building (most of its cost) and runs a few hand-written, parameterised SQL
statements instead, with the same rules as the general path (:func:`services.submit_request`,
used by the command line, operators, simulated traffic and session callers):

1. the token, its owner and the owner's role, by the token's unique ``key_id`` (revoked,
   expired, or inactive owner: refused at once -- nothing is cached across requests);
2. the lane, its zone, whether the owner's organisation serves the zone's city, and the zone's
   schedules that have not ended;
3. every permit of the plate in the city with its zones (a PIN-only request uses the ORM);
4. in one transaction, committed before the answer: the decision and, for a grant, its passage.

Nothing is cached between requests, so a revoked token, a new permit, a mode change or a new
schedule is seen by the very next read. The engine (:mod:`rempart.access.decide`) is the same.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from ninja.security import HttpBearer

from rempart.access import decide as engine
from rempart.access import services
from rempart.access.models import (
    AccessDecision,
    Lane,
    Passage,
    Permit,
    Zone,
    ZoneSchedule,
    windows_to_engine,
)
from rempart.access.schedule import ScheduledMode, ZoneMode
from rempart.core import audit
from rempart.core.models import TOKEN_PREFIX, ApiToken, Organisation, Profile
from rempart.core.roles import ROLE_RANK, ROLES, TOKEN_SCOPES, group_name

SCOPE = "access:request"

#: Schedules fetched with the lane: those not ended this long before now, and at least
#: ``REMPART_ACCESS_MAX_READ_AGE_S`` (older reads are refused); those active at ``read_at`` apply.
SCHEDULE_LOOKBACK = dt.timedelta(days=1)


@dataclass(frozen=True)
class Caller:
    """A checked camera token: its owner and what it may do."""

    key_id: str
    user_id: int
    username: str
    is_superuser: bool
    has_role: bool
    scopes: tuple[str, ...]
    lanes: tuple[str, ...] | None


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    parsed = value if isinstance(value, dt.datetime) else parse_datetime(str(value))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)  # SQLite stores naive UTC (USE_TZ)
    return parsed


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value  # type: ignore[no-any-return]
    return parse_date(str(value))


def _prep(model: Any, field: str, value: Any) -> Any:
    return model._meta.get_field(field).get_db_prep_save(value, connection)


# --- 1. the token --------------------------------------------------------------------------------


@functools.cache
def _token_sql_for(vendor: str) -> str:
    user = get_user_model()
    groups = user._meta.get_field("groups")
    through = groups.remote_field.through._meta  # type: ignore[union-attr]
    group_table = groups.related_model._meta.db_table  # type: ignore[union-attr]
    _, role = TOKEN_SCOPES[SCOPE]
    names = ", ".join("%s" for r in ROLES if ROLE_RANK[r] >= ROLE_RANK[role])  # _token_params
    t, u = ApiToken._meta, user._meta
    return (
        f"SELECT t.{_q('key_digest')}, t.{_q('scopes')}, t.{_q('constraints')}, "
        f"t.{_q('expires_at')}, t.{_q('revoked_at')}, t.{_q('last_used_at')}, t.{_q('id')}, "
        f"u.{_q(str(u.pk.column))}, u.{_q(user.USERNAME_FIELD)}, u.{_q('is_active')}, "
        f"u.{_q('is_superuser')}, EXISTS (SELECT 1 FROM {_q(through.db_table)} ug "
        f"JOIN {_q(group_table)} g ON g.{_q('id')} = ug.{_q('group_id')} "
        f"WHERE ug.{_q('user_id')} = u.{_q(str(u.pk.column))} AND g.{_q('name')} IN ({names})) "
        f"FROM {_q(t.db_table)} t JOIN {_q(u.db_table)} u "
        f"ON u.{_q(str(u.pk.column))} = t.{_q('user_id')} WHERE t.{_q('key_id')} = %s"
    )


def _token_params(key_id: str) -> list[Any]:
    module, role = TOKEN_SCOPES[SCOPE]
    return [group_name(module, r) for r in ROLES if ROLE_RANK[r] >= ROLE_RANK[role]] + [key_id]


def check_token(token: str, ip: str = "") -> Caller | None:
    """The caller for ``rmp_<key id>_<secret>``, or None (unknown, wrong secret, revoked,
    expired, inactive owner). Same rules as :class:`rempart.core.api_auth.TokenAuth`."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_token_sql_for(connection.vendor), _token_params(parts[1]))
        row = cursor.fetchone()
    if row is None:
        return None
    digest, scopes, constraints, expires, revoked, last_used, token_pk = row[:7]
    user_id, username, active, superuser, role_ok = row[7:]
    now = timezone.now()
    expires_at = _datetime(expires)
    if revoked is not None or not active or (expires_at is not None and expires_at <= now):
        return None
    if not hmac.compare_digest(digest, ApiToken.digest(parts[2])):
        return None
    last = _datetime(last_used)
    if last is None or (now - last).total_seconds() > 60:
        with connection.cursor() as cursor:  # no audit: not a change of meaning
            cursor.execute(
                f"UPDATE {_q(ApiToken._meta.db_table)} SET {_q('last_used_at')} = %s "
                f"WHERE {_q('id')} = %s",
                [_prep(ApiToken, "last_used_at", now), token_pk],
            )
    lanes = (_json(constraints) or {}).get("lanes")
    caller = Caller(
        key_id=parts[1],
        user_id=int(user_id),
        username=str(username),
        is_superuser=bool(superuser),
        has_role=bool(superuser) or bool(role_ok),
        scopes=tuple(_json(scopes) or ()),
        lanes=tuple(lanes) if lanes is not None else None,
    )
    audit.set_actor(
        audit.Actor(name=f"{username} (token {parts[1]})", user_id=caller.user_id, ip=ip)
    )
    return caller


class CameraTokenAuth(HttpBearer):
    """Bearer auth for the camera endpoint: :func:`check_token`, kept on ``request.camera``."""

    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        caller = check_token(token, request.META.get("REMOTE_ADDR", ""))
        if caller is not None:
            request.camera = caller  # type: ignore[attr-defined]
        return caller


# --- 2. the lane ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LaneView:
    pk: int
    ident: str
    zone_pk: int
    city_pk: int
    visible: bool
    engine_lane: engine.Lane
    zone: Zone  # unsaved copy with the decision's fields (ident, timezone, mode, exit, name)
    schedules: tuple[ScheduledMode, ...]

    def engine_zone(self, at: dt.datetime) -> engine.Zone:
        return engine.Zone(
            id=self.zone.ident,
            timezone=self.zone.timezone,
            mode=ZoneMode(self.zone.mode),
            lanes=(self.engine_lane,),
            schedules=tuple(s for s in self.schedules if s.start <= at < s.end),
            lockdown_exit=engine.ExitPolicy(self.zone.lockdown_exit),
            name=self.zone.name,
        )


@functools.cache
def _lane_sql_for(vendor: str) -> str:
    lane, zone, sched = Lane._meta, Zone._meta, ZoneSchedule._meta
    cities = Organisation._meta.get_field("cities")
    through = cities.remote_field.through._meta  # type: ignore[union-attr]
    return (
        f"SELECT l.{_q('id')}, l.{_q('ident')}, l.{_q('direction')}, "
        f"l.{_q('identification')}, l.{_q('two_factor')}, z.{_q('id')}, z.{_q('city_id')}, "
        f"z.{_q('ident')}, z.{_q('timezone')}, z.{_q('mode')}, z.{_q('lockdown_exit')}, "
        f"z.{_q('name')}, "
        f"EXISTS (SELECT 1 FROM {_q(Profile._meta.db_table)} p "
        f"JOIN {_q(through.db_table)} oc ON oc.{_q('organisation_id')} = p.{_q('organisation_id')} "
        f"WHERE p.{_q('user_id')} = %s AND oc.{_q('city_id')} = z.{_q('city_id')}), "
        f"s.{_q('mode')}, s.{_q('start')}, s.{_q('end')}, s.{_q('label')} "
        f"FROM {_q(lane.db_table)} l JOIN {_q(zone.db_table)} z ON z.{_q('id')} = l.{_q('zone_id')} "
        f"LEFT JOIN {_q(sched.db_table)} s ON s.{_q('zone_id')} = z.{_q('id')} "
        f"AND s.{_q('end')} > %s "
        f"WHERE l.{_q('ident')} = %s ORDER BY s.{_q('start')}, s.{_q('id')}"
    )


def load_lane(ident: str, caller: Caller, now: dt.datetime) -> LaneView:
    """The lane ``ident`` with its zone and live schedules; ``RequestError`` 404 if unknown."""
    lookback = max(SCHEDULE_LOOKBACK, dt.timedelta(seconds=services.max_read_age_s() + 60))
    since = _prep(ZoneSchedule, "end", now - lookback)
    with connection.cursor() as cursor:
        cursor.execute(_lane_sql_for(connection.vendor), [caller.user_id, since, ident])
        rows = cursor.fetchall()
    if not rows:
        raise services.RequestError(404, f"lane {ident!r} does not exist")
    first = rows[0]
    lane_pk, lane_ident, direction, identification, two_factor = first[:5]
    zone_pk, city_pk, zone_ident, tz, mode, lockdown_exit, name, visible = first[5:13]
    schedules = tuple(
        ScheduledMode(
            mode=ZoneMode(row[13]),
            start=_datetime(row[14]),  # type: ignore[arg-type]
            end=_datetime(row[15]),  # type: ignore[arg-type]
            label=row[16],
        )
        for row in rows
        if row[13] is not None
    )
    return LaneView(
        pk=int(lane_pk),
        ident=lane_ident,
        zone_pk=int(zone_pk),
        city_pk=int(city_pk),
        visible=caller.is_superuser or bool(visible),
        engine_lane=engine.Lane(
            id=lane_ident,
            direction=engine.Direction(direction),
            identification=frozenset(
                engine.IdentificationMethod(m) for m in _json(identification) or ()
            ),
            two_factor=bool(two_factor),
            barriers=(),
        ),
        zone=Zone(
            pk=zone_pk,
            city_id=city_pk,
            ident=zone_ident,
            timezone=tz,
            mode=mode,
            lockdown_exit=lockdown_exit,
            name=name,
        ),
        schedules=schedules,
    )


# --- 3. the permits ------------------------------------------------------------------------------


@functools.cache
def _permits_sql_for(vendor: str) -> str:
    permit, zone = Permit._meta, Zone._meta
    through = permit.get_field("zones").remote_field.through._meta  # type: ignore[union-attr]
    cols = (
        "id",
        "ident",
        "plate",
        "category",
        "holder",
        "windows",
        "valid_from",
        "valid_to",
        "exception_dates",
        "max_mass_kg",
        "pin_hash",
        "status",
    )
    return (
        "SELECT "
        + ", ".join(f"p.{_q(c)}" for c in cols)
        + f", z.{_q('ident')} FROM {_q(permit.db_table)} p "
        f"LEFT JOIN {_q(through.db_table)} pz ON pz.{_q('permit_id')} = p.{_q('id')} "
        f"LEFT JOIN {_q(zone.db_table)} z ON z.{_q('id')} = pz.{_q('zone_id')} "
        f"WHERE p.{_q('city_id')} = %s AND p.{_q('plate')} = %s "
        f"ORDER BY p.{_q('ident')}, p.{_q('id')}"
    )


def permits_for_plate(city_pk: int, plate: str) -> list[engine.Permit]:
    """Every permit of ``plate`` in the city, whatever its status or zones (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_permits_sql_for(connection.vendor), [city_pk, plate])
        rows = cursor.fetchall()
    zones: dict[int, list[str]] = {}
    first: dict[int, tuple[Any, ...]] = {}
    for row in rows:
        first.setdefault(row[0], row)
        zones.setdefault(row[0], [])
        if row[12] is not None:
            zones[row[0]].append(row[12])
    return [
        engine.Permit(
            id=row[1],
            plate=row[2],
            category=engine.PermitCategory(row[3]),
            zones=frozenset(zones[pk]),
            holder=row[4],
            windows=windows_to_engine(_json(row[5]) or []),
            valid_from=_date(row[6]),
            valid_to=_date(row[7]),
            exception_dates=frozenset(dt.date.fromisoformat(d) for d in _json(row[8]) or []),
            max_mass_kg=row[9],
            pin_hash=row[10] or None,
            status=engine.PermitStatus(row[11]),
        )
        for pk, row in first.items()
    ]


# --- 4. the decision -----------------------------------------------------------------------------


def _insert(model: Any, values: dict[str, Any]) -> int:
    """INSERT one row of ``model`` with ``values`` (field name -> Python value); its id."""
    meta = model._meta
    fields = [meta.get_field(name) for name in values]
    sql = (
        f"INSERT INTO {_q(meta.db_table)} ({', '.join(_q(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    params = [f.get_db_prep_save(values[f.name], connection) for f in fields]
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(sql + f" RETURNING {_q(meta.pk.column)}", params)
            return int(cursor.fetchone()[0])
        cursor.execute(sql, params)
        return int(cursor.lastrowid)


def submit(
    caller: Caller,
    *,
    lane: str,
    plate: str | None,
    confidence: float | None,
    read_at: str,
    pin: str | None,
    mass_kg: int | None,
) -> dict[str, Any]:
    """Check, decide and store one camera read; the API answer. ``RequestError`` (4xx, one
    line, nothing stored) or :class:`Refused` (403, audited by the caller) otherwise."""
    now = timezone.now()
    if not (caller.has_role and SCOPE in caller.scopes):
        raise Refused(f"this credential lacks the {SCOPE!r} permission", {"scope": SCOPE})
    view = load_lane(lane, caller, now)
    if caller.lanes is not None and view.ident not in caller.lanes:
        raise Refused(
            f"this token may not act on lane {view.ident!r}; its lanes: {', '.join(caller.lanes)}",
            {"lane": view.ident},
        )
    if not view.visible:
        raise Refused(
            f"lane {view.ident!r} belongs to a city your organisation does not serve",
            {"lane": view.ident},
        )
    if plate is not None and confidence is None:
        raise services.RequestError(
            422, "confidence is required with a plate (0-1, as the ANPR engine reports)"
        )
    at = services.parse_read_at(read_at)
    # The same checks, in the same order, as services.submit_request.
    normalised = services.check_plate(plate)
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        raise services.RequestError(422, f"confidence {confidence!r} is not between 0 and 1")
    if pin is not None and not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise services.RequestError(422, "pin: expected 4 to 8 digits")
    services.check_read_time(at, now)
    if plate is None and pin is None:
        raise services.RequestError(422, "a request needs a plate, a PIN or an operator decision")
    read = (
        engine.PlateRead(plate=normalised, confidence=confidence or 0.0, mass_kg=mass_kg)
        if normalised is not None
        else None
    )
    if normalised is not None:
        permits = permits_for_plate(view.city_pk, normalised)
    else:  # PIN only: every PIN permit of the zone (rare; the general path's query)
        permits = services._permits_for(view.zone, None, pin_only=True)
    decision = engine.decide(
        engine.AccessRequest(lane_id=view.ident, at=at, plate=read, pin=pin),
        view.engine_zone(at),
        permits,
    )
    request_id = uuid.uuid4()
    with transaction.atomic():
        decision_pk = _insert(
            AccessDecision,
            {
                "request_id": request_id,
                "lane": view.pk,
                "zone": view.zone_pk,
                "received_at": now,
                "read_at": at,
                "source": AccessDecision.Source.API.value,
                "actor": caller.username[:150],
                "plate": normalised or "",
                "confidence": confidence,
                "pin_given": pin is not None,
                "has_permit": bool(normalised) and bool(permits),
                "pseudonymised_at": None,
                "outcome": decision.outcome.value,
                "reason": decision.reason.value,
                "message": decision.message,
                "mode": decision.mode.value,
                "local_time": decision.local_time.isoformat(timespec="seconds"),
                "permit_ident": decision.permit_id or "",
            },
        )
        if decision.granted:
            _insert(
                Passage,
                {
                    "decision": decision_pk,
                    "lane": view.pk,
                    "state": Passage.State.GRANTED.value,
                    "created_at": now,
                    "updated_at": now,
                    "close_reason": "",
                    "vehicle_cleared": False,
                },
            )
    return {
        "request_id": request_id.hex,
        "decision": decision.outcome.value,
        "reason_code": decision.reason.value,
        "reason": decision.message,
    }


class Refused(Exception):
    """A 403: the token's scope or role, its lanes, or the lane's city."""

    def __init__(self, message: str, detail: dict[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
