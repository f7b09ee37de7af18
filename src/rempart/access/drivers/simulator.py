"""A simulated bollard: the physics every simulated controller shares, and an in-process driver.

``BollardModel`` is a state machine over a monotonic clock (seconds); it is evaluated lazily:
every read or command first advances the physics to "now", so no background task is needed
and tests can drive it with a fake clock. The Modbus simulator server
(``rempart.access.simulator_server``) and the MQTT device emulator
(``rempart.access.drivers.mqtt_emulator``) expose the same model over their protocols.

Physics (domain.md section 3):

* Travel: position goes 0 (down) -> 1 (up) in ``rise_time_s``, 1 -> 0 in ``lower_time_s``.
* Loop interlock: with a loop detector, a rise is refused while the loop is occupied, and a
  rising bollard reverses (lowers) the moment a vehicle arrives on the loop. The fault bit
  ``LOOP_INTERLOCK`` stays set until the next accepted command.
* Power loss: ``secure`` freezes where it is (stays up); ``safe`` lowers over
  ``lower_time_s`` (automatic-lowering device). Commands are refused until power returns.
* Loss of the supervisor link (``set_link(False)``): the same fail-mode behaviour.
* Injected faults: ``hydraulic`` (stops, refuses commands), ``stuck`` (accepts commands, does not
  move; ``TRAVEL_TIMEOUT`` after 1.5 x travel time + 1 s, as a controller's motion watchdog).
* Heartbeat: whole seconds since the controller started, modulo 65536.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rempart.access.drivers.base import (
    Barrier,
    BarrierCommand,
    BarrierDriver,
    BarrierState,
    CommandOutcome,
    CommandResult,
    FailMode,
    Fault,
    Position,
)

__all__ = ["BollardModel", "ModelSnapshot", "SimulatorDriver"]

Clock = Callable[[], float]


@dataclass(frozen=True)
class ModelSnapshot:
    """Everything a controller would report, at ``now_s`` (monotonic seconds)."""

    position: Position
    position_pct: int
    faults: Fault
    loop_occupied: bool
    power_ok: bool
    heartbeat: int
    last_seq: int
    last_outcome: CommandOutcome | None
    now_s: float


class BollardModel:
    """Physics of one simulated barrier controller.

    Parameters
    ----------
    barrier_id:
        Name used in logs and MQTT topics.
    rise_time_s, lower_time_s:
        Full travel times, seconds (> 0).
    fail_mode:
        Behaviour on power or link loss.
    loop_detector:
        Whether an occupied loop blocks rising.
    start_up:
        Initial position: up (True, blocking) or down.
    clock:
        Monotonic clock in seconds; ``time.monotonic`` by default.
    """

    def __init__(
        self,
        barrier_id: str = "sim",
        *,
        rise_time_s: float = 4.0,
        lower_time_s: float = 3.0,
        fail_mode: FailMode = FailMode.SECURE,
        loop_detector: bool = True,
        start_up: bool = True,
        clock: Clock = time.monotonic,
    ) -> None:
        if rise_time_s <= 0 or lower_time_s <= 0:
            raise ValueError("rise_time_s and lower_time_s must be positive seconds")
        self.barrier_id = barrier_id
        self.rise_time_s = rise_time_s
        self.lower_time_s = lower_time_s
        self.fail_mode = fail_mode
        self.loop_detector = loop_detector
        self._clock = clock
        self._started_s = clock()
        self._last_s = self._started_s
        self._position = 1.0 if start_up else 0.0  # 0 down .. 1 up
        self._motion = 0  # +1 rising, -1 lowering, 0 still
        self._motion_started_s = self._started_s
        self._loop_until_s = float("-inf")
        self._loop_forced = False
        self.power_ok = True
        self.link_up = True
        self.hydraulic_fault = False
        self.stuck = False
        self._travel_timeout = False
        self._interlock = False
        self._executed_seq = 0
        self.last_seq = 0
        self.last_outcome: CommandOutcome | None = None

    @classmethod
    def for_barrier(cls, barrier: Barrier, *, clock: Clock = time.monotonic) -> BollardModel:
        """A model with the travel times and fail mode of a configured ``Barrier``."""
        return cls(
            barrier.id,
            rise_time_s=barrier.rise_time_s,
            lower_time_s=barrier.lower_time_s,
            fail_mode=barrier.fail_mode,
            loop_detector=barrier.loop_detector,
            clock=clock,
        )

    # --- physics ------------------------------------------------------------------------

    def loop_occupied(self, now_s: float | None = None) -> bool:
        """A vehicle is on the loop at ``now_s``."""
        now_s = self._clock() if now_s is None else now_s
        return self._loop_forced or now_s < self._loop_until_s

    def advance(self, now_s: float | None = None) -> None:
        """Bring the physics up to ``now_s`` (default: the clock)."""
        now_s = self._clock() if now_s is None else now_s
        dt = max(0.0, now_s - self._last_s)
        self._last_s = max(self._last_s, now_s)
        if self._motion == 0 or dt == 0:
            return
        if self.stuck:
            travel = self.rise_time_s if self._motion > 0 else self.lower_time_s
            if now_s - self._motion_started_s > 1.5 * travel + 1.0:
                self._travel_timeout = True
                self._motion = 0
            return
        if self._motion > 0:
            self._position = min(1.0, self._position + dt / self.rise_time_s)
        else:
            self._position = max(0.0, self._position - dt / self.lower_time_s)
        if self._position in (0.0, 1.0):
            self._motion = 0

    def _apply_fail_mode(self) -> None:
        if self.fail_mode is FailMode.SAFE:
            self._start_motion(-1)
        else:
            self._motion = 0

    def _start_motion(self, direction: int) -> None:
        target = 1.0 if direction > 0 else 0.0
        self._motion = 0 if self._position == target else direction
        self._motion_started_s = self._last_s

    # --- field events (tests and the simulator server inject these) --------------------

    def vehicle_passes(self, duration_s: float = 2.0) -> None:
        """A vehicle occupies the loop for ``duration_s`` seconds from now."""
        self.advance()
        self._loop_until_s = max(self._loop_until_s, self._last_s + duration_s)
        self._on_loop_occupied()

    def set_loop(self, occupied: bool) -> None:
        """Hold the loop occupied (True) until released (False)."""
        self.advance()
        self._loop_forced = occupied
        if occupied:
            self._on_loop_occupied()

    def _on_loop_occupied(self) -> None:
        if self.loop_detector and self._motion > 0:
            self._motion = -1  # reverse: never rise into a vehicle
            self._interlock = True

    def set_power(self, on: bool) -> None:
        """Cut (False) or restore (True) mains power."""
        self.advance()
        if self.power_ok and not on:
            self._apply_fail_mode()
        self.power_ok = on

    def set_link(self, up: bool) -> None:
        """Lose (False) or restore (True) the link to the supervisor."""
        self.advance()
        if self.link_up and not up:
            self._apply_fail_mode()
        self.link_up = up

    def inject_fault(self, *, hydraulic: bool | None = None, stuck: bool | None = None) -> None:
        """Set or clear injected faults; clearing ``stuck`` also clears ``TRAVEL_TIMEOUT``."""
        self.advance()
        if hydraulic is not None:
            self.hydraulic_fault = hydraulic
            if hydraulic:
                self._motion = 0
        if stuck is not None:
            self.stuck = stuck
            if not stuck:
                self._travel_timeout = False

    # --- controller interface ----------------------------------------------------------

    def command(self, command: BarrierCommand, seq: int) -> CommandOutcome:
        """Execute ``command`` under sequence id ``seq`` (1-65535); return what happened."""
        self.advance()
        outcome = self._command(command, seq)
        self.last_seq, self.last_outcome = seq, outcome
        if outcome is CommandOutcome.ACCEPTED:
            self._executed_seq = seq
        return outcome

    def _command(self, command: BarrierCommand, seq: int) -> CommandOutcome:
        if seq != 0 and seq == self._executed_seq:
            return CommandOutcome.DUPLICATE
        if not self.power_ok:
            return CommandOutcome.REFUSED_NO_POWER
        if self.hydraulic_fault:
            return CommandOutcome.REFUSED_FAULT
        if command is BarrierCommand.RAISE:
            if self.loop_detector and self.loop_occupied(self._last_s):
                self._interlock = True
                return CommandOutcome.REFUSED_LOOP_OCCUPIED
            self._interlock = False
            self._travel_timeout = False
            self._start_motion(+1)
        else:
            self._interlock = False
            self._travel_timeout = False
            self._start_motion(-1)
        return CommandOutcome.ACCEPTED

    def snapshot(self) -> ModelSnapshot:
        """What the controller reports now."""
        self.advance()
        now_s = self._last_s
        if self._motion > 0:
            position = Position.RISING
        elif self._motion < 0:
            position = Position.LOWERING
        elif self._position >= 1.0:
            position = Position.UP
        elif self._position <= 0.0:
            position = Position.DOWN
        else:
            position = Position.UNKNOWN
        faults = Fault.NONE
        if self.hydraulic_fault:
            faults |= Fault.HYDRAULIC
        if self._travel_timeout:
            faults |= Fault.TRAVEL_TIMEOUT
        if not self.power_ok:
            faults |= Fault.POWER_LOSS
        if self._interlock:
            faults |= Fault.LOOP_INTERLOCK
        if not self.link_up:
            faults |= Fault.LINK_WATCHDOG
        return ModelSnapshot(
            position=position,
            position_pct=round(self._position * 100),
            faults=faults,
            loop_occupied=self.loop_occupied(now_s),
            power_ok=self.power_ok,
            heartbeat=int(now_s - self._started_s) % 65536,
            last_seq=self.last_seq,
            last_outcome=self.last_outcome,
            now_s=now_s,
        )

    def state(self) -> BarrierState:
        """The snapshot as a driver-level ``BarrierState``."""
        snap = self.snapshot()
        return BarrierState(
            position=snap.position,
            position_pct=snap.position_pct,
            faults=snap.faults,
            loop_occupied=snap.loop_occupied,
            power_ok=snap.power_ok,
            heartbeat=snap.heartbeat,
            link_ok=True,
            last_seq=snap.last_seq,
            last_outcome=snap.last_outcome,
        )


class SimulatorDriver(BarrierDriver):
    """In-process driver over a ``BollardModel`` (``driver: {type: simulator}``).

    A lost link (``model.set_link(False)``) reads as ``link_ok=False`` and commands get
    ``NO_RESPONSE``, as a real driver would report.
    """

    def __init__(self, barrier_id: str, model: BollardModel | None = None) -> None:
        super().__init__(barrier_id)
        self.model = model or BollardModel(barrier_id)
        self._connected = False

    async def connect(self) -> bool:
        self._connected = True
        return self.model.link_up

    async def close(self) -> None:
        self._connected = False

    async def read_state(self) -> BarrierState:
        if not (self._connected and self.model.link_up):
            return BarrierState.link_lost()
        return self.model.state()

    async def command(self, command: BarrierCommand, seq: int | None = None) -> CommandResult:
        seq = self.next_seq() if seq is None else seq
        if not (self._connected and self.model.link_up):
            return CommandResult(command, seq, CommandOutcome.NO_RESPONSE, "simulated link down")
        # no await between this check and the command: nothing can arrive in between
        if command is BarrierCommand.RAISE and self.model.loop_occupied():
            return CommandResult.held_over_loop(command, seq)
        return CommandResult(command, seq, self.model.command(command, seq))
