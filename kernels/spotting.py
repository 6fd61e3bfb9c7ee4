"""Stochastic spotting: firebrands carried downwind from burning cells start new fires.

A deliberately simple, documented model (not a lofting/burnout model such as Albini 1979):

* every source cell releases N ~ Poisson(``brands_per_cell``) firebrands when it ignites;
* each brand lands at a distance drawn from a log-normal distribution, the shape found for
  firebrand landing distances by Sardoy et al. (2008, Combust. Flame 154:478-488) and used by
  ELMFIRE and pyretechnics, with median ``median_distance`` and log-standard deviation
  ``sigma_log``;
* its direction is the downwind azimuth plus a normal deviation of standard deviation
  ``lateral_sd`` (radians);
* a brand landing on a burnable cell starts a fire there with probability
  ``ignition_probability``, ``delay`` seconds after the source cell ignited (flight, smoulder
  and ignition lumped into one delay).

The parameters are the user's: they are not derived here from fire intensity or wind, so the
results are only as good as the values chosen. Randomness comes only from the
:class:`numpy.random.Generator` passed in.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class SpotFires(NamedTuple):
    """Spot-fire ignitions: cell rows, cols and ignition times (s)."""

    rows: np.ndarray
    cols: np.ndarray
    times: np.ndarray


def spot_fires(source_time, downwind_azimuth, receptive, dx: float, rng: np.random.Generator, *,
               brands_per_cell: float, median_distance: float, sigma_log: float,
               lateral_sd: float, ignition_probability: float, delay: float) -> SpotFires:
    """Draw the spot fires started by firebrands from a set of burning cells.

    Parameters
    ----------
    source_time : array_like, shape (ny, nx)
        Ignition time (s) of each cell that releases brands; ``inf`` or NaN elsewhere.
    downwind_azimuth : array_like, broadcastable to (ny, nx)
        Direction the wind blows towards (radians clockwise from north).
    receptive : array_like of bool, shape (ny, nx)
        Cells where a landing brand can start a fire (burnable cells).
    dx : float
        Cell size (m).
    rng : numpy.random.Generator
        Source of randomness.
    brands_per_cell : float
        Mean number of brands released per source cell (1), >= 0.
    median_distance : float
        Median landing distance (m), > 0.
    sigma_log : float
        Standard deviation of the natural log of the landing distance (1), >= 0.
    lateral_sd : float
        Standard deviation of the landing direction about downwind (radians), >= 0.
    ignition_probability : float
        Probability that a brand landing on a receptive cell ignites it (1), in [0, 1].
    delay : float
        Time from the source's ignition to the spot fire's ignition (s), >= 0.

    Returns
    -------
    SpotFires
        Rows, cols and times (s) of the spot fires (a cell may appear more than once; the
        earliest time counts).

    Raises
    ------
    ValueError
        Out-of-range parameters or mismatched shapes.
    """
    src = np.asarray(source_time, dtype=np.float64)
    rec = np.asarray(receptive, dtype=bool)
    if rec.shape != src.shape or src.ndim != 2:
        raise ValueError("source_time and receptive must be 2-D arrays of one shape")
    if not (brands_per_cell >= 0 and median_distance > 0 and sigma_log >= 0 and lateral_sd >= 0
            and 0 <= ignition_probability <= 1 and delay >= 0 and dx > 0):
        raise ValueError("spotting parameters out of range (see the docstring)")
    az = np.broadcast_to(np.asarray(downwind_azimuth, dtype=np.float64), src.shape)
    rows, cols = np.nonzero(np.isfinite(src))
    counts = rng.poisson(brands_per_cell, size=rows.size)
    r0, c0 = np.repeat(rows, counts), np.repeat(cols, counts)
    dist = median_distance * np.exp(sigma_log * rng.standard_normal(r0.size))
    theta = az[r0, c0] + lateral_sd * rng.standard_normal(r0.size)
    lit = rng.random(r0.size) < ignition_probability
    r1 = np.rint(r0 - dist * np.cos(theta) / dx).astype(np.int64)
    c1 = np.rint(c0 + dist * np.sin(theta) / dx).astype(np.int64)
    ny, nx = src.shape
    inside = (r1 >= 0) & (r1 < ny) & (c1 >= 0) & (c1 < nx)
    keep = inside & lit
    keep[keep] = rec[r1[keep], c1[keep]]
    return SpotFires(r1[keep], c1[keep], src[r0[keep], c0[keep]] + delay)
