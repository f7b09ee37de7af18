"""Vehicle classes: the built-in IWA 14-1 / ISO 22343-1 test vehicles and the vehicles TOML.

Hand-written because no library describes hostile-vehicle test classes; TOML parsing is
``tomllib`` (standard library). Every built-in value is documented in docs/method.md.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from rempart.inputs import InputError, load_toml

from .errors import InputLimitError, VehicleFileError
from .ratings import ISO_CLASSES, PAS68_CLASSES, iso_class

#: Highest lateral or full-throttle acceleration a vehicles file may give (m/s2): 1 g, a tyre-road
#: friction coefficient of 1.0, about the most a road tyre gives on dry asphalt. ASSUMPTION
#: (docs/method.md, "Vehicles"): a value above it is a typing error (44 for 4.4), not a truck.
MAX_ACCEL_MS2 = 9.81

#: Lowest full-throttle acceleration a vehicles file may give (m/s2). ASSUMPTION (docs/method.md,
#: "Vehicles"): at 0.01 m/s2 a vehicle needs 40 minutes to reach 90 km/h; no engine's full
#: throttle is that weak (the built-in 30 t truck gives 0.12 at 90 km/h), so a smaller value is a
#: typing error, and it would make the kinematic tables (every 0.5 m up to the top speed's run-up)
#: astronomically long.
MIN_ACCEL_MS2 = 0.01

#: Upper bounds of the other numbers of a vehicles file: a value above one is a typing error, not
#: a vehicle. ASSUMPTION (docs/method.md, "Vehicles"): top speed 400 km/h, above the fastest
#: production car; width 5 m, about twice the EU maximum of 2.55 m (Directive 96/53/EC); mass
#: 100,000 kg, above the heaviest road combinations allowed in Europe (76 t in Finland).
MAX_FIELD: dict[str, tuple[float, str]] = {
    "top_speed_kmh": (400.0, "km/h (above the fastest production car)"),
    "width_m": (5.0, "m (about twice the EU maximum width of 2.55 m)"),
    "mass_kg": (100_000.0, "kg (above the heaviest road vehicle combination)"),
}

#: Lower bounds of the numbers of a vehicles file: a value below one is a typing error, and every
#: one of them would rate too low (the unsafe side). ASSUMPTION (docs/method.md, "Vehicles"):
#: top speed 10 km/h, twice walking pace (a top speed of 1e-6 km/h rated every approach /16/);
#: lateral acceleration 1 m/s2, 0.1 g, far below the rollover threshold of any laden truck
#: (about 0.35 g; a vehicle that cannot turn reaches no turned approach); width 0.5 m, narrower
#: than any motor vehicle (1e-9 m fitted through every gap); mass 100 kg, lighter than any
#: vehicle carrying a driver (0.001 kg gave the rating V/0[N2A]/96/90).
MIN_FIELD: dict[str, tuple[float, str]] = {
    "top_speed_kmh": (10.0, "km/h (twice walking pace)"),
    "lateral_accel_ms2": (1.0, "m/s2 (0.1 g, below any truck's rollover threshold)"),
    "width_m": (0.5, "m (narrower than any motor vehicle)"),
    "mass_kg": (100.0, "kg (lighter than any vehicle carrying a driver)"),
}

#: Most vehicles a vehicles file may list. ASSUMPTION (docs/method.md, "Vehicles"): the standards
#: test 9 classes; every vehicle adds a speed field and an off-road search per site, so a file of
#: thousands of tables is a mistake (a table pasted in a loop), not an assessment.
MAX_VEHICLES = 50

REQUIRED_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "test_class": str,
    "mass_kg": (int, float),
    "top_speed_kmh": (int, float),
    "lateral_accel_ms2": (int, float),
    "width_m": (int, float),
    "acceleration": list,
}


@dataclass(frozen=True)
class Vehicle:
    """A hostile vehicle class.

    Attributes
    ----------
    name : str
        Label used in reports, e.g. ``"N2A-7t"``.
    test_class : str
        IWA 14-1 / ISO 22343-1 test vehicle class, e.g. ``"N2A"``; a vehicles file may give a
        PAS 68:2013 class (``"N3"``), stored as its ISO class (``ratings.PAS68_CLASSES``).
    mass_kg : float
        Test mass in kg.
    top_speed_kmh : float
        Maximum speed in km/h.
    lateral_accel_ms2 : float
        Lateral acceleration limit in m/s2: the lower of tyre grip and rollover threshold.
    width_m : float
        Overall width in m; ways narrower than this are not traversable.
    acceleration : tuple of (speed km/h, acceleration m/s2)
        Full-throttle acceleration versus speed, linear between points, constant beyond the
        first and last point.
    """

    name: str
    test_class: str
    mass_kg: float
    top_speed_kmh: float
    lateral_accel_ms2: float
    width_m: float
    acceleration: tuple[tuple[float, float], ...]

    @property
    def top_speed_ms(self) -> float:
        """Top speed in m/s."""
        return self.top_speed_kmh / 3.6


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def vehicles_from_dicts(entries: list[Any], source: str) -> list[Vehicle]:
    """Validate ``[[vehicle]]`` tables and build vehicles.

    Raises
    ------
    VehicleFileError
        Naming the vehicle, the field, its value and what was expected.
    """
    if not isinstance(entries, list) or not entries:
        raise VehicleFileError(f"{source}: [[vehicle]] tables", entries, "at least one")
    if len(entries) > MAX_VEHICLES:
        raise VehicleFileError(
            f"{source}: [[vehicle]] tables", len(entries), f"at most {MAX_VEHICLES} vehicles"
        )
    vehicles: list[Vehicle] = []
    for index, entry in enumerate(entries):
        label = f"{source}: vehicle #{index + 1}"
        if not isinstance(entry, dict):
            raise VehicleFileError(label, entry, "a [[vehicle]] table")
        if isinstance(entry.get("name"), str):
            label = f"{source}: vehicle {entry['name']!r}"
        for field, kind in REQUIRED_FIELDS.items():
            if field not in entry:
                raise VehicleFileError(f"{label} field {field!r}", None, "present (missing)")
            value = entry[field]
            if kind is str:
                if not isinstance(value, str) or not value.strip():
                    raise VehicleFileError(f"{label} field {field!r}", value, "a non-empty string")
            elif kind is list:
                if not isinstance(value, list):
                    raise VehicleFileError(
                        f"{label} field {field!r}", value, "a list of [km/h, m/s2]"
                    )
            elif not _number(value) or value <= 0:
                raise VehicleFileError(f"{label} field {field!r}", value, "a positive number")
        if entry["lateral_accel_ms2"] > MAX_ACCEL_MS2:
            raise VehicleFileError(
                f"{label} field 'lateral_accel_ms2'",
                entry["lateral_accel_ms2"],
                f"at most {MAX_ACCEL_MS2:g} m/s2 (1 g, the grip of a road tyre)",
            )
        for field, (limit, why) in MAX_FIELD.items():
            if entry[field] > limit:
                raise VehicleFileError(
                    f"{label} field {field!r}", entry[field], f"at most {limit:,.0f} {why}"
                )
        for field, (limit, why) in MIN_FIELD.items():
            if entry[field] < limit:
                raise VehicleFileError(
                    f"{label} field {field!r}", entry[field], f"at least {limit:g} {why}"
                )
        unknown = set(entry) - set(REQUIRED_FIELDS)
        if unknown:
            raise VehicleFileError(
                f"{label} field", sorted(unknown)[0], f"one of {sorted(REQUIRED_FIELDS)}"
            )
        curve: list[tuple[float, float]] = []
        for point in entry["acceleration"]:
            if (
                not isinstance(point, list)
                or len(point) != 2
                or not _number(point[0])
                or not _number(point[1])
            ):
                raise VehicleFileError(f"{label} acceleration point", point, "[speed km/h, m/s2]")
            speed_kmh, accel_ms2 = float(point[0]), float(point[1])
            if not MIN_ACCEL_MS2 <= accel_ms2 <= MAX_ACCEL_MS2:
                raise VehicleFileError(
                    f"{label} acceleration at {speed_kmh:g} km/h",
                    point[1],
                    f"a positive m/s2, at least {MIN_ACCEL_MS2:g} and at most "
                    f"{MAX_ACCEL_MS2:g} (1 g, the grip of a road tyre)",
                )
            if speed_kmh < 0 or (curve and speed_kmh <= curve[-1][0]):
                raise VehicleFileError(
                    f"{label} acceleration speed", point[0], "non-negative and strictly increasing"
                )
            curve.append((speed_kmh, accel_ms2))
        if not curve:
            raise VehicleFileError(f"{label} field 'acceleration'", [], "at least one point")
        test_class = iso_class(entry["test_class"])
        if test_class is None:
            raise VehicleFileError(
                f"{label} field 'test_class'",
                entry["test_class"],
                f"an ISO 22343-1 class ({', '.join(ISO_CLASSES)}) "
                f"or a PAS 68:2013 class ({', '.join(PAS68_CLASSES)})",
            )
        vehicles.append(
            Vehicle(
                name=entry["name"],
                test_class=test_class,
                mass_kg=float(entry["mass_kg"]),
                top_speed_kmh=float(entry["top_speed_kmh"]),
                lateral_accel_ms2=float(entry["lateral_accel_ms2"]),
                width_m=float(entry["width_m"]),
                acceleration=tuple(curve),
            )
        )
    names = [v.name for v in vehicles]
    for name in names:
        if names.count(name) > 1:
            raise VehicleFileError(f"{source}: vehicle name", name, "unique names")
    return vehicles


def load_vehicles(path: str | Path) -> list[Vehicle]:
    """Read a vehicles TOML file (``[[vehicle]]`` tables); it replaces the built-ins."""
    try:
        with open(path, "rb") as handle:
            data = load_toml(handle.read(), f"vehicles file {path}")
    except InputError as err:
        raise InputLimitError(str(err)) from None
    except OSError as err:
        raise VehicleFileError(
            "vehicles file", str(path), f"a readable TOML file ({err.strerror})"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise VehicleFileError("vehicles file", str(path), f"valid TOML ({err})") from None
    return vehicles_from_dicts(data.get("vehicle", []), str(path))


def builtin_vehicles() -> list[Vehicle]:
    """The nine IWA 14-1 / ISO 22343-1 test vehicles with documented dynamics."""
    text = resources.files("rempart.assess.engine").joinpath("data/vehicles.toml").read_text()
    return vehicles_from_dicts(tomllib.loads(text)["vehicle"], "built-in vehicles")
