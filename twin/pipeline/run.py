"""Running a scenario into a run folder.

The steps are the same for every hazard: validate the scenario, load the twin, prepare the
hazard's inputs (all input errors surface here, before anything runs), run the control (the
scenario as written), write its hazard outputs into a temporary folder, run and reduce the
ensemble members into risk outputs (:mod:`twin.pipeline.risk_run`), add extra products (renderings),
write ``manifest.json`` last, and rename the folder into place. A failed or interrupted run
leaves nothing under the final name.

Each hazard is a module (see :data:`HAZARDS`) with ``prepare(sf, twin) -> inputs``,
``input_files(sf)``, ``check_draws(sf, draws)`` (bounds of the members' forcing, before any
run), ``simulate(inputs, sf, progress) -> result``,
``write(folder, sf, twin, result) -> summary``, ``member_maps(result)`` (what a member brings to
the risk) and ``building_columns(result)`` (control-run columns of buildings.csv).
"""

from __future__ import annotations

import importlib
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import xarray as xr

from twin.core.citytwin import load_twin, save_twin, twin_input_files
from twin.core.errors import InputError, RunError
from twin.pipeline.budget import check_run_fits, estimate_run, twin_shape
from twin.io.provenance import file_sha256, package_versions, utc_now, write_json
from twin.io.run_folders import check_output_folder, staged_run_folder
from twin.scenario.schema import ScenarioFile, load_scenario

#: Hazard name -> module implementing the hazard interface (module docstring).
HAZARDS = {"flood": "twin.hazards.flood.run", "fire": "twin.hazards.fire.run"}


def hazard_module(name: str):
    """The module that runs hazard ``name``."""
    return importlib.import_module(HAZARDS[name])


@dataclass(frozen=True)
class PreparedRun:
    """A scenario ready to simulate: validated scenario, loaded twin, hazard inputs, input files."""

    sf: ScenarioFile
    twin: xr.Dataset
    inputs: object
    input_files: tuple[Path, ...]


def prepare_run(scenario_path: str | Path, until: float | None = None,
                scenario: ScenarioFile | None = None, *, render: bool | None = None,
                out: str | Path | None = None, members: int | None = None, workers: int | None = None,
                scheduler: str | None = None) -> PreparedRun:
    """Validate a scenario, check that its run fits, load its twin and prepare the hazard inputs.

    ``until`` (s), when given, replaces the scenario's duration (it must be > 0). ``scenario``,
    when given, is used instead of reading ``scenario_path`` (e.g. the batch's scenario with the
    forecast wired in). Before the twin is loaded, the run's peak memory and output size are
    estimated (:func:`twin.pipeline.budget.estimate_run`, from the grid in the terrain's header)
    and checked against the memory available and the free disk at the run folder; ``render``,
    ``members``, ``workers`` and ``scheduler`` refine the estimate as in ``estimate_run``, and
    ``out`` is the run folder (default the scenario's ``output.dir``).

    Raises
    ------
    InputError
        For any problem with the scenario, the twin or the positions in it, and for a run that
        will not fit in memory or on disk.
    """
    sf = scenario if scenario is not None else load_scenario(scenario_path)
    if until is not None:
        if not until > 0:
            raise InputError("--until must be a positive duration", found=repr(until))
        sf = sf.with_duration(until)
    budget = estimate_run(sf, twin_shape(sf), render=render, members=members, workers=workers,
                          scheduler=scheduler or sf.scenario.scheduler)
    check_run_fits(budget, sf, out_dir=sf.output_dir(out))
    source = sf.twin_source()
    twin = load_twin(source, base_dir=sf.folder)
    module = hazard_module(sf.scenario.hazard)
    inputs = module.prepare(sf, twin)
    files = (sf.path, *twin_input_files(source, sf.folder), *module.input_files(sf))
    return PreparedRun(sf, twin, inputs, tuple(files))


