"""A hazard with a strategy's plan applied: its prepared inputs edited, its building impact changed.

The adapted hazard is an ordinary :class:`twin.hazards.interface.Hazard` (``dataclasses.replace``
of the scenario's): the run path (:mod:`twin.pipeline.run`), its members on dask workers and its
design events all use it unchanged. Its ``prepare`` is the hazard's, then the plan's input edits
(:class:`AdaptedPrepare`), so that every member and event, prepared on a worker, carries the
measures; its impact functions (:attr:`Hazard.risk` and an event set's) take the plan's
per-building changes (:attr:`twin.hazards.interface.Adaptation.with_buildings`). A plan without
measures gives back the hazard's own functions' results bit for bit.

A comparison wants each member's loss, not only the expectation over members: the adapted
hazard's impact (outside design events) adds a column per member (:class:`MemberLosses`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from twin.adaptation.measures import Plan
from twin.hazards.interface import Adaptation, Hazard
from twin.hazards.registry import HAZARDS, HazardRegistry
from twin.risk.impact import MemberStatistics


@dataclass(frozen=True)
class AdaptedPrepare:
    """``prepare(sf, twin)``: the hazard's own, then the input edits in order (picklable, for dask workers)."""

    prepare: Callable
    edits: tuple
    adaptation: Adaptation | None

    def __call__(self, sf, twin):
        inputs = self.prepare(sf, twin)
        for edit in self.edits:
            target = self.adaptation.input(edit.input)
            inputs = target.put(inputs, edit.applied(target.get(inputs)))
        return inputs


@dataclass(frozen=True)
class MemberLosses:
    """An impact function (:class:`twin.risk.impact.BuildingImpact`) that also gives each member's loss
    per building, ``member_<k>_<loss column>`` (KRW), ``k`` counting the members used, with more than one."""

    impact: object

    @property
    def samples(self) -> tuple:
        """The impact's samples."""
        return self.impact.samples

    @property
    def loss_column(self) -> str:
        """The impact's loss column."""
        return self.impact.loss_column

    @property
    def alert_column(self) -> str | None:
        """The impact's alert column."""
        return self.impact.alert_column

    def sample(self, table, maps: dict) -> dict:
        """The impact's samples of one member."""
        return self.impact.sample(table, maps)

    def columns(self, table, samples: dict, stats) -> tuple[dict, np.ndarray]:
        """The impact's columns, then one loss column per member (the impact of that member alone)."""
        columns, fraction = self.impact.columns(table, samples, stats)
        n = len(next(iter(samples.values())))
        for k in range(n if n > 1 else 0):
            one, _ = self.impact.columns(table, {key: v[k:k + 1] for key, v in samples.items()},
                                         MemberStatistics(np.ones(1, dtype=np.int64)))
            columns[f"member_{k}_{self.loss_column}"] = one[self.loss_column]
        return columns, fraction


def adapted_hazard(hazard: Hazard, plan: Plan) -> Hazard:
    """``hazard`` with ``plan`` applied (module docstring)."""
    changes = plan.building_changes()
    risk, events = hazard.risk, hazard.events
    if changes:
        with_buildings = hazard.adaptation.with_buildings
        risk = replace(risk, impact=with_buildings(risk.impact, changes))
        if events is not None:
            spec = events.risk.spec
            events = replace(events, risk=replace(events.risk, spec=replace(
                spec, impact=with_buildings(spec.impact, changes))))
    risk = replace(risk, impact=MemberLosses(risk.impact))
    return replace(hazard, prepare=AdaptedPrepare(hazard.prepare, plan.edits, hazard.adaptation), risk=risk,
                   events=events)


def adapted_registry(hazard: Hazard, plan: Plan, registry: HazardRegistry = HAZARDS) -> HazardRegistry:
    """``registry`` with ``hazard`` replaced by its adapted form (the run path takes a registry)."""
    return HazardRegistry([adapted_hazard(hazard, plan) if h is hazard else h for h in registry.values()])
