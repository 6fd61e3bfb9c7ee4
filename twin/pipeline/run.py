"""The one run pipeline: a scenario into a run folder.

The steps are the same for every hazard (:mod:`twin.hazards.interface`): load and validate the
scenario (:func:`load_run_scenario`), check that the run fits, load the twin and prepare the
hazard's inputs (:func:`prepare_run`: every input error surfaces here, before anything runs),
then (:func:`run_prepared`) run the control (the scenario as written) and the ensemble members,
the control as one more dask task among the members when there are members (so that no worker
waits while it runs), write its hazard outputs into a staging folder, reduce the members into
risk outputs (:mod:`twin.pipeline.risk_run`), add extra products (renderings), write ``manifest.json`` last
(every file written, and the status: ``complete``, ``truncated`` when ``until`` stopped the run
before the scenario's end, or ``members_failed``), and rename the folder into place. The run's
events are appended to ``run.log`` in the staging folder as JSON lines (:mod:`twin.io.runlog`),
and go to the ``twin`` logger. A failed or interrupted run leaves nothing under the final
name. ``twin run``, ``run_scenario.py`` (:func:`run_scenario`) and the nightly batch (its own
member draws and output location, :mod:`twin.pipeline.batch`) all go this way.
"""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import xarray as xr

from twin.core.cf import start_text
from twin.core.citytwin import load_twin, save_twin, twin_input_files
from twin.core.errors import InputError, RunError
from twin.ensemble.cluster import dask_client, submit_control, warn_unused_cluster
from twin.ensemble.draws import EventRuns, control_only, event_runs, member_draws
from twin.hazards.interface import Hazard
from twin.hazards.registry import HAZARDS, HazardRegistry, get_hazard, load_scenario
from twin.io.provenance import file_sha256, package_versions, utc_now, write_json
from twin.io.run_folders import MANIFEST, RUN_LOG, list_products, staged_run_folder
from twin.io.runlog import EventLog
from twin.pipeline.budget import Budget, check_run_fits, estimate_run, member_count, scenario_grid
from twin.pipeline.risk_run import reduce_members, write_risk
from twin.core.yamlio import line_of
from twin.scenario.schema import ScenarioFile


@dataclass(frozen=True)
class PreparedRun:
    """A scenario ready to simulate.

    Attributes
    ----------
    sf : ScenarioFile
        The validated scenario, its duration cut to ``until_s`` where that was given.
    hazard : Hazard
        The scenario's hazard.
    twin : xarray.Dataset
        The loaded twin.
    inputs : object
        The hazard's inputs (``hazard.prepare``).
    input_files : tuple of Path
        Every file the run reads (scenario, twin, the hazard's forcing files).
    prepare_s : float
        Wall time (s) the preparation took.
    budget : Budget
        The run's estimated memory and disk use, checked against what is available.
    scenario_duration_s : float
        The duration (s) the scenario file gives.
    until_s : float or None
        ``--until`` (s): the simulated time the run stops at; None: the scenario's duration.
    events : EventRuns or None
        The scenario's design events (its ``events:`` block), each with its scenario; ``sf`` is
        then the control run's, the rarest event (:attr:`twin.ensemble.draws.EventRuns.control`).
    """

    sf: ScenarioFile
    hazard: Hazard
    twin: xr.Dataset
    inputs: object
    input_files: tuple[Path, ...]
    prepare_s: float
    budget: Budget
    scenario_duration_s: float
    until_s: float | None = None
    events: EventRuns | None = None

    @property
    def status(self) -> str:
        """``"truncated"`` when ``until_s`` stops the run before the scenario's end, else ``"complete"``."""
        return "truncated" if self.until_s is not None and self.until_s < self.scenario_duration_s else "complete"


def load_run_scenario(scenario_path: str | Path, hazards: HazardRegistry = HAZARDS) -> ScenarioFile:
    """Read and validate a scenario.

    Raises
    ------
    InputError
        For any problem with the scenario file.
    """
    return load_scenario(scenario_path, hazards)


