"""Read and fully validate an access load file (YAML) into the engine's frozen dataclasses.

Nothing is written anywhere: the caller (``rempart access load``) stores the result in one
transaction only when this module returns without error. Every problem in the file is
collected and reported together, one line each, naming its path::

    zones[0].lanes[1].barriers[0].fail_mode: 'down' is not one of secure, safe

YAML is read with a stricter resolver than PyYAML's YAML 1.1 default, because the default
turns ``10:30`` into the integer 630 (base 60), ``no`` into False and ``2027-07-14 18:00:00``
into a naive datetime. Here only ``true``/``false`` are booleans, only plain decimal numbers are
numbers, and dates and times stay text that this module parses itself.

Local times in ``schedules`` (``2027-07-14T18:00``) are read in the zone's time zone; a time
that does not exist (spring-forward gap) is an error; an ambiguous one (fall-back) is taken at
its first occurrence (``fold=0``), which is said in docs/access-protocols.md. An explicit UTC
offset (``2027-07-14T18:00+02:00``) is used as written.

Shape (more optional fields than shown): see docs/access-protocols.md and the tests.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml

from rempart.access.decide import (
    Direction,
    ExitPolicy,
    IdentificationMethod,
    Lane,
    Permit,
    PermitCategory,
    PermitStatus,
    Zone,
)
from rempart.access.drivers.base import (
    Barrier,
    BarrierKind,
    DriverConfig,
    FailMode,
    ModbusDriverConfig,
    MqttDriverConfig,
    SimulatorDriverConfig,
)
from rempart.access.plates import (
    PIN_RULE,
    InvalidPlateError,
    hash_pin,
    is_valid_pin,
    normalise_plate,
)
from rempart.access.schedule import (
    DAY_NAMES,
    ScheduledMode,
    TimeWindow,
    ZoneMode,
    parse_hhmm,
)

__all__ = ["AccessConfig", "ConfigError", "load_config", "parse_config", "validate_config"]

E = TypeVar("E", bound=StrEnum)

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
ID_RULE = "1-64 characters: letters, digits, '-', '_', '.', ':' (starting with a letter or digit)"
MQTT_TOPIC_PATTERN = re.compile(r"[^#+\s/][^#+\s]*[^#+\s/]|[^#+\s/]")
MAX_MASS_KG = 100_000
MAX_TRAVEL_S = 60.0
#: Longest error line, characters.
MAX_LINE = 300


@dataclass(frozen=True)
class AccessConfig:
    """A validated load file: zones (with lanes, barriers, schedules) and permits.

    ``declared`` names, per zone id, the optional zone keys the file wrote (``mode``,
    ``lockdown_exit``): a key left out keeps the stored zone's value when the file is loaded
    again (``Zone.mode`` then holds the default only for a new zone).
    """

    zones: tuple[Zone, ...]
    permits: tuple[Permit, ...]
    declared: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def declares(self, zone_id: str, key: str) -> bool:
        """Whether the file wrote ``key`` for zone ``zone_id``."""
        return key in self.declared.get(zone_id, frozenset())

    def zone(self, zone_id: str) -> Zone:
        """The zone ``zone_id`` (``KeyError`` if absent)."""
        for zone in self.zones:
            if zone.id == zone_id:
                return zone
        raise KeyError(f"zone {zone_id!r} is not in the load file")


class ConfigError(ValueError):
    """The load file has problems; ``errors`` holds one line per problem."""

    def __init__(self, errors: list[str], source: str = "load file") -> None:
        self.errors = errors
        self.source = source
        noun = "error" if len(errors) == 1 else "errors"
        super().__init__(f"{source}: {len(errors)} {noun}\n" + "\n".join(errors))


# --- YAML ----------------------------------------------------------------------------------


#: Largest load file read, bytes. A city's zones, lanes and barriers take kilobytes; tens of
#: thousands of permits a few megabytes (more belong in ``rempart access import-permits``).
MAX_FILE_BYTES = 16 * 1024 * 1024
#: Deepest nesting of mappings and lists accepted; the deepest real path,
#: ``zones[].lanes[].barriers[].driver``, is 8 levels.
MAX_DEPTH = 32
#: Most values a file may stand for once its aliases are expanded: a few hundred thousand in
#: the largest real file, billions in a "billion laughs" file of a few hundred bytes.
MAX_EXPANDED_VALUES = 2_000_000


class _Refused(yaml.YAMLError):
    """A file refused while reading it: one line, with its line number where one applies."""

    def __init__(self, message: str, mark: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-like scalars (no base-60, no yes/no, no timestamps) that also
    refuses what YAML allows but a load file must not have: a key twice in one mapping (the
    later value would silently win), nesting deeper than :data:`MAX_DEPTH`, and aliases that
    expand to more than :data:`MAX_EXPANDED_VALUES` values."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    f"nesting deeper than {MAX_DEPTH} levels; a load file needs at most 8",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    seen = first_line.get(key)
                except TypeError:  # unhashable key: PyYAML's own error follows
                    continue
                if seen is not None:
                    raise _Refused(
                        f"key {str(key)[:60]!r} appears twice in the same mapping (first at "
                        f"line {seen}); remove one: only one value can apply",
                        key_node.start_mark,
                    )
                first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return self.construct_document(node)


def _check_expansion(root: Any) -> None:
    """Refuse a document whose aliases stand for more than :data:`MAX_EXPANDED_VALUES` values
    (counted once per node: an alias is the same node object as its anchor)."""
    sizes: dict[int, int] = {}
    # iterative post-order walk: the file's own nesting is bounded, but keep off the stack
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = (
            [item for pair in node.value for item in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
        )
        if children_done:
            total = 1 + sum(sizes.get(id(child), 0) for child in children)
            if total > MAX_EXPANDED_VALUES:
                raise _Refused(
                    f"anchors and aliases expand to more than {MAX_EXPANDED_VALUES:,} values "
                    "(a 'billion laughs' file); write the values out or use fewer aliases",
                    node.start_mark,
                )
            sizes[id(node)] = total
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)


_DROPPED_TAGS = {
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def _too_big(size: int) -> str:
    return (
        f"the file has {size:,} bytes; a load file is at most {MAX_FILE_BYTES:,} "
        "(import large permit lists with 'rempart access import-permits')"
    )


def load_config(path: str | Path) -> AccessConfig:
    """Read and validate the load file at ``path``; raise ``ConfigError`` listing all problems."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError([_too_big(size)], str(path))
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read {path}: {exc}"], str(path)) from exc
    return parse_config(text, source=str(path))


