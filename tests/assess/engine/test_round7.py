"""entries.round7: the JSON's coordinates rounded to 7 decimals, vectorised, must be exactly
Python's ``round(v, 7)`` (the bytes of the JSON do not change)."""

from __future__ import annotations

import numpy as np

from rempart.assess.engine.entries import round7


def test_exact_binary_tie_rounds_half_to_even() -> None:
    # 1/256 = 0.00390625 exactly: 39062.5 units of 1e-7, a true tie, to the even 39062
    assert round7(np.array([1 / 256, -1 / 256])) == [0.0039062, -0.0039062]


def test_same_floats_as_python_round_near_halves_and_at_random() -> None:
    rng = np.random.default_rng(3)
    near_half = (np.arange(-5000, 5000) + 0.5) / 1e7 + 24.0
    values = np.r_[rng.uniform(-180.0, 180.0, 200_000), near_half, 0.0, -0.0, -1e-9]
    got = round7(values)
    want = [round(v, 7) for v in values.tolist()]
    assert [repr(v) for v in got] == [repr(v) for v in want]


def test_non_finite_values_pass_through() -> None:
    got = round7(np.array([np.inf, -np.inf, np.nan]))
    assert got[:2] == [np.inf, -np.inf] and got[2] != got[2]
