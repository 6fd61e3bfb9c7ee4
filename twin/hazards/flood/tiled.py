"""One flood member on tiles: the local inertial model advanced by dask in halo exchanges.

For a grid too big for one core or one machine. The grid is cut into ``tiles = (ty, tx)`` blocks
of a dask array; each exchange copies a halo of ``halo`` cells from the neighbours (the halo
exchange of ``dask.array.map_overlap`` with ``boundary="none"``, so that true domain edges get
no padding), every tile then advances ``K = steps_per_exchange`` steps of :mod:`kernels.flood`
on its block alone, and the cores (the halo trimmed away) form the new state. SI units
throughout (m, s, m/s, m^2/s, m^3).

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

Face layout and exchange
------------------------
The state ``h``, ``qx``, ``qy`` and the five hazard accumulators live on an *extended* grid of
(ny + 1, nx + 1) cells chunked by tile, described in :mod:`twin.hazards.flood.tile_layout`
(which also cuts the halo blocks and keeps the reused blocks). The exchange is map_overlap's
graph written out (:func:`_exchange`): one dask task per neighbour cuts the strip of its state
that lies in a tile's halo, and the tile's task copies its own state and those strips into a
halo block, advances it in place, and returns the block's core as its new state, its
accumulators folded into output blocks, and its ledger sums. The halo and output blocks are
allocated once per run and reused, alternating between two sets
(:func:`~twin.hazards.flood.tile_layout.reused_block`). ``map_overlap`` itself (or
``dask.array.overlap.overlap`` followed by ``map_blocks``) assembles every halo block, and
copies even inputs of depth 0, into fresh arrays every exchange; on the development machine
faulting in those fresh pages cost more than the tiling's extra cells (bench/README.md). The
accumulators fold in the core only. The static fields (elevation, roughness, blocked cells,
losses, rain weights, the cells the step control watches) are cut into halo blocks with
:func:`dask.array.overlap.overlap` once and kept (persisted) for the run; uniform ones travel
as numbers.

Time step
---------
One global step ``dt_x`` per exchange, for all its ``K`` steps (each clipped to the next stop:
snapshot, gauge (ledger row), gridded-rain interval edge, end of the run, exactly as
:func:`twin.hazards.flood.model.simulate_flood` clips; an exchange ends at a stop). It is the step
of :meth:`~twin.hazards.flood.model.FloodInputs.timestep` (the one step-size function of both
loops), ``min(alpha dx / sqrt(g h), dt_max, outflow_fraction / r, 1.2 dt_last)`` (Bates et al.
2010, eq. 12, with the outflow control and growth limit of
:func:`kernels.flood.stable_timestep`), of a guessed depth ``h = h_max + (K - 1) g``, with
``h_max`` the global largest depth now and ``g`` its growth per step over the last exchange, of
the largest global outflow rate ``r`` of the last exchange's steps and of its step ``dt_last``.
Each tile reports its core's largest depth and outflow rate after every step; the exchange is
accepted when ``dt_x`` is within the stable (Courant) step of every intermediate global maximum
depth (the stability criterion simulate_flood applies before each step), and otherwise redone
from the stored state with the stable step of the largest depth it reached (at most
``MAX_RETRIES`` times, then :class:`~twin.core.errors.RunError`). The outflow control, which
bounds an error and not stability, acts from one exchange to the next: checking it within an
exchange had half of them redone on rain over 30 m terrain, its outflow rate changing from
step to step (bench/README.md, "Flood step"). With ``K = 1`` nothing is guessed or checked and
the step sequence is simulate_flood's, so the tiled run equals it to round-off. Forcings are
taken per step from the same :class:`~twin.hazards.flood.forcing.ForcingSchedule` as in
``simulate_flood`` (boundary levels at the start of the step, exact integrals of rain and inflow
over the step).

The volume ledger sums what each tile applied on its core only (rain, infiltration, drainage,
flow across true edges, per edge), so it closes as the untiled ledger does; its rows over time
(at the gauge times) take the storage as the sum of the tiles' cores at the end of the
exchange.
"""

from __future__ import annotations

import operator
import time
import uuid
from functools import partial
from typing import Callable

