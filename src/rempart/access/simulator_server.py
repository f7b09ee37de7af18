"""Serve N simulated bollard controllers over Modbus TCP, for demos, tests and training.

One pymodbus TCP server on one port, one Modbus unit id per bollard (1..N): the layout of a
Modbus TCP gateway in front of RS-485 controllers, which keeps a demo of 40 bollards on a
single port. Each unit answers the register map of ``rempart.access.drivers.registers`` and
moves with the physics of ``rempart.access.drivers.simulator.BollardModel``; a unit whose link
is dropped answers exception 11 (gateway target device failed to respond), as a real gateway
does.

From Python::

    server = SimulatorServer([BollardModel("b1"), BollardModel("b2")], port=0)
    await server.start()          # server.port is the port bound (0: a free one)
    server.model(1).vehicle_passes(3.0)
    await server.stop()

or ``await serve(devices, host, port)`` to run until cancelled, or from the command line
(``rempart access simulate --devices 4 --port 5020`` calls ``run_simulator``). Faults can be
injected from any Modbus client through the simulator-only registers 100-102.

Uses pymodbus's ``SimDevice`` with an ``action`` hook (pymodbus >= 3.10): the hook refreshes
the status registers from the physics before every request and executes command writes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from functools import partial

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from rempart.access.drivers import registers as reg
from rempart.access.drivers.base import BarrierCommand, FailMode
from rempart.access.drivers.simulator import BollardModel

__all__ = ["SimulatorServer", "build_models", "run_simulator", "serve"]

log = logging.getLogger(__name__)


def _register_blocks() -> list[SimData]:
    return [
        SimData(reg.COMMAND, count=2, values=0, datatype=DataType.REGISTERS),
        SimData(
            reg.STATUS_START,
            count=reg.STATUS_COUNT,
            values=0,
            datatype=DataType.REGISTERS,
            readonly=True,
        ),
        SimData(reg.SIM_START, count=reg.SIM_COUNT, values=0, datatype=DataType.REGISTERS),
    ]


def _write_status(model: BollardModel, start: int, registers: list[int]) -> None:
    snap = model.snapshot()
    values = {
        reg.POSITION: reg.POSITION_CODES[snap.position],
        reg.POSITION_PCT: snap.position_pct,
        reg.FAULTS: int(snap.faults),
        reg.LOOP_OCCUPIED: int(snap.loop_occupied),
        reg.POWER_OK: int(snap.power_ok),
        reg.HEARTBEAT: snap.heartbeat,
        reg.LAST_SEQ: snap.last_seq,
        reg.LAST_OUTCOME: reg.OUTCOME_CODES[snap.last_outcome] if snap.last_outcome else 0,
        reg.FAIL_MODE: reg.FAIL_MODE_CODES[model.fail_mode],
        reg.MAP_VERSION_REGISTER: reg.MAP_VERSION,
        reg.SIM_LOOP: int(model.loop_occupied()),
        reg.SIM_POWER: int(model.power_ok),
        reg.SIM_FAULTS: (reg.SIM_FAULT_HYDRAULIC if model.hydraulic_fault else 0)
        | (reg.SIM_FAULT_STUCK if model.stuck else 0),
    }
    for address, value in values.items():
        registers[address - start] = value


def _apply_writes(
    model: BollardModel, start: int, address: int, registers: list[int], values: list[int]
) -> None:
    written = {address + i: v for i, v in enumerate(values)}
    if reg.COMMAND in written:
        code = written[reg.COMMAND]
        seq = written.get(reg.COMMAND_SEQ, registers[reg.COMMAND_SEQ - start])
        command = reg.COMMAND_BY_CODE.get(code)
        if command is not None:
            model.command(command, seq)
    if reg.SIM_LOOP in written:
        model.set_loop(bool(written[reg.SIM_LOOP]))
    if reg.SIM_POWER in written:
        model.set_power(bool(written[reg.SIM_POWER]))
    if reg.SIM_FAULTS in written:
        bits = written[reg.SIM_FAULTS]
        model.inject_fault(
            hydraulic=bool(bits & reg.SIM_FAULT_HYDRAULIC), stuck=bool(bits & reg.SIM_FAULT_STUCK)
        )


async def _on_request(
    model: BollardModel,
    function_code: int,
    start_address: int,
    address: int,
    count: int,
    registers: list[int],
    values: list[int] | list[bool] | None,
) -> ExcCodes | None:
    """pymodbus ``SimDevice.action``: physics first, then the request sees fresh registers."""
    if not model.link_up:
        return ExcCodes.GATEWAY_NO_RESPONSE
    if values:
        int_values = [int(v) for v in values]
        _apply_writes(model, start_address, address, registers, int_values)
    _write_status(model, start_address, registers)
    return None


class SimulatorServer:
    """N ``BollardModel`` s behind one Modbus TCP server; unit id ``i + 1`` serves ``models[i]``."""

    def __init__(
        self, models: Sequence[BollardModel], host: str = "127.0.0.1", port: int = 5020
    ) -> None:
        if not 1 <= len(models) <= 247:
            raise ValueError(f"{len(models)} devices; Modbus unit ids allow 1 to 247")
        self.models = list(models)
        self.host = host
        self.port = port
        self._server: ModbusTcpServer | None = None

    def model(self, unit: int) -> BollardModel:
        """The model answering unit id ``unit`` (1-based)."""
        return self.models[unit - 1]

    async def start(self) -> None:
        """Listen; with ``port=0`` the bound port is stored in ``self.port``."""
        devices = [
            SimDevice(
                id=unit,
                simdata=_register_blocks(),
                action=partial(_on_request, model),
            )
            for unit, model in enumerate(self.models, start=1)
        ]
        self._server = ModbusTcpServer(devices, address=(self.host, self.port))
        await self._server.serve_forever(background=True)
        listener = self._server.transport
        sockets = getattr(listener, "sockets", None)
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("bollard simulator: %d units on %s:%d", len(self.models), self.host, self.port)

    async def stop(self) -> None:
        """Stop listening and drop every client connection (clients see the link go)."""
        if self._server is not None:
            await self._server.shutdown()
            self._server = None

    async def __aenter__(self) -> SimulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


def build_models(
    count: int,
    *,
    rise_time_s: float = 4.0,
    lower_time_s: float = 3.0,
    fail_mode: FailMode = FailMode.SECURE,
) -> list[BollardModel]:
    """``count`` identical bollards named ``sim-1`` .. ``sim-N``."""
    return [
        BollardModel(
            f"sim-{i}", rise_time_s=rise_time_s, lower_time_s=lower_time_s, fail_mode=fail_mode
        )
        for i in range(1, count + 1)
    ]


async def _traffic(models: Sequence[BollardModel], vehicles_per_min: float, seed: int) -> None:
    """Random vehicles over the loops: lower, pass (loop occupied 2 s), raise again."""
    rng = random.Random(seed)
    while True:
        await asyncio.sleep(rng.expovariate(vehicles_per_min / 60.0))
        model = rng.choice(list(models))
        seq = rng.randint(1, 65535)
        model.command(BarrierCommand.LOWER, seq)
        await asyncio.sleep(model.lower_time_s)
        model.vehicle_passes(2.0)
        await asyncio.sleep(2.5)
        model.command(BarrierCommand.RAISE, seq % 65535 + 1)


async def serve(
    devices: Sequence[BollardModel],
    host: str = "127.0.0.1",
    port: int = 5020,
    *,
    vehicles_per_min: float = 0.0,
    seed: int = 1,
) -> None:
    """Serve ``devices`` until cancelled; optionally run random vehicles through them."""
    async with SimulatorServer(devices, host, port):
        traffic = (
            asyncio.create_task(_traffic(devices, vehicles_per_min, seed))
            if vehicles_per_min > 0
            else None
        )
        try:
            await asyncio.Event().wait()
        finally:
            if traffic is not None:
                traffic.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await traffic


def run_simulator(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``--devices N --port 5020 [--host] [--fail-mode] ...``."""
    parser = argparse.ArgumentParser(
        prog="rempart access simulate",
        description="Serve simulated bollard controllers over Modbus TCP (unit ids 1..N).",
    )
    parser.add_argument("--devices", type=int, default=4, help="number of bollards (1-247)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=5020, help="TCP port (502 needs root)")
    parser.add_argument("--rise-time", type=float, default=4.0, help="seconds, down to up")
    parser.add_argument("--lower-time", type=float, default=3.0, help="seconds, up to down")
    parser.add_argument(
        "--fail-mode", choices=[m.value for m in FailMode], default=FailMode.SECURE.value
    )
    parser.add_argument(
        "--vehicles-per-min", type=float, default=0.0, help="random traffic over the loops"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the random traffic")
    args = parser.parse_args(argv)
    if not 1 <= args.devices <= 247:
        parser.error(f"--devices {args.devices}: Modbus unit ids allow 1 to 247")
    models = build_models(
        args.devices,
        rise_time_s=args.rise_time,
        lower_time_s=args.lower_time,
        fail_mode=FailMode(args.fail_mode),
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    print(f"{args.devices} bollards on {args.host}:{args.port}, unit ids 1-{args.devices}")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve(
                models,
                args.host,
                args.port,
                vehicles_per_min=args.vehicles_per_min,
                seed=args.seed,
            )
        )
    return 0
