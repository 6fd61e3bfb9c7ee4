"""Annual probabilities from a hazard's conditional probabilities and the yearly rate of its events.

A run's members give, per cell, the probability ``p`` that one event (e.g. one ignition of the
scenario) reaches the cell, conditional on the event happening. When such events arrive as a
Poisson process of rate ``lambda`` per year and each reaches the cell independently with
probability ``p``, the events that reach it are a Poisson process of rate ``lambda p`` (the
splitting, or thinning, of a Poisson process: Ross, S. M. (2014), Introduction to Probability
Models, 11th ed., Academic Press, section 5.3.4, Proposition 5.2), so the number reaching it in a
year is Poisson with mean ``lambda p`` and the probability that at least one does is

    P_annual = 1 - exp(-lambda p)                                              (Poisson, P(N >= 1))

(for a fire's burn probability, the annual burn probability that wildfire risk assessment maps,
e.g. Scott, J. H., Thompson, M. P. and Calkin, D. E. (2013), A wildfire risk assessment framework
for land and resource management, USDA Forest Service RMRS-GTR-315). For small
``lambda p`` it is ``lambda p`` to first order (the expected number of arrivals per year).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from twin.core.fields import Field
from twin.risk.event_set import PER_YEAR  # a probability per year, as the annual exceedance probabilities


def annual_probability(rate_per_year: float, conditional: np.ndarray) -> np.ndarray:
    """``P_annual = 1 - exp(-lambda p)`` (module docstring): the probability per year that at least one event
    of a Poisson process of rate ``lambda`` reaches an item that each event reaches with probability ``p``.

    Parameters
    ----------
    rate_per_year : float
        lambda, events per year (1/year), finite and >= 0.
    conditional : numpy.ndarray
        p, per item, in [0, 1] (NaN stays NaN: outside the domain).

    Returns
    -------
    numpy.ndarray
        P_annual per item, in [0, 1) (per year); 0 where p = 0 or lambda = 0.
    """
    if not (np.isfinite(rate_per_year) and rate_per_year >= 0):
        raise ValueError(f"the annual rate must be finite and >= 0; found {rate_per_year!r}")
    return -np.expm1(-rate_per_year * np.asarray(conditional, dtype=np.float64))


@dataclass(frozen=True)
class AnnualProbability:
    """An annual probability map from a conditional probability map of a risk spec and a yearly rate
    of the scenario (:func:`annual_probability`); written only for a scenario that gives the rate.

    Attributes
    ----------
    source : str
        The conditional probability map (over members), e.g. ``burn_probability``.
    name, long_name : str
        The annual map's field name and long name.
    rate : callable
        ``rate(scenario) -> float or None``: lambda (events per year), None where the scenario gives none.
    """

    source: str
    name: str
    long_name: str
    rate: Callable

    def fields(self) -> list[Field]:
        return [Field(self.name, PER_YEAR, "float64", self.long_name, fill=np.nan)]

    def maps(self, maps: dict, scenario) -> dict:
        """``{name: P_annual}`` from ``maps[source]`` and the scenario's rate; {} where it gives none."""
        rate = self.rate(scenario)
        return {} if rate is None else {self.name: annual_probability(rate, maps[self.source])}
