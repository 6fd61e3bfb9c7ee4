"""``twin validate``: every check a run makes before it simulates, run without simulating.

:func:`validate_scenario` goes the run's way up to the simulation (:func:`twin.pipeline.run.prepare_run`,
the member draws, the output folder) and records each check as it passes, in words, so that
``twin validate`` can say what it checked; the first check that fails raises its
:class:`~twin.core.errors.InputError`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from twin.core.citytwin import twin_grid, twin_input_files
from twin.ensemble.draws import member_draws
from twin.io.run_folders import check_output_folder
from twin.pipeline.run import PreparedRun, load_run_scenario, prepare_run


@dataclass(frozen=True)
class Check:
    """One check that passed: what was checked (``name``) and what it found (``detail``)."""

    name: str
    detail: str


@dataclass(frozen=True)
class Validation:
    """A scenario that passed every check: its prepared run and the checks, in the order run."""

    prep: PreparedRun
    checks: tuple[Check, ...]

    def as_dict(self) -> dict:
        """The validation as JSON-ready data (``twin validate --json``)."""
        prep = self.prep
        return {"scenario": str(prep.sf.path), "valid": True, "hazard": prep.hazard.name,
                "duration_s": prep.sf.scenario.duration, "until_s": prep.until_s,
                "checks": [{"check": c.name, "detail": c.detail} for c in self.checks],
                "budget": {"memory_bytes": prep.budget.total, "disk_bytes": prep.budget.disk_total,
                           "peak_phase": prep.budget.phase}}


def _files(paths: list[Path]) -> str:
    """``FOLDER: name, name, …`` for files of one folder, else their paths; ``none`` for no file."""
    if not paths:
        return "none"
    folder = Path(os.path.commonpath([p.parent for p in paths]))
    return f"{folder}{os.sep}: " + ", ".join(str(p.relative_to(folder)) for p in paths)


def validate_scenario(scenario_path: str | Path, until: float | None = None,
                      out: str | Path | None = None) -> Validation:
    """Check a scenario as ``twin run`` would, without simulating.

    Parameters
    ----------
    scenario_path : str or Path
        The scenario YAML file.
    until : float, optional
        ``--until`` (s): checked against the scenario's duration, and the budget is the shorter run's.
    out : str or Path, optional
        The run folder (default the scenario's ``output.dir``): checked as a run would write it.

    Returns
    -------
    Validation
        The checks that ran, each with what it found.

    Raises
    ------
    InputError
        The first check that failed.
    """
    sf = load_run_scenario(scenario_path)
    prep = prepare_run(sf, until=until, out=out)
    sf, hazard, twin = prep.sf, prep.hazard, prep.twin
    grid = twin_grid(twin)
    twin_files = twin_input_files(sf.twin_source(), sf.folder)
    hazard_files = hazard.input_files(sf)
    checks = [
        Check("scenario", f"{sf.path}: read as YAML (safe loader) and validated against the schema of the "
                          f"shared blocks and the {hazard.name} block, with the rules across blocks"),
    ]
    if prep.until_s is not None:
        checks.append(Check("until", f"--until {prep.until_s:g} s is within the scenario's duration "
                                     f"{prep.scenario_duration_s:g} s"))
    checks += [
        Check("budget", f"{prep.budget.describe()}; fits the memory available and the free disk at "
                        f"{sf.output_dir(out)}"),
        Check("twin", f"{_files(twin_files)}: read onto one grid of {grid.shape[0]} x {grid.shape[1]} cells of "
                      f"{grid.cell_size:g} m, {grid.crs.to_string()}, "
                      f"{int((twin['domain_mask'].values == 1).sum())} cells in the domain; fields "
                      f"{', '.join(sorted(twin.data_vars))}"),
        Check("forcing files", f"{_files(hazard_files)}" + (" read onto the twin's grid" if hazard_files else "")),
        Check("hazard inputs", f"the {hazard.name} inputs built on the twin: every position the {hazard.name} "
                               "run uses placed on the grid and inside the domain"),
    ]
    if prep.events is not None:
        ev = prep.events.events
        checks.append(Check("events", f"{len(ev.events)} design storms of {ev.spec.storm_duration:g} s, T = "
                                      f"{ev.return_periods[0]:g}-{ev.return_periods[-1]:g} years, from "
                                      f"{_files(list(ev.input_files)) if ev.input_files else 'the IDF formula'}, "
                                      "each event's scenario validated"))
    draws = member_draws(sf, twin, hazard)
    hazard.check_draws(sf, draws)
    checks.append(Check("members", f"{len(draws)} member draw(s) made from the seed and passed the "
                                   f"{hazard.name} draw checks"))
    run_dir = check_output_folder(sf.output_dir(out), "run", prep.input_files)
    checks.append(Check("output folder", f"{run_dir}: may be written (absent, empty, or a run folder of this "
                                         "project, holding no input of the run)"))
    return Validation(prep, tuple(checks))
