"""Reading GeoTIFF rasters onto the twin grid, with one-line errors that name the file.

The terrain (``elevation``) raster defines the grid. Every other raster must share its CRS,
transform and shape, or, with ``resample=True``, is reprojected onto it (bilinear for continuous
fields, nearest neighbour for class codes, as declared in :mod:`twin.fields`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError
from rasterio.warp import Resampling, reproject

from twin.errors import InputError
from twin.fields import get_field
from twin.grid import Grid, check_projected_grid, same_grid


def _open(path: Path):
    if not path.exists():
        raise InputError("raster file not found", file=path)
    try:
        return rasterio.open(path)
    except RasterioIOError as exc:
        raise InputError(f"not a readable raster ({exc})", file=path) from None


def read_grid(path: str | Path) -> Grid:
    """Read only the grid (shape, transform, CRS) of a raster, checking it is a valid twin grid.

    Raises
    ------
    InputError
        Missing file, not a raster, geographic or non-metre CRS, rotated or non-square cells.
    """
    path = Path(path)
    with _open(path) as src:
        check_projected_grid(src.crs, src.transform, str(path))
        return Grid((src.height, src.width), src.transform, src.crs)


def read_terrain(path: str | Path) -> tuple[np.ndarray, np.ndarray, Grid]:
    """Read the terrain raster that defines the twin grid.

    Returns
    -------
    elevation : numpy.ndarray of float64, shape (ny, nx)
        Terrain elevation (m); NaN where the raster has nodata.
    valid : numpy.ndarray of bool
        True where the raster has data.
    grid : Grid
    """
    path = Path(path)
    with _open(path) as src:
        check_projected_grid(src.crs, src.transform, str(path))
        grid = Grid((src.height, src.width), src.transform, src.crs)
        band = src.read(1, masked=True)
    elevation = np.asarray(band.filled(np.nan), dtype=np.float64)
    valid = ~np.ma.getmaskarray(band) & np.isfinite(elevation)
    elevation[~valid] = np.nan
    return elevation, valid, grid


def read_on_grid(path: str | Path, name: str, grid: Grid, terrain_file: str | Path,
                 resample: bool = False) -> np.ndarray:
    """Read a raster of field ``name`` onto ``grid``.

    Parameters
    ----------
    path : str or Path
        The raster file.
    name : str
        Declared field name (decides dtype, fill and resampling method).
    grid : Grid
        The terrain's grid.
    terrain_file : str or Path
        The terrain raster (named in mismatch errors).
    resample : bool
        Reproject a raster on another grid instead of refusing it.

    Returns
    -------
    numpy.ndarray, shape ``grid.shape``, dtype of the declared field
        Nodata cells hold the field's fill value.
    """
    path = Path(path)
    field = get_field(name)
    with _open(path) as src:
        check_projected_grid(src.crs, src.transform, str(path))
        own = Grid((src.height, src.width), src.transform, src.crs)
        if own.crs != grid.crs and not resample:
            raise InputError(f"CRS differs from the terrain's ({terrain_file}); set 'resample: true' to reproject",
                             file=path, expected=grid.crs.to_string(), found=own.crs.to_string())
        if not same_grid(own, grid) and not resample:
            raise InputError(f"grid differs from the terrain's ({terrain_file}); set 'resample: true' to reproject",
                             file=path, expected=f"shape {grid.shape}, transform {tuple(grid.transform)[:6]}",
                             found=f"shape {own.shape}, transform {tuple(own.transform)[:6]}")
        band = src.read(1, masked=True)
        if own.crs == grid.crs and same_grid(own, grid):
            data = band.filled(field.fill if not field.is_class else 0)
            return np.asarray(data).astype(field.dtype)
        fill = np.nan if not field.is_class else 0
        source = np.asarray(band.filled(fill), dtype=np.float64)
        out = np.full(grid.shape, fill, dtype=np.float64)
        reproject(source, out, src_transform=own.transform, src_crs=own.crs, src_nodata=fill,
                  dst_transform=grid.transform, dst_crs=grid.crs, dst_nodata=fill,
                  resampling=Resampling.nearest if field.is_class else Resampling.bilinear)
    out = np.where(np.isfinite(out), out, field.fill if not field.is_class else 0)
    return out.astype(field.dtype)
