"""Weekly time windows and scheduled zone modes, evaluated in a zone's local wall-clock time.

Rules (each one is tested in tests/access/test_decide.py):

* A window is half-open, ``[from, to)``, in the zone's local wall-clock time, at one-second
  resolution: a 05:00-10:30 window admits 10:29:59 and refuses 10:30:00. ``to`` may be
  ``24:00`` (end of day).
* A window whose ``to`` is not after its ``from`` crosses midnight: ``22:00-02:00`` on ``fri``
  runs from Friday 22:00 to Saturday 02:00. ``days`` names the day a window *starts*; that day
  is the window's *service day*, used for exception and validity dates (so an exception on
  14 July removes the night 14-15 July as a whole).
* Daylight saving time (Europe/Paris changes on the last Sunday of March at 02:00 CET -> 03:00
  CEST and on the last Sunday of October at 03:00 CEST -> 02:00 CET): windows follow the clock
  on the wall, not elapsed time. On the spring-forward day the local times 02:00-02:59 do not
  exist, so a ``02:00-03:00`` window is empty that night and ``01:30-03:30`` lasts one hour.
  On the fall-back day 02:00-02:59 happens twice, and both occurrences are inside a
  ``02:00-03:00`` window (it lasts two hours of elapsed time).
* Scheduled modes are intervals of real time ``[start, end)`` stored as aware datetimes; the
  config loader turns local times into instants (see ``rempart.access.config``).

Standard library only (``zoneinfo`` with the IANA database from tzdata).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

__all__ = [
    "DAY_NAMES",
    "MODE_PRECEDENCE",
    "ScheduledMode",
    "TimeWindow",
    "ZoneMode",
    "effective_mode",
    "format_days",
    "format_minute",
    "local_service_day",
    "parse_hhmm",
]

#: ISO weekday number (Monday = 1) -> the three-letter name used in load files and messages.
DAY_NAMES: dict[int, str] = {
    1: "mon",
    2: "tue",
    3: "wed",
    4: "thu",
    5: "fri",
    6: "sat",
    7: "sun",
}
MINUTES_PER_DAY = 24 * 60


class ZoneMode(StrEnum):
    """How a zone treats every request (domain.md section 3: automatic, maintenance, emergency)."""

    #: Permits, windows and lanes decide.
    NORMAL = "normal"
    #: Only permits of category ``emergency`` enter (Gallagher "lockout", TKH threat levels).
    LOCKDOWN = "lockdown"
    #: Everything passes, barriers held down: evacuation and rescue.
    EMERGENCY_OPEN = "emergency_open"
    #: Every request is referred to the operator.
    MAINTENANCE = "maintenance"


#: When several modes apply at once, the first in this order wins. ``emergency_open`` comes
#: first because it is a life-safety decision: an operator opening a zone for an evacuation
#: during a scheduled lockdown must get the barriers down.
MODE_PRECEDENCE: tuple[ZoneMode, ...] = (
    ZoneMode.EMERGENCY_OPEN,
    ZoneMode.LOCKDOWN,
    ZoneMode.MAINTENANCE,
    ZoneMode.NORMAL,
)


def parse_hhmm(text: str, *, allow_24: bool = False) -> int:
    """Parse ``"HH:MM"`` into minutes after midnight (0-1439, or 1440 for ``24:00``).

    Raises ``ValueError`` naming the value and the expected form.
    """
    expected = "'HH:MM' from 00:00 to " + ("24:00" if allow_24 else "23:59")
    parts = text.split(":") if isinstance(text, str) else []
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"{text!r} is not a time; expected {expected}")
    hours, minutes = int(parts[0]), int(parts[1])
    if (hours, minutes) == (24, 0) and allow_24:
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        raise ValueError(f"{text!r} is not a time; expected {expected}")
    return hours * 60 + minutes


def format_minute(minute: int) -> str:
    """Minutes after midnight -> ``"HH:MM"`` (1440 -> ``"24:00"``)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def format_days(days: Iterable[int]) -> str:
    """ISO weekdays -> ``"Mon-Sat"``, ``"Mon, Wed, Fri"``, ``"every day"``."""
    ordered = sorted(set(days))
    if len(ordered) == 7:
        return "every day"
    runs: list[list[int]] = []
    for day in ordered:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        first, last = DAY_NAMES[run[0]].title(), DAY_NAMES[run[-1]].title()
        if len(run) >= 3:
            parts.append(f"{first}-{last}")
        else:
            parts.extend(DAY_NAMES[d].title() for d in run)
    return ", ".join(parts)


