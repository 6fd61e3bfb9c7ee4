"""What adaptation measures (:mod:`twin.adaptation`) may change in a fire run
(:class:`twin.hazards.interface.Adaptation`): the fuel model of each cell (a firebreak makes cells
non-burnable) and the fire-resistant share of each building cell in Hamada's spread (a retrofit),
both fields of :class:`twin.hazards.fire.model.FireInputs`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from twin.hazards.interface import AdaptableInput, Adaptation


@dataclass(frozen=True)
class _InputArray:
    """The array ``name`` of ``FireInputs``: read (NaN everywhere where it is not given) and replaced."""

    name: str

    def get(self, inputs):
        """The array (NaN on the grid where the inputs give none)."""
        value = getattr(inputs, self.name)
        return np.full(np.shape(inputs.fuel_model), np.nan) if value is None else value

    def put(self, inputs, array):
        """New inputs holding ``array``."""
        return replace(inputs, **{self.name: array})


def _adaptable(name: str, units: str) -> AdaptableInput:
    array = _InputArray(name)
    return AdaptableInput(name, units, array.get, array.put)


ADAPTATION = Adaptation(inputs=(_adaptable("fuel_model", "1"), _adaptable("fire_resistant_share", "1")),
                        building_changes=(), with_buildings=None, compared=("arrival_time",),
                        reached="arrival_time")
