"""The fire hazard: wildland (Rothermel) and urban (Hamada) fire spread with spotting.

Its declaration (:data:`FIRE`) gathers, in one place, what the rest of the project knows of a
fire: the ``fire:`` scenario block (:mod:`.schema`), the run (:mod:`.run`, the solver driver
:mod:`.model`), what members draw (:mod:`.members`), the fields and outputs (:mod:`.fields`), the
risk (:mod:`.risk`), the memory use (:mod:`.memory`) and what adaptation measures may change
(:mod:`.adaptation`). A fire takes no rainfall forecast.
"""

from __future__ import annotations

from twin.hazards.fire import members, run
from twin.hazards.fire.adaptation import ADAPTATION
from twin.hazards.fire.fields import FIRE_FIELDS, OUTPUTS
from twin.hazards.fire.memory import memory
from twin.hazards.fire.risk import fire_risk
from twin.hazards.fire.schema import FireSpec
from twin.hazards.interface import Hazard

FIRE = Hazard(
    name="fire", block=FireSpec,
    block_required="fire: a fire scenario needs a 'fire:' block with at least one ignition",
    check_scenario=members.check_scenario, perturbations=members.PERTURBATIONS, apply_draw=members.apply_draw,
    check_draws=run.check_draws, input_files=run.input_files, prepare=run.prepare, simulate=run.simulate,
    write=run.write, member_maps=run.member_maps, building_columns=run.building_columns, fields=FIRE_FIELDS,
    outputs=OUTPUTS, risk=fire_risk(), memory=memory, adaptation=ADAPTATION)
