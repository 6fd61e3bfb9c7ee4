"""The flood time loop: drives :mod:`kernels.flood` to a duration and records what came of it.

Written once and apart from the physics: it sub-steps to each output time (the step of
:meth:`FloodInputs.timestep`: the stable step of Bates et al. 2010, eq. 12, capped, with the
outflow control of a wetting grid and a growth limit, clipped to the next output, gauge or
forcing time), feeds
the forcings in (rain, inflow hydrographs, boundary levels, as the run's
:class:`~twin.hazards.flood.forcing.ForcingSchedule` gives them), folds every step into the
hazard maxima, records snapshots and gauges, and keeps a volume ledger of what was applied, so
that ``rain + inflow + boundary_in - boundary_out - infiltration - drainage - retained = storage
change`` closes to round-off (``retained``: water taken into the storage of adaptation measures,
:attr:`FloodInputs.retention_m`), with a row of it at every gauge time and at the end (the ledger over
time, ``ledger.csv``). The grid is stepped whole, or as row bands on threads
(:mod:`twin.hazards.flood.bands`, the same bits). SI units throughout (m, s, m/s, m^2/s, m^3/s, m^3).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable, NamedTuple

import numpy as np

from kernels.flood import (ALPHA, H_MIN, OUTFLOW_FRACTION, FloodInstability, StepVolumes, courant_limit,
                           stable_timestep, step_weighting)
from twin.core.errors import InputError, RunError
from twin.hazards.flood.bands import Bands, BlockFields, StepOptions, band_count
from twin.hazards.flood.forcing import ForcingSchedule, GriddedRain, Inflow, UniformRain, check_boundaries


#: Depth (m) below which no speed is recorded in the hazard maxima: in films thinner than 1 cm
#: v = q / h is dominated by round-off of q and h and reaches tens of m/s on steep ground, which
#: would make the hazard rating d (v + 0.5) + DF meaningless there.
SPEED_DEPTH_MIN_M = 0.01


@dataclass(frozen=True)
class FloodInputs:
    """Everything a flood run needs, as SI arrays on the twin grid (checked on creation).

    Attributes
    ----------
    z : ndarray (ny, nx)
        Bed elevation (m).
    blocked : ndarray (ny, nx) of bool
        Buildings and cells outside the domain: walls for the water, kept dry.
    manning_n : ndarray (ny, nx) or float
        Manning roughness (s m^-1/3), > 0.
    dx : float
        Cell size (m).
    domain : ndarray (ny, nx) of bool, optional
        Cells inside the modelled domain (default: all). Cells outside are blocked too, and
        rain on them is not counted; rain on blocked cells inside (roofs) is routed.
    rain : UniformRain or GriddedRain, optional
        Rainfall (none by default).
    inflows : tuple of Inflow
        Point or line inflows.
    boundaries : dict, optional
        Edge (``"north"``, ``"south"``, ``"east"``, ``"west"``) -> ``"closed"``, ``"free"`` or
        ``(times_s, levels_m)`` (a fixed water level, linear in time, held beyond the ends).
        Edges not named are closed.
    loss_rate : ndarray (ny, nx) or float
        Infiltration capacity (m/s), >= 0.
    drainage_rate : ndarray (ny, nx) or float
        Storm-drain capacity (m/s), >= 0.
    h0 : ndarray (ny, nx) or float
        Initial depth (m), >= 0 and 0 on blocked cells.
    theta : float
        de Almeida et al. (2012) weighting (-) at the stability limit, in (0, 1]; each step uses
        :meth:`weighting` of it.
    alpha : float
        Courant coefficient of the stable step (-), in (0, ``sqrt(theta / 2)``]
        (:func:`kernels.flood.courant_limit`).
    dt_max : float
        Largest time step (s).
    outflow_fraction : float
        Largest share of its water (-) a shallow cell may lose in one step, in (0, 1]: the
        outflow control of the step (:func:`kernels.flood.stable_timestep`).
    h_min : float
        Depth (m) at or below which a face carries no flow.
    retention_m : ndarray (ny, nx) or float
        Storage (m of water, >= 0) each cell holds for water that reaches it, filled after each
        step as far as the water there allows and never emptied: a sink of capacity ``retention_m
        dx^2`` (m^3) per cell (green roofs' and parks' soil storage, :mod:`twin.adaptation`; the
        storage volume of SFINCS, Leijnse et al. 2021, Coastal Eng. 163, 103796). The ledger's
        ``retained``. Untiled runs only.
    x, y : ndarray, optional
        Cell-centre coordinates (m) of the columns and rows, to name cells in errors
        (default ``(c + 0.5) dx`` and ``-(r + 0.5) dx``).
    """

    z: np.ndarray
    blocked: np.ndarray
    manning_n: np.ndarray | float
    dx: float
    domain: np.ndarray | None = None
    rain: UniformRain | GriddedRain | None = None
    inflows: tuple[Inflow, ...] = ()
    boundaries: dict | None = None
    loss_rate: np.ndarray | float = 0.0
    drainage_rate: np.ndarray | float = 0.0
    h0: np.ndarray | float = 0.0
    theta: float = 0.8
    alpha: float = ALPHA
    dt_max: float = 10.0
    outflow_fraction: float = OUTFLOW_FRACTION
    h_min: float = H_MIN
    retention_m: np.ndarray | float = 0.0
    x: np.ndarray | None = None
    y: np.ndarray | None = None

    def __post_init__(self):
        z = np.ascontiguousarray(self.z, dtype=np.float64)
        if z.ndim != 2 or not np.all(np.isfinite(z)):
            raise InputError("flood: z must be a finite 2-D array (m)", found=f"shape {z.shape}")
        shape = z.shape
        domain = (np.broadcast_to(np.True_, shape) if self.domain is None   # zero-stride, no memory
                  else np.asarray(self.domain, bool))
        blocked = np.asarray(self.blocked, bool)
        for name, arr in (("blocked", blocked), ("domain", domain)):
            if arr.shape != shape:
                raise InputError(f"flood: {name} has the wrong shape", expected=str(shape), found=str(arr.shape))
        blocked = blocked | ~domain
        fields = {}
        for name in ("manning_n", "loss_rate", "drainage_rate", "h0", "retention_m"):
            value = getattr(self, name)
            arr = np.asarray(value, dtype=np.float64)
            if arr.ndim == 0:
                arr = np.broadcast_to(arr, shape)      # zero-stride: a uniform field costs no memory
            if arr.shape != shape:
                raise InputError(f"flood: {name} has the wrong shape", expected=str(shape), found=str(arr.shape))
            if not np.all(np.isfinite(arr)) or np.any(arr < 0) or (name == "manning_n" and np.any(arr <= 0)):
                raise InputError(f"flood: {name} must be finite and {'> 0' if name == 'manning_n' else '>= 0'}")
            fields[name] = arr
        if np.any(fields["h0"][blocked] > 0):
            raise InputError("flood: h0 must be 0 on blocked cells (buildings, outside the domain)")
        if not (self.dx > 0 and 0 < self.theta <= 1 and 0 < self.alpha <= 1 and self.dt_max > 0
                and 0 < self.outflow_fraction <= 1 and self.h_min > 0):
            raise InputError("flood: need dx > 0, 0 < theta <= 1, 0 < alpha <= 1, dt_max > 0, "
                             "0 < outflow_fraction <= 1, h_min > 0")
        if self.alpha > courant_limit(self.theta):
            raise InputError("flood: the Courant coefficient alpha is above the stability limit "
                             "sqrt(theta / 2) of the theta-weighted scheme (docs/flood_numerics.md)",
                             expected=f"alpha <= {courant_limit(self.theta):.4f} for theta = {self.theta:g}",
                             found=f"{self.alpha:g}")
        if isinstance(self.rain, GriddedRain) and self.rain.rates.shape[1:] != shape:
            raise InputError("gridded rain has the wrong grid", expected=str(shape),
                             found=str(self.rain.rates.shape[1:]))
        for inflow in self.inflows:
            inside = ((inflow.rows >= 0) & (inflow.rows < shape[0]) & (inflow.cols >= 0)
                      & (inflow.cols < shape[1]))
            if not inside.all() or blocked[inflow.rows, inflow.cols].any():
                raise InputError(f"inflow {inflow.name!r}: cells must be open cells inside the grid")
        bounds = check_boundaries(self.boundaries)
        for name, value in (("z", z), ("blocked", blocked), ("domain", domain), ("boundaries", bounds), *fields.items()):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "inflows", tuple(self.inflows))

    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)``."""
        return self.z.shape

    def timestep(self, h_max: float, outflow_rate: float, dt_last: float = np.inf) -> float:
        """The step (s) after a step of ``dt_last`` (s, as chosen, before clipping to an output
        time) that left a largest depth ``h_max`` (m) and a largest net outflow share per second
        of a shallow cell ``outflow_rate`` (1/s): the Courant step of Bates et al. (2010,
        eq. 12), ``dt_max``, the outflow control and the growth limit
        (:func:`kernels.flood.stable_timestep`). Both time loops size their steps with it."""
        return stable_timestep(h_max, float(self.dx), self.alpha, self.dt_max,
                               outflow_rate=outflow_rate, outflow_fraction=self.outflow_fraction,
                               dt_last=dt_last)

    def weighting(self, dt: float, h_max: float) -> float:
        """The weighting (-) of a step of ``dt`` (s) sized for a largest depth ``h_max`` (m):
        ``theta`` at the stability limit's step, towards 1 for shorter steps, so that the scheme's
        numerical diffusion depends neither on the step nor on ``alpha``
        (:func:`kernels.flood.step_weighting`)."""
        return step_weighting(self.theta, dt, h_max, float(self.dx))


