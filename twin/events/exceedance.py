"""The return period at which a value is first exceeded over an event set, and its AEP.

For a cell, the annual exceedance probability of a depth threshold is read from the events'
maximum depths: the smallest return period whose depth exceeds the threshold (strictly, as the
members' ``p_depth_over_<t>m``), AEP = 1/T (:func:`twin.events.frequency.annual_exceedance`).
For a building, the same with its depth at the walls and the height of its floor gives the return
period at which water first reaches the floor. Between design events nothing is known: the
threshold is crossed somewhere between the previous event's return period and this one's, and
the value returned is this one's (the first design event that exceeds it). Where no event
exceeds the threshold the return period is +inf and the AEP 0 (it is below 1/T of the largest
event); where every event's value is NaN (outside the domain) both are NaN.
"""

from __future__ import annotations

import numpy as np

from twin.events.frequency import annual_exceedance, event_rows


def first_exceeding_return_period(values: np.ndarray, return_periods: np.ndarray,
                                  threshold: np.ndarray | float) -> np.ndarray:
    """Smallest return period (years) whose value exceeds ``threshold``, per item.

    Parameters
    ----------
    values : numpy.ndarray (n_events, ...)
        Value of each event per item (e.g. maximum depth, m), NaN where not defined.
    return_periods : numpy.ndarray (n_events,)
        Return periods (years), strictly increasing.
    threshold : array_like
        Threshold, in the values' unit, broadcast against one event's values (e.g. a floor
        height per building, m).

    Returns
    -------
    numpy.ndarray (...)
        Return period (years); +inf where no event exceeds the threshold, NaN where every value is NaN.
    """
    t, v = event_rows(return_periods, values)
    over = v > np.asarray(threshold, dtype=np.float64)
    first = np.argmax(over, axis=0)
    rp = np.where(np.any(over, axis=0), t[first], np.inf)
    return np.where(np.all(np.isnan(v), axis=0), np.nan, rp)


def exceedance_probability(values: np.ndarray, return_periods: np.ndarray,
                           threshold: np.ndarray | float) -> np.ndarray:
    """Annual exceedance probability (1/year) of ``threshold`` per item: 1 / :func:`first_exceeding_return_period`.

    0 where no event exceeds the threshold, NaN where every value is NaN.
    """
    rp = first_exceeding_return_period(values, return_periods, threshold)
    out = np.full(rp.shape, np.nan)
    finite = np.isfinite(rp)
    out[finite] = annual_exceedance(rp[finite])
    out[np.isinf(rp)] = 0.0
    return out
