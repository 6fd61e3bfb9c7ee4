"""The fire hazard's risk: burn probability and arrival statistics per cell, burn probability and
expected loss per building (a burned building is a total loss); with the scenario's
``fire.annual_ignition_frequency_per_year`` (lambda, ignitions per year), the annual burn probability
``1 - exp(-lambda p)`` of each cell from its burn probability p (:mod:`twin.risk.annual`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.risk.annual import AnnualProbability
from twin.risk.exposure import BuildingTable, any_on_footprint
from twin.risk.impact import MemberStatistics, require_map
from twin.risk.spec import ARRIVAL_PERCENTILES, ARRIVAL_WITHIN_S, Distribution, Occurs, RiskSpec, Within


@dataclass(frozen=True)
class FireImpact:
    """A building burns in a member when any footprint cell burns.

    Columns: ``burn_probability`` and ``expected_fire_loss_krw`` (value x burn probability). A
    building the fire never reaches has burn probability 0, hence risk index 0 and class "none".
    """

    samples: tuple = ("burned",)
    loss_column: str = "expected_fire_loss_krw"
    alert_column: str | None = None

    def sample(self, table: BuildingTable, maps: dict) -> dict:
        """1.0 where the member's fire reached the building."""
        return {"burned": any_on_footprint(table, require_map(table, maps, "burned"))}

    def columns(self, table: BuildingTable, samples: dict, stats: MemberStatistics) -> tuple[dict, np.ndarray]:
        """The fire columns and the expected fraction of value lost (the burn probability)."""
        burn = stats.expect(samples["burned"])
        return {"burn_probability": burn, self.loss_column: table.value_krw * burn}, burn


def _summary(maps: dict, cell_area_m2: float) -> dict:
    """Expected burned area (m^2)."""
    return {"expected_burned_area_m2": float(np.nansum(maps["burn_probability"]) * cell_area_m2)}


def annual_ignition_frequency(scenario) -> float | None:
    """lambda (ignitions per year) of the scenario's fire block, None where it gives none."""
    return scenario.fire.annual_ignition_frequency_per_year


#: The annual burn probability of a cell (:mod:`twin.risk.annual`).
ANNUAL_BURN = AnnualProbability(
    "burn_probability", "annual_burn_probability",
    "annual burn probability: the probability per year that at least one fire reaches the cell, 1 - exp(-lambda p) "
    "for lambda ignitions per year (fire.annual_ignition_frequency_per_year, Poisson arrivals) and the burn "
    "probability p over the members of one ignition", annual_ignition_frequency)


def fire_risk(arrival_within_s=ARRIVAL_WITHIN_S) -> RiskSpec:
    """The fire risk specification (horizons in s of the probability of arrival within them)."""
    return RiskSpec(
        member_maps=("arrival_time", "burned"),
        probabilities=(Occurs("burned", "burn_probability", "probability over members that the fire reached "
                                                            "the cell"),
                       Within("arrival_time", arrival_within_s)),
        distributions=(Distribution("arrival_time", ARRIVAL_PERCENTILES, "s", "arrival time", nan_is_never=True),),
        impact=FireImpact(),
        headline=("burn_probability", "arrival_time_p50"),
        summary=_summary, annual=(ANNUAL_BURN,))
