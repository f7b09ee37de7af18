"""One interface for every barrier, whatever protocol drives it.

Modelled on Home Assistant's ``cover`` entity (states opening/open/closing/closed, commands
open/close): here a barrier is *up* (blocking) or *down* (passable), moving is *rising* or
*lowering*, and the commands are ``raise`` and ``lower``. Each protocol lives in its own module
(``modbus.py``, ``mqtt.py``, ``simulator.py``) and implements ``BarrierDriver``.

The interface is asyncio: the access daemon runs one polling task per barrier in one event
loop. Drivers never raise for a field problem during ``read_state``: they return a state with
``link_ok=False`` and ``position=UNKNOWN`` so the daemon's loop goes on and the control room
sees the loss. ``command`` returns a ``CommandResult`` and raises only for programming errors.

Commands carry a sequence id (``seq``, 1-65535, wrapping). A device remembers the last ``seq`` it
executed and ignores a repeat, so a command resent after a timeout is executed at most once;
the commands themselves are idempotent too (``raise`` on a raised bollard does nothing).

A ``raise`` is checked against the loop by the driver just before it is sent (see
``BarrierDriver.command``), not only against the supervisor's last poll; the controller's own
interlock remains the second lock for a vehicle arriving while the command is on the wire.
"""

from __future__ import annotations

import abc
import itertools
import time
from dataclasses import dataclass, field
from enum import IntFlag, StrEnum

__all__ = [
    "Barrier",
    "BarrierCommand",
    "BarrierDriver",
    "BarrierKind",
    "BarrierState",
    "CommandOutcome",
    "CommandResult",
    "DriverConfig",
    "FailMode",
    "Fault",
    "HeartbeatMonitor",
    "ModbusDriverConfig",
    "MqttDriverConfig",
    "Position",
    "SimulatorDriverConfig",
    "SequenceCounter",
]


class BarrierKind(StrEnum):
    """Family of vehicle barrier."""

    RETRACTABLE_BOLLARD = "retractable_bollard"
    ROAD_BLOCKER = "road_blocker"
    GATE = "gate"
    WEDGE = "wedge"


class FailMode(StrEnum):
    """What the barrier does on loss of power or of its control link (domain.md section 3).

    ``secure`` stays up (blocks); ``safe`` lowers (lets vehicles through). Many hydraulic
    bollards lower on power failure only with an automatic-lowering device.
    """

    SECURE = "secure"
    SAFE = "safe"


class Position(StrEnum):
    """Where the barrier is. ``up`` blocks vehicles, ``down`` lets them pass."""

    UP = "up"
    DOWN = "down"
    RISING = "rising"
    LOWERING = "lowering"
    #: Stopped between the end stops, or not known (link lost).
    UNKNOWN = "unknown"


class Fault(IntFlag):
    """Fault bits reported by a barrier controller (same bits on Modbus and MQTT)."""

    NONE = 0
    #: Hydraulic or motor fault: the barrier cannot move.
    HYDRAULIC = 1
    #: An end stop was not reached within the travel time plus margin.
    TRAVEL_TIMEOUT = 2
    #: Mains power lost; the barrier is in its fail mode.
    POWER_LOSS = 4
    #: A rise was refused or reversed because the vehicle loop was occupied.
    LOOP_INTERLOCK = 8
    #: The controller's own link to its supervisor was lost (device-side watchdog).
    LINK_WATCHDOG = 16

    def names(self) -> list[str]:
        """Lower-case names of the set bits, e.g. ``["hydraulic", "power_loss"]``."""
        return [f.name.lower() for f in Fault if f and f in self and f.name is not None]

    @classmethod
    def from_names(cls, names: list[str]) -> Fault:
        """Inverse of ``names``; unknown names are ignored (newer device firmware)."""
        value = cls.NONE
        for name in names:
            member = cls.__members__.get(name.upper())
            if member is not None:
                value |= member
        return value


