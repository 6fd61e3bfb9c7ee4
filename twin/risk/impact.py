"""Impacts per building: hazard maps x exposure (the building table) x impact function -> impacts.

A hazard declares its impact function as a :class:`BuildingImpact`: what it samples of each
member's maps at each building (:meth:`BuildingImpact.sample`, a few numbers per building), and
the columns it makes of the samples of all members (:meth:`BuildingImpact.columns`), with the
expected fraction of each building's value lost. :class:`BuildingRiskAccumulator` streams
members into the samples and adds the combined risk index and class
(:func:`twin.risk.vulnerability.risk_class`). It keeps ``n_buildings`` values per member and
sample (small), so expectations and percentiles are exact and independent of the order in which
members arrive.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from twin.core.errors import RunError
from twin.risk.exposure import BuildingTable
from twin.risk.statistics import integer_weights, weighted_mean, weighted_percentiles
from twin.risk.vulnerability import RISK_CLASSES, risk_class


class MemberStatistics:
    """Weighted expectation and percentiles over the members used (axis 0 of a sample stack)."""

    def __init__(self, weights: np.ndarray):
        self.weights = weights

    def expect(self, stack: np.ndarray) -> np.ndarray:
        """Weighted mean over members."""
        return weighted_mean(stack, self.weights)

    def percentile(self, stack: np.ndarray, q: int) -> np.ndarray:
        """Weighted inverted-CDF percentile ``q`` (%) over members."""
        return weighted_percentiles(stack, self.weights, [q])[0]


class BuildingImpact(Protocol):
    """The impact function of a hazard per building.

    Attributes
    ----------
    samples : tuple of str
        Names of the values :meth:`sample` gives per building and member.
    loss_column : str
        The column of :meth:`columns` that holds the expected loss (KRW).
    alert_column : str or None
        A probability column the nightly batch alerts on (None: no alerts).
    """

    samples: tuple
    loss_column: str
    alert_column: str | None

    def sample(self, table: BuildingTable, maps: dict) -> dict:
        """Per-building values ``(n,)`` of one member's maps; raises RunError for bad maps."""

    def columns(self, table: BuildingTable, samples: dict, stats: MemberStatistics) -> tuple[dict, np.ndarray]:
        """Columns from the members' samples ``(members, n)``, and the expected fraction of value lost."""


class BuildingRiskAccumulator:
    """Stream hazard members into per-building risk columns.

    Parameters
    ----------
    table : BuildingTable
        From :func:`twin.risk.exposure.building_table`.
    impact : BuildingImpact
        The hazard's impact function (``get_hazard(name).risk.impact``).
    n_members : int
        Ensemble size.
    weights : sequence of float, optional
        Member weights; equal by default.
    """

    def __init__(self, table: BuildingTable, impact: BuildingImpact, n_members: int, weights=None):
        self.table, self.impact = table, impact
        self.weights = integer_weights(weights, n_members)
        self._added = np.zeros(n_members, dtype=bool)
        self._per_member = {k: np.zeros((n_members, table.n)) for k in impact.samples}

    def add(self, member_index: int, maps: dict) -> None:
        """Add one member's hazard maps, in any order.

        Raises
        ------
        RunError
            Index out of range or added twice, a map missing or of the wrong shape, a bad value.
        """
        n = self._added.size
        if not (0 <= member_index < n) or self._added[member_index]:
            raise RunError(f"member index {member_index} is outside 0..{n - 1} or was added twice")
        for key, values in self.impact.sample(self.table, maps).items():
            self._per_member[key][member_index] = values
        self._added[member_index] = True

    def finalize(self, allow_missing: bool = False) -> dict[str, np.ndarray]:
        """The per-building columns: the table's, then the hazard's, then ``risk_index`` and
        ``risk_class`` / ``risk_class_name`` (the expected fraction of value lost, and its class;
        "none" for an index of 0: no member exposed the building to damage).

        Parameters
        ----------
        allow_missing : bool
            Accept members never added; weights are renormalised over the members used.

        Raises
        ------
        RunError
            No member, or members missing without ``allow_missing``.
        """
        used = np.flatnonzero(self._added)
        if used.size == 0 or (used.size < self._added.size and not allow_missing):
            raise RunError(f"{used.size} of {self._added.size} members were added to the building accumulator")
        samples = {k: v[used] for k, v in self._per_member.items()}
        cols = self.table.columns()
        hazard_cols, index = self.impact.columns(self.table, samples, MemberStatistics(self.weights[used]))
        cols.update(hazard_cols)
        cls = risk_class(index)
        cols.update({"risk_index": np.asarray(index, dtype=np.float64), "risk_class": cls,
                     "risk_class_name": np.array([RISK_CLASSES[c] for c in cls], dtype=object)})
        return cols


def require_map(table: BuildingTable, maps: dict, key: str) -> np.ndarray:
    """The map ``key`` of a member, checked to lie on the table's grid."""
    if key not in maps or np.shape(maps[key]) != table.shape:
        raise RunError(f"the member needs a {key} map of shape {table.shape}")
    return maps[key]
