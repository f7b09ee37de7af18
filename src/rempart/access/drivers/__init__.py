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

__all__ = ["create_driver"]


def create_driver(barrier: Barrier) -> BarrierDriver:
    """The driver for ``barrier.driver`` (simulator, modbus or mqtt)."""
    config = barrier.driver
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
