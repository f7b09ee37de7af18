"""The token limits of rempart.core.access_rules, alone: each limit narrows, a malformed one
allows nothing."""

from __future__ import annotations

import pytest

from rempart.core.access_rules import TokenLimits


def test_no_constraints_no_limits() -> None:
    for constraints in (None, {}, []):
        limits = TokenLimits.of(constraints)
        assert not limits.limited and limits.allows(None, None)
        assert limits.allows_scope("access:command")


def test_each_limit_narrows() -> None:
    lanes = TokenLimits.of({"lanes": ["a-in", "b-in"]})
    assert lanes.allows("a-in", "a") and not lanes.allows("a-out", "a")
    assert not lanes.allows(None, "a")  # a zone is wider than the lanes
    zones = TokenLimits.of({"zones": ["a"]})
    assert zones.allows("a-out", "a") and zones.allows(None, "a") and not zones.allows("b-in", "b")
    both = TokenLimits.of({"lanes": ["a-in", "b-in"], "zones": ["a"]})
    assert both.allows("a-in", "a") and not both.allows("b-in", "b")
    for limits in (lanes, zones, both):
        assert limits.allows_scope("access:request") and limits.allows_scope("access:read")
        assert not limits.allows_scope("access:command")
        assert not limits.allows_scope("core:read")


@pytest.mark.parametrize(
    "constraints",
    [
        {"lane": ["a-in"]},  # a typo must not lift the limit
        {"lanes": "a-in"},  # a string, not a list of ids
        {"lanes": [1, 2]},
        {"zones": None, "colour": "red"},
        ["a-in"],
    ],
)
def test_malformed_limits_allow_nothing(constraints: object) -> None:
    limits = TokenLimits.of(constraints)
    assert limits.limited
    assert not limits.allows("a-in", "a") and not limits.allows(None, None)
