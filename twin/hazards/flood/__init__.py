"""The flood hazard: urban pluvial and fluvial flooding with the local inertial scheme.

Its declaration (:data:`FLOOD`) gathers, in one place, what the rest of the project knows of a
flood: the ``flood:`` scenario block (:mod:`.schema`), the run (:mod:`.run`: inputs from
:mod:`.setup`, the time loop :mod:`.model` or its tiled twin :mod:`.tiled`), what members draw
(:mod:`.members`), the fields and outputs (:mod:`.fields`), the risk (:mod:`.risk`, with the
hazard rating of :mod:`.rating`), the memory use (:mod:`.memory`) and its design-event sets (the
``events:`` block: design storms as rainfall, :func:`.members.apply_event`; their risk,
:func:`.risk.flood_event_risk`) and what adaptation measures may change (:mod:`.adaptation`).
"""

from __future__ import annotations

from twin.events.design_events import scenario_events
from twin.events.schema import EventsSpec
from twin.hazards.flood import members, run
from twin.hazards.flood.adaptation import ADAPTATION
from twin.hazards.flood.fields import FLOOD_FIELDS, OUTPUTS
from twin.hazards.flood.memory import memory
from twin.hazards.flood.risk import flood_event_risk, flood_risk
from twin.hazards.flood.schema import FloodSpec
from twin.hazards.interface import EventSupport, Hazard

FLOOD = Hazard(
    name="flood", block=FloodSpec, block_required=None, check_scenario=members.check_scenario,
    perturbations=members.PERTURBATIONS, apply_draw=members.apply_draw, check_draws=run.check_draws,
    input_files=run.input_files, prepare=run.prepare, simulate=run.simulate, write=run.write,
    member_maps=run.member_maps, building_columns=run.building_columns, fields=FLOOD_FIELDS, outputs=OUTPUTS,
    risk=flood_risk(), memory=memory, with_forecast=members.with_forecast,
    events=EventSupport(EventsSpec, scenario_events, members.apply_event, flood_event_risk()),
    adaptation=ADAPTATION)
