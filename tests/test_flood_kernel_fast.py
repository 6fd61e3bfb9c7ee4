"""Tests of the fast paths of the flood kernel (kernels/flood.py): the vectorizing reciprocal
cube root, the fused flux-and-depth sweep of flood_step, and SIMD/scalar consistency."""

import numpy as np
import pytest
from numba import njit

from kernels import flood as F


@njit   # not cached: a cache would keep an old kernels.flood.rcbrt inlined
def _rcbrt_all(x, out):
    for i in range(x.size):
        out[i] = F.rcbrt(x[i])


def test_rcbrt_is_within_two_ulp_over_the_normal_range():
    """Accuracy: the bit-guess + Newton reciprocal cube root is within 2 ulp (4.5e-16 relative)
    of x^(-1/3) computed in extended precision (np.longdouble), over random magnitudes
    1e-307..1e308, a dense sweep of one mantissa period [1, 8), the smallest and largest normal
    doubles, and depths of the flood range 1e-3..1e2 m."""
    rng = np.random.default_rng(0)
    x = np.concatenate([10.0 ** rng.uniform(-307.6, 308.2, 200_000),
                        np.linspace(1.0, 8.0, 100_001), 1e-3 * 1e5 ** rng.random(50_000),
                        [np.finfo(float).tiny, np.finfo(float).max, 1.0, 8.0, 27.0]])
    out = np.empty_like(x)
    _rcbrt_all(x, out)
    if np.finfo(np.longdouble).nmant > 52:
        ref = np.longdouble(1.0) / np.cbrt(x.astype(np.longdouble))
        rel = np.abs(out.astype(np.longdouble) / ref - 1)
    else:                                   # no extended precision: libm, itself within ~1 ulp
        rel = np.abs(out * np.cbrt(x) - 1.0)
    assert rel.max() <= 4.5e-16


def test_rcbrt_propagates_nan():
    """A NaN depth must stay NaN through the friction term (instability detection)."""
    out = np.empty(1)
    _rcbrt_all(np.array([np.nan]), out)
    assert np.isnan(out[0])


def _random_state(seed, ny, nx):
    rng = np.random.default_rng(seed)
    z = rng.uniform(0, 1, (ny, nx))
    blocked = rng.random((ny, nx)) < 0.15
    h = np.where(blocked, 0.0, rng.uniform(0, 0.6, (ny, nx)) * (rng.random((ny, nx)) < 0.7))
    n = rng.uniform(0.01, 0.08, (ny, nx))
    qx, qy = rng.normal(0, 0.2, (ny, nx + 1)), rng.normal(0, 0.2, (ny + 1, nx))
    w, f, d = (rng.uniform(0, 2, (ny, nx)), rng.uniform(0, 2e-3, (ny, nx)),
               rng.uniform(0, 2e-3, (ny, nx)))
    return z, blocked, h, n, qx, qy, w, f, d


