"""``twin compare``: a scenario run as the baseline and with each strategy, and what each strategy changed.

Every run goes the one run path (:func:`twin.pipeline.run.prepare_run`, :func:`run_prepared`)
with the scenario as written, so the baseline and the strategies use the same events, members and
seeds; a strategy's measures reach the run only through its adapted hazard
(:func:`twin.adaptation.adapted.adapted_registry`). The baseline runs with an empty plan (the same
functions, no measures), so a strategy without measures compares to exactly zero.

The comparison folder (written whole, as a run folder: staged, locked, ``manifest.json`` last)::

    baseline/                  the baseline's run folder
    <strategy>/                each strategy's run folder
    difference_<strategy>.nc   difference maps (CF, CRS) and a COG of each (difference_<strategy>_<map>.tif)
    avoided_<strategy>.csv     per building: the baseline's, the strategy's and the avoided loss; gains / loses
    measures_<strategy>.gpkg   the measures as a vector layer
    summary.json               per strategy: cost, avoided losses (total and per event from the runs'
                               summary.json, per member from buildings.csv), cells newly reached and
                               spared, avoided EAD, present value and benefit-cost ratio

Every input error (the scenario, each strategy and its measures on the twin) is raised before the
first run starts.
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

from twin.adaptation.adapted import adapted_registry
from twin.adaptation.difference import avoided_losses, write_avoided, write_difference
from twin.adaptation.economics import benefit_cost
from twin.adaptation.layer import write_measures
from twin.adaptation.measures import Plan, plan_strategy, site_of
from twin.adaptation.schema import StrategyFile, read_strategy
from twin.core.citytwin import load_twin, twin_input_files
from twin.core.errors import InputError
from twin.hazards.interface import EVENTS_BLOCK
from twin.hazards.registry import get_hazard
from twin.io.provenance import file_sha256, package_versions, utc_now, write_json
from twin.io.run_folders import MANIFEST, list_products, staged_run_folder
from twin.pipeline.run import load_run_scenario, prepare_run, run_prepared
from twin.risk.event_set import EAD_COLUMN, loss_column

#: The baseline's run folder in a comparison folder (no strategy may take the name).
BASELINE = "baseline"


def _check_names(strategies: list[StrategyFile]) -> None:
    """Refuse two strategies of one name, or one named as the baseline."""
    seen: dict = {}
    for st in strategies:
        name = st.strategy.name
        if name == BASELINE or name in seen:
            raise st.error(("name",), "each strategy needs its own name, other than 'baseline' (it names its run "
                           "folder)", found=repr(name) + (f", also in {seen[name]}" if name in seen else ""))
        seen[name] = st.path


def _economics(st: StrategyFile, plan: Plan, avoided: dict, has_events: bool) -> dict:
    """The avoided EAD (from the event set's EAD, or the event's frequency times the avoided loss) and
    its benefit-cost ratio; a note in place of them when neither is known."""
    econ = st.strategy.economics
    if has_events:
        avoided_ead, how = avoided["avoided_main"], "the event set's expected annual damage"
    elif econ.event_frequency_per_year is not None:
        avoided_ead = econ.event_frequency_per_year * avoided["avoided_main"]
        how = f"the scenario's frequency ({econ.event_frequency_per_year:g} per year) times its avoided loss"
    else:
        return {"note": "no expected annual damage: run a scenario with an events: block, or give the scenario's "
                        "economics.event_frequency_per_year in the strategy", "cost_krw": plan.cost_krw}
    return {**benefit_cost(avoided_ead, plan.cost_krw, econ.lifetime_years, econ.discount_rate), "avoided_ead_from": how}


def _member_losses(totals: dict, loss: str) -> list:
    """The avoided loss of each member (KRW), from the per-member columns' totals (ensembles only)."""
    k, out = 0, []
    while f"avoided_member_{k}_{loss}" in totals:
        out.append(totals[f"avoided_member_{k}_{loss}"])
        k += 1
    return out


def _exact_totals(run: Path, loss: str, has_events: bool) -> dict:
    """A run's total loss (KRW; an event set's: its EAD, KRW/yr) and each event's, from its
    ``summary.json`` (exact; ``buildings.csv`` keeps 6 significant digits)."""
    risk = json.loads((run / "summary.json").read_text(encoding="utf-8"))["risk"]
    if not has_events:
        return {"main": risk[loss], "events": {}}
    ev = risk["events"]
    return {"main": ev["expected_annual_damage_krw"],
            "events": {loss_column(t): v for t, v in zip(ev["return_periods_years"], ev["loss_krw"])}}


