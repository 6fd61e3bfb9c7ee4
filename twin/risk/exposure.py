"""Buildings as assets (the exposure): the building table, hazard values at buildings, footprint polygons.

* :func:`building_table` reads the buildings of a twin (from ``building_id``): use, footprint and
  floor area, value, the footprint cells and the *ring* of open cells around each footprint.
* Each building has a first-floor height (m above the ground at the wall): the one its row of the
  twin's footprints file gives (:data:`twin.core.footprints.FIRST_FLOOR_COLUMN`), else the mean
  over its footprint of a ``first_floor_height`` variable of the twin (:data:`FIRST_FLOOR_HEIGHT`,
  optional; NaN cells are not given), else the default of its use (``first_floor_height_m`` of
  :func:`twin.risk.vulnerability.load_values`). Its value is the footprints file's
  (:data:`twin.core.footprints.VALUE_COLUMN`) where given, else floor area times the unit value
  of its use.
* Buildings block the flood, so their own cells stay dry. The depth at a building is taken from
  its ring: the open (``building_id == 0``), in-domain cells that touch the footprint in the
  8-neighbourhood (cells sharing an edge *or a corner* with it). The corner cells are included so
  that water standing against a corner counts and a one-cell building has eight samples. A building
  whose ring is empty (enclosed by other buildings or the domain edge) cannot be reached by water
  in this model and gets depth 0 (:func:`depth_at_buildings`). A building is reached by a
  mask when any footprint cell is (:func:`any_on_footprint`, e.g. burned cells) or any ring cell
  is (:func:`any_in_ring`, e.g. wet cells).
* The per-building outputs (:func:`write_geojson`, :func:`write_gpkg`) have one feature per
  building with the per-building columns as properties, in the twin's CRS. Their geometry is the
  city's own footprint when the twin has a footprints file (``twin build``'s ``buildings.gpkg``,
  :mod:`twin.core.footprints`), and the table then carries the source id column; else the
  footprint traced back from the building-id raster (:func:`footprints`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import warnings

import numpy as np
import rasterio.features
import shapely.geometry
import xarray as xr

from twin.core.atomic import atomic_path
from twin.core.classes import BUILDING_USE
from twin.core.errors import InputError, RunError
from twin.core.fields import Field
from twin.core.footprints import (FIRST_FLOOR_HEIGHT_MAX_M, first_floor_out_of_range, footprint_geometries,
                                  twin_footprints)
from twin.core.rasters import refuse_cells
from twin.risk.vulnerability import BuildingValues, load_values, storeys

#: The optional twin variable of first-floor heights (NaN: not given, the use's default applies).
FIRST_FLOOR_HEIGHT = Field("first_floor_height", "m", "float64",
                           "height of the first (ground) floor above the ground at the building's wall "
                           "(NaN: the default of the building's use)", fill=np.nan)


#: The layer of a run's ``buildings.gpkg``.
BUILDINGS_LAYER = "buildings"


@dataclass(frozen=True)
class BuildingTable:
    """The buildings of a twin and the cells that belong to and surround each.

    Attributes
    ----------
    building_id : numpy.ndarray of int32, (n,)
        Building ids, increasing.
    use : numpy.ndarray of int8, (n,)
        Use code: the most frequent non-zero ``building_use`` on the footprint, residential if none.
    footprint_area_m2, floor_area_m2, height_m, value_krw : numpy.ndarray of float64, (n,)
        Footprint area (m^2); floor area, the sum over footprint cells of cell area times storeys
        (:func:`twin.risk.vulnerability.storeys`) (m^2); highest building height on the footprint (m); value,
        the footprints file's where given, else floor area times the unit value of the use (KRW).
    first_floor_height_m : numpy.ndarray of float64, (n,)
        Height of the first floor above the ground at the wall (m): the footprints file's where
        given, else the twin's ``first_floor_height`` averaged over the footprint where given,
        else the use's default.
    footprint_cell, footprint_building : numpy.ndarray of int64
        Flat cell index of every footprint cell and the index (0..n-1) of its building.
    ring_cell, ring_building : numpy.ndarray of int64
        Flat index of every (ring cell, building) pair, sorted by building; a cell touching two
        buildings appears once for each.
    n_ring_cells : numpy.ndarray of int64, (n,)
        Ring cells per building.
    shape : tuple of int
        Grid shape.
    source_id_column : str or None
        The column of the city's building id (the twin's footprints file), None without one.
    source_id : numpy.ndarray or None, (n,)
        The city's id of each building.
    """

    building_id: np.ndarray
    use: np.ndarray
    footprint_area_m2: np.ndarray
    floor_area_m2: np.ndarray
    height_m: np.ndarray
    value_krw: np.ndarray
    first_floor_height_m: np.ndarray
    footprint_cell: np.ndarray
    footprint_building: np.ndarray
    ring_cell: np.ndarray
    ring_building: np.ndarray
    n_ring_cells: np.ndarray
    shape: tuple
    source_id_column: str | None = None
    source_id: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of buildings."""
        return int(self.building_id.size)

    def columns(self) -> dict[str, np.ndarray]:
        """The descriptive columns of the building table (ids, the city's id when known, use, areas,
        height, value, first-floor height, ring size)."""
        names = {code: name for name, code in BUILDING_USE.items()}
        cols = {"building_id": self.building_id, "use": np.array([names[u] for u in self.use], dtype=object),
                "footprint_area_m2": self.footprint_area_m2, "floor_area_m2": self.floor_area_m2,
                "height_m": self.height_m, "value_krw": self.value_krw,
                "first_floor_height_m": self.first_floor_height_m, "n_ring_cells": self.n_ring_cells}
        if self.source_id is None:
            return cols
        name = self.source_id_column if self.source_id_column not in cols else f"{self.source_id_column}_source"
        return {"building_id": cols.pop("building_id"), name: self.source_id, **cols}


