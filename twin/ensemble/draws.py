"""Ensemble members: seeded draws of the uncertain inputs, and the scenario each member runs.

Member ``k`` draws from ``numpy.random.SeedSequence(seed).spawn(members)[k]``; each perturbation
declared by a hazard (:class:`twin.hazards.interface.Perturbation`) has its own child stream of
that sequence, at the fixed index the perturbation declares, and the member's own random
processes (fire spotting) use stream :data:`twin.hazards.interface.NOISE_STREAM`. So the same seed
gives the same members whatever the number of workers, the order in which they finish, which
other perturbations the scenario adds, or which hazards are registered.

Draws are made in the driver (they may read a probability raster); a member's scenario is the
scenario with its draws applied by its hazard (:func:`member_scenario`), which the worker then
prepares and runs.

Design-event sets (the ``events:`` block): each event runs the scenario with the event's forcing
applied by its hazard (:func:`event_runs`), and every member runs in every event with the same draws
(the same seeds), so that events differ by their forcing alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from pydantic import ValidationError

from twin.events.design_events import EventSet
from twin.hazards.interface import EVENTS_BLOCK, NOISE_STREAM, Hazard
from twin.scenario.schema import ScenarioFile


@dataclass(frozen=True)
class MemberDraw:
    """What member ``index`` drew (``None`` index: the control run, the scenario as written).

    Attributes
    ----------
    index : int or None
        Member index ``0 .. members-1``; None for the control.
    values : dict
        Drawn values by perturbation name: scales (-), shift (s), wind speed added (m/s), wind
        direction added (degrees), ignition points (list of (x, y) in m).
    weight : float
        Weight of the member in expected values (equal unless the scenario gives weights).
    forecast_member : int or None
        Member of a gridded rainfall ensemble this member runs (nightly forecasts).
    noise_seed : int or None
        Seed of the member's own random processes (e.g. fire spotting), from the member's last
        child stream; None: the scenario's seed (the control).
    """

    index: int | None
    values: dict = field(default_factory=dict)
    weight: float = 1.0
    forecast_member: int | None = None
    noise_seed: int | None = None


def is_ensemble(sf: ScenarioFile) -> bool:
    """True when the scenario asks for perturbed members (more than the control run)."""
    ens = sf.scenario.ensemble
    return ens.members > 1 or any(v is not None for v in ens.perturb.model_dump().values())


def member_draws(sf: ScenarioFile, twin: xr.Dataset, hazard: Hazard) -> list[MemberDraw]:
    """The scenario's members: its ensemble's draws, or the control alone."""
    return draw_members(sf, twin, hazard) if is_ensemble(sf) else [MemberDraw(0)]


def control_only(draws: list[MemberDraw]) -> bool:
    """True when ``draws`` is the control run alone (no dask members to run)."""
    return len(draws) == 1 and draws[0].values == {} and draws[0].forecast_member is None


def draw_members(sf: ScenarioFile, twin: xr.Dataset, hazard: Hazard) -> list[MemberDraw]:
    """The draws of every member of the scenario's ensemble (deterministic from its seed).

    Parameters
    ----------
    sf : ScenarioFile
        The scenario (its ``ensemble`` block; ``ensemble.seed`` defaults to ``seed``).
    twin : xarray.Dataset
        The twin (for ignition positions).
    hazard : Hazard
        The scenario's hazard (it declares the perturbations).

    Returns
    -------
    list of MemberDraw
        One per member, in index order.
    """
    ens = sf.scenario.ensemble
    seed = sf.scenario.seed if ens.seed is None else ens.seed
    weights = ens.weights or [1.0] * ens.members
    perturbations = hazard.perturbations
    n_streams = max([NOISE_STREAM, *(p.stream for p in perturbations)]) + 1
    draws = []
    for k, member_seq in enumerate(np.random.SeedSequence(seed).spawn(ens.members)):
        children = member_seq.spawn(n_streams)
        values = {}
        for p in sorted(perturbations, key=lambda p: p.stream):
            spec = getattr(ens.perturb, p.name)
            if spec is not None:
                values[p.name] = p.draw(spec, np.random.default_rng(children[p.stream]), sf, twin)
        noise_seed = int(children[NOISE_STREAM].generate_state(1, np.uint64)[0])
        draw = MemberDraw(k, values, float(weights[k]), noise_seed=noise_seed)
        check_member(sf, draw, hazard)
        draws.append(draw)
    return draws


def check_member(sf: ScenarioFile, draw: MemberDraw, hazard: Hazard) -> None:
    """Refuse a draw whose member scenario breaks the schema's bounds (before anything runs).

    A perturbation can push a valid scenario out of range (a rainfall scale drawn from a wide
    log-normal, a negative Manning scale from a normal): the member's scenario is validated
    again and the first error is reported at ``ensemble.perturb``, naming the member and draw.

    Raises
    ------
    InputError
        Naming the member, its drawn values and the bound broken.
    """
    problem = _schema_problem(member_scenario(sf, draw, hazard).scenario)
    if problem is not None:
        drawn = {k: v for k, v in draw.values.items() if k != "ignition"}
        raise sf.error(("ensemble", "perturb"), f"member {draw.index} draws {drawn}, which gives {problem}; "
                       "narrow the distribution")


def _schema_problem(scenario) -> str | None:
    """The first schema error of a scenario built in code (``"path: message"``), validated again; None if valid."""
    try:
        type(scenario).model_validate(scenario.model_dump(warnings=False))
    except ValidationError as exc:
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
    return None


def heaviest_first(draws: list[MemberDraw], perturbations=()) -> list[MemberDraw]:
    """The draws in the order to start them: the members expected to run longest first.

    Starting the longest jobs first keeps the last ones short, so that workers finish close
    together (Graham 1969, "longest processing time first"). The expected length is ranked by
    the forcing drawn, in the order of the perturbations that declare ``heavier_when_larger``: a
    larger rainfall scale (deeper water, a shorter stable time step, more steps: on the sample
    city 7.6 s at scale 0.90, 11.0 s at 1.53), more wind added (a fire reaching more cells).
    Only the order of starting changes; each member's result and the reduced risk do not (see
    :func:`draw_members`).

    Parameters
    ----------
    draws : list of MemberDraw
    perturbations : sequence of Perturbation
        The hazard's perturbations.

    Returns
    -------
    list of MemberDraw
        The same draws, reordered (ties keep index order).
    """
    return sorted(draws, key=lambda d: heaviness(d, perturbations))


def heaviness(draw: MemberDraw, perturbations=()) -> tuple:
    """The sort key of :func:`heaviest_first`: smaller for a member expected to run longer."""
    return tuple(-draw.values.get(p.name, p.heavier_when_larger) for p in perturbations
                 if p.heavier_when_larger is not None)


def member_scenario(sf: ScenarioFile, draw: MemberDraw, hazard: Hazard) -> ScenarioFile:
    """The scenario a member runs: its hazard block with the draws applied
    (:attr:`twin.hazards.interface.Hazard.apply_draw`) and the member's own seed."""
    sc = sf.scenario
    update = {hazard.name: hazard.apply_draw(sc, draw)}
    if draw.noise_seed is not None:
        update["seed"] = draw.noise_seed
    return ScenarioFile(sc.model_copy(update=update), sf.path, sf.lines)


