"""Site boundary validation: each bad shape gives one clear line."""

from __future__ import annotations

import pytest

from rempart.core.geo import BoundaryError, area_m2, parse_boundary
from tests.conftest import SQUARE


def test_valid_square_is_accepted_with_its_area() -> None:
    geometry = parse_boundary(SQUARE)
    assert geometry["type"] == "Polygon"
    # 0.002° of longitude at 60.17°N ≈ 111 km * cos(60.17°) * 0.002 ≈ 111 m; 0.001° latitude ≈ 111 m.
    assert 11_000 < area_m2(geometry) < 13_500


@pytest.mark.parametrize(
    ("boundary", "expected"),
    [
        (
            {
                "type": "Polygon",
                "coordinates": [[[0, 0], [0.001, 0.001], [0.001, 0], [0, 0.001], [0, 0]]],
            },
            "not a valid polygon",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[24.950, 60.168], [24.952, 60.168], [24.952, 60.169], [24.950, 60.169]]
                ],
            },
            "not closed",
        ),
        ({"type": "Polygon", "coordinates": []}, "empty"),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[1043000, 6297000], [1043100, 6297000], [1043100, 6297100], [1043000, 6297000]]
                ],
            },
            "outside WGS84",
        ),
        ({"type": "Point", "coordinates": [24.95, 60.17]}, "expected Polygon or MultiPolygon"),
        ("{not json", "not valid JSON"),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[24.95, 60.168], [24.95001, 60.168], [24.95001, 60.16801], [24.95, 60.168]]
                ],
            },
            "too small",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]},
            "too large",
        ),
    ],
    ids=[
        "self-intersecting",
        "unclosed",
        "empty",
        "projected-as-wgs84",
        "point",
        "bad-json",
        "tiny",
        "huge",
    ],
)
def test_bad_boundaries_are_refused_with_one_line(boundary: object, expected: str) -> None:
    with pytest.raises(BoundaryError) as info:
        parse_boundary(boundary)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
