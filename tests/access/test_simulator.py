"""Simulated bollard physics, the in-process driver, and the traffic generator."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from rempart.access.decide import (
    AccessRequest,
    Direction,
    IdentificationMethod,
    Lane,
    Outcome,
    Permit,
    PermitCategory,
    PlateRead,
    Zone,
    decide,
)
from rempart.access.drivers import create_driver
from rempart.access.drivers.base import (
    Barrier,
    BarrierCommand,
    BarrierState,
    CommandOutcome,
    FailMode,
    Fault,
    HeartbeatMonitor,
    Position,
    SequenceCounter,
)
from rempart.access.drivers.simulator import BollardModel, SimulatorDriver
from rempart.access.simulator_server import build_models, run_simulator
from rempart.access.traffic import ReadKind, TrafficMix, generate_labelled_reads, generate_reads


class FakeClock:
    """A monotonic clock the test moves by hand, seconds."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def bollard(clock: FakeClock, **kwargs: object) -> BollardModel:
    return BollardModel("b", rise_time_s=4.0, lower_time_s=2.0, clock=clock, **kwargs)  # type: ignore[arg-type]


def test_lowering_then_rising_follow_travel_times(clock: FakeClock) -> None:
    model = bollard(clock)
    assert model.snapshot().position is Position.UP
    assert model.command(BarrierCommand.LOWER, 1) is CommandOutcome.ACCEPTED
    clock.tick(1.0)
    snap = model.snapshot()
    assert (snap.position, snap.position_pct) == (Position.LOWERING, 50)
    clock.tick(1.0)
    assert model.snapshot().position is Position.DOWN
    model.command(BarrierCommand.RAISE, 2)
    clock.tick(3.0)
    snap = model.snapshot()
    assert (snap.position, snap.position_pct) == (Position.RISING, 75)
    clock.tick(1.0)
    assert model.snapshot().position is Position.UP


def test_commands_are_idempotent_and_deduplicated_by_seq(clock: FakeClock) -> None:
    model = bollard(clock)
    assert model.command(BarrierCommand.RAISE, 1) is CommandOutcome.ACCEPTED  # already up
    assert model.snapshot().position is Position.UP
    assert model.command(BarrierCommand.LOWER, 2) is CommandOutcome.ACCEPTED
    clock.tick(2.0)
    model.command(BarrierCommand.RAISE, 3)
    clock.tick(4.0)
    # deduplication is against the last executed seq only: the supervisor never reuses an
    # older seq (SequenceCounter), so an old one is a new command
    assert model.command(BarrierCommand.LOWER, 2) is CommandOutcome.ACCEPTED
    model.command(BarrierCommand.RAISE, 4)
    clock.tick(4.0)
    assert model.command(BarrierCommand.RAISE, 4) is CommandOutcome.DUPLICATE
    assert model.command(BarrierCommand.LOWER, 4) is CommandOutcome.DUPLICATE
    assert model.snapshot().position is Position.UP


def test_occupied_loop_refuses_rise(clock: FakeClock) -> None:
    model = bollard(clock, start_up=False)
    model.vehicle_passes(3.0)
    assert model.command(BarrierCommand.RAISE, 1) is CommandOutcome.REFUSED_LOOP_OCCUPIED
    snap = model.snapshot()
    assert snap.position is Position.DOWN and snap.loop_occupied
    assert Fault.LOOP_INTERLOCK in snap.faults
    clock.tick(3.1)  # vehicle gone
    assert not model.snapshot().loop_occupied
    assert model.command(BarrierCommand.RAISE, 2) is CommandOutcome.ACCEPTED
    assert Fault.LOOP_INTERLOCK not in model.snapshot().faults


def test_vehicle_arriving_reverses_a_rising_bollard(clock: FakeClock) -> None:
    model = bollard(clock, start_up=False)
    model.command(BarrierCommand.RAISE, 1)
    clock.tick(2.0)  # half way up
    model.vehicle_passes(5.0)
    snap = model.snapshot()
    assert snap.position is Position.LOWERING
    assert Fault.LOOP_INTERLOCK in snap.faults
    clock.tick(1.0)  # lowers from 50 % in 1 s (2 s full travel)
    assert model.snapshot().position is Position.DOWN


def test_without_loop_detector_nothing_stops_the_rise(clock: FakeClock) -> None:
    model = bollard(clock, start_up=False, loop_detector=False)
    model.vehicle_passes(5.0)
    assert model.command(BarrierCommand.RAISE, 1) is CommandOutcome.ACCEPTED


