"""Camera reads, decided and stored in batches: the path of ``POST /api/v1/access/requests``.

A camera read is the one request of the platform that arrives hundreds of times a second. Its
cost is in the database round trips and commits, not in the decision, so reads are taken in
batches (:mod:`rempart.access.group_commit` gathers the reads that arrive while the previous
batch is being stored) and each batch costs the same few statements whatever its size:

1. the state stamp (one query on a one-row table): tokens and lanes read by earlier batches
   are used only while it is unchanged. Database triggers give it a new random value whenever
   a token, a user's name, activity or roles, a profile, an organisation's cities, a zone, a
   lane or a schedule changes, whoever writes (migration ``access`` 0003);
2. the tokens not yet known, their owners, the owners' role and the cities they serve, and the
   lanes not yet known with their zones and schedules (one query each, only when needed); a
   token is checked against its secret, revocation, expiry and its owner at every read;
3. every permit of the batch's plates in those cities, with their zones (one query, every
   batch: permits are never kept; a PIN-only read, rare, uses the ORM);
4. in one transaction, committed before any answer leaves: the decisions and, for grants,
   their passages (one multi-row INSERT each; the token's ``last_used_at`` once a minute). A
   grant for a plate whose passage on the lane is unfinished joins it (the INSERT's conflict
   clause, :data:`rempart.access.grants.UPSERT_CONFLICT`); every passage has its age limit.

A change committed before a read arrives is therefore seen by that read: a revoked token, a new
permit, a mode change, a new schedule. The rules and their order are those of the general path
(:func:`rempart.access.services.submit_request`, used by the command line, operators, simulated
traffic and session callers), and the engine is the same (:mod:`rempart.access.decide`);
``tests/access/test_camera.py`` holds the two paths to the same answers and rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import json
import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from rempart.access import decide as engine
from rempart.access import grants, services
from rempart.access.models import (
    AccessDecision,
    Lane,
    Passage,
    Permit,
    Zone,
    ZoneSchedule,
    permit_to_engine,
)
from rempart.access.schedule import ScheduledMode, ZoneMode
from rempart.core import audit
from rempart.core.access_rules import TokenLimits
from rempart.core.models import TOKEN_PREFIX, ApiToken, City, Organisation, Profile
from rempart.core.roles import ROLE_RANK, ROLES, TOKEN_SCOPES, group_name

log = logging.getLogger(__name__)

SCOPE = "access:request"

#: Schedules fetched with the lane: those not ended this long before now, and at least
#: ``REMPART_ACCESS_MAX_READ_AGE_S`` (older reads are refused); those active at ``read_at`` apply.
SCHEDULE_LOOKBACK = dt.timedelta(days=1)

#: A token's ``last_used_at`` is written at most this often (seconds): it tells an administrator
#: which camera credentials are alive, not how many reads each sent.
LAST_USED_EVERY_S = 60.0

UNAUTHORIZED = "the token is unknown, revoked or expired, or its owner is inactive"
NOT_STORED = "the decision could not be stored; nothing was decided, retry"


@dataclass(frozen=True)
class CameraRead:
    """One ``POST /api/v1/access/requests`` as received, before any check.

    ``token`` is the bearer credential (``rmp_<key id>_<secret>``), ``ip`` the client address,
    ``read_at`` the camera's ISO 8601 text, ``received_at`` the server's instant (UTC).
    """

    token: str
    ip: str
    lane: str
    plate: str | None
    confidence: float | None
    read_at: str
    pin: str | None
    mass_kg: int | None
    received_at: dt.datetime


@dataclass(frozen=True)
class Answer:
    """The HTTP answer to one read: ``status`` and the JSON ``body``."""

    status: int
    body: dict[str, Any]


class BadBody(ValueError):
    """A request body that is not a read: one line naming the field, the value and what is expected."""


def _expect(body: dict[str, Any], field: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        raise BadBody(f"{field}: expected {what}, got {json.dumps(value)[:60]}")
    if isinstance(value, str) and "\x00" in value:  # PostgreSQL refuses NUL in text
        raise BadBody(f"{field}: contains a NUL character (\\x00); expected {what}")
    return value


def parse_body(raw: bytes, *, token: str, ip: str, received_at: dt.datetime) -> CameraRead:
    """The read in a JSON body ``{"lane", "plate", "confidence", "read_at", "pin", "mass_kg"}``;
    :class:`BadBody` otherwise (fields of the wrong type, missing lane or read_at)."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadBody(
            "the body is not JSON; expected an object with lane, plate, confidence, read_at"
        ) from None
    if not isinstance(body, dict):
        raise BadBody('the body is not a JSON object; expected {"lane": ..., "read_at": ...}')
    lane = _expect(body, "lane", str, "the lane id as a string")
    read_at = _expect(body, "read_at", str, "an ISO 8601 date and time as a string")
    if lane is None:
        raise BadBody("lane: missing; expected the lane id as a string")
    if read_at is None:
        raise BadBody("read_at: missing; expected an ISO 8601 date and time with an offset")
    confidence = _expect(body, "confidence", (int, float), "a number between 0 and 1")
    mass_kg = _expect(body, "mass_kg", int, "a whole number of kilograms")
    return CameraRead(
        token=token,
        ip=ip,
        lane=lane,
        plate=_expect(body, "plate", str, "the plate as a string"),
        confidence=float(confidence) if confidence is not None else None,
        read_at=read_at,
        pin=_expect(body, "pin", str, "the PIN as a string of 4 to 8 digits"),
        mass_kg=mass_kg,
        received_at=received_at,
    )


