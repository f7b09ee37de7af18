"""Camera reads, decided and stored in batches: the path of ``POST /api/v1/access/requests``.

A camera read is the one request of the platform that arrives hundreds of times a second. Its
cost is in the database round trips and commits, not in the decision, so reads are taken in
batches (:mod:`rempart.access.group_commit` gathers the reads that arrive while the previous
batch is being stored) and each batch costs the same few statements whatever its size:

1. the batch's tokens, their owners, the owners' role and the cities they serve (one query,
   by the tokens' unique ``key_id``; revoked, expired, or inactive owner: refused);
2. the batch's lanes, their zones and the zones' schedules that have not ended (one query);
3. every permit of the batch's plates in those cities, with their zones (one query; a
   PIN-only read, rare, uses the ORM);
4. in one transaction, committed before any answer leaves: the decisions and, for grants,
   their passages (two multi-row statements; the token's ``last_used_at`` once a minute).

Nothing is cached between batches: a revoked token, a new permit, a mode change or a new
schedule committed before a read arrives is seen by that read. The rules and their order are
those of the general path (:func:`rempart.access.services.submit_request`, used by the command
line, operators, simulated traffic and session callers), and the engine is the same
(:mod:`rempart.access.decide`); ``tests/access/test_camera.py`` holds the two paths to the same
answers and rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

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

log = logging.getLogger(__name__)

SCOPE = "access:request"

#: Schedules fetched with the lane: those not ended this long before now, and at least
#: ``REMPART_ACCESS_MAX_READ_AGE_S`` (older reads are refused); those active at ``read_at`` apply.
SCHEDULE_LOOKBACK = dt.timedelta(days=1)

#: A token's ``last_used_at`` is written at most this often (seconds): it tells an administrator
#: which camera credentials are alive, not how many reads each sent.
LAST_USED_EVERY_S = 60.0

UNAUTHORIZED = "the token is unknown, revoked or expired, or its owner is inactive"


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


@dataclass(frozen=True)
class Caller:
    """A checked camera token: its owner, what it may do and the cities it may act in."""

    key_id: str
    token_pk: int
    user_id: int
    username: str
    is_superuser: bool
    has_role: bool
    scopes: tuple[str, ...]
    lanes: tuple[str, ...] | None
    city_pks: frozenset[int]
    last_used_at: dt.datetime | None

    def actor(self, ip: str) -> audit.Actor:
        return audit.Actor(
            name=f"{self.username} (token {self.key_id})", user_id=self.user_id, ip=ip
        )


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


def load_callers(tokens: set[str], now: dt.datetime) -> dict[str, Caller]:
    """The valid callers among ``tokens`` (full ``rmp_…`` credentials), by credential; the same
    rules as :class:`rempart.core.api_auth.TokenAuth` (wrong secret, revoked, expired, inactive
    owner: absent)."""
    split = {token: parts for token in tokens if (parts := _split_token(token))}
    if not split:
        return {}
    key_ids = sorted({key_id for key_id, _ in split.values()})
    module, role = TOKEN_SCOPES[SCOPE]
    params = [group_name(module, r) for r in ROLES if ROLE_RANK[r] >= ROLE_RANK[role]]
    with connection.cursor() as cursor:
        cursor.execute(_token_sql_for(connection.vendor, len(key_ids)), [*params, *key_ids])
        rows = cursor.fetchall()
    by_key: dict[str, tuple[Any, ...]] = {}
    cities: dict[str, set[int]] = {}
    for row in rows:
        by_key.setdefault(row[0], row)
        if row[13] is not None:
            cities.setdefault(row[0], set()).add(int(row[13]))
    callers: dict[str, Caller] = {}
    for token, (key_id, secret) in split.items():
        row = by_key.get(key_id)
        if row is None:
            continue
        _, digest, scopes, constraints, expires, revoked, last_used, token_pk = row[:8]
        user_id, username, active, superuser, role_ok = row[8:13]
        expires_at = _datetime(expires)
        if revoked is not None or not active or (expires_at is not None and expires_at <= now):
            continue
        if not hmac.compare_digest(digest, ApiToken.digest(secret)):
            continue
        lanes = (_json(constraints) or {}).get("lanes")
        callers[token] = Caller(
            key_id=key_id,
            token_pk=int(token_pk),
            user_id=int(user_id),
            username=str(username),
            is_superuser=bool(superuser),
            has_role=bool(superuser) or bool(role_ok),
            scopes=tuple(_json(scopes) or ()),
            lanes=tuple(lanes) if lanes is not None else None,
            city_pks=frozenset(cities.get(key_id, ())),
            last_used_at=_datetime(last_used),
        )
    return callers


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
    return engine.Permit(
        id=row[2],
        plate=row[3],
        category=engine.PermitCategory(row[4]),
        zones=frozenset(zones),
        holder=row[5],
        windows=windows_to_engine(_json(row[6]) or []),
        valid_from=_date(row[7]),
        valid_to=_date(row[8]),
        exception_dates=frozenset(dt.date.fromisoformat(d) for d in _json(row[9]) or []),
        max_mass_kg=row[10],
        pin_hash=row[11] or None,
        status=engine.PermitStatus(row[12]),
    )


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
    """A 403 to audit: the token's scope or role, its lanes, or the lane's city."""

    def __init__(self, message: str, detail: dict[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


def _check(
    read: CameraRead, caller: Caller, lane: LaneView | None, now: dt.datetime
) -> tuple[dt.datetime, str | None]:
    """The read's time and normalised plate; ``RequestError`` or ``_Refused`` if it may not be
    decided. The same checks, in the same order, as the API's general path."""
    if not (caller.has_role and SCOPE in caller.scopes):
        raise _Refused(
            f"this credential lacks the {SCOPE!r} permission",
            {"scope": SCOPE, "method": "POST"},
        )
    if lane is None:
        raise services.RequestError(404, f"lane {read.lane!r} does not exist")
    if caller.lanes is not None and lane.ident not in caller.lanes:
        message = (
            f"this token may not act on lane {lane.ident!r}; its lanes: {', '.join(caller.lanes)}"
        )
        raise _Refused(message, {"reason": message, "lane": lane.ident})
    if not caller.is_superuser and lane.city_pk not in caller.city_pks:
        message = f"lane {lane.ident!r} belongs to a city your organisation does not serve"
        raise _Refused(message, {"reason": message, "lane": lane.ident})
    if read.plate is not None and read.confidence is None:
        raise services.RequestError(
            422, "confidence is required with a plate (0-1, as the ANPR engine reports)"
        )
    at = services.parse_read_at(read.read_at)
    plate = services.check_plate(read.plate)
    if read.confidence is not None and not 0.0 <= read.confidence <= 1.0:
        raise services.RequestError(422, f"confidence {read.confidence!r} is not between 0 and 1")
    if read.pin is not None and not (read.pin.isdigit() and 4 <= len(read.pin) <= 8):
        raise services.RequestError(422, "pin: expected 4 to 8 digits")
    services.check_read_time(at, now)
    if plate is None and read.pin is None:
        raise services.RequestError(422, "a request needs a plate, a PIN or an operator decision")
    return at, plate


