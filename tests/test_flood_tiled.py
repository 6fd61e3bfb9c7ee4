"""Tests of the tiled flood run (twin/hazards/flood/tiled.py): tiles equal the untiled run to round-off.

The city (60 x 80 cells of 4 m) has buildings, a line inflow and a point inflow that straddle the
tile borders of both 2 x 2 and 3 x 1 tilings (the extended grid is 61 x 81: borders at row 31 and
column 41 for 2 x 2, rows 21 and 41 for 3 x 1), roof-routed rain, losses, a fixed-level west
edge, free south and east edges, a closed north edge and a corner outside the domain.
"""

import numpy as np
import pytest

import kernels.flood as F
from twin.hazards.flood import model as M
from twin.hazards.flood.forcing import GriddedRain, Inflow, UniformRain
from twin.core.errors import InputError, RunError
from twin.hazards.flood.tiled import auto_tiles, required_halo, simulate_flood_tiled

MM_H = 1e-3 / 3600.0
FIELDS = ("final_depth", "max_depth", "max_speed", "max_unit_discharge", "arrival_time", "wet_duration")
TERMS = ("rain_in", "inflow_in", "boundary_in", "boundary_out", "infiltration", "drainage",
         "storage_initial", "storage_final")


def _inputs(rain="uniform"):
    ny, nx = 60, 80
    rng = np.random.default_rng(11)
    z = 0.03 * np.arange(nx)[::-1][None, :] + 0.01 * np.arange(ny)[:, None] + rng.uniform(0, 0.15, (ny, nx))
    z[40:50, 50:65] -= 0.6                                    # a pond
    blocked = np.zeros((ny, nx), bool)
    blocked[26:36, 36:46] = True                              # across the 2 x 2 borders
    blocked[38:45, 10:30] = True                              # across the 3 x 1 border (row 41)
    blocked[5:12, 50:75:3] = True                             # a row of narrow houses
    domain = np.ones((ny, nx), bool)
    domain[:4, :6] = False
    h0 = np.zeros((ny, nx))
    h0[40:50, 50:65] = 0.4
    line = Inflow("culvert", rows=np.arange(28, 34), cols=np.full(6, 20), weights=np.full(6, 1 / 6),
                  times=[0, 100, 300], discharge=[0.0, 2.5, 0.5])
    point = Inflow("pipe", rows=[41], cols=[41], weights=[1.0], times=[0, 300], discharge=[0.8, 0.8])
    if rain == "uniform":
        rain = UniformRain([0, 150, 300], [20 * MM_H, 150 * MM_H, 10 * MM_H])
    else:
        rates = rng.uniform(0, 200 * MM_H, (3, ny, nx))
        rain = GriddedRain([0, 40, 90, 130], rates)
    return M.FloodInputs(z=z, blocked=blocked, manning_n=np.where(z > 1.5, 0.05, 0.03), dx=4.0,
                         domain=domain, rain=rain, inflows=(line, point), h0=h0,
                         boundaries={"west": ([0, 300], [2.7, 2.9]), "east": "free", "south": "free"},
                         loss_rate=np.where(z > 1.0, 4 * MM_H, 0.0), drainage_rate=2 * MM_H)


def _assert_same(res, ref, rtol=1e-9):
    for name in FIELDS:
        np.testing.assert_allclose(getattr(res, name), getattr(ref, name), rtol=rtol, atol=0,
                                   equal_nan=True, err_msg=name)
    for term in TERMS:
        assert getattr(res.ledger, term) == pytest.approx(getattr(ref.ledger, term), rel=rtol, abs=0), term
    assert res.n_steps == ref.n_steps


@pytest.fixture(scope="module")
def one_tile():
    """The uniform-rain city run for 300 s on one untiled block, 8 steps per exchange."""
    return simulate_flood_tiled(_inputs(), 300.0, tiles=(1, 1), steps_per_exchange=8,
                                scheduler="synchronous")


