"""Return periods, annual exceedance frequencies, interpolation between return periods, and the
check of values given per event of a set (:func:`event_rows`).

The annual exceedance probability of an event of return period T (years) is taken as its
exceedance frequency, AEP = 1/T per year: the frequency CLIMADA gives an event of an event set
(Aznar-Siguan & Bresch 2019, Geosci. Model Dev. 12, 3085-3097; its ``Impact.eai_exp`` is
``sum_j f_j * impact_j`` over events j of frequency f_j). Integrating losses over 1/T gives the expected annual loss
when exceedances arrive as a Poisson process; the Poisson probability of at least one exceedance
in a year, 1 - exp(-1/T), is smaller by less than 5 % for T >= 10 years (0.39 against 0.5 at T = 2).

Between return periods, values are interpolated linearly in the Gumbel (EV1) reduced variate
``y_T = -ln(-ln(1 - 1/T))`` (Chow, Maidment & Mays 1988, Applied Hydrology, section 12.2, EV1
reduced variate; the frequency factor of eq. 12.3.8 is linear in it): exact when the annual
maxima at that duration follow a Gumbel distribution, x_T = u + alpha * y_T, the distribution of
Korean probable-rainfall practice. Outside the known return periods nothing is extrapolated.
"""

from __future__ import annotations

import numpy as np


def annual_exceedance(return_period: np.ndarray | float) -> np.ndarray:
    """Annual exceedance probability AEP = 1/T (per year) of return periods T (years); 0 for T = inf.

    Parameters
    ----------
    return_period : array_like
        Return periods T (years), > 0.

    Returns
    -------
    numpy.ndarray
        1/T (1/year).
    """
    t = np.asarray(return_period, dtype=np.float64)
    if np.any(~(t > 0)):
        raise ValueError(f"return periods must be > 0 years; found {t[~(t > 0)].ravel()[:3].tolist()}")
    return 1.0 / t


def gumbel_variate(return_period: np.ndarray | float) -> np.ndarray:
    """Gumbel (EV1) reduced variate y_T = -ln(-ln(1 - 1/T)) (dimensionless) of return periods T > 1 year.

    Chow, Maidment & Mays (1988), section 12.2: the EV1 reduced variate at non-exceedance
    probability 1 - 1/T.
    """
    t = np.asarray(return_period, dtype=np.float64)
    if np.any(~(t > 1)):
        raise ValueError(f"the Gumbel reduced variate needs return periods > 1 year; found "
                         f"{t[~(t > 1)].ravel()[:3].tolist()}")
    return -np.log(-np.log1p(-1.0 / t))


def interpolate_return_period(known: np.ndarray, values: np.ndarray, return_period: float) -> np.ndarray:
    """Values at ``return_period``, linear in the Gumbel reduced variate between ``known`` return periods.

    Parameters
    ----------
    known : numpy.ndarray (m,)
        Return periods (years) of the values, > 1 and strictly increasing.
    values : numpy.ndarray (..., m)
        Values at those return periods (last axis), in any unit.
    return_period : float
        The return period wanted (years), within ``[known[0], known[-1]]``.

    Returns
    -------
    numpy.ndarray (...)
        The values at ``return_period``; exactly the known values at a known return period.

    Raises
    ------
    ValueError
        For a return period outside the known ones (no extrapolation).
    """
    known = np.asarray(known, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if not known[0] <= return_period <= known[-1]:
        raise ValueError(f"return period {return_period:g} years outside the known {known[0]:g}-{known[-1]:g} "
                         "years (no extrapolation)")
    k = int(np.searchsorted(known, return_period))
    if known[k] == return_period:
        return values[..., k].copy()
    y0, y1, y = gumbel_variate(known[k - 1]), gumbel_variate(known[k]), gumbel_variate(return_period)
    w = (y - y0) / (y1 - y0)
    return values[..., k - 1] + w * (values[..., k] - values[..., k - 1])


def event_rows(return_periods: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Check values given per event of a set: return periods 1-D, strictly increasing, one row each.

    Parameters
    ----------
    return_periods : array_like (n_events,)
        Return periods (years).
    values : array_like (n_events, ...)
        One row per event (a loss, a depth, ... per item).

    Returns
    -------
    return_periods, values : numpy.ndarray
        As float64 arrays.

    Raises
    ------
    ValueError
        For shapes that do not match or return periods that do not increase strictly.
    """
    t = np.asarray(return_periods, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if t.ndim != 1 or v.shape[:1] != t.shape or t.size < 1:
        raise ValueError(f"need one row of values per return period; found {t.shape} and {v.shape}")
    if np.any(np.diff(t) <= 0):
        raise ValueError("return periods must increase strictly")
    return t, v
