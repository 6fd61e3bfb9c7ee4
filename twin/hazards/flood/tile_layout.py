"""The grid of a tiled flood run (:mod:`twin.hazards.flood.tiled`): face layout, tiles, halo blocks.

The state ``h`` (ny, nx), ``qx`` (ny, nx + 1), ``qy`` (ny + 1, nx) of :mod:`kernels.flood` is
carried as a float64 array of shape (3, ny + 1, nx + 1) on an *extended* grid with one dummy
row at the south and one dummy column at the east: plane 0 is ``h`` (zero on the dummies),
plane 1 is ``qx`` on the **west** face of each extended cell (so its column nx is the east edge
face of the grid), plane 2 is ``qy`` on the **north** face (its row ny is the south edge). A
block of the extended grid covering rows ``[a, b)`` is the kernel grid of cells ``[a, b - 1)``
with all their faces: ``h = blk[0, :-1, :-1]``, ``qx = blk[1, :-1, :]``, ``qy = blk[2, :, :-1]``.
The five hazard accumulators are two more arrays on the same grid and chunks (maximum depth and
wet duration in float64, maximum speed, maximum unit discharge and arrival time in float32, as
in :func:`twin.hazards.flood.model.simulate_flood`), without halos.

:class:`Tiling` cuts the extended grid into tiles and their halo blocks; the blocks a tile
writes every exchange are allocated once per process and run and reused
(:func:`reused_block`).
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from contextlib import contextmanager
from typing import NamedTuple

import dask
import dask.array as da
import numpy as np


#: Planes of the state array: depth h (m), qx and qy (m^2/s).
STATE_PLANES = 3


class TileFields(NamedTuple):
    """The run's fields on the extended grid, as dask arrays chunked by tile (plane axis first).

    Attributes
    ----------
    state : dask.array.Array (3, ny + 1, nx + 1) float64
        Depth (m), unit discharges qx and qy (m^2/s) in the face layout.
    acc64 : dask.array.Array (2, ny + 1, nx + 1) float64
        Maximum depth (m) and wet duration (s).
    acc32 : dask.array.Array (3, ny + 1, nx + 1) float32
        Maximum speed (m/s), maximum unit discharge (m^2/s) and arrival time (s, NaN until wet).
    """

    state: da.Array
    acc64: da.Array
    acc32: da.Array


#: Blocks reused from exchange to exchange, per run (most recently used last), then by role:
#: see :func:`reused_block`.
_REUSED_BLOCKS: OrderedDict[str, dict[tuple, np.ndarray]] = OrderedDict()
_REUSED_BLOCKS_LOCK = threading.Lock()
#: Runs whose blocks a process keeps at most: a run that died without forgetting its blocks
#: (its driver killed) costs memory until three newer runs have used the process, and up to four
#: runs at once (threads of one worker) keep their blocks.
_RUNS_KEPT = 4


def reused_block(run: str, key: tuple, shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
    """A block of ``shape`` and ``dtype`` for ``key`` of a run, allocated once in each process
    and then reused (its content is whatever was last written to it).

    The tiles keep three per tile and exchange parity: the halo block the kernels advance
    (``("halo", iy, ix, e % 2)``), whose core is the tile's new state, and the two accumulator
    blocks (``("acc64", ...)``, ``("acc32", ...)``). Exchange ``e`` writes slot
    ``e % 2`` and reads the fields of exchange ``e - 1`` (the other slot); by the time exchange
    ``e + 2`` writes slot ``e % 2`` again, exchange ``e + 1`` has finished reading it and the
    driver has let go of it (it waits for every tile's ledger, and copies snapshots out before
    the next exchange). A retried exchange rewrites its own slot. Fresh blocks every exchange
    were the tiled run's largest cost after the kernels: each one's pages are faulted in anew
    (as slowly as 0.35 GB/s for memory the virtual machine had not touched before;
    bench/README.md). A run forgets its blocks when it ends (:func:`forget_reused_blocks`);
    beyond that a process keeps the blocks of the :data:`_RUNS_KEPT` most recently used runs
    (dropping them from the cache frees nothing that an array still refers to).
    """
    with _REUSED_BLOCKS_LOCK:
        blocks = _REUSED_BLOCKS.setdefault(run, {})
        _REUSED_BLOCKS.move_to_end(run)
        while len(_REUSED_BLOCKS) > _RUNS_KEPT:
            _REUSED_BLOCKS.popitem(last=False)
        block = blocks.get(key)
        if block is None or block.shape != shape or block.dtype != dtype:
            block = blocks[key] = np.empty(shape, dtype)
        return block


def forget_reused_blocks(run: str) -> None:
    """Drop a run's blocks from this process's cache."""
    with _REUSED_BLOCKS_LOCK:
        _REUSED_BLOCKS.pop(run, None)


@contextmanager
def blocks_of_a_run(scheduler):
    """A new run id, whose reused blocks (:func:`reused_block`) are forgotten when the run ends:
    in this process always, and on a distributed ``scheduler``'s workers when it succeeds."""
    run = uuid.uuid4().hex
    try:
        yield run
        if hasattr(scheduler, "run"):                      # a distributed Client
            scheduler.run(forget_reused_blocks, run)
    finally:
        forget_reused_blocks(run)


def split_cells(n: int, parts: int) -> tuple[int, ...]:
    """``n`` cells in ``parts`` near-equal chunks (larger ones first)."""
    base, extra = divmod(n, parts)
    return tuple(base + (k < extra) for k in range(parts))


def extended(a: np.ndarray, dtype=None) -> np.ndarray:
    """``a`` (ny, nx) on the extended grid (ny + 1, nx + 1), zero (False) on the dummies."""
    ny, nx = a.shape
    out = np.zeros((ny + 1, nx + 1), dtype or a.dtype)
    out[:ny, :nx] = a
    return out


