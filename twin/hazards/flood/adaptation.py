"""What adaptation measures (:mod:`twin.adaptation`) may change in a flood run
(:class:`twin.hazards.interface.Adaptation`).

Prepared inputs (the ``FloodInputs`` of :func:`twin.hazards.flood.run.prepare`): the bed
elevation ``z`` (m; a floodwall raises it to its crest, a basin lowers it), the infiltration
capacity (m/s; green roofs and parks) and the storm-drain capacity (m/s; pumps), both sinks of the
kernel, and the retention storage (m; green roofs' and parks' soil storage), a sink of the time
loop: all counted in the volume ledger (``infiltration``, ``drainage``, ``retained``). Buildings:
a raise of the first floor and dry floodproofing (:class:`twin.hazards.flood.risk.FloodImpact`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from twin.hazards.flood.risk import BUILDING_CHANGES, with_building_changes
from twin.hazards.interface import AdaptableInput, Adaptation


@dataclass(frozen=True)
class _ModelArray:
    """The array ``name`` of the flood's ``FloodInputs`` (``inputs["model"]``): read and replaced."""

    name: str

    def get(self, inputs):
        """The array."""
        return getattr(inputs["model"], self.name)

    def put(self, inputs, array):
        """New inputs with ``array`` (``FloodInputs`` checks it again)."""
        return {**inputs, "model": replace(inputs["model"], **{self.name: array})}


def _adaptable(name: str, units: str, field: str) -> AdaptableInput:
    """The adaptable input ``name`` (``units``) held in ``FloodInputs.<field>``."""
    array = _ModelArray(field)
    return AdaptableInput(name, units, array.get, array.put)


ADAPTATION = Adaptation(
    inputs=(_adaptable("bed_elevation", "m", "z"), _adaptable("infiltration_rate", "m s-1", "loss_rate"),
            _adaptable("drainage_rate", "m s-1", "drainage_rate"), _adaptable("retention", "m", "retention_m")),
    building_changes=BUILDING_CHANGES, with_buildings=with_building_changes,
    compared=("max_depth", "arrival_time"), reached="arrival_time")
