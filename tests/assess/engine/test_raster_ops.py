"""The drivable rasters' building blocks (branch obstread) give what scipy's general routines
give: the distance transform computed in integers from scipy's feature transform equals
``ndimage.distance_transform_edt`` bit for bit, the 4-neighbour minimum equals
``ndimage.grey_erosion`` with the cross footprint, and a burned line's stroke equals the cells
of the labelled burn; on random rasters with isolated obstacles, lines and empty grids."""

from __future__ import annotations

import numpy as np
import shapely
from scipy import ndimage

from rempart.assess.engine.drivable import (
    Grid,
    _cross_any,
    _cross_min,
    burn_labelled_lines,
    burn_lines,
    distance_cells,
    fill_polygons,
)


def test_distance_cells_is_scipys_edt() -> None:
    rng = np.random.default_rng(7)
    for shape, share in (((61, 47), 0.02), ((40, 90), 0.3), ((5, 5), 0.0), ((1, 9), 0.5)):
        obstacle = rng.random(shape) < share
        obstacle[0, 0] = True
        got = distance_cells(obstacle)
        want = ndimage.distance_transform_edt(~obstacle)
        assert got.dtype == np.float64
        assert np.array_equal(got, want)
    # one obstacle: the distance of a cell 3 across and 4 up is 5
    one = np.zeros((10, 10), dtype=bool)
    one[2, 2] = True
    assert distance_cells(one)[6, 5] == 5.0


def test_cross_min_and_any_are_the_erosion_and_dilation_by_the_cross() -> None:
    rng = np.random.default_rng(3)
    none = np.iinfo(np.int32).max
    cross = ndimage.generate_binary_structure(2, 1)
    for shape in ((30, 20), (1, 7), (6, 1)):
        lab = np.where(rng.random(shape) < 0.1, rng.integers(1, 50, shape), none).astype(np.int32)
        want = ndimage.grey_erosion(lab, footprint=cross, mode="constant", cval=none)
        assert np.array_equal(_cross_min(lab), want)
        hit = lab != none
        assert np.array_equal(_cross_any(hit), ndimage.binary_dilation(hit, structure=cross))


def test_burned_lines_are_the_labelled_burn_and_fill_keeps_its_cells() -> None:
    grid = Grid(0.0, 0.0, 1.0, 40, 30)
    lines = [
        shapely.linestrings([(2.2, 3.1), (37.5, 25.2)]),
        shapely.box(10.0, 10.0, 20.0, 15.0),
        shapely.linestrings([(50.0, 50.0), (60.0, 60.0)]),  # outside the grid
    ]
    labels = burn_labelled_lines(grid, lines)
    assert np.array_equal(burn_lines(grid, lines), labels > 0)
    assert not burn_lines(grid, []).any()
    assert not burn_labelled_lines(grid, []).any()
    # a 10 m x 5 m box fills the 10 x 5 cells whose centres are inside it
    filled = fill_polygons(grid, [lines[1]])
    assert filled.sum() == 50
    assert filled[10:15, 10:20].all()