def run_scenario(scenario_path: str | Path, out: str | Path | None = None, progress: bool = True,
                 until: float | None = None,
                 extra_outputs: Callable[[Path, ScenarioFile], object] | None = None,
                 scheduler: str | None = None, workers: int | None = None,
                 scenario: ScenarioFile | None = None, draws: list | None = None,
                 force: bool = False) -> Path:
    """Run a scenario and write its run folder.

    The control run (the scenario as written) gives ``hazard.nc`` and the other hazard outputs;
    the ensemble members (or the control alone, without an ``ensemble`` block) give the risk
    outputs (:mod:`twin.pipeline.risk_run`).

    Parameters
    ----------
    scenario_path : str or Path
        The scenario YAML file.
    out : str or Path, optional
        Run folder; default: the scenario's ``output.dir``.
    progress : bool
        Show progress bars (simulated time of the control run, members finished).
    until : float, optional
        Stop at this simulated time (s) instead of the scenario's duration (a quick look).
    extra_outputs : callable, optional
        ``extra_outputs(folder, sf)`` writes more products (e.g. renderings) into the run folder
        before the manifest; the entry points pass :func:`viz.products.render_products` here,
        so that the twin layer does not import viz.
    scheduler : str, optional
        Address of an existing dask scheduler for the members (default: the scenario's
        ``scheduler``, else a local cluster).
    workers : int, optional
        Worker processes of the local cluster (default: one per core).
    scenario : ScenarioFile, optional
        Run this scenario instead of reading ``scenario_path`` (see :func:`prepare_run`).
    draws : list of MemberDraw, optional
        The members to run instead of the scenario's ensemble (e.g. one per forecast member).
    force : bool
        Replace the run folder even if it is not a run folder of this project (never one that
        holds an input of the run; see :mod:`twin.io.run_folders`).

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
    from twin.ensemble.cluster import dask_client, warm_workers
    from twin.pipeline.risk_run import control_only, member_draws, reduce_members, write_risk

    started = utc_now()
    t0 = time.perf_counter()
    prep = prepare_run(scenario_path, until, scenario, render=extra_outputs is not None, out=out,
                       members=len(draws) if draws is not None else None, workers=workers, scheduler=scheduler)
    sf = prep.sf
    module = hazard_module(sf.scenario.hazard)
    if draws is None:
        draws = member_draws(sf, prep.twin)
    module.check_draws(sf, draws)
    run_dir = sf.output_dir(out)
    with ExitStack() as stack:
        folder = stack.enter_context(staged_run_folder(run_dir, prep.input_files, force))
        client, warm_up = None, []
        if not control_only(draws):
            # the cluster first, so that its workers load themselves while the control run computes
            client = stack.enter_context(dask_client(scheduler or sf.scenario.scheduler, workers))
            warm_up = warm_workers(client, sf.scenario.hazard, sf)
        t_prepared = time.perf_counter()
        result = module.simulate(prep.inputs, sf, progress)
        t_simulated = time.perf_counter()
        save_twin(prep.twin, folder / "twin.nc")
        summary = module.write(folder, sf, prep.twin, result)
        t_control_written = time.perf_counter()
        risk = reduce_members(sf, prep.twin, module, result, folder, draws=draws, client=client,
                              progress=progress)
        for future in warm_up:
            future.release()
        failures = risk.failures
        t_members = time.perf_counter()
        summary["risk"] = write_risk(folder, sf, prep.twin, risk, module.building_columns(result))
        if extra_outputs is not None:
            extra_outputs(folder, sf)
        t_written = time.perf_counter()
        timings = {"prepare_s": t_prepared - t0, "control_run_s": t_simulated - t_prepared,
                   "control_write_s": t_control_written - t_simulated,
                   "members_s": t_members - t_control_written, "write_s": t_written - t_members,
                   "total_s": t_written - t0}
        write_json(folder / "summary.json", {**summary, "timings": timings})
        status = "members_failed" if failures else "complete"
        write_json(folder / "manifest.json", run_manifest(prep, started, timings, status, risk.n_members))
    if failures:
        listed = "; ".join(f"member {f.index}: {f.error}" for f in failures[:5])
        raise RunError(f"{len(failures)} ensemble member(s) failed twice ({listed}); outputs in {run_dir} "
                       "are over the members that succeeded")
    return run_dir


def run_manifest(prep: PreparedRun, started: str, timings: dict, status: str, members: int) -> dict:
    """The manifest of a finished run: hashes, versions, seed, members run, timings, status."""
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
    }
