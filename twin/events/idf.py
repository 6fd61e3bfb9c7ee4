"""Intensity-duration-frequency (IDF) relations: rain intensity by storm duration and return period.

Two forms, one interface (:class:`IdfRelation`): a table of intensities at listed durations and
return periods (:class:`IdfTable`, read by :func:`twin.events.idf_csv.read_idf_table`), and the
formula ``I = a / (t^n + b)`` with coefficients per return period (:class:`IdfFormula`), I in
mm/h and t in minutes as Korean practice writes it; ``b = 0`` is Sherman's form, ``n = 1``
Talbot's, ``n = 0.5`` Ishiguro's (Chow, Maidment & Mays 1988, section 14.3, eq. 14.3.1
``i = c / (T_d^e + f)``). Inside, intensities are m/s and durations s.

Between table durations, log I is linear in log t (a power law, Sherman's form, between two
table points: IDF curves are close to straight lines on log-log axes, Chow et al. 1988, section
14.3). Between return periods, linear in the Gumbel reduced variate
(:func:`twin.events.frequency.interpolate_return_period`). Nothing is extrapolated: a duration
or return period outside the relation raises :class:`twin.core.errors.InputError` naming its source.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from twin.core.errors import InputError
from twin.events.frequency import interpolate_return_period
from twin.scenario.units import MM_PER_H


@dataclass(frozen=True)
class IdfRelation(ABC):
    """What both IDF forms share: return periods, a source named in errors, and the interpolation.

    Attributes
    ----------
    return_periods : numpy.ndarray (m,)
        Return periods (years) the relation gives, > 1, strictly increasing.
    source : str
        Where it came from (a file, or a scenario's YAML path), named in errors.
    """

    return_periods: np.ndarray
    source: str

    @abstractmethod
    def duration_range_s(self) -> tuple[float, float]:
        """Shortest and longest duration (s) the relation covers."""

    @abstractmethod
    def at_return_periods(self, durations_s: np.ndarray) -> np.ndarray:
        """Intensities (m/s), shape (len(durations_s), m), at the relation's own return periods."""

    def check_covers(self, durations_s: np.ndarray, return_periods: np.ndarray) -> None:
        """Refuse durations (s) or return periods (years) outside the relation.

        Raises
        ------
        InputError
            Naming the source, the range covered and what was asked for.
        """
        d = np.asarray(durations_s, dtype=np.float64)
        lo, hi = self.duration_range_s()
        # durations built as multiples of a block may miss a table duration by round-off
        outside = d[(d < lo * (1 - 1e-12)) | (d > hi * (1 + 1e-12))]
        if outside.size:
            raise InputError("storm or block duration outside the IDF relation", file=self.source,
                             expected=f"durations from {lo / 60:g} to {hi / 60:g} min",
                             found=f"{outside[0] / 60:g} min")
        t = np.asarray(return_periods, dtype=np.float64)
        known = self.return_periods
        outside = t[(t < known[0]) | (t > known[-1])]
        if outside.size:
            raise InputError("return period outside the IDF relation (no extrapolation)", file=self.source,
                             expected=f"return periods from {known[0]:g} to {known[-1]:g} years",
                             found=f"{outside[0]:g} years")

    def intensity(self, durations_s: np.ndarray | float, return_period: float) -> np.ndarray:
        """Rain intensity (m/s) at ``durations_s`` (s) for ``return_period`` (years).

        Raises
        ------
        InputError
            For a duration or return period outside the relation (:meth:`check_covers`).
        """
        d = np.atleast_1d(np.asarray(durations_s, dtype=np.float64))
        self.check_covers(d, [return_period])
        d = np.clip(d, *self.duration_range_s())
        values = interpolate_return_period(self.return_periods, self.at_return_periods(d), return_period)
        return values.reshape(np.shape(durations_s))


@dataclass(frozen=True)
class IdfTable(IdfRelation):
    """An IDF table: intensities at listed durations and return periods.

    Attributes
    ----------
    durations_s : numpy.ndarray (nd,)
        Durations (s), strictly increasing, at least two.
    intensity_m_s : numpy.ndarray (nd, m)
        Intensity (m/s) by duration (rows) and return period (columns), > 0.
    """

    durations_s: np.ndarray
    intensity_m_s: np.ndarray

    def duration_range_s(self) -> tuple[float, float]:
        """First and last table duration (s)."""
        return float(self.durations_s[0]), float(self.durations_s[-1])

    def at_return_periods(self, durations_s: np.ndarray) -> np.ndarray:
        """Intensities (m/s) at ``durations_s``, log I linear in log t between table durations."""
        log_d = np.log(self.durations_s)
        log_i = np.log(self.intensity_m_s)
        x = np.log(durations_s)
        return np.exp(np.stack([np.interp(x, log_d, log_i[:, j]) for j in range(log_i.shape[1])], axis=-1))


@dataclass(frozen=True)
class IdfFormula(IdfRelation):
    """The IDF formula I = a / (t^n + b), I in mm/h, t in minutes, with a, b, n per return period.

    Attributes
    ----------
    a : numpy.ndarray (m,)
        Coefficient a (mm/h min^n), > 0.
    b : numpy.ndarray (m,)
        Coefficient b (min^n), >= 0.
    n : numpy.ndarray (m,)
        Exponent n (dimensionless), > 0.
    """

    a: np.ndarray
    b: np.ndarray
    n: np.ndarray

    def duration_range_s(self) -> tuple[float, float]:
        """Any duration > 0 (the range the coefficients were fitted on is the user's to respect)."""
        return float(np.finfo(np.float64).tiny), float(np.inf)

    def at_return_periods(self, durations_s: np.ndarray) -> np.ndarray:
        """Intensities (m/s) of the formula at ``durations_s``: a / ((t / 60 s)^n + b) mm/h, times MM_PER_H."""
        t_min = np.asarray(durations_s, dtype=np.float64)[:, None] / 60.0
        return self.a / (t_min ** self.n + self.b) * MM_PER_H
