"""Stability of the theta-weighted local inertial scheme in deep still water (docs/flood_numerics.md).

Friction damps only moving water, so a deep pond, an underpass or a backed-up river is the
frictionless case, where the von Neumann bound of the scheme, ``alpha <= sqrt(theta / 2)``
(:func:`kernels.flood.courant_limit`), governs. These tests check the bound three ways: against a
numerical scan of the amplification matrix over all Fourier modes, on the kernel itself (a closed
box of still water with a small bump grows just above the bound and stays put just below), and
in the weighting of each step (:func:`kernels.flood.step_weighting`), whose numerical diffusion
per second must not depend on the step.
"""

from __future__ import annotations

import numpy as np
import pytest

from kernels.flood import CLOSED, FREE, G, courant_limit, courant_step, edge_fluxes, flood_step, step_weighting
from twin.core.errors import InputError
from twin.hazards.flood.model import FloodInputs

DX = 5.0
DEPTH = 3.0


def _spectral_radius(courant: float, theta: float, phi_x: float, phi_y: float) -> float:
    """Largest |eigenvalue| of one frictionless step for the Fourier mode ``(phi_x, phi_y)``:
    ``q' = a q - i C sigma eta`` per direction, then ``eta' = eta - i C (sigma_x qx' + sigma_y qy')``
    (q scaled by sqrt(g h), ``a = theta + (1 - theta) cos phi``, ``sigma = 2 sin(phi / 2)``)."""
    a = theta + (1 - theta) * np.cos([phi_x, phi_y])
    s = 2 * np.sin(np.array([phi_x, phi_y]) / 2)
    explicit = np.array([[a[0], 0, -1j * courant * s[0]], [0, a[1], -1j * courant * s[1]], [0, 0, 1]])
    implicit = np.eye(3, dtype=complex)
    implicit[2, :2] = 1j * courant * s
    return float(np.abs(np.linalg.eigvals(np.linalg.solve(implicit, explicit))).max())


@pytest.mark.parametrize("theta", [0.6, 0.8, 1.0])
def test_the_bound_is_the_largest_stable_courant_number_over_all_modes(theta):
    """Every mode is stable at the bound, and some mode is unstable 1 % above it."""
    phases = np.linspace(0, np.pi, 25)
    limit = courant_limit(theta)

    def worst(c):
        return max(_spectral_radius(c, theta, px, py) for px in phases for py in phases)

    assert worst(limit) <= 1 + 1e-6
    assert worst(1.01 * limit) > 1 + 1e-6


def _still_box(courant: float, theta: float, steps: int, weighted: bool = False, seed: int = 0,
               step_share=(1.0, 1.0)) -> float:
    """Grid-scale roughness (m) of the water level after ``steps`` steps in a closed 24 x 24 box of
    3 m still water with a 5 cm bump, no friction, steps of ``courant`` dx / sqrt(g h_max) times a
    random share in ``step_share``; the first step's roughness is about 3e-3 m."""
    rng = np.random.default_rng(seed)
    n = 24
    z = np.zeros((n, n))
    r, c = np.mgrid[:n, :n]
    h = DEPTH + 0.05 * np.exp(-((r - n / 2) ** 2 + (c - n / 3) ** 2) / 8.0)
    qx, qy = np.zeros((n, n + 1)), np.zeros((n + 1, n))
    zero, one = np.zeros((n, n)), np.ones((n, n))
    h_max = h.max()
    for _ in range(steps):
        dt = courant_step(h_max, DX, courant) * rng.uniform(*step_share)
        vol = flood_step(h, qx, qy, z, zero, np.zeros((n, n), bool), dt, DX, edge_kind=[CLOSED] * 4,
                         edge_level=[0.0] * 4, rain_rate=0.0, rain_weight=one, infiltration_rate=zero,
                         drainage_rate=zero, theta=step_weighting(theta, dt, h_max, DX) if weighted else theta)
        h_max = vol.h_max
    eta = z + h
    return float(np.abs(4 * eta[1:-1, 1:-1] - eta[:-2, 1:-1] - eta[2:, 1:-1] - eta[1:-1, :-2]
                        - eta[1:-1, 2:]).max() / 4)


@pytest.mark.parametrize("theta", [0.6, 0.8])
def test_the_kernel_is_stable_just_below_the_bound_and_not_just_above(theta):
    """Still water with a bump: at 0.97 of the bound the grid-scale roughness dies away (below
    1e-4 m after 1500 steps); at 1.03 of it the checkerboard grows past the bump's 5 cm."""
    limit = courant_limit(theta)
    assert _still_box(0.97 * limit, theta, 1500) < 1e-4
    assert _still_box(1.03 * limit, theta, 1500) > 0.05


