"""One flood member on tiles: the local inertial model advanced with ``dask.array.map_overlap``.

For a grid too big for one core or one machine. The grid is cut into ``tiles = (ty, tx)`` blocks;
each exchange copies a halo of ``halo`` cells from the neighbours (``dask.array.map_overlap``'s
halo exchange, ``boundary="none"`` so that true domain edges get no padding), every tile then
advances ``K = steps_per_exchange`` steps of :mod:`kernels.flood` on its block alone, and the cores
(the halo trimmed away) form the new state. SI units throughout (m, s, m/s, m^2/s, m^3).

Halo size
---------
A tile's outermost faces cannot be updated from data it holds, so they are held at their old
values and the error spreads inward. Per step it spreads by **two** cells, not one: the new
discharge of a face reads the old discharges one face upstream and downstream (the
theta-weighting of de Almeida et al. 2012) and the old depths of its two cells, and then
the outflow limiter scales it by a factor of the cell it drains, a factor that depends on that
cell's *other* new faces, which read one cell further still. So a depth after the step depends
on old depths two cells away and old discharges two and a half cells away (worst case, where
the limiter is active). Starting from all-valid data, after ``k`` steps the values within ``2k``
cells of a tile's edge may be wrong. One more cell is needed on the south and east sides because
of the face layout below (the last row and column of every block are not cells of the kernel
grid), hence::

    halo >= HALO_PER_STEP * steps_per_exchange + 1 = 2 K + 1     (checked: InputError)

(Checked by brute force in the tests: a halo of ``K + 1``, which is enough while the limiter is
idle, fails on random shallow states.)

Face layout
-----------
The state ``h`` (ny, nx), ``qx`` (ny, nx + 1), ``qy`` (ny + 1, nx) of :mod:`kernels.flood` is
carried in one float64 stack of shape (9, ny + 1, nx + 1) on an *extended* grid with one dummy
row at the south and one dummy column at the east: plane 0 is ``h`` (zero on the dummies),
plane 1 is ``qx`` on the **west** face of each extended cell (so its column nx is the east edge
face of the grid), plane 2 is ``qy`` on the **north** face (its row ny is the south edge). A
block of the extended grid covering rows ``[a, b)`` is the kernel grid of cells ``[a, b - 1)``
with all their faces: ``h = blk[0, :-1, :-1]``, ``qx = blk[1, :-1, :]``, ``qy = blk[2, :, :-1]``.
The five hazard accumulators and a ledger plane ride in the same stack (9 planes in all), but
only the three state planes get halos: each exchange is ``dask.array.map_overlap`` spelled as
its two halves, :func:`dask.array.overlap.overlap` on the state planes and
:func:`dask.array.map_blocks` over those halo blocks, the stored accumulator cores and the
static halo blocks (map_overlap itself copies even its inputs of depth 0 into fresh blocks
every exchange). The accumulators fold in the core only. The static fields (elevation, roughness, blocked cells, losses, rain
weights) are padded the same way, cut into halo blocks once and kept (persisted) for the run;
uniform ones travel as numbers.

Time step
---------
One global step ``dt_x`` per exchange, for all its ``K`` steps (each clipped to the next stop:
snapshot, gridded-rain interval edge, end of the run, exactly as
:func:`twin.flood_model.simulate_flood` clips; an exchange ends at a stop). It is the stable step
``dt = min(alpha dx / sqrt(g h), dt_max)`` (Bates et al. 2010, eq. 12) of a guessed depth
``h = h_max + (K - 1) g``, with ``h_max`` the global largest depth now and ``g`` its growth per
step over the last exchange. Each tile reports its core's largest depth after every step; the
exchange is accepted when ``dt_x`` is within the stable step of every intermediate global
maximum (the criterion simulate_flood applies before each step), and otherwise redone from the
stored state with the stable step of the largest depth it reached (at most ``MAX_RETRIES``
times, then :class:`~twin.errors.RunError`). With ``K = 1`` nothing is guessed or checked and
the step sequence is simulate_flood's, so the tiled run equals it to round-off. Forcings are
taken per step as in ``simulate_flood`` (boundary levels at the start of the step, exact
integrals of rain and inflow over the step).

The volume ledger sums what each tile applied on its core only (rain, infiltration, drainage,
flow across true edges), so it closes as the untiled ledger does.
"""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from typing import Callable