def decide_batch(reads: Sequence[CameraRead]) -> list[Answer]:
    """Check, decide and store ``reads``; one :class:`Answer` per read, in order.

    The decisions (and grants' passages) are committed in one transaction before this returns;
    a read refused before deciding (4xx, one line) stores nothing; a refusal of permission is
    written to the audit trail. If the transaction fails, every read of the batch is answered
    503 and nothing of it is stored.
    """
    now = timezone.now()
    answers: list[Answer | None] = [None] * len(reads)
    callers = load_callers({read.token for read in reads}, now)
    lanes = load_lanes({read.lane for read in reads if read.token in callers}, now)
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
            answers[index] = Answer(403, {"detail": exc.message})
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
    if decisions or refusals:
        try:
            _store(decisions, refusals, callers.values(), now)
        except DatabaseError:
            log.exception("could not store %d camera decisions", len(decisions))
            for item, *_ in decisions:
                answers[item.index] = Answer(
                    503, {"detail": "the decision could not be stored; nothing was decided, retry"}
                )
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
_PASSAGE_FIELDS = ("lane", "state", "created_at", "updated_at", "close_reason", "vehicle_cleared")


def _column(model: Any, field: str) -> str:
    return _q(model._meta.get_field(field).column)


@functools.cache
def _insert_sql_for(vendor: str) -> tuple[str, str]:
    d, p = AccessDecision._meta, Passage._meta
    decision_columns = ", ".join(_column(AccessDecision, f) for f in _DECISION_FIELDS)
    decision_sql = (
        f"INSERT INTO {_q(d.db_table)} ({decision_columns}) "
        f"VALUES ({_placeholders(len(_DECISION_FIELDS))})"
    )
    passage_columns = ", ".join(_column(Passage, f) for f in ("decision", *_PASSAGE_FIELDS))
    passage_sql = (
        f"INSERT INTO {_q(p.db_table)} ({passage_columns}) "
        f"SELECT d.{_q('id')}, {_placeholders(len(_PASSAGE_FIELDS))} FROM {_q(d.db_table)} d "
        f"WHERE d.{_q('request_id')} = %s"
    )
    return decision_sql, passage_sql


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


def _store(
    decisions: list[tuple[_Checked, engine.Decision, list[engine.Permit], uuid.UUID]],
    refusals: list[tuple[CameraRead, Caller, _Refused]],
    callers: Any,
    now: dt.datetime,
) -> None:
    """In one transaction: the decisions and the grants' passages (two statements), the
    refusals' audit entries, the tokens' ``last_used_at`` (once a minute)."""
    decision_rows: list[list[Any]] = []
    passage_rows: list[list[Any]] = []
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
            passage_rows.append(
                [
                    *_values(
                        Passage,
                        _PASSAGE_FIELDS,
                        {
                            "lane": item.lane.pk,
                            "state": Passage.State.GRANTED.value,
                            "created_at": now,
                            "updated_at": now,
                            "close_reason": "",
                            "vehicle_cleared": False,
                        },
                    ),
                    _prep(AccessDecision, "request_id", request_id),
                ]
            )
    stale = [
        c.token_pk
        for c in callers
        if c.last_used_at is None or (now - c.last_used_at).total_seconds() > LAST_USED_EVERY_S
    ]
    decision_sql, passage_sql = _insert_sql_for(connection.vendor)
    with transaction.atomic(), connection.cursor() as cursor:
        if decision_rows:
            cursor.executemany(decision_sql, decision_rows)
        if passage_rows:
            cursor.executemany(passage_sql, passage_rows)
        if stale:  # not audited: not a change of meaning
            cursor.executemany(
                f"UPDATE {_q(ApiToken._meta.db_table)} SET {_q('last_used_at')} = %s "
                f"WHERE {_q('id')} = %s",
                [[_prep(ApiToken, "last_used_at", now), pk] for pk in stale],
            )
        for read, caller, refusal in refusals:
            with audit.acting_as(caller.actor(read.ip)):
                audit.record(
                    "permission_denied",
                    object_type="api",
                    object_repr="/api/v1/access/requests",
                    detail={**refusal.detail, "token": caller.key_id},
                )