@pytest.mark.parametrize(
    ("fail_mode", "after_2s"),
    [(FailMode.SECURE, Position.UP), (FailMode.SAFE, Position.DOWN)],
)
def test_power_loss_follows_fail_mode(
    clock: FakeClock, fail_mode: FailMode, after_2s: Position
) -> None:
    model = bollard(clock, fail_mode=fail_mode)
    model.set_power(False)
    clock.tick(2.0)
    snap = model.snapshot()
    assert snap.position is after_2s
    assert not snap.power_ok and Fault.POWER_LOSS in snap.faults
    assert model.command(BarrierCommand.LOWER, 1) is CommandOutcome.REFUSED_NO_POWER
    model.set_power(True)
    assert model.command(BarrierCommand.LOWER, 1) is CommandOutcome.ACCEPTED  # not a duplicate


def test_secure_power_loss_mid_travel_freezes_and_reports_unknown(clock: FakeClock) -> None:
    model = bollard(clock)
    model.command(BarrierCommand.LOWER, 1)
    clock.tick(1.0)
    model.set_power(False)
    clock.tick(5.0)
    snap = model.snapshot()
    assert (snap.position, snap.position_pct) == (Position.UNKNOWN, 50)


@pytest.mark.parametrize(
    ("fail_mode", "after"), [(FailMode.SECURE, Position.UP), (FailMode.SAFE, Position.DOWN)]
)
def test_link_loss_follows_fail_mode(
    clock: FakeClock, fail_mode: FailMode, after: Position
) -> None:
    model = bollard(clock, fail_mode=fail_mode)
    model.set_link(False)
    clock.tick(3.0)
    snap = model.snapshot()
    assert snap.position is after and Fault.LINK_WATCHDOG in snap.faults


def test_hydraulic_fault_stops_and_refuses(clock: FakeClock) -> None:
    model = bollard(clock)
    model.command(BarrierCommand.LOWER, 1)
    clock.tick(1.0)
    model.inject_fault(hydraulic=True)
    clock.tick(5.0)
    snap = model.snapshot()
    assert snap.position is Position.UNKNOWN and Fault.HYDRAULIC in snap.faults
    assert model.command(BarrierCommand.LOWER, 2) is CommandOutcome.REFUSED_FAULT
    model.inject_fault(hydraulic=False)
    assert model.command(BarrierCommand.LOWER, 2) is CommandOutcome.ACCEPTED


def test_stuck_bollard_raises_travel_timeout(clock: FakeClock) -> None:
    model = bollard(clock)
    model.inject_fault(stuck=True)
    model.command(BarrierCommand.LOWER, 1)
    clock.tick(3.9)  # 1.5 x 2 s + 1 s = 4 s watchdog
    assert model.snapshot().position is Position.LOWERING
    clock.tick(0.2)
    snap = model.snapshot()
    assert snap.position is Position.UP and Fault.TRAVEL_TIMEOUT in snap.faults
    model.inject_fault(stuck=False)
    assert Fault.TRAVEL_TIMEOUT not in model.snapshot().faults


def test_heartbeat_counts_seconds_and_wraps(clock: FakeClock) -> None:
    model = bollard(clock)
    assert model.snapshot().heartbeat == 0
    clock.tick(0.99)
    assert model.snapshot().heartbeat == 0
    clock.tick(0.02)
    assert model.snapshot().heartbeat == 1
    clock.tick(65535.0)
    assert model.snapshot().heartbeat == 0


def test_heartbeat_monitor_flags_a_frozen_counter() -> None:
    monitor = HeartbeatMonitor(stale_after_s=3.0)
    state = BarrierState(Position.UP, heartbeat=5, observed_monotonic_s=10.0)
    assert monitor.observe(state)
    assert monitor.observe(BarrierState(Position.UP, heartbeat=5, observed_monotonic_s=12.9))
    assert not monitor.observe(BarrierState(Position.UP, heartbeat=5, observed_monotonic_s=13.0))
    assert monitor.observe(BarrierState(Position.UP, heartbeat=6, observed_monotonic_s=13.5))
    assert not monitor.observe(BarrierState.link_lost())


def test_sequence_counter_wraps_and_skips_zero() -> None:
    counter = SequenceCounter(start=65534)
    assert [counter.next() for _ in range(4)] == [65534, 65535, 1, 2]


def test_fault_names_round_trip() -> None:
    faults = Fault.HYDRAULIC | Fault.POWER_LOSS
    assert faults.names() == ["hydraulic", "power_loss"]
    assert Fault.from_names(["hydraulic", "power_loss", "future_bit"]) == faults


def test_simulator_driver_through_the_factory() -> None:
    barrier = Barrier("b-1", rise_time_s=0.2, lower_time_s=0.1)

    async def scenario() -> None:
        driver = create_driver(barrier)
        assert isinstance(driver, SimulatorDriver)
        async with driver:
            assert (await driver.read_state()).position is Position.UP
            result = await driver.command(BarrierCommand.LOWER)
            assert result.ok and result.seq == 1
            await asyncio.sleep(0.15)
            state = await driver.read_state()
            assert (state.position, state.last_seq) == (Position.DOWN, 1)
            driver.model.set_link(False)
            assert not (await driver.read_state()).link_ok
            result = await driver.command(BarrierCommand.RAISE)
            assert result.outcome is CommandOutcome.NO_RESPONSE and not result.ok

    asyncio.run(scenario())


