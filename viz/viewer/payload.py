"""The data of a run's viewer page: terrain, buildings, layers and the building table, packed small.

Arrays travel as zlib-deflated little-endian bytes in base64 (:func:`packed`), optionally delta
encoded (each value the difference to the one before, in the array's integer type, wrapping),
which the page undoes with the browser's ``DecompressionStream``. Coordinates are the local metres
of :mod:`viz.meshes`: x east and y north from the grid's south-west corner, z the elevation (m);
the page applies the vertical exaggeration.

* Terrain: elevation at the cell centres quantized to ``uint16`` steps of
  ``(zmax - zmin) / 65535`` (m), land cover codes, the mask of cells inside the domain.
* Buildings: the merged extruded-footprint mesh of :func:`viz.buildings.building_mesh`: corner
  points (x and y in cells, z in m), quads, and per point the index of its building in ``ids``.
* Per layer: class maps (uint8, :data:`viz.viewer.classes.NO_CLASS` not drawn) and per-building
  classes, with their legends; a layer of design events has one class map (and one array of
  building classes) per return period, and the return periods' labels.
* The building table: every column of buildings.csv, one value per building of ``ids`` (None
  where the table has no row or no value), as deflated JSON.
"""

from __future__ import annotations

import base64
import json
import math
import zlib

import numpy as np
import pandas as pd
import xarray as xr

from viz.buildings import building_mesh
from viz.meshes import LANDCOVER_RGB, grid_origin
from viz.run_data import RunData
from viz.viewer.layers import ViewerLayer

#: zlib compression level of the packed arrays (6: zlib's default; 9 saved 1 % on the sample run).
LEVEL = 6
#: Number of height steps of the quantized terrain (one value of uint16 is left unused).
HEIGHT_STEPS = 65534


def packed(array, delta: bool = False) -> dict:
    """An array as the page reads it: ``dtype``, ``shape``, ``delta`` and base64 of its deflated bytes.

    Parameters
    ----------
    array : numpy.ndarray
        Of dtype uint8, uint16, uint32, int32 or float32.
    delta : bool
        Store the differences between consecutive values (flattened, in the array's own integer
        type; the first against 0).
    """
    array = np.ascontiguousarray(array)
    if array.dtype.name not in ("uint8", "uint16", "uint32", "int32", "float32"):
        raise TypeError(f"cannot pack {array.dtype}")
    flat = array.ravel()
    if delta:
        flat = np.diff(flat, prepend=np.zeros(1, dtype=flat.dtype))
    raw = flat.astype(flat.dtype.newbyteorder("<"), copy=False).tobytes()
    return {"dtype": array.dtype.name, "shape": list(array.shape), "delta": delta, "data": _deflated(raw)}


