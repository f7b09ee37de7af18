"""Barrier drivers: one interface (``base.BarrierDriver``), one module per field protocol.

``create_driver`` builds the driver a configured ``Barrier`` asks for; protocol modules are
imported lazily so the decision engine never pulls in pymodbus or paho.
"""

from __future__ import annotations

from rempart.access.drivers.base import (
    Barrier,
    BarrierDriver,
    ModbusDriverConfig,
    MqttDriverConfig,
    SimulatorDriverConfig,
)

__all__ = ["ExerciseDriverRefused", "create_driver"]


class ExerciseDriverRefused(ValueError):
    """A real driver asked for a barrier of an exercise zone."""


def create_driver(barrier: Barrier, exercise: bool = False) -> BarrierDriver:
    """The driver for ``barrier.driver`` (simulator, modbus or mqtt).

    ``exercise``: the barrier belongs to an exercise zone; any driver but the simulator is
    refused (:class:`ExerciseDriverRefused`), so exercise play never reaches a real device.
    """
    config = barrier.driver
    if exercise and not isinstance(config, SimulatorDriverConfig):
        raise ExerciseDriverRefused(
            f"barrier {barrier.id}: an exercise zone's barrier must use the simulator driver, "
            f"not {type(config).__name__}."
        )
    if isinstance(config, ModbusDriverConfig):
        from rempart.access.drivers.modbus import ModbusBarrierDriver

        return ModbusBarrierDriver(barrier.id, config)
    if isinstance(config, MqttDriverConfig):
        from rempart.access.drivers.mqtt import MqttBarrierDriver

        return MqttBarrierDriver(barrier.id, config)
    if isinstance(config, SimulatorDriverConfig):
        from rempart.access.drivers.simulator import BollardModel, SimulatorDriver

        return SimulatorDriver(barrier.id, BollardModel.for_barrier(barrier))
    raise TypeError(f"barrier {barrier.id}: unknown driver config {config!r}")