# --- SQL helpers ---------------------------------------------------------------------------------


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


def _placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def _prep(model: Any, field: str, value: Any) -> Any:
    return model._meta.get_field(field).get_db_prep_save(value, connection)


# --- 1. the tokens -------------------------------------------------------------------------------


@functools.cache
def _token_sql_for(vendor: str, count: int) -> str:
    user = get_user_model()
    groups = user._meta.get_field("groups")
    through = groups.remote_field.through._meta  # type: ignore[union-attr]
    group_table = groups.related_model._meta.db_table  # type: ignore[union-attr]
    cities = Organisation._meta.get_field("cities").remote_field.through._meta  # type: ignore[union-attr]
    _, role = TOKEN_SCOPES[SCOPE]
    names = _placeholders(sum(1 for r in ROLES if ROLE_RANK[r] >= ROLE_RANK[role]))
    t, u, pk = ApiToken._meta, user._meta, _q(str(user._meta.pk.column))
    return (
        f"SELECT t.{_q('key_id')}, t.{_q('key_digest')}, t.{_q('scopes')}, "
        f"t.{_q('constraints')}, t.{_q('expires_at')}, t.{_q('revoked_at')}, "
        f"t.{_q('last_used_at')}, t.{_q('id')}, u.{pk}, u.{_q(user.USERNAME_FIELD)}, "
        f"u.{_q('is_active')}, u.{_q('is_superuser')}, "
        f"EXISTS (SELECT 1 FROM {_q(through.db_table)} ug "
        f"JOIN {_q(group_table)} g ON g.{_q('id')} = ug.{_q('group_id')} "
        f"WHERE ug.{_q('user_id')} = u.{pk} AND g.{_q('name')} IN ({names})), "
        f"oc.{_q('city_id')} "
        f"FROM {_q(t.db_table)} t JOIN {_q(u.db_table)} u ON u.{pk} = t.{_q('user_id')} "
        f"LEFT JOIN {_q(Profile._meta.db_table)} p ON p.{_q('user_id')} = u.{pk} "
        f"LEFT JOIN {_q(cities.db_table)} oc "
        f"ON oc.{_q('organisation_id')} = p.{_q('organisation_id')} "
        f"WHERE t.{_q('key_id')} IN ({_placeholders(count)})"
    )


def _split_token(token: str) -> tuple[str, str] | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    return parts[1], parts[2]


