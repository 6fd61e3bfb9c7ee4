"""The flood hazard's run: prepare inputs, simulate, write the run outputs (:mod:`twin.hazards.interface`).

Outputs: ``hazard.nc`` (max depth, max speed, max unit discharge, arrival time, wet duration,
final depth, depth snapshots; CF-1.8 with CRS), ``gauges.csv``, ``ledger.csv`` (the volume ledger
at the start, every gauge time and the end), COG GeoTIFFs of max depth and arrival time, and the
summary (volume ledger, steps, cells, kernel wall time, peaks).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from twin.core.citytwin import twin_grid
from twin.core.errors import RunError
from twin.hazards.flood.forcing import GriddedRain, Inflow, UniformRain
from twin.hazards.flood.model import EDGES, LEDGER_COLUMNS, FloodInputs, simulate_flood
from twin.hazards.flood.setup import (area_overrides, blocked_cells, boundary_kinds, gauge_cells, gauge_names,
                              inflow_cells, loss_fields, manning_field, vector_files)
from twin.hazards.flood.tiled import auto_tiles, simulate_flood_tiled
from twin.io.outputs import result_dataset, write_csv, write_maps
from twin.io.progress import SimTimeBar
from twin.io.rainfall import read_forecast, read_gridded_rainfall
from twin.core.rasters import read_on_grid
from twin.hazards.flood.fields import DEPTH, FLOOD_FIELDS, OUTPUTS
from twin.hazards.flood.schema import GriddedRainfall
from twin.scenario.schema import ScenarioFile


#: The model that made ``hazard.nc`` (its ``source``) and the papers of its scheme (``references``).
SOURCE = "flood model: local inertial shallow-water scheme on the twin's grid (kernels/flood.py)"
REFERENCES = ("Bates, P. D., Horritt, M. S. and Fewtrell, T. J. (2010), A simple inertial formulation of the "
              "shallow water equations for efficient two-dimensional flood inundation modelling, J. Hydrol. "
              "387, 33-45; de Almeida, G. A. M., Bates, P., Freer, J. E. and Souvignet, M. (2012), Improving "
              "the stability of a simple formulation of the shallow water equations for 2-D flood modeling, "
              "Water Resour. Res. 48, W05528")


def input_files(sf: ScenarioFile) -> list[Path]:
    """Files a flood scenario reads besides the twin (gridded rain, initial depth raster, vector files)."""
    spec = sf.scenario.flood
    files = []
    if isinstance(spec.rainfall, GriddedRainfall):
        files.append(sf.resolve(spec.rainfall.file))
    if isinstance(spec.initial_depth_m, str):
        files.append(sf.resolve(spec.initial_depth_m))
    return files + vector_files(sf)


def check_draws(sf: ScenarioFile, draws: list) -> None:
    """Refuse member draws that scale gridded rainfall past its plausibility bound (before any run).

    The schema bounds a rainfall scale alone; what a member rains is the file's values times the
    scale drawn, so the file is checked again with the largest scale of the members (only when
    a member scales it up).

    Raises
    ------
    InputError
        As :func:`twin.io.rainfall.read_forecast`, for the scaled values.
    """
    rain = sf.scenario.flood.rainfall
    if not isinstance(rain, GriddedRainfall):
        return
    largest = max((d.values.get("rainfall_scale", 1.0) for d in draws), default=1.0)
    if largest > 1.0:
        read_forecast(sf.resolve(rain.file), rain.variable, scale=rain.scale * largest)


def _rain(sf: ScenarioFile, twin: xr.Dataset):
    spec = sf.scenario.flood.rainfall
    if spec is None:
        return None
    if isinstance(spec, GriddedRainfall):
        edges, rates = read_gridded_rainfall(sf.resolve(spec.file), spec.variable, twin_grid(twin), spec.scale,
                                             member=spec.member)
        return GriddedRain(edges, rates)
    return UniformRain(np.asarray(spec.times), np.asarray(spec.rates_m_s()))


def _initial_depth(sf: ScenarioFile, twin: xr.Dataset, blocked: np.ndarray):
    h0 = sf.scenario.flood.initial_depth_m
    if isinstance(h0, str):
        path = sf.resolve(h0)
        h0 = read_on_grid(path, DEPTH, twin_grid(twin), path)
        if not np.all(np.isfinite(h0)) or np.any(h0 < 0):
            raise sf.error(("flood", "initial_depth_m"), "initial depth raster must be finite and >= 0 m",
                           found=str(path))
    return np.where(blocked, 0.0, h0)


def prepare(sf: ScenarioFile, twin: xr.Dataset) -> dict:
    """Build the flood model inputs, gauge cells and output settings from a scenario and its twin."""
    spec = sf.scenario.flood
    blocked = blocked_cells(twin)
    overrides = area_overrides(sf, twin)
    infiltration, drainage = loss_fields(twin, spec, overrides)
    inflows = tuple(
        Inflow(f.name, rows, cols, np.full(rows.size, 1.0 / rows.size), np.asarray(f.times),
               np.asarray(f.discharge_m3_s))
        for f, (rows, cols) in zip(spec.inflows, inflow_cells(sf, twin)))
    inside = twin["domain_mask"].values == 1
    # Cells outside the domain are walls: their elevation and roughness are never used, but the
    # model wants finite values everywhere.
    z = np.where(inside, twin["elevation"].values, 0.0)
    n = np.where(inside, manning_field(twin, spec, overrides), 1.0)
    num = spec.numerics
    inputs = FloodInputs(
        z=z, blocked=blocked, manning_n=n, dx=float(twin.attrs["cell_size"]),
        domain=twin["domain_mask"].values == 1, rain=_rain(sf, twin), inflows=inflows,
        boundaries=boundary_kinds(spec), loss_rate=infiltration, drainage_rate=drainage,
        h0=_initial_depth(sf, twin, blocked), theta=num.theta, alpha=num.alpha, dt_max=num.max_dt,
        outflow_fraction=num.max_outflow_fraction, x=twin["x"].values, y=twin["y"].values)
    return {"model": inputs, "gauges": gauge_cells(sf, twin)}


def simulate(inputs: dict, sf: ScenarioFile, progress: bool):
    """Run the flood model with a progress bar of simulated time; on tiles when ``parallel.tiles`` is set.

    Untiled, the grid is stepped as row bands on threads (:mod:`twin.hazards.flood.bands`, the
    same bits as one thread): in the driver on every core, and inside a dask worker on its own
    core plus those of the idle workers of its machine while no task waits for one
    (:func:`spare_cores`, asked at every gauge, snapshot and rain time), so that the last members
    of an ensemble use the cores the others have left. Tiles run on dask's threaded scheduler in
    the driver (the kernels release the GIL, so the tiles of a run alone use every core), and
    synchronously inside a dask worker (each worker runs one member on one thread). The result
    equals the untiled run with the same step sequence to round-off (``twin/hazards/flood/tiled.py``).
    """
    out = sf.scenario.output
    wet = sf.scenario.flood.numerics.wet_threshold_m
    par = sf.scenario.parallel
    worker = _dask_worker()
    with SimTimeBar(sf.scenario.duration, enabled=progress, label=sf.scenario.name) as bar:
        if par.tiles is None:
            threads = (lambda: 1 + spare_cores(worker)) if worker is not None else (os.cpu_count() or 1)
            return simulate_flood(inputs["model"], sf.scenario.duration, out.every, out.gauge_every,
                                  inputs["gauges"], wet_threshold_m=wet, progress=bar.update, threads=threads)
        tiles = auto_tiles(inputs["model"].shape, os.cpu_count() or 1) if par.tiles == "auto" else par.tiles
        return simulate_flood_tiled(inputs["model"], sf.scenario.duration, tiles=tuple(tiles), halo=par.halo,
                                    snapshot_every_s=out.every, gauge_every_s=out.gauge_every,
                                    wet_threshold_m=wet,
                                    scheduler="synchronous" if worker is not None else "threads",
                                    progress=bar.update)


def _dask_worker():
    """The dask.distributed worker running this task, or None outside one."""
    from distributed import get_worker

    try:
        return get_worker()
    except ValueError:
        return None


def spare_cores(worker) -> int:
    """Cores a task on ``worker`` may take besides its own: none while any task waits for a
    worker, else the threads of the idle workers on its machine shared among the busy ones
    (rounded down). Asked of the scheduler through the worker's own connection (a client made
    in the worker would become the process's default one); 0 when that fails."""
    from distributed.protocol.pickle import dumps
    from distributed.utils import sync

    try:
        response = sync(worker.loop, worker.scheduler.run_function, function=dumps(_spare_cores),
                        args=dumps((worker.address,)), kwargs=dumps({}), wait=True)
    except (OSError, TimeoutError):
        return 0
    return int(response["result"]) if response.get("status") == "OK" else 0


