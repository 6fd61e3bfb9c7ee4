"""Conservative remap of a rectilinear source grid (any CRS) onto a twin grid, cached per grid.

Regridding is conservative (area-weighted): each twin cell is split into ``s x s`` equal
sub-cells whose centres are projected into the source CRS, and the cell takes the mean of the
source values at those points. This is the first-order conservative remap of Jones (1999,
Mon. Wea. Rev. 127, 2204-2210), ``F_i = sum_j f_j A_ij / A_i`` for a piecewise-constant source
field ``f_j``, with the overlap areas ``A_ij`` estimated by counting sub-cell centres. The
domain-total volume ``sum_i F_i A_i`` then equals the integral of the source field over the
twin's footprint up to the sub-cells cut by source cell edges: along an edge of length ``L``
at most about ``L d / s`` of area (``d`` the twin cell size) goes to the wrong side, so the
relative error is of order ``d / (s D)`` for source cells of size ``D``; ``s`` is chosen so
that a sub-cell is at most :data:`SUBCELL_FRACTION` of a source cell.

The weights depend only on the source grid (its cell-centre coordinates and CRS), the twin
:class:`~twin.core.grid.Grid` and ``s``. :func:`cached_remap` keeps the last
:data:`CACHE_SIZE` remaps keyed by exactly these values (the coordinates byte for byte, the CRS
as WKT), so that the members and times of one forecast share one remap, and a file rewritten
with another grid, whose coordinates are read again, never gets the old one.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
from rasterio.crs import CRS
from scipy import sparse

from twin.core.errors import InputError
from twin.core.grid import Grid

#: Largest sub-cell of the conservative remap, as a fraction of the source cell size (-).
SUBCELL_FRACTION = 0.005
#: Most sub-cells per twin cell side.
MAX_SUPERSAMPLE = 16
#: Remaps kept by :func:`cached_remap` (least recently used dropped first).
CACHE_SIZE = 4
#: Bytes a remap holds per sub-cell: one float64 weight and one int32 column index per sub-cell
#: (the CSR ``data`` and ``indices``; its int32 ``indptr`` adds 4 bytes a twin cell, and 4). Measured: 52
#: bytes a cell for the 500 x 500 sample city's forecast (``s = 2``).
REMAP_BYTES_PER_SUBCELL = 12
#: Peak bytes per sub-cell while :func:`conservative_remap` builds a remap (the int32 source
#: indices of every sub-cell, their concatenation, the int64 flat indices, the weights and the
#: projected points of one block). Measured with ``tracemalloc`` on the 500 x 500 sample city's
#: forecast (``s = 2``): 220.2 bytes a twin cell, 55.04 a sub-cell, rounded up.
REMAP_BUILD_BYTES_PER_SUBCELL = 56
#: Twin sub-cell centres projected per block (bounds the temporary memory).
_BLOCK_POINTS = 1 << 21

_cache: OrderedDict[tuple, Remap] = OrderedDict()
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class Remap:
    """A conservative remap from a window of the source grid onto a twin grid.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix (ny * nx, wy * wx)
        Weights (-): row ``i`` holds the fraction of twin cell ``i`` in each window cell; rows sum
        to 1. Read-only (its arrays are not writeable): a cached remap is shared.
    rows, cols : slice
        The source window (indices along the source y and x axes).
    shape : tuple of int
        Twin grid shape ``(ny, nx)``.
    supersample : int
        Sub-cells per twin cell side.
    """

    matrix: sparse.csr_matrix
    rows: slice
    cols: slice
    shape: tuple[int, int]
    supersample: int

    def apply(self, fields: np.ndarray) -> np.ndarray:
        """Regrid ``fields`` (nt, wy, wx) on the source window to ``(nt, ny, nx)`` on the twin (same units)."""
        nt = fields.shape[0]
        out = self.matrix @ fields.reshape(nt, -1).T
        return np.ascontiguousarray(out.T).reshape(nt, *self.shape)


def cached_remap(x: np.ndarray, y: np.ndarray, crs: CRS, grid: Grid, supersample: int | None = None, *,
                 file: str | Path | None = None, field: str | None = None, source: str = "source grid") -> Remap:
    """:func:`conservative_remap`, reused while the source grid, ``grid`` and ``supersample`` are the same.

    The key is the coordinates' float64 bytes, the source CRS as WKT, the twin grid's shape,
    transform coefficients and CRS as WKT, and ``supersample`` as given: everything the weights
    are computed from, and nothing else (not ``file``, ``field`` or ``source``, which only name
    the source in the error).
    Safe across threads; errors are not cached.

    Parameters
    ----------
    x, y, crs, grid, supersample, file, field, source
        As :func:`conservative_remap`.

    Returns
    -------
    Remap
        Shared with the other callers of the same key: not to be modified.

    Raises
    ------
    InputError
        As :func:`conservative_remap`.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    key = (x.tobytes(), y.tobytes(), crs.to_wkt(), tuple(grid.shape), tuple(grid.transform), grid.crs.to_wkt(),
           supersample)
    with _cache_lock:
        remap = _cache.get(key)
        if remap is None:
            remap = conservative_remap(x, y, crs, grid, supersample, file=file, field=field, source=source)
            _cache[key] = remap
            if len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(key)
    return remap