import dask
import dask.array as da
import numpy as np

from kernels.flood import FloodInstability, edge_fluxes, stable_timestep, tile_step
from kernels.flood_hazard import accumulate_hazard
from twin.errors import InputError, RunError
from twin.flood_model import (SPEED_DEPTH_MIN_M, FloodInputs, FloodResult, GriddedRain,
                              VolumeLedger, cumulative_series, edge_arrays, gridded_rain_field, series_integral,
                              output_times, uniform_rain_weight, roof_routing)

#: Cells the region of valid values shrinks by, per step, from each side of a tile.
HALO_PER_STEP = 2

#: The stack's planes: state (h, qx, qy), hazard accumulators (max depth, max speed, max unit
#: discharge, arrival, wet duration), and one ledger plane. A tile's ledger plane starts with
#: the _LEDGER sums of its core (rain, infiltration, drainage, boundary in, boundary out; m^3).
_STATE = 3
_ACC = 5
_PLANES = _STATE + _ACC + 1
_LEDGER = 5

try:
    from numpy._core.multiarray import _set_madvise_hugepage
except ImportError:                                     # numpy < 2
    from numpy.core.multiarray import _set_madvise_hugepage

#: Steps between halo exchanges when neither ``halo`` nor ``steps_per_exchange`` is given (fewer
#: on tiles too small for its halo of 65 cells). Measured on a 2000 x 2000 member in 2 x 1 tiles
#: on one worker, 192 steps: K = 16, 32, 48, 64 cost 40 %, 22-24 %, 19-20 %, 18 % over the
#: untiled run (bench/README.md); longer exchanges also take their one time step from a depth
#: guessed further ahead, so the gain past 32 is not worth it.
DEFAULT_STEPS_PER_EXCHANGE = 32

#: Tries of an exchange with a smaller step before the run is declared unstable.
MAX_RETRIES = 30

#: Static per-cell fields handed to the tiles, in this order.
_STATIC = ("z", "manning_n", "blocked", "loss_rate", "drainage_rate", "rain_weight")


@contextmanager
def _without_huge_pages():
    """Large arrays allocated meanwhile are not marked for transparent huge pages.

    numpy advises the kernel to back large arrays with huge pages (``madvise``); every halo
    exchange allocates fresh blocks, and on the development machine (THP in ``madvise`` mode)
    faulting them in as huge pages made dask's assembly of the halo blocks 2.5 times slower
    (2.0 s against 0.78 s over a 64-step 2000 x 2000 run, bench/README.md). The previous
    setting is restored on exit. It acts in this process (synchronous and threaded schedulers);
    distributed workers can be started with ``NUMPY_MADVISE_HUGEPAGE=0``.
    """
    previous = _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(previous)


def required_halo(steps_per_exchange: int) -> int:
    """Smallest halo (cells) that lets a tile advance ``steps_per_exchange`` steps exactly.

    ``2 K + 1``: two cells of lost validity per step (theta-weighted neighbour discharges plus
    the outflow limiter, see the module docstring) and one for the extended-grid face layout.

    Parameters
    ----------
    steps_per_exchange : int
        Steps ``K`` between halo exchanges, >= 1.

    Returns
    -------
    int
        Halo width (cells).
    """
    return HALO_PER_STEP * int(steps_per_exchange) + 1