@pytest.mark.parametrize("tiles", [(2, 2), (3, 1)])
def test_tiles_equal_one_tile_to_round_off(tiles, one_tile):
    """Domain decomposition: 8 steps per exchange on halos of 2 x 8 + 1 = 17 cells give the run
    on one untiled block (same dt sequence) to 1e-9 relative, hazard fields and every ledger
    term included, and the ledger closes to 1e-9."""
    res = simulate_flood_tiled(_inputs(), 300.0, tiles=tiles, halo=17, scheduler="synchronous")
    led = one_tile.ledger
    assert min(led.boundary_in, led.boundary_out, led.infiltration, led.drainage) > 0
    assert np.nanmax(res.max_speed) > 0.1 and np.isfinite(res.arrival_time).sum() > 500
    _assert_same(res, one_tile)
    assert res.ledger.closure_relative < 1e-9


def test_default_halo_fits_the_tiles():
    """Without halo or steps, a tile advances DEFAULT_STEPS_PER_EXCHANGE (32) steps per exchange,
    fewer when its tiles are narrower than that halo (65 cells): 3 x 1 tiles of the 60-row test
    grid (61 rows extended) are 20 rows tall at least, so K = 9 (halo 19), and the run equals one
    block's with K = 9."""
    from twin.hazards.flood.tiled import DEFAULT_STEPS_PER_EXCHANGE
    assert DEFAULT_STEPS_PER_EXCHANGE == 32
    inp = _inputs()
    assert inp.shape == (60, 80)
    res = simulate_flood_tiled(inp, 300.0, tiles=(3, 1), scheduler="synchronous")
    ref = simulate_flood_tiled(inp, 300.0, tiles=(1, 1), steps_per_exchange=9, scheduler="synchronous")
    _assert_same(res, ref)
    with pytest.raises(AssertionError):       # a different K gives another dt sequence
        _assert_same(res, simulate_flood_tiled(inp, 300.0, tiles=(1, 1), steps_per_exchange=8,
                                               scheduler="synchronous"))


def test_one_step_per_exchange_equals_simulate_flood():
    """With one step per exchange the dt sequence is simulate_flood's, so the tiled run (2 x 2
    tiles, halo 3) equals the untiled time loop to round-off: gridded rain routed off the roofs,
    snapshots at their times, hazard fields and ledger."""
    inp = _inputs(rain="gridded")
    ref = M.simulate_flood(inp, 100.0, 25.0, None)
    res = simulate_flood_tiled(inp, 100.0, tiles=(2, 2), halo=3, snapshot_every_s=25.0,
                               scheduler="synchronous")
    assert ref.ledger.rain_in > 0 and ref.ledger.boundary_in > 0
    _assert_same(res, ref)
    np.testing.assert_array_equal(res.snapshot_times, ref.snapshot_times)
    np.testing.assert_allclose(res.snapshots, ref.snapshots, rtol=1e-6, atol=0)   # float32 records


def test_the_outflow_control_sizes_the_steps_of_both_loops_alike():
    """Rain on dry 30 m terrain, where the outflow control of the step binds (more steps than
    with it at its weakest): with one step per exchange the tiled run (2 x 2 tiles) takes
    simulate_flood's steps and equals it to round-off, ledger rows over time included."""
    from dataclasses import replace

    from test_wetup_convergence import rain_on_terrain
    inp = rain_on_terrain(size=48, seed=2, rain_mm_h=60.0)
    ref = M.simulate_flood(inp, 600.0, None, 150.0)
    weakest = M.simulate_flood(replace(inp, outflow_fraction=1.0), 600.0, None, 150.0)
    res = simulate_flood_tiled(inp, 600.0, tiles=(2, 2), halo=3, gauge_every_s=150.0,
                               scheduler="synchronous")
    assert ref.n_steps > 2 * weakest.n_steps
    _assert_same(res, ref)
    assert [(r.time_s, r.steps) for r in res.ledger_rows] == [(r.time_s, r.steps) for r in ref.ledger_rows]