@dataclass(frozen=True)
class TimeWindow:
    """A weekly window of local wall-clock time.

    Attributes
    ----------
    days:
        ISO weekdays (Monday = 1 ... Sunday = 7) on which the window *starts*.
    start_minute:
        Minutes after local midnight, 0-1439.
    end_minute:
        Minutes after local midnight, 1-1440; not after ``start_minute`` means the window
        crosses midnight into the next day.
    """

    days: frozenset[int]
    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not self.days or not self.days <= frozenset(DAY_NAMES):
            raise ValueError(f"window days {sorted(self.days)} must be ISO weekdays 1-7")
        if not 0 <= self.start_minute < MINUTES_PER_DAY:
            raise ValueError(f"window start {self.start_minute} min is outside 0-1439")
        if not 0 < self.end_minute <= MINUTES_PER_DAY:
            raise ValueError(f"window end {self.end_minute} min is outside 1-1440")
        if self.start_minute == self.end_minute:
            raise ValueError(
                f"window {format_minute(self.start_minute)}-{format_minute(self.end_minute)} "
                "is empty; use 00:00-24:00 for a whole day"
            )

    @classmethod
    def of(cls, days: Iterable[str], start: str, end: str) -> TimeWindow:
        """Build from load-file notation: ``TimeWindow.of(["mon", "fri"], "05:00", "10:30")``."""
        numbers = {name: number for number, name in DAY_NAMES.items()}
        return cls(
            days=frozenset(numbers[d.lower()] for d in days),
            start_minute=parse_hhmm(start),
            end_minute=parse_hhmm(end, allow_24=True),
        )

    @property
    def crosses_midnight(self) -> bool:
        """True when the window ends on the day after it starts."""
        return self.end_minute <= self.start_minute

    def describe(self) -> str:
        """``"Mon-Sat 05:00-10:30"``."""
        return (
            f"{format_days(self.days)} "
            f"{format_minute(self.start_minute)}-{format_minute(self.end_minute)}"
        )

    def service_day(self, local: datetime) -> date | None:
        """Return the local date on which the occurrence containing ``local`` started, or None.

        ``local`` is a wall-clock time in the zone (aware or naive; only its fields are read).
        """
        second = local.hour * 3600 + local.minute * 60 + local.second
        start_s, end_s = self.start_minute * 60, self.end_minute * 60
        today = local.date()
        if not self.crosses_midnight:
            if start_s <= second < end_s and today.isoweekday() in self.days:
                return today
            return None
        if second >= start_s and today.isoweekday() in self.days:
            return today
        yesterday = today - timedelta(days=1)
        if second < end_s and yesterday.isoweekday() in self.days:
            return yesterday
        return None


def local_service_day(windows: Sequence[TimeWindow], local: datetime) -> date | None:
    """The service day of the first window containing ``local``; the local date if no windows.

    An empty window list means "at any time"; None means "outside every window".
    """
    if not windows:
        return local.date()
    for window in windows:
        day = window.service_day(local)
        if day is not None:
            return day
    return None


@dataclass(frozen=True)
class ScheduledMode:
    """A mode that overrides the zone's base mode over ``[start, end)``.

    ``start`` and ``end`` are aware datetimes (instants), stored in UTC; e.g. 14 July 18:00 to
    15 July 02:00 Europe/Paris for the fireworks on the Promenade des Anglais.
    """

    mode: ZoneMode
    start: datetime
    end: datetime
    label: str = ""

    def __post_init__(self) -> None:
        if self.start.utcoffset() is None or self.end.utcoffset() is None:
            raise ValueError("scheduled mode start and end must be aware datetimes")
        # Stored in UTC: Python compares and subtracts two datetimes sharing one tzinfo by
        # their wall clocks, which is wrong across a daylight-saving change.
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))
        if self.end <= self.start:
            raise ValueError(
                f"scheduled {self.mode} ends at {self.end.isoformat()}, "
                f"not after its start {self.start.isoformat()}"
            )

    def active_at(self, at: datetime) -> bool:
        """True when ``start <= at < end`` (instants; ``at`` must be aware)."""
        at = at.astimezone(UTC)
        return self.start <= at < self.end


def effective_mode(
    base: ZoneMode, schedules: Iterable[ScheduledMode], at: datetime
) -> tuple[ZoneMode, ScheduledMode | None]:
    """The mode in force at ``at`` and the schedule that set it (None: the base mode).

    Active schedules override the base mode; among several active ones ``MODE_PRECEDENCE``
    decides. A base mode of ``emergency_open`` (set live by an operator) is never overridden.
    """
    if at.tzinfo is None:
        raise ValueError("effective_mode needs an aware datetime")
    if base is ZoneMode.EMERGENCY_OPEN:
        return base, None
    active = [s for s in schedules if s.active_at(at)]
    if not active:
        return base, None
    chosen = min(active, key=lambda s: (MODE_PRECEDENCE.index(s.mode), s.start))
    return chosen.mode, chosen
