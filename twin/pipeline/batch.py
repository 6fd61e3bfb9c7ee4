"""The nightly forecast batch: forecast rainfall in, a dated folder of runs out, unattended.

``run_batch`` runs every scenario of a folder with the forecast's rainfall: each forecast member
becomes an ensemble member (``twin.ensemble.draws.MemberDraw.forecast_member``) and the control run uses
forecast member 0; those runs start (``start``) at the forecast's first time (:func:`forecast_start`), so
the times of their netCDF files decode to the forecast's dates. Everything is written under ``OUT/<issued>/``:

* ``<scenario>/``: the usual run folder, written under a temporary name and renamed when complete;
* ``batch.json``: per-scenario status, timings, input hashes and alerts, rewritten atomically after
  each scenario (so a crash leaves the last consistent state);
* ``batch.log``: JSON lines, one per event (:class:`twin.io.runlog.EventLog`); the console gets the
  same events as text;
* ``OUT/latest``: a symbolic link to ``<issued>``, switched atomically when the batch finishes.

Re-running the same command skips scenarios whose folder is complete (it has ``manifest.json``)
and whose inputs (scenario, twin rasters, forecast) hash as they did; ``force`` redoes them all.
Leftover temporary folders of an interrupted run are removed first.

Exit codes (:func:`run_batch` returns them): 0 every scenario complete, 1 at least one failed (the
others still complete), 2 bad input (forecast missing or unreadable, wrong units, not covering a
twin, empty time axis; a scenario that does not validate), raised as :class:`InputError`.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from twin.core.errors import InputError, RunError
from twin.ensemble.draws import MemberDraw, draw_members, member_draws
from twin.hazards.interface import Hazard
from twin.hazards.registry import get_hazard, load_scenario
from twin.io.provenance import file_sha256, utc_now, write_json
from twin.io.runlog import EventLog
from twin.core.atomic import TEMPORARY
from twin.io.run_folders import claimed_batch_folder, folder_name, remove_stale_staging
from twin.io.rainfall import Forecast, read_forecast
from twin.pipeline.run import prepare_run, run_prepared
from twin.scenario.schema import ScenarioFile
from twin.core.yamlio import line_of

#: Probability of a depth above 0.5 m at a building from which the batch raises an alert.
DEFAULT_ALERT_PROBABILITY = 0.5


def issued_label(issued: str | None, forecast: Forecast) -> str:
    """The folder name of the batch: ``--issued`` as given (e.g. ``2026-11-25T00Z``), else the
    forecast's first time as ``YYYY-MM-DDTHHZ``, else today's date at 00Z (UTC)."""
    if issued:
        return folder_name(issued.replace(":", ""), "--issued")
    if forecast.start is not None:
        return np.datetime_as_string(forecast.start, unit="h").replace(":", "") + "Z"
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT00Z")


def forecast_start(forecast: Forecast) -> datetime | None:
    """The start of the forecast's first interval (UTC), the start of the runs it drives; None for
    a forecast whose times are plain seconds."""
    if forecast.start is None:
        return None
    return forecast.start.astype("datetime64[us]").item().replace(tzinfo=timezone.utc)


def _scenarios(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise InputError("scenario folder not found", file=folder)
    paths = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
    if not paths:
        raise InputError("no scenario files (*.yaml) in the folder", file=folder)
    return paths


def forecast_draws(sf: ScenarioFile, twin, hazard: Hazard, forecast: Forecast) -> list[MemberDraw]:
    """One member per forecast member, with the scenario's own perturbations drawn on top."""
    n = forecast.n_members
    ens = sf.scenario.ensemble.model_copy(update={"members": n, "weights": None})
    sf_n = ScenarioFile(sf.scenario.model_copy(update={"ensemble": ens}), sf.path, sf.lines)
    return [MemberDraw(d.index, d.values, d.weight, forecast_member=int(d.index), noise_seed=d.noise_seed)
            for d in draw_members(sf_n, twin, hazard)]


def _complete_and_current(run_dir: Path, inputs: dict) -> bool:
    """True when ``run_dir`` is a complete run whose input files hash as ``inputs`` do (paths aside)."""
    manifest = run_dir / "manifest.json"
    if not manifest.exists():
        return False
    try:
        recorded = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return False
    return (recorded.get("status") == "complete"
            and sorted(recorded.get("inputs", {}).values()) == sorted(inputs.values()))


