"""The fire hazard's run: prepare inputs, simulate, write the run outputs (:mod:`twin.hazards.interface`).

Outputs: ``hazard.nc`` (arrival time, final burned mask ``final_burned``, head rate of spread,
fireline intensity, burned-area snapshots ``burned(time, y, x)``; CF-1.8 with CRS), ``arrival_time.tif`` (COG), the
control run's ignition time and burned flag per building (columns of ``buildings.csv``), and the
summary (burned area and buildings over time).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from twin.core.citytwin import twin_grid
from twin.hazards.fire.model import FireInputs, SpottingOptions, simulate_fire
from twin.scenario.positions import point_or_line_cells
from twin.io.outputs import result_dataset, write_maps
from twin.hazards.fire.fields import FIRE_FIELDS, OUTPUTS
from twin.hazards.fire.schema import ConstantWind
from twin.scenario.schema import ScenarioFile


#: The model that made ``hazard.nc`` (its ``source``) and the papers of its parts (``references``).
SOURCE = ("fire model: Rothermel surface spread with Albini's corrections on vegetation, Hamada's "
          "building-to-building spread on built-up cells, arrival times as minimum travel times over a "
          "16- or 32-direction stencil, optional spotting (kernels/fire.py, kernels/arrival.py, kernels/spotting.py)")
REFERENCES = ("Rothermel, R. C. (1972), USDA Forest Service Res. Pap. INT-115; Albini, F. A. (1976), USDA "
              "Forest Service Gen. Tech. Rep. INT-30; Anderson, H. E. (1983), USDA Forest Service Res. Pap. "
              "INT-305; Hamada, M. (1951), building-to-building fire spread speeds, in the form used in Japanese "
              "urban fire-spread assessments; "
              "Finney, M. A. (2002), Can. J. For. Res. 32, 1420-1424; Sardoy, N. et al. (2008), Combust. "
              "Flame 154, 478-488")


def check_draws(sf: ScenarioFile, draws: list) -> None:
    """Nothing to check beyond the schema: a fire member's draws are bounded there."""


def input_files(sf: ScenarioFile) -> list[Path]:
    """Files a fire scenario reads besides the twin (none)."""
    return []


def _ignitions(sf: ScenarioFile, twin: xr.Dataset) -> list[tuple]:
    """``(rows, cols, time_s)`` per ignition; positions off the grid or outside the domain are errors."""
    grid, inside = twin_grid(twin), twin["domain_mask"].values == 1
    return [(*point_or_line_cells(sf, grid, ign, ("fire", "ignitions", i), inside, "ignition",
                                  "lies outside the domain", "the line lies outside the domain"), ign.time)
            for i, ign in enumerate(sf.scenario.fire.ignitions)]


def prepare(sf: ScenarioFile, twin: xr.Dataset) -> FireInputs:
    """Build the fire model inputs from a scenario and its twin."""
    spec = sf.scenario.fire
    if isinstance(spec.wind, ConstantWind):
        speed, from_deg, times = spec.wind.speed_m_s, spec.wind.from_deg, None
    else:
        speed, from_deg, times = list(spec.wind.speed_m_s), list(spec.wind.from_deg), list(spec.wind.times)
    extra = {} if spec.wind_adjustment_factor is None else {"wind_adjustment_factor": spec.wind_adjustment_factor}
    spotting = None if spec.spotting is None else SpottingOptions(**spec.spotting.model_dump())
    inside = twin["domain_mask"].values == 1
    return FireInputs(
        fuel_model=twin["fuel_model"].values, elevation=np.where(inside, twin["elevation"].values, 0.0),
        building_id=twin["building_id"].values, building_use=twin["building_use"].values,
        building_height=twin["building_height"].values, landcover=twin["landcover"].values,
        dx=float(twin.attrs["cell_size"]), wind_speed=speed, wind_from_deg=from_deg, wind_times_s=times,
        moisture=spec.moisture.as_tuple(), ignitions=_ignitions(sf, twin), spotting=spotting,
        hamada_window_m=spec.numerics.hamada_window_m, urban_max_gap_m=spec.numerics.urban_max_gap_m,
        wind_limit=spec.numerics.wind_limit, n_directions=spec.numerics.n_directions, **extra)


def simulate(inputs: FireInputs, sf: ScenarioFile, progress: bool):
    """Run the fire model (spotting draws from the scenario's seed)."""
    rng = np.random.default_rng(np.random.SeedSequence(sf.scenario.seed))
    return simulate_fire(inputs, sf.scenario.duration, sf.scenario.output.every, rng=rng)


def member_maps(result) -> dict:
    """The maps an ensemble member contributes to risk: arrival time (s, NaN not reached), burned."""
    return {"arrival_time": np.asarray(result.arrival_time, dtype=np.float64), "burned": result.burned}


def building_columns(result) -> dict:
    """Per-building columns of the control run: ignition time (s, NaN never) and burned (0/1).

    The fire model lists buildings by ascending id, as the building table does."""
    t = np.asarray(result.building_ignition_time, dtype=np.float64)
    return {"control_ignition_time_s": t, "control_burned": np.isfinite(t).astype(np.int8)}


def hazard_dataset(twin: xr.Dataset, sf: ScenarioFile, result) -> xr.Dataset:
    """The ``hazard.nc`` Dataset of a fire result."""
    outside = twin["domain_mask"].values == 0
    fields = {}
    for name in ("arrival_time", "rate_of_spread", "fireline_intensity"):
        a = getattr(result, name).astype(np.float64)
        a[outside] = np.nan
        fields[name] = a
    fields["final_burned"] = result.burned.astype(np.int8)
    return result_dataset(twin, fields, FIRE_FIELDS,
                          attrs={"scenario_name": sf.scenario.name, "hazard": "fire", "members": 1,
                                 "scenario_description": sf.scenario.description,
                                 "title": f"fire hazard of scenario {sf.scenario.name}",
                                 "source": SOURCE, "references": REFERENCES},
                          series={"burned": (result.snapshot_times, result.burned_snapshots.astype(np.int8))},
                          start=sf.scenario.start)


def write(folder: Path, sf: ScenarioFile, twin: xr.Dataset, result) -> dict:
    """Write hazard.nc and arrival_time.tif; return the run summary (buildings.csv comes with the risk)."""
    ds = hazard_dataset(twin, sf, result)
    write_maps(ds, folder / "hazard.nc", OUTPUTS.geotiff if sf.scenario.output.geotiff else ())
    return summary(twin, sf, result)


def summary(twin: xr.Dataset, sf: ScenarioFile, result) -> dict:
    """Burned area and buildings burned at each snapshot time, spot fires, wall time."""
    cell_area = float(twin.attrs["cell_size"]) ** 2
    t_building = result.building_ignition_time
    over_time = [{"time_s": float(ts), "burned_area_m2": float(snap.sum() * cell_area),
                  "buildings_burned": int(np.sum(t_building <= ts))}
                 for ts, snap in zip(result.snapshot_times, result.burned_snapshots)]
    return {
        "scenario": sf.scenario.name,
        "hazard": "fire",
        "duration_s": sf.scenario.duration,
        "cells": int(result.burned.size),
        "burned_area_m2": float(result.burned.sum() * cell_area),
        "buildings_burned": int(np.isfinite(t_building).sum()),
        "buildings_total": int(t_building.size),
        "spot_fires": int(result.spot_fires),
        "solver_wall_s": float(result.wall_time_s),
        "over_time": over_time,
    }