def _initial_state(h0: np.ndarray) -> np.ndarray:
    """A tile's state at t = 0: depth ``h0`` (m), no flow."""
    return np.stack([h0, np.zeros_like(h0), np.zeros_like(h0)])


def _initial_acc64(h0: np.ndarray) -> np.ndarray:
    """A tile's float64 accumulators at t = 0: maximum depth ``h0`` (m), wet duration 0."""
    return np.stack([h0, np.zeros_like(h0)])


def _initial_acc32(h0: np.ndarray, wet_threshold: float) -> np.ndarray:
    """A tile's float32 accumulators at t = 0: no speed, no discharge, arrival 0 where
    ``h0 >= wet_threshold`` (m), NaN elsewhere."""
    zero = np.zeros(h0.shape, np.float32)
    return np.stack([zero, zero, np.where(h0 >= wet_threshold, np.float32(0.0), np.float32(np.nan))])


def uniform_value(a: np.ndarray) -> float | None:
    """The value of a zero-stride (broadcast) field, or None for a real array."""
    return float(a.flat[0]) if a.ndim == 2 and a.strides == (0, 0) else None


class Tiling:
    """Chunks of the extended grid and the halo blocks of the static fields."""

    def __init__(self, shape, tiles, halo):
        ny, nx = shape
        self.rows, self.cols = split_cells(ny + 1, tiles[0]), split_cells(nx + 1, tiles[1])
        self.halo = halo
        self.row_start = np.concatenate([[0], np.cumsum(self.rows)])
        self.col_start = np.concatenate([[0], np.cumsum(self.cols)])

    def initial_fields(self, h0: np.ndarray, wet_threshold: float) -> TileFields:
        """The fields at t = 0, each tile's blocks made by its own tasks (no whole-grid copy of
        all planes): depth ``h0`` (m), no flow, maximum depth ``h0``, arrival 0 where
        ``h0 >= wet_threshold`` (m) and NaN elsewhere, zero otherwise."""
        depth = da.from_array(extended(h0), chunks=(self.rows, self.cols), name=False)
        return TileFields(*(depth.map_blocks(f, *args, new_axis=0, dtype=dtype,
                                             chunks=((planes,),) + depth.chunks)
                            for f, args, planes, dtype in
                            ((_initial_state, (), STATE_PLANES, np.float64),
                             (_initial_acc64, (), 2, np.float64),
                             (_initial_acc32, (wet_threshold,), 3, np.float32))))

    def halo_blocks(self, a: np.ndarray, scheduler) -> da.Array:
        """An extended 2-D field cut into tiles with their halos, each block less its last row
        and column (the tile's kernel grid, see the module docstring), contiguous, computed and
        kept."""
        blocks = da.overlap.overlap(da.from_array(a, chunks=(self.rows, self.cols), name=False),
                                    depth={0: self.halo, 1: self.halo}, boundary="none")
        kernel = blocks.map_blocks(lambda b: np.ascontiguousarray(b[:-1, :-1]), dtype=a.dtype,
                                   chunks=tuple(tuple(c - 1 for c in ch) for ch in blocks.chunks))
        return dask.persist(kernel, scheduler=scheduler)[0]

    def block(self, iy: int, ix: int) -> tuple[int, int, int, int, int, int]:
        """Extended-grid rows/cols of a tile's core ``[r0, r1) x [c0, c1)`` and of its halo
        block's first row and column ``(a_r, a_c)``: ``(r0, r1, c0, c1, a_r, a_c)``."""
        r0, r1 = int(self.row_start[iy]), int(self.row_start[iy + 1])
        c0, c1 = int(self.col_start[ix]), int(self.col_start[ix + 1])
        return r0, r1, c0, c1, max(0, r0 - self.halo), max(0, c0 - self.halo)

    def halo_shape(self, iy: int, ix: int) -> tuple[int, int]:
        """Rows and columns of a tile's halo block (its core and halo, clipped to the grid)."""
        r0, r1, c0, c1, ar, ac = self.block(iy, ix)
        return (min(int(self.row_start[-1]), r1 + self.halo) - ar,
                min(int(self.col_start[-1]), c1 + self.halo) - ac)

    def neighbour_strips(self, iy: int, ix: int) -> list[tuple[int, int, slice, slice, int, int]]:
        """The parts of the neighbouring tiles that lie in a tile's halo block:
        ``(jy, jx, rows, cols, row, col)`` with ``rows``, ``cols`` the slices of tile
        ``(jy, jx)``'s block and ``row``, ``col`` where they start in the halo block. With tiles
        at least ``halo`` cells a side, the eight neighbours (fewer at the edges) cover it."""
        _, _, _, _, ar, ac = self.block(iy, ix)
        hy, hx = self.halo_shape(iy, ix)
        strips = []
        for jy in range(max(0, iy - 1), min(len(self.rows), iy + 2)):
            for jx in range(max(0, ix - 1), min(len(self.cols), ix + 2)):
                if (jy, jx) == (iy, ix):
                    continue
                q0, q1, p0, p1, _, _ = self.block(jy, jx)
                rows = (max(q0, ar), min(q1, ar + hy))
                cols = (max(p0, ac), min(p1, ac + hx))
                if rows[0] < rows[1] and cols[0] < cols[1]:
                    strips.append((jy, jx, slice(rows[0] - q0, rows[1] - q0),
                                   slice(cols[0] - p0, cols[1] - p0), rows[0] - ar, cols[0] - ac))
        return strips


def state_strip(block: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
    """A tile's state block over ``rows`` x ``cols`` (a view)."""
    return block[:, rows, cols]