#: The grid edges in the kernel's order (:data:`kernels.flood.NORTH` ... ``WEST``).
EDGES = ("north", "south", "east", "west")


@dataclass
class VolumeLedger:
    """Volumes (m^3) over a run, summed exactly as the kernel applied them.

    ``closure_error = storage_final - storage_initial - (rain_in + inflow_in + boundary_in
    - boundary_out - infiltration - drainage - retained)`` and ``closure_relative`` divides its magnitude
    by the water that was ever present, ``storage_initial + rain_in + inflow_in + boundary_in``.
    ``edge_in`` and ``edge_out`` hold the boundary volumes per grid edge (:data:`EDGES`);
    ``storage_final`` is the storage when the ledger was last closed (:meth:`closed`).
    """

    rain_in: float = 0.0
    inflow_in: float = 0.0
    edge_in: np.ndarray = field(default_factory=lambda: np.zeros(4))
    edge_out: np.ndarray = field(default_factory=lambda: np.zeros(4))
    infiltration: float = 0.0
    drainage: float = 0.0
    storage_initial: float = 0.0
    storage_final: float = 0.0
    retained: float = 0.0

    @property
    def boundary_in(self) -> float:
        """Volume (m^3) that entered through the grid edges."""
        return float(self.edge_in.sum())

    @property
    def boundary_out(self) -> float:
        """Volume (m^3) that left through the grid edges."""
        return float(self.edge_out.sum())

    @property
    def closure_error(self) -> float:
        """Signed closure error (m^3)."""
        net = (self.rain_in + self.inflow_in + self.boundary_in - self.boundary_out
               - self.infiltration - self.drainage - self.retained)
        return self.storage_final - self.storage_initial - net

    @property
    def closure_relative(self) -> float:
        """|closure error| over the water ever present (-); 0 when there was none."""
        total = self.storage_initial + self.rain_in + self.inflow_in + self.boundary_in
        return abs(self.closure_error) / total if total > 0 else 0.0

    def add_inflows(self, inflows, volumes) -> None:
        """Count one step's inflow ``volumes`` (m^3, one per :class:`Inflow`) as applied to their
        cells (each times its weights' sum), one after another."""
        for f, volume in zip(inflows, volumes):
            if volume > 0:
                self.inflow_in += volume * float(f.weights.sum())

    def add(self, rain: float, infiltration: float, drainage: float, edge_in, edge_out) -> None:
        """Count what a step (or the tiles of an exchange) applied: rain, infiltration and
        drainage volumes (m^3) and the volumes (m^3) in and out through each grid edge
        (:data:`EDGES` order)."""
        self.rain_in += rain
        self.infiltration += infiltration
        self.drainage += drainage
        self.edge_in += edge_in
        self.edge_out += edge_out

    def closed(self, storage: float) -> VolumeLedger:
        """A copy of the ledger closed with the water stored now, ``storage`` (m^3): a row of
        the ledger over time (:class:`LedgerRow`) or the run's final ledger."""
        return replace(self, edge_in=self.edge_in.copy(), edge_out=self.edge_out.copy(),
                       storage_final=float(storage))


