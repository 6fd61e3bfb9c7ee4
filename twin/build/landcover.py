"""Land cover of a build: polygons with a class column or a raster of codes, then roads, then water.

* ``landcover:`` polygons: the ``class.column`` codes mapped by ``class.map``, rasterized by cell
  centre, later features on top; a raster (any GDAL raster, any CRS): its codes mapped the same
  way, warped onto the grid with the most frequent source code in each cell (GDAL's ``mode``).
  Cells no source covers take ``landcover.fill`` (default ``urban_open``).
* ``roads:`` lines buffered by half their width (``width.column``, else ``width.default_m``) or
  polygons, painted ``road`` over the land cover.
* ``water:`` lines (buffered the same way) or polygons, painted ``water`` over roads (rivers run
  on under bridges, as the flood model sees them) and, with ``burn_depth_m``, lowered that much
  into the terrain.

Building footprints are painted over all of it by the twin loader (``twin.core.citytwin.build_dataset``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import rasterio
import shapely
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.warp import reproject

from twin.build.codes import classify
from twin.build.rasterize import rasterize_values
from twin.build.schema import BuildFile
from twin.core.vectors import LINES_OR_POLYGONS, POLYGONS, check_column, open_layer, read_layer, read_name
from twin.core.areas import polygon_cells
from twin.core.classes import LANDCOVER
from twin.core.grid import Grid

#: Raster formats a ``landcover.file`` is read as (by suffix); anything else is a vector layer.
RASTER_SUFFIXES = (".tif", ".tiff", ".asc", ".img", ".vrt", ".nc", ".jp2")
#: Nodata of a warped land-cover raster (no source code is negative).
_NO_CODE = -1


@dataclass(frozen=True)
class Cover:
    """Land cover on the grid (:data:`twin.core.classes.LANDCOVER` codes), the water cells, the report."""

    landcover: np.ndarray
    water: np.ndarray
    report: dict
    warnings: list


def is_raster(bf: BuildFile) -> bool:
    """True when ``landcover.file`` is a raster (by its suffix, :data:`RASTER_SUFFIXES`)."""
    return bf.resolve(bf.config.landcover.file, ("landcover", "file")).suffix.lower() in RASTER_SUFFIXES


def open_sources(bf: BuildFile) -> dict:
    """The vector layers of the ``landcover`` (unless a raster), ``roads`` and ``water`` blocks, by key,
    opened and their configured columns checked (:func:`twin.core.vectors.open_layer`)."""
    layers = {}
    for key in ("landcover", "roads", "water"):
        cfg = getattr(bf.config, key)
        if cfg is None or (key == "landcover" and is_raster(bf)):
            continue
        layers[key] = layer = open_layer(bf.resolve(cfg.file, (key, "file")), cfg.layer, (key,), bf.error)
        column = (key, "class", "column") if key == "landcover" else (key, "width", "column")
        check_column(layer, column, cfg.classes.column if key == "landcover" else cfg.width.column)
    return layers


def _classes_from_vectors(bf: BuildFile, layer, grid: Grid, report: dict, warnings: list) -> np.ndarray:
    cfg = bf.config.landcover
    if cfg.classes.column is None:
        raise bf.error(("landcover", "class", "column"), f"the column holding the class codes of "
                       f"{layer.describe()} is required", expected=f"one of {', '.join(layer.columns)}")
    frame, counts = read_layer(layer, grid, POLYGONS, columns=[cfg.classes.column])
    classified = classify(bf, ("landcover", "class"), cfg.classes, dict(LANDCOVER),
                          frame[read_name(cfg.classes.column)].to_numpy(), "land-cover polygons")
    report.update(file=str(layer.path), layer=layer.name, features=vars(counts), polygons_by_class=classified.by_class)
    warning = classified.warning("land-cover polygons", "landcover.class", cfg.classes.default)
    warnings += [warning] if warning else []
    return rasterize_values(np.asarray(frame.geometry.values, dtype=object), classified.codes, grid)


def _classes_from_raster(bf: BuildFile, grid: Grid, report: dict, warnings: list) -> np.ndarray:
    cfg = bf.config.landcover
    path = bf.resolve(cfg.file, ("landcover", "file"))
    if not path.is_file():
        raise bf.error(("landcover", "file"), "file not found", found=str(path))
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise bf.error(("landcover", "file"), f"{path} has no CRS; declare it (gdal_edit.py -a_srs)")
            codes = np.full(grid.shape, _NO_CODE, np.int32)
            reproject(rasterio.band(src, 1), codes, dst_transform=grid.transform, dst_crs=grid.crs,
                      dst_nodata=_NO_CODE, resampling=Resampling.mode)
    except RasterioError as exc:
        raise bf.error(("landcover", "file"), f"not a readable raster: {exc}", found=str(path)) from None
    given = codes != _NO_CODE
    unique, inverse, cells = np.unique(codes[given], return_inverse=True, return_counts=True)
    classified = classify(bf, ("landcover", "class"), cfg.classes, dict(LANDCOVER), unique, "land-cover cells",
                          weights=cells)
    warning = classified.warning("land-cover cells", "landcover.class", cfg.classes.default)
    warnings += [warning] if warning else []
    out = np.zeros(grid.shape, np.int32)
    out[given] = classified.codes[inverse]
    report.update(file=str(path), raster=True, cells_by_class=classified.by_class)
    return out


def _buffered(frame, width) -> np.ndarray:
    """Lines buffered by half their width (m), polygons as they are."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    widths = np.full(len(geoms), width.default_m)
    if width.column is not None:
        import pandas as pd

        given = pd.to_numeric(frame[read_name(width.column)], errors="coerce").to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            widths = np.where(np.isfinite(given) & (given > 0), given, width.default_m)
    lines = np.isin(shapely.get_type_id(geoms), (1, 5))   # LineString, MultiLineString
    geoms[lines] = shapely.buffer(geoms[lines], widths[lines] / 2.0, cap_style="flat")
    return geoms