def test_several_steps_per_exchange_stay_close_to_simulate_flood(one_tile):
    """Holding dt for K = 8 steps changes the step sequence, not the physics: against
    simulate_flood (dt renewed every step) the forcing volumes are the same (exact integrals),
    the ledger closes, stored volume agrees within 0.1 % and the maximum depths within 1 cm on
    99 % of the cells and 10 cm anywhere (the peaks of the sloshing pond; simulate_flood itself
    moves them by about 5 cm when its Courant number goes from 0.7 to 0.6)."""
    ref = M.simulate_flood(_inputs(), 300.0, None, None)
    res = one_tile
    assert res.ledger.rain_in == pytest.approx(ref.ledger.rain_in, rel=1e-12)
    assert res.ledger.inflow_in == pytest.approx(ref.ledger.inflow_in, rel=1e-12)
    assert res.ledger.closure_relative < 1e-9
    assert res.ledger.storage_final == pytest.approx(ref.ledger.storage_final, rel=1e-3)
    diff = np.abs(res.max_depth - ref.max_depth)
    assert np.percentile(diff, 99) < 0.01 and diff.max() < 0.1


def test_threads_and_a_distributed_cluster_give_the_same_run():
    """The scheduler does not change the result: dask's threads and an in-process
    distributed cluster of two workers match the synchronous run to 1e-9."""
    from distributed import Client, LocalCluster
    inp = _inputs()
    ref = simulate_flood_tiled(inp, 100.0, tiles=(2, 2), halo=17, scheduler="synchronous")
    _assert_same(simulate_flood_tiled(inp, 100.0, tiles=(2, 2), halo=17, scheduler="threads"), ref)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        _assert_same(simulate_flood_tiled(inp, 100.0, tiles=(2, 2), halo=17, scheduler=client), ref)


def _tile_vs_whole(seed, K, H):
    """Kernel stages on a tile with a halo of H cells (edge faces held) against the whole
    grid, K steps on a random shallow state where the outflow limiter is often active."""
    rng = np.random.default_rng(seed)
    ny, nx, dx, dt = 40, 44, 3.0, 0.4
    z = rng.uniform(0, 0.4, (ny, nx))
    blocked = rng.random((ny, nx)) < 0.05
    h = np.where(blocked, 0.0, rng.uniform(0, 0.1, (ny, nx)))
    n = np.full((ny, nx), 0.03)
    qx, qy = rng.normal(0, 0.5, (ny, nx + 1)), rng.normal(0, 0.5, (ny + 1, nx))
    r0, r1, c0, c1 = 17, 23, 19, 25
    hs = (slice(r0 - H, r1 + H), slice(c0 - H, c1 + H))
    th, tqx, tqy = h[hs].copy(), qx[r0 - H:r1 + H, c0 - H:c1 + H + 1].copy(), qy[r0 - H:r1 + H + 1, c0 - H:c1 + H].copy()
    zero = np.zeros((ny, nx))
    for _ in range(K):
        F.flood_step(h, qx, qy, z, n, blocked, dt, dx, edge_kind=np.zeros(4, int), edge_level=np.zeros(4),
                     rain_rate=0.0, rain_weight=zero, infiltration_rate=zero, drainage_rate=zero)
        F.update_fluxes(th, z[hs], n[hs], blocked[hs], tqx, tqy, tqy[0].copy(), tqy[-1].copy(),
                        tqx[:, -1].copy(), tqx[:, 0].copy(), dt, dx)
        F.update_depth(th, tqx, tqy, blocked[hs], dt, dx, 0.0, zero[hs], zero[hs], zero[hs])
    return (np.array_equal(th[H:-H, H:-H], h[r0:r1, c0:c1])
            and np.array_equal(tqx[H:-H, H:-H], qx[r0:r1, c0:c1 + 1])
            and np.array_equal(tqy[H:-H, H:-H], qy[r0:r1 + 1, c0:c1]))


