"""The twin's grid: a north-up affine transform with square cells in a projected CRS (metres).

Checks shared by every raster that enters the twin: projected CRS in metres, square cells,
north-up (no rotation), and equality of CRS, transform and shape with the terrain's grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from twin.core.errors import InputError

#: Relative tolerance on transform coefficients when comparing two grids.
_GRID_RTOL = 1e-9


@dataclass(frozen=True)
class Grid:
    """Shape, transform and CRS of a twin grid.

    Attributes
    ----------
    shape : tuple of int
        ``(ny, nx)``.
    transform : affine.Affine
        Maps (col, row) of a cell corner to (x, y) in metres; ``transform.e < 0`` (north-up).
    crs : rasterio.crs.CRS
        Projected CRS in metres.
    """

    shape: tuple[int, int]
    transform: Affine
    crs: CRS

    @property
    def cell_size(self) -> float:
        """Cell size in metres."""
        return float(self.transform.a)

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates ``(x, y)`` in metres; ``y`` decreases (row 0 is the north edge)."""
        ny, nx = self.shape
        t = self.transform
        x = t.c + (np.arange(nx) + 0.5) * t.a
        y = t.f + (np.arange(ny) + 0.5) * t.e
        return x, y

    def bounds(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` in metres."""
        ny, nx = self.shape
        t = self.transform
        return (t.c, t.f + ny * t.e, t.c + nx * t.a, t.f)

    def cell_of(self, x: float, y: float) -> tuple[int, int] | None:
        """Row and column of the cell holding point ``(x, y)``, or None outside the grid."""
        col, row = ~self.transform @ (x, y)
        r, c = int(np.floor(row)), int(np.floor(col))
        if 0 <= r < self.shape[0] and 0 <= c < self.shape[1]:
            return r, c
        return None

    def cells_on_line(self, points) -> list[tuple[int, int]]:
        """Cells crossed by a polyline (x, y in m), sampled every quarter cell, in order, no repeats."""
        cells: list[tuple[int, int]] = []
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            n = max(2, int(np.ceil(4 * np.hypot(x1 - x0, y1 - y0) / self.cell_size)) + 1)
            for t in np.linspace(0.0, 1.0, n):
                cell = self.cell_of(x0 + t * (x1 - x0), y0 + t * (y1 - y0))
                if cell is not None and cell not in cells:
                    cells.append(cell)
        return cells


def check_projected_grid(crs: CRS | None, transform: Affine, file: str) -> None:
    """Refuse a grid that is not projected in metres, not north-up or not made of square cells.

    Raises
    ------
    InputError
        Naming ``file`` and the problem, with a suggested CRS for geographic rasters.
    """
    if crs is None:
        raise InputError("raster has no CRS", file=file,
                         expected="a projected CRS in metres, e.g. EPSG:5186", found="none")
    if crs.is_geographic:
        raise InputError("geographic CRS in degrees; reproject the raster to a projected CRS in metres "
                         "(e.g. EPSG:5186 for Korea, or the local UTM zone such as EPSG:32652)",
                         file=file, expected="projected CRS in metres", found=crs.to_string())
    units = (crs.linear_units or "").lower()
    if units not in ("metre", "meter", "m", "metres", "meters"):
        raise InputError("CRS units are not metres", file=file, expected="metre", found=units or "unknown")
    if transform.b != 0 or transform.d != 0:
        raise InputError("rotated grid", file=file, expected="north-up transform (no rotation terms)",
                         found=f"rotation terms b={transform.b}, d={transform.d}")
    if transform.e >= 0:
        raise InputError("grid is not north-up", file=file, expected="negative y pixel size",
                         found=f"y pixel size {transform.e}")
    if not np.isclose(transform.a, -transform.e, rtol=1e-9, atol=0):
        raise InputError("cells are not square", file=file, expected="equal x and y cell sizes",
                         found=f"{transform.a} m x {-transform.e} m")


def same_grid(a: Grid, b: Grid) -> bool:
    """True when two grids have the same shape and (to 1e-9 relative) the same transform."""
    if a.shape != b.shape:
        return False
    ta, tb = np.array(a.transform[:6]), np.array(b.transform[:6])
    scale = max(abs(a.transform.a), 1.0)
    return bool(np.all(np.abs(ta - tb) <= _GRID_RTOL * np.maximum(np.abs(ta), scale)))
