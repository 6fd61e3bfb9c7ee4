"""How much memory a build needs, estimated from the metadata alone before anything large is read.

A build holds, at its peak, the twin Dataset (:data:`twin.core.citytwin.TWIN_BYTES_PER_CELL`)
and its working rasters on the grid (:data:`WORK_BYTES_PER_CELL`), the mosaic of the DEM tiles
over the grid in their own CRS and resolution (float64, twice while it is merged), and the
footprints with their attributes and geometries (:data:`BYTES_PER_FEATURE`). With these
constants the estimate of ``bench/build.py``'s full-size build (16 M cells, 240 000 features)
is 2.79 GB against a measured peak resident memory of 3.01 GB, of which about 0.27 GB is the
imported libraries (bench/README.md, "Build").
"""

from __future__ import annotations

from twin.build.dem import Tile, group_by_crs
from twin.build.schema import BuildFile
from twin.core.vectors import bounds_in
from twin.core.citytwin import TWIN_BYTES_PER_CELL
from twin.core.errors import InputError
from twin.core.grid import Grid

#: Bytes per grid cell of the build's working rasters besides the twin Dataset: terrain and
#: coverage (float64, masks), footprint index rasters (int32, twice), heights, land cover and the
#: COG being written (see the module docstring).
WORK_BYTES_PER_CELL = 64
#: Bytes per vector feature held while building (geometry, attributes, per-footprint arrays).
BYTES_PER_FEATURE = 4096
#: Bytes per cell of a DEM mosaic (float64 merged into float64).
MOSAIC_BYTES_PER_CELL = 16
#: Share of the available memory a build may plan to use.
SHARE = 0.8


def estimate_build_bytes(grid: Grid, grid_crs, tiles: list[Tile], features: int) -> int:
    """Bytes a build of ``grid`` from ``tiles`` and ``features`` vector features needs at its peak."""
    mosaic = 0
    for group in group_by_crs(tiles):
        x0, y0, x1, y1 = bounds_in(grid.bounds(), grid_crs, group[0].crs)
        res = min(t.res for t in group)
        mosaic += int((x1 - x0) / res + 1) * int((y1 - y0) / res + 1)
    cells = grid.shape[0] * grid.shape[1]
    return (cells * (TWIN_BYTES_PER_CELL + WORK_BYTES_PER_CELL) + mosaic * MOSAIC_BYTES_PER_CELL
            + features * BYTES_PER_FEATURE)


def check_build_memory(bf: BuildFile, need: int, grid: Grid, available: int | None = None) -> None:
    """Refuse a build whose estimate exceeds :data:`SHARE` of the available memory (psutil's, by default).

    Raises
    ------
    InputError
        Naming the build file, the grid and both figures.
    """
    if available is None:
        import psutil

        available = psutil.virtual_memory().available
    if need > SHARE * available:
        ny, nx = grid.shape
        raise InputError(f"the build of a {ny} x {nx} grid needs about {need / 2**30:.1f} GiB but only "
                         f"{available / 2**30:.1f} GiB is available; give a smaller extent or a coarser cell",
                         file=bf.path)
