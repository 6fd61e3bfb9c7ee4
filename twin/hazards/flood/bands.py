"""The flood grid as row bands stepped on threads, one step at a time: the whole grid's step, exactly.

The state of :func:`twin.hazards.flood.model.simulate_flood` (depth ``h``, unit discharges ``qx``
and ``qy``, :mod:`kernels.flood`'s layout) is held as ``n`` bands of whole rows, each with a
halo of :data:`HALO_ROWS` rows copied from its neighbours. A step advances every band at once,
one band per thread (the kernels release the GIL), with the same time step, forcings and
arithmetic per cell as the whole grid: :func:`step_block` runs :func:`kernels.flood.tile_step`
with the band's outer faces that border another band held at their old values, adds the inflows
and folds the band's own rows into the hazard accumulators
(:func:`kernels.flood_hazard.accumulate_hazard`). The values a band computes within two rows of
its held faces may be wrong (the theta-weighted neighbour discharges and the outflow limiter
reach two cells per step, :mod:`kernels.flood`); the rows it owns are exact, and after each step
every band's halo rows are copied from the band that owns them (:meth:`Bands.exchange`). So the
depths, discharges and hazard maps equal the whole-grid run bit for bit, and so does the step
sequence (the largest depth and outflow rate are maxima over the bands). The volume sums of
a step (rain, losses, edge flows) are summed band by band, which reorders their additions: the
ledger then agrees with the whole grid's to round-off (1e-16 relative), not bit for bit.

One band is the whole grid (no halo, no thread, no copy): the single-core run. The tiled run on
dask (:mod:`twin.hazards.flood.tiled`) advances its tiles with the same :func:`step_block`.
SI units throughout (m, s, m/s, m^2/s, m^3).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from kernels.flood import StepVolumes, edge_fluxes, tile_step
from kernels.flood_hazard import accumulate_hazard

#: Halo rows of a band on each side that borders another: one step's reach of the stale held
#: faces (two cells, :mod:`kernels.flood`; tested exact, and one row too few is not).
HALO_ROWS = 2

#: Fewest rows a band owns: thinner bands would spend more on their halos than they save.
MIN_BAND_ROWS = 16


class BlockFields(NamedTuple):
    """The static fields of a block (views of the run's arrays; uniform ones may be zero-stride):
    bed elevation (m), Manning n (s m^-1/3), blocked cells, infiltration and drainage capacity
    (m/s), rain multiplier (-) and the cells the outflow control watches."""

    z: np.ndarray
    manning_n: np.ndarray
    blocked: np.ndarray
    loss_rate: np.ndarray
    drainage_rate: np.ndarray
    rain_weight: np.ndarray
    watched: np.ndarray


class StepOptions(NamedTuple):
    """Constants of a run's steps: cell size (m), theta (-, the step's weighting: each step replaces
    it), no-flow depth (m), wet threshold (m)
    and the depth (m) from which speeds count (:data:`twin.hazards.flood.model.SPEED_DEPTH_MIN_M`)."""

    dx: float
    theta: float
    h_min: float
    wet_threshold: float
    speed_depth: float


def local_inflows(inflows, r0: int, c0: int, shape: tuple[int, int], window: tuple[int, int, int, int]) -> list:
    """The inflows' cells inside a block whose cell ``(0, 0)`` is the grid's ``(r0, c0)`` and whose
    cells are ``shape``: ``(rows, cols, weights, in_window)`` per inflow, in block coordinates, with
    ``in_window`` marking the cells of the block's own ``window`` (r0, r1, c0, c1)."""
    out = []
    for rows, cols, weights in inflows:
        inside = (rows >= r0) & (rows < r0 + shape[0]) & (cols >= c0) & (cols < c0 + shape[1])
        lr, lc = rows[inside] - r0, cols[inside] - c0
        in_window = (lr >= window[0]) & (lr < window[1]) & (lc >= window[2]) & (lc < window[3])
        out.append((lr, lc, weights[inside], in_window))
    return out