def ring_cells(building_id: np.ndarray, domain: np.ndarray, connectivity: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The open in-domain cells that touch each building footprint.

    Parameters
    ----------
    building_id : numpy.ndarray of int, (ny, nx)
        Building ids (0 = none).
    domain : numpy.ndarray of bool, (ny, nx)
        Cells inside the domain.
    connectivity : {4, 8}
        Touching through an edge (4) or an edge or a corner (8).

    Returns
    -------
    cell, bid : numpy.ndarray of int64
        Flat cell index and building id of every distinct (cell, building) pair, sorted by
        building id then cell.
    """
    if connectivity not in (4, 8):
        raise InputError("ring connectivity must be 4 or 8", field="connectivity", found=str(connectivity))
    ny, nx = building_id.shape
    padded = np.pad(building_id, 1)
    open_cell = domain & (building_id == 0)
    offsets = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    if connectivity == 8:
        offsets += [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    flat = np.arange(ny * nx).reshape(ny, nx)
    cells, ids = [], []
    for dy, dx in offsets:
        neighbour = padded[1 + dy:1 + dy + ny, 1 + dx:1 + dx + nx]
        hit = open_cell & (neighbour > 0)
        cells.append(flat[hit])
        ids.append(neighbour[hit].astype(np.int64))
    pairs = np.unique(np.stack([np.concatenate(ids), np.concatenate(cells)], axis=1), axis=0)
    return pairs[:, 1], pairs[:, 0]


def building_table(twin: xr.Dataset, values: BuildingValues | None = None, connectivity: int = 8) -> BuildingTable:
    """The building table of a twin.

    Parameters
    ----------
    twin : xarray.Dataset
        The CityTwin (``building_id``, ``building_use``, ``building_height``, ``domain_mask``,
        ``attrs["cell_size"]`` in m; optionally ``first_floor_height``, :data:`FIRST_FLOOR_HEIGHT`).
    values : BuildingValues, optional
        Unit values, first-floor heights by use and storey height (default
        :func:`twin.risk.vulnerability.load_values`).
    connectivity : {4, 8}
        Ring of :func:`ring_cells` (default 8).

    Returns
    -------
    BuildingTable

    Raises
    ------
    InputError
        A ``first_floor_height`` on a footprint that is negative, infinite or above
        :data:`twin.core.footprints.FIRST_FLOOR_HEIGHT_MAX_M`; a footprints file that no longer
        matches the twin (:func:`twin.core.footprints.read_footprints`).
    """
    values = values or load_values()
    bid = twin["building_id"].values.astype(np.int64)
    cell_area = float(twin.attrs["cell_size"]) ** 2
    fp_cell = np.flatnonzero(bid.ravel() > 0)
    ids, fp_building = np.unique(bid.ravel()[fp_cell], return_inverse=True)
    n = ids.size
    use_cells = twin["building_use"].values.ravel()[fp_cell].astype(np.int64)
    votes = np.zeros((n, max(BUILDING_USE.values()) + 1), dtype=np.int64)
    np.add.at(votes, (fp_building, use_cells), 1)
    votes[:, 0] = 0
    use = np.where(votes.max(axis=1) > 0, votes.argmax(axis=1), BUILDING_USE["residential"]).astype(np.int8)
    height = twin["building_height"].values.ravel()[fp_cell]
    floor = np.bincount(fp_building, weights=cell_area * storeys(height, values.storey_height_m), minlength=n)
    top = np.zeros(n)
    np.maximum.at(top, fp_building, height)
    ring, ring_id = ring_cells(bid, twin["domain_mask"].values == 1, connectivity)
    ring_building = np.searchsorted(ids, ring_id)
    value = floor * values.unit_value_by_code()[use]
    first_floor = _first_floor_heights(twin, fp_cell, fp_building, values.first_floor_height_by_code()[use])
    source = twin_footprints(twin)            # its rows are the buildings ids, in their order (checked)
    if source is not None:
        value = np.where(np.isfinite(source.value_krw), source.value_krw, value)
        first_floor = np.where(np.isfinite(source.first_floor_height_m), source.first_floor_height_m, first_floor)
    return BuildingTable(
        building_id=ids.astype(np.int32), use=use,
        footprint_area_m2=np.bincount(fp_building, minlength=n) * cell_area, floor_area_m2=floor, height_m=top,
        value_krw=value, first_floor_height_m=first_floor,
        footprint_cell=fp_cell, footprint_building=fp_building,
        ring_cell=ring, ring_building=ring_building, n_ring_cells=np.bincount(ring_building, minlength=n),
        shape=bid.shape, source_id_column=None if source is None else source.id_column,
        source_id=None if source is None else source.source_id)



def _first_floor_heights(twin: xr.Dataset, fp_cell: np.ndarray, fp_building: np.ndarray,
                         default: np.ndarray) -> np.ndarray:
    """First-floor height per building (m): the mean of the twin's finite ``first_floor_height`` on its
    footprint, ``default`` (by use) where the twin has none there or no such variable."""
    name = FIRST_FLOOR_HEIGHT.name
    if name not in twin:
        return default.astype(np.float64)
    grid = np.asarray(twin[name].values, dtype=np.float64)
    on_footprint = np.zeros(grid.shape, bool)
    on_footprint.ravel()[fp_cell] = True
    refuse_cells(on_footprint & first_floor_out_of_range(grid), grid, twin.encoding.get("source"), name,
                 "building footprint cells with a first-floor height out of range",
                 f"0 to {FIRST_FLOOR_HEIGHT_MAX_M:g} m, or NaN for the use's default")
    given = grid.ravel()[fp_cell]
    known = np.isfinite(given)
    count = np.bincount(fp_building[known], minlength=default.size)
    total = np.bincount(fp_building[known], weights=given[known], minlength=default.size)
    return np.where(count > 0, total / np.maximum(count, 1), default)


def depth_at_buildings(table: BuildingTable, max_depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum and mean of a depth map over each building's ring (m); 0 for an empty ring.

    Parameters
    ----------
    table : BuildingTable
    max_depth : numpy.ndarray, (ny, nx)
        A member's maximum water depth (m).

    Returns
    -------
    max, mean : numpy.ndarray of float64, (n,)

    Raises
    ------
    RunError
        NaN or negative depth in a ring cell.
    """
    d = np.asarray(max_depth, dtype=np.float64).ravel()[table.ring_cell]
    bad = ~(np.isfinite(d) & (d >= 0))
    if bad.any():
        k = np.flatnonzero(bad)[0]
        r, c = np.unravel_index(table.ring_cell[k], table.shape)
        bid = table.building_id[table.ring_building[k]]
        raise RunError(f"max_depth {d[k]} at row {r}, col {c} next to building {bid}")
    peak = np.zeros(table.n)
    np.maximum.at(peak, table.ring_building, d)
    mean = np.bincount(table.ring_building, weights=d, minlength=table.n) / np.maximum(table.n_ring_cells, 1)
    return peak, mean


def _any_per_building(cells: np.ndarray, owners: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """1.0 for each of ``n`` buildings owning a non-zero cell of ``mask`` among ``cells``, else 0.0."""
    hit = np.asarray(mask).ravel()[cells] != 0
    return (np.bincount(owners, weights=hit, minlength=n) > 0).astype(np.float64)


def any_on_footprint(table: BuildingTable, mask: np.ndarray) -> np.ndarray:
    """1.0 for each building with a non-zero cell of ``mask`` on its footprint, else 0.0 (``(n,)``)."""
    return _any_per_building(table.footprint_cell, table.footprint_building, mask, table.n)


def any_in_ring(table: BuildingTable, mask: np.ndarray) -> np.ndarray:
    """1.0 for each building with a non-zero cell of ``mask`` in its ring, else 0.0 (``(n,)``; 0 for an
    empty ring)."""
    return _any_per_building(table.ring_cell, table.ring_building, mask, table.n)


def footprints(twin: xr.Dataset) -> dict[int, dict]:
    """Footprint polygons of the buildings, in the twin's CRS (m).

    Parameters
    ----------
    twin : xarray.Dataset
        The CityTwin (``building_id`` and its transform).

    Returns
    -------
    dict
        Building id -> GeoJSON geometry: a Polygon, or a MultiPolygon for a building whose cells
        fall into several 4-connected parts. Edges follow cell boundaries.
    """
    bid = twin["building_id"].values.astype(np.int32)
    parts: dict[int, list] = {}
    for geom, value in rasterio.features.shapes(bid, mask=bid > 0, connectivity=4, transform=twin.rio.transform()):
        parts.setdefault(int(value), []).append(geom["coordinates"])
    return {k: {"type": "Polygon", "coordinates": p[0]} if len(p) == 1 else {"type": "MultiPolygon", "coordinates": p}
            for k, p in sorted(parts.items())}


def _json_value(v):
    """A JSON-safe scalar: numpy scalars to Python, NaN and infinities to None."""
    v = v.item() if isinstance(v, np.generic) else v
    return None if isinstance(v, float) and not math.isfinite(v) else v


def building_shapes(twin: xr.Dataset) -> dict:
    """The footprint of each building, by id (increasing), in the twin's CRS (m): the city's own from
    the twin's footprints file (:func:`twin.core.footprints.footprint_geometries`), else traced back
    from the building-id raster (:func:`footprints`); shapely geometries."""
    found = twin_footprints(twin)
    if found is None:
        return {k: shapely.geometry.shape(g) for k, g in footprints(twin).items()}
    return dict(zip(found.building_id.tolist(), footprint_geometries(found, twin.rio.crs)))


def _ordered_shapes(shapes: dict, columns: dict) -> tuple[list[int], list]:
    """The building ids of ``columns`` and their shapes; RunError when they name other buildings."""
    ids = [int(i) for i in columns["building_id"]]
    if sorted(ids) != sorted(shapes):
        raise RunError("building columns and the twin's building_id raster name different buildings")
    return ids, [shapes[i] for i in ids]


def write_geojson(path: str | Path, twin: xr.Dataset, columns: dict[str, np.ndarray],
                  shapes: dict | None = None) -> Path:
    """Write the buildings as a GeoJSON FeatureCollection in the twin's CRS, atomically.

    Parameters
    ----------
    path : str or Path
        Output file (``buildings.geojson``).
    twin : xarray.Dataset
        The CityTwin (footprints, CRS).
    columns : dict
        Per-building columns with ``building_id`` (e.g. from
        :meth:`BuildingRiskAccumulator.finalize`); they become each feature's properties.
    shapes : dict, optional
        The footprints by building id (default :func:`building_shapes`).

    Returns
    -------
    Path
        The file. Coordinates are projected metres in the twin's CRS, named in the (pre-RFC 7946)
        ``crs`` member that GDAL reads, not WGS 84 longitude/latitude; each written as Python's
        ``repr`` of the float, so a footprint round-trips exactly.
    """
    ids, geoms = _ordered_shapes(building_shapes(twin) if shapes is None else shapes, columns)
    epsg = twin.rio.crs.to_epsg()
    crs = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}" if epsg else twin.rio.crs.to_wkt()}}
    features = [{"type": "Feature", "id": bid, "geometry": shapely.geometry.mapping(geom),
                 "properties": {name: _json_value(col[k]) for name, col in columns.items()}}
                for k, (bid, geom) in enumerate(zip(ids, geoms))]
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps({"type": "FeatureCollection", "crs": crs, "features": features},
                                        allow_nan=False), encoding="utf-8")
    return Path(path)


