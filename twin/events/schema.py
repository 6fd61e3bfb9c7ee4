"""The ``events:`` scenario block: a design-storm event set over return periods.

::

    events:
      return_periods: [2, 5, 10, 30, 50, 100, 200, 500]    # years, > 1, increasing
      storm_duration: 2 h
      idf: {table: idf_daejeon.csv}                       # or {formula: "a / (t^n + b)", coefficients: [...]}
      temporal: {huff: 3}                                 # or {alternating_block: {block: 10 min}}
      areal_reduction: 1.0                                # (0, 1], times every intensity
      protection_rp: 0                                    # years; 0: none
      tail: constant                                      # truncate | constant | linear

Durations are parsed by :func:`twin.scenario.units.parse_duration` into seconds; the formula's
coefficients stay in its own units (I in mm/h, t in min) and are converted by
:class:`twin.events.idf.IdfFormula`. The table's path stays as written (resolved against the
scenario's folder when the run reads it, :func:`twin.events.design_events.scenario_events`). The
block is a top-level key of a flood scenario, declared by the flood hazard
(:class:`twin.hazards.interface.EventSupport`; docs/risk.md, "Event sets and annual damage").
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BeforeValidator, Discriminator, Field, Tag, model_validator

from twin.core import limits
from twin.events.annual import TAILS
from twin.events.idf import IdfFormula
from twin.scenario.schema import Frozen, Seconds
from twin.scenario.units import MM_PER_H

#: Longest return period accepted (years): far beyond any design standard (dams: 10 000 years).
MAX_RETURN_PERIOD_YEARS = 1.0e6
#: Most events in a set, and most blocks in an alternating-block storm.
MAX_EVENTS = 100
MAX_BLOCKS = 10_000
#: The IDF formula, as written in the block (spaces are ignored).
FORMULA = "a / (t^n + b)"

ReturnPeriod = Annotated[float, Field(gt=1, le=MAX_RETURN_PERIOD_YEARS)]


def _strictly_increasing(values: list[float], key: str) -> None:
    """Refuse a list that does not increase strictly, naming the first pair out of order."""
    back = next((k for k in range(1, len(values)) if values[k] <= values[k - 1]), None)
    if back is not None:
        raise ValueError(f"{key}: must increase strictly; found {values[back - 1]:g} then {values[back]:g} "
                         f"(items {back - 1} and {back})")


def _formula_text(value: object) -> object:
    """The formula with its spaces removed, so that ``a/(t^n+b)`` and ``a / (t^n + b)`` are one."""
    return value.replace(" ", "") if isinstance(value, str) else value


class IdfCoefficients(Frozen):
    """Coefficients of ``I = a / (t^n + b)`` (I in mm/h, t in min) for one return period (years)."""

    return_period: ReturnPeriod
    a: Annotated[float, Field(gt=0)]
    b: Annotated[float, Field(ge=0)]
    n: Annotated[float, Field(gt=0, le=1)]


class IdfFormulaSpec(Frozen):
    """``idf: {formula: "a / (t^n + b)", coefficients: [{return_period, a, b, n}, ...]}``.

    With ``b >= 0`` and ``0 < n <= 1`` the intensity does not increase and the depth does not
    decrease with duration; the return periods increase strictly.
    """

    formula: Annotated[Literal[FORMULA.replace(" ", "")], BeforeValidator(_formula_text)]
    coefficients: Annotated[list[IdfCoefficients], Field(min_length=1, max_length=MAX_EVENTS)]

    @model_validator(mode="after")
    def _order(self):
        _strictly_increasing([c.return_period for c in self.coefficients], "coefficients")
        return self

    def relation(self, source: str) -> IdfFormula:
        """The formula as an :class:`twin.events.idf.IdfFormula`; ``source`` names it in errors."""
        column = {k: np.array([getattr(c, k) for c in self.coefficients]) for k in ("return_period", "a", "b", "n")}
        return IdfFormula(return_periods=column["return_period"], source=source, a=column["a"], b=column["b"],
                          n=column["n"])


class IdfTableSpec(Frozen):
    """``idf: {table: file.csv}``: an IDF table file (format: :mod:`twin.events.idf_csv`)."""

    table: Annotated[str, Field(min_length=1)]


def _idf_kind(value: object) -> str:
    """The union branch: a mapping with a ``table`` key is a table, anything else a formula. (The tags
    are no keys of the block, so that error locations drop them, :func:`twin.core.validation.validate`.)"""
    return "idf_table" if isinstance(value, dict) and "table" in value else "idf_formula"


class AlternatingBlockSpec(Frozen):
    """``alternating_block: {block: 10 min}``: block length (s), dividing the storm duration."""

    block: Annotated[Seconds, Field(gt=0)]


class TemporalSpec(Frozen):
    """``temporal: {huff: 1-4}`` or ``{alternating_block: {block: ...}}``: exactly one."""

    huff: Literal[1, 2, 3, 4] | None = None
    alternating_block: AlternatingBlockSpec | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.huff is None) == (self.alternating_block is None):
            raise ValueError("give exactly one of 'huff: 1-4' or 'alternating_block: {block: 10 min}'")
        return self


class EventsSpec(Frozen):
    """The ``events:`` block (module docstring); every check that needs two keys is here."""

    return_periods: Annotated[list[ReturnPeriod], Field(min_length=1, max_length=MAX_EVENTS)]
    storm_duration: Annotated[Seconds, Field(gt=0, le=limits.MAX_DURATION_S)]
    idf: Annotated[Union[Annotated[IdfTableSpec, Tag("idf_table")], Annotated[IdfFormulaSpec, Tag("idf_formula")]],
                   Discriminator(_idf_kind)]
    temporal: TemporalSpec
    areal_reduction: Annotated[float, Field(gt=0, le=1)] = 1.0
    protection_rp: Annotated[float, Field(ge=0, le=MAX_RETURN_PERIOD_YEARS)] = 0.0
    tail: Literal[TAILS] = "constant"

    @model_validator(mode="after")
    def _consistent(self):
        _strictly_increasing(self.return_periods, "return_periods")
        self._check_protection()
        self._check_blocks()
        if isinstance(self.idf, IdfFormulaSpec):
            self._check_formula()
        return self

    def _check_protection(self) -> None:
        p = self.protection_rp
        if 0 < p < 1:
            raise ValueError(f"protection_rp: 0 (none) or a return period >= 1 year; found {p:g}")
        if p >= self.return_periods[-1]:
            raise ValueError(f"protection_rp: must be below the largest return period, {self.return_periods[-1]:g} "
                             f"years (no event would do damage); found {p:g}")
        if self.tail == "linear" and sum(t > p for t in self.return_periods) < 2:
            raise ValueError("tail: 'linear' extrapolates the two rarest events beyond protection_rp; this set has "
                             "fewer (more return periods, a lower protection_rp, or tail 'constant')")

    def _check_blocks(self) -> None:
        if self.temporal.alternating_block is None:
            return
        block = self.temporal.alternating_block.block
        n = self.storm_duration / block
        if round(n) < 1 or abs(n - round(n)) > 1e-9 * n:
            raise ValueError(f"temporal: the block ({block:g} s) must divide storm_duration "
                             f"({self.storm_duration:g} s) a whole number of times")
        if round(n) > MAX_BLOCKS:
            raise ValueError(f"temporal: {round(n)} blocks; at most {MAX_BLOCKS} (a longer block)")

    def _check_formula(self) -> None:
        given = [c.return_period for c in self.idf.coefficients]
        if self.return_periods[0] < given[0] or self.return_periods[-1] > given[-1]:
            raise ValueError(f"idf: the coefficients' return periods {given[0]:g}-{given[-1]:g} years do not cover "
                             f"the event set's {self.return_periods[0]:g}-{self.return_periods[-1]:g} years "
                             "(no extrapolation)")
        durations = self.idf_durations_s()
        mm_h = self.idf.relation("idf").at_return_periods(durations) / MM_PER_H
        bad = np.argwhere(np.diff(mm_h, axis=1) < 0)
        if bad.size:
            d, k = bad[0]
            raise ValueError(f"idf: a longer return period must not be less intense; at {durations[d] / 60:g} min "
                             f"T = {given[k + 1]:g} years gives {mm_h[d, k + 1]:.4g} mm/h, below the "
                             f"{mm_h[d, k]:.4g} mm/h of T = {given[k]:g} years")

    def idf_durations_s(self) -> np.ndarray:
        """Durations (s) the storms read the IDF relation at: the storm duration (Huff), or every
        block multiple up to it (alternating block)."""
        if self.temporal.alternating_block is None:
            return np.array([self.storm_duration])
        block = self.temporal.alternating_block.block
        n = int(round(self.storm_duration / block))
        return block * np.arange(1, n + 1)
