"""The access module asks here before a lane is opened or closed by hand: a city may require
its operators to hold a valid certificate of a course (``Course.required_for_lanes``)."""

from __future__ import annotations

from typing import Any

from rempart.exercises.training import lane_refusal


def refusal(user: Any, city: Any) -> str:
    """Empty to let ``user`` operate a lane of ``city``; else the one line saying why not."""
    return lane_refusal(user, city)