def _spare_cores(address: str, dask_scheduler=None) -> int:
    """:func:`spare_cores`, run on the scheduler (``dask_scheduler`` is its state)."""
    s = dask_scheduler
    host = s.workers[address].host
    local = [ws for ws in s.workers.values() if ws.host == host]
    if s.queued or s.unrunnable or any(len(ws.processing) > ws.nthreads for ws in s.workers.values()):
        return 0
    idle = sum(ws.nthreads for ws in local if not ws.processing)
    busy = sum(1 for ws in local if ws.processing)
    return idle // max(busy, 1)


def member_maps(result) -> dict:
    """The maps an ensemble member contributes to risk: max depth (m), max speed (m/s), arrival (s)."""
    return {name: np.asarray(getattr(result, name), dtype=np.float64)
            for name in ("max_depth", "max_speed", "arrival_time")}


def building_columns(result) -> dict:
    """Per-building columns of the control run added to buildings.csv (none for a flood)."""
    return {}


def hazard_dataset(twin: xr.Dataset, sf: ScenarioFile, result) -> xr.Dataset:
    """The ``hazard.nc`` Dataset of a flood result."""
    fields = {name: getattr(result, name).astype(np.float64) for name in
              ("max_depth", "max_speed", "max_unit_discharge", "arrival_time", "wet_duration", "final_depth")}
    outside = twin["domain_mask"].values == 0
    for a in fields.values():
        a[outside] = np.nan
    ds = result_dataset(twin, fields, FLOOD_FIELDS, attrs={"scenario_name": sf.scenario.name, "hazard": "flood", "members": 1,
                                             "scenario_description": sf.scenario.description,
                                             "wet_threshold_m": sf.scenario.flood.numerics.wet_threshold_m,
                                             "title": f"flood hazard of scenario {sf.scenario.name}",
                                             "source": SOURCE, "references": REFERENCES},
                        series={"depth": (result.snapshot_times, result.snapshots)}, start=sf.scenario.start)
    return ds