@dataclass
class Caller:
    """A camera token as stored, with its owner: what it may do and the cities it may act in.
    Kept between batches (see :class:`KnownState`) and checked against the secret and the
    clock at each use (:meth:`accepts`)."""

    key_id: str
    digest: str
    token_pk: int
    scopes: tuple[str, ...]
    limits: TokenLimits
    expires_at: dt.datetime | None
    revoked: bool
    last_used_at: dt.datetime | None
    user_id: int
    username: str
    active: bool
    is_superuser: bool
    role_ok: bool
    city_pks: frozenset[int]

    @property
    def has_role(self) -> bool:
        return self.is_superuser or self.role_ok

    def accepts(self, secret: str, now: dt.datetime) -> bool:
        """Whether ``secret`` is this token's and it is usable at ``now``; same rules as
        :class:`rempart.core.api_auth.TokenAuth` (revoked, expired, inactive owner: no)."""
        if self.revoked or not self.active:
            return False
        if self.expires_at is not None and self.expires_at <= now:
            return False
        return hmac.compare_digest(self.digest, ApiToken.digest(secret))

    def actor(self, ip: str) -> audit.Actor:
        return audit.Actor(
            name=f"{self.username} (token {self.key_id})", user_id=self.user_id, ip=ip
        )


def load_token_records(key_ids: set[str]) -> dict[str, Caller]:
    """The stored tokens among ``key_ids`` with their owners (one query)."""
    if not key_ids:
        return {}
    module, role = TOKEN_SCOPES[SCOPE]
    params = [group_name(module, r) for r in ROLES if ROLE_RANK[r] >= ROLE_RANK[role]]
    with connection.cursor() as cursor:
        cursor.execute(_token_sql_for(connection.vendor, len(key_ids)), [*params, *sorted(key_ids)])
        rows = cursor.fetchall()
    by_key: dict[str, tuple[Any, ...]] = {}
    cities: dict[str, set[int]] = {}
    for row in rows:
        by_key.setdefault(row[0], row)
        if row[13] is not None:
            cities.setdefault(row[0], set()).add(int(row[13]))
    records = {}
    for key_id, row in by_key.items():
        records[key_id] = Caller(
            key_id=key_id,
            digest=row[1],
            scopes=tuple(_json(row[2]) or ()),
            limits=TokenLimits.of(_json(row[3])),
            expires_at=_datetime(row[4]),
            revoked=row[5] is not None,
            last_used_at=_datetime(row[6]),
            token_pk=int(row[7]),
            user_id=int(row[8]),
            username=str(row[9]),
            active=bool(row[10]),
            is_superuser=bool(row[11]),
            role_ok=bool(row[12]),
            city_pks=frozenset(cities.get(key_id, ())),
        )
    return records


# --- 2. the lanes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LaneView:
    """A lane with its zone's decision fields and the zone's schedules not yet ended."""

    pk: int
    ident: str
    zone_pk: int
    city_pk: int
    engine_lane: engine.Lane
    zone_ident: str
    zone_timezone: str
    zone_mode: ZoneMode
    zone_exit: engine.ExitPolicy
    zone_name: str
    schedules: tuple[ScheduledMode, ...]

    def engine_zone(self, at: dt.datetime) -> engine.Zone:
        return engine.Zone(
            id=self.zone_ident,
            timezone=self.zone_timezone,
            mode=self.zone_mode,
            lanes=(self.engine_lane,),
            schedules=tuple(s for s in self.schedules if s.start <= at < s.end),
            lockdown_exit=self.zone_exit,
            name=self.zone_name,
        )


@functools.cache
def _lane_sql_for(vendor: str, count: int) -> str:
    lane, zone, sched = Lane._meta, Zone._meta, ZoneSchedule._meta
    return (
        f"SELECT l.{_q('id')}, l.{_q('ident')}, l.{_q('direction')}, "
        f"l.{_q('identification')}, l.{_q('two_factor')}, z.{_q('id')}, z.{_q('city_id')}, "
        f"z.{_q('ident')}, z.{_q('timezone')}, z.{_q('mode')}, z.{_q('lockdown_exit')}, "
        f"z.{_q('name')}, s.{_q('mode')}, s.{_q('start')}, s.{_q('end')}, s.{_q('label')} "
        f"FROM {_q(lane.db_table)} l JOIN {_q(zone.db_table)} z ON z.{_q('id')} = l.{_q('zone_id')} "
        f"LEFT JOIN {_q(sched.db_table)} s ON s.{_q('zone_id')} = z.{_q('id')} "
        f"AND s.{_q('end')} > %s "
        f"WHERE l.{_q('ident')} IN ({_placeholders(count)}) "
        f"ORDER BY l.{_q('id')}, s.{_q('start')}, s.{_q('id')}"
    )