def step_block(planes, views, fields: BlockFields, accs, inflows, sides, window, step, opts: StepOptions,
               edge_buffers) -> tuple[StepVolumes, float]:
    """One step of a block (a band, a tile or the whole grid), in place: kernel, inflows, hazard maps.

    The new discharge on the block's outer faces comes from :func:`kernels.flood.edge_fluxes` on
    the grid's own edges (``sides``: north, south, east, west) and is held at its old value where
    the block borders another; :func:`kernels.flood.tile_step` then advances the block (Bates et
    al. 2010 eqs. 6 and 11, de Almeida et al. 2012 theta-weighting) with its sums over
    ``window``; each inflow's step volume (m^3) is added to its cells in the block; the window's
    cells are folded into ``accs`` (:func:`kernels.flood_hazard.accumulate_hazard`).

    Parameters
    ----------
    planes : tuple of 3 ndarrays
        The arrays holding ``h``, ``qx``, ``qy`` (possibly larger than the kernel grid, as the
        tiled run's extended layout).
    views : tuple of 3 ndarrays
        ``h`` (ny, nx), ``qx`` (ny, nx + 1), ``qy`` (ny + 1, nx) of the block (views of ``planes``).
    fields : BlockFields
        The block's static fields.
    accs : tuple of 5 ndarrays
        Maximum depth, speed, unit discharge, arrival time and wet duration of the window's cells.
    inflows : list
        :func:`local_inflows` of the block.
    sides, window
        As :func:`kernels.flood.tile_step`.
    step : ForcingStep
        The step (:class:`twin.hazards.flood.forcing.ForcingStep`).
    opts : StepOptions
    edge_buffers : tuple of 4 ndarrays
        Reused buffers of the edge discharges (nx, nx, ny, ny).

    Returns
    -------
    (StepVolumes, float)
        The window's sums and largest depth (inflow cells included) and the kernel's wall time (s).

    Raises
    ------
    kernels.flood.FloodInstability
        In block coordinates.
    """
    h, qx, qy = views
    z, n, blocked, loss, drain, rain_w, watched = fields
    dx, h_min = opts.dx, opts.h_min
    new = edge_fluxes(h, z, n, blocked, qx, qy, step.edge_kind, step.edge_level, step.dt, dx, h_min,
                      out=edge_buffers)
    held = (qy[0], qy[-1], qx[:, -1], qx[:, 0])
    tic = time.perf_counter()
    vol = tile_step(*planes, z, n, blocked, step.dt, dx,
                    edge_q=tuple(new[k] if sides[k] else held[k].copy() for k in range(4)), window=window,
                    sides=sides, rain_rate=step.rain_rate, rain_weight=rain_w, infiltration_rate=loss,
                    drainage_rate=drain, theta=opts.theta, h_min=h_min, t_end=step.t_end, shape=h.shape,
                    watched=watched)
    kernel_s = time.perf_counter() - tic
    h_max = vol.h_max
    for (rows, cols, weights, in_window), volume in zip(inflows, step.inflow_volumes):
        if volume > 0 and rows.size:
            np.add.at(h, (rows, cols), volume * weights / (dx * dx))
            if in_window.any():
                h_max = max(h_max, float(h[rows[in_window], cols[in_window]].max()))
    accumulate_hazard(*planes, step.t_end, step.dt, opts.wet_threshold, opts.speed_depth, *accs, window=window)
    return vol._replace(h_max=h_max), kernel_s


