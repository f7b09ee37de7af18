"""Barrier rating notation: IWA 14-1 / ISO 22343-1 and the PAS 68 equivalent.

Hand-written: the notation is defined by the standards, not by any library. Sources in
docs/method.md ("Ratings").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from .errors import InputFileError

if TYPE_CHECKING:  # vehicles imports the class names from here
    from .vehicles import Vehicle

#: Every nominal impact test speed the standards list, km/h: the 16 km/h (10 mph) series
#: 16/32/48/64/80/96/112 of ISO 22343-1:2023, IWA 14-1:2013 and PAS 68:2013, and the round
#: 30/40/50 km/h speeds (docs/method.md, "Ratings", says which source lists which). A required
#: rating is the lowest of these at or above the assessed speed.
TEST_SPEEDS_KMH: tuple[int, ...] = (16, 30, 32, 40, 48, 50, 64, 80, 96, 112)

#: PAS 68:2013 vehicle classifications accepted as ``test_class`` in a vehicles file, mapped to
#: the ISO 22343-1 / IWA 14-1 test vehicle of the same kind (PAS 68 tests N2 and N3 at 7,500 kg,
#: ISO's N2A and N3C at 7,200 kg; the file's own ``mass_kg`` is kept).
PAS68_CLASSES: dict[str, str] = {
    "M1": "M1",
    "N1G": "N1G",
    "N1": "N1",
    "N2": "N2A",
    "N3": "N3C",
}

#: The ISO 22343-1 / IWA 14-1 test vehicle classes.
ISO_CLASSES: tuple[str, ...] = ("M1", "N1G", "N1", "N2A", "N2B", "N3C", "N3D", "N3E", "N3F")

#: PAS 68 class and test mass for each IWA / ISO class (PAS 68 has M1 1500, N1 3500, N2 7500,
#: N3 7500 kg); ``None`` where PAS 68 has no test vehicle as heavy.
PAS68_EQUIVALENT: dict[str, tuple[str, int] | None] = {
    "M1": ("M1", 1500),
    "N1G": ("N1", 3500),
    "N1": ("N1", 3500),
    "N2A": ("N2", 7500),
    "N2B": ("N2", 7500),
    "N3C": ("N3", 7500),
    "N3D": None,
    "N3E": None,
    "N3F": None,
}

#: Test mass (kg) of each IWA 14-1 / ISO 22343-1 test vehicle class (docs/method.md section 3).
ISO_TEST_MASS_KG: dict[str, int] = {
    "M1": 1500,
    "N1G": 2500,
    "N1": 3500,
    "N2A": 7200,
    "N2B": 6800,
    "N3C": 7200,
    "N3D": 12000,
    "N3E": 30000,
    "N3F": 30000,
}

#: Test mass (kg) of each PAS 68:2013 vehicle classification (docs/method.md sections 3-4).
PAS68_TEST_MASS_KG: dict[str, int] = {"M1": 1500, "N1G": 2500, "N1": 3500, "N2": 7500, "N3": 7500}

#: Largest penetration (m) a rating may give after ``:``. ASSUMPTION (docs/method.md, "Required
#: rating"): a crash test records how far the vehicle got past the barrier's line, metres to a
#: few tens of metres; more than 100 m is a typing error, not a stop.
MAX_PENETRATION_M = 100.0

#: Largest mass (kg) in a rating the engine reads: the heaviest vehicle a vehicles file may give
#: (vehicles.MAX_FIELD); the engine's own ratings carry the vehicle's mass.
MAX_RATING_MASS_KG = 100_000

EXCEEDS = "exceeds tested speeds"

#: What a plan says instead of pricing a position whose speed exceeds every tested speed.
EXCEEDS_ADVICE = "exceeds tested speeds — move the line closer to the site or reduce speed"


def iso_class(test_class: str) -> str | None:
    """The ISO 22343-1 class of an ISO or PAS 68:2013 class name (case-insensitive), or
    ``None`` when it is neither."""
    name = test_class.strip().upper()
    if name in ISO_CLASSES:
        return name
    return PAS68_CLASSES.get(name)


@dataclass(frozen=True)
class Rating:
    """A required or existing barrier rating."""

    test_class: str
    mass_kg: int
    speed_kmh: int | None  # None: above 112 km/h
    angle_deg: int = 90

    @cached_property
    def iwa(self) -> str:
        if self.speed_kmh is None:
            return f"V/{self.mass_kg}[{self.test_class}]/{EXCEEDS}"
        return f"V/{self.mass_kg}[{self.test_class}]/{self.speed_kmh}/{self.angle_deg}"

    @cached_property
    def pas68(self) -> str:
        eq = PAS68_EQUIVALENT.get(self.test_class)
        if eq is None:
            return f"no PAS 68 test vehicle for {self.test_class} ({self.mass_kg} kg)"
        if self.speed_kmh is None:
            return f"V/{eq[1]}({eq[0]})/{EXCEEDS}"
        return f"V/{eq[1]}({eq[0]})/{self.speed_kmh}/{self.angle_deg}"

    @property
    def energy_kj(self) -> float:
        """Kinetic energy of the test (mass, speed) in kJ; infinite above tested speeds."""
        if self.speed_kmh is None:
            return float("inf")
        return 0.5 * self.mass_kg * (self.speed_kmh / 3.6) ** 2 / 1000.0


def required_test_speed(speed_kmh: float) -> int | None:
    """Lowest standard test speed (km/h, :data:`TEST_SPEEDS_KMH`) at or above ``speed_kmh``;
    ``None`` above them all."""
    for test_speed in TEST_SPEEDS_KMH:
        if speed_kmh <= test_speed + 1e-9:
            return test_speed
    return None


@lru_cache(maxsize=1024)
def _rating(test_class: str, mass_kg: int, speed_kmh: int | None) -> Rating:
    """The head-on rating (class, mass kg, test speed km/h), built once per key: a site
    asks for the same few thousand times (its notation strings are built once too)."""
    return Rating(test_class, mass_kg, speed_kmh)


def required_rating(vehicle: Vehicle, speed_kmh: float) -> Rating:
    """Lowest standard test (class, mass, speed at or above ``speed_kmh``, 90 degrees)."""
    return _rating(vehicle.test_class, int(round(vehicle.mass_kg)), required_test_speed(speed_kmh))


#: What a barrier register's ``rating`` must look like (the end of its one-line error).
RATING_EXPECTED = (
    "an IWA 14-1 / PAS 68 rating V/mass[class]/speed/angle such as 'V/7200[N2A]/48/90', with "
    f"an ISO 22343-1 class ({', '.join(ISO_CLASSES)}) or a PAS 68 class "
    f"({', '.join(sorted(set(PAS68_CLASSES) - set(ISO_CLASSES)))}), a test speed of "
    f"{', '.join(str(s) for s in TEST_SPEEDS_KMH)} km/h and an angle of 1 to 90 degrees"
)


#: A standard's name written before a rating, as the access app's barriers give it
#: (``IWA 14-1:2013 V/7200[N2A]/48/90``): read as the rating alone.
_STANDARD_PREFIX = re.compile(r"^\s*(?:IWA\s*14-1|ISO\s*22343-1|PAS\s*68)(?::\d{4})?\s+", re.I)


def _without_standard(text: str) -> str:
    """``text`` without a leading standard name (:data:`_STANDARD_PREFIX`)."""
    return _STANDARD_PREFIX.sub("", text, count=1)


def _rating_fields(text: str) -> tuple[str, str, str, str | None, str | None] | None:
    """The fields of a rating in the notation ``V/mass[class]/speed[/angle][:penetration...]``
    (or PAS 68's ``V/mass(class)/...``), as written: ``(mass, class, speed, angle,
    penetration)``, angle and penetration ``None`` when absent; ``None`` when the notation
    itself is wrong. A leading standard's name is skipped (:func:`_without_standard`)."""
    body, _, tail = _without_standard(text).strip().partition(":")
    parts = body.split("/")
    if not 3 <= len(parts) <= 4 or parts[0].strip().upper() != "V":
        return None
    mass_part = parts[1]
    if mass_part.endswith("]") and "[" in mass_part:
        mass_s, cls = mass_part[:-1].split("[", 1)
    elif mass_part.endswith(")") and "(" in mass_part:
        mass_s, cls = mass_part[:-1].split("(", 1)
    else:
        return None
    angle_s = parts[3] if len(parts) > 3 else None
    return mass_s, cls, parts[2], angle_s, tail.split("/")[0] if tail else None


