"""Footprints and class polygons onto the twin's grid (``rasterio.features.rasterize``).

Buildings: a cell belongs to a footprint when its centre lies inside it. Footprints are drawn
largest first, so where two overlap the smaller one (an annex, a building drawn inside a block)
keeps the cells they share. A footprint left without a cell (smaller than a cell, thinner than
one, or covered by other footprints) is kept, ``small: centroid``, on the cell holding a point
inside it (shapely's ``point_on_surface``, the centroid when the centroid lies inside) if that
cell is free, or, ``small: all_touched``, on the free cells it touches; the build report counts
both. Overlapping footprints (shared area above :data:`OVERLAP_MIN_M2`) are counted as pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from twin.core.areas import burn
from twin.core.grid import Grid

#: Shared area (m^2) above which two footprints count as overlapping (walls drawn twice share 0).
OVERLAP_MIN_M2 = 0.01
#: Status of each footprint in the twin (the ``status`` column of buildings.gpkg).
STATUS = ("cells", "small_centroid", "small_all_touched", "no_free_cell", "outside_domain")


@dataclass(frozen=True)
class BuildingCells:
    """The footprints on the grid.

    Attributes
    ----------
    index : numpy.ndarray of int32, ``grid.shape``
        1 + the footprint's position in the input, 0 where no building.
    cells : numpy.ndarray of int64
        Cells of each footprint.
    status : numpy.ndarray of str
        One of :data:`STATUS` per footprint.
    overlap_pairs : numpy.ndarray of int64, (k, 2)
        Positions of the pairs of footprints that overlap.
    """

    index: np.ndarray
    cells: np.ndarray
    status: np.ndarray
    overlap_pairs: np.ndarray


def _cell_index(points, grid: Grid) -> np.ndarray:
    """Flat cell index of each point, -1 outside the grid."""
    x, y = shapely.get_x(points), shapely.get_y(points)
    col, row = ~grid.transform @ (x, y)
    row, col = np.floor(row).astype(np.int64), np.floor(col).astype(np.int64)
    inside = (row >= 0) & (row < grid.shape[0]) & (col >= 0) & (col < grid.shape[1])
    return np.where(inside, row * grid.shape[1] + col, -1)


def overlapping_pairs(geoms: np.ndarray) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, of geometries sharing more than :data:`OVERLAP_MIN_M2` of area."""
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    shared = shapely.area(shapely.intersection(geoms[i], geoms[j]))
    big = shared > OVERLAP_MIN_M2
    return np.column_stack([i[big], j[big]]).astype(np.int64)


def rasterize_buildings(geoms: np.ndarray, grid: Grid, inside: np.ndarray, small: str) -> BuildingCells:
    """Footprints (in the grid's CRS) onto the grid, small ones kept (module docstring).

    Parameters
    ----------
    geoms : numpy.ndarray of shapely polygons
        The footprints.
    grid : Grid
    inside : numpy.ndarray of bool
        Cells in the domain; buildings take no cell outside it.
    small : {"centroid", "all_touched"}
        How a footprint without a cell of its own is kept.
    """
    n = len(geoms)
    order = np.argsort(-shapely.area(geoms), kind="stable")
    index = burn(geoms[order], order + 1, grid)
    drawn = np.bincount(index.ravel(), minlength=n + 1)[1:]
    index[~inside] = 0
    cells = np.bincount(index.ravel(), minlength=n + 1)[1:]
    status = np.where(cells > 0, "cells", np.where(drawn > 0, "outside_domain", "no_free_cell")).astype(object)
    without = np.flatnonzero(drawn == 0)
    flat, flat_inside = index.ravel(), inside.ravel()
    if small == "centroid" and without.size:
        where = _cell_index(shapely.point_on_surface(geoms[without]), grid)
        in_domain = (where >= 0) & flat_inside[np.maximum(where, 0)]
        status[without[~in_domain]] = "outside_domain"
        free = in_domain & (flat[np.maximum(where, 0)] == 0)
        cell, first = np.unique(where[free], return_index=True)   # two in one cell: the first keeps it
        taker = without[free][first]
        flat[cell] = taker + 1
        status[taker] = "small_centroid"
    elif small == "all_touched" and without.size:
        touched = burn(geoms[without], without + 1, grid, all_touched=True).ravel()
        free = (flat == 0) & flat_inside & (touched > 0)
        flat[free] = touched[free]
        took = np.unique(touched[free]) - 1
        status[took] = "small_all_touched"
        none = np.setdiff1d(without, took)
        status[none[np.isin(none + 1, touched[~flat_inside])]] = "outside_domain"
    cells = np.bincount(flat, minlength=n + 1)[1:]
    return BuildingCells(index, cells, status.astype(str), overlapping_pairs(geoms))


def rasterize_values(geoms: np.ndarray, values: np.ndarray, grid: Grid) -> np.ndarray:
    """Class codes (small positive integers) by polygon, cell centres inside, later polygons on top; 0 elsewhere."""
    return burn(geoms, values.astype(np.int32), grid)