def parse_config(text: str, source: str = "load file") -> AccessConfig:
    """Validate YAML ``text``; raise ``ConfigError`` listing all problems."""
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_FILE_BYTES:
        raise ConfigError([_too_big(size)], source)
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except _Refused as exc:
        where = f"line {exc.mark.line + 1}: " if exc.mark is not None else ""
        raise ConfigError([f"{where}{exc.message}"], source) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{where}not valid YAML: {problem}"], source) from exc
    return validate_config(data, source=source)


def validate_config(data: object, source: str = "load file") -> AccessConfig:
    """Validate already-parsed data (mappings, lists, scalars); raise ``ConfigError``."""
    checker = _Checker()
    result = checker.document(data)
    if checker.errors or result is None:
        raise ConfigError(checker.errors or ["the file is empty"], source)
    return result


# --- validation ----------------------------------------------------------------------------


def _type_name(value: object) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "text",
        int: "a number",
        float: "a number",
        bool: "true/false",
        type(None): "nothing",
    }.get(type(value), type(value).__name__)


class _Checker:
    """Walks the document, collecting errors; returns None where a part is unusable."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        # ids unique across the whole file, value: where first seen
        self._lane_ids: dict[str, str] = {}
        self._barrier_ids: dict[str, str] = {}
        self._endpoints: dict[str, str] = {}
        self._declared: dict[str, frozenset[str]] = {}

    def error(self, path: str, message: str) -> None:
        line = f"{path}: {message}" if path else message
        # a value quoted in the message may be huge (a 1 MB string where an id belongs)
        self.errors.append(line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…")

    # primitives -------------------------------------------------------------------------

    def mapping(
        self,
        node: object,
        path: str,
        required: Iterable[str],
        optional: Iterable[str] = (),
    ) -> dict[str, Any] | None:
        if not isinstance(node, dict):
            self.error(path, f"expected a mapping, got {_type_name(node)}")
            return None
        required, optional = list(required), list(optional)
        allowed = set(required) | set(optional)
        for key in node:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                suggestion = f"did you mean {hint[0]!r}? " if hint else ""
                self.error(
                    path,
                    f"unknown key {key!r}; {suggestion}expected one of {', '.join(sorted(allowed))}",
                )
        for key in required:
            if key not in node:
                self.error(f"{path}.{key}" if path else key, "is required")
        return node

    def list_of(self, node: object, path: str, *, allow_empty: bool = True) -> list[Any]:
        if not isinstance(node, list):
            self.error(path, f"expected a list, got {_type_name(node)}")
            return []
        if not node and not allow_empty:
            self.error(path, "must not be empty")
        return node

    def text(
        self,
        node: object,
        path: str,
        *,
        pattern: re.Pattern[str] | None = None,
        rule: str = "",
    ) -> str | None:
        if not isinstance(node, str) or not node.strip():
            self.error(path, f"expected text, got {node!r}")
            return None
        if pattern is not None and not pattern.fullmatch(node):
            self.error(path, f"{node!r} is not valid; expected {rule}")
            return None
        return node

    def ident(self, node: object, path: str) -> str | None:
        return self.text(node, path, pattern=ID_PATTERN, rule=ID_RULE)

    def enum(self, node: object, path: str, enum: type[E]) -> E | None:
        values = [m.value for m in enum]
        if isinstance(node, str) and node in values:
            return enum(node)
        self.error(path, f"{node!r} is not one of {', '.join(values)}")
        return None

    def boolean(self, node: object, path: str) -> bool | None:
        if isinstance(node, bool):
            return node
        self.error(path, f"{node!r} is not true or false")
        return None

    def integer(self, node: object, path: str, low: int, high: int, unit: str = "") -> int | None:
        if isinstance(node, bool) or not isinstance(node, int) or not low <= node <= high:
            self.error(path, f"{node!r} is not a whole number from {low} to {high}{unit}")
            return None
        return node

    def number(self, node: object, path: str, low: float, high: float, unit: str) -> float | None:
        if (
            isinstance(node, bool)
            or not isinstance(node, int | float)
            or not low < float(node) <= high
        ):
            self.error(path, f"{node!r} is not a number above {low} and up to {high}{unit}")
            return None
        return float(node)

    def day(self, node: object, path: str) -> date | None:
        if isinstance(node, date) and not isinstance(node, datetime):
            return node
        if isinstance(node, str):
            try:
                return date.fromisoformat(node)
            except ValueError:
                pass
        self.error(path, f"{node!r} is not a date; expected YYYY-MM-DD")
        return None

    def local_instant(self, node: object, path: str, tz: ZoneInfo | None) -> datetime | None:
        if isinstance(node, str):
            try:
                parsed = datetime.fromisoformat(node)
            except ValueError:
                parsed = None
        elif isinstance(node, datetime):
            parsed = node
        else:
            parsed = None
        if parsed is None:
            self.error(path, f"{node!r} is not a date and time; expected YYYY-MM-DDTHH:MM")
            return None
        if parsed.tzinfo is not None:
            return parsed
        if tz is None:
            return None  # the zone's timezone error is already reported
        local = parsed.replace(tzinfo=tz, fold=0)
        round_trip = local.astimezone(UTC).astimezone(tz)
        if round_trip.replace(tzinfo=None) != parsed:
            self.error(
                path,
                f"{node!r} does not exist in {tz.key} (clocks jump forward); "
                "choose a time outside the gap",
            )
            return None
        return local

    def unique(self, seen: dict[str, str], value: str | None, path: str, what: str) -> None:
        if value is None:
            return
        if value in seen:
            self.error(path, f"{what} {value!r} is already used at {seen[value]}")
        else:
            seen[value] = path

    def optional(
        self, node: Mapping[str, Any], key: str, path: str, parse: Callable[[object, str], Any]
    ) -> Any:
        if key not in node or node[key] is None:
            return None
        return parse(node[key], f"{path}.{key}")

    # document ------------------------------------------------------------------------

    def document(self, data: object) -> AccessConfig | None:
        if data is None:
            self.error("", "the file is empty; expected keys zones and permits")
            return None
        root = self.mapping(data, "", ["zones"], ["permits", "version"])
        if root is None:
            return None
        if "version" in root:
            self.integer(root["version"], "version", 1, 1)
        zone_ids: dict[str, str] = {}
        zones: list[Zone] = []
        for i, node in enumerate(self.list_of(root.get("zones"), "zones", allow_empty=False)):
            zone = self.zone(node, f"zones[{i}]", zone_ids)
            if zone is not None:
                zones.append(zone)
        permit_ids: dict[str, str] = {}
        permits: list[Permit] = []
        for i, node in enumerate(self.list_of(root.get("permits", []) or [], "permits")):
            permit = self.permit(node, f"permits[{i}]", i, set(zone_ids), permit_ids)
            if permit is not None:
                permits.append(permit)
        if self.errors:
            return None
        return AccessConfig(zones=tuple(zones), permits=tuple(permits), declared=self._declared)

    def zone(self, node: object, path: str, zone_ids: dict[str, str]) -> Zone | None:
        z = self.mapping(
            node,
            path,
            ["id", "timezone", "lanes"],
            ["name", "mode", "lockdown_exit", "schedules"],
        )
        if z is None:
            return None
        zone_id = self.ident(z.get("id"), f"{path}.id") if "id" in z else None
        self.unique(zone_ids, zone_id, f"{path}.id", "zone id")
        tz = self.timezone(z.get("timezone"), f"{path}.timezone") if "timezone" in z else None
        mode = self.optional(z, "mode", path, lambda v, p: self.enum(v, p, ZoneMode))
        exit_policy = self.optional(
            z, "lockdown_exit", path, lambda v, p: self.enum(v, p, ExitPolicy)
        )
        name = self.optional(z, "name", path, self.text) or ""
        lanes = []
        for j, lane_node in enumerate(
            self.list_of(z.get("lanes"), f"{path}.lanes", allow_empty=False)
        ):
            lane = self.lane(lane_node, f"{path}.lanes[{j}]")
            if lane is not None:
                lanes.append(lane)
        schedules = []
        for k, s_node in enumerate(self.list_of(z.get("schedules", []) or [], f"{path}.schedules")):
            schedule = self.schedule(s_node, f"{path}.schedules[{k}]", tz)
            if schedule is not None:
                schedules.append(schedule)
        if zone_id is None or tz is None:
            return None
        self._declared[zone_id] = frozenset(
            key for key in ("mode", "lockdown_exit") if z.get(key) is not None
        )
        return Zone(
            id=zone_id,
            timezone=tz.key,
            mode=mode or ZoneMode.NORMAL,
            lanes=tuple(lanes),
            schedules=tuple(schedules),
            lockdown_exit=exit_policy or ExitPolicy.FREE,
            name=name,
        )

    def timezone(self, node: object, path: str) -> ZoneInfo | None:
        if isinstance(node, str) and "/" in node:
            try:
                return ZoneInfo(node)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        close = difflib.get_close_matches(str(node), sorted(available_timezones()), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        self.error(path, f"{node!r} is not an IANA time zone such as 'Europe/Paris'{hint}")
        return None

    def lane(self, node: object, path: str) -> Lane | None:
        ln = self.mapping(
            node, path, ["id", "direction", "identification"], ["two_factor", "barriers", "name"]
        )
        if ln is None:
            return None
        lane_id = self.ident(ln.get("id"), f"{path}.id") if "id" in ln else None
        self.unique(self._lane_ids, lane_id, f"{path}.id", "lane id")
        direction = (
            self.enum(ln.get("direction"), f"{path}.direction", Direction)
            if "direction" in ln
            else None
        )
        methods: set[IdentificationMethod] = set()
        ident_path = f"{path}.identification"
        for m, value in enumerate(
            self.list_of(ln.get("identification", []), ident_path, allow_empty=False)
            if "identification" in ln
            else []
        ):
            method = self.enum(value, f"{ident_path}[{m}]", IdentificationMethod)
            if method is not None:
                if method in methods:
                    self.error(f"{ident_path}[{m}]", f"{method.value!r} is listed twice")
                methods.add(method)
        two_factor = bool(self.optional(ln, "two_factor", path, self.boolean))
        if two_factor and not {IdentificationMethod.ANPR, IdentificationMethod.PIN} <= methods:
            self.error(
                f"{path}.two_factor",
                "true needs both 'anpr' and 'pin' in identification (plate + PIN)",
            )
        self.optional(ln, "name", path, self.text)
        barriers = []
        for k, b_node in enumerate(self.list_of(ln.get("barriers", []) or [], f"{path}.barriers")):
            barrier = self.barrier(b_node, f"{path}.barriers[{k}]")
            if barrier is not None:
                barriers.append(barrier)
        if lane_id is None or direction is None:
            return None
        return Lane(
            id=lane_id,
            direction=direction,
            identification=frozenset(methods),
            two_factor=two_factor,
            barriers=tuple(barriers),
        )

    def barrier(self, node: object, path: str) -> Barrier | None:
        b = self.mapping(
            node,
            path,
            ["id", "kind", "fail_mode", "driver"],
            ["crash_rating", "rise_time_s", "lower_time_s", "loop_detector", "name"],
        )
        if b is None:
            return None
        barrier_id = self.ident(b.get("id"), f"{path}.id") if "id" in b else None
        self.unique(self._barrier_ids, barrier_id, f"{path}.id", "barrier id")
        kind = self.enum(b["kind"], f"{path}.kind", BarrierKind) if "kind" in b else None
        fail_mode = (
            self.enum(b["fail_mode"], f"{path}.fail_mode", FailMode) if "fail_mode" in b else None
        )
        crash_rating = self.optional(b, "crash_rating", path, self.text)
        travel = {}
        for key in ("rise_time_s", "lower_time_s"):
            value = self.optional(
                b, key, path, lambda v, p: self.number(v, p, 0.0, MAX_TRAVEL_S, " s")
            )
            if value is not None:
                travel[key] = value
        loop = self.optional(b, "loop_detector", path, self.boolean)
        self.optional(b, "name", path, self.text)
        driver = self.driver(b["driver"], f"{path}.driver") if "driver" in b else None
        if barrier_id is None or kind is None or fail_mode is None or driver is None:
            return None
        return Barrier(
            id=barrier_id,
            kind=kind,
            fail_mode=fail_mode,
            crash_rating=crash_rating,
            loop_detector=True if loop is None else loop,
            driver=driver,
            **travel,
        )

    def driver(self, node: object, path: str) -> DriverConfig | None:
        types = ("simulator", "modbus", "mqtt")
        if not isinstance(node, dict):
            self.error(path, f"expected a mapping with a type, got {_type_name(node)}")
            return None
        kind = node.get("type")
        if kind not in types:
            self.error(f"{path}.type", f"{kind!r} is not one of {', '.join(types)}")
            return None
        if kind == "simulator":
            self.mapping(node, path, ["type"])
            return SimulatorDriverConfig()
        if kind == "modbus":
            d = self.mapping(node, path, ["type", "host"], ["port", "unit", "timeout_s"])
            if d is None:
                return None
            host = self.text(d.get("host"), f"{path}.host") if "host" in d else None
            port = self.optional(d, "port", path, lambda v, p: self.integer(v, p, 1, 65535))
            unit = self.optional(d, "unit", path, lambda v, p: self.integer(v, p, 1, 247))
            timeout = self.optional(
                d, "timeout_s", path, lambda v, p: self.number(v, p, 0.0, 30.0, " s")
            )
            if host is None:
                return None
            config = ModbusDriverConfig(
                host=host, port=port or 502, unit=unit or 1, timeout_s=timeout or 1.0
            )
            self.unique(
                self._endpoints,
                f"modbus://{config.host}:{config.port}/{config.unit}",
                path,
                "Modbus endpoint",
            )
            return config
        d = self.mapping(
            node,
            path,
            ["type", "topic"],
            ["host", "port", "username", "command_timeout_s", "stale_after_s"],
        )
        if d is None:
            return None
        topic = (
            self.text(
                d["topic"],
                f"{path}.topic",
                pattern=MQTT_TOPIC_PATTERN,
                rule="an MQTT topic without wildcards (+ #), spaces or leading/trailing '/'",
            )
            if "topic" in d
            else None
        )
        host = self.optional(d, "host", path, self.text)
        port = self.optional(d, "port", path, lambda v, p: self.integer(v, p, 1, 65535))
        username = self.optional(d, "username", path, self.text)
        cmd_timeout = self.optional(
            d, "command_timeout_s", path, lambda v, p: self.number(v, p, 0.0, 60.0, " s")
        )
        stale = self.optional(
            d, "stale_after_s", path, lambda v, p: self.number(v, p, 0.0, 600.0, " s")
        )
        if topic is None:
            return None
        mqtt = MqttDriverConfig(
            topic=topic,
            host=host or "127.0.0.1",
            port=port or 1883,
            username=username,
            command_timeout_s=cmd_timeout or 2.0,
            stale_after_s=stale or 5.0,
        )
        self.unique(
            self._endpoints, f"mqtt://{mqtt.host}:{mqtt.port}/{mqtt.topic}", path, "MQTT topic"
        )
        return mqtt

    def schedule(self, node: object, path: str, tz: ZoneInfo | None) -> ScheduledMode | None:
        s = self.mapping(node, path, ["mode", "start", "end"], ["label"])
        if s is None:
            return None
        mode = self.enum(s["mode"], f"{path}.mode", ZoneMode) if "mode" in s else None
        start = self.local_instant(s["start"], f"{path}.start", tz) if "start" in s else None
        end = self.local_instant(s["end"], f"{path}.end", tz) if "end" in s else None
        label = self.optional(s, "label", path, self.text) or ""
        if start is not None and end is not None and end <= start:
            self.error(f"{path}.end", f"{s['end']!r} is not after start {s['start']!r}")
            return None
        if mode is None or start is None or end is None:
            return None
        return ScheduledMode(mode=mode, start=start, end=end, label=label)

    def window(self, node: object, path: str) -> TimeWindow | None:
        w = self.mapping(node, path, ["days", "from", "to"])
        if w is None:
            return None
        numbers = {name: number for number, name in DAY_NAMES.items()}
        days: set[int] = set()
        for d, value in enumerate(
            self.list_of(w.get("days"), f"{path}.days", allow_empty=False) if "days" in w else []
        ):
            if value not in numbers:
                self.error(f"{path}.days[{d}]", f"{value!r} is not one of {', '.join(numbers)}")
            elif numbers[value] in days:
                self.error(f"{path}.days[{d}]", f"{value!r} is listed twice")
            else:
                days.add(numbers[value])
        start = self.clock(w.get("from"), f"{path}.from", allow_24=False) if "from" in w else None
        end = self.clock(w.get("to"), f"{path}.to", allow_24=True) if "to" in w else None
        if start is not None and end is not None and start == end:
            self.error(
                f"{path}.to",
                f"{w['to']!r} equals from; a window must not be empty "
                "(use from '00:00' to '24:00' for a whole day)",
            )
            return None
        if not days or start is None or end is None:
            return None
        return TimeWindow(days=frozenset(days), start_minute=start, end_minute=end)

    def clock(self, node: object, path: str, *, allow_24: bool) -> int | None:
        if isinstance(node, time):
            return node.hour * 60 + node.minute
        try:
            return parse_hhmm(node if isinstance(node, str) else repr(node), allow_24=allow_24)
        except ValueError as exc:
            self.error(path, str(exc))
            return None

    def permit(
        self,
        node: object,
        path: str,
        index: int,
        zone_ids: set[str],
        permit_ids: dict[str, str],
    ) -> Permit | None:
        p = self.mapping(
            node,
            path,
            ["plate", "holder", "category", "zones"],
            [
                "id",
                "max_mass_kg",
                "windows",
                "valid_from",
                "valid_to",
                "exception_dates",
                "pin",
                "pin_hash",
                "status",
            ],
        )
        if p is None:
            return None
        permit_id = self.optional(p, "id", path, self.ident) or f"permit-{index + 1}"
        self.unique(permit_ids, permit_id, f"{path}.id", "permit id")
        plate = None
        if "plate" in p:
            if isinstance(p["plate"], str):
                try:
                    plate = normalise_plate(p["plate"])
                except InvalidPlateError as exc:
                    self.error(f"{path}.plate", str(exc))
            else:
                self.error(
                    f"{path}.plate", f"{p['plate']!r} is not text; write the plate in quotes"
                )
        holder = self.text(p.get("holder"), f"{path}.holder") if "holder" in p else None
        category = (
            self.enum(p["category"], f"{path}.category", PermitCategory)
            if "category" in p
            else None
        )
        status = self.optional(p, "status", path, lambda v, q: self.enum(v, q, PermitStatus))
        mass = self.optional(
            p, "max_mass_kg", path, lambda v, q: self.integer(v, q, 1, MAX_MASS_KG, " kg")
        )
        zones: set[str] = set()
        for z, value in enumerate(
            self.list_of(p.get("zones"), f"{path}.zones", allow_empty=False) if "zones" in p else []
        ):
            if value not in zone_ids:
                known = ", ".join(sorted(zone_ids)) or "none"
                self.error(f"{path}.zones[{z}]", f"{value!r} is not a zone of this file ({known})")
            zones.add(str(value))
        windows = []
        for w, w_node in enumerate(self.list_of(p.get("windows", []) or [], f"{path}.windows")):
            window = self.window(w_node, f"{path}.windows[{w}]")
            if window is not None:
                windows.append(window)
        valid_from = self.optional(p, "valid_from", path, self.day)
        valid_to = self.optional(p, "valid_to", path, self.day)
        if valid_from and valid_to and valid_to < valid_from:
            self.error(f"{path}.valid_to", f"{valid_to} is before valid_from {valid_from}")
        exceptions = set()
        for e, e_node in enumerate(
            self.list_of(p.get("exception_dates", []) or [], f"{path}.exception_dates")
        ):
            day = self.day(e_node, f"{path}.exception_dates[{e}]")
            if day is not None:
                exceptions.add(day)
        pin_hash = self.pin(p, path)
        if plate is None or holder is None or category is None or not zones:
            return None
        return Permit(
            id=permit_id,
            plate=plate,
            holder=holder,
            category=category,
            zones=frozenset(zones),
            windows=tuple(windows),
            valid_from=valid_from,
            valid_to=valid_to,
            exception_dates=frozenset(exceptions),
            max_mass_kg=mass,
            pin_hash=pin_hash,
            status=status or PermitStatus.ACTIVE,
        )

    def pin(self, p: Mapping[str, Any], path: str) -> str | None:
        if "pin" in p and "pin_hash" in p:
            self.error(f"{path}.pin", "give pin or pin_hash, not both")
            return None
        if "pin" in p:
            value = p["pin"]
            if not (isinstance(value, str) and is_valid_pin(value)):
                # never echo a PIN into a log line
                shown = "a number (write it in quotes)" if isinstance(value, int) else "not valid"
                self.error(f"{path}.pin", f"is {shown}; expected {PIN_RULE} in quotes")
                return None
            return hash_pin(value) if not self.errors else None
        if "pin_hash" in p:
            value = p["pin_hash"]
            if not (
                isinstance(value, str) and value.startswith("scrypt$") and value.count("$") == 5
            ):
                self.error(
                    f"{path}.pin_hash", "is not a hash made by rempart (scrypt$n$r$p$salt$hash)"
                )
                return None
            return value
        return None