def strategy_summary(st: StrategyFile, plan: Plan, hazard, folder: Path, twin, scenario_name: str,
                     has_events: bool) -> dict:
    """Write a strategy's comparison products into ``folder`` and return its part of ``summary.json``."""
    name = st.strategy.name
    cells = write_difference(folder, f"difference_{name}", hazard, folder / BASELINE, folder / name, twin,
                             {"strategy": name, "scenario_name": scenario_name})
    write_measures(folder / f"measures_{name}.gpkg", plan, twin.rio.crs)
    loss = hazard.risk.impact.loss_column
    main = EAD_COLUMN if has_events else loss
    table = avoided_losses(hazard, folder / BASELINE, folder / name)
    losses = write_avoided(folder / f"avoided_{name}.csv", table, main)
    totals = losses["totals_krw"]
    before, after = (_exact_totals(folder / run, loss, has_events) for run in (BASELINE, name))
    avoided = {"avoided_main": before["main"] - after["main"], **totals}
    per_event = {c: before["events"][c] - after["events"][c] for c in before["events"]}
    return {"strategy": name, "file": str(st.path), "description": st.strategy.description,
            "run_folder": name, "measures": [{"name": e.name, "type": e.type, "cost_krw": e.cost_krw, **e.size}
                                             for e in plan.effects],
            "cost_krw": plan.cost_krw, "loss_column": main,
            "baseline_loss_krw": before["main"], "strategy_loss_krw": after["main"],
            "avoided_loss_krw": avoided["avoided_main"], "avoided_loss_per_event_krw": per_event,
            "avoided_loss_per_member_krw": _member_losses(totals, loss), "buildings": losses["buildings"],
            "cells": cells, "economics": _economics(st, plan, avoided, has_events)}


def compare(scenario_path: str | Path, strategy_paths: list, out: str | Path, *, until: float | None = None,
            progress: bool = True, extra_outputs: Callable | None = None, stills: Callable | None = None,
            scheduler: str | None = None, workers: int | None = None, force: bool = False) -> Path:
    """Run the baseline and each strategy of a scenario and write the comparison folder (module docstring).

    Parameters
    ----------
    scenario_path : str or Path
        The scenario.
    strategy_paths : list of str or Path
        The strategy files (at least one).
    out : str or Path
        The comparison folder.
    until : float, optional
        Stop every run at this simulated time (s), as ``twin run --until``.
    progress : bool
        Show progress bars.
    extra_outputs : callable, optional
        ``extra_outputs(folder, sf)`` for each run folder (renderings), as :func:`run_prepared`'s.
    stills : callable, optional
        ``stills(folder, summary)`` writes the comparison's renderings and report into the folder
        before its manifest (the entry point passes :func:`viz.comparison.write_comparison_report`).
    scheduler, workers, force
        As :func:`twin.pipeline.run.run_prepared` (``force``: for the comparison folder).

    Returns
    -------
    Path
        The comparison folder.

    Raises
    ------
    InputError
        Bad scenario, strategy or measure, before any run; a folder that may not be written.
    RunError
        A run failed.
    """
    started, t0 = utc_now(), time.perf_counter()
    if not strategy_paths:
        raise InputError("give at least one strategy", field="--strategy")
    sf = load_run_scenario(scenario_path)
    strategies = [read_strategy(p) for p in strategy_paths]
    _check_names(strategies)
    hazard = get_hazard(sf.scenario.hazard)
    twin = load_twin(sf.twin_source(), base_dir=sf.folder)
    site = site_of(twin)
    plans = [Plan(BASELINE, (), site.buildings.n)] + [plan_strategy(st, hazard, site) for st in strategies]
    names = [BASELINE] + [st.strategy.name for st in strategies]
    inputs = [sf.path, *twin_input_files(sf.twin_source(), sf.folder), *(st.path for st in strategies)]
    has_events = getattr(sf.scenario, EVENTS_BLOCK, None) is not None
    with ExitStack() as stack:
        folder = stack.enter_context(staged_run_folder(out, inputs, force))
        runs = {}
        for name, plan in zip(names, plans):
            registry = adapted_registry(hazard, plan)
            prep = prepare_run(sf, until=until, hazards=registry, render=extra_outputs is not None,
                               out=folder / name, workers=workers, scheduler=scheduler)
            run_prepared(prep, folder / name, progress=progress, extra_outputs=extra_outputs, scheduler=scheduler,
                         workers=workers)
            runs[name] = registry[hazard.name]
        summary = {"scenario": sf.scenario.name, "scenario_file": str(sf.path), "hazard": hazard.name,
                   "until_s": until, "baseline_folder": BASELINE, "event_set": has_events,
                   "strategies": [strategy_summary(st, plan, runs[st.strategy.name], folder, twin, sf.scenario.name,
                                                   has_events) for st, plan in zip(strategies, plans[1:])]}
        summary["timings"] = {"total_s": time.perf_counter() - t0}
        write_json(folder / "summary.json", summary)
        if stills is not None:
            stills(folder, summary)
        write_json(folder / MANIFEST, {
            "kind": "comparison", "scenario": sf.scenario.name, "scenario_file": str(sf.path),
            "inputs": {str(p): file_sha256(p) for p in inputs}, "strategies": names[1:],
            "versions": package_versions(), "started": started, "finished": utc_now(), "status": "complete",
            "products": list_products(folder)})
    return Path(out)