import dask
import dask.array as da
import numpy as np
from dask.highlevelgraph import HighLevelGraph

from kernels.flood import FloodInstability
from twin.core.errors import InputError, RunError
from twin.hazards.flood.bands import BlockFields, StepOptions, local_inflows, step_block
from twin.hazards.flood.forcing import ForcingSchedule, ForcingStep
from twin.hazards.flood.model import SPEED_DEPTH_MIN_M, FloodInputs, FloodResult, LedgerRow, VolumeLedger
from twin.hazards.flood.tile_layout import (STATE_PLANES, Tiling, TileFields, blocks_of_a_run, extended,
                                            reused_block, split_cells, state_strip, uniform_value)

#: Cells the region of valid values shrinks by, per step, from each side of a tile.
HALO_PER_STEP = 2

#: Ledger values a tile reports per exchange (m^3): rain, infiltration, drainage, the volumes in
#: through each grid edge (north, south, east, west), out through each, and the water its core
#: holds at the end; its core's largest depth (m) after each step follows them, then its
#: outflow rate (1/s, :attr:`kernels.flood.StepVolumes.outflow_rate`) of each step.
_LEDGER = 12

#: Steps between halo exchanges when neither ``halo`` nor ``steps_per_exchange`` is given (fewer
#: on tiles too small for its halo of 65 cells). Measured on a 2000 x 2000 member in 2 x 1 tiles
#: on one worker, 192 steps: K = 16, 32, 48 cost 19.7 %, 15.7 %, 18.0 % over the untiled run
#: (bench/README.md): more steps per exchange mean fewer exchanges but more halo cells, and their
#: one time step comes from a depth guessed further ahead.
DEFAULT_STEPS_PER_EXCHANGE = 32

#: Tries of an exchange with a smaller step before the run is declared unstable.
MAX_RETRIES = 30

#: Static per-cell fields handed to the tiles, in this order, and their dtypes.
_STATIC = {"z": np.float64, "manning_n": np.float64, "blocked": np.bool_, "loss_rate": np.float64,
           "drainage_rate": np.float64, "rain_weight": np.float64, "watched": np.bool_}


def _stable_exchange(fields: TileFields, static_blocks: list[da.Array], tiling: Tiling, scheduler,
                     dt: float, h_sized: float, plan_of: Callable[[float], list],
                     stable_dt: Callable[[float], float], weighting: Callable[[float, float], float],
                     **advance) -> tuple[TileFields, list, np.ndarray, float]:
    """One exchange with a stable step: tried with ``dt`` (s), sized for a largest depth
    ``h_sized`` (m), and, while a tile's intermediate largest depth asks for a smaller stable step
    than the one taken, redone from the same fields with the stable step of the largest depth
    reached (at most :data:`MAX_RETRIES` times).

    ``plan_of(dt)`` gives the exchange's steps (:func:`_plan`), ``stable_dt(h)`` the stable
    step (s) of a largest depth ``h`` (m), ``weighting(dt, h)`` the weighting of a step of
    ``dt`` sized for ``h`` (:meth:`FloodInputs.weighting
    <twin.hazards.flood.model.FloodInputs.weighting>`); ``advance`` goes to
    :func:`_advance_tile`. Returns
    the new fields (persisted), the plan taken, the tiles' ledgers as (tiles_y, tiles_x, width)
    and the step (s) it was planned with.
    """
    for _ in range(MAX_RETRIES + 1):
        plan = plan_of(dt)
        width = _LEDGER + 2 * len(plan)
        thetas = [weighting(step.dt, h_sized) for step in plan]
        new, ledgers = _exchange(fields, static_blocks, tiling, width, plan=plan, thetas=thetas, **advance)
        *new, ledgers = dask.persist(*new, ledgers, scheduler=scheduler, optimize_graph=False)
        per_tile = ledgers.compute(scheduler=scheduler, optimize_graph=False)
        per_tile = per_tile.reshape(len(tiling.rows), len(tiling.cols), width)
        reached = _step_maxima(per_tile, len(plan))[0][:-1]
        stable = [stable_dt(h) for h in reached]
        if all(dt <= dt_ok for dt_ok in stable):
            return TileFields(*new), plan, per_tile, dt
        dt, h_sized = min(stable), float(max(reached))
    raise RunError(f"flood tiles: no stable step for the exchange at t = {plan[0].t_end - plan[0].dt:.3f} s "
                   f"after {MAX_RETRIES} smaller tries (dt {dt!r} s)")


