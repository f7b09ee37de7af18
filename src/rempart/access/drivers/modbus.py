"""Barrier driver for Modbus TCP controllers (PLC-driven bollards, domain.md section 3).

Speaks the register map of ``rempart.access.drivers.registers`` through pymodbus's asyncio
client. Reading: one request of 10 holding registers (FC 3). Commanding: one write of the
command and its sequence id (FC 16), then a read-back of ``LAST_SEQ``/``LAST_OUTCOME`` to learn
whether the controller executed, refused or ignored it. A raise is preceded by a read of
``LOOP_OCCUPIED`` in the same locked exchange and is not written when a vehicle is on the loop.

Link handling: pymodbus's own reconnection is disabled; each call reconnects if needed within
``timeout_s``, so a dead controller is reported as ``link_ok=False`` after at most about
``2 * timeout_s`` seconds and a returning one is picked up on the next poll.
"""

from __future__ import annotations

import asyncio
import logging

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from rempart.access.drivers import registers as reg
from rempart.access.drivers.base import (
    BarrierCommand,
    BarrierDriver,
    BarrierState,
    CommandOutcome,
    CommandResult,
    Fault,
    ModbusDriverConfig,
    Position,
)

__all__ = ["ModbusBarrierDriver"]

log = logging.getLogger(__name__)


class ModbusLinkError(Exception):
    """The controller did not answer usefully; the message says why in one line."""


class ModbusBarrierDriver(BarrierDriver):
    """Driver for one barrier at ``config.host:config.port``, unit id ``config.unit``."""

    def __init__(self, barrier_id: str, config: ModbusDriverConfig) -> None:
        super().__init__(barrier_id)
        self.config = config
        self._client = AsyncModbusTcpClient(
            config.host,
            port=config.port,
            timeout=config.timeout_s,
            retries=0,
            reconnect_delay=0,
            reconnect_delay_max=0,
        )
        self._lock = asyncio.Lock()
        self._last_heartbeat = 0
        self.last_error: str | None = None

    async def connect(self) -> bool:
        try:
            return bool(
                await asyncio.wait_for(self._client.connect(), timeout=self.config.timeout_s)
            )
        except (TimeoutError, OSError, ModbusException) as exc:
            self.last_error = f"connect to {self.config.host}:{self.config.port} failed: {exc}"
            return False

    async def close(self) -> None:
        self._client.close()

    async def _ensure_connected(self) -> None:
        if not self._client.connected and not await self.connect():
            raise ModbusLinkError(self.last_error or "not connected")

    async def _read(self, address: int, count: int) -> list[int]:
        await self._ensure_connected()
        response = await asyncio.wait_for(
            self._client.read_holding_registers(address, count=count, device_id=self.config.unit),
            timeout=self.config.timeout_s * 1.5,
        )
        if response.isError():
            raise ModbusLinkError(
                f"unit {self.config.unit} answered exception "
                f"{getattr(response, 'exception_code', '?')} reading {address}+{count}"
            )
        return list(response.registers)

    async def _write(self, address: int, values: list[int]) -> None:
        await self._ensure_connected()
        response = await asyncio.wait_for(
            self._client.write_registers(address, values, device_id=self.config.unit),
            timeout=self.config.timeout_s * 1.5,
        )
        if response.isError():
            raise ModbusLinkError(
                f"unit {self.config.unit} answered exception "
                f"{getattr(response, 'exception_code', '?')} writing {address}"
            )

    def _link_failed(self, exc: BaseException) -> None:
        message = str(exc) or type(exc).__name__
        if message != self.last_error:
            log.warning("barrier %s: Modbus link lost: %s", self.barrier_id, message)
        self.last_error = message
        # A half-dead socket would otherwise keep timing out; start afresh next time.
        self._client.close()

    async def read_state(self) -> BarrierState:
        async with self._lock:
            try:
                values = await self._read(reg.STATUS_START, reg.STATUS_COUNT)
            except (TimeoutError, OSError, ModbusException, ModbusLinkError) as exc:
                self._link_failed(exc)
                return BarrierState.link_lost(heartbeat=self._last_heartbeat)
        self.last_error = None

        def at(address: int) -> int:
            return values[address - reg.STATUS_START]

        self._last_heartbeat = at(reg.HEARTBEAT)
        position = reg.POSITION_BY_CODE.get(at(reg.POSITION), Position.UNKNOWN)
        return BarrierState(
            position=position,
            position_pct=at(reg.POSITION_PCT),
            faults=Fault(at(reg.FAULTS) & 0x1F),
            loop_occupied=bool(at(reg.LOOP_OCCUPIED)),
            power_ok=bool(at(reg.POWER_OK)),
            heartbeat=at(reg.HEARTBEAT),
            link_ok=True,
            last_seq=at(reg.LAST_SEQ),
            last_outcome=reg.OUTCOME_BY_CODE.get(at(reg.LAST_OUTCOME)),
        )

    async def command(self, command: BarrierCommand, seq: int | None = None) -> CommandResult:
        seq = self.next_seq() if seq is None else seq
        if not 1 <= seq <= 65535:
            raise ValueError(f"command seq {seq} is outside 1-65535")
        async with self._lock:
            try:
                # the loop read just before the write, on the same connection under the same
                # lock: the last poll may be a poll interval old (poll-to-send race)
                if command is BarrierCommand.RAISE and (await self._read(reg.LOOP_OCCUPIED, 1))[0]:
                    return CommandResult.held_over_loop(command, seq)
                await self._write(reg.COMMAND, [reg.COMMAND_CODES[command], seq])
                last_seq, last_outcome = await self._read(reg.LAST_SEQ, 2)
            except (TimeoutError, OSError, ModbusException, ModbusLinkError) as exc:
                self._link_failed(exc)
                return CommandResult(
                    command, seq, CommandOutcome.NO_RESPONSE, self.last_error or ""
                )
        if last_seq != seq:
            return CommandResult(
                command,
                seq,
                CommandOutcome.NO_RESPONSE,
                f"controller reports last seq {last_seq}, not {seq}",
            )
        outcome = reg.OUTCOME_BY_CODE.get(last_outcome, CommandOutcome.NO_RESPONSE)
        return CommandResult(command, seq, outcome)