#: Columns of the ledger over time (``ledger.csv``), as :meth:`LedgerRow.values` gives them:
#: time (s), steps, then cumulative volumes (m^3) and the relative closure error (-).
LEDGER_COLUMNS = (["time_s", "steps", "rain_m3", "inflow_m3"]
                  + [f"boundary_in_{e}_m3" for e in EDGES] + [f"boundary_out_{e}_m3" for e in EDGES]
                  + ["infiltration_m3", "drainage_m3", "storage_m3", "closure_error_m3", "closure_relative",
                     "retained_m3"])


class LedgerRow(NamedTuple):
    """The volume ledger at one time of a run (a row of ``ledger.csv``).

    Attributes
    ----------
    time_s : float
        Simulated time (s).
    steps : int
        Kernel steps taken up to then.
    ledger : VolumeLedger
        Volumes (m^3) applied up to then, closed with the storage then.
    """

    time_s: float
    steps: int
    ledger: VolumeLedger

    def values(self) -> list:
        """The row's values in the order of :data:`LEDGER_COLUMNS`."""
        led = self.ledger
        return ([float(self.time_s), int(self.steps), led.rain_in, led.inflow_in]
                + [float(v) for v in led.edge_in] + [float(v) for v in led.edge_out]
                + [led.infiltration, led.drainage, led.storage_final, led.closure_error,
                   led.closure_relative, led.retained])


