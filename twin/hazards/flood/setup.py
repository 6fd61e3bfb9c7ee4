"""Turning a validated flood scenario and a CityTwin into the arrays the flood model runs on.

Everything here converts once to SI and checks positions against the domain: an inflow or gauge
outside the domain, or on a building, is an :class:`~twin.core.errors.InputError` naming the YAML path
and line.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from twin.core.citytwin import twin_grid
from twin.core.classes import LANDCOVER, code_table
from twin.scenario.positions import cell_on_grid, point_or_line_cells
from twin.hazards.flood.schema import FloodSpec, LevelSeries
from twin.scenario.schema import ScenarioFile
from twin.scenario.units import MM_PER_H

#: Land covers served by storm drains (drainage capacity applies there).
DRAINED_LANDCOVER = ("road", "urban_open")


def blocked_cells(twin: xr.Dataset) -> np.ndarray:
    """Cells water cannot enter: building footprints and cells outside the domain (bool, ny x nx)."""
    return (twin["building_id"].values > 0) | (twin["domain_mask"].values == 0)


def manning_field(twin: xr.Dataset, spec: FloodSpec) -> np.ndarray:
    """Manning's n per cell (s m^-1/3): the twin's, or the scenario's number or table over it,
    times ``manning_scale`` (an ensemble member's roughness uncertainty)."""
    n = twin["manning_n"].values.astype(np.float64).copy()
    if isinstance(spec.manning_n, float):
        n[:] = spec.manning_n
    elif spec.manning_n is not None:
        if spec.manning_n.default is not None:
            n[:] = spec.manning_n.default
        landcover = twin["landcover"].values
        for name, value in spec.manning_n.by_landcover.items():
            n[landcover == LANDCOVER[name]] = value
    return n * spec.manning_scale


def loss_fields(twin: xr.Dataset, spec: FloodSpec) -> tuple[np.ndarray, np.ndarray]:
    """Infiltration and drainage capacities per cell (m/s).

    Infiltration is a number (all open cells) or by land-cover name (mm/h in the scenario).
    Drainage capacity applies to the paved land covers served by storm drains
    (:data:`DRAINED_LANDCOVER`).
    """
    landcover = twin["landcover"].values
    losses = spec.losses
    if isinstance(losses.infiltration_mm_h, dict):
        infiltration = code_table(losses.infiltration_mm_h)[landcover] * MM_PER_H
    else:
        infiltration = np.full(landcover.shape, losses.infiltration_mm_h * MM_PER_H)
    drained = np.isin(landcover, [LANDCOVER[k] for k in DRAINED_LANDCOVER])
    drainage = np.where(drained, losses.drainage_mm_h * MM_PER_H, 0.0)
    return infiltration, drainage


def gauge_cells(sf: ScenarioFile, twin: xr.Dataset) -> list[tuple[int, int]]:
    """Row and column of each gauge; a gauge outside the domain is an error."""
    grid, inside = twin_grid(twin), twin["domain_mask"].values == 1
    cells = []
    for i, gauge in enumerate(sf.scenario.output.gauges):
        path = ("output", "gauges", i, "at")
        r, c = cell_on_grid(sf, grid, gauge.at, path, f"gauge {gauge.name!r}")
        if not inside[r, c]:
            raise sf.error(path, f"gauge {gauge.name!r} is outside the domain (terrain nodata)")
        cells.append((r, c))
    return cells


def inflow_cells(sf: ScenarioFile, twin: xr.Dataset) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cells ``(rows, cols)`` of each inflow; the discharge is shared equally among them.

    A point inflow must fall on an open cell in the domain; a line inflow uses the open cells it
    crosses and must cross at least one.
    """
    grid, blocked = twin_grid(twin), blocked_cells(twin)
    return [point_or_line_cells(sf, grid, inflow, ("flood", "inflows", i), ~blocked, f"inflow {inflow.name!r}",
                                "falls on a building or outside the domain; move it to an open cell",
                                "the line crosses no open cell of the domain")
            for i, inflow in enumerate(sf.scenario.flood.inflows)]


def boundary_kinds(spec: FloodSpec) -> dict[str, object]:
    """Edge -> ``"closed"``, ``"free"`` or ``(times_s, levels_m)``."""
    out = {}
    for edge in ("north", "south", "east", "west"):
        value = getattr(spec.boundaries, edge)
        if isinstance(value, LevelSeries):
            out[edge] = (np.asarray(value.times), np.asarray(value.level_m, dtype=np.float64))
        elif isinstance(value, float):
            out[edge] = (np.array([0.0]), np.array([value]))
        else:
            out[edge] = value
    return out
