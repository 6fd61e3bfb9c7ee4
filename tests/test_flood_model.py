"""Tests of the flood time loop (twin/hazards/flood/model.py): volume ledger, roof routing, records."""

import numpy as np
import pytest

from kernels.flood import FloodInstability
from twin.hazards.flood import bands
from twin.hazards.flood import model as M
from twin.hazards.flood.forcing import GriddedRain, Inflow, UniformRain
from twin.core.errors import InputError, RunError

MM_H = 1e-3 / 3600.0


def _city(ny=24, nx=30, seed=2):
    rng = np.random.default_rng(seed)
    z = rng.uniform(0, 0.2, (ny, nx)) + 0.02 * np.arange(nx)[::-1][None, :]
    blocked = np.zeros((ny, nx), bool)
    blocked[4:9, 6:12] = blocked[14:20, 16:22] = True
    domain = np.ones((ny, nx), bool)
    domain[:2, :4] = False
    return z, blocked, domain


def test_mass_balance_closed_domain():
    """Volume conservation: rain (on roofs routed), initial water and losses in a walled domain
    close the ledger to < 1e-9 relative, with every term in play."""
    z, blocked, domain = _city()
    h0 = np.where(blocked | ~domain, 0.0, 0.1)
    inp = M.FloodInputs(z=z, blocked=blocked, manning_n=0.03, dx=4.0, domain=domain, h0=h0,
                        rain=UniformRain([0, 600, 1200], [0, 80 * MM_H, 0]),
                        loss_rate=2 * MM_H, drainage_rate=np.where(z < 0.3, 5 * MM_H, 0.0))
    res = M.simulate_flood(inp, 1800.0, 600.0, None)
    led = res.ledger
    assert led.rain_in > 0 and led.infiltration > 0 and led.drainage > 0
    assert led.boundary_in == 0 and led.boundary_out == 0
    assert led.closure_relative < 1e-9
    assert res.final_depth.min() >= 0 and np.all(res.final_depth[blocked] == 0)


def test_mass_balance_open_domain():
    """Volume conservation with free and fixed-level edges, rain, a line inflow and losses:
    rain + inflow + boundary_in - boundary_out - losses = storage change, < 1e-9 relative."""
    z, blocked, domain = _city()
    inflow = Inflow("culvert", rows=[10, 11, 12], cols=[2, 2, 2], weights=[0.25, 0.5, 0.25],
                    times=[0, 900, 1800], discharge=[0.0, 3.0, 1.0])
    inp = M.FloodInputs(z=z, blocked=blocked, manning_n=0.035, dx=4.0, domain=domain,
                        rain=UniformRain([0, 1800], [40 * MM_H, 40 * MM_H]), inflows=(inflow,),
                        boundaries={"east": "free", "west": ([0, 1800], [0.9, 1.2]), "south": "free"},
                        loss_rate=1 * MM_H, drainage_rate=3 * MM_H)
    res = M.simulate_flood(inp, 1800.0, 900.0, 60.0, [(12, 20)])
    led = res.ledger
    assert led.inflow_in == pytest.approx(0.5 * 3 * 900 + 0.5 * 4 * 900, rel=1e-12)   # hydrograph area
    assert min(led.boundary_in, led.boundary_out, led.rain_in, led.infiltration, led.drainage) > 0
    assert led.closure_relative < 1e-9


def test_roof_rain_reaches_the_ground_and_outside_rain_is_not_counted():
    """Roof downpipes: uniform rain over a closed domain with buildings ends up, all of it, in
    the open cells (storage = rate x duration x area of the domain, roofs included); cells
    outside the domain receive and count nothing."""
    z, blocked, domain = _city()
    rate, duration, dx = 30 * MM_H, 600.0, 4.0
    inp = M.FloodInputs(z=np.zeros_like(z), blocked=blocked, manning_n=0.03, dx=dx, domain=domain,
                        rain=UniformRain([0, duration], [rate, rate]))
    res = M.simulate_flood(inp, duration, None, None)
    expected = rate * duration * domain.sum() * dx * dx
    assert res.ledger.rain_in == pytest.approx(expected, rel=1e-12)
    assert res.ledger.storage_final == pytest.approx(expected, rel=1e-12)
    assert np.all(res.final_depth[~domain] == 0) and np.all(res.final_depth[blocked] == 0)