def _paint_lines(bf: BuildFile, key: str, layer, grid: Grid) -> tuple[np.ndarray, dict]:
    """The cells of the ``roads:`` or ``water:`` features, and what was read."""
    cfg = getattr(bf.config, key)
    columns = [cfg.width.column] if cfg.width.column else []
    frame, counts = read_layer(layer, grid, LINES_OR_POLYGONS, columns=columns)
    mask = polygon_cells(_buffered(frame, cfg.width), grid)
    return mask, {"file": str(layer.path), "layer": layer.name, "features": vars(counts), "cells": int(mask.sum())}


def make_landcover(bf: BuildFile, grid: Grid, layers: dict) -> Cover:
    """Land cover on the grid from the ``landcover``, ``roads`` and ``water`` blocks (module docstring).

    ``layers`` are their vector layers, from :func:`open_sources`.

    Raises
    ------
    InputError
        Missing files or layers, missing columns, codes with no mapping and no default,
        features of the wrong geometry type.
    """
    cfg = bf.config
    report: dict = {}
    warnings: list = []
    fill = LANDCOVER[cfg.landcover.fill if cfg.landcover else "urban_open"]
    if cfg.landcover is None:
        lc = np.full(grid.shape, fill, np.int8)
        report["landcover"] = {"fill": "urban_open"}
    else:
        part: dict = {"fill": cfg.landcover.fill}
        codes = (_classes_from_raster(bf, grid, part, warnings) if is_raster(bf)
                 else _classes_from_vectors(bf, layers["landcover"], grid, part, warnings))
        part["cells_given_fill"] = int((codes == 0).sum())
        lc = np.where(codes > 0, codes, fill).astype(np.int8)
        report["landcover"] = part
    water = np.zeros(grid.shape, bool)
    for key, code in (("roads", LANDCOVER["road"]), ("water", LANDCOVER["water"])):
        if getattr(cfg, key) is None:
            continue
        mask, report[key] = _paint_lines(bf, key, layers[key], grid)
        lc[mask] = code
        if key == "water":
            water = mask
    return Cover(lc, water, report, warnings)