def write_gpkg(path: str | Path, twin: xr.Dataset, columns: dict[str, np.ndarray], shapes: dict | None = None) -> Path:
    """Write the buildings as a GeoPackage layer ``buildings`` in the twin's CRS, atomically.

    Parameters
    ----------
    path : str or Path
        Output file (``buildings.gpkg``).
    twin : xarray.Dataset
        The CityTwin (footprints, CRS).
    columns : dict
        Per-building columns with ``building_id``; they become the layer's attribute columns
        (NaN is written as an empty value).
    shapes : dict, optional
        The footprints by building id (default :func:`building_shapes`).

    Returns
    -------
    Path
        The file.
    """
    import geopandas as gpd

    ids, geoms = _ordered_shapes(building_shapes(twin) if shapes is None else shapes, columns)
    frame = gpd.GeoDataFrame({name: np.asarray(col) for name, col in columns.items()}, geometry=geoms,
                             crs=twin.rio.crs.to_wkt())
    with atomic_path(path) as tmp, warnings.catch_warnings():
        # the temporary name's suffix is not .gpkg; the file is renamed to one
        warnings.filterwarnings("ignore", message="The filename extension should be", category=RuntimeWarning)
        frame.to_file(tmp, layer=BUILDINGS_LAYER, driver="GPKG", engine="pyogrio")
    return Path(path)


def write_building_layers(folder: Path, twin: xr.Dataset, columns: dict[str, np.ndarray]) -> None:
    """Write ``buildings.geojson`` and ``buildings.gpkg`` into ``folder``, from one reading of the footprints
    (:func:`building_shapes`)."""
    shapes = building_shapes(twin)
    write_geojson(folder / "buildings.geojson", twin, columns, shapes)
    write_gpkg(folder / "buildings.gpkg", twin, columns, shapes)
