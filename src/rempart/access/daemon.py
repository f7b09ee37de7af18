"""The access daemon (``rempart access run``): drives the barriers from the database.

One asyncio event loop:

* one *poller* task per barrier reads its controller through its driver every ``poll_s``
  (Modbus, MQTT or the in-process simulator; ``rempart.access.drivers``) and keeps the latest
  state in memory;
* a *tick* every ``poll_s`` reconciles, in one database thread, what the database wants
  (passages, zone modes) with what the barriers report: it stores the reported states, raises
  and clears alarms, moves passages through their states and writes the commands to send;
* commands are sent in background tasks **after** their row is committed, with the sequence id
  stored in that row, and are resent with the same id until answered -- the controller ignores
  a repeat (``duplicate``), so a resend after a timeout or a restart executes at most once.

Everything the daemon needs to resume is in the database (passages with their states, pending
commands with their sequence ids, the per-barrier sequence counter), so a daemon killed with
SIGKILL and started again carries on: a passage that was ``open`` closes after its vehicle or
its timeout, a command that was in flight is resent and answered ``duplicate``.

Safety rules enforced here, whatever the caller asked:

* never send ``raise`` while a barrier's loop is occupied (the controller's interlock would
  refuse it too: two locks, not one);
* a barrier that is down with no passage in progress (and no ``emergency_open``) is raised;
* a link lost for ``link_alarm_after_s`` (default 2 s, well within 5 s) raises an alarm that
  names the barrier's fail mode (what it does now: stays up, or lowers);
* a grant past its age limit is never executed: closed as ``expired``, its unsent or
  unanswered ``lower`` commands abandoned (:mod:`rempart.access.grants`), so a daemon started
  again after a kill, or reconnected after a lost database or link, executes only what is
  still valid.

Django's ORM is synchronous: every database call runs in one dedicated thread
(:meth:`Daemon.db`), so the event loop never blocks on the database and the daemon uses one
connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from rempart.access import alarms, grants, intrusion, precedence, services
from rempart.access.drivers import ExerciseDriverRefused, create_driver
from rempart.access.drivers.base import (
    BarrierCommand,
    BarrierDriver,
    BarrierState,
    CommandOutcome,
    CommandResult,
    Fault,
    HeartbeatMonitor,
    Position,
)
from rempart.access.models import (
    AccessDecision,
    Alarm,
    Barrier,
    BarrierStatus,
    DaemonHeartbeat,
    DeviceCommand,
    Passage,
    Permit,
    Zone,
)
from rempart.access.schedule import ZoneMode, effective_mode
from rempart.core import audit

log = logging.getLogger("rempart.access.daemon")

T = TypeVar("T")

SYSTEM_ACTOR = audit.Actor(name="system:access-daemon")


@dataclass
class DaemonOptions:
    """Timings, seconds."""

    #: How often each barrier is polled and the database reconciled.
    poll_s: float = 0.25
    #: A link down this long raises an alarm (the requirement is within 5 s).
    link_alarm_after_s: float = 2.0
    #: A barrier whose heartbeat counter has not moved this long counts as hung.
    heartbeat_stale_s: float = 3.5
    #: An open lane with no vehicle on the loop closes after this.
    open_timeout_s: float = 20.0
    #: An unanswered command is resent (same sequence id) after this.
    command_retry_s: float = 1.0
    #: A passage whose barriers did not come down within this fails (alarm).
    lower_give_up_s: float = 20.0
    #: Only these zones (identifiers); None: every zone.
    zones: Sequence[str] | None = None
    #: Privacy purge (``rempart.access.retention``) and the audit summary, every this often.
    housekeeping_every_s: float = 3600.0
    #: Simulated camera reads per minute on the lanes with simulated barriers (0: none).
    simulated_traffic_per_min: float = 0.0
    simulated_traffic_seed: int = 1


@dataclass
class _Seen:
    """The latest state a poller read, and when (monotonic seconds)."""

    state: BarrierState
    at_s: float


@dataclass
class _Send:
    command_pk: int
    barrier_pk: int
    command: BarrierCommand
    seq: int


@dataclass
class _BarrierInfo:
    pk: int
    ident: str
    lane_pk: int
    zone_pk: int
    fail_mode: str
    driver_json: dict[str, Any]
    engine: Any
    exercise: bool = False


@dataclass
class _Topology:
    barriers: dict[int, _BarrierInfo] = field(default_factory=dict)
    lanes: dict[int, list[int]] = field(default_factory=dict)  # lane pk -> barrier pks
    lane_zone: dict[int, int] = field(default_factory=dict)
    lane_ident: dict[int, str] = field(default_factory=dict)


class Daemon:
    """The device daemon; ``await Daemon(options).run()`` until :meth:`stop`."""

    def __init__(self, options: DaemonOptions | None = None) -> None:
        self.options = options or DaemonOptions()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="access-db")
        self._stop = asyncio.Event()
        self.drivers: dict[int, BarrierDriver] = {}
        self._driver_json: dict[int, dict[str, Any]] = {}
        self._pollers: dict[int, asyncio.Task[None]] = {}
        self._seen: dict[int, _Seen] = {}
        self._heartbeats: dict[int, HeartbeatMonitor] = {}
        self._link_down_since: dict[int, float] = {}
        self._in_flight: dict[int, asyncio.Task[None]] = {}  # DeviceCommand pk -> task
        self._results: deque[tuple[_Send, CommandResult]] = deque()
        self._written: dict[int, tuple[Any, ...]] = {}
        self._written_at: dict[int, float] = {}
        self._topology = _Topology()
        self._topology_at = float("-inf")
        self._beat_at = float("-inf")
        self._housekeeping_at = time.monotonic()
        self.traffic: SimulatedTraffic | None = None
        self.ticks = 0
        # detection inputs and alarm escalation (rempart.access.intrusion, .alarms)
        self.inputs = intrusion.InputWatcher()
        self._input_specs: list[intrusion.InputSpec] = []
        self._inputs_at = float("-inf")

    # --- plumbing ----------------------------------------------------------------------------

    async def db(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``func`` in the daemon's database thread."""

        def call() -> T:
            with audit.acting_as(SYSTEM_ACTOR):
                return func(*args, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Run until :meth:`stop` (or cancellation); closes drivers and the connection."""
        log.info("access daemon starting (pid %d)", os.getpid())
        await self.db(self._beat, True)
        traffic_task = None
        if self.options.simulated_traffic_per_min > 0:
            await self._refresh_topology(force=True)
            self.traffic = SimulatedTraffic(
                self,
                rate_per_min=self.options.simulated_traffic_per_min,
                seed=self.options.simulated_traffic_seed,
            )
            traffic_task = asyncio.create_task(self.traffic.run())
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    await self.tick()
                except Exception:  # one bad tick must not stop the barriers' supervision
                    log.exception("access daemon: tick failed")
                    await self.db(lambda: close_old_connections())
                delay = max(0.0, self.options.poll_s - (time.monotonic() - started))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
        finally:
            if traffic_task is not None:
                traffic_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await traffic_task
            for task in [*self._pollers.values(), *self._in_flight.values()]:
                task.cancel()
            for task in [*self._pollers.values(), *self._in_flight.values()]:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            for driver in self.drivers.values():
                with contextlib.suppress(Exception):
                    await driver.close()
            with contextlib.suppress(Exception):
                await self.inputs.close()
            await self.db(lambda: connection.close())
            self._executor.shutdown(wait=True)
            log.info("access daemon stopped")

    async def tick(self) -> None:
        await self._refresh_topology()
        self.ticks += 1
        now_s = time.monotonic()
        results = list(self._results)
        self._results.clear()
        states = {pk: self._current(pk, now_s) for pk in self._topology.barriers}
        sends = await self.db(self.reconcile, states, results, timezone.now(), now_s)
        for send in sends:
            if send.command_pk not in self._in_flight:
                self._in_flight[send.command_pk] = asyncio.create_task(self._send(send))
        await self._watch_inputs(now_s)
        await self.db(precedence.enforce_scheduled_lockdowns, None, self.options.zones)
        if now_s - self._beat_at > 2.0:
            self._beat_at = now_s
            await self.db(self._beat, False)
            await self.db(alarms.escalate)
        if now_s - self._housekeeping_at > self.options.housekeeping_every_s:
            self._housekeeping_at = now_s
            await self.db(housekeeping)

    async def _watch_inputs(self, now_s: float) -> None:
        """Read the zones' detection inputs; raise or clear their alarms."""
        if now_s - self._inputs_at > 10.0:
            self._inputs_at = now_s
            self._input_specs = await self.db(intrusion.load_inputs, self.options.zones)
        if self._input_specs:
            states = await self.inputs.poll(self._input_specs)
            await self.db(intrusion.apply_states, states, timezone.now())

    def _current(self, pk: int, now_s: float) -> BarrierState:
        seen = self._seen.get(pk)
        if seen is None or now_s - seen.at_s > max(3.0, 6 * self.options.poll_s):
            return BarrierState.link_lost()
        return seen.state

    # --- devices -----------------------------------------------------------------------------

    async def _refresh_topology(self, force: bool = False) -> None:
        now_s = time.monotonic()
        if not force and now_s - self._topology_at < 2.0:
            return
        self._topology_at = now_s
        topology = await self.db(load_topology, self.options.zones)
        self._topology = topology
        for pk in list(self.drivers):
            info = topology.barriers.get(pk)
            if info is None or info.driver_json != self._driver_json.get(pk):
                await self._drop_driver(pk)
        for pk, info in topology.barriers.items():
            if pk not in self.drivers:
                try:
                    driver = create_driver(info.engine, exercise=info.exercise)
                except ExerciseDriverRefused:
                    log.error("exercise zone barrier %s with a real driver: skipped", info.ident)
                    continue
                self.drivers[pk] = driver
                self._driver_json[pk] = info.driver_json
                self._heartbeats[pk] = HeartbeatMonitor(self.options.heartbeat_stale_s)
                self._pollers[pk] = asyncio.create_task(self._poll(pk, driver))

    async def _drop_driver(self, pk: int) -> None:
        task = self._pollers.pop(pk, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        driver = self.drivers.pop(pk, None)
        if driver is not None:
            with contextlib.suppress(Exception):
                await driver.close()
        self._seen.pop(pk, None)

    async def _poll(self, pk: int, driver: BarrierDriver) -> None:
        timeout = max(2.0, 4 * self.options.poll_s)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(driver.connect(), timeout=timeout)
        while True:
            try:
                state = await asyncio.wait_for(driver.read_state(), timeout=timeout)
            except (TimeoutError, OSError):
                state = BarrierState.link_lost()
            except Exception:  # a driver bug must not stop the other barriers
                log.exception("barrier %s: read failed", driver.barrier_id)
                state = BarrierState.link_lost()
            self._seen[pk] = _Seen(state, time.monotonic())
            await asyncio.sleep(self.options.poll_s)

    async def _send(self, send: _Send) -> None:
        driver = self.drivers.get(send.barrier_pk)
        try:
            if driver is None:
                result = CommandResult(
                    send.command, send.seq, CommandOutcome.NO_RESPONSE, "no driver"
                )
            else:
                result = await asyncio.wait_for(driver.command(send.command, send.seq), timeout=5.0)
        except (TimeoutError, OSError) as exc:
            result = CommandResult(send.command, send.seq, CommandOutcome.NO_RESPONSE, str(exc))
        except Exception as exc:
            log.exception("barrier %s: command failed", send.barrier_pk)
            result = CommandResult(send.command, send.seq, CommandOutcome.NO_RESPONSE, str(exc))
        finally:
            self._in_flight.pop(send.command_pk, None)
        self._results.append((send, result))

    # --- the database side (runs in the database thread) ---------------------------------------

    def _beat(self, starting: bool) -> None:
        now = timezone.now()
        defaults: dict[str, Any] = {"pid": os.getpid(), "seen_at": now}
        if starting:
            defaults["started_at"] = now
        DaemonHeartbeat.objects.update_or_create(name="access", defaults=defaults)
        if starting:
            audit.record(
                "access_daemon_start",
                object_type="access.daemon",
                object_repr=f"pid {os.getpid()}",
                detail={"zones": list(self.options.zones or [])},
            )

    def reconcile(
        self,
        states: dict[int, BarrierState],
        results: list[tuple[_Send, CommandResult]],
        now: dt.datetime,
        now_s: float,
    ) -> list[_Send]:
        """One reconciliation pass; returns the commands to send (their rows are committed)."""
        topo = self._topology
        with transaction.atomic():
            self._record_results(results, now)
            self._store_states(states, now, now_s)
            alarms = _AlarmBook(topo, now)
            self._device_alarms(states, alarms, now_s)
            # grants past their age limit: never executed, their lowers never (re)sent
            grants.expire_due(now, self.options.zones)
            pending = {
                c.barrier_id: c
                for c in DeviceCommand.objects.filter(
                    done=False, barrier_id__in=list(topo.barriers)
                ).select_related("passage")
            }
            grants.abandon_late_lowers(pending, now)
            passages: dict[int, Passage] = {}
            for row in Passage.objects.filter(
                lane_id__in=list(topo.lanes), state__in=Passage.ACTIVE
            ).order_by("created_at", "pk"):
                passages.setdefault(row.lane_id, row)
            modes = _zone_modes(set(topo.lane_zone.values()), now)
            sends: list[_Send] = []
            for lane_pk, barrier_pks in topo.lanes.items():
                lane_states = {pk: states[pk] for pk in barrier_pks}
                passage = passages.get(lane_pk)
                mode = modes.get(topo.lane_zone[lane_pk])
                if passage is not None:
                    self._drive_passage(passage, lane_states, pending, alarms, now, mode)
                else:
                    self._idle_lane(lane_pk, mode, lane_states, pending, alarms)
            # resend what is still unanswered
            for command in pending.values():
                if command.pk in self._in_flight or command.done:
                    continue
                if command.sent_at is None or (now - command.sent_at).total_seconds() >= (
                    self.options.command_retry_s
                ):
                    self._mark_sent(command, now)
                    sends.append(
                        _Send(
                            command.pk,
                            command.barrier_id,
                            BarrierCommand(command.command),
                            command.seq,
                        )
                    )
        return sends

    def _mark_sent(self, command: DeviceCommand, now: dt.datetime) -> None:
        command.sent_at = now
        command.attempts += 1
        DeviceCommand.objects.filter(pk=command.pk).update(sent_at=now, attempts=command.attempts)

    def _record_results(self, results: list[tuple[_Send, CommandResult]], now: dt.datetime) -> None:
        for send, result in results:
            command = DeviceCommand.objects.filter(pk=send.command_pk).first()
            if command is None or command.done:
                continue
            command.outcome = result.outcome.value
            command.detail = result.detail[:300]
            if result.ok or result.outcome in (
                CommandOutcome.REFUSED_LOOP_OCCUPIED,
                CommandOutcome.REFUSED_FAULT,
                CommandOutcome.REFUSED_NO_POWER,
                CommandOutcome.HELD_LOOP_OCCUPIED,
            ):
                command.done = True
            command.save(update_fields=["outcome", "detail", "done"])
            # a raise held by the driver was never sent: the lane's own rules (tailgating,
            # forced entry) say why the loop is occupied, and a new raise follows once it clears
            if not result.ok and result.outcome not in (
                CommandOutcome.NO_RESPONSE,
                CommandOutcome.HELD_LOOP_OCCUPIED,
            ):
                barrier = self._topology.barriers.get(send.barrier_pk)
                if barrier is None:
                    continue
                kind = (
                    Alarm.Kind.INTERLOCK
                    if result.outcome is CommandOutcome.REFUSED_LOOP_OCCUPIED
                    else Alarm.Kind.COMMAND_FAILED
                )
                _AlarmBook(self._topology, now).event(
                    kind,
                    barrier,
                    f"barrier {barrier.ident}: {send.command.value} refused "
                    f"({result.outcome.value.replace('_', ' ')})",
                    {"seq": send.seq, "outcome": result.outcome.value},
                )

    def _store_states(
        self, states: dict[int, BarrierState], now: dt.datetime, now_s: float
    ) -> None:
        for pk, state in states.items():
            key = (
                state.position.value,
                state.position_pct,
                int(state.faults),
                state.loop_occupied,
                state.power_ok,
                state.link_ok,
            )
            if self._written.get(pk) == key and now_s - self._written_at.get(pk, 0) < 2.0:
                continue
            values = {
                "position": state.position.value,
                "position_pct": state.position_pct,
                "faults": state.faults.names(),
                "loop_occupied": state.loop_occupied,
                "power_ok": state.power_ok,
                "link_ok": state.link_ok,
                "heartbeat": state.heartbeat,
                "reported_at": now,
            }
            if BarrierStatus.objects.filter(barrier_id=pk).update(**values) == 0:
                BarrierStatus.objects.create(barrier_id=pk, **values)
            self._written[pk] = key
            self._written_at[pk] = now_s

    def _device_alarms(
        self, states: dict[int, BarrierState], alarms: _AlarmBook, now_s: float
    ) -> None:
        for pk, state in states.items():
            info = self._topology.barriers[pk]
            hung = state.link_ok and not self._heartbeats[pk].observe(state)
            if not state.link_ok or hung:
                since = self._link_down_since.setdefault(pk, now_s)
                if now_s - since >= self.options.link_alarm_after_s:
                    what = (
                        "stays up (fail-secure)"
                        if info.fail_mode == "secure"
                        else ("lowers: the lane is open (fail-safe)")
                    )
                    cause = "heartbeat frozen" if hung else "link lost"
                    alarms.ensure(
                        Alarm.Kind.LINK_LOST,
                        info,
                        f"barrier {info.ident}: {cause}; on link loss it {what}",
                        {"fail_mode": info.fail_mode, "cause": cause},
                    )
                continue
            self._link_down_since.pop(pk, None)
            alarms.clear(Alarm.Kind.LINK_LOST, info)
            faults = state.faults & (Fault.HYDRAULIC | Fault.TRAVEL_TIMEOUT)
            if faults:
                alarms.ensure(
                    Alarm.Kind.FAULT,
                    info,
                    f"barrier {info.ident}: fault {', '.join(Fault(faults).names())}",
                    {"faults": Fault(faults).names()},
                )
            else:
                alarms.clear(Alarm.Kind.FAULT, info)
            if not state.power_ok:
                what = (
                    "stays up (fail-secure)"
                    if info.fail_mode == "secure"
                    else ("lowers (fail-safe)")
                )
                alarms.ensure(
                    Alarm.Kind.POWER_LOSS,
                    info,
                    f"barrier {info.ident}: mains power lost; it {what}",
                    {"fail_mode": info.fail_mode},
                )
            else:
                alarms.clear(Alarm.Kind.POWER_LOSS, info)

    def _new_command(
        self,
        barrier_pk: int,
        command: BarrierCommand,
        passage: Passage | None,
        state: BarrierState,
        pending: dict[int, DeviceCommand],
        now: dt.datetime,
    ) -> None:
        status, _ = BarrierStatus.objects.get_or_create(barrier_id=barrier_pk)
        seq = status.command_seq % 65535 + 1
        if seq == state.last_seq:  # the controller would take it for a repeat
            seq = seq % 65535 + 1
        BarrierStatus.objects.filter(pk=status.pk).update(command_seq=seq)
        old = pending.get(barrier_pk)
        if old is not None:  # superseded: the newer intent wins
            DeviceCommand.objects.filter(pk=old.pk).update(done=True, outcome="superseded")
        pending[barrier_pk] = DeviceCommand.objects.create(
            barrier_id=barrier_pk, passage=passage, command=command.value, seq=seq, created_at=now
        )

    def _recently_accepted(
        self, command: BarrierCommand, barrier_pks: list[int], now: dt.datetime
    ) -> set[int]:
        window = dt.timedelta(seconds=max(1.5, 4 * self.options.poll_s))
        return set(
            DeviceCommand.objects.filter(
                barrier_id__in=barrier_pks,
                command=command.value,
                outcome__in=("accepted", "duplicate"),
                created_at__gte=now - window,
            ).values_list("barrier_id", flat=True)
        )

    def _drive_passage(
        self,
        passage: Passage,
        states: dict[int, BarrierState],
        pending: dict[int, DeviceCommand],
        alarms: _AlarmBook,
        now: dt.datetime,
        mode: ZoneMode | None,
    ) -> None:
        S = Passage.State
        lane_pk = passage.lane_id
        loop = any(s.loop_occupied for s in states.values())
        all_down = all(s.link_ok and s.position is Position.DOWN for s in states.values())
        all_up = all(s.link_ok and s.position is Position.UP for s in states.values())
        age = (now - passage.updated_at).total_seconds()

        def move(new: str, **extra: Any) -> bool:
            moved = (
                Passage.objects.filter(pk=passage.pk, state=passage.state).update(
                    state=new, updated_at=now, **extra
                )
                == 1
            )
            if moved:
                passage.state = new
                passage.updated_at = now
                for key, value in extra.items():
                    setattr(passage, key, value)
            return moved

        def wanting(command: BarrierCommand) -> list[int]:
            """Barriers that still need ``command``: not there, none pending, none accepted in
            the last moments (the poll that shows it moving may not have come yet)."""
            target = Position.DOWN if command is BarrierCommand.LOWER else Position.UP
            moving = Position.LOWERING if command is BarrierCommand.LOWER else Position.RISING
            recent = self._recently_accepted(command, list(states), now)
            out = []
            for pk, state in states.items():
                if state.position in (target, moving) and state.link_ok:
                    continue
                command_row = pending.get(pk)
                if command_row is not None and command_row.command == command.value:
                    continue
                if pk in recent:
                    continue
                out.append(pk)
            return out

        if not states:  # a lane without barriers: nothing to drive
            move(S.CLOSED, closed_at=now, close_reason="lane has no barrier")
            return
        if passage.state == S.GRANTED:
            for pk in wanting(BarrierCommand.LOWER):
                self._new_command(pk, BarrierCommand.LOWER, passage, states[pk], pending, now)
            move(S.LOWERING)
            return
        if passage.state == S.LOWERING:
            if all_down:
                move(S.OPEN, opened_at=now)
                return
            late = now >= passage.expires_at
            if late and not (
                grants.lowered_for(passage)
                or any(s.position in (Position.LOWERING, Position.DOWN) for s in states.values())
            ):
                grants.expire_passage(passage, now)  # no barrier moved for it: never will
                return
            refused = [
                c
                for c in DeviceCommand.objects.filter(passage=passage, command="lower", done=True)
                if c.outcome in ("refused_fault", "refused_no_power")
            ]
            if refused or age > self.options.lower_give_up_s:
                why = refused[0].outcome if refused else "barriers did not come down in time"
                if move(S.FAILED, closed_at=now, close_reason=why[:200]):
                    alarms.event(
                        Alarm.Kind.COMMAND_FAILED,
                        None,
                        f"lane {self._topology.lane_ident[lane_pk]}: passage failed ({why})",
                        {"passage": passage.pk},
                        lane_pk=lane_pk,
                    )
                    for pk in states:
                        command_row = pending.get(pk)
                        if command_row is not None and command_row.passage_id == passage.pk:
                            DeviceCommand.objects.filter(pk=command_row.pk).update(
                                done=True, outcome="abandoned"
                            )
                            pending.pop(pk)
                return
            if not late:  # past the limit, what has begun ends; nothing more is lowered
                for pk in wanting(BarrierCommand.LOWER):
                    self._new_command(pk, BarrierCommand.LOWER, passage, states[pk], pending, now)
            return
        if passage.state == S.OPEN:
            if loop:
                move(S.VEHICLE_PASSING, vehicle_at=now)
            elif passage.opened_at and (now - passage.opened_at).total_seconds() > (
                self.options.open_timeout_s
            ):
                move(S.CLOSING, closing_since=now, close_reason="timeout: no vehicle")
            return
        if passage.state == S.VEHICLE_PASSING:
            if not loop:
                move(
                    S.CLOSING,
                    closing_since=now,
                    close_reason="vehicle passed",
                    vehicle_cleared=True,
                )
            return
        if passage.state == S.CLOSING:
            if mode is ZoneMode.EMERGENCY_OPEN:
                # evacuation or rescue: the barriers stay down, the passage simply ends
                move(S.CLOSED, closed_at=now, close_reason="emergency_open: barriers held down")
                return
            if loop:
                # Never raise over a vehicle. A vehicle on the loop after the first one cleared
                # is a tailgater (most bollard strikes; domain.md section 3).
                lane = self._topology.lane_ident[lane_pk]
                if passage.vehicle_cleared:
                    alarms.event(
                        Alarm.Kind.TAILGATING,
                        None,
                        f"lane {lane}: a second vehicle followed the one granted (tailgating); "
                        "raise held until the loop is clear",
                        {"passage": passage.pk},
                        lane_pk=lane_pk,
                        once_key=("passage", passage.pk),
                    )
                else:
                    alarms.event(
                        Alarm.Kind.INTERLOCK,
                        None,
                        f"lane {lane}: close requested over an occupied loop; "
                        "raise held until the loop is clear",
                        {"passage": passage.pk},
                        lane_pk=lane_pk,
                        once_key=("passage", passage.pk),
                    )
                return
            if all_up:
                move(S.CLOSED, closed_at=now)
                return
            for pk in wanting(BarrierCommand.RAISE):
                if states[pk].link_ok:
                    self._new_command(pk, BarrierCommand.RAISE, passage, states[pk], pending, now)

    def _idle_lane(
        self,
        lane_pk: int,
        mode: ZoneMode | None,
        states: dict[int, BarrierState],
        pending: dict[int, DeviceCommand],
        alarms: _AlarmBook,
    ) -> None:
        """No passage in progress: barriers up (down in ``emergency_open``), alarms for vehicles
        on the loop of a closed lane."""
        now = alarms.now
        want_down = mode is ZoneMode.EMERGENCY_OPEN
        command = BarrierCommand.LOWER if want_down else BarrierCommand.RAISE
        target = Position.DOWN if want_down else Position.UP
        moving = Position.LOWERING if want_down else Position.RISING
        lane = self._topology.lane_ident[lane_pk]
        loop = any(s.loop_occupied for s in states.values() if s.link_ok)
        if loop and not want_down:
            alarms.ensure(
                Alarm.Kind.FORCED_ENTRY,
                None,
                f"lane {lane}: vehicle on the loop with no passage granted "
                "(forced entry or tailgating)",
                {},
                lane_pk=lane_pk,
            )
        else:
            alarms.clear(Alarm.Kind.FORCED_ENTRY, None, lane_pk=lane_pk)
        needing = [
            pk
            for pk, state in states.items()
            if state.link_ok
            and state.position not in (target, moving)
            and state.power_ok
            and not state.faults & Fault.HYDRAULIC
        ]
        if not needing:
            return
        recent = self._recently_accepted(command, needing, now)
        for pk in needing:
            state = states[pk]
            if command is BarrierCommand.RAISE and state.loop_occupied:
                continue  # never raise over a vehicle
            row = pending.get(pk)
            if (row is not None and row.command == command.value) or pk in recent:
                continue
            self._new_command(pk, command, None, state, pending, now)


class _AlarmBook:
    """Open alarms of the daemon's zones, loaded once per tick; creates and clears them."""

    def __init__(self, topo: _Topology, now: dt.datetime) -> None:
        self.topo = topo
        self.now = now
        self.open: dict[tuple[str, int | None, int | None], Alarm] = {}
        for alarm in Alarm.objects.filter(
            zone_id__in=set(topo.lane_zone.values()), cleared_at__isnull=True
        ):
            self.open[(alarm.kind, alarm.barrier_id, alarm.lane_id)] = alarm

    def _where(self, barrier: _BarrierInfo | None, lane_pk: int | None) -> tuple[int, int]:
        lane = barrier.lane_pk if barrier is not None else lane_pk
        assert lane is not None
        return self.topo.lane_zone[lane], lane

    def ensure(
        self,
        kind: str,
        barrier: _BarrierInfo | None,
        message: str,
        detail: dict[str, Any],
        *,
        lane_pk: int | None = None,
    ) -> None:
        """An alarm that lasts while its condition does."""
        zone, lane = self._where(barrier, lane_pk)
        key = (kind, barrier.pk if barrier else None, lane)
        if key in self.open:
            return
        alarm = Alarm.objects.create(
            zone_id=zone,
            lane_id=lane,
            barrier_id=barrier.pk if barrier else None,
            kind=kind,
            message=message[:500],
            detail=detail,
            raised_at=self.now,
        )
        self.open[key] = alarm
        log.warning("alarm: %s", message)

    def clear(self, kind: str, barrier: _BarrierInfo | None, *, lane_pk: int | None = None) -> None:
        _zone, lane = self._where(barrier, lane_pk)
        alarm = self.open.pop((kind, barrier.pk if barrier else None, lane), None)
        if alarm is not None:
            alarm.cleared_at = self.now
            alarm.save(update_fields=["cleared_at"])

    def event(
        self,
        kind: str,
        barrier: _BarrierInfo | None,
        message: str,
        detail: dict[str, Any],
        *,
        lane_pk: int | None = None,
        once_key: tuple[str, int] | None = None,
        quiet_s: float = 60.0,
    ) -> None:
        """A one-off alarm (already cleared; stays in the list until acknowledged). At most one
        per ``once_key`` (e.g. per passage), and one per kind and place every ``quiet_s``."""
        zone, lane = self._where(barrier, lane_pk)
        if (
            once_key is not None
            and Alarm.objects.filter(
                kind=kind, lane_id=lane, **{f"detail__{once_key[0]}": once_key[1]}
            ).exists()
        ):
            return
        if (
            once_key is None
            and Alarm.objects.filter(
                kind=kind,
                lane_id=lane,
                barrier=barrier.pk if barrier else None,
                raised_at__gte=self.now - dt.timedelta(seconds=quiet_s),
            ).exists()
        ):
            return
        Alarm.objects.create(
            zone_id=zone,
            lane_id=lane,
            barrier_id=barrier.pk if barrier else None,
            kind=kind,
            message=message[:500],
            detail=detail,
            raised_at=self.now,
            cleared_at=self.now,
        )
        log.warning("alarm: %s", message)


def load_topology(zone_idents: Sequence[str] | None) -> _Topology:
    barriers = Barrier.objects.select_related("lane", "lane__zone")
    if zone_idents:
        barriers = barriers.filter(lane__zone__ident__in=list(zone_idents))
    topo = _Topology()
    for barrier in barriers:
        lane = barrier.lane
        exercise = lane.zone.is_exercise
        if exercise and (barrier.driver or {}).get("type", "simulator") != "simulator":
            log.error("exercise zone barrier %s with a real driver: skipped", barrier.ident)
            continue
        topo.barriers[barrier.pk] = _BarrierInfo(
            exercise=exercise,
            pk=barrier.pk,
            ident=barrier.ident,
            lane_pk=lane.pk,
            zone_pk=lane.zone_id,
            fail_mode=barrier.fail_mode,
            driver_json=dict(barrier.driver or {}),
            engine=barrier.to_engine(),
        )
        topo.lanes.setdefault(lane.pk, []).append(barrier.pk)
        topo.lane_zone[lane.pk] = lane.zone_id
        topo.lane_ident[lane.pk] = lane.ident
    return topo


def _zone_modes(zone_pks: set[int], now: dt.datetime) -> dict[int, ZoneMode]:
    out = {}
    for zone in Zone.objects.filter(pk__in=zone_pks).prefetch_related("schedules"):
        schedules = [s.to_engine() for s in zone.schedules.all() if s.start <= now < s.end]
        out[zone.pk] = effective_mode(ZoneMode(zone.mode), schedules, now)[0]
    return out


def housekeeping(now: dt.datetime | None = None) -> dict[str, Any]:
    """The daemon's hourly chores: the privacy purge and one audit summary of the decisions."""
    from rempart.access import retention

    now = now or timezone.now()
    beat = DaemonHeartbeat.objects.filter(name="access").first()
    since = (beat.last_summary_at if beat and beat.last_summary_at else None) or (
        now - dt.timedelta(hours=1)
    )
    counts = Counter(
        AccessDecision.objects.filter(received_at__gte=since, received_at__lt=now).values_list(
            "outcome", flat=True
        )
    )
    audit.record(
        "access_summary",
        object_type="access.decision",
        object_repr=f"decisions {since:%Y-%m-%d %H:%M} - {now:%H:%M} UTC",
        detail={"since": since.isoformat(), "until": now.isoformat(), "outcomes": dict(counts)},
    )
    removed = retention.run(now)
    DaemonHeartbeat.objects.filter(name="access").update(last_summary_at=now, last_purge_at=now)
    return {"decisions": dict(counts), "purge": removed}


# --- simulated traffic ------------------------------------------------------------------------


class SimulatedTraffic:
    """Camera reads and vehicles on lanes whose barriers are simulated, for demos and tests.

    Reads come from :func:`rempart.access.traffic.generate_labelled_reads` (known permit plates,
    unknown plates, low-confidence reads, tailgaters) and go through the service layer
    (:func:`rempart.access.services.submit_request`, source ``simulated``): the same path as the
    camera API without HTTP. A granted vehicle drives over the loop once its barriers are down;
    a tailgater follows it. ``lane_models`` maps lane identifiers to the ``BollardModel`` s of
    their barriers (in-process simulator drivers, or the units of a Modbus simulator server).
    """

    def __init__(
        self,
        daemon: Daemon | None = None,
        *,
        rate_per_min: float,
        seed: int = 1,
        lane_models: dict[str, list[Any]] | None = None,
        db: Callable[..., Any] | None = None,
        count: int | None = None,
        log_path: str | None = None,
        pass_s: float = 1.5,
    ) -> None:
        self.daemon = daemon
        self.rate_per_min = rate_per_min
        self.seed = seed
        self._lane_models = lane_models
        self._db = db or (daemon.db if daemon is not None else None)
        self.count = count
        self.log_path = log_path
        self.pass_s = pass_s
        self.waiting: dict[str, deque[tuple[str, float]]] = {}
        self.submitted = 0
        self.answers: Counter[str] = Counter()

    def lane_models(self) -> dict[str, list[Any]]:
        if self._lane_models is not None:
            return self._lane_models
        assert self.daemon is not None
        out: dict[str, list[Any]] = {}
        topo = self.daemon._topology
        for pk, info in topo.barriers.items():
            model = getattr(self.daemon.drivers.get(pk), "model", None)
            if model is not None:
                out.setdefault(topo.lane_ident[info.lane_pk], []).append(model)
        return out

    async def run(self) -> None:
        from rempart.access.traffic import generate_labelled_reads

        assert self._db is not None
        lanes = self.lane_models()
        if not lanes:
            log.warning("simulated traffic: no lane with simulated barriers")
            return
        plates = await self._db(_known_plates, sorted(lanes))
        start = timezone.now()
        started_s = time.monotonic()
        driver = asyncio.create_task(self._drive())
        try:
            for kind, body in generate_labelled_reads(
                sorted(lanes),
                plates,
                start=start,
                rate_per_min=self.rate_per_min,
                seed=self.seed,
                count=self.count,
            ):
                read_at = dt.datetime.fromisoformat(str(body["read_at"]))
                delay = (read_at - start).total_seconds() - (time.monotonic() - started_s)
                if delay > 0:
                    await asyncio.sleep(delay)
                lane = str(body["lane"])
                try:
                    result = await self._db(
                        _submit_simulated, lane, str(body["plate"]), float(str(body["confidence"]))
                    )
                except services.RequestError as exc:
                    log.info("simulated read refused: %s", exc.message)
                    continue
                self.submitted += 1
                self.answers[result["decision"]] += 1
                if self.log_path:
                    with open(self.log_path, "a") as handle:
                        handle.write(f"{result['request_id']} {result['decision']}\n")
                if result["decision"] == "grant":
                    self.waiting.setdefault(lane, deque()).append(("granted", time.monotonic()))
                elif kind == "tailgater":
                    # denied, but follows the vehicle ahead through the barrier if it can
                    self.waiting.setdefault(lane, deque()).append(("tailgater", time.monotonic()))
        finally:
            if self.count is None:
                driver.cancel()
            else:
                # let the last vehicles pass before stopping
                while any(self.waiting.values()):
                    await asyncio.sleep(0.2)
                driver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await driver

    async def _drive(self) -> None:
        """Vehicles waiting at a lane drive over the loop once every barrier is down."""
        while True:
            lanes = self.lane_models()
            now_s = time.monotonic()
            for lane, queue in self.waiting.items():
                if not queue:
                    continue
                kind, since = queue[0]
                models = lanes.get(lane, [])
                if now_s - since > 60:
                    queue.popleft()  # gave up waiting
                    continue
                snapshots = [m.snapshot() for m in models]
                if not snapshots:
                    queue.popleft()
                    continue
                down = all(s.position is Position.DOWN for s in snapshots)
                occupied = any(s.loop_occupied for s in snapshots)
                rising = any(s.position is Position.RISING for s in snapshots)
                if kind == "granted" and down and not occupied:
                    queue.popleft()
                    for model in models:
                        model.vehicle_passes(self.pass_s)
                elif kind == "tailgater" and rising and not occupied:
                    # rushes in as the barrier starts to rise behind the vehicle granted
                    queue.popleft()
                    for model in models:
                        model.vehicle_passes(self.pass_s)
                elif kind == "tailgater" and now_s - since > 15:
                    queue.popleft()  # the barrier never opened for anyone: gives up
            await asyncio.sleep(0.1)


def _known_plates(lane_idents: list[str]) -> list[str]:
    plates = (
        Permit.objects.filter(zones__lanes__ident__in=lane_idents, status="active")
        .values_list("plate", flat=True)
        .distinct()
    )
    return sorted(plates)


def _submit_simulated(lane: str, plate: str, confidence: float) -> dict[str, Any]:
    result = services.submit_request(
        lane,
        plate=plate,
        confidence=confidence,
        read_at=timezone.now(),
        source=AccessDecision.Source.SIMULATED,
        actor="simulator",
    )
    return result.answer()