@dataclass(frozen=True)
class EventRuns:
    """A scenario's design events and the scenario each one runs (before the members' draws).

    Attributes
    ----------
    events : EventSet
        The events, in increasing return period (:class:`twin.events.design_events.EventSet`).
    scenarios : tuple of ScenarioFile
        Per event, the scenario with the event's forcing and no ``events:`` block.
    """

    events: EventSet
    scenarios: tuple

    @property
    def control(self) -> ScenarioFile:
        """The control run of the set: its rarest event as written (no draws)."""
        return self.scenarios[-1]

    @property
    def labels(self) -> list[str]:
        """How messages name each event (``"T = 100 years"``)."""
        return [e.label for e in self.events.events]


def event_scenario(sf: ScenarioFile, event, hazard: Hazard) -> ScenarioFile:
    """The scenario of one design event: the hazard's block with the event applied
    (:attr:`twin.hazards.interface.EventSupport.apply`), without the ``events:`` block."""
    sc = sf.scenario
    update = {hazard.name: hazard.events.apply(sc, event), EVENTS_BLOCK: None}
    return ScenarioFile(sc.model_copy(update=update), sf.path, sf.lines)


def event_runs(sf: ScenarioFile, hazard: Hazard) -> EventRuns | None:
    """The design events of a scenario with an ``events:`` block, each with its scenario; None without one.

    Raises
    ------
    InputError
        For the block's IDF relation (:attr:`twin.hazards.interface.EventSupport.design`), or an
        event whose scenario breaks the schema's bounds (e.g. a rain intensity above the plausible
        one), at ``events`` naming the event.
    """
    if getattr(sf.scenario, EVENTS_BLOCK, None) is None:
        return None
    events = hazard.events.design(sf)
    scenarios = []
    for event in events.events:
        event_sf = event_scenario(sf, event, hazard)
        problem = _schema_problem(event_sf.scenario)
        if problem is not None:
            raise sf.error((EVENTS_BLOCK,), f"the design event {event.label} gives {problem}")
        scenarios.append(event_sf)
    return EventRuns(events, tuple(scenarios))
