"""Tests of the flood forcing schedule (twin/hazards/flood/forcing.py): stops, rain, inflows, edges."""

import numpy as np
import pytest

from kernels.flood import CLOSED, EAST, FREE, LEVEL, NORTH, SOUTH, WEST
from twin.core.errors import InputError
from twin.hazards.flood.forcing import ForcingSchedule, GriddedRain, Inflow, UniformRain
from twin.hazards.flood.model import FloodInputs

MM_H = 1e-3 / 3600.0


def _inputs(rain=None, inflows=(), boundaries=None, blocked=None):
    ny, nx = 6, 8
    blocked = np.zeros((ny, nx), bool) if blocked is None else blocked
    return FloodInputs(z=np.zeros((ny, nx)), blocked=blocked, manning_n=0.03, dx=2.0, rain=rain,
                       inflows=inflows, boundaries=boundaries)


def _hyetograph_integral(times, rates, t0, t1, n=200_001):
    """Integral of the hyetograph over [t0, t1] by a fine trapezoid sum (zero outside its times)."""
    t = np.linspace(t0, t1, n)
    v = np.interp(t, times, rates, left=0.0, right=0.0)
    return float(np.sum(0.5 * (v[1:] + v[:-1]) * np.diff(t)))


@pytest.mark.parametrize("t0, t1", [(0.0, 100.0), (130.0, 410.0), (599.0, 1500.0), (-50.0, 20.0),
                                    (1300.0, 1400.0)])
def test_step_rain_is_the_exact_mean_of_a_piecewise_linear_hyetograph(t0, t1):
    """Rain over a step: the mean intensity times dt is the analytic integral of the
    piecewise-linear hyetograph, across breakpoints, before its start and past its end."""
    times, rates = [0.0, 300.0, 600.0, 1200.0], [0.0, 60 * MM_H, 20 * MM_H, 0.0]
    sched = ForcingSchedule.of(_inputs(rain=UniformRain(times, rates)), 2000.0)
    step = sched.step(t0, t1 - t0, 2000.0)
    assert step.t_end == t1 and step.dt == t1 - t0
    # by hand for [130, 410]: rising 130..300 then falling 300..410
    if (t0, t1) == (130.0, 410.0):
        r130, r300, r410 = 60 * MM_H * 130 / 300, 60 * MM_H, 60 * MM_H - 40 * MM_H * 110 / 300
        exact = 0.5 * (r130 + r300) * 170 + 0.5 * (r300 + r410) * 110
        assert step.rain_rate * step.dt == pytest.approx(exact, rel=1e-14)
    assert step.rain_rate * step.dt == pytest.approx(_hyetograph_integral(times, rates, t0, t1),
                                                     rel=1e-9, abs=1e-18)


def test_inflow_volumes_add_up_to_the_hydrograph_over_a_run_of_steps():
    """Inflow volumes of consecutive steps sum to the hydrograph's whole volume (trapezoid area)."""
    f = Inflow("pipe", rows=[1, 2], cols=[3, 3], weights=[0.5, 0.5], times=[10, 70, 100],
               discharge=[0.0, 3.0, 1.0])
    sched = ForcingSchedule.of(_inputs(inflows=(f,)), 120.0)
    t, total = 0.0, 0.0
    for stop in sched.stops:
        while t < stop:
            step = sched.step(t, 7.0, stop)
            total += step.inflow_volumes[0]
            t = step.t_end
    assert t == 120.0
    assert total == pytest.approx(0.5 * 3.0 * 60 + 0.5 * (3.0 + 1.0) * 30, rel=1e-14)