def test_gridded_rain_is_piecewise_constant_and_counted_as_applied():
    """Gridded rain: rates[k] over [times[k], times[k+1]), zero after; the ledger equals the
    integral of the field over the domain, roofs included."""
    z, blocked, domain = _city()
    rng = np.random.default_rng(0)
    rates = rng.uniform(0, 50 * MM_H, (2,) + z.shape)
    times = np.array([0.0, 300.0, 500.0])
    inp = M.FloodInputs(z=z, blocked=blocked, manning_n=0.03, dx=4.0, domain=domain,
                        rain=GriddedRain(times, rates))
    res = M.simulate_flood(inp, 700.0, None, None)
    expected = ((rates[0] * 300 + rates[1] * 200) * domain).sum() * 16.0
    assert res.ledger.rain_in == pytest.approx(expected, rel=1e-12)
    assert res.ledger.closure_relative < 1e-9


def test_lake_at_rest_through_the_loop():
    """Well-balancedness through the time loop: a still lake over bumps and buildings, with
    fixed-level edges at the lake level, stays still for 1 h (max d v < 1e-10 m^2/s)."""
    z, blocked, domain = _city()
    z = z * 10
    h0 = np.where(blocked, 0.0, np.maximum(1.2 - z, 0.0))
    inp = M.FloodInputs(z=z, blocked=blocked, manning_n=0.03, dx=4.0, h0=h0,
                        boundaries={e: ([0.0], [1.2]) for e in ("north", "south", "east", "west")})
    res = M.simulate_flood(inp, 3600.0, None, None)
    assert res.max_unit_discharge.max() < 1e-10
    assert np.abs(res.final_depth - h0).max() < 1e-12


def test_records_agree_with_state_and_hazard_fields():
    """Bookkeeping: the last snapshot is the final depth, gauges read the snapshots, the
    maximum depth bounds every snapshot, arrival is NaN exactly where the wet threshold was never
    reached, and progress reaches the duration monotonically."""
    z, blocked, domain = _city()
    inp = M.FloodInputs(z=z, blocked=blocked, manning_n=0.03, dx=4.0, domain=domain,
                        rain=UniformRain([0, 1200], [100 * MM_H, 0.0]), boundaries={"west": "free"})
    seen = []
    res = M.simulate_flood(inp, 1200.0, 300.0, 300.0, [(20, 2), (5, 25)], wet_threshold_m=0.01,
                           progress=lambda t, d: seen.append((t, d)))
    np.testing.assert_array_equal(res.snapshot_times, [0, 300, 600, 900, 1200])
    np.testing.assert_array_equal(res.snapshots[-1], res.final_depth.astype(np.float32))
    np.testing.assert_array_equal(res.gauge_depth[:, -1], res.final_depth[[20, 5], [2, 25]])
    np.testing.assert_allclose(res.gauge_level - res.gauge_depth, z[[20, 5], [2, 25]][:, None] * np.ones((1, 5)))
    assert np.all(res.max_depth.astype(np.float32) >= res.snapshots.max(axis=0))   # float32 snapshots
    assert np.array_equal(np.isnan(res.arrival_time), res.max_depth < 0.01)
    assert np.all(res.wet_duration[np.isnan(res.arrival_time)] == 0)
    assert res.max_speed.max() > 0 and res.n_steps == len(seen)
    times = [t for t, _ in seen]
    assert times[-1] == 1200.0 and np.all(np.diff(times) > 0)


def test_instability_becomes_run_error_with_time_and_coordinates(monkeypatch):
    """Errors: a kernel FloodInstability reaches the caller as RunError naming the time and the
    cell's x/y coordinates."""
    z, blocked, domain = _city()

    def explode(*args, **kwargs):
        raise FloodInstability(12.5, 3, 7, float("nan"))

    monkeypatch.setattr(bands, "tile_step", explode)
    inp = M.FloodInputs(z=z, blocked=blocked, manning_n=0.03, dx=4.0,
                        x=1000.0 + 4.0 * np.arange(30) + 2, y=5000.0 - 4.0 * np.arange(24) - 2)
    with pytest.raises(RunError, match=r"t = 12\.500 s at x = 1030\.00 m, y = 4986\.00 m \(row 3, col 7\)"):
        M.simulate_flood(inp, 60.0, None, None)


def test_bad_inputs_are_input_errors():
    """Input checks: water on a building, an inflow on a building, a misspelt edge."""
    z, blocked, domain = _city()
    with pytest.raises(InputError, match="h0"):
        M.FloodInputs(z=z, blocked=blocked, manning_n=0.03, dx=4.0, h0=0.1)
    with pytest.raises(InputError, match="inflow"):
        M.FloodInputs(z=z, blocked=blocked, manning_n=0.03, dx=4.0,
                      inflows=(Inflow("x", [5], [7], [1.0], [0, 1], [1, 1]),))
    with pytest.raises(InputError, match="edge"):
        M.FloodInputs(z=z, blocked=blocked, manning_n=0.03, dx=4.0, boundaries={"nord": "free"})