def cut_short(sf: ScenarioFile, until: float | None) -> ScenarioFile:
    """The scenario to run until ``until`` (s, ``--until``): its duration replaced, when given.

    Raises
    ------
    InputError
        For a non-positive ``until``, or one later than the scenario's duration (a run never
        goes past the end of its scenario).
    """
    if until is None:
        return sf
    if not until > 0:
        raise InputError("--until must be a positive duration", found=repr(until))
    duration = sf.scenario.duration
    if until > duration:
        raise InputError(f"is later than the scenario's duration (duration, line "
                         f"{line_of(sf.lines, ('duration',))}); a run cannot go past its scenario's end",
                         file=sf.path, field="--until", expected=f"at most {duration:g} s",
                         found=f"{until:g} s")
    return sf.with_duration(until)


def prepare_run(sf: ScenarioFile, *, until: float | None = None, hazards: HazardRegistry = HAZARDS,
                render: bool | None = None, out: str | Path | None = None, members: int | None = None,
                workers: int | None = None, scheduler: str | None = None) -> PreparedRun:
    """Check that a scenario's run fits, load its twin and prepare the hazard inputs.

    ``until`` (s, ``--until``) stops the run before the scenario's end (:func:`cut_short`). Before the twin is loaded, the run's peak memory and output size are estimated
    (:func:`twin.pipeline.budget.estimate_run`, from the grid in the terrain's header) and checked
    against the memory available and the free disk at the run folder; ``render``, ``members``,
    ``workers`` and ``scheduler`` refine the estimate as in ``estimate_run``, and ``out`` is the
    run folder (default the scenario's ``output.dir``).

    Raises
    ------
    InputError
        For any problem with the scenario, ``until``, the twin or the positions in it, and for a
        run that will not fit in memory or on disk.
    """
    t0 = time.perf_counter()
    scenario_duration = sf.scenario.duration
    sf = cut_short(sf, until)
    hazard = get_hazard(sf.scenario.hazard, hazards)
    events = event_runs(sf, hazard)
    if events is not None:
        sf = events.control
    if events is not None:  # every member runs in every event, on dask: budgeted as that many members
        members = (members or member_count(sf)) * len(events.scenarios)
    budget = estimate_run(sf, scenario_grid(sf), render=render, members=members, workers=workers,
                          scheduler=scheduler or sf.scenario.scheduler, hazards=hazards)
    check_run_fits(budget, sf, out_dir=sf.output_dir(out))
    source = sf.twin_source()
    twin = load_twin(source, base_dir=sf.folder)
    inputs = hazard.prepare(sf, twin)
    files = (sf.path, *twin_input_files(source, sf.folder), *hazard.input_files(sf),
             *(events.events.input_files if events is not None else ()))
    return PreparedRun(sf, hazard, twin, inputs, tuple(files), time.perf_counter() - t0, budget, scenario_duration,
                       until, events)


def run_scenario(scenario_path: str | Path, out: str | Path | None = None, progress: bool = True,
                 until: float | None = None,
                 extra_outputs: Callable[[Path, ScenarioFile], object] | None = None,
                 scheduler: str | None = None, workers: int | None = None, force: bool = False,
                 hazards: HazardRegistry = HAZARDS, dashboard: bool = False,
                 report: Callable[[Path, dict], object] | None = None) -> Path:
    """Run a scenario file and write its run folder (:func:`prepare_run`, then :func:`run_prepared`).

    Parameters
    ----------
    scenario_path : str or Path
        The scenario YAML file.
    out : str or Path, optional
        Run folder; default: the scenario's ``output.dir``.
    progress : bool
        Show progress bars (simulated time of the control run when it runs alone, members finished).
    until : float, optional
        Stop at this simulated time (s), before the scenario's end (a quick look); the run's status
        is then ``truncated`` (:func:`cut_short`).
    extra_outputs, scheduler, workers, force, dashboard, report
        As :func:`run_prepared`.
    hazards : HazardRegistry
        The hazards scenarios may name (default: the project's).

    Returns
    -------
    Path
        The complete run folder (it holds ``manifest.json``).
    """
    sf = load_run_scenario(scenario_path, hazards)
    prep = prepare_run(sf, until=until, hazards=hazards, render=extra_outputs is not None, out=out, workers=workers,
                       scheduler=scheduler)
    return run_prepared(prep, out, progress=progress, extra_outputs=extra_outputs, scheduler=scheduler,
                        workers=workers, force=force, dashboard=dashboard, report=report)


