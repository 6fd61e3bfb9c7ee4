"""The flood hazard's memory and disk use, for the run budget (:mod:`twin.pipeline.budget`).

Figures measured as described at each constant (``bench/memory_peak.py``, bench/README.md "Memory").
"""

from __future__ import annotations

import os

import numpy as np

from twin.core.errors import InputError
from twin.core.grid import Grid
from twin.core.remap import remap_memory
from twin.hazards.flood.schema import GriddedRainfall
from twin.hazards.flood.tiled import DEFAULT_STEPS_PER_EXCHANGE, auto_tiles, required_halo
from twin.hazards.interface import MemoryUse
from twin.io.rainfall import read_forecast

#: Bytes per cell of the flood model inputs (:func:`twin.hazards.flood.run.prepare`,
#: :class:`twin.hazards.flood.model.FloodInputs`): z, manning_n, infiltration and drainage capacity
#: (:func:`twin.hazards.flood.setup.loss_fields`) and h0 in float64 (5 x 8), blocked and domain bool.
FLOOD_INPUT_BYTES_PER_CELL = 42
#: Bytes per cell of the flood loop's state (:func:`twin.hazards.flood.model.simulate_flood`): h, qx,
#: qy, max_depth, wet_duration float64 (5 x 8); max_speed, max_unit_discharge, arrival and the
#: uniform rain weight float32 (4 x 4). Gridded rain holds its weight in float64 (+4).
FLOOD_LOOP_BYTES_PER_CELL = 56
#: Bytes per cell the flood state takes besides :data:`FLOOD_LOOP_BYTES_PER_CELL` when an untiled
#: run steps its grid as row bands on threads (:mod:`twin.hazards.flood.bands`): the bands hold
#: their own h, qx, qy (the whole-grid arrays are let go), and at every stop, and when the number
#: of threads changes, the whole state is put together once more (3 x 8).
BANDS_STATE_BYTES_PER_CELL = 24
#: Bytes per cell of the cells the step's outflow control watches
#: (:meth:`twin.hazards.flood.forcing.ForcingSchedule.watched`), bool, held only with inflows.
WATCHED_BYTES_PER_CELL = 1
#: Bytes per cell of a flood result kept after the loop (:class:`twin.hazards.flood.model.FloodResult`):
#: max_depth, wet_duration, final_depth float64; max_speed, max_unit_discharge, arrival float32.
FLOOD_RESULT_BYTES_PER_CELL = 36
#: Bytes per cell of the six hazard.nc maps, promoted to float64 by
#: :func:`twin.hazards.flood.run.hazard_dataset` (``astype(np.float64)``): 6 x 8.
FLOOD_HAZARD_FIELD_BYTES_PER_CELL = 48
#: Bytes per cell and snapshot of the depth (float32, ``simulate_flood``).
SNAPSHOT_BYTES_PER_CELL = 4
#: Bytes per cell of :meth:`twin.risk.accumulator.RiskAccumulator.add` while it runs: the member's
#: maps as float64 (max_depth, max_speed, arrival, :func:`twin.hazards.flood.run.member_maps`) and
#: the hits, debris factor and hazard-rating temporaries (``docs/risk.md``: about 60 N).
RISK_ADD_BYTES_PER_CELL = 84
#: Bytes per cell of a member's maps sent to the driver: three float64 maps.
MEMBER_MAPS_BYTES_PER_CELL = 24


def snapshot_count(sf) -> int:
    """Snapshots of the run: ``0, every, 2 every, ... <= duration``
    (:func:`twin.hazards.flood.forcing.output_times`)."""
    return int(np.floor(sf.scenario.duration / sf.scenario.output.every + 1e-9)) + 1


def _gridded_rain(sf, grid: Grid) -> tuple[int, int, int]:
    """Time intervals of a scenario's gridded rainfall, and the bytes its remap onto ``grid`` holds
    and needs while it is built (:func:`twin.core.remap.remap_memory`); zeros for no gridded rain
    or an unreadable file (the run's own checks name the problem)."""
    spec = sf.scenario.flood.rainfall
    if not isinstance(spec, GriddedRainfall):
        return 0, 0, 0
    try:
        forecast = read_forecast(sf.resolve(spec.file), spec.variable, check_values=False)
        held, build = remap_memory(forecast.x, forecast.y, forecast.crs, grid)
    except InputError:
        return 0, 0, 0
    return forecast.edges.size - 1, held, build


def _tiled_blocks(sc, shape) -> int:
    """Bytes of a tiled control run's halo and output blocks (:mod:`twin.hazards.flood.tiled`; not measured).

    Per tile two halo blocks of the state (3 float64 planes on the extended grid, 24 bytes a
    cell), two output blocks of the five accumulators (32 bytes) and the static fields cut into
    halo blocks once (z, n, losses, rain weight, blocked: about 41 bytes), on tiles grown by the
    halo on each side.
    """
    ny, nx = shape
    tiles = auto_tiles(shape, os.cpu_count() or 1) if sc.parallel.tiles == "auto" else sc.parallel.tiles
    halo = sc.parallel.halo or required_halo(DEFAULT_STEPS_PER_EXCHANGE)
    ty, tx = tiles
    grown = (ny + 2 * halo * ty) * (nx + 2 * halo * tx)
    return int(grown * (2 * 24 + 2 * 32 + 41))


def memory(sf, grid: Grid) -> MemoryUse:
    """The flood run's memory use on the twin's ``grid`` (bytes); a gridded rainfall's remap is
    held (cached) through the run."""
    shape = grid.shape
    n = int(shape[0]) * int(shape[1])
    snaps = snapshot_count(sf)
    s_bytes = SNAPSHOT_BYTES_PER_CELL * snaps * n
    gridded, remap_held, remap_build = _gridded_rain(sf, grid)
    state = (FLOOD_LOOP_BYTES_PER_CELL + (4 if gridded else 0)) * n
    if sf.scenario.parallel.tiles is not None:
        state += _tiled_blocks(sf.scenario, shape)
    else:
        state += BANDS_STATE_BYTES_PER_CELL * n
    if sf.scenario.flood.inflows:
        state += WATCHED_BYTES_PER_CELL * n
    return MemoryUse(snapshots=snaps, snapshot_bytes=s_bytes, snapshot_copies=0,
                     inputs=FLOOD_INPUT_BYTES_PER_CELL * n + 8 * gridded * n + remap_held, state=state,
                     result=FLOOD_RESULT_BYTES_PER_CELL * n, fields=FLOOD_HAZARD_FIELD_BYTES_PER_CELL * n,
                     netcdf_variables=[8 * n] * 6 + [s_bytes], risk_add_bytes_per_cell=RISK_ADD_BYTES_PER_CELL,
                     member_map_bytes_per_cell=MEMBER_MAPS_BYTES_PER_CELL,
                     setup_temporaries=max(0, remap_build - remap_held))