def band_rows(ny: int, n: int) -> list[tuple[int, int]]:
    """The rows ``[a, b)`` each of ``n`` bands owns: as equal as whole rows allow, north first."""
    edges = np.linspace(0, ny, n + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def band_count(ny: int, threads: int) -> int:
    """Bands for ``threads`` threads on ``ny`` rows: one per thread, each at least
    :data:`MIN_BAND_ROWS` rows."""
    return max(1, min(int(threads), ny // MIN_BAND_ROWS))


class _Band:
    """One band: the rows it owns ``[a, b)``, its block ``[r0, r1)`` with its halo, the block's
    state (its own arrays, or the grid's for a single band) and what :func:`step_block` needs."""

    def __init__(self, a, b, ny, h, qx, qy, fields: BlockFields, accs, inflows, single: bool):
        self.a, self.b = a, b
        self.r0, self.r1 = max(a - HALO_ROWS, 0), min(b + HALO_ROWS, ny)
        r0, r1 = self.r0, self.r1
        if single:
            self.h, self.qx, self.qy = h, qx, qy
        else:
            self.h, self.qx, self.qy = h[r0:r1].copy(), qx[r0:r1].copy(), qy[r0:r1 + 1].copy()
        self.fields = BlockFields(*(f[r0:r1] for f in fields))
        self.accs = tuple(acc[a:b] for acc in accs)
        nx = h.shape[1]
        self.window = (a - r0, b - r0, 0, nx)
        self.sides = (a == 0, b == ny, True, True)
        self.inflows = local_inflows(inflows, r0, 0, (r1 - r0, nx), self.window)
        self.buffers = (np.empty(nx), np.empty(nx), np.empty(r1 - r0), np.empty(r1 - r0))

    def step(self, step, opts: StepOptions):
        planes = (self.h, self.qx, self.qy)
        return step_block(planes, planes, self.fields, self.accs, self.inflows, self.sides, self.window, step,
                          opts, self.buffers)


class Bands:
    """The flood state as ``n`` row bands stepped on ``n`` threads (see the module docstring).

    Parameters
    ----------
    h, qx, qy : ndarray
        The state (m, m^2/s); a single band works on these arrays in place, several copy them.
    fields : BlockFields
        The run's static fields on the whole grid (C-contiguous or zero-stride along rows).
    accs : tuple of 5 ndarrays (ny, nx)
        The hazard accumulators (maximum depth, speed, unit discharge, arrival, wet duration),
        updated in place, each band its own rows.
    inflows : list of (rows, cols, weights)
        The inflow cells of the grid.
    opts : StepOptions
    n : int
        Bands (threads), >= 1; at most one per :data:`MIN_BAND_ROWS` rows.

    Use it as a context manager: it holds the threads of its bands.
    """

    def __init__(self, h, qx, qy, fields: BlockFields, accs, inflows, opts: StepOptions, n: int = 1):
        ny = h.shape[0]
        self.n = band_count(ny, n)
        self.opts = opts
        self.shape = h.shape
        self.bands = [_Band(a, b, ny, h, qx, qy, fields, accs, inflows, self.n == 1)
                      for a, b in band_rows(ny, self.n)]
        self._pool = ThreadPoolExecutor(self.n - 1, thread_name_prefix="flood-band") if self.n > 1 else None
        self._copies = self._halo_copies()

    def __enter__(self) -> Bands:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the bands' threads."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def step(self, step, theta: float) -> tuple[list, float]:
        """Advance every band one step (``step``: a :class:`~twin.hazards.flood.forcing.ForcingStep`)
        with the weighting ``theta`` (-) of that step (:meth:`FloodInputs.weighting
        <twin.hazards.flood.model.FloodInputs.weighting>`) and exchange their halos.

        Returns
        -------
        (list of StepVolumes, float)
            Per band (north first): its sums and largest depth over the rows it owns; and the
            longest kernel wall time (s) of the bands.

        Raises
        ------
        kernels.flood.FloodInstability
            From the northernmost band that failed, with its row on the whole grid.
        """
        opts = self.opts._replace(theta=theta)
        if self._pool is None:
            vol, kernel_s = self.bands[0].step(step, opts)
            return [vol], kernel_s
        others = [self._pool.submit(_stepped, band, step, opts) for band in self.bands[1:]]
        results = [_stepped(self.bands[0], step, opts)] + [f.result() for f in others]
        for band, result in zip(self.bands, results):
            if isinstance(result, BaseException):
                result.row += band.r0
                raise result
        self.exchange()
        return [r[0] for r in results], max(r[1] for r in results)

    def exchange(self) -> None:
        """Copy into every band's halo rows the rows of its neighbours (cells and their north faces,
        and the upper band's south edge face; the face between two bands is exact in both,
        :mod:`kernels.flood`)."""
        for dst, src in self._copies:
            dst[...] = src

    def _halo_copies(self) -> list:
        """The (halo view, owner's view) pairs of :meth:`exchange`."""
        copies = []
        for upper, lower in zip(self.bands[:-1], self.bands[1:]):
            m = upper.b                                      # the first row of the lower band
            for dst, src, a, b in ((upper, lower, m, upper.r1), (lower, upper, lower.r0, m)):
                b_face = b + (dst is upper)                  # the upper band's south edge face too
                copies += [(dst.h[a - dst.r0:b - dst.r0], src.h[a - src.r0:b - src.r0]),
                           (dst.qx[a - dst.r0:b - dst.r0], src.qx[a - src.r0:b - src.r0]),
                           (dst.qy[a - dst.r0:b_face - dst.r0], src.qy[a - src.r0:b_face - src.r0])]
        return copies

    def state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The whole grid's ``h``, ``qx``, ``qy`` now: the arrays themselves for one band, else
        copies of the rows each band owns."""
        if self.n == 1:
            b = self.bands[0]
            return b.h, b.qx, b.qy
        h = np.concatenate([b.h[b.a - b.r0:b.b - b.r0] for b in self.bands])
        qx = np.concatenate([b.qx[b.a - b.r0:b.b - b.r0] for b in self.bands])
        qy = np.concatenate([b.qy[b.a - b.r0:b.b - b.r0 + (b.b == self.shape[0])] for b in self.bands])
        return h, qx, qy


def _stepped(band: _Band, step, opts: StepOptions):
    """``band.step`` with an instability returned rather than raised (raised by :meth:`Bands.step`
    once every band has finished, so that no thread still writes when the run stops)."""
    from kernels.flood import FloodInstability

    try:
        return band.step(step, opts)
    except FloodInstability as err:
        return err