def run_prepared(prep: PreparedRun, out: str | Path | None = None, *, draws: list | None = None,
                 progress: bool = True, extra_outputs: Callable[[Path, ScenarioFile], object] | None = None,
                 scheduler: str | None = None, workers: int | None = None, force: bool = False,
                 dashboard: bool = False, report: Callable[[Path, dict], object] | None = None) -> Path:
    """Run a prepared scenario and write its run folder.

    The control run (the scenario as written) gives ``hazard.nc`` and the other hazard outputs;
    the ensemble members (or the control alone, without an ``ensemble`` block) give the risk
    outputs (:mod:`twin.pipeline.risk_run`). With members, the control is a task on the cluster
    started before them (:func:`_control_and_members`); its outputs are written once the members
    are reduced.

    Parameters
    ----------
    prep : PreparedRun
        From :func:`prepare_run`.
    out : str or Path, optional
        Run folder; default: the scenario's ``output.dir``.
    draws : list of MemberDraw, optional
        The members to run (e.g. one per forecast member); default the scenario's ensemble
        (:func:`twin.ensemble.draws.member_draws`).
    progress : bool
        Show progress bars.
    extra_outputs : callable, optional
        ``extra_outputs(folder, sf)`` writes more products (e.g. renderings) into the run folder
        before the manifest; the entry points pass :func:`viz.products.render_products` here,
        so that the twin layer does not import viz.
    scheduler : str, optional
        Address of an existing dask scheduler for the members (default: the scenario's
        ``scheduler``, else a local cluster).
    workers : int, optional
        Worker processes of the local cluster (default: one per core).
    force : bool
        Replace the run folder even if it is not a run folder of this project (never one that
        holds an input of the run; see :mod:`twin.io.run_folders`).
    dashboard : bool
        Serve dask's dashboard of the local cluster, and print its link
        (:func:`twin.ensemble.cluster.dask_client`).
    report : callable, optional
        ``report(folder, manifest)`` writes the run report into the run folder once
        ``summary.json`` is written, before ``manifest.json`` (which then lists it); the entry
        points pass :func:`viz.report.write_report` here.

    Returns
    -------
    Path
        The complete run folder (it holds ``manifest.json``).

    Raises
    ------
    InputError
        Bad input (exit code 2 in the CLI), including a run folder that may not be written or
        is being written by another process; raised before the simulation starts.
    RunError
        The simulation failed, or some ensemble members failed twice (exit code 1). When
        members failed, the outputs are written over the members that succeeded, say so, and the
        manifest's status is ``members_failed``; otherwise nothing is left behind.
    """
    started = utc_now()
    t0 = time.perf_counter()
    sf, hazard = prep.sf, prep.hazard
    if draws is None:
        draws = member_draws(sf, prep.twin, hazard)
    hazard.check_draws(sf, draws)
    run_dir = sf.output_dir(out)
    with ExitStack() as stack:
        folder = stack.enter_context(staged_run_folder(run_dir, prep.input_files, force))
        log = EventLog(folder / RUN_LOG)
        log("run_start", f"run of {sf.scenario.name} ({hazard.name}) into {run_dir}", stage="start",
            scenario=sf.scenario.name, hazard=hazard.name, run_dir=str(run_dir), members=len(draws),
            duration_s=sf.scenario.duration, until_s=prep.until_s)
        log("prepared", f"prepared in {prep.prepare_s:.2f} s; {prep.budget.describe()}", level=logging.DEBUG,
            stage="prepare", seconds=prep.prepare_s)
        client = None
        if not control_only(draws) or prep.events is not None:
            client = stack.enter_context(dask_client(scheduler or sf.scenario.scheduler, workers, dashboard))
        else:
            warn_unused_cluster(sf, scheduler, workers, dashboard)
        t_prepared = time.perf_counter()
        result, risk, control_s, members_s = _control_and_members(prep, folder, draws, client, progress)
        t_members = time.perf_counter()
        _stage_done(log, "control_run", control_s)
        save_twin(prep.twin, folder / "twin.nc")
        summary = hazard.write(folder, sf, prep.twin, result)
        t_control_written = time.perf_counter()
        _stage_done(log, "control_write", t_control_written - t_members)
        failures = risk.failures
        for failure in failures:
            log("member_failed", f"member {failure.index} failed twice: {failure.error}", level=logging.WARNING,
                stage="members", member=failure.index, error=str(failure.error))
        _stage_done(log, "members", members_s, members=risk.n_members, failed=len(failures))
        summary["risk"] = write_risk(folder, sf, prep.twin, hazard, risk, hazard.building_columns(result))
        if extra_outputs is not None:
            extra_outputs(folder, sf)
        t_written = time.perf_counter()
        _stage_done(log, "write", t_written - t_control_written)
        timings = {"prepare_s": prep.prepare_s + t_prepared - t0, "control_run_s": control_s,
                   "control_write_s": t_control_written - t_members,
                   "members_s": members_s, "write_s": t_written - t_control_written,
                   "total_s": prep.prepare_s + t_written - t0}
        status = "members_failed" if failures else prep.status
        length = {"status": status, "start": start_text(sf.scenario.start), "until_s": prep.until_s,
                  "scenario_duration_s": prep.scenario_duration_s}
        write_json(folder / "summary.json", {**summary, **length, "timings": timings})
        log("run_end", f"run {status} in {timings['total_s']:.1f} s", stage="end",
            level=logging.WARNING if failures else logging.INFO, seconds=timings["total_s"], **length)
        manifest = run_manifest(prep, started, timings, status, risk.n_members, list_products(folder))
        if report is not None:
            report(folder, manifest)
            manifest["products"] = list_products(folder)
        write_json(folder / MANIFEST, manifest)
    if failures:
        listed = "; ".join(f"member {f.index}: {f.error}" for f in failures[:5])
        raise RunError(f"{len(failures)} ensemble member(s) failed twice ({listed}); outputs in {run_dir} "
                       "are over the members that succeeded")
    return run_dir