def test_stops_hold_every_output_time_gridded_edge_and_the_end():
    """Stops: every snapshot and gauge time after 0, every gridded-rain edge within the run and
    the end, increasing, nothing beyond the duration; a step is clipped to its stop."""
    rain = GriddedRain([5.0, 40.0, 95.0, 400.0], np.zeros((3, 6, 8)))
    sched = ForcingSchedule.of(_inputs(rain=rain), 250.0, snapshot_every_s=60.0, gauge_every_s=25.0)
    np.testing.assert_array_equal(sched.snapshot_times, [0, 60, 120, 180, 240])
    assert sched.gauge_times[-1] == 250.0
    expected = {5.0, 40.0, 95.0, 250.0} | set(sched.snapshot_times[1:]) | set(sched.gauge_times[1:])
    np.testing.assert_array_equal(sched.stops, sorted(expected))
    assert sched.snapshot_index(120.0) == 2 and sched.snapshot_index(125.0) is None
    assert sched.gauge_index(250.0) == 10
    step = sched.step(38.0, 10.0, 40.0)
    assert (step.t_end, step.dt) == (40.0, 2.0)
    with pytest.raises(InputError, match="duration"):
        ForcingSchedule.of(_inputs(), 0.0)
    with pytest.raises(InputError, match="intervals"):
        ForcingSchedule.of(_inputs(), 10.0, snapshot_every_s=-1.0)


def test_gridded_intervals_and_their_fields_with_roof_rain_moved():
    """Gridded rain: interval k holds [times[k], times[k+1]); the field is the interval's rates
    on open cells plus the roof cells' rates at their nearest open cell, and zero outside the
    intervals; the kernel's rain rate is 1 (the field carries it)."""
    ny, nx = 6, 8
    blocked = np.zeros((ny, nx), bool)
    blocked[2:4, 0:2] = True                             # a roof on the west edge
    rates = np.arange(2 * ny * nx, dtype=float).reshape(2, ny, nx) * MM_H
    sched = ForcingSchedule.of(_inputs(rain=GriddedRain([0.0, 30.0, 90.0], rates), blocked=blocked), 120.0)
    assert [sched.rain_interval(t) for t in (0.0, 29.9, 30.0, 89.0, 90.0, 100.0)] == [0, 0, 1, 1, 2, 2]
    out = sched.rain_weight()
    sched.fill_rain(1, out)
    assert out.sum() == pytest.approx(rates[1].sum(), rel=1e-14)
    assert np.all(out[blocked] == 0)
    assert out[1, 0] > rates[1, 1, 0] and out[4, 0] > rates[1, 4, 0]     # the roof's corner cells' downpipes
    sched.fill_rain(2, out)
    assert not out.any()
    assert sched.step(10.0, 5.0, 30.0).rain_rate == 1.0


def test_uniform_rain_weight_counts_each_roof_at_its_downpipe():
    """Uniform rain weight: 1 on open cells, 0 on roofs, and each roof cell adds 1 at its
    nearest open cell, so the weights sum to the cells in the domain."""
    blocked = np.zeros((6, 8), bool)
    blocked[1:3, 4:7] = True
    sched = ForcingSchedule.of(_inputs(rain=UniformRain([0, 60], [MM_H, MM_H]), blocked=blocked), 60.0)
    w = sched.rain_weight()
    assert w.sum() == 48 and np.all(w[blocked] == 0) and w.max() > 1
    assert ForcingSchedule.of(_inputs(), 60.0).step(0.0, 1.0, 60.0).rain_rate == 0.0


def test_edge_arrays_at_the_step_start():
    """Boundaries: free and level edges get their kernel kinds, levels interpolated at the step's
    start (held beyond the series), other edges closed."""
    sched = ForcingSchedule.of(_inputs(boundaries={"west": ([0, 100], [1.0, 2.0]), "east": "free"}), 300.0)
    step = sched.step(25.0, 10.0, 300.0)
    kind, level = step.edge_kind, step.edge_level
    assert kind[WEST] == LEVEL and level[WEST] == 1.25
    assert kind[EAST] == FREE and kind[NORTH] == kind[SOUTH] == CLOSED
    assert sched.step(250.0, 10.0, 300.0).edge_level[WEST] == 2.0
