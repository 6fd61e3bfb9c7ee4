"""All buildings of a twin as ONE merged PolyData of extruded footprints, built vectorized, and the
state each building is drawn in.

Each building cell contributes a flat roof quad, and a wall quad on each of its four edges where
the neighbouring cell belongs to another building (or to none). A building stands on the lowest
ground elevation (m) among its cells and rises to that plus its greatest ``building_height`` (m).
Points are shared within a building and never between buildings, so the faces of one building
form one connected piece (for a 4- or 8-connected footprint) and the mesh has cell data
``building_id`` to colour or pick by.

A building's *state* (:data:`viz.legend.BUILDING_STATES`) is what the legend says of it: its
risk class from the run's ``buildings.csv`` (``risk_class``, codes of
:data:`twin.risk.vulnerability.RISK_CLASSES`; "none" is drawn neutral), or "burned" where the
table says the control run's fire reached it (``control_burned``). At a time of an animation it
is its state *then*: burned where the control run's fire had reached it
(``control_ignition_time_s`` at or before that time), else the risk class of the control run's
damage so far, from the hazard's own impact function (:mod:`twin.risk.impact`) applied to the
hazard's maps as they stood (:func:`maps_at`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyvista as pv
import xarray as xr
from scipy import ndimage

from twin.core.errors import RunError
from twin.risk.exposure import building_table
from twin.risk.impact import BuildingRiskAccumulator
from twin.risk.vulnerability import RISK_CLASSES
from viz.legend import BUILDING_STATES
from viz.meshes import grid_origin

#: buildings.csv column: 1 where the control run's fire reached the building.
BURNED_COLUMN = "control_burned"
#: buildings.csv column: when (s) the control run's fire reached the building, empty for never.
BURN_TIME_COLUMN = "control_ignition_time_s"

#: Corner offsets (row, col) of a cell, counter-clockwise seen from above: SW, SE, NE, NW.
_CORNERS = ((1, 0), (1, 1), (0, 1), (0, 0))
#: Cell edges in the same counter-clockwise order (start corner, end corner) with the
#: (row, col) step to the neighbour across the edge: south, east, north, west.
_EDGES = (((1, 0), (1, 1), (1, 0)), ((1, 1), (0, 1), (0, 1)),
          ((0, 1), (0, 0), (-1, 0)), ((0, 0), (1, 0), (0, -1)))


def _neighbour(ids: np.ndarray, step: tuple[int, int]) -> np.ndarray:
    """``ids`` shifted so that each cell sees its neighbour across ``step`` (0 beyond the edge)."""
    padded = np.pad(ids, 1)
    dr, dc = step
    ny, nx = ids.shape
    return padded[1 + dr:1 + dr + ny, 1 + dc:1 + dc + nx]


def building_mesh(twin: xr.Dataset, values: Mapping[int, float] | None = None,
                  exaggeration: float = 1.0, value_name: str = "value") -> pv.PolyData:
    """One PolyData of every building's roof and outer walls.

    Parameters
    ----------
    twin : xarray.Dataset
        CityTwin with ``building_id`` (0 = none), ``building_height`` (m) and ``elevation`` (m).
    values : mapping of int to float, optional
        Per-building value (any units) by building id; buildings missing from it get NaN.
    exaggeration : float
        Vertical exaggeration (dimensionless) applied to ground and heights alike.
    value_name : str
        Name of the cell-data array holding ``values``.

    Returns
    -------
    pyvista.PolyData
        Quads in local metres (see :mod:`viz.meshes`) with cell data ``building_id`` (int32) and,
        when ``values`` is given, ``value_name`` (float64). Empty when the twin has no building.
    """
    ids = np.asarray(twin["building_id"].values).astype(np.int64)
    ny, nx = ids.shape
    _, _, dx = grid_origin(twin)
    inside = ids > 0
    if not inside.any():
        return pv.PolyData()
    uniq, inverse = np.unique(ids[inside], return_inverse=True)
    labels = np.zeros(ids.shape, dtype=np.int64)
    labels[inside] = inverse + 1
    index = np.arange(1, len(uniq) + 1)
    elevation = np.asarray(twin["elevation"].values, dtype=np.float64)
    ground = np.where(np.isfinite(elevation), elevation, np.inf)
    base = np.asarray(ndimage.minimum(ground, labels, index))
    base[~np.isfinite(base)] = 0.0
    height = np.asarray(ndimage.maximum(np.asarray(twin["building_height"].values, dtype=np.float64),
                                        labels, index))
    top = base + np.nan_to_num(height)

    rows, cols = np.nonzero(inside)
    b = labels[rows, cols] - 1
    n_corners = (ny + 1) * (nx + 1)

    def key(building, r, c, level):
        return ((building * n_corners + r * (nx + 1) + c) * 2 + level)

    roofs = np.stack([key(b, rows + dr, cols + dc, 1) for dr, dc in _CORNERS], axis=1)
    quads, owners = [roofs], [b]
    for start, end, step in _EDGES:
        outer = _neighbour(ids, step)[rows, cols] != ids[rows, cols]
        r, c, bb = rows[outer], cols[outer], b[outer]
        quads.append(np.stack([key(bb, r + start[0], c + start[1], 0), key(bb, r + end[0], c + end[1], 0),
                               key(bb, r + end[0], c + end[1], 1), key(bb, r + start[0], c + start[1], 1)],
                              axis=1))
        owners.append(bb)
    quads, owners = np.concatenate(quads), np.concatenate(owners)

    keys, local = np.unique(quads, return_inverse=True)
    level, corner = keys % 2, keys // 2
    building, rc = corner // n_corners, corner % n_corners
    r, c = rc // (nx + 1), rc % (nx + 1)
    z = np.where(level == 1, top[building], base[building]) * exaggeration
    points = np.column_stack([c * dx, (ny - r) * dx, z])
    faces = np.column_stack([np.full(len(quads), 4), local.reshape(-1, 4)]).ravel()
    mesh = pv.PolyData(points.astype(np.float64), faces=faces)
    mesh.cell_data["building_id"] = uniq[owners].astype(np.int32)
    if values is not None:
        per_building = np.array([values.get(int(i), np.nan) for i in uniq], dtype=np.float64)
        mesh.cell_data[value_name] = per_building[owners]
    e0, n0, _ = grid_origin(twin)
    mesh.field_data["origin"] = np.array([e0, n0])
    return mesh


def _state_codes(names) -> np.ndarray:
    """Index in BUILDING_STATES of each state name."""
    return np.array([BUILDING_STATES.index(n) for n in names], dtype=np.int16)


def _by_id(table: pd.DataFrame, ids: np.ndarray, column: str, missing: float) -> np.ndarray:
    """A column of buildings.csv in the order of ``ids``, ``missing`` for ids the table lacks."""
    values = table.set_index("building_id")[column]
    return values.reindex(ids).to_numpy(dtype=np.float64, na_value=missing)


def risk_states(table: pd.DataFrame | None, ids: np.ndarray) -> np.ndarray:
    """The state of each building of ``ids`` at the end of the run (index in BUILDING_STATES):
    "burned" where ``control_burned`` is 1, else the table's ``risk_class``; "none" for a building
    the table does not list (or without either column)."""
    classes = _state_codes(RISK_CLASSES)
    if table is None or "risk_class" not in table:
        return np.full(len(ids), classes[0], dtype=np.int16)
    code = _by_id(table, ids, "risk_class", 0.0).astype(int).clip(0, len(RISK_CLASSES) - 1)
    states = classes[code]
    if BURNED_COLUMN in table:
        states = np.where(_by_id(table, ids, BURNED_COLUMN, 0.0) == 1, BUILDING_STATES.index("burned"), states)
    return states.astype(np.int16)


def maps_at(hazard: xr.Dataset, snapshot: str, time: float) -> dict[str, np.ndarray]:
    """A hazard's maps as they stood at ``time`` (s), from its snapshots.

    ``snapshot`` at the snapshot nearest ``time``; ``max_<snapshot>`` the maximum over the
    snapshots up to it (the maximum between snapshots is not recorded); ``arrival_time`` where
    it is not later than the snapshot's time (NaN elsewhere: not reached yet).
    """
    source = hazard[snapshot]
    times = np.asarray(source["time"].values, dtype=np.float64)
    k = int(np.argmin(np.abs(times - time)))
    maps = {snapshot: np.asarray(source.isel(time=k).values, dtype=np.float64),
            f"max_{snapshot}": np.asarray(source.isel(time=slice(0, k + 1)).max("time").values, dtype=np.float64)}
    if "arrival_time" in hazard:
        arrival = np.asarray(hazard["arrival_time"].values, dtype=np.float64)
        maps["arrival_time"] = np.where(arrival <= times[k], arrival, np.nan)
    return maps


class StatesOverTime:
    """The state of each building at the times of an animation.

    Parameters
    ----------
    twin : xarray.Dataset
        The run's CityTwin (for the building table: rings and footprints).
    table : pandas.DataFrame or None
        The run's buildings.csv.
    ids : numpy.ndarray
        Building ids, in the order states are returned.
    impact : twin.risk.impact.BuildingImpact
        The hazard's impact function.
    """

    def __init__(self, twin: xr.Dataset, table: pd.DataFrame | None, ids: np.ndarray, impact):
        self.ids, self.impact = ids, impact
        self.burn_time = (_by_id(table, ids, BURN_TIME_COLUMN, np.nan)
                          if table is not None and BURN_TIME_COLUMN in table else None)
        self.table = building_table(twin) if self.burn_time is None else None

    def at(self, hazard: xr.Dataset, snapshot: str, time: float) -> np.ndarray:
        """States (index in BUILDING_STATES) at ``time`` (s): "burned" where the fire had reached
        the building, else the risk class of the damage so far ("none" where the hazard's impact
        cannot be computed from the snapshot maps, :func:`maps_at`)."""
        none = BUILDING_STATES.index(RISK_CLASSES[0])
        if self.burn_time is not None:
            return np.where(self.burn_time <= time, BUILDING_STATES.index("burned"), none).astype(np.int16)
        accumulator = BuildingRiskAccumulator(self.table, self.impact, 1)
        try:
            accumulator.add(0, maps_at(hazard, snapshot, time))
        except RunError:
            return np.full(len(self.ids), none, dtype=np.int16)
        cols = accumulator.finalize()
        code = pd.Series(cols["risk_class"], index=cols["building_id"]).reindex(self.ids).fillna(0).astype(int)
        return _state_codes(RISK_CLASSES)[code.to_numpy()]