def test_build_models_and_cli_arguments() -> None:
    models = build_models(3, rise_time_s=2.0, fail_mode=FailMode.SAFE)
    assert [m.barrier_id for m in models] == ["sim-1", "sim-2", "sim-3"]
    assert all(m.fail_mode is FailMode.SAFE and m.rise_time_s == 2.0 for m in models)
    with pytest.raises(SystemExit):
        run_simulator(["--devices", "0"])


# --- traffic -------------------------------------------------------------------------------

START = datetime(2027, 7, 14, 16, 0, tzinfo=UTC)
KNOWN = ["AB-123-CD", "GH-456-JK", "EM-112-SU"]


def test_traffic_is_deterministic_for_a_seed() -> None:
    first = list(generate_reads(["in-1", "in-2"], KNOWN, start=START, seed=7, count=50))
    again = list(generate_reads(["in-1", "in-2"], KNOWN, start=START, seed=7, count=50))
    other = list(generate_reads(["in-1", "in-2"], KNOWN, start=START, seed=8, count=50))
    assert first == again
    assert first != other
    assert len(first) == 50
    assert set(first[0]) == {"lane", "plate", "confidence", "read_at"}


def test_traffic_shapes_and_mix() -> None:
    labelled = list(
        generate_labelled_reads(["in-1"], KNOWN, start=START, seed=1, rate_per_min=60, count=2000)
    )
    kinds = [k for k, _ in labelled]
    times = [datetime.fromisoformat(str(r["read_at"])) for _, r in labelled]
    assert times == sorted(times) and times[0] > START
    assert all(t.tzinfo is not None for t in times)
    for kind, read in labelled:
        confidence = float(read["confidence"])  # type: ignore[arg-type]
        if kind is ReadKind.LOW_CONFIDENCE:
            assert 0.4 <= confidence <= 0.85
        else:
            assert confidence >= 0.92
        if kind in (ReadKind.UNKNOWN, ReadKind.TAILGATER):
            assert read["plate"] not in KNOWN
        if kind is ReadKind.KNOWN:
            assert read["plate"] in KNOWN
    share = {k: kinds.count(k) / len(kinds) for k in ReadKind}
    assert 0.6 < share[ReadKind.KNOWN] < 0.8
    assert 0.03 < share[ReadKind.TAILGATER] < 0.08
    # each tailgater follows a known vehicle on the same lane within 0.8-2.5 s
    for i, (kind, read) in enumerate(labelled):
        if kind is ReadKind.TAILGATER:
            leader_kind, leader = labelled[i - 1]
            gap = times[i] - times[i - 1]
            assert leader_kind is ReadKind.KNOWN and leader["lane"] == read["lane"]
            assert timedelta(seconds=0.8) <= gap <= timedelta(seconds=2.5)
    # about 60 arrivals per minute (a tailgater pair counts as one arrival)
    minutes = (times[-1] - START).total_seconds() / 60
    arrivals = len(labelled) - kinds.count(ReadKind.TAILGATER)
    assert 50 < arrivals / minutes < 70


def test_traffic_until_and_no_known_plates() -> None:
    reads = list(
        generate_reads(["in-1"], [], start=START, seed=3, until=START + timedelta(minutes=10))
    )
    assert reads and all(
        datetime.fromisoformat(str(r["read_at"])) < START + timedelta(minutes=10) for r in reads
    )
    with pytest.raises(ValueError, match="aware"):
        next(generate_reads(["in-1"], KNOWN, start=datetime(2027, 1, 1)))


def test_traffic_through_the_decision_engine() -> None:
    """The generator's labels agree with what the engine decides for them."""
    zone = Zone("z", "Europe/Paris",
                lanes=(Lane("in-1", Direction.IN, frozenset({IdentificationMethod.ANPR})),))  # fmt: skip
    permits = [
        Permit(f"p{i}", p, PermitCategory.RESIDENT, frozenset({"z"})) for i, p in enumerate(KNOWN)
    ]
    expected = {
        ReadKind.KNOWN: Outcome.GRANT,
        ReadKind.UNKNOWN: Outcome.DENY,
        ReadKind.TAILGATER: Outcome.DENY,
        ReadKind.LOW_CONFIDENCE: Outcome.REFER,
    }
    mix = TrafficMix(known=1, unknown=1, low_confidence=1, tailgater=1)
    for kind, read in generate_labelled_reads(
        ["in-1"], KNOWN, start=START, seed=5, count=200, mix=mix
    ):
        request = AccessRequest(
            str(read["lane"]),
            datetime.fromisoformat(str(read["read_at"])),
            PlateRead(str(read["plate"]), float(read["confidence"])),  # type: ignore[arg-type]
        )
        assert decide(request, zone, permits).outcome is expected[kind], read
