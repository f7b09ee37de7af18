"""Rated barriers of the register burned onto the drivable raster in one pass
(:func:`rempart.assess.engine.drivable.burn_labelled_lines`, used by
:func:`rempart.assess.engine.offroad.barrier_labels`): the same cells and labels as burning
them one by one (the lowest-numbered barrier wins a cell two strokes share), so a register of
thousands of bollards costs one pass instead of one whole-raster dilation each."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon

from rempart.assess.engine.drivable import Grid, burn_labelled_lines, burn_lines


def one_by_one(grid: Grid, geoms: list) -> np.ndarray:
    """The labels burned barrier by barrier, first come first served (the former rule)."""
    lab = np.zeros((grid.ny, grid.nx), dtype=np.int32)
    for i, g in enumerate(geoms):
        lab[burn_lines(grid, [g]) & (lab == 0)] = i + 1
    return lab


def test_one_pass_equals_one_by_one_with_overlaps_polygons_and_empties():
    grid = Grid(-50.0, -40.0, 1.0, 100, 80)
    rng = np.random.default_rng(7)
    geoms: list = [
        LineString([(-45.0, 0.0), (45.0, 0.0)]),  # a long line crossing others
        LineString([(0.0, -35.0), (0.0, 35.0)]),
        Point(10.0, 0.3).buffer(1.0),  # a bollard on the first line: the line keeps its cells
        Polygon(),  # an empty geometry burns nothing and keeps its number
        LineString([(40.0, 30.0), (80.0, 60.0)]),  # partly off the raster
        LineString([(200.0, 200.0), (210.0, 210.0)]),  # wholly off the raster
    ]
    for x, y in rng.uniform(-48.0, 48.0, size=(300, 2)):
        geoms.append(Point(x, y).buffer(1.0))
    got = burn_labelled_lines(grid, geoms)
    want = one_by_one(grid, geoms)
    assert np.array_equal(got, want)
    # the labels name the barriers: the crossing of the two lines is the first's, the bollard
    # on the first line leaves it the line's cells, the empty and off-raster ones burn nothing
    assert got[40, 50] == 1
    assert 3 in got and 4 not in got and 6 not in got
    # a stroke is 4-connected: every burned cell of the diagonal line touches another side-on
    diag = got == 5
    assert diag.any()
    ys, xs = np.nonzero(diag)
    for i, j in zip(ys, xs, strict=True):
        around = diag[max(i - 1, 0) : i + 2, j].sum() + diag[i, max(j - 1, 0) : j + 2].sum() - 2
        assert around >= 1


def test_a_register_of_seventeen_thousand_bollards_is_burned():
    # a register this large took one whole-raster dilation per bollard (13 ms each: minutes);
    # its labels are still each bollard's own cells
    grid = Grid(0.0, 0.0, 1.0, 400, 400)
    xs, ys = np.meshgrid(np.arange(2.5, 400.0, 3.0), np.arange(2.5, 400.0, 3.0))
    centres = np.column_stack([xs.ravel(), ys.ravel()])
    geoms = list(shapely.buffer(shapely.points(centres), 0.5))
    lab = burn_labelled_lines(grid, geoms)
    # bollards 3 m apart with 1 m diameter: strokes never touch, each burns only its own cells
    first = lab[1:4, 1:4]
    assert set(np.unique(first)) <= {0, 1} and (first == 1).any()
    assert len(np.unique(lab)) == len(geoms) + 1
