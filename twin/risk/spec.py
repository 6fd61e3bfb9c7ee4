"""What a hazard's risk is: the statistics over members that a hazard declares, in CLIMADA's terms.

A hazard gives, per member, hazard maps (intensities: depth, speed, arrival time, burned). Its
:class:`RiskSpec` says which maps a member brings and which statistics the risk maps hold:

* per-cell probabilities, counted member by member as indicator maps:
  :class:`Exceedance` (P(map > t)), :class:`Within` (P(arrival <= t)), :class:`Occurs`
  (P(map != 0)) and :class:`ClassProbability` (P(class of the member's maps = k));
* per-cell distributions over members, from the members' spilled maps: :class:`Distribution`
  (weighted percentiles, and the weighted mean where asked);
* the impact per building (exposure x impact function -> impact, :mod:`twin.risk.impact`);
* annual probabilities from a probability map and a yearly rate the scenario gives
  (:class:`twin.risk.annual.AnnualProbability`), after the reduction (:meth:`RiskSpec.with_annual`).

Every risk map is a declared field (:meth:`RiskSpec.fields`), its name generated from the value
(:func:`twin.risk.fields.number_label`), never typed by hand elsewhere. The reduction that reads a
spec is :class:`twin.risk.accumulator.RiskAccumulator`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from twin.core.errors import InputError
from twin.core.fields import Field, FieldRegistry
from twin.risk.fields import MEMBER_MEAN, MEMBER_MEDIAN, probability_field, within_name

#: Percentiles (%) of the per-member arrival time the risk maps hold by default (early ones first).
ARRIVAL_PERCENTILES = (10, 50, 90)
#: Default horizons (s) of the probability of arrival within a time.
ARRIVAL_WITHIN_S = (3600.0, 10800.0)


def _checked_values(values, what: str) -> tuple[float, ...]:
    """Thresholds as floats, finite and non-negative."""
    values = tuple(float(v) for v in values)
    if any(not np.isfinite(v) or v < 0 for v in values):
        raise InputError("thresholds must be finite and non-negative", field=what, found=str(values))
    return values


@dataclass(frozen=True)
class Exceedance:
    """P(map > threshold) per threshold, e.g. the probability that the maximum depth exceeds 0.5 m.

    Attributes
    ----------
    map : str
        Member map compared (SI units of its field).
    thresholds : tuple of float
        Thresholds, in the map's units.
    name : callable
        Field name of a threshold's probability.
    long_name : callable
        Long name of a threshold's probability field.
    """

    map: str
    thresholds: tuple
    name: Callable[[float], str]
    long_name: Callable[[float], str]

    def __post_init__(self):
        object.__setattr__(self, "thresholds", _checked_values(self.thresholds, "thresholds_m"))

    def names(self) -> list[str]:
        return [self.name(t) for t in self.thresholds]

    def fields(self) -> list[Field]:
        return [probability_field(self.name(t), self.long_name(t)) for t in self.thresholds]

    def hits(self, maps: dict, landcover) -> dict:
        return {self.name(t): maps[self.map] > t for t in self.thresholds}


@dataclass(frozen=True)
class Within:
    """P(arrival <= horizon) per horizon (s); a NaN arrival (never reached) is never within."""

    map: str = "arrival_time"
    horizons: tuple = ARRIVAL_WITHIN_S

    def __post_init__(self):
        object.__setattr__(self, "horizons", _checked_values(self.horizons, "arrival_within_s"))

    def names(self) -> list[str]:
        return [within_name(t) for t in self.horizons]

    def fields(self) -> list[Field]:
        return [probability_field(within_name(t), f"probability over members that the hazard arrives within "
                                                  f"{t:g} s of the start") for t in self.horizons]

    def hits(self, maps: dict, landcover) -> dict:
        arrival = np.where(np.isnan(maps[self.map]), np.inf, maps[self.map])
        return {within_name(t): arrival <= t for t in self.horizons}


@dataclass(frozen=True)
class Occurs:
    """P(map != 0), e.g. the burn probability from the members' burned masks."""

    map: str
    name: str
    long_name: str

    def names(self) -> list[str]:
        return [self.name]

    def fields(self) -> list[Field]:
        return [probability_field(self.name, self.long_name)]

    def hits(self, maps: dict, landcover) -> dict:
        return {self.name: maps[self.map] != 0}