@dataclass
class FloodResult:
    """What a flood run produced (numpy arrays on the twin grid, SI units).

    Attributes
    ----------
    max_depth : ndarray (ny, nx) float64
        Largest depth (m).
    max_speed : ndarray (ny, nx) float32
        Largest cell-centred speed (m/s).
    max_unit_discharge : ndarray (ny, nx) float32
        Largest cell-centred unit discharge d v (m^2/s).
    arrival_time : ndarray (ny, nx) float32
        First time (s) the depth reached the wet threshold (end of that step); NaN where it
        never did. float32 (0.01 s resolution at 1e5 s) keeps the loop under 100 bytes a cell.
    wet_duration : ndarray (ny, nx)
        Time (s) spent at or above the wet threshold.
    final_depth : ndarray (ny, nx)
        Depth (m) at the end.
    snapshot_times : ndarray (nt,)
        Times (s) of the depth snapshots.
    snapshots : ndarray (nt, ny, nx) float32
        Depth (m) at those times.
    gauge_times : ndarray (ng,)
        Times (s) of the gauge records.
    gauge_depth, gauge_level, gauge_speed : ndarray (n_gauges, ng)
        Depth (m), water level z + h (m) and cell-centred speed (m/s) at each gauge.
    ledger : VolumeLedger
        Volume budget (m^3) of the whole run.
    ledger_rows : list of LedgerRow
        The ledger over time: at t = 0, every gauge time and the end (the last row is
        ``ledger``).
    n_steps : int
        Number of kernel steps.
    kernel_wall_s : float
        Wall time (s) spent in the flood step kernel.
    loop_wall_s : float
        Wall time (s) of the whole loop (kernel, accumulators, forcings, records).
    """

    max_depth: np.ndarray
    max_speed: np.ndarray
    max_unit_discharge: np.ndarray
    arrival_time: np.ndarray
    wet_duration: np.ndarray
    final_depth: np.ndarray
    snapshot_times: np.ndarray
    snapshots: np.ndarray
    gauge_times: np.ndarray
    gauge_depth: np.ndarray
    gauge_level: np.ndarray
    gauge_speed: np.ndarray
    ledger: VolumeLedger = field(default_factory=VolumeLedger)
    ledger_rows: list = field(default_factory=list)
    n_steps: int = 0
    kernel_wall_s: float = 0.0
    loop_wall_s: float = 0.0