def _control_and_members(prep: PreparedRun, folder: Path, draws: list, client, progress: bool):
    """Run the control and the members: ``(control result, risk, control run s, members s)``
    (wall times).

    Without a cluster (the control alone) the control runs here, with a progress bar, and is then
    reduced as the only member. With one, the control is a task started before the members
    (:func:`twin.ensemble.cluster.submit_control`) and runs on a worker while the others take
    the members; only a design-event set without members, whose rarest event's member the
    control is, waits for it before its other events start (:func:`reduce_members`). Its wall
    time is then its worker's, and the members' time counts from the start of the control.
    """
    sf, hazard = prep.sf, prep.hazard
    t0 = time.perf_counter()
    if client is None:
        result = hazard.simulate(prep.inputs, sf, progress)
        control_s = time.perf_counter() - t0
        risk = reduce_members(sf, prep.twin, hazard, result, folder, draws=draws, progress=progress)
        return result, risk, control_s, time.perf_counter() - t0 - control_s
    control = submit_control(client, hazard, sf)
    result, control_s = control.result() if control_only(draws) else (None, None)
    risk = reduce_members(sf, prep.twin, hazard, result, folder, draws=draws, client=client, progress=progress,
                          events=prep.events)
    if result is None:
        result, control_s = control.result()
    control.release()
    return result, risk, control_s, time.perf_counter() - t0


def _stage_done(log: EventLog, stage: str, seconds: float, **fields) -> None:
    """Record in the run's log that ``stage`` took ``seconds`` (wall time, s)."""
    log("stage_done", f"{stage.replace('_', ' ')} done in {seconds:.2f} s", stage=stage, seconds=seconds, **fields)


def run_manifest(prep: PreparedRun, started: str, timings: dict, status: str, members: int,
                 products: list[dict]) -> dict:
    """The manifest of a finished run: hashes, versions, seed, members run, timings, status
    (``complete``, ``truncated`` by ``--until``, or ``members_failed``), the scenario start
    (``start``, ISO 8601 UTC, or None), the simulated time it
    stopped at (``until_s``, s; None: the scenario's end) and the files it wrote (``products``,
    :func:`twin.io.run_folders.list_products`)."""
    return {
        "scenario": prep.sf.scenario.name,
        "scenario_file": str(prep.sf.path),
        "scenario_sha256": file_sha256(prep.sf.path),
        "inputs": {str(p): file_sha256(p) for p in prep.input_files},
        "hazard": prep.sf.scenario.hazard,
        "seed": prep.sf.scenario.seed,
        "ensemble": {"members": members,
                     "seed": prep.sf.scenario.ensemble.seed if prep.sf.scenario.ensemble.seed is not None
                     else prep.sf.scenario.seed},
        "versions": package_versions(),
        "started": started,
        "finished": utc_now(),
        "timings": timings,
        "status": status,
        "start": start_text(prep.sf.scenario.start),
        "scenario_duration_s": prep.scenario_duration_s,
        "until_s": prep.until_s,
        "products": products,
    }
