"""Areas onto the grid: the cells of polygons and circles, and values burned in by polygon.

One rule everywhere (``twin build``'s land cover and footprints, a scenario's area inflows and
overrides): a cell belongs to an area when its **centre** lies inside it, as GDAL's rasterizer
decides (``rasterio.features.rasterize`` without ``all_touched``); a circle holds the cells whose
centre lies within its radius (the exact disc, not a polygon approximating it). Geometries are
GeoJSON-like mappings or shapely objects in the grid's CRS (m).
"""

from __future__ import annotations

import numpy as np
import rasterio.features

from twin.core.grid import Grid


def burn(geoms, values, grid: Grid, *, fill: float = 0, dtype: str = "int32", all_touched: bool = False) -> np.ndarray:
    """``values`` burned into a grid of ``fill`` by ``geoms``, later geometries on top.

    Parameters
    ----------
    geoms : sequence of geometries
        Polygons in the grid's CRS.
    values : sequence of numbers
        One value per geometry.
    grid : Grid
    fill : number
        The value of cells no geometry covers.
    dtype : str
        The array's dtype (one rasterio burns: ``int32``, ``float64``, ...).
    all_touched : bool
        Burn every cell a geometry touches, not only those whose centre it covers.

    Returns
    -------
    numpy.ndarray of ``dtype``, ``grid.shape``
    """
    if len(geoms) == 0:
        return np.full(grid.shape, fill, dtype=dtype)
    return rasterio.features.rasterize(zip(geoms, values), out_shape=grid.shape, transform=grid.transform,
                                       fill=fill, dtype=dtype, all_touched=all_touched)


def polygon_cells(geoms, grid: Grid) -> np.ndarray:
    """True for the cells whose centre lies inside any of ``geoms`` (polygons in the grid's CRS)."""
    if len(geoms) == 0:
        return np.zeros(grid.shape, bool)
    return rasterio.features.geometry_mask(geoms, grid.shape, grid.transform, invert=True)


def circle_cells(center: tuple[float, float], radius_m: float, grid: Grid) -> np.ndarray:
    """True for the cells whose centre lies within ``radius_m`` (m) of ``center`` (x, y in m)."""
    x, y = grid.cell_centres()
    return (x[None, :] - center[0]) ** 2 + (y[:, None] - center[1]) ** 2 <= radius_m ** 2


def on_grid(bounds: tuple[float, float, float, float], grid: Grid) -> bool:
    """True when a box ``(xmin, ymin, xmax, ymax)`` (m) lies within the grid's extent."""
    w, s, e, n = grid.bounds()
    return bounds[0] >= w and bounds[1] >= s and bounds[2] <= e and bounds[3] <= n
