"""The fire time model: vegetation and urban spread, firebreaks, wind series, spotting, outputs."""

import math

import numpy as np
import pytest

from kernels.fire import backing_rate, hamada_spread_rates, length_to_breadth, surface_spread_rate
from twin.core.classes import FIRE_RESISTANT_SHARE_BY_USE, LANDCOVER
from twin.core.errors import InputError
from twin.hazards.fire.model import (DEFAULT_WIND_ADJUSTMENT, FireInputs, SpottingOptions, _hamada_inputs,
                             simulate_fire)

DX = 5.0
MOIST = (0.06, 0.07, 0.08, 0.6, 0.9)
GRASS = 102


def _inputs(ny, nx, **changes):
    """Flat grass field with no buildings, westerly 4 m/s wind, one ignition at the centre."""
    base = dict(
        fuel_model=np.full((ny, nx), GRASS, np.int16), elevation=np.zeros((ny, nx)),
        building_id=np.zeros((ny, nx), np.int32), building_use=np.zeros((ny, nx), np.int8),
        building_height=np.zeros((ny, nx)), landcover=np.full((ny, nx), LANDCOVER["grass"], np.int8),
        dx=DX, wind_speed=4.0, wind_from_deg=270.0, moisture=MOIST, ignitions=[(ny // 2, nx // 2, 0.0)])
    base.update(changes)
    return FireInputs(**base)


def _city(ny, nx, side=4, gap=1, rows=slice(None), cols=slice(None), use=1):
    """Regular lattice of square buildings (side and gap in cells) inside rows x cols."""
    bid = np.zeros((ny, nx), np.int32)
    period = side + gap
    k = 0
    r_idx, c_idx = np.arange(ny)[rows], np.arange(nx)[cols]
    for r0 in range(r_idx[0], r_idx[-1] - side + 2, period):
        for c0 in range(c_idx[0], c_idx[-1] - side + 2, period):
            k += 1
            bid[r0:r0 + side, c0:c0 + side] = k
    lc = np.full((ny, nx), LANDCOVER["road"], np.int8)
    lc[bid > 0] = LANDCOVER["building"]
    return bid, np.where(bid > 0, use, 0).astype(np.int8), lc, np.full((ny, nx), 91, np.int16)


def test_grass_head_fire_runs_at_the_rothermel_rate():
    """Downwind arrival time across a flat grass field matches the kernel's head rate (3 %)."""
    res = simulate_fire(_inputs(41, 121), 3600.0, 600.0)
    head = float(surface_spread_rate(GRASS, MOIST, 4.0 * DEFAULT_WIND_ADJUSTMENT, 0.0))
    assert res.rate_of_spread[20, 60] == pytest.approx(head, rel=1e-12)
    dist = 50 * DX
    assert res.arrival_time[20, 110] == pytest.approx(dist / head, rel=0.03)
    # upwind the fire backs at the ellipse's backing rate (effective wind = mid-flame wind here)
    back = float(backing_rate(head, length_to_breadth(4.0 * DEFAULT_WIND_ADJUSTMENT)))
    assert res.arrival_time[20, 50] == pytest.approx(10 * DX / back, rel=0.03)


def test_fire_runs_faster_upslope():
    """No wind, a 30 % slope rising to the north: upslope spread at the slope-factor rate (5 %)."""
    ny, nx = 121, 41
    rows = np.indices((ny, nx))[0]
    slope = 0.3
    elevation = slope * DX * (ny - 1 - rows).astype(float)
    res = simulate_fire(_inputs(ny, nx, elevation=elevation, wind_speed=0.0), 7200.0, 1800.0)
    head = float(surface_spread_rate(GRASS, MOIST, 0.0, slope))
    surface_dist = 40 * DX * math.sqrt(1 + slope**2)
    assert res.arrival_time[20, 20] == pytest.approx(surface_dist / head, rel=0.05)
    up, down = np.count_nonzero(res.burned[:60, 20]), np.count_nonzero(res.burned[61:, 20])
    assert up > 2 * down > 0


def test_hamada_block_parameters_on_a_regular_lattice():
    """a = building side, d = gap, f = residential share inside a regular lattice (exact layout)."""
    ny = nx = 80
    bid, use, _, _ = _city(ny, nx, side=4, gap=1)
    a, d, f = _hamada_inputs(bid, use, DX, 15 * DX)     # window of 15 cells = 3 lattice periods
    core = (slice(30, 50), slice(30, 50))
    np.testing.assert_allclose(a[core], 4 * DX, rtol=1e-9)
    np.testing.assert_allclose(d[core], 1 * DX, rtol=1e-9)
    np.testing.assert_allclose(f[core], FIRE_RESISTANT_SHARE_BY_USE["residential"], rtol=1e-12)


def test_urban_fire_runs_at_hamada_downwind_speed():
    """Through a uniform city, the downwind front speed is Hamada's downwind speed (5 %)."""
    ny, nx = 48, 160
    bid, use, lc, fuel = _city(ny, nx, side=4, gap=1)
    inp = _inputs(ny, nx, fuel_model=fuel, building_id=bid, building_use=use, landcover=lc,
                  hamada_window_m=15 * DX, ignitions=[(24, 20, 0.0)], wind_speed=6.0)
    res = simulate_fire(inp, 4 * 3600.0, 1800.0)
    v_down = float(hamada_spread_rates(4 * DX, DX, FIRE_RESISTANT_SHARE_BY_USE["residential"], 6.0)[0])
    speed = 100 * DX / (res.arrival_time[24, 130] - res.arrival_time[24, 30])
    assert speed == pytest.approx(v_down, rel=0.05)
    assert np.isnan(res.fireline_intensity[bid > 0]).all()


def test_wide_road_without_buildings_is_a_firebreak():
    """A 40 m boulevard with no buildings near stops the urban fire; 5 m streets do not."""
    ny, nx = 40, 90
    bid, use, lc, fuel = _city(ny, nx)
    bid[:, 40:48] = 0
    use[:, 40:48] = 0
    lc[:, 40:48] = LANDCOVER["road"]
    inp = _inputs(ny, nx, fuel_model=fuel, building_id=bid, building_use=use, landcover=lc,
                  hamada_window_m=15 * DX, ignitions=[(20, 10, 0.0)], wind_speed=8.0)
    res = simulate_fire(inp, 12 * 3600.0, 3600.0)
    assert res.burned[:, :40][bid[:, :40] > 0].all()
    assert not res.burned[:, 44:].any()


def _river_inputs(width_cells, **changes):
    ny, nx = 40, 100
    fuel = np.full((ny, nx), GRASS, np.int16)
    lc = np.full((ny, nx), LANDCOVER["grass"], np.int8)
    fuel[:, 50:50 + width_cells] = 98
    lc[:, 50:50 + width_cells] = LANDCOVER["water"]
    return _inputs(ny, nx, fuel_model=fuel, landcover=lc, ignitions=[(20, 10, 0.0)], wind_speed=6.0, **changes)


def test_river_wider_than_spotting_distance_is_a_firebreak():
    """Brands landing at most ~2x the 10 m median cannot cross a 60 m river; a 5 m one they do."""
    spot = SpottingOptions(brands_per_cell=2.0, median_distance_m=10.0, sigma_log=0.3,
                           lateral_sd_deg=10.0, ignition_probability=0.5, delay_s=60.0, min_intensity_w_m=0.0)
    wide = simulate_fire(_river_inputs(12, spotting=spot), 3600.0, 600.0, rng=np.random.default_rng(3))
    assert wide.burned[:, :50].sum() > 0.9 * 40 * 50
    assert not wide.burned[:, 62:].any()
    no_spot = simulate_fire(_river_inputs(1), 3600.0, 600.0)
    assert not no_spot.burned[:, 51:].any()
    narrow = simulate_fire(_river_inputs(1, spotting=spot), 3600.0, 600.0, rng=np.random.default_rng(3))
    assert narrow.burned[:, 51:].any() and narrow.spot_fires > 0


def test_spotting_is_reproducible_with_the_same_seed():
    """Same seed, same result; the Generator is the only source of randomness."""
    spot = SpottingOptions(brands_per_cell=0.3, median_distance_m=15.0, min_intensity_w_m=0.0)
    a, b = (simulate_fire(_river_inputs(2, spotting=spot), 1800.0, 600.0, rng=np.random.default_rng(5))
            for _ in range(2))
    np.testing.assert_array_equal(a.arrival_time, b.arrival_time)


def test_wind_series_restart_costs_at_most_one_edge():
    """A 'series' of two equal winds equals the constant wind, late by at most one stencil edge."""
    const = simulate_fire(_inputs(41, 121), 1800.0, 300.0)
    series = simulate_fire(_inputs(41, 121, wind_speed=[4.0, 4.0], wind_from_deg=[270.0, 270.0],
                                   wind_times_s=[0.0, 300.0]), 1800.0, 300.0)
    both = const.burned & series.burned
    lag = series.arrival_time[both] - const.arrival_time[both]
    slowest = np.min(np.where(const.rate_of_spread > 0, const.rate_of_spread, np.inf))
    back = float(slowest) * 0.05                 # generous lower bound of the backing rate (LB < 3)
    assert lag.min() >= -1e-9
    assert lag.max() <= math.sqrt(13) * DX / back
    assert np.array_equal(const.arrival_time <= 300.0, series.arrival_time <= 300.0)


def test_wind_shift_turns_the_head():
    """A westerly turning southerly at 10 min drives the fire north afterwards."""
    steady = simulate_fire(_inputs(101, 101), 1500.0, 300.0)
    shifted = simulate_fire(_inputs(101, 101, wind_speed=[4.0, 4.0], wind_from_deg=[270.0, 180.0],
                                    wind_times_s=[0.0, 600.0]), 1500.0, 300.0)
    north = lambda r: np.count_nonzero(r.burned[:40])       # noqa: E731 - local helper
    assert north(shifted) > north(steady)
    np.testing.assert_array_equal(shifted.arrival_time <= 600.0, steady.arrival_time <= 600.0)


def test_outputs_are_consistent():
    """NaN arrival outside the burned area, snapshots nested, building times = footprint minimum."""
    ny, nx = 40, 80
    bid, use, lc, fuel = _city(ny, nx, cols=slice(40, 80))
    fuel[:, :40] = GRASS
    lc[:, :40] = LANDCOVER["grass"]
    inp = _inputs(ny, nx, fuel_model=fuel, building_id=bid, building_use=use, landcover=lc,
                  hamada_window_m=15 * DX, ignitions=[(20, 5, 0.0), ([3, 4], [6, 6], 120.0)])
    res = simulate_fire(inp, 1800.0, 400.0)
    assert np.array_equal(np.isnan(res.arrival_time), ~res.burned)
    assert res.arrival_time[20, 5] == 0.0 and res.arrival_time[3, 6] <= 120.0
    np.testing.assert_array_equal(res.snapshot_times, [0.0, 400.0, 800.0, 1200.0, 1600.0, 1800.0])
    for t, snap in zip(res.snapshot_times, res.burned_snapshots):
        np.testing.assert_array_equal(snap, np.nan_to_num(res.arrival_time, nan=np.inf) <= t)
    assert np.all(np.diff(res.burned_snapshots.sum(axis=(1, 2))) >= 0)
    np.testing.assert_array_equal(res.burned_snapshots[-1], res.burned)
    assert np.isfinite(res.building_ignition_time).any()
    for i, t in zip(res.building_ids, res.building_ignition_time):
        foot = res.arrival_time[bid == i]
        assert (np.isnan(t) and np.isnan(foot).all()) or t == np.nanmin(foot)
    assert res.wall_time_s > 0


def test_bad_inputs_raise_input_error():
    """Wrong shapes, unknown fuel, ignitions off the grid, spotting without a Generator."""
    with pytest.raises(InputError, match="elevation"):
        simulate_fire(_inputs(10, 10, elevation=np.zeros((9, 10))), 60.0, 30.0)
    with pytest.raises(InputError, match="fuel_model"):
        simulate_fire(_inputs(10, 10, fuel_model=np.full((10, 10), 55)), 60.0, 30.0)
    with pytest.raises(InputError, match=r"ignitions\[0\]"):
        simulate_fire(_inputs(10, 10, ignitions=[(12, 3, 0.0)]), 60.0, 30.0)
    with pytest.raises(InputError, match="rng"):
        simulate_fire(_inputs(10, 10, spotting=SpottingOptions(1.0, 10.0)), 60.0, 30.0)
    with pytest.raises(InputError, match="wind_times_s"):
        simulate_fire(_inputs(10, 10, wind_speed=[1.0, 2.0], wind_from_deg=270.0,
                              wind_times_s=[10.0, 20.0]), 60.0, 30.0)
