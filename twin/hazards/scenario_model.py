"""The scenario schema of a set of hazards: the shared blocks, ``hazard``, one block per hazard and
the ``ensemble`` block with the hazards' perturbations, as one frozen pydantic model.

The fields keep the order of the documented schema (``docs/scenarios.md``), so errors are
listed in the order of the file's keys.
"""

from __future__ import annotations

from typing import Literal

from pydantic import create_model, model_validator

from twin.hazards.interface import EVENTS_BLOCK
from twin.scenario.schema import EnsembleSpec, Frozen, ScenarioBase


def scenario_model(hazards) -> type:
    """Build the scenario model of ``hazards`` (a mapping name -> :class:`twin.hazards.interface.Hazard`).

    Three classes are made: ``Scenario``, its ``ScenarioEnsemble`` block and that block's
    ``ScenarioPerturbations``; a module that wants scenarios to pickle by reference (dask sends
    them to workers) makes them its attributes (:meth:`twin.hazards.registry.HazardRegistry.home_models`).

    The model checks, after the fields: the snapshot and gauge counts (:class:`ScenarioBase`); the
    scenario's hazard block (filled with its defaults, or refused when the hazard requires one);
    that every perturbation drawn belongs to the scenario's hazard; that an ``events:`` block (present
    when a hazard runs design-event sets, :class:`twin.hazards.interface.EventSupport`) belongs to a
    hazard that runs them; the hazard's own rules across blocks (``check_scenario``).
    """
    owner = {p.name: h for h in hazards.values() for p in h.perturbations}
    event_hazards = [name for name, h in hazards.items() if h.events is not None]
    event_blocks = {hazards[name].events.block for name in event_hazards}
    if len(event_blocks) > 1:
        raise ValueError(f"hazards {event_hazards} declare different {EVENTS_BLOCK}: blocks; they must share one")
    events = {EVENTS_BLOCK: (event_blocks.pop() | None, None)} if event_blocks else {}
    perturbations = create_model("ScenarioPerturbations", __base__=Frozen,
                                 __doc__="What each ensemble member draws (one value per member each).",
                                 **{p.name: (p.schema | None, None) for h in hazards.values() for p in h.perturbations})
    ensemble = create_model("ScenarioEnsemble", __base__=EnsembleSpec, __doc__=EnsembleSpec.__doc__,
                            perturb=(perturbations, perturbations()))

    def hazard_block(self):
        hazard = hazards[self.hazard]
        if getattr(self, hazard.name) is None:
            if hazard.block_required is not None:
                raise ValueError(hazard.block_required)
            object.__setattr__(self, hazard.name, hazard.block())
        for name in type(self.ensemble.perturb).model_fields:
            if getattr(self.ensemble.perturb, name) is not None and owner[name] is not hazard:
                raise ValueError(f"ensemble: perturb.{name} applies to {owner[name].name} scenarios, not to "
                                 f"a {hazard.name} scenario")
        if getattr(self, EVENTS_BLOCK, None) is not None and hazard.events is None:
            raise ValueError(f"{EVENTS_BLOCK}: design-event sets apply to {' or '.join(event_hazards)} scenarios, "
                             f"not to a {hazard.name} scenario")
        problem = hazard.check_scenario(self)
        if problem is not None:
            raise ValueError(problem)
        return self

    shared = ScenarioBase.model_fields

    def common(name):
        return shared[name].annotation, shared[name]

    fields = {"name": common("name"), "description": common("description"), "twin": common("twin"),
              "hazard": (Literal[tuple(hazards)], ...), "duration": common("duration"), "start": common("start"),
              "seed": common("seed"),
              **{name: (h.block | None, None) for name, h in hazards.items()}, **events,
              "output": common("output"), "render": common("render"), "ensemble": (ensemble, ensemble()),
              "parallel": common("parallel"), "scheduler": common("scheduler")}
    validators = {"_counts": model_validator(mode="after")(ScenarioBase._counts_of),
                  "_hazard_block": model_validator(mode="after")(hazard_block)}
    return create_model("Scenario", __base__=Frozen, __doc__="A validated scenario.", __validators__=validators,
                        **fields)