def simulate_flood(inputs: FloodInputs, duration_s: float, snapshot_every_s: float | None,
                   gauge_every_s: float | None, gauge_cells=(), wet_threshold_m: float = 0.05,
                   progress: Callable[[float, float], None] | None = None,
                   threads: int | Callable[[], int] = 1) -> FloodResult:
    """Run the flood model for ``duration_s`` and return hazard fields, records and the ledger.

    Each step is :meth:`FloodInputs.timestep` of the last step's largest depth, outflow rate
    and step, ``min(alpha dx / sqrt(g h_max), dt_max, outflow_fraction / outflow_rate,
    1.2 dt_last)`` (Bates et al. 2010, eq. 12, with the outflow control and growth limit of
    :func:`kernels.flood.stable_timestep`), clipped to the next snapshot, gauge or
    gridded-rain time. Per step: boundary levels are
    taken at the start of the step, rain and inflow volumes are the exact integrals of their
    hyetograph / hydrograph over the step, the kernel advances the state
    (:func:`kernels.flood.tile_step` on the whole grid, or on row bands on threads), inflow
    volume is added to its cells, and the hazard accumulators are updated
    (:func:`kernels.flood_hazard.accumulate_hazard`), all in
    :func:`twin.hazards.flood.bands.step_block`.

    Parameters
    ----------
    inputs : FloodInputs
        Terrain, roughness, forcings, boundaries and numerics.
    duration_s : float
        Simulated time (s), > 0.
    snapshot_every_s : float or None
        Interval (s) between depth snapshots (from t = 0); None for none.
    gauge_every_s : float or None
        Interval (s) between gauge records and rows of the ledger over time (from t = 0);
        None for none (the ledger then has rows at 0 and the end only).
    gauge_cells : sequence of (row, col)
        Cells recorded by the gauges.
    wet_threshold_m : float
        Depth (m) from which a cell counts as flooded (arrival time, wet duration).
    progress : callable, optional
        Called as ``progress(t_sim, duration_s)`` after every step.
    threads : int or callable
        Threads that step the grid, as row bands (:class:`twin.hazards.flood.bands.Bands`), or
        a function giving that number, asked at the start and at every snapshot, gauge or
        rain-interval time (so that a run can take cores that became free). The depths,
        discharges, maps, records and steps are the same bits on any number of threads; the
        ledger's volumes are summed band by band, so they agree to round-off.

    Returns
    -------
    FloodResult
        Hazard maxima, arrival and duration, final depth, snapshots, gauges, ledger and its
        rows over time, timings.

    Raises
    ------
    InputError
        Bad duration, intervals or gauge cells.
    RunError
        The state became non-finite or negative; the message names the time and the cell's
        x/y (and row/col).
    """
    schedule = ForcingSchedule.of(inputs, duration_s, snapshot_every_s, gauge_every_s)
    ny, nx = shape = inputs.shape
    dx = float(inputs.dx)
    area = dx * dx
    gauges = np.array(list(gauge_cells), dtype=np.int64).reshape(-1, 2)
    if np.any((gauges < 0) | (gauges >= np.array(shape))):
        raise InputError("flood: a gauge cell is outside the grid", expected=f"rows < {ny}, cols < {nx}")
    opts = StepOptions(dx, float(inputs.theta), float(inputs.h_min), float(wet_threshold_m),
                       max(inputs.h_min, SPEED_DEPTH_MIN_M))
    snap_t, gauge_t = schedule.snapshot_times, schedule.gauge_times
    rain_weight, rain_interval = schedule.rain_weight(), None
    fields = BlockFields(inputs.z, inputs.manning_n, inputs.blocked, inputs.loss_rate, inputs.drainage_rate,
                         rain_weight, schedule.watched())
    inflows = [(f.rows, f.cols, f.weights) for f in inputs.inflows]
    thread_count = threads if callable(threads) else (lambda: threads)

    h = np.array(inputs.h0, dtype=np.float64)
    qx = np.zeros((ny, nx + 1))
    qy = np.zeros((ny + 1, nx))
    max_depth = h.copy()
    max_speed = np.zeros(shape, np.float32)
    max_q = np.zeros(shape, np.float32)
    arrival = np.where(h >= wet_threshold_m, np.float32(0.0), np.float32(np.nan))
    wet_duration = np.zeros(shape)
    accs = (max_depth, max_speed, max_q, arrival, wet_duration)
    snapshots = np.zeros((snap_t.size, ny, nx), np.float32)
    g_depth, g_level, g_speed = (np.full((len(gauges), gauge_t.size), np.nan) for _ in range(3))
    ledger = VolumeLedger(storage_initial=float(h.sum()) * area)
    rows = []
    retention = _Retention.of(inputs.retention_m)

    def record(t, state):
        h, qx, qy = state
        if schedule.ledger_time(t):
            rows.append(LedgerRow(t, n_steps, ledger.closed(float(h.sum()) * area)))
        k = schedule.snapshot_index(t)
        if k is not None:
            snapshots[k] = h
        k = schedule.gauge_index(t)
        if k is not None and len(gauges):
            r, c = gauges[:, 0], gauges[:, 1]
            d = h[r, c]
            qu = 0.5 * (qx[r, c] + qx[r, c + 1])
            qv = 0.5 * (qy[r, c] + qy[r + 1, c])
            g_depth[:, k] = d
            g_level[:, k] = inputs.z[r, c] + d
            g_speed[:, k] = np.where(d > inputs.h_min, np.hypot(qu, qv) / np.maximum(d, inputs.h_min), 0.0)

    t, n_steps, kernel_wall = 0.0, 0, 0.0
    h_max, outflow_rate, dt = float(h.max(initial=0.0)), 0.0, np.inf
    record(0.0, (h, qx, qy))
    loop_start = time.perf_counter()
    # storage measures take water from the whole grid after each step: one band (the arrays themselves)
    band_threads = (lambda: 1) if retention is not None else thread_count
    bands = Bands(h, qx, qy, fields, accs, inflows, opts, band_threads())
    del h, qx, qy                       # several bands hold copies: the whole-grid arrays may go
    try:
        for stop in schedule.stops:
            while t < stop:
                dt = inputs.timestep(h_max, outflow_rate, dt)
                step = schedule.step(t, dt, stop)
                k = schedule.rain_interval(t)
                if k != rain_interval:
                    schedule.fill_rain(k, rain_weight)
                    rain_interval = k
                try:
                    vols, kernel_s = bands.step(step, inputs.weighting(step.dt, h_max))
                except FloodInstability as err:
                    raise _run_error(err, inputs) from err
                kernel_wall += kernel_s
                vol = vols[0] if len(vols) == 1 else _band_sums(vols)
                h_max, outflow_rate = vol.h_max, vol.outflow_rate
                ledger.add_inflows(inputs.inflows, step.inflow_volumes)
                if retention is not None:
                    ledger.retained += retention.take(bands.state()[0]) * area
                ledger.add(vol.rain_depth * area, vol.infiltration_depth * area, vol.drainage_depth * area,
                           vol.edge_in, vol.edge_out)
                t = step.t_end
                n_steps += 1
                if progress is not None:
                    progress(t, duration_s)
            state = bands.state()
            record(t, state)
            if t < duration_s and band_count(ny, n := band_threads()) != bands.n:
                bands.close()
                bands = Bands(*state, fields, accs, inflows, opts, n)
            del state                   # the bands' copy put together for the records
        h = bands.state()[0]
    finally:
        bands.close()
    return FloodResult(max_depth, max_speed, max_q, arrival, wet_duration, h, snap_t, snapshots,
                       gauge_t, g_depth, g_level, g_speed, rows[-1].ledger, rows, n_steps, kernel_wall,
                       time.perf_counter() - loop_start)