def test_valid_region_shrinks_two_cells_per_step():
    """Halo sizing: the theta-weighted neighbour discharges and the outflow limiter make the
    stale tile edge reach 2 cells inward per step. A tile holding all faces of its cells needs
    a halo of 2K (exact on 40 random shallow states); K + 1 cells, enough while the limiter
    is idle, is wrong on some of them. The extended-grid layout adds one: required_halo = 2K + 1."""
    K = 3
    assert all(_tile_vs_whole(seed, K, 2 * K) for seed in range(40))
    assert not all(_tile_vs_whole(seed, K, K + 1) for seed in range(40))
    assert required_halo(K) == 2 * K + 1


def test_halo_too_small_and_bad_tiles_are_refused():
    """Input checks: a halo below 2K + 1 for K steps per exchange, tiles narrower than the halo,
    a non-positive duration and bad tile counts are InputErrors with the numbers in them."""
    inp = _inputs()
    with pytest.raises(InputError, match=r"halo too small.*found halo 8, steps 4"):
        simulate_flood_tiled(inp, 60.0, tiles=(2, 2), halo=8, steps_per_exchange=4)
    with pytest.raises(InputError, match="halo too small"):
        simulate_flood_tiled(inp, 60.0, tiles=(2, 2), halo=2)
    with pytest.raises(InputError, match=r"tiles smaller than the halo.*>= 21.*found 20"):
        simulate_flood_tiled(inp, 60.0, tiles=(3, 1), halo=21)
    with pytest.raises(InputError, match="duration"):
        simulate_flood_tiled(inp, 0.0)
    with pytest.raises(InputError, match="tile counts"):
        simulate_flood_tiled(inp, 60.0, tiles=(0, 2))


def test_auto_tiles_one_square_tile_per_worker():
    """auto_tiles: one tile per worker, closest to square (row bands on a tie), none smaller
    than min_tile."""
    assert auto_tiles((2000, 2000), 4) == (2, 2)
    assert auto_tiles((1000, 4000), 4) == (1, 4)
    assert auto_tiles((3000, 1000), 3) == (3, 1)
    assert auto_tiles((2000, 2000), 2) == (2, 1), "row bands when equally square"
    assert auto_tiles((100, 100), 8) == (1, 1)
    assert auto_tiles((300, 130), 8, min_tile=64) == (4, 2)
    with pytest.raises(InputError):
        auto_tiles((10, 10), 0)


def test_instability_in_a_tile_is_a_run_error_naming_time_cell_and_tile(monkeypatch):
    """A kernel instability inside a tile comes back as a RunError with the time, the cell in
    grid coordinates and the tile."""
    import twin.hazards.flood.bands as B

    def unstable(h, *args, **kwargs):
        raise F.FloodInstability(12.5, 1, 2, -0.5)
    monkeypatch.setattr(B, "tile_step", unstable)
    with pytest.raises(RunError, match=r"unstable at t = 12\.500 s at x = .* \(row \d+, col \d+\).*tile \d, \d"):
        simulate_flood_tiled(_inputs(), 30.0, tiles=(2, 2), halo=3, scheduler="synchronous")


def _retrying(monkeypatch, factor):
    """Make every exchange first try ``factor`` times the step it would take; count the tries."""
    import twin.hazards.flood.tiled as T
    tries, first_try = [], T._stable_exchange
    real_exchange = T._exchange

    def counted(*args, **kwargs):
        tries.append(1)
        return real_exchange(*args, **kwargs)

    monkeypatch.setattr(T, "_exchange", counted)
    def first_try_longer(fields, static_blocks, tiling, scheduler, dt, *args, **kwargs):
        return first_try(fields, static_blocks, tiling, scheduler, factor * dt, *args, **kwargs)

    monkeypatch.setattr(T, "_stable_exchange", first_try_longer)
    return tries