def load_lanes(idents: set[str], now: dt.datetime) -> dict[str, LaneView]:
    """The lanes among ``idents`` that exist, with their zones and live schedules."""
    if not idents:
        return {}
    lookback = max(SCHEDULE_LOOKBACK, dt.timedelta(seconds=services.max_read_age_s() + 60))
    since = _prep(ZoneSchedule, "end", now - lookback)
    with connection.cursor() as cursor:
        cursor.execute(_lane_sql_for(connection.vendor, len(idents)), [since, *sorted(idents)])
        rows = cursor.fetchall()
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        grouped.setdefault(row[1], []).append(row)
    return {ident: _lane_view(lane_rows) for ident, lane_rows in grouped.items()}


def _lane_view(rows: list[tuple[Any, ...]]) -> LaneView:
    lane_pk, lane_ident, direction, identification, two_factor = rows[0][:5]
    zone_pk, city_pk, zone_ident, tz, mode, lockdown_exit, name = rows[0][5:12]
    schedules = tuple(
        ScheduledMode(
            mode=ZoneMode(row[12]),
            start=_datetime(row[13]),  # type: ignore[arg-type]
            end=_datetime(row[14]),  # type: ignore[arg-type]
            label=row[15],
        )
        for row in rows
        if row[12] is not None
    )
    return LaneView(
        pk=int(lane_pk),
        ident=lane_ident,
        zone_pk=int(zone_pk),
        city_pk=int(city_pk),
        engine_lane=engine.Lane(
            id=lane_ident,
            direction=engine.Direction(direction),
            identification=frozenset(
                engine.IdentificationMethod(m) for m in _json(identification) or ()
            ),
            two_factor=bool(two_factor),
            barriers=(),
        ),
        zone_ident=zone_ident,
        zone_timezone=tz,
        zone_mode=ZoneMode(mode),
        zone_exit=engine.ExitPolicy(lockdown_exit),
        zone_name=name,
        schedules=schedules,
    )


# --- 3. the permits ------------------------------------------------------------------------------

