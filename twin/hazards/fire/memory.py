"""The fire hazard's memory and disk use, for the run budget (:mod:`twin.pipeline.budget`).

Figures measured as described at each constant (``bench/memory_peak.py``, bench/README.md "Memory").
"""

from __future__ import annotations

import numpy as np

from twin.core.grid import Grid
from twin.hazards.interface import MemoryUse

#: Bytes per cell of the fire inputs beyond the twin (:func:`twin.hazards.fire.run.prepare`: the
#: elevation with zeros outside, float64; the other arrays are the twin's own).
FIRE_INPUT_BYTES_PER_CELL = 8
#: Peak bytes per cell of the fire model (:func:`twin.hazards.fire.model.simulate_fire`) besides its
#: snapshots: the time-invariant setting (Rothermel base, slope, Hamada a/d/f, gaps), the rates
#: of a wind period (forward, side, back, azimuth, head rate, intensity), the arrival solver's
#: work arrays and the result. Measured on the 2000 x 2000 sample city, wildland fire (two wind
#: periods, spotting): ``tracemalloc`` counts 311 bytes a cell of live arrays above the inputs,
#: the process RSS (with glibc's retained heap) 1936 MiB, from which this value is fitted with a
#: 7 % margin (bench/README.md; remeasured 2026-12-07: 1814 MiB, estimate 1.20 times that). At grids where the arrays exceed glibc's 32 MiB mmap threshold
#: (over 4.2e6 cells for float64) less heap is retained, so the figure is an upper bound there.
FIRE_MODEL_BYTES_PER_CELL = 409
#: Bytes per cell of a fire result (:class:`twin.hazards.fire.model.FireResult`): arrival time, rate of
#: spread, fireline intensity float64, burned bool.
FIRE_RESULT_BYTES_PER_CELL = 25
#: Bytes per cell of the fire hazard.nc maps (:func:`twin.hazards.fire.run.hazard_dataset`): three
#: float64 copies and final_burned int8.
FIRE_HAZARD_FIELD_BYTES_PER_CELL = 25
#: Bytes per cell and snapshot of the burned mask (bool in ``simulate_fire``; int8 in hazard.nc).
SNAPSHOT_BYTES_PER_CELL = 1
#: Bytes per cell of :meth:`twin.risk.accumulator.RiskAccumulator.add` while it runs: the member's
#: arrival and burned maps as float64 and the hits.
RISK_ADD_BYTES_PER_CELL = 40
#: Bytes per cell of a member's maps sent to the driver: arrival float64, burned bool.
MEMBER_MAPS_BYTES_PER_CELL = 9


def snapshot_count(sf) -> int:
    """Snapshots of the run: ``0, every, ... < duration`` and the duration
    (:func:`twin.hazards.fire.model.simulate_fire`)."""
    duration, every = sf.scenario.duration, sf.scenario.output.every
    return int(np.unique(np.append(np.arange(0.0, duration, every), duration)).size)


def memory(sf, grid: Grid) -> MemoryUse:
    """The fire run's memory use on the twin's ``grid`` (bytes); the snapshots are stacked once
    in the model and copied to int8 once for hazard.nc."""
    n = int(grid.shape[0]) * int(grid.shape[1])
    snaps = snapshot_count(sf)
    s_bytes = SNAPSHOT_BYTES_PER_CELL * snaps * n
    return MemoryUse(snapshots=snaps, snapshot_bytes=s_bytes, snapshot_copies=1,
                     inputs=FIRE_INPUT_BYTES_PER_CELL * n, state=FIRE_MODEL_BYTES_PER_CELL * n + s_bytes,
                     result=FIRE_RESULT_BYTES_PER_CELL * n, fields=FIRE_HAZARD_FIELD_BYTES_PER_CELL * n,
                     netcdf_variables=[8 * n] * 3 + [n, s_bytes], risk_add_bytes_per_cell=RISK_ADD_BYTES_PER_CELL,
                     member_map_bytes_per_cell=MEMBER_MAPS_BYTES_PER_CELL)
