"""Convergence of the maximum depth with the step on rain over a nearly dry grid (issue #17).

Rain on the grid wets every cell at once. With the Courant step alone (capped at ``max_dt``,
10 s) the first face updates start from rest with no friction, overshoot, and shallow cells
drain whole in one step and pile their water up downstream: short-lived peaks that the
maximum-depth map keeps. The outflow control of the step (kernels.flood.stable_timestep) keeps
the share of its water a shallow cell loses in one step under ``outflow_fraction``; these
tests check that the default run then gives the maximum-depth map of a run at ``max_dt`` 0.5 s
(the converged solution: at 0.25 s and 1 s the same counts move by less than 0.9 %,
bench/README.md "Flood step") at a fraction of its steps, and that without the control it
does not.

The terrain is the sample city's (twin.samples.terrain.make_terrain: valley, river channel,
floodplain, hills of 80-120 m) at 30 m cells, 150 x 150 cells, seed 2; 40 mm/h of rain for
1 h, 1.5 h simulated, Manning n 0.035, free edges.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from twin.hazards.flood.forcing import UniformRain
from twin.hazards.flood.model import FloodInputs, simulate_flood
from twin.samples.terrain import make_terrain

MM_H = 1e-3 / 3600.0
DX = 30.0
RAIN_S = 3600.0
DURATION_S = 5400.0
THRESHOLDS_M = (0.01, 0.1)


def rain_on_terrain(size: int = 150, seed: int = 2, rain_mm_h: float = 40.0) -> FloodInputs:
    """Flood inputs of ``rain_mm_h`` for 1 h on the sample terrain of ``size`` x ``size`` cells
    of 30 m (no buildings, n = 0.035, free edges; also used by bench/wetup_convergence.py)."""
    z = make_terrain(np.random.default_rng(seed), size, size, DX)["z"]
    rate = rain_mm_h * MM_H
    rain = UniformRain([0.0, 1.0, RAIN_S, RAIN_S + 1.0], [0.0, rate, rate, 0.0])
    return FloodInputs(z=z, blocked=np.zeros(z.shape, bool), manning_n=0.035, dx=DX, rain=rain,
                       boundaries={e: "free" for e in ("north", "south", "east", "west")})


def _counts(max_depth: np.ndarray) -> np.ndarray:
    return np.array([(max_depth > t).sum() for t in THRESHOLDS_M])


@pytest.fixture(scope="module")
def runs():
    """The default run, the converged run (max_dt 0.5 s) and the run with the outflow control at
    its weakest (a cell may lose all its water in a step: the Courant step and max_dt alone)."""
    inputs = rain_on_terrain()
    return {name: simulate_flood(inp, DURATION_S, None, None) for name, inp in (
        ("default", inputs), ("converged", dataclasses.replace(inputs, dt_max=0.5)),
        ("no control", dataclasses.replace(inputs, outflow_fraction=1.0)))}


def test_default_maximum_depth_matches_the_converged_run_within_one_percent(runs):
    """The cells whose maximum depth exceeds 1 cm and 10 cm number within 1 % of the converged
    run's, and the maps correlate cell by cell (r > 0.999)."""
    ref, res = runs["converged"].max_depth, runs["default"].max_depth
    assert _counts(ref).min() > 400
    np.testing.assert_array_less(np.abs(_counts(res) / _counts(ref) - 1), 0.01)
    assert np.corrcoef(res.ravel(), ref.ravel())[0, 1] > 0.999


def test_without_the_outflow_control_the_wet_up_overshoot_shows(runs):
    """The same run with the Courant step and max_dt alone puts more than 5 % extra cells above
    1 cm: the short-lived piles of the wet-up overshoot (the failure the control removes)."""
    ref, res = runs["converged"].max_depth, runs["no control"].max_depth
    assert _counts(res)[0] / _counts(ref)[0] - 1 > 0.05


def test_the_default_takes_under_a_quarter_of_the_converged_runs_steps(runs):
    """The control shortens the step only where shallow cells drain: the default run takes fewer
    than a quarter of the steps of the run at max_dt 0.5 s, and more than the run without it."""
    steps = {k: r.n_steps for k, r in runs.items()}
    assert steps["no control"] < steps["default"] < steps["converged"] / 4


def test_mass_balance_closes_to_round_off_with_the_control(runs):
    """Steps sized by the control change nothing in the accounting: the ledger closes to 1e-12."""
    for name, res in runs.items():
        assert res.ledger.rain_in > 0 and res.ledger.boundary_out > 0, name
        assert res.ledger.closure_relative < 1e-12, name