def test_retried_exchanges_redo_from_the_same_fields(monkeypatch):
    """An exchange whose step proves too long is redone from the stored fields with a stable step
    (the reused blocks of the failed try are written again, never read): every exchange of more
    than one step tried at least twice (a retry sized by the depth the failed try reached may
    itself reach a depth that asks for a third), tiles and one tile tried alike, tiles still
    equal one tile to round-off, and the ledger closes."""
    tries = _retrying(monkeypatch, 4.0)
    res = simulate_flood_tiled(_inputs(), 120.0, tiles=(2, 2), halo=17, scheduler="synchronous")
    n_tiled = len(tries)
    ref = simulate_flood_tiled(_inputs(), 120.0, tiles=(1, 1), steps_per_exchange=8,
                               scheduler="synchronous")
    # an exchange of one step has no intermediate depth to check, every longer one is tried twice
    full, last = divmod(res.n_steps, 8)
    assert n_tiled == len(tries) - n_tiled >= 2 * full + (2 if last > 1 else last) and full > 5
    _assert_same(res, ref)
    assert res.ledger.closure_relative < 1e-9


def test_an_exchange_without_a_stable_step_is_a_run_error(monkeypatch):
    """When even the smaller tries are too long, the run stops with a RunError after MAX_RETRIES."""
    import itertools

    import twin.hazards.flood.tiled as T
    calls = itertools.count()
    monkeypatch.setattr(T, "MAX_RETRIES", 2)
    # a stable step that halves at every call: no try is ever within it
    monkeypatch.setattr(M.FloodInputs, "timestep", lambda *args: 0.5 ** next(calls))
    with pytest.raises(RunError, match="no stable step for the exchange at t = 0.000 s after 2"):
        simulate_flood_tiled(_inputs(), 300.0, tiles=(2, 2), halo=17, scheduler="synchronous")


def _moving_state():
    """The test city's grid with water everywhere open, after three whole-grid steps (so that
    faces carry flow and the limiter and losses act), and the arguments of a step."""
    inp = _inputs()
    ny, nx = inp.shape
    rng = np.random.default_rng(5)
    h = np.where(inp.blocked, 0.0, rng.uniform(0.0, 0.3, (ny, nx)))
    qx, qy = np.zeros((ny, nx + 1)), np.zeros((ny + 1, nx))
    loss = np.broadcast_to(inp.loss_rate, (ny, nx)) * 50.0
    args = dict(rain_rate=80 * MM_H, rain_weight=np.ones((ny, nx)), infiltration_rate=np.ascontiguousarray(loss),
                drainage_rate=np.full((ny, nx), 3e-5), theta=0.8)
    kind, level = np.array([F.CLOSED, F.FREE, F.FREE, F.LEVEL]), np.array([0.0, 0.0, 0.0, 2.8])
    for _ in range(3):
        F.flood_step(h, qx, qy, inp.z, inp.manning_n, inp.blocked, 0.4, inp.dx, edge_kind=kind,
                     edge_level=level, **args)
    return inp, h, qx, qy, kind, level, args


def test_tile_step_is_flood_step_with_sums_over_its_window():
    """kernels.flood.tile_step given the edge discharges of edge_fluxes moves the state exactly as
    flood_step; its sums over the four windows of a 2 x 2 partition (applied volumes, and
    boundary volumes over each window's grid edges, per edge) add up to flood_step's, its largest
    depth is the window's and the largest of its outflow rates is flood_step's."""
    inp, h, qx, qy, kind, level, args = _moving_state()
    ny, nx = inp.shape
    ref = [a.copy() for a in (h, qx, qy)]
    vol = F.flood_step(*ref, inp.z, inp.manning_n, inp.blocked, 0.4, inp.dx, edge_kind=kind,
                       edge_level=level, **args)
    assert vol.infiltration_depth > 0 and vol.drainage_depth > 0
    sums, rates = [], []
    for r0, r1, c0, c1 in [(0, 23, 0, 37), (23, ny, 0, 37), (0, 23, 37, nx), (23, ny, 37, nx)]:
        state = [a.copy() for a in (h, qx, qy)]
        edges = F.edge_fluxes(*state[:1], inp.z, inp.manning_n, inp.blocked, *state[1:], kind, level,
                              0.4, inp.dx)
        sides = (r0 == 0, r1 == ny, c1 == nx, c0 == 0)
        step = F.tile_step(*state, inp.z, inp.manning_n, inp.blocked, 0.4, inp.dx,
                           edge_q=edges, window=(r0, r1, c0, c1), sides=sides, **args)
        for a, b in zip(state, ref):
            np.testing.assert_array_equal(a, b)
        assert step.h_max == state[0][r0:r1, c0:c1].max()
        sums.append(_applied(step))
        rates.append(step.outflow_rate)
    assert vol.boundary_in > 0 and vol.boundary_out > 0 and vol.outflow_rate > 0
    np.testing.assert_allclose(np.sum(sums, axis=0), _applied(vol), rtol=1e-12)
    assert max(rates) == vol.outflow_rate