def parse_rating(text: str) -> Rating | None:
    """Parse ``V/7200[N2A]/48/90`` (optionally ``:penetration``, and PAS 68's
    ``V/7500(N2)/48/90``); ``None`` if malformed: a class neither ISO 22343-1 nor PAS 68, a
    mass that is not a whole number of kg from 1 to :data:`MAX_RATING_MASS_KG`, a speed that
    is not a test speed of the standards (:data:`TEST_SPEEDS_KMH`), an angle that is not whole
    degrees from 1 to 90 or a penetration that is not a non-negative number (the engine's own
    ratings carry the stand-off, up to the planning radius). A missing angle is 90 degrees
    (head-on); a leading standard's name (``IWA 14-1:2013 V/...``) is skipped. A register's
    ratings are checked more strictly first (:func:`register_rating_problem`)."""
    fields = _rating_fields(text)
    if fields is None:
        return None
    mass_s, cls, speed_s, angle_s, pen_s = fields
    try:
        mass, speed = float(mass_s), float(speed_s)
        angle = float(angle_s) if angle_s is not None else 90.0
        penetration = float(pen_s) if pen_s is not None else 0.0
    except ValueError:
        return None
    if (
        iso_class(cls) is None
        or not 0.0 < mass <= MAX_RATING_MASS_KG
        or mass != int(mass)
        or speed not in TEST_SPEEDS_KMH
        or not 1.0 <= angle <= 90.0
        or angle != int(angle)
        or not 0.0 <= penetration < float("inf")  # the engine's own: the stand-off
    ):
        return None
    return Rating(cls.strip().upper(), int(mass), int(speed), int(angle))


