"""Weighted statistics over ensemble members, exact and independent of the members' order.

Member weights are turned into integers (:func:`integer_weights`), so every probability is an
exact integer sum whatever the order in which members are added. Percentiles follow the
inverted-CDF definition (Hyndman & Fan 1996, definition 1, generalised to weights): the ``q``-th
percentile is the smallest member value ``x`` with ``P(X <= x) >= q/100``.
"""

from __future__ import annotations

import numpy as np

from twin.core.errors import InputError

#: Member weights are quantised to multiples of 2**-WEIGHT_BITS of their total (exact integer sums).
WEIGHT_BITS = 40


def integer_weights(weights, n_members: int) -> np.ndarray:
    """Member weights as int64, so that weighted sums are exact and independent of order.

    Parameters
    ----------
    weights : sequence of float or None
        Non-negative member weights (any scale); None for equal weights.
    n_members : int
        Number of members.

    Returns
    -------
    numpy.ndarray of int64, shape (n_members,)
        Ones for equal weights (sums are member counts); otherwise ``round(w / sum(w) * 2**40)``.
        The quantisation changes a probability by less than ``n_members * 2**-41``.

    Raises
    ------
    InputError
        Wrong length, negative or non-finite weights, or weights summing to zero.
    """
    if n_members < 1:
        raise InputError("an ensemble needs at least one member", field="n_members", found=str(n_members))
    if weights is None:
        return np.ones(n_members, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n_members,):
        raise InputError("member weights: one weight per member", field="weights",
                         expected=f"{n_members} values", found=f"shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise InputError("member weights must be finite, non-negative and not all zero", field="weights",
                         found=str(w.tolist()))
    return np.rint(w / w.sum() * 2.0**WEIGHT_BITS).astype(np.int64)


def weighted_percentiles(values: np.ndarray, weights: np.ndarray, qs) -> list[np.ndarray]:
    """Inverted-CDF percentiles over axis 0 (members) with integer weights.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_members, ...)
        Member values (``inf`` allowed, sorts last; no NaN).
    weights : numpy.ndarray of int64, shape (n_members,)
        Integer member weights (:func:`integer_weights`).
    qs : sequence of int
        Percentiles in percent, each ``0 < q <= 100``.

    Returns
    -------
    list of numpy.ndarray, shape ``values.shape[1:]``
        For each ``q``, the smallest member value ``x`` with ``sum(w[values <= x]) * 100 >= q * sum(w)``
        (Hyndman & Fan 1996, definition 1), found in exact integer arithmetic. Ties are broken by
        member index, so the result does not depend on the order of the members along axis 0.
    """
    for q in qs:
        if not (isinstance(q, (int, np.integer)) and 0 < q <= 100):
            raise InputError("percentile must be an integer in (0, 100]", field="percentile", found=str(q))
    if len(qs) == 0:
        return []
    order = np.argsort(values, axis=0, kind="stable")
    cum = np.cumsum(weights[order], axis=0)
    ordered = np.take_along_axis(values, order, axis=0)
    del order
    total = int(weights.sum())
    # cum * 100 >= q * total  <=>  cum >= ceil(q * total / 100), cum being an integer
    return [np.take_along_axis(ordered, np.expand_dims(np.argmax(cum >= -(-q * total // 100), axis=0), 0),
                               axis=0)[0] for q in qs]


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean over axis 0 (members), ``sum(w_i x_i) / sum(w_i)``.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_members, ...)
        Member values (any units; the result has the same).
    weights : numpy.ndarray of int64, shape (n_members,)
        Integer member weights (:func:`integer_weights`).

    Returns
    -------
    numpy.ndarray of float64, shape ``values.shape[1:]``
        Summed element by element in member order, so the result does not depend on how the
        cells are blocked (a BLAS product would).
    """
    total = np.zeros(values.shape[1:])
    for w, x in zip(weights, values):
        total += float(w) * x
    return total / int(weights.sum())