@pytest.mark.parametrize("seed, ny, nx", [(1, 1, 1), (2, 7, 13), (3, 23, 37), (4, 40, 9)])
def test_fused_step_equals_the_three_stages_bitwise(seed, ny, nx):
    """Fusion: flood_step (momentum, limiter and continuity in one sweep) gives exactly the
    state and volumes of edge_fluxes + update_fluxes + update_depth run one after another."""
    z, blocked, h, n, qx, qy, w, f, d = _random_state(seed, ny, nx)
    kinds, levels = np.array([1, 2, 1, 2]), np.array([0.0, 1.2, 0.0, 0.8])
    dt, dx = F.stable_timestep(h.max(), 3.0), 3.0
    h1, qx1, qy1 = h.copy(), qx.copy(), qy.copy()
    vol = F.flood_step(h1, qx1, qy1, z, n, blocked, dt, dx, edge_kind=kinds, edge_level=levels,
                       rain_rate=2e-5, rain_weight=w, infiltration_rate=f, drainage_rate=d)
    edges = F.edge_fluxes(h, z, n, blocked, qx, qy, kinds, levels, dt, dx)
    F.update_fluxes(h, z, n, blocked, qx, qy, *edges, dt, dx)
    staged = F.update_depth(h, qx, qy, blocked, dt, dx, 2e-5, w, f, d)
    np.testing.assert_array_equal(qx1, qx)
    np.testing.assert_array_equal(qy1, qy)
    np.testing.assert_array_equal(h1, h)
    assert tuple(vol)[:4] + (vol.outflow_rate,) == staged
    # boundary volumes per edge (summed inside the sweep) against numpy over the final edge
    # faces, in the order north, south, east, west
    inward = [qy[0, :] * dt * dx, -qy[-1, :] * dt * dx, -qx[:, -1] * dt * dx, qx[:, 0] * dt * dx]
    np.testing.assert_allclose(vol.edge_in, [np.clip(v, 0, None).sum() for v in inward],
                               rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(vol.edge_out, [np.clip(-v, 0, None).sum() for v in inward],
                               rtol=1e-13, atol=1e-300)
    assert vol.boundary_in == pytest.approx(sum(vol.edge_in), rel=1e-15)
    assert vol.boundary_out == pytest.approx(sum(vol.edge_out), rel=1e-15)


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_outflow_rate_is_the_largest_net_outflow_share_per_second_of_a_shallow_cell(seed):
    """Step control input: flood_step's outflow_rate is, over the watched open cells shallower
    than SHALLOW_DEPTH at the start of the step, the depth lost to flow net of rain,
    max(0, -(dt div q / dx + dt r w)), over max(h, OUTFLOW_DEPTH_FLOOR), per second (numpy with
    the step's final discharges); cells left out of ``watched`` (here the fastest) do not
    count."""
    ny, nx, dx, dt, rain = 21, 34, 3.0, 0.7, 1e-5
    z, blocked, h, n, qx, qy, w, f, d = _random_state(seed, ny, nx)
    h = np.where(blocked, 0.0, h / 6.0)                      # 0-10 cm, many cells watched
    h[5, 5:9] = np.where(blocked[5, 5:9], 0.0, 2.0)         # deep cells, not watched
    rates, watched = {}, None
    for name in ("all", "not the fastest"):
        h0, qx1, qy1 = h.copy(), qx.copy(), qy.copy()
        vol = F.flood_step(h0, qx1, qy1, z, n, blocked, dt, dx, edge_kind=np.array([1, 1, 0, 0]),
                           edge_level=np.zeros(4), rain_rate=rain, rain_weight=w,
                           infiltration_rate=f, drainage_rate=d, watched=watched)
        loss = -(dt / dx * (qx1[:, :-1] - qx1[:, 1:] + qy1[:-1] - qy1[1:]) + rain * dt * w)
        share = np.maximum(loss, 0.0) / np.maximum(h, F.OUTFLOW_DEPTH_FLOOR)
        mask = ~blocked & (h < F.SHALLOW_DEPTH) & (True if watched is None else watched)
        assert vol.outflow_rate == pytest.approx(share[mask].max() / dt, rel=1e-12)
        rates[name] = vol.outflow_rate
        watched = ~(mask & (share >= share[mask].max()))     # leave out the fastest cells
    assert rates["all"] > rates["not the fastest"] > 0


@pytest.mark.parametrize("depth, watched", [(0.05, True), (0.5, False)])
def test_outflow_rate_ignores_deep_cells(depth, watched):
    """A column of water on a flat dry bed spreads (the dry cells around it gain): shallow
    (5 cm) it sets the outflow rate, deep (0.5 m, a river or a pond, left to the Courant step)
    it does not."""
    z, n, blocked, qx, qy = np.zeros((9, 9)), np.full((9, 9), 0.03), np.zeros((9, 9), bool), \
        np.zeros((9, 10)), np.zeros((10, 9))
    h = np.zeros((9, 9))
    h[4, 4] = depth
    zero = np.zeros((9, 9))
    rate = F.flood_step(h, qx, qy, z, n, blocked, 0.5, 5.0, edge_kind=np.zeros(4, int),
                        edge_level=np.zeros(4), rain_rate=0.0, rain_weight=zero,
                        infiltration_rate=zero, drainage_rate=zero).outflow_rate
    assert h[4, 4] < depth
    assert (rate > 0) == watched


def test_uniform_fields_given_as_broadcasts_equal_full_arrays_bitwise():
    """Uniform fields: Manning n, rain weight and loss rates given as zero-stride broadcasts
    (read by the sweep as one contiguous row, so that its loops vectorize) give exactly the
    state and volumes of the same values as full arrays, in flood_step and tile_step."""
    ny, nx, dx, dt = 17, 29, 2.0, 0.2
    z, blocked, h0, _, qx0, qy0, _, _, _ = _random_state(6, ny, nx)
    uniform = {"n": 0.035, "rain_weight": 1.0, "infiltration_rate": 1e-4, "drainage_rate": 3e-4}
    full = {k: np.full((ny, nx), v) for k, v in uniform.items()}
    views = {k: np.broadcast_to(np.float64(v), (ny, nx)) for k, v in uniform.items()}
    assert F._as_rows(views["n"]).shape == (1, nx) and F._as_rows(views["n"]).flags.c_contiguous
    kinds, levels = np.array([1, 2, 0, 1]), np.array([0.0, 1.1, 0.0, 0.0])
    results = []
    for fields in (full, views):
        h, qx, qy = h0.copy(), qx0.copy(), qy0.copy()
        sums = []
        for _ in range(5):
            sums.append(F.flood_step(h, qx, qy, z, fields["n"], blocked, dt, dx, edge_kind=kinds,
                                     edge_level=levels, rain_rate=1e-5,
                                     rain_weight=fields["rain_weight"],
                                     infiltration_rate=fields["infiltration_rate"],
                                     drainage_rate=fields["drainage_rate"]))
        held = (qy[0].copy(), qy[-1].copy(), qx[:, -1].copy(), qx[:, 0].copy())
        sums.append(F.tile_step(h, qx, qy, z, fields["n"], blocked, dt, dx, edge_q=held,
                                window=(2, ny - 3, 4, nx - 5), sides=(True, False, True, False),
                                rain_rate=1e-5, rain_weight=fields["rain_weight"],
                                infiltration_rate=fields["infiltration_rate"],
                                drainage_rate=fields["drainage_rate"]))
        results.append((h, qx, qy, sums))
    (h1, qx1, qy1, s1), (h2, qx2, qy2, s2) = results
    assert h1.max() > 0 and s1[0].infiltration_depth > 0
    np.testing.assert_array_equal(h2, h1)
    np.testing.assert_array_equal(qx2, qx1)
    np.testing.assert_array_equal(qy2, qy1)
    assert s2 == s1


def test_results_do_not_depend_on_column_alignment():
    """SIMD consistency: shifting the grid east by 1..9 columns of blocked cells (so each
    cell falls in a different SIMD lane or in the scalar remainder loop) leaves the solution
    bitwise unchanged after 30 steps."""
    ny, nx, dx = 9, 21, 2.0
    z, blocked, h0, n, _, _, w, f, d = _random_state(5, ny, nx)

    def solve(pad):
        def pz(a, v):
            return np.hstack([np.full((ny, pad), v, a.dtype), a])

        zz, bb, nn, h = pz(z, 0.0), pz(blocked, True), pz(n, 0.03), pz(h0, 0.0)
        ww, ff, dd = pz(w, 0.0), pz(f, 0.0), pz(d, 0.0)
        qx, qy = np.zeros((ny, nx + pad + 1)), np.zeros((ny + 1, nx + pad))
        for _ in range(30):
            F.flood_step(h, qx, qy, zz, nn, bb, 0.3, dx, edge_kind=np.zeros(4, int),
                         edge_level=np.zeros(4), rain_rate=1e-5, rain_weight=ww,
                         infiltration_rate=ff, drainage_rate=dd)
        return h[:, pad:]

    base = solve(0)
    assert base.max() > 0
    for pad in range(1, 10):
        np.testing.assert_array_equal(solve(pad), base)


@pytest.mark.parametrize("bad", [-1e-6, np.inf, -np.inf])
def test_update_depth_reports_the_first_negative_or_infinite_cell(bad):
    """Instability detection in the vectorized continuity pass: an over-drained (negative
    beyond round-off) or infinite depth raises FloodInstability naming that cell, even when
    it sits in a SIMD lane after other valid cells of its row."""
    ny, nx, dx, dt = 4, 19, 1.0, 1.0
    h = np.full((ny, nx), 0.5)
    qx, qy = np.zeros((ny, nx + 1)), np.zeros((ny + 1, nx))
    qx[2, 14] = 0.5 - bad if np.isfinite(bad) else -bad    # east face of cell (2, 13)
    zero = np.zeros((ny, nx))
    with pytest.raises(F.FloodInstability) as info:
        F.update_depth(h, qx, qy, np.zeros((ny, nx), bool), dt, dx, 0.0, zero, zero, zero,
                       t_end=7.0)
    assert (info.value.row, info.value.col) == (2, 13)
    assert info.value.time_s == 7.0
