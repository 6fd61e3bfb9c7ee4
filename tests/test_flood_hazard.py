"""Tests of the flood hazard accumulators (kernels/flood_hazard.py)."""

import numpy as np
import pytest

from kernels.flood_hazard import accumulate_hazard


def _accumulators(shape):
    """Fresh accumulators: max depth, max speed, max unit discharge, arrival (NaN), duration."""
    return (np.zeros(shape), np.zeros(shape), np.zeros(shape), np.full(shape, np.nan),
            np.zeros(shape))


def _states(seed, ny, nx, steps):
    rng = np.random.default_rng(seed)
    for k in range(steps):
        h = rng.uniform(0, 0.3, (ny, nx)) * (rng.random((ny, nx)) < 0.8)
        yield (10.0 * (k + 1), h, rng.normal(0, 0.1, (ny, nx + 1)),
               rng.normal(0, 0.1, (ny + 1, nx)))


def test_one_cell_by_hand():
    """Maxima, arrival (end of the first wet step), wet duration (dt per wet step) and speed
    |q| / h from the mean of opposite faces, counted only above h_min."""
    acc = _accumulators((1, 1))
    qx, qy = np.array([[0.3, 0.5]]), np.array([[0.0], [0.6]])      # q = |(0.4, 0.3)| = 0.5
    for t_end, depth in ((5.0, 0.02), (10.0, 0.25), (15.0, 0.1)):
        accumulate_hazard(np.array([[depth]]), qx, qy, t_end, 5.0, 0.05, 1e-3, *acc)
    max_depth, max_speed, max_q, arrival, duration = (a[0, 0] for a in acc)
    assert max_depth == 0.25 and arrival == 10.0 and duration == 10.0
    assert max_q == pytest.approx(0.5, rel=1e-15)
    assert max_speed == pytest.approx(0.5 / 0.02, rel=1e-15)       # the shallowest wet step
    dry = _accumulators((1, 1))
    accumulate_hazard(np.array([[5e-4]]), qx, qy, 5.0, 5.0, 0.05, 1e-3, *dry)
    assert dry[1][0, 0] == 0.0 and dry[2][0, 0] == 0.0 and np.isnan(dry[3][0, 0])


def test_window_equals_the_whole_grid_cut_to_it():
    """A window folds in exactly the cells it covers, into accumulators that start at its
    corner (here one spare row and column, left alone), as the whole-grid call does there."""
    ny, nx, window = 13, 17, (3, 11, 4, 9)
    r0, r1, c0, c1 = window
    whole, part = _accumulators((ny, nx)), _accumulators((r1 - r0 + 1, c1 - c0 + 1))
    for t_end, h, qx, qy in _states(1, ny, nx, 6):
        accumulate_hazard(h, qx, qy, t_end, 10.0, 0.1, 1e-3, *whole)
        accumulate_hazard(h, qx, qy, t_end, 10.0, 0.1, 1e-3, *part, window=window)
    for w, p in zip(whole, part):
        np.testing.assert_array_equal(p[:-1, :-1], w[r0:r1, c0:c1])
    assert np.all(part[0][-1] == 0) and np.all(np.isnan(part[3][:, -1]))
    assert np.nanmax(part[3]) > 0 and part[1].max() > 0


@pytest.mark.parametrize("window, shape", [((0, 14, 0, 5), (14, 5)), ((2, 8, 0, 5), (5, 5)),
                                           ((5, 2, 0, 5), (5, 5))])
def test_window_outside_the_state_or_larger_than_the_accumulators_is_refused(window, shape):
    """No out-of-bounds writes from compiled code: a bad window raises ValueError first."""
    _, h, qx, qy = next(_states(2, 13, 5, 1))
    with pytest.raises(ValueError, match="window"):
        accumulate_hazard(h, qx, qy, 1.0, 1.0, 0.1, 1e-3, *_accumulators(shape), window=window)