@dataclass
class _Retention:
    """The storage of :attr:`FloodInputs.retention_m` still free on the cells that have some (m)."""

    rows: np.ndarray
    cols: np.ndarray
    free: np.ndarray

    @classmethod
    def of(cls, retention_m) -> "_Retention | None":
        """The storage of a run; None when no cell has any."""
        rows, cols = np.nonzero(np.asarray(retention_m) > 0)
        if rows.size == 0:
            return None
        return cls(rows, cols, np.array(np.asarray(retention_m)[rows, cols], dtype=np.float64))

    def take(self, h: np.ndarray) -> float:
        """Move the water of ``h`` (m) into the free storage of its cells, as much as both allow;
        return the depth taken, summed over the cells (m)."""
        taken = np.minimum(h[self.rows, self.cols], self.free)
        h[self.rows, self.cols] -= taken
        self.free -= taken
        return float(taken.sum())


def _band_sums(vols: list[StepVolumes]) -> StepVolumes:
    """One step's volumes over the bands: their sums (band after band) and maxima."""
    rain, inf, drain = vols[0].rain_depth, vols[0].infiltration_depth, vols[0].drainage_depth
    edge_in, edge_out = np.array(vols[0].edge_in), np.array(vols[0].edge_out)
    for v in vols[1:]:
        rain, inf, drain = rain + v.rain_depth, inf + v.infiltration_depth, drain + v.drainage_depth
        edge_in += v.edge_in
        edge_out += v.edge_out
    return StepVolumes(max(v.h_max for v in vols), rain, inf, drain, edge_in, edge_out,
                       max(v.outflow_rate for v in vols))


def _run_error(err: FloodInstability, inputs: FloodInputs) -> RunError:
    """The RunError of a kernel instability, naming the time and the cell's x/y and row/col."""
    dx = float(inputs.dx)
    x = inputs.x[err.col] if inputs.x is not None else (err.col + 0.5) * dx
    y = inputs.y[err.row] if inputs.y is not None else -(err.row + 0.5) * dx
    return RunError(f"flood run unstable at t = {err.time_s:.3f} s at x = {x:.2f} m, "
                    f"y = {y:.2f} m (row {err.row}, col {err.col}): depth {err.value!r} m")
