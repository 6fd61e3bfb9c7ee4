"""Turning a validated flood scenario and a CityTwin into the arrays the flood model runs on.

Everything here converts once to SI and checks positions against the domain: an inflow or gauge
outside the domain, or on a building, is an :class:`~twin.core.errors.InputError` naming the YAML path
and line. Vector files a scenario names (gauge points, override polygons) are read by
:mod:`twin.scenario.layers`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from twin.core import limits
from twin.core.citytwin import twin_grid
from twin.core.classes import LANDCOVER, code_table
from twin.scenario.layers import entry_files, polygon_values, scenario_gauges
from twin.scenario.positions import area_cells, cell_on_grid, point_or_line_cells
from twin.hazards.flood.schema import FloodSpec, LevelSeries
from twin.scenario.schema import ScenarioFile
from twin.scenario.units import MM_PER_H

#: Land covers served by storm drains (drainage capacity applies there).
DRAINED_LANDCOVER = ("road", "urban_open")
#: The values an override by area may give, and the range of a column's values: ``(low, high,
#: low_open)`` in the scenario's units (s m^-1/3, mm/h), as the schema bounds a number.
OVERRIDE_RANGES = {"manning_n": (0.0, limits.MAX_MANNING_N, True),
                   "infiltration_mm_h": (0.0, limits.MAX_LOSS_MM_H, False),
                   "drainage_mm_h": (0.0, limits.MAX_LOSS_MM_H, False)}
#: Factor from the scenario's unit of each override to SI (n is s m^-1/3 already; mm/h to m/s).
_TO_SI = {"manning_n": 1.0, "infiltration_mm_h": MM_PER_H, "drainage_mm_h": MM_PER_H}


def blocked_cells(twin: xr.Dataset) -> np.ndarray:
    """Cells water cannot enter: building footprints and cells outside the domain (bool, ny x nx)."""
    return (twin["building_id"].values > 0) | (twin["domain_mask"].values == 0)


def area_overrides(sf: ScenarioFile, twin: xr.Dataset) -> dict[str, np.ndarray]:
    """The ``flood.overrides`` per cell, in SI: ``manning_n`` (s m^-1/3), ``infiltration_mm_h`` and
    ``drainage_mm_h`` (converted to m/s); NaN where no override's polygon holds the cell, later
    overrides on top. Only the keys some override gives.

    Raises
    ------
    InputError
        As :func:`twin.scenario.layers.polygon_values` (file, layer, column, feature ids).
    """
    grid, domain = twin_grid(twin), twin["domain_mask"].values == 1
    out: dict[str, np.ndarray] = {}
    for i, entry in enumerate(sf.scenario.flood.overrides):
        for key, values in polygon_values(sf, ("flood", "overrides", i), entry, grid, domain, OVERRIDE_RANGES).items():
            values = values * _TO_SI[key]
            out[key] = values if key not in out else np.where(np.isfinite(values), values, out[key])
    return out


def _overridden(field: np.ndarray, overrides: dict | None, key: str) -> np.ndarray:
    """``field`` with the override ``key`` where it is given (finite)."""
    given = (overrides or {}).get(key)
    return field if given is None else np.where(np.isfinite(given), given, field)


def manning_field(twin: xr.Dataset, spec: FloodSpec, overrides: dict | None = None) -> np.ndarray:
    """Manning's n per cell (s m^-1/3): the twin's, or the scenario's number or table over it, the
    overrides by area (:func:`area_overrides`) over that, times ``manning_scale`` (an ensemble
    member's roughness uncertainty)."""
    n = twin["manning_n"].values.astype(np.float64).copy()
    if isinstance(spec.manning_n, float):
        n[:] = spec.manning_n
    elif spec.manning_n is not None:
        if spec.manning_n.default is not None:
            n[:] = spec.manning_n.default
        landcover = twin["landcover"].values
        for name, value in spec.manning_n.by_landcover.items():
            n[landcover == LANDCOVER[name]] = value
    return _overridden(n, overrides, "manning_n") * spec.manning_scale


def loss_fields(twin: xr.Dataset, spec: FloodSpec, overrides: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Infiltration and drainage capacities per cell (m/s).

    Infiltration is a number (all open cells) or by land-cover name (mm/h in the scenario).
    Drainage capacity applies to the paved land covers served by storm drains
    (:data:`DRAINED_LANDCOVER`). The overrides by area (:func:`area_overrides`) replace both
    in the cells they cover, whatever their land cover.
    """
    landcover = twin["landcover"].values
    losses = spec.losses
    if isinstance(losses.infiltration_mm_h, dict):
        infiltration = code_table(losses.infiltration_mm_h)[landcover] * MM_PER_H
    else:
        infiltration = np.full(landcover.shape, losses.infiltration_mm_h * MM_PER_H)
    drained = np.isin(landcover, [LANDCOVER[k] for k in DRAINED_LANDCOVER])
    drainage = np.where(drained, losses.drainage_mm_h * MM_PER_H, 0.0)
    return (_overridden(infiltration, overrides, "infiltration_mm_h"),
            _overridden(drainage, overrides, "drainage_mm_h"))


def gauge_cells(sf: ScenarioFile, twin: xr.Dataset) -> list[tuple[int, int]]:
    """Row and column of each gauge (points and layers of points, :func:`twin.scenario.layers.scenario_gauges`);
    a gauge outside the domain is an error."""
    grid, inside = twin_grid(twin), twin["domain_mask"].values == 1
    cells = []
    for gauge in scenario_gauges(sf, grid):
        r, c = cell_on_grid(sf, grid, gauge.at, gauge.path, gauge.what)
        if not inside[r, c]:
            raise sf.error(gauge.path, f"{gauge.what} is outside the domain (terrain nodata)")
        cells.append((r, c))
    return cells


def gauge_names(sf: ScenarioFile, twin: xr.Dataset) -> list[str]:
    """The name of each gauge, in the order of :func:`gauge_cells`."""
    return [g.name for g in scenario_gauges(sf, twin_grid(twin))]


def vector_files(sf: ScenarioFile) -> list[Path]:
    """The vector files a flood scenario reads (override polygons, gauge points), for the run's input hashes."""
    return entry_files(sf, [*sf.scenario.flood.overrides, *sf.scenario.output.gauges])


def inflow_cells(sf: ScenarioFile, twin: xr.Dataset) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cells ``(rows, cols)`` of each inflow; the discharge is shared equally among them.

    A point inflow must fall on an open cell in the domain; a line inflow uses the open cells it
    crosses and must cross at least one; an area or circle inflow uses the open cells whose centre
    lies inside it, must lie on the grid and hold at least one (:func:`twin.scenario.positions.area_cells`).
    """
    grid, blocked = twin_grid(twin), blocked_cells(twin)
    return [area_cells(sf, grid, inflow, ("flood", "inflows", i), ~blocked, f"inflow {inflow.name!r}")
            if inflow.area is not None or inflow.circle is not None else
            point_or_line_cells(sf, grid, inflow, ("flood", "inflows", i), ~blocked, f"inflow {inflow.name!r}",
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
