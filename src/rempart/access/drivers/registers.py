"""Modbus register map of a rempart barrier controller (map version 1).

One map for the Modbus driver and the simulator server; docs/access-protocols.md shows it to
operators and integrators. Everything is a 16-bit holding register (function codes 3 read,
6/16 write), addresses 0-based as on the wire, one Modbus unit id per barrier. A PLC integrator
maps these onto the bollard's own I/O.

======  ===============  ====  ===========================================================
Addr    Name             R/W   Meaning
======  ===============  ====  ===========================================================
0       COMMAND          RW    1 raise, 2 lower (0 none). Write 0-1 together (FC 16).
1       COMMAND_SEQ      RW    Sequence id 1-65535; a repeat of the last executed one is
                               ignored (outcome ``duplicate``).
10      POSITION         R     0 unknown, 1 down, 2 up, 3 rising, 4 lowering
11      POSITION_PCT     R     0 (down) - 100 (up)
12      FAULTS           R     bit 0 hydraulic, 1 travel timeout, 2 power loss,
                               3 loop interlock, 4 link watchdog (``base.Fault``)
13      LOOP_OCCUPIED    R     1 when the loop detects a vehicle
14      POWER_OK         R     1 when mains power is present
15      HEARTBEAT        R     +1 every second, wraps at 65536
16      LAST_SEQ         R     sequence id of the last command received
17      LAST_OUTCOME     R     0 none, 1 accepted, 2 duplicate, 3 refused loop occupied,
                               4 refused fault, 5 refused no power
18      FAIL_MODE        R     0 secure (stays up), 1 safe (lowers)
19      MAP_VERSION      R     1
100     SIM_LOOP         RW    simulator only: 1 holds the loop occupied
101     SIM_POWER        RW    simulator only: 0 cuts mains power, 1 restores it
102     SIM_FAULTS       RW    simulator only: bit 0 hydraulic fault, bit 1 stuck
======  ===============  ====  ===========================================================

Writes to read-only registers are answered with exception 2 (illegal data address). A gateway
that cannot reach a barrier answers exception 11 (gateway target device failed to respond).
"""

from __future__ import annotations

from rempart.access.drivers.base import BarrierCommand, CommandOutcome, FailMode, Position

MAP_VERSION = 1

COMMAND = 0
COMMAND_SEQ = 1
STATUS_START = 10
POSITION = 10
POSITION_PCT = 11
FAULTS = 12
LOOP_OCCUPIED = 13
POWER_OK = 14
HEARTBEAT = 15
LAST_SEQ = 16
LAST_OUTCOME = 17
FAIL_MODE = 18
MAP_VERSION_REGISTER = 19
STATUS_COUNT = 10
SIM_START = 100
SIM_LOOP = 100
SIM_POWER = 101
SIM_FAULTS = 102
SIM_COUNT = 3

SIM_FAULT_HYDRAULIC = 1
SIM_FAULT_STUCK = 2

COMMAND_CODES: dict[BarrierCommand, int] = {BarrierCommand.RAISE: 1, BarrierCommand.LOWER: 2}
COMMAND_BY_CODE: dict[int, BarrierCommand] = {v: k for k, v in COMMAND_CODES.items()}

POSITION_CODES: dict[Position, int] = {
    Position.UNKNOWN: 0,
    Position.DOWN: 1,
    Position.UP: 2,
    Position.RISING: 3,
    Position.LOWERING: 4,
}
POSITION_BY_CODE: dict[int, Position] = {v: k for k, v in POSITION_CODES.items()}

OUTCOME_CODES: dict[CommandOutcome, int] = {
    CommandOutcome.ACCEPTED: 1,
    CommandOutcome.DUPLICATE: 2,
    CommandOutcome.REFUSED_LOOP_OCCUPIED: 3,
    CommandOutcome.REFUSED_FAULT: 4,
    CommandOutcome.REFUSED_NO_POWER: 5,
}
OUTCOME_BY_CODE: dict[int, CommandOutcome] = {v: k for k, v in OUTCOME_CODES.items()}

FAIL_MODE_CODES: dict[FailMode, int] = {FailMode.SECURE: 0, FailMode.SAFE: 1}