def test_varying_steps_stay_stable_with_the_weighting():
    """Steps of 5-100 % of the Courant step at the default bound-respecting coefficient: with the
    step weighting the box stays calm; with theta = 1 (no damping, neutral modes) the same varying
    steps excite the checkerboard (the parametric growth the damping prevents)."""
    share = (0.05, 1.0)
    assert _still_box(0.55, 0.8, 3000, weighted=True, step_share=share) < 1e-4
    assert _still_box(0.55, 1.0, 3000, step_share=share) > 0.05


def _checkerboard_decay_per_second(theta: float, share: float, weighted: bool) -> float:
    """Decay rate (1/s) of the checkerboard of a periodic still-water field under steps of ``share``
    of the default Courant step, from the analytic amplification of the (pi, pi) mode:
    ``|lambda| = sqrt(a)`` with ``a = 2 theta_step - 1`` (complex eigenvalues)."""
    dt = share * courant_step(DEPTH, DX, 0.55)
    th = step_weighting(theta, dt, DEPTH, DX) if weighted else theta
    return -np.log(np.sqrt(2 * th - 1)) / dt


def test_the_weighting_makes_the_damping_per_second_nearly_independent_of_the_step():
    """Halving the step doubles the checkerboard's damping per second with a fixed theta (the
    scheme then does not converge as the step shrinks) and changes it by under 15 % with the
    weighting (the first-order term of the log is exact; the rest is the curvature of the log)."""
    fixed = _checkerboard_decay_per_second(0.8, 0.5, False) / _checkerboard_decay_per_second(0.8, 1.0, False)
    weighted = _checkerboard_decay_per_second(0.8, 0.5, True) / _checkerboard_decay_per_second(0.8, 1.0, True)
    assert fixed == pytest.approx(2.0)
    assert abs(weighted - 1) < 0.15


def test_the_weighting_is_theta_at_the_limit_step_and_one_for_a_dry_grid():
    dt_limit = courant_limit(0.8) * DX / np.sqrt(G * DEPTH)
    assert step_weighting(0.8, dt_limit, DEPTH, DX) == pytest.approx(0.8)
    assert step_weighting(0.8, dt_limit / 2, DEPTH, DX) == pytest.approx(0.9)
    assert step_weighting(0.8, 10.0, 0.0, DX) == 1.0
    assert courant_step(DEPTH, DX, 0.55) == pytest.approx(0.55 * DX / np.sqrt(G * DEPTH))


def test_an_unstable_courant_coefficient_is_refused():
    """The model refuses alpha above the bound, naming it, before any step."""
    z = np.zeros((4, 4))
    with pytest.raises(InputError, match="stability limit"):
        FloodInputs(z=z, blocked=np.zeros((4, 4), bool), manning_n=0.03, dx=DX, theta=0.8, alpha=0.7)
    FloodInputs(z=z, blocked=np.zeros((4, 4), bool), manning_n=0.03, dx=DX, theta=1.0, alpha=0.7)


def _south_free_edge(q_out: float, surface_drop: float, bed_drop: float = 0.0) -> float:
    """New outward discharge (m^2/s) through the south free edge of a 3 x 3 grid of 2 m of water
    whose edge row's surface lies ``surface_drop`` and bed ``bed_drop`` (m) below the rows inside,
    with an old outward discharge ``q_out`` (m^2/s), after a step of 0.5 s."""
    z = np.zeros((3, 3))
    z[2] -= bed_drop
    h = 2.0 - z
    h[2] -= surface_drop
    qx, qy = np.zeros((3, 4)), np.zeros((4, 3))
    qy[3] = q_out
    _, south, _, _ = edge_fluxes(h, z, np.full((3, 3), 0.03), np.zeros((3, 3), bool), qx, qy,
                                 [CLOSED, FREE, CLOSED, CLOSED], [0.0] * 4, 0.5, DX)
    return float(south[1])


def test_a_free_edge_passes_a_river_in_backwater():
    """A free edge is a normal-depth boundary. A level lake over a bed that falls towards the edge
    (a river in backwater) starts to drain (after 0.5 s, dt g h S exactly: the edge cell 2.005 m deep, S = 1e-3), where
    the water-surface slope alone (zero) would keep the edge shut and let the water pile up; an
    outflow through a reversed surface ripple on a flat bed keeps its momentum (friction only,
    under 1 %), not shut; still water on a flat bed stays still; and a falling surface
    steeper than the bed drives more than the bed would."""
    assert _south_free_edge(0.0, 0.0, bed_drop=1e-3 * DX) == pytest.approx(0.5 * G * (2.0 + 1e-3 * DX) * 1e-3, rel=1e-9)
    assert 0.99 * 0.9 < _south_free_edge(0.9, -1e-4 * DX) < 0.9
    assert _south_free_edge(0.0, 0.0) == 0.0
    assert _south_free_edge(0.0, -1e-4 * DX) == 0.0
    assert _south_free_edge(0.9, 1e-2 * DX, bed_drop=1e-3 * DX) > _south_free_edge(0.9, 0.0, bed_drop=1e-3 * DX)