def _remove_leftovers(batch_dir: Path) -> list[str]:
    """Remove what a crashed batch left in its (locked) folder: staging folders of its runs and
    temporary files of ``batch.json``."""
    removed = remove_stale_staging(batch_dir)
    for p in batch_dir.iterdir():
        if p.is_file() and not p.is_symlink() and TEMPORARY.match(p.name):
            p.unlink(missing_ok=True)
            removed.append(p.name)
    return removed


def _check_unique_names(prepared: list) -> None:
    """Two scenarios of one batch with the same name would write one folder: refuse."""
    seen = {}
    for path, prep, _, _ in prepared:
        sf = prep.sf
        name = sf.scenario.name
        if name in seen:
            raise InputError(f"two scenarios are named {name!r} ({seen[name]} and {path}); each writes the "
                             "folder of its name, so names must differ within a batch", file=path,
                             field="name", line=line_of(sf.lines, ("name",)))
        seen[name] = path


def _check_latest(out: Path) -> None:
    """``OUT/latest`` must be free or a link this project made (switched at the end)."""
    latest = out / "latest"
    if (latest.exists() or latest.is_symlink()) and not latest.is_symlink():
        raise InputError("exists and is not a symbolic link; the batch points 'latest' at the newest issue "
                         "when it finishes: move it away", file=latest)


def _alerts(run_dir: Path, hazard: Hazard, threshold: float) -> list[dict]:
    """Buildings whose value in the hazard's alert column (e.g. the probability of a depth above
    0.5 m at the building) exceeds ``threshold``; none for a hazard without an alert column."""
    import csv

    column = hazard.risk.impact.alert_column
    table = run_dir / "buildings.csv"
    if column is None or not table.exists():
        return []
    with open(table, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get(column)]
    return [{"building_id": int(r["building_id"]), column: float(r[column]), "use": r.get("use", "")}
            for r in rows if float(r[column]) > threshold]


def _link_latest(out: Path, label: str) -> None:
    """Point ``out/latest`` at ``label`` atomically (a new link renamed over the old one)."""
    tmp = out / f".latest.tmp-{uuid.uuid4().hex[:8]}"
    os.symlink(label, tmp)
    os.replace(tmp, out / "latest")


