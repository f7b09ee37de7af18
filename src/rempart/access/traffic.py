"""A seeded generator of camera plate reads, for demos, load tests and the simulator.

Each read is shaped like the body the ANPR cameras POST to the access API::

    {"lane": "old-town-north-in", "plate": "AB-123-CD", "confidence": 0.97,
     "read_at": "2027-07-14T18:00:03.250+02:00"}

Arrivals are a Poisson process at ``rate_per_min`` (exponential gaps); each arrival is drawn
from ``TrafficMix``: a known permit plate, an unknown plate, a low-confidence read, or a
*tailgater* -- a known vehicle followed within 0.8-2.5 s by an unknown one on the same lane, the
cause of most bollard strikes (Leicester: 6 vehicles in 2 weeks; domain.md section 3).
Same seed, same reads.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from rempart.access.plates import normalise_plate

__all__ = ["ReadKind", "TrafficMix", "generate_labelled_reads", "generate_reads"]


class ReadKind(StrEnum):
    """What a generated read stands for (the label; not part of the camera body)."""

    KNOWN = "known"
    UNKNOWN = "unknown"
    LOW_CONFIDENCE = "low_confidence"
    TAILGATER = "tailgater"


@dataclass(frozen=True)
class TrafficMix:
    """Relative weights of each kind of arrival; they need not sum to 1.

    ``low_confidence_max`` is the highest confidence of a low-confidence read; keep it below
    the decision engine's threshold (0.9 by default).
    """

    known: float = 0.70
    unknown: float = 0.15
    low_confidence: float = 0.10
    tailgater: float = 0.05
    low_confidence_max: float = 0.85


_SIV_LETTERS = "".join(c for c in string.ascii_uppercase if c not in "IOU")


def _unknown_plate(rng: random.Random) -> str:
    """A plausible European plate: French SIV, German or Italian style."""
    style = rng.random()
    if style < 0.6:  # France, SIV since 2009: AB-123-CD
        return (
            "".join(rng.choices(_SIV_LETTERS, k=2))
            + f"-{rng.randint(1, 999):03d}-"
            + "".join(rng.choices(_SIV_LETTERS, k=2))
        )
    if style < 0.85:  # Germany: district, letters, digits; umlauts occur in districts
        district = rng.choice(["B", "M", "HH", "K", "LÖ", "MÜ", "FÜ", "S"])
        letters = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(1, 2)))
        return f"{district}-{letters} {rng.randint(1, 9999)}"
    return (  # Italy: AB 123 CD
        "".join(rng.choices(string.ascii_uppercase, k=2))
        + f" {rng.randint(0, 999):03d} "
        + "".join(rng.choices(string.ascii_uppercase, k=2))
    )


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


def generate_labelled_reads(
    lanes: Sequence[str],
    known_plates: Sequence[str],
    *,
    start: datetime,
    rate_per_min: float = 6.0,
    seed: int = 0,
    mix: TrafficMix = TrafficMix(),
    count: int | None = None,
    until: datetime | None = None,
) -> Iterator[tuple[ReadKind, dict[str, object]]]:
    """Yield ``(kind, camera body)`` pairs in time order.

    Parameters
    ----------
    lanes:
        Lane ids to spread arrivals over (uniformly).
    known_plates:
        Plates holding permits, as they should appear in reads.
    start:
        Aware instant of the first possible arrival.
    rate_per_min:
        Mean arrivals per minute (a tailgater arrival yields two reads).
    seed:
        Seed of the private ``random.Random``; the generator touches no global state.
    count, until:
        Stop after ``count`` reads and/or at ``until``; with neither, it never stops.
    """
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    if not lanes:
        raise ValueError("at least one lane is needed")
    if rate_per_min <= 0:
        raise ValueError(f"rate_per_min {rate_per_min} must be positive")
    rng = random.Random(seed)
    known_normalised = {normalise_plate(p) for p in known_plates}
    kinds = [ReadKind.KNOWN, ReadKind.UNKNOWN, ReadKind.LOW_CONFIDENCE, ReadKind.TAILGATER]
    weights = [mix.known, mix.unknown, mix.low_confidence, mix.tailgater]
    if not known_plates:  # nothing known to read or to follow
        weights[0] = weights[3] = 0.0
    now = start
    emitted = 0

    def unknown() -> str:
        while True:
            plate = _unknown_plate(rng)
            if normalise_plate(plate) not in known_normalised:
                return plate

    def body(lane: str, plate: str, confidence: float, at: datetime) -> dict[str, object]:
        return {
            "lane": lane,
            "plate": plate,
            "confidence": round(confidence, 3),
            "read_at": _stamp(at),
        }

    while True:
        now += timedelta(seconds=rng.expovariate(rate_per_min / 60.0))
        if until is not None and now >= until:
            return
        lane = rng.choice(list(lanes))
        kind = rng.choices(kinds, weights)[0]
        reads: list[tuple[ReadKind, dict[str, object]]]
        if kind is ReadKind.KNOWN:
            reads = [
                (kind, body(lane, rng.choice(list(known_plates)), rng.uniform(0.92, 0.995), now))
            ]
        elif kind is ReadKind.UNKNOWN:
            reads = [(kind, body(lane, unknown(), rng.uniform(0.92, 0.995), now))]
        elif kind is ReadKind.LOW_CONFIDENCE:
            plate = (
                rng.choice(list(known_plates)) if known_plates and rng.random() < 0.5 else unknown()
            )
            reads = [(kind, body(lane, plate, rng.uniform(0.40, mix.low_confidence_max), now))]
        else:
            follower_at = now + timedelta(seconds=rng.uniform(0.8, 2.5))
            reads = [
                (
                    ReadKind.KNOWN,
                    body(lane, rng.choice(list(known_plates)), rng.uniform(0.92, 0.995), now),
                ),
                (ReadKind.TAILGATER, body(lane, unknown(), rng.uniform(0.92, 0.995), follower_at)),
            ]
            now = follower_at
        for item in reads:
            yield item
            emitted += 1
            if count is not None and emitted >= count:
                return


def generate_reads(
    lanes: Sequence[str],
    known_plates: Sequence[str],
    *,
    start: datetime,
    rate_per_min: float = 6.0,
    seed: int = 0,
    mix: TrafficMix = TrafficMix(),
    count: int | None = None,
    until: datetime | None = None,
) -> Iterator[dict[str, object]]:
    """Yield camera bodies only; see ``generate_labelled_reads`` for the parameters."""
    for _kind, read in generate_labelled_reads(
        lanes,
        known_plates,
        start=start,
        rate_per_min=rate_per_min,
        seed=seed,
        mix=mix,
        count=count,
        until=until,
    ):
        yield read