def clear_cache() -> None:
    """Drop every remap kept by :func:`cached_remap`."""
    with _cache_lock:
        _cache.clear()


def conservative_remap(x: np.ndarray, y: np.ndarray, crs: CRS, grid: Grid, supersample: int | None = None, *,
                       file: str | Path | None = None, field: str | None = None,
                       source: str = "source grid") -> Remap:
    """The conservative remap (Jones 1999; see the module docstring) of a source grid onto ``grid``.

    Parameters
    ----------
    x, y : ndarray
        Source cell-centre coordinates (CRS units, e.g. m or degrees), each strictly monotonic
        with at least two values.
    crs : rasterio.crs.CRS
        Source CRS.
    grid : Grid
        The twin grid.
    supersample : int, optional
        Sub-cells per twin cell side; default: the smallest making a sub-cell at most
        :data:`SUBCELL_FRACTION` of a source cell (at most :data:`MAX_SUPERSAMPLE`).
    file, field : optional
        The source file and variable, named in the error.
    source : str
        What the source grid is, in the error's words (e.g. ``"rainfall grid"``).

    Returns
    -------
    Remap

    Raises
    ------
    InputError
        When the source grid does not cover every twin cell.
    ValueError
        ``supersample`` < 1.
    """
    to_src = _to_source(crs, grid)
    if supersample is not None and supersample < 1:
        raise ValueError(f"supersample must be >= 1, got {supersample}")
    s = _default_supersample(x, y, grid, to_src) if supersample is None else int(supersample)
    ny, nx = grid.shape
    t = grid.transform
    offsets = (np.arange(s) + 0.5) / s
    sub_x = (t.c + (np.arange(nx)[:, None] + offsets) * t.a).ravel()           # (nx * s,)
    rows_per_block = max(1, _BLOCK_POINTS // (nx * s * s))
    iy_all, ix_all = [], []
    x_edges, y_edges = _edges(x), _edges(y)
    wrap = crs.is_geographic and x.max() > 180.0
    for r0 in range(0, ny, rows_per_block):
        r1 = min(ny, r0 + rows_per_block)
        sub_y = (t.f + (np.arange(r0, r1)[:, None] + offsets) * t.e)               # (nr, s)
        # point order (row, col, sub-row, sub-col): each twin cell's s*s points are contiguous
        px = np.broadcast_to(sub_x.reshape(1, nx, 1, s), (r1 - r0, nx, s, s))
        py = np.broadcast_to(sub_y.reshape(r1 - r0, 1, s, 1), (r1 - r0, nx, s, s))
        qx, qy = to_src.transform(px.ravel(), py.ravel())
        if wrap:
            qx = np.mod(qx, 360.0)
        ix, iy = _locate(qx, x_edges), _locate(qy, y_edges)
        outside = np.flatnonzero((ix < 0) | (iy < 0))
        if outside.size:
            q = outside[0]
            raise InputError(f"{source} does not cover the twin", file=file, field=field,
                             expected=f"x in [{x_edges.min():.6g}, {x_edges.max():.6g}] and "
                                      f"y in [{y_edges.min():.6g}, {y_edges.max():.6g}] ({crs})",
                             found=f"twin point ({qx[q]:.6g}, {qy[q]:.6g}) outside")
        iy_all.append(iy.astype(np.int32))
        ix_all.append(ix.astype(np.int32))
    iy, ix = np.concatenate(iy_all), np.concatenate(ix_all)
    rows, cols = slice(int(iy.min()), int(iy.max()) + 1), slice(int(ix.min()), int(ix.max()) + 1)
    wx = cols.stop - cols.start
    indices = (iy - rows.start).astype(np.int64) * wx + (ix - cols.start)
    n = ny * nx
    matrix = sparse.csr_matrix((np.full(indices.size, 1.0 / (s * s)), indices, np.arange(n + 1) * s * s),
                               shape=(n, (rows.stop - rows.start) * wx))
    for a in (matrix.data, matrix.indices, matrix.indptr):
        a.flags.writeable = False
    return Remap(matrix, rows, cols, (ny, nx), s)


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges (n + 1,) of cells with the given centres (n >= 2): midpoints, ends half a spacing out."""
    mid = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[centres[0] - (mid[0] - centres[0])], mid, [centres[-1] + (centres[-1] - mid[-1])]])


def _locate(points: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Index of the cell holding each point (edges monotonic either way), -1 outside."""
    increasing = edges[-1] > edges[0]
    e = edges if increasing else edges[::-1]
    i = np.searchsorted(e, points, side="right") - 1
    i[(i < 0) | (i >= e.size - 1) | ~np.isfinite(points)] = -1
    if not increasing:
        i = np.where(i >= 0, e.size - 2 - i, -1)
    return i


def remap_memory(x: np.ndarray, y: np.ndarray, crs: CRS, grid: Grid) -> tuple[int, int]:
    """Bytes a remap of this source grid onto ``grid`` (default supersampling) holds, and its peak
    while it is built (:data:`REMAP_BYTES_PER_SUBCELL`, :data:`REMAP_BUILD_BYTES_PER_SUBCELL`)."""
    s = _default_supersample(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), grid,
                             _to_source(crs, grid))
    n = int(grid.shape[0]) * int(grid.shape[1])
    return n * (REMAP_BYTES_PER_SUBCELL * s * s + 4) + 4, n * REMAP_BUILD_BYTES_PER_SUBCELL * s * s