@dataclass(frozen=True)
class ClassProbability:
    """P(class = k) per class label, the class of a cell computed from the member's maps.

    Attributes
    ----------
    classify : callable
        ``classify(maps, landcover) -> int array`` of class indices ``0 .. len(labels) - 1``.
    labels : tuple of str
        Class names, lowest first.
    name : callable
        Field name of a label's probability.
    long_name : callable
        Long name of a label's probability field.
    """

    classify: Callable
    labels: tuple
    name: Callable[[str], str]
    long_name: Callable[[str], str]

    def names(self) -> list[str]:
        return [self.name(c) for c in self.labels]

    def fields(self) -> list[Field]:
        return [probability_field(self.name(c), self.long_name(c)) for c in self.labels]

    def hits(self, maps: dict, landcover) -> dict:
        cls = self.classify(maps, landcover)
        return {self.name(c): cls == k for k, c in enumerate(self.labels)}


@dataclass(frozen=True)
class Distribution:
    """Weighted percentiles (and optionally the mean) over members of one map, per cell.

    Attributes
    ----------
    map : str
        Member map (spilled to disk as float32 member by member).
    percentiles : tuple of int
        Percentiles (%); fields ``<map>_p<q>``.
    mean : bool
        Also the weighted mean, field ``<map>_mean``.
    nan_is_never : bool
        NaN means "never reached": counted as an infinite time, so a percentile is NaN where fewer
        than ``q`` % of the (weighted) members reached the cell.
    units, long_name : str
        Of the map (for the fields' declarations).
    """

    map: str
    percentiles: tuple
    units: str
    long_name: str
    mean: bool = False
    nan_is_never: bool = False

    def names(self) -> list[str]:
        return ([f"{self.map}_mean"] if self.mean else []) + [f"{self.map}_p{p}" for p in self.percentiles]

    def fields(self) -> list[Field]:
        out = [Field(f"{self.map}_mean", self.units, "float64",
                     f"expected (weighted mean over members) {self.long_name}", fill=np.nan,
                     cell_methods=MEMBER_MEAN)] if self.mean else []
        never = (lambda p: f" (NaN: fewer than {p} % of members reached the cell)") if self.nan_is_never \
            else (lambda p: "")
        # CF-1.8 has a cell method for the median, none for other percentiles (their long name says)
        return out + [Field(f"{self.map}_p{p}", self.units, "float64",
                            f"{p}th percentile over members of the {self.long_name}{never(p)}", fill=np.nan,
                            cell_methods=MEMBER_MEDIAN if p == 50 else None)
                      for p in self.percentiles]


@dataclass(frozen=True)
class RiskSpec:
    """The risk a hazard declares: member maps, per-cell statistics, building impact, headline maps.

    Attributes
    ----------
    member_maps : tuple of str
        Maps each member brings (``(ny, nx)``, SI units); all must be finite and >= 0 inside the
        domain, except those in ``nan_means_never`` (NaN: never reached).
    nan_means_never : tuple of str
        Maps where NaN is allowed and means "never reached".
    probabilities : tuple
        :class:`Exceedance`, :class:`Within`, :class:`Occurs`, :class:`ClassProbability` items,
        in the order of their maps in ``risk.nc``.
    distributions : tuple of Distribution
        Per-cell distributions over members, after the probabilities.
    impact : object
        The impact function per building (:class:`twin.risk.impact.BuildingImpact`).
    headline : tuple of str
        Risk maps written as GeoTIFF.
    summary : callable
        ``summary(maps, cell_area_m2) -> dict``: the hazard's part of the risk summary.
    annual : tuple of AnnualProbability
        Annual maps from probability maps and a yearly rate of the scenario (:meth:`with_annual`).
    """

    member_maps: tuple
    probabilities: tuple
    distributions: tuple
    impact: object
    headline: tuple
    summary: Callable
    nan_means_never: tuple = ("arrival_time",)
    annual: tuple = ()
    _fields: FieldRegistry = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        names = self.count_names()
        if len(set(names)) < len(names):
            raise InputError("thresholds repeat (or agree to 6 significant digits)", field="thresholds_m",
                             found=str(names))
        declared = [f for s in (*self.probabilities, *self.distributions, *self.annual) for f in s.fields()]
        object.__setattr__(self, "_fields", FieldRegistry(declared))
        unknown = [n for n in self.headline if n not in self._fields]
        if unknown:
            raise ValueError(f"headline maps {unknown} are not risk maps of this spec")

    def with_annual(self, maps: dict, scenario) -> dict:
        """The reduced risk maps and the :attr:`annual` maps the scenario gives a rate for."""
        return {**maps, **{k: v for a in self.annual for k, v in a.maps(maps, scenario).items()}}

    def count_names(self) -> list[str]:
        """Names of the probability maps, in order."""
        return [n for s in self.probabilities for n in s.names()]

    @property
    def fields(self) -> FieldRegistry:
        """Declarations of every risk map of this spec."""
        return self._fields