def auto_tiles(shape: tuple[int, int], n_workers: int, min_tile: int = 64) -> tuple[int, int]:
    """Tiles ``(ty, tx)`` for a grid: about one tile per worker, as square as possible.

    Among the factorisations ``ty * tx = n`` of the largest ``n <= n_workers`` whose tiles are at
    least ``min_tile`` cells on each side, the one whose tiles are closest to square (least halo
    per cell) is chosen; between equally square ones, the one with more tiles along y (bands
    of whole rows: their halos are contiguous rows and the sweep's rows stay long; on a
    2000 x 2000 grid in two tiles, 2 x 1 cost 18-24 % over untiled on one worker, 1 x 2 27-28 %).

    Parameters
    ----------
    shape : (int, int)
        Grid shape ``(ny, nx)`` (cells).
    n_workers : int
        Workers (processes) available, >= 1.
    min_tile : int
        Smallest tile side (cells) worth its halo.

    Returns
    -------
    (int, int)
        Tiles along y and x; ``(1, 1)`` for a grid too small to split.
    """
    ny, nx = (int(s) for s in shape)
    if n_workers < 1 or ny < 1 or nx < 1:
        raise InputError("auto_tiles: need n_workers >= 1 and a non-empty grid",
                         found=f"n_workers {n_workers}, shape {shape}")
    for n in range(int(n_workers), 0, -1):
        options = [(d, n // d) for d in range(1, n + 1) if n % d == 0
                   and ny // d >= min_tile and nx // (n // d) >= min_tile]
        if options:
            return min(options, key=lambda t: (abs(np.log((ny / t[0]) / (nx / t[1]))), -t[0]))
    return (1, 1)


def _split(n: int, parts: int) -> tuple[int, ...]:
    """``n`` cells in ``parts`` near-equal chunks (larger ones first)."""
    base, extra = divmod(n, parts)
    return tuple(base + (k < extra) for k in range(parts))


def _extended(a: np.ndarray, dtype=None) -> np.ndarray:
    """``a`` (ny, nx) on the extended grid (ny + 1, nx + 1), zero (False) on the dummies."""
    ny, nx = a.shape
    out = np.zeros((ny + 1, nx + 1), dtype or a.dtype)
    out[:ny, :nx] = a
    return out


def _initial_planes(h0: np.ndarray, wet_threshold: float) -> np.ndarray:
    """One tile's stack at t = 0 from its depth ``h0`` (m): see :meth:`_Tiling.initial_stack`."""
    planes = np.zeros((_PLANES,) + h0.shape)
    planes[0] = planes[_STATE] = h0
    planes[_STATE + 3] = np.where(h0 >= wet_threshold, 0.0, np.nan)
    return planes


def _uniform_value(a: np.ndarray) -> float | None:
    """The value of a zero-stride (broadcast) field, or None for a real array."""
    return float(a.flat[0]) if a.ndim == 2 and a.strides == (0, 0) else None


class _Tiling:
    """Chunks of the extended grid and the halo blocks of the static fields."""

    def __init__(self, shape, tiles, halo):
        ny, nx = shape
        self.rows, self.cols = _split(ny + 1, tiles[0]), _split(nx + 1, tiles[1])
        self.halo = halo
        self.row_start = np.concatenate([[0], np.cumsum(self.rows)])
        self.col_start = np.concatenate([[0], np.cumsum(self.cols)])

    def initial_stack(self, h0: np.ndarray, wet_threshold: float) -> da.Array:
        """The stack at t = 0 as a dask array chunked by tile, each tile's planes made by its
        own task (no whole-grid copy of all planes): depth ``h0`` (m), no flow, maximum depth
        ``h0``, arrival 0 where ``h0 >= wet_threshold`` (m) and NaN elsewhere, zero otherwise."""
        depth = da.from_array(_extended(h0), chunks=(self.rows, self.cols), name=False)
        return depth.map_blocks(_initial_planes, wet_threshold, new_axis=0, dtype=np.float64,
                                chunks=((_PLANES,),) + depth.chunks)

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


def _advance_tile(block, carried, *static_blocks, block_info=None, tiling, uniform, plan, inflows,
                  opts, xy):
    """Advance one tile through the steps of ``plan``; returns its core of the new stack.

    ``block`` is the tile's state (depth, faces) with its halo, ``carried`` its core of the
    other planes (hazard accumulators, ledger), ``static_blocks`` its halo blocks of the static
    fields. The result is a new core stack: state and accumulators advanced, and a ledger
    plane whose first five values are the core's ledger sums (m^3), followed by the core's
    largest depth (m) after each step. A state block that dask assembled from several tiles is a
    new array used by this task alone and is advanced in place; a lone tile's block may be the
    stored state itself and is copied first; ``carried`` is stored state and is only read.
    Depth and north faces are worked on as contiguous copies (the kernels vectorize only over
    contiguous rows). Each step is one fused sweep (:func:`kernels.flood.tile_step`): held
    discharges on the faces bordering other tiles, sums and largest depth over the core only;
    the accumulators fold in the core only.
    """
    _, iy, ix = block_info[0]["chunk-location"]
    nty, ntx = len(tiling.rows), len(tiling.cols)
    r0, r1, c0, c1, ar, ac = tiling.block(iy, ix)
    sides = (iy == 0, iy == nty - 1, ix == ntx - 1, ix == 0)
    work = block.copy() if nty * ntx == 1 else block
    h, qx, qy = work[0, :-1, :-1].copy(), work[1, :-1, :], work[2, :, :-1].copy()
    nyk, nxk = h.shape
    fields = dict(zip([k for k in _STATIC if k not in uniform], static_blocks))
    for k, value in uniform.items():
        fields[k] = np.broadcast_to(np.float64(value), (nyk, nxk))
    z, n, blocked, loss, drain, rain_w = (fields[k] for k in _STATIC)
    # the core in block coordinates; its real cells stop before the dummy row / column
    cr0, cc0 = r0 - ar, c0 - ac
    cr1, cc1 = min(r1 - ar, nyk), min(c1 - ac, nxk)
    window = (cr0, cr1, cc0, cc1)
    out = np.empty((_PLANES, r1 - r0, c1 - c0))
    out[_STATE:_STATE + _ACC] = carried[:_ACC]
    accs = out[_STATE:_STATE + _ACC]
    local = []
    for rows, cols, weights in inflows:
        inside = (rows >= ar) & (rows < ar + nyk) & (cols >= ac) & (cols < ac + nxk)
        lr, lc = rows[inside] - ar, cols[inside] - ac
        in_core = (lr >= cr0) & (lr < cr1) & (lc >= cc0) & (lc < cc1)
        local.append((lr, lc, weights[inside], in_core))
    dx, theta, h_min = opts["dx"], opts["theta"], opts["h_min"]
    edge_buffers = (np.empty(nxk), np.empty(nxk), np.empty(nyk), np.empty(nyk))
    ledger = np.zeros(_LEDGER + len(plan))
    for i, (t_end, dt, rain_rate, kind, level, volumes) in enumerate(plan):
        new = edge_fluxes(h, z, n, blocked, qx, qy, kind, level, dt, dx, h_min, out=edge_buffers)
        held = (qy[0].copy(), qy[-1].copy(), qx[:, -1].copy(), qx[:, 0].copy())
        try:
            step = tile_step(h, qx, qy, z, n, blocked, dt, dx,
                             edge_q=tuple(new[k] if sides[k] else held[k] for k in range(4)),
                             window=window, sides=sides, rain_rate=rain_rate, rain_weight=rain_w,
                             infiltration_rate=loss, drainage_rate=drain, theta=theta,
                             h_min=h_min, t_end=t_end)
        except FloodInstability as err:
            row, col = ar + err.row, ac + err.col
            raise RunError(f"flood run unstable at t = {err.time_s:.3f} s at x = {xy[0][col]:.2f} m, "
                           f"y = {xy[1][row]:.2f} m (row {row}, col {col}): depth {err.value!r} m "
                           f"(tile {iy}, {ix})") from None
        ledger[:3] += np.array([step.rain_depth, step.infiltration_depth, step.drainage_depth]) * dx * dx
        ledger[3:_LEDGER] += step.boundary_in, step.boundary_out
        ledger[_LEDGER + i] = step.h_max
        for (rows, cols, weights, in_core), volume in zip(local, volumes):
            if volume > 0 and rows.size:
                np.add.at(h, (rows, cols), volume * weights / (dx * dx))
                if in_core.any():
                    ledger[_LEDGER + i] = max(ledger[_LEDGER + i], h[rows[in_core], cols[in_core]].max())
        accumulate_hazard(h, qx, qy, t_end, dt, opts["wet_threshold"], opts["speed_depth"], *accs,
                          window=window)
    work[0, :-1, :-1] = h
    work[2, :, :-1] = qy
    out[:_STATE] = work[:, cr0:cr0 + r1 - r0, cc0:cc0 + c1 - c0]
    out[-1] = 0.0
    out[-1].flat[:ledger.size] = ledger
    return out


def _plan(inputs: FloodInputs, t: float, stop: float, dt_x: float, steps: int, rain_cum,
          inflow_cum) -> list[tuple]:
    """The steps of one exchange from ``t``: up to ``steps`` of ``dt_x`` (s), the last clipped
    to ``stop``, as simulate_flood clips, with each step's forcings.

    Each step is ``(t_end, dt, rain_rate, edge_kind, edge_level, inflow_volumes)``: rain as the
    exact mean intensity over the step (m/s; 1 for gridded rain, whose field carries the rate),
    boundary kinds and levels (m) at the step's start, inflow volumes (m^3) integrated exactly.
    """
    plan = []
    while len(plan) < steps and t < stop:
        t_end = stop if t + dt_x >= stop else t + dt_x
        dt = t_end - t
        kind, level = edge_arrays(inputs.boundaries, t)
        if isinstance(inputs.rain, GriddedRain):
            rain_rate = 1.0
        elif rain_cum is not None:
            rain_rate = series_integral(inputs.rain.times, rain_cum, inputs.rain.rates, t, t_end) / dt
        else:
            rain_rate = 0.0
        volumes = [series_integral(f.times, cum, f.discharge, t, t_end)
                   for f, cum in zip(inputs.inflows, inflow_cum)]
        plan.append((t_end, dt, rain_rate, kind, level, volumes))
        t = t_end
    return plan


def _tile_ledgers(plane: da.Array, tiling: _Tiling, width: int) -> da.Array:
    """The first ``width`` values of every tile's ledger plane, as (tiles_y, width tiles_x)."""
    return plane.map_blocks(lambda b: np.array(b.flat[:width])[None, :], dtype=plane.dtype,
                            chunks=((1,) * len(tiling.rows), (width,) * len(tiling.cols)))


@_without_huge_pages()
def simulate_flood_tiled(inputs: FloodInputs, duration_s: float, tiles: tuple[int, int] = (2, 2),
                         halo: int | None = None, steps_per_exchange: int | None = None,
                         snapshot_every_s: float | None = None, wet_threshold_m: float = 0.05,
                         scheduler=None,
                         progress: Callable[[float, float], None] | None = None) -> FloodResult:
    """Run one flood member on tiles with ``dask.array.map_overlap`` (see the module docstring).

    Same physics and forcings as :func:`twin.flood_model.simulate_flood` (Bates et al. 2010,
    eqs. 6, 11, 12; de Almeida et al. 2012 theta-weighting), with one global stable step per
    halo exchange. Snapshots are supported (exchanges end at snapshot times); gauges are not
    (use ``simulate_flood`` or read the snapshots).

    Parameters
    ----------
    inputs : FloodInputs
        Terrain, roughness, forcings, boundaries and numerics.
    duration_s : float
        Simulated time (s), > 0.
    tiles : (int, int)
        Tiles along y and x (see :func:`auto_tiles`); each tile must be at least ``halo`` cells
        on each side.
    halo : int, optional
        Halo width (cells); default :func:`required_halo` of ``steps_per_exchange``.
    steps_per_exchange : int, optional
        Steps ``K`` between halo exchanges; default the most the halo allows,
        ``(halo - 1) // 2``, or when neither is given :data:`DEFAULT_STEPS_PER_EXCHANGE` (32,
        halo 65), fewer if the smallest tile is narrower than that halo.
    snapshot_every_s : float or None
        Interval (s) between depth snapshots (from t = 0); None for none.
    wet_threshold_m : float
        Depth (m) from which a cell counts as flooded (arrival time, wet duration).
    scheduler : str, distributed.Client or None
        Passed to ``dask.persist`` / ``dask.compute`` (``"synchronous"``, ``"threads"``, a
        ``Client``, ...); None uses dask's default. The flood step releases the GIL (numba
        ``nogil``), so threads run tiles in parallel too (the hazard accumulation does not).
    progress : callable, optional
        Called as ``progress(t_sim, duration_s)`` after every exchange.

    Returns
    -------
    FloodResult
        Hazard maxima, arrival and wet duration, final depth, snapshots, ledger and step count;
        no gauges (empty arrays); ``kernel_wall_s`` is NaN (not measured across workers) and
        ``loop_wall_s`` is the wall time of the exchanges.

    Raises
    ------
    InputError
        Bad duration, tiles, halo too small for ``steps_per_exchange``, or tiles smaller than
        the halo.
    RunError
        The state became non-finite or negative (the message names time, x/y, row/col, tile).
    """
    if not duration_s > 0:
        raise InputError("flood: duration must be > 0 s", found=repr(duration_s))
    ny, nx = shape = inputs.shape
    if len(tiles) != 2 or min(tiles) < 1:
        raise InputError("flood tiles: need two tile counts >= 1", found=repr(tiles))
    steps = steps_per_exchange
    if steps is None and halo is None:      # as many as the smallest tile holds, up to the default
        smallest = min(_split(ny + 1, int(tiles[0])) + _split(nx + 1, int(tiles[1])))
        steps = max(1, min(DEFAULT_STEPS_PER_EXCHANGE, (smallest - 1) // HALO_PER_STEP))
    elif steps is None:
        steps = (int(halo) - 1) // HALO_PER_STEP
    halo = required_halo(steps) if halo is None else int(halo)
    if steps < 1 or halo < required_halo(steps):
        raise InputError("flood tiles: halo too small for the steps between exchanges (the valid "
                         f"region shrinks by {HALO_PER_STEP} cells per step, plus 1 for the face layout)",
                         expected=f"halo >= {HALO_PER_STEP} x steps + 1 with steps >= 1",
                         found=f"halo {halo}, steps {steps}")
    tiling = _Tiling(shape, (int(tiles[0]), int(tiles[1])), halo)
    if min(tiling.rows + tiling.cols) < halo:
        raise InputError("flood tiles: tiles smaller than the halo", expected=f">= {halo} cells a side",
                         found=f"{min(tiling.rows + tiling.cols)} cells")
    dx = float(inputs.dx)
    snap_t = output_times(duration_s, snapshot_every_s)
    gridded = isinstance(inputs.rain, GriddedRain)
    stops = np.unique(np.concatenate([snap_t, [duration_s]] + ([inputs.rain.times] if gridded else [])))
    stops = stops[(stops > 0) & (stops <= duration_s)]

    blocked = inputs.blocked
    routing = roof_routing(blocked, inputs.domain)
    if gridded:
        rain_weight = np.zeros(shape)
    elif inputs.rain is not None and routing[0].size:
        rain_weight = uniform_rain_weight(routing, blocked)
    else:
        rain_weight = np.broadcast_to(np.float32(1.0), shape)
    rain_cum = None if inputs.rain is None or gridded else cumulative_series(inputs.rain.times, inputs.rain.rates)
    static = {"z": inputs.z, "manning_n": inputs.manning_n, "blocked": blocked,
              "loss_rate": inputs.loss_rate, "drainage_rate": inputs.drainage_rate,
              "rain_weight": rain_weight}
    uniform = {k: v for k, v in ((k, _uniform_value(a)) for k, a in static.items()) if v is not None}
    blocks = {k: tiling.halo_blocks(_extended(a), scheduler) for k, a in static.items() if k not in uniform}

    h0 = np.asarray(inputs.h0, dtype=np.float64)
    stack = tiling.initial_stack(h0, wet_threshold_m)
    inflows = [(f.rows, f.cols, f.weights) for f in inputs.inflows]
    inflow_cum = [cumulative_series(f.times, f.discharge) for f in inputs.inflows]
    opts = {"dx": dx, "theta": float(inputs.theta), "h_min": float(inputs.h_min),
            "wet_threshold": float(wet_threshold_m),
            "speed_depth": max(float(inputs.h_min), SPEED_DEPTH_MIN_M)}
    xy = (inputs.x if inputs.x is not None else (np.arange(nx) + 0.5) * dx,
          inputs.y if inputs.y is not None else -(np.arange(ny) + 0.5) * dx)
    ledger = VolumeLedger(storage_initial=float(h0.sum()) * dx * dx)
    snapshots = np.zeros((snap_t.size, ny, nx), np.float32)
    if snap_t.size and snap_t[0] == 0.0:
        snapshots[0] = h0

    t, n_steps, rain_interval = 0.0, 0, None
    h_max = float(h0.max(initial=0.0))
    h_prev, n_prev = h_max, 1
    loop_start = time.perf_counter()
    for stop in stops:
        while t < stop:
            if gridded:
                k = int(np.searchsorted(inputs.rain.times, t, side="right")) - 1
                if k != rain_interval:
                    gridded_rain_field(inputs.rain, k, routing, blocked, rain_weight)
                    blocks["rain_weight"] = tiling.halo_blocks(_extended(rain_weight), scheduler)
                    rain_interval = k
            # the depth the intermediate steps may reach, from the growth rate of the last exchange
            h_guess = h_max + (steps - 1) * max(0.0, h_max - h_prev) / n_prev
            dt_x = stable_timestep(h_guess, dx, inputs.alpha, inputs.dt_max)
            for _ in range(MAX_RETRIES + 1):
                plan = _plan(inputs, t, stop, dt_x, steps, rain_cum, inflow_cum)
                # map_overlap in its two halves: the halo exchange of the state alone, then
                # map_blocks, which hands each task the stored blocks of the other planes and
                # static fields as they are (map_overlap would copy those every exchange)
                state = da.overlap.overlap(stack[:_STATE], depth={0: 0, 1: halo, 2: halo},
                                           boundary="none")
                new = da.map_blocks(_advance_tile, state, stack[_STATE:], *blocks.values(),
                                    chunks=stack.chunks, dtype=np.float64,
                                    meta=np.empty((0, 0, 0)), tiling=tiling, uniform=uniform,
                                    plan=plan, inflows=inflows, opts=opts, xy=xy,
                                    name=f"flood-tiles-{uuid.uuid4().hex}")
                width = _LEDGER + len(plan)
                new, per_tile = dask.persist(new, _tile_ledgers(new[-1], tiling, width),
                                             scheduler=scheduler, optimize_graph=False)
                per_tile = per_tile.compute(scheduler=scheduler, optimize_graph=False)
                per_tile = per_tile.reshape(len(tiling.rows), len(tiling.cols), width)
                step_max = per_tile[..., _LEDGER:].max(axis=(0, 1))
                stable = [stable_timestep(hm, dx, inputs.alpha, inputs.dt_max) for hm in step_max[:-1]]
                if all(dt_x <= dt_ok for dt_ok in stable):
                    break
                dt_x = min(stable)
            else:
                raise RunError(f"flood tiles: no stable step for the exchange at t = {t:.3f} s "
                               f"after {MAX_RETRIES} smaller tries (dt {dt_x!r} s)")
            sums = per_tile[..., :_LEDGER].sum(axis=(0, 1))
            ledger.rain_in += sums[0]
            ledger.infiltration += sums[1]
            ledger.drainage += sums[2]
            ledger.boundary_in += sums[3]
            ledger.boundary_out += sums[4]
            for step in plan:
                for f, volume in zip(inputs.inflows, step[-1]):
                    if volume > 0:
                        ledger.inflow_in += volume * float(f.weights.sum())
            h_prev, n_prev = h_max, len(plan)
            h_max, t = float(step_max[-1]), plan[-1][0]
            stack = new
            n_steps += len(plan)
            if progress is not None:
                progress(t, duration_s)
        k = np.searchsorted(snap_t, t)
        if k < snap_t.size and snap_t[k] == t:
            snapshots[k] = stack[0, :ny, :nx].compute(scheduler=scheduler)
    final, accs = dask.compute(stack[0, :ny, :nx], stack[_STATE:_STATE + _ACC, :ny, :nx],
                               scheduler=scheduler)
    ledger.storage_final = float(final.sum()) * dx * dx
    max_depth, max_speed, max_q, arrival, wet_duration = accs
    return FloodResult(max_depth, max_speed.astype(np.float32), max_q.astype(np.float32),
                       arrival.astype(np.float32), wet_duration, final, snap_t, snapshots,
                       np.array([]), np.zeros((0, 0)), np.zeros((0, 0)), np.zeros((0, 0)),
                       ledger, n_steps, float("nan"), time.perf_counter() - loop_start)