class BarrierCommand(StrEnum):
    """What the supervisor asks for."""

    RAISE = "raise"
    LOWER = "lower"


class CommandOutcome(StrEnum):
    """What the device did with a command."""

    ACCEPTED = "accepted"
    #: Same ``seq`` as the last command: ignored, the first execution stands.
    DUPLICATE = "duplicate"
    REFUSED_LOOP_OCCUPIED = "refused_loop_occupied"
    REFUSED_FAULT = "refused_fault"
    REFUSED_NO_POWER = "refused_no_power"
    #: No answer (link down, timeout); the command may or may not have arrived.
    NO_RESPONSE = "no_response"
    #: Not sent: the driver read the loop occupied just before sending a raise.
    HELD_LOOP_OCCUPIED = "held_loop_occupied"


@dataclass(frozen=True)
class CommandResult:
    """Answer to ``BarrierDriver.command``."""

    command: BarrierCommand
    seq: int
    outcome: CommandOutcome
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True when the device executed (or had already executed) the command."""
        return self.outcome in (CommandOutcome.ACCEPTED, CommandOutcome.DUPLICATE)

    @classmethod
    def held_over_loop(cls, command: BarrierCommand, seq: int) -> CommandResult:
        """The answer to a raise not sent because the loop was occupied when re-read."""
        return cls(
            command, seq, CommandOutcome.HELD_LOOP_OCCUPIED, "not sent: a vehicle is on the loop"
        )


@dataclass(frozen=True)
class BarrierState:
    """A snapshot of one barrier as its controller reports it.

    Attributes
    ----------
    position:
        See ``Position``; ``UNKNOWN`` whenever ``link_ok`` is False.
    position_pct:
        0 (fully down) to 100 (fully up); None when unknown.
    faults:
        Active ``Fault`` bits.
    loop_occupied:
        The inductive loop under the barrier detects a vehicle.
    power_ok:
        Mains power present.
    heartbeat:
        Counter incremented by the controller every second (wraps at 65536); a counter that
        stops moving means a hung controller even if the link answers.
    link_ok:
        The last exchange with the controller succeeded.
    last_seq:
        Sequence id of the last command the controller received (0: none yet).
    last_outcome:
        What the controller did with it (None: no command yet or not reported).
    observed_monotonic_s:
        ``time.monotonic()`` of the observation, seconds.
    """

    position: Position
    position_pct: int | None = None
    faults: Fault = Fault.NONE
    loop_occupied: bool = False
    power_ok: bool = True
    heartbeat: int = 0
    link_ok: bool = True
    last_seq: int = 0
    last_outcome: CommandOutcome | None = None
    observed_monotonic_s: float = field(default_factory=time.monotonic)

    @classmethod
    def link_lost(cls, heartbeat: int = 0) -> BarrierState:
        """The state reported when the controller cannot be reached."""
        return cls(position=Position.UNKNOWN, link_ok=False, heartbeat=heartbeat)

    @property
    def blocking(self) -> bool | None:
        """True up, False down, None while moving or unknown (the control room shows amber)."""
        return {Position.UP: True, Position.DOWN: False}.get(self.position)


class HeartbeatMonitor:
    """Flags a controller whose heartbeat counter has not changed for ``stale_after_s`` seconds."""

    def __init__(self, stale_after_s: float = 3.0) -> None:
        self.stale_after_s = stale_after_s
        self._last_value: int | None = None
        self._last_change_s = 0.0

    def observe(self, state: BarrierState) -> bool:
        """Record ``state``; return True when the heartbeat is fresh."""
        if not state.link_ok:
            return False
        if state.heartbeat != self._last_value:
            self._last_value = state.heartbeat
            self._last_change_s = state.observed_monotonic_s
            return True
        return state.observed_monotonic_s - self._last_change_s < self.stale_after_s


class SequenceCounter:
    """Command sequence ids 1..65535, wrapping, never 0 (0 means "no command yet")."""

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)

    def next(self) -> int:
        """The next sequence id."""
        return (next(self._counter) - 1) % 65535 + 1


# --- driver configuration (parsed by rempart.access.config, stored by the Django models) ----


@dataclass(frozen=True)
class SimulatorDriverConfig:
    """In-process simulated barrier (``driver: {type: simulator}``)."""

    type: str = "simulator"


@dataclass(frozen=True)
class ModbusDriverConfig:
    """Modbus TCP controller (register map in ``drivers/registers.py``).

    ``timeout_s`` bounds each request, seconds; link loss is reported within about
    ``timeout_s`` of the failure.
    """

    host: str
    port: int = 502
    unit: int = 1
    timeout_s: float = 1.0
    type: str = "modbus"


@dataclass(frozen=True)
class MqttDriverConfig:
    """MQTT controller under ``topic`` (topics in docs/access-protocols.md)."""

    topic: str
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    #: Seconds to wait for the device's acknowledgement of a command.
    command_timeout_s: float = 2.0
    #: Seconds without a state message after which the link counts as lost.
    stale_after_s: float = 5.0
    type: str = "mqtt"


DriverConfig = SimulatorDriverConfig | ModbusDriverConfig | MqttDriverConfig


@dataclass(frozen=True)
class Barrier:
    """A physical barrier on a lane.

    Attributes
    ----------
    id:
        Unique across the installation, e.g. ``"ot-n-1"``.
    kind:
        See ``BarrierKind``.
    fail_mode:
        See ``FailMode``.
    crash_rating:
        Free text as certified, e.g. ``"IWA 14-1:2013 V/7200[N2A]/48/90"``; None if unrated.
    rise_time_s, lower_time_s:
        Full travel times, seconds. Defaults 4 s and 3 s are an *unsourced* engineering
        assumption for hydraulic bollards; take the real values from the data sheet.
    loop_detector:
        An inductive loop under the barrier blocks rising over a vehicle.
    driver:
        How to reach the controller.
    """

    id: str
    kind: BarrierKind = BarrierKind.RETRACTABLE_BOLLARD
    fail_mode: FailMode = FailMode.SECURE
    crash_rating: str | None = None
    rise_time_s: float = 4.0
    lower_time_s: float = 3.0
    loop_detector: bool = True
    driver: DriverConfig = field(default_factory=SimulatorDriverConfig)


class BarrierDriver(abc.ABC):
    """Talks to one barrier controller. Subclasses: one per field protocol.

    Usage::

        driver = create_driver(barrier)
        await driver.connect()
        state = await driver.read_state()
        result = await driver.command(BarrierCommand.LOWER)
        await driver.close()

    ``connect`` may fail silently: a driver reconnects inside ``read_state``/``command``.
    """

    def __init__(self, barrier_id: str) -> None:
        self.barrier_id = barrier_id
        self._sequence = SequenceCounter()

    def next_seq(self) -> int:
        """Allocate a command sequence id."""
        return self._sequence.next()

    @abc.abstractmethod
    async def connect(self) -> bool:
        """Open the link; return True when the controller answered."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the link; idempotent."""

    @abc.abstractmethod
    async def read_state(self) -> BarrierState:
        """Read the controller; never raises for field problems (``link_ok=False`` instead)."""

    @abc.abstractmethod
    async def command(self, command: BarrierCommand, seq: int | None = None) -> CommandResult:
        """Ask for ``command`` under ``seq`` (allocated if None); idempotent per ``seq``.

        A ``raise`` is never sent over an occupied loop: the driver reads the loop as late as
        its protocol allows, immediately before sending, and answers
        ``HELD_LOOP_OCCUPIED`` without sending when a vehicle is on it. The supervisor's last
        poll may be a poll interval old; this check closes that window.
        """

    async def __aenter__(self) -> BarrierDriver:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
