"""The twin's grid: its extent from the build file, or from the DEM and the footprints; refused when
the DEM does not cover it or the footprints lie outside the DEM.

The default extent is the footprints' bounding box widened by ``margin_m`` and clipped to the
bounding box of the DEM tiles' footprint. Extents are snapped to whole cells (outwards for what
the footprints need, inwards for the DEM's limits), with the origin at a multiple of the cell size.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from affine import Affine
from pyproj import CRS
from rasterio.crs import CRS as RasterioCRS

from twin.build.dem import Tile, coverage, covered_cells
from twin.build.schema import BuildFile
from twin.core.vectors import Layer, bounds_in
from twin.core.grid import Grid


def _show(bounds) -> str:
    x0, y0, x1, y1 = bounds
    return f"x {x0:.1f} .. {x1:.1f}, y {y0:.1f} .. {y1:.1f} m"


def _snap(value: float, cell: float, up: bool) -> float:
    """``value`` rounded to a multiple of ``cell`` (up or down), robust to round-off."""
    k = value / cell
    return (math.ceil(k - 1e-9) if up else math.floor(k + 1e-9)) * cell


def target_grid(bf: BuildFile, tiles: list[Tile], footprints: Layer, crs: CRS) -> Grid:
    """The twin's grid (north-up, square cells of ``cell`` m, in ``crs``).

    Raises
    ------
    InputError
        A footprint layer without features; footprints and DEM that do not overlap; an extent the
        DEM tiles do not cover (how many cells, how much area and where).
    """
    cfg = bf.config
    cell = cfg.cell
    cover = coverage(tiles, crs)
    if footprints.features == 0 or not np.all(np.isfinite(footprints.bounds)):
        raise bf.error(("buildings", "file"), f"{footprints.describe()} holds no footprints")
    fp = bounds_in(footprints.bounds, footprints.crs, crs)
    if not shapely.box(*fp).intersects(cover):
        raise bf.error(("buildings", "file"), f"the footprints of {footprints.describe()} and the DEM tiles do "
                       f"not overlap (footprints {_show(fp)}, DEM {_show(cover.bounds)} in {crs.to_string()}); "
                       "are they in the CRS their files declare?")
    if cfg.extent is not None:
        x0, y0, x1, y1 = (_snap(cfg.extent[0], cell, False), _snap(cfg.extent[1], cell, False),
                          _snap(cfg.extent[2], cell, True), _snap(cfg.extent[3], cell, True))
    else:
        d = cfg.margin_m
        c0, c1, c2, c3 = cover.bounds
        x0 = max(_snap(fp[0] - d, cell, False), _snap(c0, cell, True))
        y0 = max(_snap(fp[1] - d, cell, False), _snap(c1, cell, True))
        x1 = min(_snap(fp[2] + d, cell, True), _snap(c2, cell, False))
        y1 = min(_snap(fp[3] + d, cell, True), _snap(c3, cell, False))
    nx, ny = int(round((x1 - x0) / cell)), int(round((y1 - y0) / cell))
    if nx < 1 or ny < 1:
        raise bf.error(("extent",), "the extent holds no whole cell of the DEM", found=_show((x0, y0, x1, y1)))
    grid = Grid((ny, nx), Affine(cell, 0.0, x0, 0.0, -cell, y1), RasterioCRS.from_wkt(crs.to_wkt()))
    _check_covered(bf, cover, grid)
    return grid


def _check_covered(bf: BuildFile, cover: shapely.Geometry, grid: Grid) -> None:
    """Refuse a grid with cells the DEM tiles do not reach, saying how many, how much and where."""
    missing = ~covered_cells(cover, grid)
    if not missing.any():
        return
    rows, cols = np.nonzero(missing)
    t = grid.transform
    where = (t.c + cols.min() * t.a, t.f + (rows.max() + 1) * t.e, t.c + (cols.max() + 1) * t.a, t.f + rows.min() * t.e)
    n = int(missing.sum())
    area = n * grid.cell_size ** 2
    field = ("extent",) if bf.config.extent is not None else ("dem",)
    raise bf.error(field, f"the DEM tiles do not cover the extent: {n} of {missing.size} cells "
                   f"({100 * n / missing.size:.1f} %, {area / 1e6:.3f} km²) have no tile, within {_show(where)}; "
                   "add the missing tiles or give a smaller extent", expected=f"tiles covering {_show(grid.bounds())}")