_PERMIT_COLUMNS = (
    "id",
    "city_id",
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


@functools.cache
def _permits_sql_for(vendor: str, count: int) -> str:
    permit, zone = Permit._meta, Zone._meta
    through = permit.get_field("zones").remote_field.through._meta  # type: ignore[union-attr]
    return (
        "SELECT "
        + ", ".join(f"p.{_q(c)}" for c in _PERMIT_COLUMNS)
        + f", z.{_q('ident')} FROM {_q(permit.db_table)} p "
        f"LEFT JOIN {_q(through.db_table)} pz ON pz.{_q('permit_id')} = p.{_q('id')} "
        f"LEFT JOIN {_q(zone.db_table)} z ON z.{_q('id')} = pz.{_q('zone_id')} "
        f"WHERE p.{_q('plate')} IN ({_placeholders(count)}) "
        f"ORDER BY p.{_q('ident')}, p.{_q('id')}"
    )


def permits_for_plates(wanted: set[tuple[int, str]]) -> dict[tuple[int, str], list[engine.Permit]]:
    """Every permit of each (city pk, plate) in ``wanted``, whatever its status or zones."""
    found: dict[tuple[int, str], list[engine.Permit]] = {key: [] for key in wanted}
    plates = sorted({plate for _, plate in wanted})
    if not plates:
        return found
    with connection.cursor() as cursor:
        cursor.execute(_permits_sql_for(connection.vendor, len(plates)), plates)
        rows = cursor.fetchall()
    zones: dict[int, list[str]] = {}
    first: dict[int, tuple[Any, ...]] = {}
    for row in rows:
        first.setdefault(row[0], row)
        zones.setdefault(row[0], [])
        if row[13] is not None:
            zones[row[0]].append(row[13])
    for pk, row in first.items():
        key = (int(row[1]), row[3])
        if key in found:
            found[key].append(_engine_permit(row, zones[pk]))
    return found


def _engine_permit(row: tuple[Any, ...], zones: list[str]) -> engine.Permit:
    return permit_to_engine(
        ident=row[2],
        plate=row[3],
        category=row[4],
        zones=zones,
        holder=row[5],
        windows=_json(row[6]) or [],
        valid_from=_date(row[7]),
        valid_to=_date(row[8]),
        exception_dates=_json(row[9]) or [],
        max_mass_kg=row[10],
        pin_hash=row[11],
        status=row[12],
    )


# --- what is kept between batches ---------------------------------------------------------------

#: The row that database triggers give a new random value whenever a token, a user's name,
#: activity or roles, a profile, an organisation's cities, a zone, a lane or a schedule changes
#: (migration access 0003). Permits are not kept: they are read for every batch.
STAMP_SQL = "SELECT stamp FROM access_state_stamp WHERE id = 1"


class KnownState(threading.local):
    """Tokens and lanes this thread has read, kept while the database's state stamp is the
    one they were read under (checked once per batch, before anything is used). A change
    committed by any writer changes the stamp, so the next batch reads afresh; a missing stamp
    keeps nothing."""

    def __init__(self) -> None:
        self.stamp: str | None = None
        self.tokens: dict[str, Caller] = {}
        self.lanes: dict[str, LaneView] = {}

    def refresh(self) -> None:
        """Check the stamp (one query); forget everything if it changed."""
        with connection.cursor() as cursor:
            cursor.execute(STAMP_SQL)
            row = cursor.fetchone()
        stamp = str(row[0]) if row else None
        if stamp is None or stamp != self.stamp:
            self.tokens.clear()
            self.lanes.clear()
        self.stamp = stamp

    def callers(self, tokens: set[str], now: dt.datetime) -> dict[str, Caller]:
        """The usable callers among ``tokens`` (full credentials), by credential."""
        split = {token: parts for token in tokens if (parts := _split_token(token))}
        self.tokens.update(
            load_token_records({key for key, _ in split.values() if key not in self.tokens})
        )
        callers = {}
        for token, (key_id, secret) in split.items():
            caller = self.tokens.get(key_id)
            if caller is not None and caller.accepts(secret, now):
                callers[token] = caller
        return callers

    def lanes_for(self, idents: set[str], now: dt.datetime) -> dict[str, LaneView]:
        """The lanes among ``idents`` that exist."""
        self.lanes.update(load_lanes(idents - self.lanes.keys(), now))
        return {ident: self.lanes[ident] for ident in idents if ident in self.lanes}


known = KnownState()


# --- 4. checks, decisions, storage ---------------------------------------------------------------


@dataclass
class _Checked:
    """A read that passed every check, waiting for its permits and its decision."""

    index: int
    read: CameraRead
    caller: Caller
    lane: LaneView
    at: dt.datetime
    plate: str | None


class _Refused(Exception):
    """A refusal to audit: 403 for the token's scope or role or its lane and zone limits, 404
    for a lane of a city the owner's organisation does not serve (answered as for no lane, as
    rempart.core.access_rules answers another city's objects)."""

    def __init__(
        self, message: str, detail: dict[str, Any], status: int = 403, city_pk: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = {"reason": message, "answered": status, "method": "POST", **detail}
        self.status = status
        self.city_pk = city_pk


def _check(
    read: CameraRead, caller: Caller, lane: LaneView | None, now: dt.datetime
) -> tuple[dt.datetime, str | None]:
    """The read's time and normalised plate; ``RequestError`` or ``_Refused`` if it may not be
    decided. The same checks, in the same order, as the API's general path."""
    if not (caller.has_role and SCOPE in caller.scopes):
        raise _Refused(f"this credential lacks the {SCOPE!r} permission", {"scope": SCOPE})
    missing = f"lane {read.lane!r} does not exist"
    if lane is None:
        raise services.RequestError(404, missing)
    if not caller.is_superuser and lane.city_pk not in caller.city_pks:
        raise _Refused(
            missing,
            {"lane": lane.ident, "why": "lane of a city the owner's organisation does not serve"},
            status=404,
            city_pk=lane.city_pk,
        )
    if not caller.limits.allows(lane.ident, lane.zone_ident):
        raise _Refused(
            caller.limits.refusal(f"lane {lane.ident!r}"),
            {"lane": lane.ident, "zone": lane.zone_ident},
            city_pk=lane.city_pk,
        )
    if read.plate is not None and read.confidence is None:
        raise services.RequestError(
            422, "confidence is required with a plate (0-1, as the ANPR engine reports)"
        )
    at = services.parse_read_at(read.read_at)
    return at, services.check_read_fields(
        read.plate, read.confidence, read.pin, at, now, mass_kg=read.mass_kg
    )


def decide_batch(reads: Sequence[CameraRead]) -> list[Answer]:
    """Check, decide and store ``reads``; one :class:`Answer` per read, in order.

    The decisions (and grants' passages) are committed in one transaction before this returns;
    a read refused before deciding (4xx, one line) stores nothing; a refusal of permission is
    written to the audit trail. If the transaction fails, every read of the batch is answered
    503 and nothing of it is stored.
    """
    now = timezone.now()
    answers: list[Answer | None] = [None] * len(reads)
    known.refresh()
    callers = known.callers({read.token for read in reads}, now)
    lanes = known.lanes_for({read.lane for read in reads if read.token in callers}, now)
    checked: list[_Checked] = []
    refusals: list[tuple[CameraRead, Caller, _Refused]] = []
    for index, read in enumerate(reads):
        caller = callers.get(read.token)
        if caller is None:
            answers[index] = Answer(401, {"detail": UNAUTHORIZED})
            continue
        try:
            at, plate = _check(read, caller, lanes.get(read.lane), now)
        except services.RequestError as exc:
            answers[index] = Answer(exc.status, {"detail": exc.message})
            continue
        except _Refused as exc:
            answers[index] = Answer(exc.status, {"detail": exc.message})
            refusals.append((read, caller, exc))
            continue
        checked.append(_Checked(index, read, caller, lanes[read.lane], at, plate))
    permits = permits_for_plates({(c.lane.city_pk, c.plate) for c in checked if c.plate})
    decisions: list[tuple[_Checked, engine.Decision, list[engine.Permit], uuid.UUID]] = []
    for item in checked:
        if item.plate is not None:
            found = permits[(item.lane.city_pk, item.plate)]
        else:  # PIN only: every PIN permit of the zone (rare; the general path's query)
            zone = Zone(pk=item.lane.zone_pk, city_id=item.lane.city_pk)
            found = services._permits_for(zone, None, pin_only=True)
        plate_read = (
            engine.PlateRead(
                plate=item.plate, confidence=item.read.confidence or 0.0, mass_kg=item.read.mass_kg
            )
            if item.plate is not None
            else None
        )
        decision = engine.decide(
            engine.AccessRequest(
                lane_id=item.lane.ident, at=item.at, plate=plate_read, pin=item.read.pin
            ),
            item.lane.engine_zone(item.at),
            found,
        )
        decisions.append((item, decision, found, uuid.uuid4()))
    by_key = {c.key_id: c for c in callers.values()} if decisions else {}
    stale = [
        c
        for c in by_key.values()
        if c.last_used_at is None or (now - c.last_used_at).total_seconds() > LAST_USED_EVERY_S
    ]
    if decisions or refusals:
        try:
            _store(decisions, refusals, [c.token_pk for c in stale], now)
            for caller in stale:  # the kept record, as now stored
                caller.last_used_at = now
        except DatabaseError:
            log.exception("could not store %d camera decisions", len(decisions))
            for item, *_ in decisions:
                answers[item.index] = Answer(503, {"detail": NOT_STORED})
            decisions = []
    for item, decision, _, request_id in decisions:
        answers[item.index] = Answer(
            200,
            {
                "request_id": request_id.hex,
                "decision": decision.outcome.value,
                "reason_code": decision.reason.value,
                "reason": decision.message,
            },
        )
    return [answer for answer in answers if answer is not None]


_DECISION_FIELDS = (
    "request_id",
    "lane",
    "zone",
    "received_at",
    "read_at",
    "source",
    "actor",
    "plate",
    "confidence",
    "pin_given",
    "has_permit",
    "pseudonymised_at",
    "outcome",
    "reason",
    "message",
    "mode",
    "local_time",
    "permit_ident",
)
_PASSAGE_FIELDS = (
    "lane",
    "plate",
    "state",
    "created_at",
    "updated_at",
    "expires_at",
    "close_reason",
    "vehicle_cleared",
)


def _column(model: Any, field: str) -> str:
    return _q(model._meta.get_field(field).column)


@functools.cache
def _insert_sql_for(
    vendor: str,
    model: Any,
    fields: tuple[str, ...],
    rows: int,
    returning: bool = False,
    on_conflict: str = "",
) -> str:
    """``INSERT INTO <model> (<fields>) VALUES (...), (...)`` for ``rows`` rows, then the
    ``on_conflict`` clause; with ``returning``, the new rows' ids and request ids come back."""
    values = ", ".join([f"({_placeholders(len(fields))})"] * rows)
    columns = ", ".join(_column(model, f) for f in fields)
    sql = f"INSERT INTO {_q(model._meta.db_table)} ({columns}) VALUES {values}"
    if on_conflict:
        sql += f" {on_conflict}"
    if returning:
        sql += f" RETURNING {_q('id')}, {_q('request_id')}"
    return sql


#: Rows per INSERT statement: 18 parameters a decision, far below SQLite's and PostgreSQL's
#: limits on the number of parameters of one statement.
ROWS_PER_INSERT = 500


def _insert(
    cursor: Any,
    model: Any,
    fields: tuple[str, ...],
    rows: list[list[Any]],
    on_conflict: str = "",
) -> None:
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[start : start + ROWS_PER_INSERT]
        sql = _insert_sql_for(connection.vendor, model, fields, len(chunk), on_conflict=on_conflict)
        cursor.execute(sql, [value for row in chunk for value in row])


def _insert_decisions(cursor: Any, rows: list[list[Any]]) -> dict[Any, int]:
    """Insert the decision rows; their ids by (database form of) request id."""
    if not connection.features.can_return_rows_from_bulk_insert:  # SQLite before 3.35
        single = _insert_sql_for(connection.vendor, AccessDecision, _DECISION_FIELDS, 1)
        ids = {}
        for row in rows:
            cursor.execute(single, row)
            ids[row[0]] = int(cursor.lastrowid)
        return ids
    ids = {}
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[start : start + ROWS_PER_INSERT]
        sql = _insert_sql_for(
            connection.vendor, AccessDecision, _DECISION_FIELDS, len(chunk), returning=True
        )
        cursor.execute(sql, [value for row in chunk for value in row])
        ids.update((request_id, int(pk)) for pk, request_id in cursor.fetchall())
    return ids


def _identity(value: Any) -> Any:
    return value


@functools.cache
def _converters(model: Any, fields: tuple[str, ...], vendor: str) -> tuple[Any, ...]:
    """For each field, the function turning a Python value into the database's: Django's own
    (``get_db_prep_save``) where the value needs it (dates, UUIDs, JSON), else none."""
    plain = (
        models.CharField,
        models.TextField,
        models.BooleanField,
        models.IntegerField,
        models.FloatField,
        models.ForeignKey,
    )
    converters = []
    for name in fields:
        field = model._meta.get_field(name)
        if isinstance(field, plain) and not isinstance(field, models.JSONField):
            converters.append(_identity)
        else:
            converters.append(functools.partial(field.get_db_prep_save, connection=connection))
    return tuple(converters)


def _values(model: Any, fields: tuple[str, ...], values: dict[str, Any]) -> list[Any]:
    converters = _converters(model, fields, connection.vendor)
    return [convert(values[name]) for convert, name in zip(converters, fields, strict=True)]


@functools.cache
def _passage_conflict() -> str:
    return grants.UPSERT_CONFLICT.replace("{table}", _q(Passage._meta.db_table))


def _store(
    decisions: list[tuple[_Checked, engine.Decision, list[engine.Permit], uuid.UUID]],
    refusals: list[tuple[CameraRead, Caller, _Refused]],
    stale_tokens: list[int],
    now: dt.datetime,
) -> None:
    """In one transaction: the decisions and the grants' passages (one multi-row INSERT each),
    the refusals' audit entries, the tokens' ``last_used_at`` (once a minute)."""
    decision_rows: list[list[Any]] = []
    # one new passage per lane and plate (a repeated read in the batch only extends its limit),
    # with the request id of its decision
    passages: dict[tuple[int, str | uuid.UUID], tuple[dict[str, Any], Any]] = {}
    for item, decision, found, request_id in decisions:
        decision_rows.append(
            _values(
                AccessDecision,
                _DECISION_FIELDS,
                {
                    "request_id": request_id,
                    "lane": item.lane.pk,
                    "zone": item.lane.zone_pk,
                    "received_at": item.read.received_at,
                    "read_at": item.at,
                    "source": AccessDecision.Source.API.value,
                    "actor": item.caller.username[:150],
                    "plate": item.plate or "",
                    "confidence": item.read.confidence,
                    "pin_given": item.read.pin is not None,
                    "has_permit": bool(item.plate) and bool(found),
                    "pseudonymised_at": None,
                    "outcome": decision.outcome.value,
                    "reason": decision.reason.value,
                    "message": decision.message,
                    "mode": decision.mode.value,
                    "local_time": decision.local_time.isoformat(timespec="seconds"),
                    "permit_ident": decision.permit_id or "",
                },
            )
        )
        if decision.granted:
            limit = grants.expires_at(item.at, item.read.received_at)
            key = (item.lane.pk, item.plate or request_id)
            if key in passages:
                values = passages[key][0]
                values["expires_at"] = max(values["expires_at"], limit)
                continue
            values = {
                "lane": item.lane.pk,
                "plate": item.plate,
                "state": Passage.State.GRANTED.value,
                "created_at": now,
                "updated_at": now,
                "expires_at": limit,
                "close_reason": "",
                "vehicle_cleared": False,
            }
            passages[key] = (values, decision_rows[-1][0])  # the database form of the request id
    with transaction.atomic(), connection.cursor() as cursor:
        decision_ids = _insert_decisions(cursor, decision_rows) if decision_rows else {}
        if passages:
            rows = [
                [*_values(Passage, _PASSAGE_FIELDS, values), decision_ids[request_id]]
                for values, request_id in passages.values()
            ]
            _insert(
                cursor,
                Passage,
                (*_PASSAGE_FIELDS, "decision"),
                rows,
                on_conflict=_passage_conflict(),
            )
        if stale_tokens:  # not audited: not a change of meaning (nor of the state stamp)
            cursor.executemany(
                f"UPDATE {_q(ApiToken._meta.db_table)} SET {_q('last_used_at')} = %s "
                f"WHERE {_q('id')} = %s",
                [[_prep(ApiToken, "last_used_at", now), pk] for pk in stale_tokens],
            )
        for read, caller, refusal in refusals:
            with audit.acting_as(caller.actor(read.ip)):
                audit.record(
                    "permission_denied",
                    object_type="api",
                    object_repr="/api/v1/access/requests",
                    # under the lane's city: its admins see who tried their lanes
                    city=City.objects.filter(pk=refusal.city_pk).first()
                    if refusal.city_pk is not None
                    else None,
                    detail={
                        **refusal.detail,
                        "path": "/api/v1/access/requests",
                        "token": caller.key_id,
                    },
                )