def packed_json(value) -> dict:
    """A JSON value deflated the same way (``dtype`` ``"json"``): the building table, mostly numbers."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return {"dtype": "json", "data": _deflated(text.encode("utf-8"))}


def _deflated(raw: bytes) -> str:
    return base64.b64encode(zlib.compress(raw, LEVEL)).decode("ascii")


def terrain(twin: xr.Dataset) -> dict:
    """The terrain grid: shape, cell size (m), quantized heights, land cover, domain mask."""
    z = np.asarray(twin["elevation"].values, dtype=np.float64)
    inside = np.isfinite(z)
    if "domain_mask" in twin:
        inside &= np.asarray(twin["domain_mask"].values) == 1
    zmin, zmax = (float(z[inside].min()), float(z[inside].max())) if inside.any() else (0.0, 0.0)
    step = (zmax - zmin) / HEIGHT_STEPS if zmax > zmin else 1.0
    heights = np.where(inside, np.round((np.where(inside, z, zmin) - zmin) / step), 0).astype(np.uint16)
    codes = np.asarray(twin["landcover"].values) if "landcover" in twin else np.zeros(z.shape, np.int8)
    codes = np.where((codes >= 0) & (codes < len(LANDCOVER_RGB)), codes, 0).astype(np.uint8)
    return {"ny": z.shape[0], "nx": z.shape[1], "dx": grid_origin(twin)[2], "zmin": zmin, "zmax": zmax, "zstep": step,
            "heights": packed(heights, delta=True), "landcover": packed(codes),
            "inside": packed(inside.astype(np.uint8)),
            "landcover_rgb": LANDCOVER_RGB.astype(int).tolist()}


def buildings(twin: xr.Dataset) -> tuple[dict, np.ndarray]:
    """The buildings' mesh, and the building ids in the order of its per-point building index."""
    mesh = building_mesh(twin)
    if not mesh.n_cells:
        return {"count": 0}, np.zeros(0, dtype=np.int64)
    dx = grid_origin(twin)[2]
    ids, owner = np.unique(np.asarray(mesh.cell_data["building_id"]), return_inverse=True)
    quads = mesh.faces.reshape(-1, 5)[:, 1:]
    point_owner = np.zeros(mesh.n_points, dtype=np.uint32)
    point_owner[quads.ravel()] = np.repeat(owner, 4)
    corners = np.round(mesh.points[:, :2] / dx).astype(np.uint16)
    return {"count": len(ids), "x": packed(corners[:, 0], delta=True), "y": packed(corners[:, 1], delta=True),
            "z": packed(mesh.points[:, 2].astype(np.float32)), "quads": packed(quads.astype(np.int32), delta=True),
            "owner": packed(point_owner, delta=True)}, ids.astype(np.int64)


def _json_value(value):
    """A table cell for JSON: None for missing or non-finite numbers, plain Python types otherwise."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, np.generic):
        return _json_value(value.item())
    return value


def table(frame: pd.DataFrame | None, ids: np.ndarray) -> dict:
    """buildings.csv by column, one value per building of ``ids`` (None where it has no row), packed."""
    if frame is None:
        return packed_json({"columns": [], "values": {}, "listed": []})
    rows = frame.drop_duplicates("building_id").set_index("building_id").reindex(ids)
    values = {"building_id": [int(i) for i in ids]}
    for column in rows.columns:
        values[column] = [_json_value(v) for v in rows[column].astype(object).tolist()]
    return packed_json({"columns": list(values), "values": values,
                        "listed": [bool(b) for b in np.isin(ids, frame["building_id"].to_numpy())]})


def _building_classes(classes) -> dict | list | None:
    """Per-building classes packed: one array, or a list of them (one per step)."""
    if classes is None:
        return None
    if isinstance(classes, tuple):
        return [packed(np.asarray(c, dtype=np.uint8)) for c in classes]
    return packed(np.asarray(classes, dtype=np.uint8))


def layer(entry: ViewerLayer) -> dict:
    """A layer as the page reads it: key, title, legends, class maps, snapshot times, return-period
    steps, building classes (one array, or one per step)."""
    return {"key": entry.key, "title": entry.title, "times": list(entry.times), "steps": list(entry.steps),
            "ground": entry.ground.legend() if entry.ground else None,
            "cells": [packed(np.asarray(c, dtype=np.uint8)) for c in entry.cells],
            "buildings": entry.buildings.legend() if entry.buildings else None,
            "building_classes": _building_classes(entry.building_classes)}


def viewer_payload(run: RunData, layers_of, meta: dict) -> dict:
    """Everything the page draws.

    Parameters
    ----------
    run : RunData
    layers_of : callable
        ``layers_of(ids) -> list of ViewerLayer`` for the building ids of the mesh
        (:func:`viz.viewer.layers.viewer_layers` with its other arguments bound).
    meta : dict
        Titles, camera and the other page settings, passed through.
    """
    mesh, ids = buildings(run.twin)
    return {**meta, "terrain": terrain(run.twin), "buildings": mesh, "table": table(run.buildings, ids),
            "layers": [layer(entry) for entry in layers_of(ids)]}