def _to_source(crs: CRS, grid: Grid) -> pyproj.Transformer:
    """Transformer from the twin grid's CRS to the source CRS (x, y order)."""
    return pyproj.Transformer.from_crs(pyproj.CRS.from_wkt(grid.crs.to_wkt()), pyproj.CRS.from_wkt(crs.to_wkt()),
                                       always_xy=True)


def _default_supersample(x: np.ndarray, y: np.ndarray, grid: Grid, to_src: pyproj.Transformer) -> int:
    """Sub-cells per twin cell side so that a sub-cell spans at most SUBCELL_FRACTION of a source cell."""
    x0, y0 = (sum(v) / 2 for v in (grid.bounds()[0::2], grid.bounds()[1::2]))
    d = grid.cell_size
    qx, qy = to_src.transform(np.array([x0, x0 + d, x0]), np.array([y0, y0, y0 + d]))
    span_x = abs(qx[1] - qx[0]) + abs(qx[2] - qx[0])          # one twin cell, in source units
    span_y = abs(qy[1] - qy[0]) + abs(qy[2] - qy[0])
    fraction = max(span_x / np.abs(np.diff(x)).min(), span_y / np.abs(np.diff(y)).min())
    return int(min(MAX_SUPERSAMPLE, max(1, math.ceil(fraction / SUBCELL_FRACTION))))