def write(folder: Path, sf: ScenarioFile, twin: xr.Dataset, result) -> dict:
    """Write hazard.nc, gauges.csv, ledger.csv and the GeoTIFFs; return the run summary."""
    ds = hazard_dataset(twin, sf, result)
    write_maps(ds, folder / "hazard.nc", OUTPUTS.geotiff if sf.scenario.output.geotiff else ())
    gauges = gauge_names(sf, twin)
    rows = [(g, float(t), float(result.gauge_depth[i, k]), float(result.gauge_level[i, k]),
             float(result.gauge_speed[i, k]))
            for i, g in enumerate(gauges) for k, t in enumerate(result.gauge_times)]
    write_csv(folder / "gauges.csv", ["gauge", "time_s", "depth_m", "level_m", "speed_m_s"], rows)
    write_csv(folder / "ledger.csv", LEDGER_COLUMNS, [row.values() for row in result.ledger_rows])
    return summary(twin, sf, result)


def _kernel_seconds(result) -> float:
    """Wall time of the kernel, or of the whole loop where the kernel alone was not timed (tiled runs)."""
    return result.kernel_wall_s if np.isfinite(result.kernel_wall_s) else result.loop_wall_s


def summary(twin: xr.Dataset, sf: ScenarioFile, result) -> dict:
    """Ledger, step count, cells, kernel wall time, peak depth and flooded area."""
    led = result.ledger
    cell_area = float(twin.attrs["cell_size"]) ** 2
    threshold = sf.scenario.flood.numerics.wet_threshold_m
    if led.closure_relative > 1e-6:
        raise RunError(f"flood volume ledger does not close: relative error {led.closure_relative:.3e}")
    return {
        "scenario": sf.scenario.name,
        "hazard": "flood",
        "duration_s": sf.scenario.duration,
        "cells": int(np.prod(result.max_depth.shape)),
        "cells_in_domain": int((twin["domain_mask"].values == 1).sum()),
        "time_steps": int(result.n_steps),
        "kernel_wall_s": float(_kernel_seconds(result)),
        "loop_wall_s": float(result.loop_wall_s),
        "cell_updates_per_s": float(result.max_depth.size * result.n_steps / max(_kernel_seconds(result), 1e-12)),
        "peak_depth_m": float(np.nanmax(result.max_depth)),
        "flooded_area_m2": float((result.max_depth >= threshold).sum() * cell_area),
        "wet_threshold_m": threshold,
        "volume_ledger_m3": {
            "rain_in": led.rain_in, "inflow_in": led.inflow_in, "boundary_in": led.boundary_in,
            "boundary_out": led.boundary_out, "infiltration": led.infiltration, "drainage": led.drainage,
            "retained": led.retained, "storage_initial": led.storage_initial, "storage_final": led.storage_final,
            "closure_error": led.closure_error, "closure_relative": led.closure_relative,
            "boundary_in_by_edge": dict(zip(EDGES, led.edge_in.tolist())),
            "boundary_out_by_edge": dict(zip(EDGES, led.edge_out.tolist())),
        },
    }
