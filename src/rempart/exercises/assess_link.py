"""The one bridge from the assessment (and the access module's lanes) to exercises.

Data flows one way: this module reads a site's latest finished assessment
(:class:`rempart.assess.models.Assessment`, its ``result`` JSON as
:meth:`rempart.assess.engine.run.SiteResult.to_dict` shapes it) and, if the city has
access-control lanes, their position and barriers; nothing in assess or access imports it.

From them it builds the vehicle-attack scenario: the worst approach of the chosen vehicle (the
entry where the engine gives it the highest impact speed), the time it passes each point of its
run-up (:mod:`.timing`, from the vehicle's full-throttle acceleration, capped at the engine's
impact speed), the barriers of the plan and the lanes it meets within :data:`NEAR_M` of its path
and whether each stops it (the engine's :func:`~rempart.assess.engine.ratings.rating_stops`),
and a draft MSEL keyed to those times. Distances: WGS84 points projected on a local plane
(equirectangular about the path's first point; under 0.1 % error over a site).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from rempart.assess.engine.ratings import parse_rating, rating_stops
from rempart.assess.engine.vehicles import Vehicle, builtin_vehicles
from rempart.exercises import msel
from rempart.exercises.models import Capability, Exercise, Inject
from rempart.exercises.timing import Passage, passages

#: a barrier or lane closer than this to the approach path is on it (m)
NEAR_M = 25.0
#: scenario seconds from STARTEX to the vehicle starting its run-up (briefing, first sighting)
RUNUP_STARTS_S = 300
EARTH_RADIUS_M = 6_371_008.8


class ScenarioError(Exception):
    """No scenario can be made; the message is one line saying why."""


@dataclass
class Obstacle:
    """A barrier position of the plan, or an access lane, met along the approach."""

    kind: str  # "plan" | "lane"
    name: str
    rating: str
    distance_m: float  # along the path from the run-up start
    time_s: float
    speed_kmh: float
    stops: bool


@dataclass
class Approach:
    """The worst approach of one vehicle at the site."""

    assessment_id: int
    site: str
    street: str
    vehicle: str
    mass_kg: float
    impact_speed_kmh: float
    energy_kj: float | None
    rating: str | None
    runup_m: float
    start_speed_kmh: float
    entry_lon: float
    entry_lat: float
    path: list[list[float]]  # [lon, lat] from the run-up start to the entry
    profile: list[Passage] = field(default_factory=list)
    obstacles: list[Obstacle] = field(default_factory=list)

    @property
    def arrival_s(self) -> float:
        return self.profile[-1].time_s if self.profile else 0.0

    @property
    def stopped_by(self) -> Obstacle | None:
        return next((o for o in self.obstacles if o.stops), None)


def latest_assessment(site: Any) -> Any:
    from rempart.assess.models import Assessment

    return (
        Assessment.objects.filter(site=site, status=Assessment.Status.DONE)
        .order_by("-finished_at", "-pk")
        .first()
    )


def vehicle_names(run: Any) -> list[str]:
    names: list[str] = []
    for entry in (run.result or {}).get("entries", []):
        for vehicle in entry.get("vehicles", []):
            if vehicle.get("name") and vehicle["name"] not in names:
                names.append(vehicle["name"])
    return names


def _local_xy(points: list[list[float]]) -> list[tuple[float, float]]:
    lon0, lat0 = points[0]
    k = math.cos(math.radians(lat0))
    return [
        (
            math.radians(lon - lon0) * k * EARTH_RADIUS_M,
            math.radians(lat - lat0) * EARTH_RADIUS_M,
        )
        for lon, lat in points
    ]


def _along(path_xy: list[tuple[float, float]], px: float, py: float) -> tuple[float, float]:
    """(distance from the point to the path, distance along the path of its nearest point)."""
    best = (math.inf, 0.0)
    walked = 0.0
    for (ax, ay), (bx, by) in zip(path_xy, path_xy[1:], strict=False):
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy)
        if length == 0:
            continue
        u = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length**2))
        gap = math.hypot(ax + u * dx - px, ay + u * dy - py)
        if gap < best[0]:
            best = (gap, walked + u * length)
        walked += length
    return best


def _vehicle(name: str) -> Vehicle | None:
    return next((v for v in builtin_vehicles() if v.name == name), None)


def worst_approach(run: Any, vehicle_name: str = "") -> Approach:
    """The entry where ``vehicle_name`` (default: the vehicle with the most energy anywhere)
    arrives fastest, with its speed profile and the barriers and lanes it meets."""
    best: tuple[float, dict[str, Any], dict[str, Any]] | None = None
    for entry in (run.result or {}).get("entries", []):
        for vehicle in entry.get("vehicles", []):
            if vehicle.get("blocked") or vehicle.get("impact_speed_kmh") is None:
                continue
            if vehicle_name and vehicle.get("name") != vehicle_name:
                continue
            # one vehicle: its fastest entry; any vehicle: the most energy at impact
            key = float(
                vehicle["impact_speed_kmh"] if vehicle_name else vehicle.get("energy_kj") or 0.0
            )
            if best is None or key > best[0]:
                best = (key, entry, vehicle)
    if best is None:
        what = f"vehicle {vehicle_name!r}" if vehicle_name else "any vehicle"
        raise ScenarioError(
            f"assessment #{run.pk} of {run.site} has no approach of {what}; "
            f"expected one of: {', '.join(vehicle_names(run)) or 'none'}"
        )
    _key, entry, vehicle = best
    coords = [
        list(map(float, c)) for c in (vehicle.get("runup_geometry") or {}).get("coordinates", [])
    ]
    if len(coords) < 2:
        coords = [[entry["lon"], entry["lat"]], [entry["lon"], entry["lat"]]]
    xy = _local_xy(coords)
    cumulative = [0.0]
    for (ax, ay), (bx, by) in zip(xy, xy[1:], strict=False):
        cumulative.append(cumulative[-1] + math.hypot(bx - ax, by - ay))
    runup_m = float(vehicle.get("runup_m") or cumulative[-1])
    # the engine's run-up length is authoritative; the drawn path is scaled onto it
    scale = runup_m / cumulative[-1] if cumulative[-1] > 0 else 0.0
    impact = float(vehicle["impact_speed_kmh"])
    start = float(vehicle.get("runup_start_speed_kmh") or 0.0)
    model = _vehicle(vehicle["name"])
    if model is not None:
        curve = model.acceleration
    else:  # a vehicle of the site's own file: the mean acceleration that gives the same speed
        mean = max(((impact / 3.6) ** 2 - (start / 3.6) ** 2) / (2 * max(runup_m, 1.0)), 0.1)
        curve = ((0.0, mean),)
    distances = [c * scale for c in cumulative]
    approach = Approach(
        assessment_id=run.pk,
        site=str(run.site),
        street=entry.get("street") or _("an unnamed street"),
        vehicle=vehicle["name"],
        mass_kg=float(vehicle.get("mass_kg") or 0.0),
        impact_speed_kmh=impact,
        energy_kj=vehicle.get("energy_kj"),
        rating=vehicle.get("rating"),
        runup_m=runup_m,
        start_speed_kmh=start,
        entry_lon=float(entry["lon"]),
        entry_lat=float(entry["lat"]),
        path=coords,
    )
    if runup_m > 0:
        approach.profile = passages(curve, distances, start_speed_kmh=start, cap_kmh=impact)
    else:
        approach.profile = [Passage(0.0, 0.0, impact)]
    approach.obstacles = _obstacles(run, approach, xy, scale, curve, model)
    return approach


def _obstacles(
    run: Any,
    approach: Approach,
    xy: list[tuple[float, float]],
    scale: float,
    curve: Any,
    model: Vehicle | None,
) -> list[Obstacle]:
    candidates: list[tuple[str, str, str, float, float]] = []
    for position in ((run.result or {}).get("plan") or {}).get("positions", []):
        candidates.append(
            (
                "plan",
                _("%(barrier)s barrier on %(street)s")
                % {
                    "barrier": _("active") if position.get("barrier") == "active" else _("fixed"),
                    "street": position.get("street") or _("an unnamed street"),
                },
                position.get("rating") or "",
                float(position["lon"]),
                float(position["lat"]),
            )
        )
    for lane in _lanes(run.site.city):
        candidates.append(("lane", lane["name"], lane["rating"], lane["lon"], lane["lat"]))
    lon0, lat0 = approach.path[0]
    k = math.cos(math.radians(lat0))
    found = []
    for kind, name, rating_text, lon, lat in candidates:
        px = math.radians(lon - lon0) * k * EARTH_RADIUS_M
        py = math.radians(lat - lat0) * EARTH_RADIUS_M
        gap, along = _along(xy, px, py) if len(xy) > 1 else (math.hypot(px, py), 0.0)
        if gap > NEAR_M:
            continue
        at_m = min(along * scale, approach.runup_m)
        passage = (
            passages(
                curve,
                [at_m],
                start_speed_kmh=approach.start_speed_kmh,
                cap_kmh=approach.impact_speed_kmh,
            )[0]
            if approach.runup_m > 0
            else approach.profile[-1]
        )
        parsed = parse_rating(rating_text) if rating_text else None
        stops = bool(
            parsed is not None
            and model is not None
            and rating_stops(parsed, model, passage.speed_kmh)
        )
        found.append(
            Obstacle(kind, name, rating_text, at_m, passage.time_s, passage.speed_kmh, stops)
        )
    found.sort(key=lambda o: o.distance_m)
    return found


def _lanes(city: Any) -> list[dict[str, Any]]:
    """Access-control lanes of ``city`` with a position: name and the best barrier rating."""
    try:
        from rempart.access.models import Lane
    except ImportError:  # pragma: no cover - the access module is optional
        return []
    rows = []
    lanes = Lane.objects.filter(zone__city=city, lon__isnull=False, lat__isnull=False)
    for lane in lanes.prefetch_related("barriers"):
        ratings = [b.crash_rating for b in lane.barriers.all() if b.crash_rating]
        rows.append(
            {
                "name": _("lane %(lane)s") % {"lane": lane.name or lane.ident},
                "rating": ratings[0] if ratings else lane.required_rating,
                "lon": lane.lon,
                "lat": lane.lat,
            }
        )
    return rows


def draft_rows(approach: Approach) -> list[dict[str, Any]]:
    """The draft MSEL keyed to the approach's times (scenario seconds after STARTEX); each row's
    ``capabilities`` name the objectives it tests (the exercise's objectives of those
    capabilities)."""
    t0 = RUNUP_STARTS_S
    arrival = t0 + round(approach.arrival_s)
    speed = round(approach.impact_speed_kmh)
    values = {
        "vehicle": approach.vehicle,
        "street": approach.street,
        "speed": speed,
        "site": approach.site,
        "seconds": round(approach.arrival_s),
        "runup": round(approach.runup_m),
    }
    rows: list[dict[str, Any]] = [
        {
            "scenario_time_s": 0,
            "sender": _("Exercise control"),
            "recipient": _("All players"),
            "method": Inject.Method.IN_PERSON,
            "subject": _("STARTEX: situation briefing"),
            "capabilities": (Capability.COMMUNICATIONS,),
            "message": _("Crowded event at %(site)s; normal operations in the control room.")
            % values,
            "expected_action": _("Players take their posts and confirm communications."),
            "phase": _("Before the attack"),
        },
        {
            "scenario_time_s": t0,
            "sender": _("CCTV operator"),
            "recipient": _("Control room"),
            "method": Inject.Method.SYSTEM,
            "subject": _("CCTV sighting"),
            "capabilities": (
                Capability.WARNING,
                Capability.INTELLIGENCE,
                Capability.ACCESS_CONTROL,
            ),
            "message": _(
                "A %(vehicle)s is accelerating along %(street)s towards %(site)s; "
                "%(runup)s m from the crowd."
            )
            % values,
            "expected_action": _(
                "Control room raises the alert, orders the barriers up and warns the patrols."
            ),
            "controller_notes": _(
                "The vehicle reaches the entry %(seconds)s s after this inject at %(speed)s km/h "
                "(assessment's worst approach)."
            )
            % values,
            "phase": _("Attack"),
        },
    ]
    for obstacle in approach.obstacles:
        rows.append(
            {
                "scenario_time_s": t0 + round(obstacle.time_s),
                "sender": _("Barrier system"),
                "recipient": _("Control room"),
                "method": Inject.Method.SYSTEM,
                "subject": _("Barrier alarm: %(name)s") % {"name": obstacle.name},
                "capabilities": (Capability.ACCESS_CONTROL, Capability.SECURITY),
                "message": (
                    _("Impact at %(speed)s km/h on %(name)s (rated %(rating)s): vehicle stopped.")
                    if obstacle.stops
                    else _(
                        "Impact at %(speed)s km/h on %(name)s (rated %(rating)s): "
                        "the vehicle went through."
                    )
                )
                % {
                    "speed": round(obstacle.speed_kmh),
                    "name": obstacle.name,
                    "rating": obstacle.rating or _("unrated"),
                },
                "expected_action": _("Dispatch patrols to the barrier; keep the other lanes shut."),
                "phase": _("Attack"),
            }
        )
    stopped = approach.stopped_by
    after = arrival if stopped is None else t0 + round(stopped.time_s)
    rows += [
        {
            "scenario_time_s": after + 20,
            "sender": _("Caller (member of the public)"),
            "recipient": _("Emergency call centre (112)"),
            "method": Inject.Method.PHONE,
            "subject": _("First call"),
            "capabilities": (Capability.COORDINATION, Capability.COMMUNICATIONS),
            "message": (
                _("A vehicle has driven into the crowd on %(street)s!")
                if stopped is None
                else _("A vehicle crashed into the barriers on %(street)s, people are panicking!")
            )
            % values,
            "expected_action": _(
                "Call centre alerts police, fire and rescue and the control room."
            ),
            "phase": _("Response"),
        },
        {
            "scenario_time_s": after + 60,
            "sender": _("Patrol on site"),
            "recipient": _("Control room"),
            "method": Inject.Method.RADIO,
            "subject": _("Crowd movement"),
            "capabilities": (Capability.MASS_CARE,),
            "message": _(
                "The crowd is fleeing away from %(street)s; risk of crushing at the exits."
            )
            % values,
            "expected_action": _("Open evacuation routes; stop inbound traffic; public address."),
            "phase": _("Response"),
        },
        {
            "scenario_time_s": after + 180,
            "sender": _("Fire and rescue commander"),
            "recipient": _("Control room"),
            "method": Inject.Method.RADIO,
            "subject": _("Casualty reports"),
            "capabilities": (Capability.MEDICAL, Capability.COORDINATION),
            "message": _(
                "First casualty count from the scene; a casualty collection point is needed."
            ),
            "expected_action": _("Keep an access lane open for ambulances; inform the hospitals."),
            "phase": _("Response"),
        },
        {
            "scenario_time_s": None,
            "sender": _("Journalist"),
            "recipient": _("Communications officer"),
            "method": Inject.Method.PHONE,
            "subject": _("Media inquiry"),
            "capabilities": (Capability.WARNING,),
            "message": _("A reporter asks for confirmation of an attack and a casualty count."),
            "expected_action": _(
                "Give the agreed holding statement; no figures before confirmation."
            ),
            "phase": _("Response"),
            "contingency": True,
        },
    ]
    return rows


@transaction.atomic
def generate(exercise: Exercise, vehicle_name: str, user: Any) -> Approach:
    """Build the draft MSEL of ``exercise`` from its site's latest assessment; the current
    MSEL is saved as a version first (so the generation can be rolled back). The injects are
    appended after the existing ones, as drafts the controller edits freely."""
    if exercise.site is None:
        raise ScenarioError(f"exercise {exercise.name!r} has no site; choose its site first")
    run = latest_assessment(exercise.site)
    if run is None:
        raise ScenarioError(
            f"site {exercise.site.name!r} has no finished assessment; run one first"
        )
    approach = worst_approach(run, vehicle_name)
    if exercise.injects.exists():
        msel.save_version(exercise, user, _("Before the scenario from the assessment"))
    number = msel.next_number(exercise)
    objectives: dict[str, list[Any]] = {}
    for objective in exercise.objectives.all():
        objectives.setdefault(objective.capability, []).append(objective)
    for offset, row in enumerate(draft_rows(approach)):
        tests = row.pop("capabilities", ())
        inject = Inject.objects.create(exercise=exercise, number=number + offset, **row)
        wanted = [o for capability in tests for o in objectives.get(capability, [])]
        if wanted:
            inject.objectives.set(wanted)
    if not exercise.hazard:
        exercise.hazard = _("Vehicle-as-a-weapon attack")
    exercise.scenario = _(
        "A %(vehicle)s (%(mass)s kg) approaches along %(street)s over %(runup)s m and reaches "
        "the entry of %(site)s at %(speed)s km/h, %(seconds)s s after starting its run-up "
        "(assessment #%(run)s)."
    ) % {
        "vehicle": approach.vehicle,
        "mass": round(approach.mass_kg),
        "street": approach.street,
        "runup": round(approach.runup_m),
        "site": approach.site,
        "speed": round(approach.impact_speed_kmh),
        "seconds": round(approach.arrival_s),
        "run": run.pk,
    }
    exercise.save()
    msel.save_version(exercise, user, _("Scenario from assessment #%d") % run.pk)
    return approach