def _step_maxima(per_tile: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The global largest depth (m) and outflow rate (1/s) after each of an exchange's
    ``steps`` steps, from the tiles' ledgers (tiles_y, tiles_x, width)."""
    maxima = per_tile[..., _LEDGER:].max(axis=(0, 1))
    return maxima[:steps], maxima[steps:]


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


def _advance_tile(own, own64, own32, strips, *static_blocks, iy, ix, tiling, uniform, plan,
                  thetas, inflows, opts, xy, run, slot):
    """Advance tile ``(iy, ix)`` through the steps of ``plan``, with the weightings ``thetas``.

    ``own``, ``own64``, ``own32`` are the tile's blocks of the :class:`TileFields` (stored, only
    read), ``strips`` the state of its neighbours' parts in its halo
    (:meth:`Tiling.neighbour_strips`, in that order; together with ``own`` they cover the halo
    block), ``static_blocks`` its halo blocks of the static fields. The state and the strips are
    copied into the tile's reused halo block of ``slot``, which the kernels advance in place
    (its planes are C-contiguous, so the sweep's rows vectorize; :func:`kernels.flood.tile_step`
    is told the kernel grid's shape). Each step is one fused sweep: held discharges on the
    faces bordering other tiles, sums and largest depth over the core only; the accumulators
    fold in the core only. Returns the core's new state (a view of the halo block), its
    accumulators, written into the reused blocks of ``slot`` (:func:`reused_block`), and its
    ledger as a (1, n) row: the _LEDGER values (m^3), then the core's largest depth (m) after
    each step, then its outflow rate (1/s) of each step.
    """
    nty, ntx = len(tiling.rows), len(tiling.cols)
    r0, r1, c0, c1, ar, ac = tiling.block(iy, ix)
    sides = (iy == 0, iy == nty - 1, ix == ntx - 1, ix == 0)
    work = reused_block(run, ("halo", iy, ix, slot), (STATE_PLANES,) + tiling.halo_shape(iy, ix))
    work[:, r0 - ar:r1 - ar, c0 - ac:c1 - ac] = own
    for (_, _, _, _, row, col), strip in zip(tiling.neighbour_strips(iy, ix), strips):
        work[:, row:row + strip.shape[1], col:col + strip.shape[2]] = strip
    planes = work[0], work[1], work[2]                  # (nyk + 1, nxk + 1) each, C-contiguous
    h, qx, qy = work[0, :-1, :-1], work[1, :-1, :], work[2, :, :-1]     # the kernel grid's views
    nyk, nxk = h.shape
    fields = dict(zip([k for k in _STATIC if k not in uniform], static_blocks))
    for k, value in uniform.items():
        fields[k] = np.broadcast_to(_STATIC[k](value), (nyk, nxk))
    z, n, blocked, loss, drain, rain_w, watched = (fields[k] for k in _STATIC)
    # the core in block coordinates; its real cells stop before the dummy row / column
    cr0, cc0 = r0 - ar, c0 - ac
    cr1, cc1 = min(r1 - ar, nyk), min(c1 - ac, nxk)
    window = (cr0, cr1, cc0, cc1)
    out64 = reused_block(run, ("acc64", iy, ix, slot), own64.shape)
    out32 = reused_block(run, ("acc32", iy, ix, slot), own32.shape, np.float32)
    out64[:] = own64
    out32[:] = own32
    accs = out64[0], out32[0], out32[1], out32[2], out64[1]   # as accumulate_hazard takes them
    local = local_inflows(inflows, ar, ac, (nyk, nxk), window)
    dx = opts.dx
    block = BlockFields(z, n, blocked, loss, drain, rain_w, watched)
    edge_buffers = (np.empty(nxk), np.empty(nxk), np.empty(nyk), np.empty(nyk))
    ledger = np.zeros(_LEDGER + 2 * len(plan))
    for i, (step, theta) in enumerate(zip(plan, thetas)):
        try:
            vol, _ = step_block(planes, (h, qx, qy), block, accs, local, sides, window, step,
                                opts._replace(theta=theta), edge_buffers)
        except FloodInstability as err:
            row, col = ar + err.row, ac + err.col
            raise RunError(f"flood run unstable at t = {err.time_s:.3f} s at x = {xy[0][col]:.2f} m, "
                           f"y = {xy[1][row]:.2f} m (row {row}, col {col}): depth {err.value!r} m "
                           f"(tile {iy}, {ix})") from None
        ledger[:3] += np.array([vol.rain_depth, vol.infiltration_depth, vol.drainage_depth]) * dx * dx
        ledger[3:7] += vol.edge_in
        ledger[7:11] += vol.edge_out
        ledger[_LEDGER + i] = vol.h_max
        ledger[_LEDGER + len(plan) + i] = vol.outflow_rate
    ledger[11] = float(h[cr0:cr1, cc0:cc1].sum()) * dx * dx
    return work[:, cr0:cr0 + r1 - r0, cc0:cc0 + c1 - c0], out64, out32, ledger[None, :]


def _plan(schedule: ForcingSchedule, t: float, stop: float, dt_x: float, steps: int) -> list[ForcingStep]:
    """The steps of one exchange from ``t`` (s): up to ``steps`` of ``dt_x`` (s), the last
    clipped to ``stop`` (s), as simulate_flood clips, each with its forcings
    (:meth:`ForcingSchedule.step <twin.hazards.flood.forcing.ForcingSchedule.step>`)."""
    plan = []
    while len(plan) < steps and t < stop:
        plan.append(schedule.step(t, dt_x, stop))
        t = plan[-1].t_end
    return plan


def _exchange(fields: TileFields, static_blocks: list[da.Array], tiling: Tiling, width: int,
              **advance) -> tuple[TileFields, da.Array]:
    """The fields after one exchange, and the tiles' ledgers: the halo exchange of
    ``map_overlap`` written as a dask graph.

    Per tile one task cuts each neighbour's strip (:func:`state_strip`, a view; between workers only
    the strip travels) and one task advances the tile (:func:`_advance_tile` with the keyword
    arguments ``advance``) from its own blocks, the strips and its static halo blocks; four
    more take its results apart. The ledgers are a (tiles_y, width tiles_x) array: per tile the
    ``width`` values of :func:`_advance_tile`'s ledger.
    """
    name = f"flood-tiles-{uuid.uuid4().hex}"
    tasks, parts = {}, {f"{name}-{part}": {} for part in (*TileFields._fields, "ledger")}
    for iy in range(len(tiling.rows)):
        for ix in range(len(tiling.cols)):
            strips = []
            for k, (jy, jx, rows, cols, _, _) in enumerate(tiling.neighbour_strips(iy, ix)):
                strips.append((f"{name}-halo", iy, ix, k))
                tasks[strips[-1]] = (state_strip, (fields.state.name, 0, jy, jx), rows, cols)
            tasks[(name, iy, ix)] = (partial(_advance_tile, iy=iy, ix=ix, tiling=tiling, **advance),
                                     *[(a.name, 0, iy, ix) for a in fields], strips,
                                     *[(b.name, iy, ix) for b in static_blocks])
            for k, part in enumerate(parts):
                key = (part, 0, iy, ix) if k < len(fields) else (part, iy, ix)
                parts[part][key] = (operator.getitem, (name, iy, ix), k)
    graph = HighLevelGraph.from_collections(name, tasks, dependencies=[*fields, *static_blocks])
    graph = HighLevelGraph({**graph.layers, **parts}, {**graph.dependencies, **{p: {name} for p in parts}})
    names = list(parts)
    new = TileFields(*(da.Array(graph, p, chunks=a.chunks, dtype=a.dtype, meta=np.empty((0, 0, 0), a.dtype))
                    for p, a in zip(names, fields)))
    ledgers = da.Array(graph, names[-1], chunks=((1,) * len(tiling.rows), (width,) * len(tiling.cols)),
                       dtype=np.float64, meta=np.empty((0, 0)))
    return new, ledgers


def simulate_flood_tiled(inputs: FloodInputs, duration_s: float, tiles: tuple[int, int] = (2, 2),
                         halo: int | None = None, steps_per_exchange: int | None = None,
                         snapshot_every_s: float | None = None, gauge_every_s: float | None = None,
                         wet_threshold_m: float = 0.05, scheduler=None,
                         progress: Callable[[float, float], None] | None = None) -> FloodResult:
    """Run one flood member on tiles advanced in dask halo exchanges (see the module docstring).

    Same physics and forcings as :func:`twin.hazards.flood.model.simulate_flood` (Bates et al. 2010,
    eqs. 6, 11, 12; de Almeida et al. 2012 theta-weighting), with one global stable step per
    halo exchange. Snapshots and the ledger over time are supported (exchanges end at their
    times); gauges are not (use ``simulate_flood`` or read the snapshots).

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
    gauge_every_s : float or None
        Interval (s) between the rows of the ledger over time (the scenario's gauge interval,
        as in ``simulate_flood``; from t = 0); None for rows at 0 and the end only.
    wet_threshold_m : float
        Depth (m) from which a cell counts as flooded (arrival time, wet duration).
    scheduler : str, distributed.Client or None
        Passed to ``dask.persist`` / ``dask.compute`` (``"synchronous"``, ``"threads"``, a
        ``Client``, ...); None uses dask's default. The flood step and the hazard accumulation
        release the GIL (numba ``nogil``), so threads run tiles in parallel too.
    progress : callable, optional
        Called as ``progress(t_sim, duration_s)`` after every exchange.

    Returns
    -------
    FloodResult
        Hazard maxima, arrival and wet duration, final depth, snapshots, ledger and its rows
        over time (storage summed over the tiles' cores), step count; no gauges (empty
        arrays); ``kernel_wall_s`` is NaN (not measured across workers) and ``loop_wall_s`` is
        the wall time of the exchanges.

    Raises
    ------
    InputError
        Bad duration, tiles, halo too small for ``steps_per_exchange``, or tiles smaller than
        the halo; inputs with retention storage (``FloodInputs.retention_m``, run untiled).
    RunError
        The state became non-finite or negative (the message names time, x/y, row/col, tile).
    """
    if np.any(np.asarray(inputs.retention_m) > 0):
        raise InputError("flood tiles: storage measures (retention_m, e.g. green roofs' storage_mm) run untiled; "
                         "leave parallel.tiles out")
    schedule = ForcingSchedule.of(inputs, duration_s, snapshot_every_s, gauge_every_s)
    ny, nx = shape = inputs.shape
    if len(tiles) != 2 or min(tiles) < 1:
        raise InputError("flood tiles: need two tile counts >= 1", found=repr(tiles))
    steps = steps_per_exchange
    if steps is None and halo is None:      # as many as the smallest tile holds, up to the default
        smallest = min(split_cells(ny + 1, int(tiles[0])) + split_cells(nx + 1, int(tiles[1])))
        steps = max(1, min(DEFAULT_STEPS_PER_EXCHANGE, (smallest - 1) // HALO_PER_STEP))
    elif steps is None:
        steps = (int(halo) - 1) // HALO_PER_STEP
    halo = required_halo(steps) if halo is None else int(halo)
    if steps < 1 or halo < required_halo(steps):
        raise InputError("flood tiles: halo too small for the steps between exchanges (the valid "
                         f"region shrinks by {HALO_PER_STEP} cells per step, plus 1 for the face layout)",
                         expected=f"halo >= {HALO_PER_STEP} x steps + 1 with steps >= 1",
                         found=f"halo {halo}, steps {steps}")
    tiling = Tiling(shape, (int(tiles[0]), int(tiles[1])), halo)
    if min(tiling.rows + tiling.cols) < halo:
        raise InputError("flood tiles: tiles smaller than the halo", expected=f">= {halo} cells a side",
                         found=f"{min(tiling.rows + tiling.cols)} cells")
    dx = float(inputs.dx)
    snap_t = schedule.snapshot_times
    rain_weight = schedule.rain_weight()
    static = {"z": inputs.z, "manning_n": inputs.manning_n, "blocked": inputs.blocked,
              "loss_rate": inputs.loss_rate, "drainage_rate": inputs.drainage_rate,
              "rain_weight": rain_weight, "watched": schedule.watched()}
    uniform = {k: v for k, v in ((k, uniform_value(a)) for k, a in static.items()) if v is not None}
    blocks = {k: tiling.halo_blocks(extended(a), scheduler) for k, a in static.items() if k not in uniform}

    h0 = np.asarray(inputs.h0, dtype=np.float64)
    fields = tiling.initial_fields(h0, wet_threshold_m)
    inflows = [(f.rows, f.cols, f.weights) for f in inputs.inflows]
    opts = StepOptions(dx, float(inputs.theta), float(inputs.h_min), float(wet_threshold_m),
                       max(float(inputs.h_min), SPEED_DEPTH_MIN_M))
    xy = (inputs.x if inputs.x is not None else (np.arange(nx) + 0.5) * dx,
          inputs.y if inputs.y is not None else -(np.arange(ny) + 0.5) * dx)
    ledger = VolumeLedger(storage_initial=float(h0.sum()) * dx * dx)
    rows = [LedgerRow(0.0, 0, ledger.closed(ledger.storage_initial))]
    snapshots = np.zeros((snap_t.size, ny, nx), np.float32)
    if schedule.snapshot_index(0.0) is not None:
        snapshots[0] = h0

    with blocks_of_a_run(scheduler) as run:
        t, n_steps, rain_interval, exchanges = 0.0, 0, None, 0
        h_max, outflow_rate, dt_x = float(h0.max(initial=0.0)), 0.0, np.inf
        h_prev, n_prev = h_max, 1
        loop_start = time.perf_counter()
        for stop in schedule.stops:
            while t < stop:
                k = schedule.rain_interval(t)
                if k != rain_interval:
                    schedule.fill_rain(k, rain_weight)
                    blocks["rain_weight"] = tiling.halo_blocks(extended(rain_weight), scheduler)
                    rain_interval = k
                # the depth the intermediate steps may reach, from the growth rate of the last exchange
                h_guess = h_max + (steps - 1) * max(0.0, h_max - h_prev) / n_prev
                dt_x = inputs.timestep(h_guess, outflow_rate, dt_x)
                fields, plan, per_tile, dt_x = _stable_exchange(
                    fields, list(blocks.values()), tiling, scheduler, dt_x, h_guess,
                    lambda dt: _plan(schedule, t, stop, dt, steps), lambda h: inputs.timestep(h, 0.0),
                    inputs.weighting,
                    uniform=uniform, inflows=inflows, opts=opts, xy=xy, run=run, slot=exchanges % 2)
                step_max, step_rates = _step_maxima(per_tile, len(plan))
                sums = per_tile[..., :_LEDGER].sum(axis=(0, 1))
                ledger.add(sums[0], sums[1], sums[2], sums[3:7], sums[7:11])
                storage = float(sums[11])
                for step in plan:
                    ledger.add_inflows(inputs.inflows, step.inflow_volumes)
                h_prev, n_prev = h_max, len(plan)
                # the outflow control acts between exchanges: the largest rate of this one's steps
                h_max, outflow_rate, t = float(step_max[-1]), float(step_rates.max()), plan[-1].t_end
                n_steps += len(plan)
                exchanges += 1
                if progress is not None:
                    progress(t, duration_s)
            if schedule.ledger_time(t):
                rows.append(LedgerRow(t, n_steps, ledger.closed(storage)))
            k = schedule.snapshot_index(t)
            if k is not None:
                snapshots[k] = fields.state[0, :ny, :nx].compute(scheduler=scheduler)
        final, acc64, acc32 = dask.compute(fields.state[0, :ny, :nx], fields.acc64[:, :ny, :nx],
                                           fields.acc32[:, :ny, :nx], scheduler=scheduler)
    (max_depth, wet_duration), (max_speed, max_q, arrival) = acc64, acc32
    return FloodResult(max_depth, max_speed, max_q, arrival, wet_duration, final, snap_t, snapshots,
                       np.array([]), np.zeros((0, 0)), np.zeros((0, 0)), np.zeros((0, 0)),
                       rows[-1].ledger, rows, n_steps, float("nan"), time.perf_counter() - loop_start)