def listed_test_masses_kg(test_class: str) -> tuple[int, ...]:
    """The test masses (kg) the standards list for a class name (ISO or PAS 68, any case): its
    ISO 22343-1 / IWA 14-1 test mass and that of its PAS 68:2013 equivalent (a PAS 68 N2 or N3
    is tested at 7,500 kg, ISO's N2A and N3C at 7,200 kg; :data:`PAS68_EQUIVALENT`); empty for
    an unknown class."""
    name = test_class.strip().upper()
    iso = iso_class(name)
    if iso is None:
        return ()
    masses = {ISO_TEST_MASS_KG[iso]}
    if name in PAS68_TEST_MASS_KG:
        masses.add(PAS68_TEST_MASS_KG[name])
    eq = PAS68_EQUIVALENT.get(iso)
    if eq is not None:
        masses.add(eq[1])
    return tuple(sorted(masses))


def _number_or_none(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def register_rating_problem(text: str) -> tuple[str, str, str] | None:
    """What is wrong with an existing barrier's rating in a register: ``(field, value,
    expected)`` naming the first bad field (notation, class, test mass, test speed, angle,
    penetration), or ``None`` when it is a rating the standards list.

    Stricter than :func:`parse_rating` (which also reads the engine's own ratings, whose mass is
    the vehicle's): the test mass must be one the standards list for the class
    (:func:`listed_test_masses_kg`), the speed a listed test speed, the angle whole degrees from 1 to
    90, the penetration 0 to :data:`MAX_PENETRATION_M` m.
    """
    fields = _rating_fields(text)
    if fields is None:
        return ("notation", text, "V/mass[class]/speed/angle")
    mass_s, cls, speed_s, angle_s, pen_s = fields
    if iso_class(cls) is None:
        return (
            "class",
            cls,
            f"an ISO 22343-1 class ({', '.join(ISO_CLASSES)}) or a PAS 68 class "
            f"({', '.join(sorted(set(PAS68_CLASSES) - set(ISO_CLASSES)))})",
        )
    masses = listed_test_masses_kg(cls)
    mass = _number_or_none(mass_s)
    listed = " or ".join(f"{m:,}" for m in masses)
    if mass is None or mass not in masses:
        return ("test mass", mass_s, f"{listed} kg, the test mass of {cls.strip().upper()}")
    speed = _number_or_none(speed_s)
    if speed is None or speed not in TEST_SPEEDS_KMH:
        speeds = ", ".join(str(s) for s in TEST_SPEEDS_KMH)
        return ("test speed", speed_s, f"one of {speeds} km/h")
    if angle_s is not None:
        angle = _number_or_none(angle_s)
        if angle is None or angle != int(angle) or not 1 <= angle <= 90:
            return ("angle", angle_s, "whole degrees from 1 to 90")
    if pen_s is not None:
        pen = _number_or_none(pen_s)
        if pen is None or not 0.0 <= pen <= MAX_PENETRATION_M:
            return ("penetration", pen_s, f"0 to {MAX_PENETRATION_M:g} m")
    if parse_rating(text) is None:  # pragma: no cover - every field was checked above
        return ("notation", text, "V/mass[class]/speed/angle")
    return None


def register_rating_error(where: str, text: object) -> tuple[str, object, str] | None:
    """The ``(thing, value, expected)`` of the one-line error for the rating ``text`` of a
    register feature at ``where`` (e.g. ``"barrier register f.geojson: feature #1"``), or
    ``None`` when it is good."""
    if not isinstance(text, str):
        return (f"{where} rating", text, RATING_EXPECTED)
    problem = register_rating_problem(text)
    if problem is None:
        return None
    field, value, expected = problem
    return (
        f"{where} rating {text!r}, {field}",
        value,
        f"{expected} (a rating V/mass[class]/speed/angle such as 'V/7200[N2A]/48/90')",
    )


def register_rating(where: str, text: object) -> Rating:
    """The rating ``text`` of the register feature at ``where`` (e.g. ``"barrier register
    f.geojson: feature #1"``), read; :class:`.errors.InputFileError` in one line naming the
    field, its value and what was expected when it is not a rating the standards list
    (:func:`register_rating_error`)."""
    bad = register_rating_error(where, text)
    rating = parse_rating(text) if bad is None and isinstance(text, str) else None
    if bad is not None or rating is None or rating.speed_kmh is None:
        raise InputFileError(*(bad or (f"{where} rating", text, RATING_EXPECTED)))
    return rating


def credited_speed_kmh(rating: Rating) -> float:
    """The speed (km/h) an existing barrier is credited with stopping head-on: its test speed
    times the sine of its test angle, ``V sin(angle)`` (a test at 45 degrees proves the normal
    component only; docs/method.md, "Ratings", ASSUMPTION, the safe side). 0 when the
    rating has no tested speed (it is credited with stopping nothing)."""
    if rating.speed_kmh is None:
        return 0.0
    return rating.speed_kmh * math.sin(math.radians(rating.angle_deg))


def rating_stops(rating: Rating, vehicle: Vehicle, speed_kmh: float) -> bool:
    """Whether an existing barrier with ``rating`` stops ``vehicle`` arriving at ``speed_kmh``.

    A rating covers its test class at no more than its test mass and its credited speed
    (:func:`credited_speed_kmh`, domain.md s. 2); a lighter class is covered when its mass is
    at most the rated mass.
    """
    if rating.speed_kmh is None:
        return False
    credited = credited_speed_kmh(rating)
    return vehicle.mass_kg <= rating.mass_kg + 1e-9 and speed_kmh <= credited + 1e-9
