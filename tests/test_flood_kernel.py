"""Physics and equivalence tests of the local inertial flood kernel (kernels/flood.py)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from kernels import flood as F

G = 9.80665


# ---------------------------------------------------------------------------------------------
# Plain-numpy reference of one step, written independently of the numba kernel (same
# conventions: qx (ny, nx+1) positive east, qy (ny+1, nx) positive towards increasing row).

def _inertial(q, q_up, q_down, q_perp, eta0, eta1, zmax, n_f, dt, dx, theta, h_min):
    """Bates et al. (2010) eq. 11 with de Almeida et al. (2012) theta, vectorised over faces."""
    hf = np.maximum(eta0, eta1) - zmax
    wet = hf > h_min
    hs = np.where(wet, hf, 1.0)
    num = theta * q + 0.5 * (1 - theta) * (q_up + q_down) - G * hs * dt * (eta1 - eta0) / dx
    den = 1 + G * dt * n_f ** 2 * np.hypot(q, q_perp) / hs ** (7 / 3)
    return np.where(wet, num / den, 0.0)


def reference_step(h, qx, qy, z, n, blocked, dt, dx, theta, h_min, rain, w, f, d, edges):
    """One step on copies; ``edges`` = (q_north, q_south, q_east, q_west) new edge values."""
    h, qx, qy = h.copy(), qx.copy(), qy.copy()
    eta = z + h
    qyc = 0.25 * (qy[:-1, :-1] + qy[:-1, 1:] + qy[1:, :-1] + qy[1:, 1:])
    new_x = _inertial(qx[:, 1:-1], qx[:, :-2], qx[:, 2:], qyc, eta[:, :-1], eta[:, 1:],
                      np.maximum(z[:, :-1], z[:, 1:]), 0.5 * (n[:, :-1] + n[:, 1:]),
                      dt, dx, theta, h_min)
    new_x[blocked[:, :-1] | blocked[:, 1:]] = 0.0
    qxc = 0.25 * (qx[:-1, :-1] + qx[:-1, 1:] + qx[1:, :-1] + qx[1:, 1:])
    new_y = _inertial(qy[1:-1, :], qy[:-2, :], qy[2:, :], qxc, eta[:-1, :], eta[1:, :],
                      np.maximum(z[:-1, :], z[1:, :]), 0.5 * (n[:-1, :] + n[1:, :]),
                      dt, dx, theta, h_min)
    new_y[blocked[:-1, :] | blocked[1:, :]] = 0.0
    qx[:, 1:-1] = new_x
    qy[1:-1, :] = new_y
    qy[0, :], qy[-1, :], qx[:, -1], qx[:, 0] = edges
    out = (np.maximum(-qx[:, :-1], 0) + np.maximum(qx[:, 1:], 0)
           + np.maximum(-qy[:-1, :], 0) + np.maximum(qy[1:, :], 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        fac = np.where((out * dt > h * dx) & ~blocked, h * dx / (out * dt), 1.0)
    qx[:, :-1] = np.where(qx[:, :-1] < 0, qx[:, :-1] * fac, qx[:, :-1])
    qx[:, 1:] = np.where(qx[:, 1:] > 0, qx[:, 1:] * fac, qx[:, 1:])
    qy[:-1, :] = np.where(qy[:-1, :] < 0, qy[:-1, :] * fac, qy[:-1, :])
    qy[1:, :] = np.where(qy[1:, :] > 0, qy[1:, :] * fac, qy[1:, :])
    hn = h + dt / dx * (qx[:, :-1] - qx[:, 1:] + qy[:-1, :] - qy[1:, :]) + rain * dt * w
    hn = np.maximum(hn, 0.0)
    cap = (f + d) * dt
    hn = np.where(cap <= hn, hn - cap, 0.0)
    return np.where(blocked, h, hn), qx, qy


# ---------------------------------------------------------------------------------------------
# helpers

def _grid(ny, nx, z=None, n=0.03, blocked=None):
    z = np.zeros((ny, nx)) if z is None else z
    blocked = np.zeros((ny, nx), bool) if blocked is None else blocked
    return z, np.full((ny, nx), n), blocked, np.zeros((ny, nx + 1)), np.zeros((ny + 1, nx))


def _run(h, qx, qy, z, n, blocked, dx, steps=None, until=None, kinds=(0, 0, 0, 0), levels=(0, 0, 0, 0),
         theta=0.8, alpha=F.ALPHA, rain=0.0, each=None):
    """Drive flood_step with the stable step and each step's weighting (as the time loops do);
    return total boundary in/out (m^3)."""
    zero = np.zeros_like(h)
    w = np.ones_like(h)
    t, h_max, b_in, b_out, k = 0.0, h.max(), 0.0, 0.0, 0
    while (steps is not None and k < steps) or (until is not None and t < until):
        dt = F.stable_timestep(h_max, dx, alpha)
        if until is not None:
            dt = min(dt, until - t)
        theta_step = F.step_weighting(theta, dt, h_max, dx)
        t += dt
        if each is not None:
            each(t, h)
        v = F.flood_step(h, qx, qy, z, n, blocked, dt, dx, edge_kind=np.array(kinds),
                         edge_level=np.array(levels, float), rain_rate=rain, rain_weight=w,
                         infiltration_rate=zero, drainage_rate=zero, theta=theta_step, t_end=t)
        h_max, b_in, b_out, k = v.h_max, b_in + v.boundary_in, b_out + v.boundary_out, k + 1
    return b_in, b_out


# ---------------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), ny=st.integers(1, 9), nx=st.integers(1, 9),
       theta=st.floats(0.5, 1.0))
def test_numba_step_equals_numpy_reference(seed, ny, nx, theta):
    """Equivalence: the fused numba momentum/limiter/continuity pass equals the plain numpy
    reference of Bates et al. (2010) eq. 11 + de Almeida et al. (2012) theta on random grids."""
    rng = np.random.default_rng(seed)
    dx = rng.uniform(1, 10)
    z = rng.uniform(0, 1, (ny, nx))
    blocked = rng.random((ny, nx)) < 0.2
    h = rng.uniform(0, 0.5, (ny, nx)) * (rng.random((ny, nx)) < 0.8) * ~blocked
    n = rng.uniform(0.01, 0.1, (ny, nx))
    qx = rng.normal(0, 0.3, (ny, nx + 1))
    qy = rng.normal(0, 0.3, (ny + 1, nx))
    dt = F.stable_timestep(h.max(), dx, 0.7)
    edges = (rng.normal(0, .1, nx), rng.normal(0, .1, nx), rng.normal(0, .1, ny), rng.normal(0, .1, ny))
    w, f, d = rng.uniform(0, 2, (ny, nx)), rng.uniform(0, 1e-3, (ny, nx)), rng.uniform(0, 1e-3, (ny, nx))
    h_ref, qx_ref, qy_ref = reference_step(h, qx, qy, z, n, blocked, dt, dx, theta, 1e-3, 1e-4, w, f, d, edges)
    F.update_fluxes(h, z, n, blocked, qx, qy, *edges, dt, dx, theta, 1e-3)
    F.update_depth(h, qx, qy, blocked, dt, dx, 1e-4, w, f, d)
    np.testing.assert_allclose(qx, qx_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(qy, qy_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h, h_ref, rtol=1e-12, atol=1e-14)


def test_lake_at_rest_over_bumpy_terrain_with_buildings():
    """Well-balancedness: still water at one level over bumps and buildings stays still for 1 h
    (max |q| < 1e-10 m^2/s), with islands of dry ground above the level. The edges hold the
    level or are walls: a free edge is a normal-depth boundary (docs/flood_numerics.md), which
    drains water where the bed falls towards it, as these random bumps do at half the edge cells
    (tests/test_flood_stability.py checks that a level pool on a flat bed stays still there)."""
    rng = np.random.default_rng(3)
    ny, nx, dx = 30, 40, 5.0
    z = rng.uniform(0, 2.0, (ny, nx))
    blocked = np.zeros((ny, nx), bool)
    blocked[5:10, 5:12] = blocked[18:25, 20:26] = True
    z, n, blocked, qx, qy = _grid(ny, nx, z, 0.03, blocked)
    h = np.where(blocked, 0.0, np.maximum(1.5 - z, 0.0))
    assert (h == 0).sum() > blocked.sum()          # some dry ground pokes out
    worst = []
    _run(h, qx, qy, z, n, blocked, dx, until=3600.0, kinds=(2, 0, 2, 0), levels=(1.5, 0, 1.5, 0),
         each=lambda t, hh: worst.append(max(np.abs(qx).max(), np.abs(qy).max())))
    worst.append(max(np.abs(qx).max(), np.abs(qy).max()))
    assert max(worst) < 1e-10
    assert np.all(h[blocked] == 0)


def test_wetting_front_matches_hunter_analytic_solution(capsys):
    """Analytic wetting front over a flat frictional plane (Hunter et al. 2005; de Almeida &
    Bates 2012): with h(0, t) = (7/3 n^2 u^3 t)^(3/7) held upstream, the front moves at u and
    h(x, t) = [(7/3) n^2 u^2 (u t - x)]^(3/7). u = 0.2 m/s, n = 0.05, dx = 5 m, t = 3600 s."""
    u, nm, dx, t_end = 0.2, 0.05, 5.0, 3600.0
    ny, nx = 3, 180
    z, n, blocked, qx, qy = _grid(ny, nx, n=nm)
    h = np.zeros((ny, nx))

    def hold(t, hh):
        hh[:, 0] = (7 / 3 * nm ** 2 * u ** 3 * t) ** (3 / 7)

    _run(h, qx, qy, z, n, blocked, dx, until=t_end, each=hold)
    x = dx * np.arange(nx)
    exact = np.where(x <= u * t_end, (7 / 3 * nm ** 2 * u ** 2 * np.maximum(u * t_end - x, 0)) ** (3 / 7), 0.0)
    reach = exact > 0
    model = h[1]
    rmse = np.sqrt(np.mean((model[reach] - exact[reach]) ** 2))
    front_model = x[model > F.H_MIN].max()
    with capsys.disabled():
        print(f"\nwetting front: RMSE {rmse:.4f} m = {100 * rmse / exact.max():.2f} % of max depth "
              f"{exact.max():.3f} m; front {front_model:.0f} m vs {u * t_end:.0f} m")
    np.testing.assert_allclose(h[0], h[1], rtol=1e-12)    # closed side walls keep it 1-D
    assert rmse <= 0.02 * exact.max()
    assert abs(front_model - u * t_end) <= 3 * dx


@pytest.mark.parametrize("kinds", [(0, 0, 0, 0), (1, 1, 1, 1)])
def test_mirror_and_transpose_symmetry(kinds):
    """Symmetry: mirroring the setup east-west or transposing it mirrors/transposes the
    solution to round-off (no directional bias in the face sweeps)."""
    rng = np.random.default_rng(7)
    ny, nx, dx = 12, 15, 4.0
    z = rng.uniform(0, 0.5, (ny, nx))
    blocked = rng.random((ny, nx)) < 0.1
    h0 = np.where(blocked, 0.0, rng.uniform(0, 1.0, (ny, nx)))

    def solve(z, blocked, h0, kinds):
        zz, n, bb, qx, qy = _grid(*z.shape, z, 0.04, blocked)
        h = h0.copy()
        _run(h, qx, qy, zz, n, bb, dx, steps=60, kinds=kinds)
        return h

    base = solve(z, blocked, h0, kinds)
    mirrored = solve(z[:, ::-1], blocked[:, ::-1], h0[:, ::-1], kinds)
    np.testing.assert_allclose(mirrored[:, ::-1], base, rtol=0, atol=1e-12)
    transposed = solve(z.T.copy(), blocked.T.copy(), h0.T.copy(), (kinds[3], kinds[2], kinds[1], kinds[0]))
    np.testing.assert_allclose(transposed.T, base, rtol=0, atol=1e-12)


def test_buildings_stay_dry_and_water_goes_around():
    """Obstacles: a building across the middle of a channel fed from a fixed level stays dry,
    and water reaches the cells behind it by flowing around it."""
    ny, nx, dx = 11, 30, 2.0
    blocked = np.zeros((ny, nx), bool)
    blocked[3:8, 12:16] = True
    z, n, blocked, qx, qy = _grid(ny, nx, 0.001 * np.arange(nx)[::-1] * np.ones((ny, 1)), 0.03, blocked)
    h = np.zeros((ny, nx))
    _run(h, qx, qy, z, n, blocked, dx, until=600.0, kinds=(0, 0, 1, 2), levels=(0, 0, 0, 0.5))
    assert np.all(h[blocked] == 0)
    assert np.all(qx[3:8, 13:16] == 0) and np.all(qy[4:8, 12:16] == 0)
    assert h[5, 17] > 0.05            # the lee of the building is wet
    assert h[1, 14] > h[5, 17] * 0.5  # through the gaps beside it


def test_dam_break_steep_slope_and_wet_dry_front_stay_finite_and_non_negative():
    """Robustness: a 3 m dam break among buildings, a 30 % slope and a wet/dry front keep the
    state finite and non-negative and conserve volume in a closed box."""
    rng = np.random.default_rng(11)
    ny, nx, dx = 40, 40, 2.0
    blocked = rng.random((ny, nx)) < 0.08
    for z in (np.zeros((ny, nx)), 0.3 * dx * np.arange(nx)[None, :] * np.ones((ny, 1))):
        z, n, bl, qx, qy = _grid(ny, nx, z, 0.02, blocked)
        h = np.where(bl, 0.0, np.where(np.arange(nx)[None, :] > 30, 3.0, 0.0) * np.ones((ny, 1)))
        v0 = h.sum()
        checks = []
        _run(h, qx, qy, z, n, bl, dx, steps=400, each=lambda t, hh: checks.append(
            np.isfinite(hh).all() and hh.min() >= 0))
        assert all(checks) and np.isfinite(h).all() and h.min() >= 0
        assert abs(h.sum() - v0) <= 1e-12 * v0
        assert np.all(h[bl] == 0)


def test_non_finite_state_raises_with_time_and_cell():
    """Instability detection: a NaN depth is reported as FloodInstability naming the step's end
    time and the cell (the first bad cell in row-major order, next to the poisoned one)."""
    z, n, blocked, qx, qy = _grid(8, 8)
    h = np.full((8, 8), 0.5)
    h[4, 5] = np.nan
    zero = np.zeros((8, 8))
    with pytest.raises(F.FloodInstability) as info:
        F.flood_step(h, qx, qy, z, n, blocked, 0.5, 1.0, edge_kind=np.zeros(4, int),
                     edge_level=np.zeros(4), rain_rate=0.0, rain_weight=zero,
                     infiltration_rate=zero, drainage_rate=zero, t_end=12.5)
    err = info.value
    assert err.time_s == 12.5
    assert abs(err.row - 4) + abs(err.col - 5) <= 1
    assert "12.500 s" in str(err) and f"row {err.row}, col {err.col}" in str(err)


def test_tile_with_halo_matches_whole_grid():
    """Domain decomposition: the interior stages on a tile plus a halo of 2K cells (the valid
    region shrinks by two cells per step: neighbour faces, then the outflow limiter), advanced K
    steps with the same dt, equal the whole-grid run on the tile's core exactly."""
    rng = np.random.default_rng(5)
    ny, nx, dx, K, dt = 30, 34, 3.0, 3, 0.4
    H = 2 * K
    z = rng.uniform(0, 0.4, (ny, nx))
    blocked = rng.random((ny, nx)) < 0.1
    h = np.where(blocked, 0.0, rng.uniform(0, 1.0, (ny, nx)) * (rng.random((ny, nx)) < 0.7))
    n = np.full((ny, nx), 0.03)
    qx, qy = rng.normal(0, 0.3, (ny, nx + 1)), rng.normal(0, 0.3, (ny + 1, nx))
    r0, r1, c0, c1 = 12, 20, 14, 22                       # the tile's core
    hs = (slice(r0 - H, r1 + H), slice(c0 - H, c1 + H))
    th = h[hs].copy()
    tqx = qx[r0 - H:r1 + H, c0 - H:c1 + H + 1].copy()
    tqy = qy[r0 - H:r1 + H + 1, c0 - H:c1 + H].copy()
    zero = np.zeros((ny, nx))
    for _ in range(K):
        F.flood_step(h, qx, qy, z, n, blocked, dt, dx, edge_kind=np.zeros(4, int), edge_level=np.zeros(4),
                     rain_rate=1e-5, rain_weight=np.ones((ny, nx)), infiltration_rate=zero, drainage_rate=zero)
        F.update_fluxes(th, z[hs], n[hs], blocked[hs], tqx, tqy, tqy[0].copy(), tqy[-1].copy(),
                        tqx[:, -1].copy(), tqx[:, 0].copy(), dt, dx)
        F.update_depth(th, tqx, tqy, blocked[hs], dt, dx, 1e-5, np.ones_like(th), zero[hs], zero[hs])
    np.testing.assert_array_equal(th[H:-H, H:-H], h[r0:r1, c0:c1])
