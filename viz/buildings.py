"""All buildings of a twin as ONE merged PolyData of extruded footprints, built vectorized.

Each building cell contributes a flat roof quad, and a wall quad on each of its four edges where
the neighbouring cell belongs to another building (or to none). A building stands on the lowest
ground elevation (m) among its cells and rises to that plus its greatest ``building_height`` (m).
Points are shared within a building and never between buildings, so the faces of one building
form one connected piece (for a 4- or 8-connected footprint) and the mesh has cell data
``building_id`` to colour or pick by.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyvista as pv
import xarray as xr
from scipy import ndimage

from viz.meshes import grid_origin

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
