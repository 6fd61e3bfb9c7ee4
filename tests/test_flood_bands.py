"""Tests of the flood grid stepped as row bands on threads (twin/hazards/flood/bands.py): the
whole grid's run bit for bit, on any number of threads, changing between stops."""

import numpy as np
import pytest

from kernels.flood import FloodInstability
from test_flood_tiled import FIELDS, TERMS, _inputs
from twin.core.errors import RunError
from twin.hazards.flood import bands as B
from twin.hazards.flood import model as M
from twin.hazards.flood.forcing import ForcingSchedule, ForcingStep

GAUGES = [(30, 40), (41, 41), (29, 20), (10, 5)]
RECORDS = ("snapshots", "gauge_depth", "gauge_level", "gauge_speed", "snapshot_times", "gauge_times")


def _run(rain="uniform", threads=1):
    return M.simulate_flood(_inputs(rain), 300.0, 50.0, 25.0, GAUGES, threads=threads)


@pytest.fixture(scope="module", params=["uniform", "gridded"])
def whole(request):
    """The tiled tests' city (inflows and buildings across the band borders, roof-routed rain,
    losses, a fixed-level and two free edges) on one thread."""
    return request.param, _run(request.param)


def _assert_same_bits(res, ref):
    for name in FIELDS + RECORDS:
        np.testing.assert_array_equal(getattr(res, name), getattr(ref, name), err_msg=name)
    assert res.n_steps == ref.n_steps
    for term in TERMS:
        assert getattr(res.ledger, term) == pytest.approx(getattr(ref.ledger, term), rel=1e-14, abs=0), term
    assert len(res.ledger_rows) == len(ref.ledger_rows) and res.ledger.closure_relative < 1e-12


@pytest.mark.parametrize("threads", [2, 3])
def test_bands_on_threads_give_the_whole_grid_run_bit_for_bit(whole, threads):
    """Two and three bands (borders at rows 30, and 20 and 40: across the culvert inflow, next to
    the pipe and through buildings): depths, maps, snapshots, gauges and steps are the same bits,
    the ledger agrees to 1e-14 (its sums are added band by band)."""
    rain, ref = whole
    assert ref.ledger.inflow_in > 0 and ref.ledger.boundary_out > 0 and np.nanmax(ref.max_speed) > 0.1
    _assert_same_bits(_run(rain, threads), ref)


def test_the_thread_count_may_change_at_every_stop(whole):
    """The count is asked at the start and at every stop before the end (gauges every 25 s, rain
    intervals): 1, 3, 2, 1, ... bands."""
    rain, ref = whole
    counts = iter([1, 3, 2, 1, 2, 3] * 10)
    asked = []

    def threads():
        asked.append(next(counts))
        return asked[-1]

    _assert_same_bits(_run(rain, threads), ref)
    stops = ForcingSchedule.of(_inputs(rain), 300.0, 50.0, 25.0).stops
    assert len(asked) == len(stops) and len(set(asked)) == 3


def _band_step(seed, n, halo, monkeypatch):
    """One step of a random shallow 40 x 44 state (the outflow limiter often active) on ``n``
    bands with ``halo`` rows; the state after it."""
    monkeypatch.setattr(B, "HALO_ROWS", halo)
    rng = np.random.default_rng(seed)
    ny, nx = 40, 44
    z = rng.uniform(0, 0.4, (ny, nx))
    blocked = rng.random((ny, nx)) < 0.05
    h = np.where(blocked, 0.0, rng.uniform(0, 0.1, (ny, nx)))
    qx, qy = rng.normal(0, 0.5, (ny, nx + 1)), rng.normal(0, 0.5, (ny + 1, nx))
    zero = np.zeros((ny, nx))
    fields = B.BlockFields(z, np.full((ny, nx), 0.03), blocked, zero, zero, zero, np.ones((ny, nx), bool))
    accs = (zero.copy(), np.zeros((ny, nx), np.float32), np.zeros((ny, nx), np.float32),
            np.full((ny, nx), np.nan, np.float32), zero.copy())
    step = ForcingStep(0.4, 0.4, 0.0, np.zeros(4, np.int64), np.zeros(4), [])
    with B.Bands(h, qx, qy, fields, accs, [], B.StepOptions(3.0, 0.8, 1e-3, 0.05, 0.01), n) as bands:
        assert bands.n == n
        bands.step(step, 0.8)
        return tuple(a.copy() for a in bands.state()) + accs


def test_a_halo_of_two_rows_is_exact_and_one_is_not(monkeypatch):
    """Halo sizing: a band's held faces spoil two rows per step (theta-weighted neighbours and the
    outflow limiter), so two halo rows give the whole grid's step exactly on 30 random shallow
    states, and one row is wrong on some of them."""
    def same(seed, halo):
        whole = _band_step(seed, 1, halo, monkeypatch)
        return all(np.array_equal(a, b, equal_nan=True) for a, b in zip(_band_step(seed, 2, halo, monkeypatch),
                                                                         whole))
    assert B.HALO_ROWS == 2
    assert all(same(seed, 2) for seed in range(30))
    assert not all(same(seed, 1) for seed in range(30))


def test_band_count_keeps_bands_thick_enough():
    """One band per thread, each of at least MIN_BAND_ROWS rows, the rows split evenly."""
    assert B.band_count(60, 3) == 3 and B.band_count(60, 8) == 60 // B.MIN_BAND_ROWS
    assert B.band_count(10, 4) == 1 and B.band_count(500, 1) == 1
    assert B.band_rows(60, 3) == [(0, 20), (20, 40), (40, 60)]


def test_instability_in_a_band_names_the_cell_of_the_grid(monkeypatch):
    """A FloodInstability in the second of two bands (row 5 of its block, which starts two halo
    rows above row 30) is a RunError naming row 33 of the grid, raised once both bands stopped."""
    real = B.tile_step

    def explode(*args, window, **kwargs):
        if window[0] > 0:
            raise FloodInstability(12.5, 5, 7, float("nan"))
        return real(*args, window=window, **kwargs)

    monkeypatch.setattr(B, "tile_step", explode)
    with pytest.raises(RunError, match=r"t = 12\.500 s .*\(row 33, col 7\)"):
        M.simulate_flood(_inputs(), 60.0, None, None, threads=2)