def run_batch(forecast_file: str | Path, scenarios_dir: str | Path, out: str | Path, issued: str | None = None,
              variable: str = "rainfall", scheduler: str | None = None, workers: int | None = None,
              force: bool = False, alert_probability: float = DEFAULT_ALERT_PROBABILITY,
              extra_outputs=None, echo: Callable[[str], None] | None = None, dashboard: bool = False,
              report=None) -> int:
    """Run the nightly batch; returns the exit code (0 all complete, 1 some failed).

    Parameters
    ----------
    forecast_file : str or Path
        Gridded rainfall forecast (netCDF; see :mod:`twin.io.rainfall`).
    scenarios_dir : str or Path
        Folder of scenario YAML files; flood scenarios take their rainfall from the forecast.
    out : str or Path
        Root of the dated output folders.
    issued : str, optional
        Label of the forecast issue (folder name); default from the forecast's first time.
    variable : str
        Rainfall variable of the forecast.
    scheduler, workers, dashboard
        Dask cluster for the members, and whether to serve its dashboard (see
        :func:`twin.ensemble.cluster.dask_client`).
    force : bool
        Redo complete scenarios too.
    alert_probability : float
        Alert on buildings whose probability of a depth above 0.5 m exceeds this.
    extra_outputs, report : callable, optional
        Passed to :func:`twin.pipeline.run.run_prepared` (renderings, the run report).
    echo : callable, optional
        Console output of the log (default: the ``twin`` logger, :mod:`twin.io.runlog`).

    Raises
    ------
    InputError
        Bad forecast or scenario (exit code 2), before any scenario runs.
    """
    forecast_file = Path(forecast_file)
    forecast = read_forecast(forecast_file, variable)
    label = issued_label(issued, forecast)
    out = Path(os.path.abspath(out))
    if out.exists() and not out.is_dir():
        raise InputError("the batch output root exists and is not a folder", file=out)
    _check_latest(out)
    prepared = []
    for path in _scenarios(Path(scenarios_dir)):
        sf = load_scenario(path)                       # InputError: bad scenario -> exit 2
        hazard = get_hazard(sf.scenario.hazard)
        driven = hazard.with_forecast is not None
        if driven:
            sf = hazard.with_forecast(sf, forecast_file.resolve(), forecast.variable).with_start(
                forecast_start(forecast) or sf.scenario.start)
        # the budget as the batch runs it: on the batch folder's disk, one member per forecast member;
        # InputError here also for a forecast that does not cover the twin
        prep = prepare_run(sf, render=extra_outputs is not None, out=out / label,
                           members=forecast.n_members if driven else None, workers=workers, scheduler=scheduler)
        draws = forecast_draws(sf, prep.twin, hazard, forecast) if driven else member_draws(sf, prep.twin, hazard)
        hazard.check_draws(sf, draws)
        prepared.append((path, prep, draws, driven))
    _check_unique_names(prepared)
    inputs = [forecast_file, *(f for _, prep, _, _ in prepared for f in prep.input_files)]
    with claimed_batch_folder(out / label, inputs, force) as batch_dir:
        log = EventLog(batch_dir / "batch.log", echo)
        removed = _remove_leftovers(batch_dir)
        log("batch_start", issued=label, forecast=str(forecast_file), members=forecast.n_members,
            removed_leftovers=len(removed))
        record, failed = _run_prepared(prepared, forecast, forecast_file, batch_dir, log, scheduler=scheduler,
                                       workers=workers, force=force, alert_probability=alert_probability,
                                       extra_outputs=extra_outputs, dashboard=dashboard, report=report)
        _link_latest(out, label)
        record.update(finished=utc_now(), status="failed" if failed else "complete")
        write_json(batch_dir / "batch.json", record)
        log("batch_end", status=record["status"], failed=failed)
    return 1 if failed else 0


def _run_prepared(prepared: list, forecast: Forecast, forecast_file: Path, batch_dir: Path, log: EventLog, *,
                  scheduler, workers, force: bool, alert_probability: float,
                  extra_outputs, dashboard: bool = False, report=None) -> tuple[dict, int]:
    """Run the batch's scenarios one after the other, recording each in ``batch.json``.

    Returns
    -------
    record : dict
        The batch record (status still "running").
    failed : int
        How many scenarios failed.
    """
    label = batch_dir.name
    forecast_hash = file_sha256(forecast_file)
    record = {"issued": label, "forecast": str(forecast_file), "forecast_sha256": forecast_hash,
              "forecast_members": forecast.n_members, "started": utc_now(), "scenarios": {}}
    write_json(batch_dir / "batch.json", {**record, "status": "running"})
    failed = 0
    for path, prep, draws, driven in prepared:
        name = prep.sf.scenario.name
        run_dir = batch_dir / name
        inputs = {str(p): file_sha256(p) for p in prep.input_files}
        if driven:
            inputs[str(forecast_file)] = forecast_hash
        entry = {"scenario_file": str(path), "inputs": inputs}
        if not force and _complete_and_current(run_dir, inputs):
            entry.update(status="skipped_complete", alerts=_alerts(run_dir, prep.hazard, alert_probability))
            log("scenario_skipped", scenario=name, reason="complete with unchanged inputs")
        else:
            log("scenario_start", scenario=name)
            t0 = time.perf_counter()
            try:
                run_prepared(prep, run_dir, draws=draws, progress=False, scheduler=scheduler, workers=workers,
                             extra_outputs=extra_outputs, force=force, dashboard=dashboard, report=report)
                entry.update(status="complete", alerts=_alerts(run_dir, prep.hazard, alert_probability))
                log("scenario_complete", scenario=name, seconds=round(time.perf_counter() - t0, 2),
                    alerts=len(entry["alerts"]))
            except (RunError, InputError, OSError) as exc:
                failed += 1
                entry.update(status="failed", error=str(exc))
                log("scenario_failed", level=logging.ERROR, scenario=name, error=str(exc))
            entry["seconds"] = time.perf_counter() - t0
        record["scenarios"][name] = entry
        write_json(batch_dir / "batch.json", {**record, "status": "running"})
    return record, failed