def _applied(vol):
    """Rain, infiltration, drainage (m) and the volumes in and out per edge (m^3) of a step."""
    return np.array([vol.rain_depth, vol.infiltration_depth, vol.drainage_depth, *vol.edge_in,
                     *vol.edge_out])


def test_tile_step_takes_the_given_edge_discharges():
    """Held (given) edge discharges are written to the edge faces as they are."""
    inp, h, qx, qy, kind, level, args = _moving_state()
    ny, nx = inp.shape
    rng = np.random.default_rng(2)
    given = (rng.uniform(-0.01, 0.01, nx), rng.uniform(-0.01, 0.01, nx),
             rng.uniform(-0.01, 0.01, ny), rng.uniform(-0.01, 0.01, ny))
    F.tile_step(h, qx, qy, inp.z, inp.manning_n, inp.blocked, 0.4, inp.dx, edge_q=given,
                window=(0, ny, 0, nx), sides=(False,) * 4, **args)
    open_ns, open_ew = ~inp.blocked[0] & ~inp.blocked[-1], ~inp.blocked[:, 0] & ~inp.blocked[:, -1]
    # the limiter may scale an outgoing edge face down, never up or across zero
    for got, want in ((qy[0], given[0]), (qy[-1], given[1]), (qx[:, -1], given[2]), (qx[:, 0], given[3])):
        assert np.all(np.abs(got) <= np.abs(want)) and np.all(got * want >= 0)
    assert np.count_nonzero(qy[0][open_ns] == given[0][open_ns]) > nx // 2
    assert np.count_nonzero(qx[:, 0][open_ew] == given[3][open_ew]) > ny // 2


def test_tile_step_on_planes_of_a_larger_layout_equals_exact_arrays_bitwise():
    """With ``shape`` given, tile_step works on the leading rows and columns of larger
    C-contiguous planes (the extended layout of twin/hazards/flood/tiled.py: one spare row and column)
    exactly as on arrays of the state's own shape, and leaves the spare row and column alone."""
    inp, h, qx, qy, kind, level, args = _moving_state()
    ny, nx = inp.shape
    exact = [a.copy() for a in (h, qx, qy)]
    planes = np.full((3, ny + 1, nx + 1), 7.0)
    planes[0, :ny, :nx], planes[1, :ny, :], planes[2, :, :nx] = h, qx, qy
    edges = F.edge_fluxes(h, inp.z, inp.manning_n, inp.blocked, qx, qy, kind, level, 0.4, inp.dx)
    common = dict(edge_q=edges, window=(3, ny - 2, 4, nx - 5), sides=(True, False, True, False), **args)
    want = F.tile_step(*exact, inp.z, inp.manning_n, inp.blocked, 0.4, inp.dx, **common)
    got = F.tile_step(*planes, inp.z, inp.manning_n, inp.blocked, 0.4, inp.dx, shape=(ny, nx), **common)
    assert got == want
    np.testing.assert_array_equal(planes[0, :ny, :nx], exact[0])
    np.testing.assert_array_equal(planes[1, :ny, :], exact[1])
    np.testing.assert_array_equal(planes[2, :, :nx], exact[2])
    assert np.all(planes[0, ny] == 7.0) and np.all(planes[0, :, nx] == 7.0)
    assert np.all(planes[1, ny] == 7.0) and np.all(planes[2, :, nx] == 7.0)
    with pytest.raises(ValueError, match="does not fit"):
        F.tile_step(*planes, inp.z, inp.manning_n, inp.blocked, 0.4, inp.dx, shape=(ny + 1, nx), **common)
