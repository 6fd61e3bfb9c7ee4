"""The fire time model: twin arrays, wind, moisture and ignitions in; arrival times and maps out.

Per cell, one of three spread models applies:

* **Vegetation** (a burnable fuel model, no building): Rothermel surface fire
  (:mod:`kernels.fire`). Wind and slope act as vectors: the mid-flame wind
  U = ``wind_adjustment_factor`` x the 10-m wind, along the downwind direction, and the slope
  factor phi_S = 5.275 beta^-0.3 tan^2(phi) along the steepest upslope direction, with tan(phi)
  the magnitude of the elevation gradient (central differences). The head fire runs along their
  sum (:func:`kernels.fire.head_fire`); its ellipse has the Anderson (1983) length-to-breadth ratio
  of the limited effective wind. Rates are along the slope surface, and the arrival solver
  measures edge lengths along the terrain.
* **Built-up** (building cells, and road / urban-open cells within ``urban_max_gap_m / 2`` of a
  building, i.e. the gaps between close buildings): Hamada's downwind, side and upwind speeds
  (:func:`kernels.fire.hamada_spread_rates`) with the 10-m wind V and local block parameters
  from a moving window of ``hamada_window_m``:

  - a = sqrt(mean footprint area) of the buildings whose footprint centroid lies in the window
    (all buildings' mean where none does);
  - d = a (1 / sqrt(rho) - 1), rho the built-up (building plan) fraction of the window: the
    spacing of a square lattice of square buildings of side a with plan fraction
    rho = a^2 / (a + d)^2 -- our assumption of a regular layout, which turns the building
    coverage ratio the twin knows into Hamada's mean separation;
  - f = mean over the window's building cells of
    :data:`twin.core.classes.FIRE_RESISTANT_SHARE_BY_USE` by building use (unknown use: residential).

* **Non-burnable**: everything else (water, bare ground, wide roads and open urban land with no
  building near, cells of fuel model 0 or 91-99). Such cells stop the fire, except by spotting.

Wind may vary in time, as a piecewise-constant series (``wind_times_s`` gives the start of each
piece). The arrival-time solver is restarted at each change: cells burned by the change keep
their times, and every burned cell is a source again at the change time under the new rates.
The progress made by the fire along the stencil edges leaving the front before the change is
dropped, so arrival times after a change are late by at most the travel time of one stencil edge
(up to sqrt(13) cells long with the 32-direction stencil). Spotting
(optional, :mod:`kernels.spotting`) is done in generations within each wind period: cells that
ignite release firebrands once; spot fires that land before the fire arrives become new sources
and the period is solved again, until no new spot fire appears or ``max_generations`` is reached.

Times are seconds from the start of the scenario; arrival times are NaN where the fire does not
arrive within the duration.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import ndimage

from kernels.arrival import arrival_time, ellipse_rates
from kernels.fire import (fireline_intensity, hamada_spread_rates, head_fire, length_to_breadth,
                          surface_fire_base)
from kernels.fuel_models import check_fuel_models
from kernels.spotting import spot_fires
from twin.core.classes import BUILDING_USE, FIRE_RESISTANT_SHARE_BY_USE, LANDCOVER
from twin.core.errors import InputError, RunError

#: Factor from the 10-m wind to the mid-flame wind: a 20-ft (6.1 m) wind adjustment factor of
#: 0.4 divided by the 1.15 ratio of 10-m to 20-ft wind speed (Turner & Lawson 1978). 0.4 is the
#: value Rothermel (1983, USDA INT-143) tabulates for unsheltered shallow surface fuels (0.3 for
#: partially sheltered, 0.1-0.2 for fully sheltered); set the factor for the site.
DEFAULT_WIND_ADJUSTMENT = 0.4 / 1.15


@dataclass(frozen=True)
class SpottingOptions:
    """Firebrand spotting parameters (see :func:`kernels.spotting.spot_fires`).

    Attributes
    ----------
    brands_per_cell : float
        Mean number of brands released per source cell (1).
    median_distance_m : float
        Median landing distance (m).
    sigma_log : float
        Standard deviation of the log landing distance (1).
    lateral_sd_deg : float
        Standard deviation of the landing direction about downwind (degrees).
    ignition_probability : float
        Probability that a brand landing on a burnable cell ignites it (1).
    delay_s : float
        Time from the source's ignition to the spot fire's (s).
    min_intensity_w_m : float
        Vegetation cells release brands only at or above this fireline intensity (W/m); burning
        building cells always do.
    max_generations : int
        Most spotting generations per wind period.
    """

    brands_per_cell: float
    median_distance_m: float
    sigma_log: float = 0.5
    lateral_sd_deg: float = 15.0
    ignition_probability: float = 0.1
    delay_s: float = 120.0
    min_intensity_w_m: float = 4000.0
    max_generations: int = 10


@dataclass(frozen=True)
class FireInputs:
    """Everything a fire run needs, as arrays on the twin's grid (row 0 north, square cells).

    Attributes
    ----------
    fuel_model : ndarray (ny, nx) of int
        Fuel model numbers (1-13, 101-204 burnable; 91-99 non-burnable; 0 outside the domain).
    elevation : ndarray (ny, nx)
        Terrain elevation (m).
    building_id, building_use, building_height : ndarray (ny, nx)
        Building identifier (0 none), use code (:data:`twin.core.classes.BUILDING_USE`) and height (m);
        the height is carried for the outputs and is not used by the spread models.
    landcover : ndarray (ny, nx) of int
        Land-cover codes (:data:`twin.core.classes.LANDCOVER`).
    dx : float
        Cell size (m).
    wind_speed : float or sequence of float
        Wind speed at 10 m (m/s), constant or one value per wind period.
    wind_from_deg : float or sequence of float
        Direction the wind blows from (degrees clockwise from north), likewise.
    moisture : sequence of 5 float
        Fuel moisture (fraction, 1): dead 1-h, 10-h, 100-h, live herbaceous, live woody.
    ignitions : sequence of (rows, cols, time_s)
        Each entry ignites the cells (rows[i], cols[i]) at ``time_s`` (s); rows and cols may be
        ints or sequences.
    wind_times_s : sequence of float, optional
        Start time (s) of each wind period, the first 0, increasing; None for a constant wind.
    wind_adjustment_factor : float
        Mid-flame / 10-m wind speed ratio (1); see :data:`DEFAULT_WIND_ADJUSTMENT`.
    spotting : SpottingOptions, optional
        Spotting parameters; None disables spotting.
    hamada_window_m : float
        Side of the moving window for Hamada's a, d, f (m).
    urban_max_gap_m : float
        Widest gap between buildings that urban fire crosses without spotting (m).
    wind_limit : str
        Effective-wind limit of the Rothermel model ("rothermel1972", "andrews2013", "none").
    n_directions : int
        Stencil of the arrival-time solver (16 or 32).
    fire_resistant_share : ndarray (ny, nx), optional
        Fire-resistant share (1, 0-1) of the building on each footprint cell in place of its use's
        (NaN: the use's, :data:`twin.core.classes.FIRE_RESISTANT_SHARE_BY_USE`); None: the uses'
        everywhere. A fire-resistant retrofit sets it (:mod:`twin.adaptation`).
    """

    fuel_model: np.ndarray
    elevation: np.ndarray
    building_id: np.ndarray
    building_use: np.ndarray
    building_height: np.ndarray
    landcover: np.ndarray
    dx: float
    wind_speed: float | Sequence[float]
    wind_from_deg: float | Sequence[float]
    moisture: Sequence[float]
    ignitions: Sequence[tuple]
    wind_times_s: Sequence[float] | None = None
    wind_adjustment_factor: float = DEFAULT_WIND_ADJUSTMENT
    spotting: SpottingOptions | None = None
    hamada_window_m: float = 150.0
    urban_max_gap_m: float = 16.0
    wind_limit: str = "rothermel1972"
    n_directions: int = 32
    fire_resistant_share: np.ndarray | None = None


@dataclass(frozen=True)
class FireResult:
    """Result of one fire run.

    Attributes
    ----------
    arrival_time : ndarray (ny, nx)
        Time the fire reached each cell (s); NaN where it did not within the duration.
    burned : ndarray (ny, nx) of bool
        Reached within the duration.
    rate_of_spread : ndarray (ny, nx)
        Head-fire rate of spread (m/s) under the wind in force when the cell ignited (the first
        period's wind for unreached cells); Hamada's downwind speed on built-up cells; 0 on
        non-burnable cells.
    fireline_intensity : ndarray (ny, nx)
        Byram head-fire intensity (W/m) on vegetation cells; NaN elsewhere.
    snapshot_times : ndarray
        Times of the burned-area snapshots (s): 0, every ``snapshot_every_s``, and the duration.
    burned_snapshots : ndarray (n_times, ny, nx) of bool
        Burned area at each snapshot time.
    building_ids : ndarray of int
        Identifiers of the buildings in the grid, ascending.
    building_ignition_time : ndarray
        First arrival on each building's footprint (s), NaN if never.
    spot_fires : int
        Number of cells where a spot fire started the burning (not reached earlier by the front).
    wall_time_s : float
        Wall-clock time of the run (s).
    """

    arrival_time: np.ndarray
    burned: np.ndarray
    rate_of_spread: np.ndarray
    fireline_intensity: np.ndarray
    snapshot_times: np.ndarray
    burned_snapshots: np.ndarray
    building_ids: np.ndarray
    building_ignition_time: np.ndarray
    spot_fires: int = 0
    wall_time_s: float = 0.0


def _wind_periods(inputs: FireInputs, duration_s: float):
    """[(start, end, speed, from_deg)] of the wind pieces that start before ``duration_s``."""
    speed = np.atleast_1d(np.asarray(inputs.wind_speed, dtype=np.float64))
    from_deg = np.atleast_1d(np.asarray(inputs.wind_from_deg, dtype=np.float64))
    starts = np.zeros(1) if inputs.wind_times_s is None else np.asarray(inputs.wind_times_s, dtype=np.float64)
    n = starts.size
    if speed.size == 1:
        speed = np.repeat(speed, n)
    if from_deg.size == 1:
        from_deg = np.repeat(from_deg, n)
    if speed.size != n or from_deg.size != n:
        raise InputError("wind series lengths differ", field="wind_speed/wind_from_deg/wind_times_s",
                         expected=f"{n} values", found=f"{speed.size} speeds, {from_deg.size} directions")
    if starts[0] != 0.0 or np.any(np.diff(starts) <= 0.0):
        raise InputError("wind period start times must begin at 0 and increase", field="wind_times_s",
                         found=str(starts.tolist()))
    if not (np.all(np.isfinite(speed)) and np.all(speed >= 0.0) and np.all(np.isfinite(from_deg))):
        raise InputError("wind speed must be finite and >= 0 m/s, direction finite", field="wind_speed")
    ends = np.append(starts[1:], np.inf)
    return [(s, min(e, duration_s), u, d) for s, e, u, d in zip(starts, ends, speed, from_deg) if s < duration_s]


def _validate(inputs: FireInputs, duration_s: float, snapshot_every_s: float):
    """Check shapes and scalar ranges; return the grid shape."""
    shape = np.shape(inputs.fuel_model)
    if len(shape) != 2:
        raise InputError("fuel_model must be a 2-D array", field="fuel_model", found=f"shape {shape}")
    for name in ("elevation", "building_id", "building_use", "building_height", "landcover"):
        if np.shape(getattr(inputs, name)) != shape:
            raise InputError("array shape differs from fuel_model's", field=name,
                             expected=str(shape), found=str(np.shape(getattr(inputs, name))))
    share = inputs.fire_resistant_share
    if share is not None and (np.shape(share) != shape or np.any((np.asarray(share) < 0) | (np.asarray(share) > 1))):
        raise InputError("fire_resistant_share must be on the grid, within 0-1 (NaN: the use's)",
                         field="fire_resistant_share", expected=str(shape), found=str(np.shape(share)))
    if not np.all(np.isfinite(inputs.elevation)):
        raise InputError("elevation has non-finite values", field="elevation")
    checks = [("dx", inputs.dx, inputs.dx > 0),
              ("duration_s", duration_s, duration_s > 0),
              ("snapshot_every_s", snapshot_every_s, snapshot_every_s > 0),
              ("wind_adjustment_factor", inputs.wind_adjustment_factor, 0 < inputs.wind_adjustment_factor <= 1),
              ("urban_max_gap_m", inputs.urban_max_gap_m, inputs.urban_max_gap_m >= 0),
              ("hamada_window_m", inputs.hamada_window_m,
               inputs.hamada_window_m >= max(inputs.urban_max_gap_m, 3 * inputs.dx))]
    for name, value, ok in checks:
        if not ok:
            raise InputError("value out of range", field=name, found=str(value))
    if len(inputs.moisture) != 5:
        raise InputError("moisture needs 5 classes (1-h, 10-h, 100-h, live herb, live woody)",
                         field="moisture", found=f"{len(inputs.moisture)} values")
    try:
        check_fuel_models(np.where(np.asarray(inputs.fuel_model) == 0, 99, inputs.fuel_model))
    except ValueError as err:
        raise InputError(str(err), field="fuel_model") from None
    return shape


def _ignition_start(inputs: FireInputs, shape):
    """Array of ignition times (s), inf where no ignition."""
    start = np.full(shape, np.inf)
    if not inputs.ignitions:
        raise InputError("at least one ignition is needed", field="ignitions")
    for k, (rows, cols, t) in enumerate(inputs.ignitions):
        r, c = np.atleast_1d(np.asarray(rows, dtype=np.int64)), np.atleast_1d(np.asarray(cols, dtype=np.int64))
        if r.shape != c.shape or np.any((r < 0) | (r >= shape[0]) | (c < 0) | (c >= shape[1])):
            raise InputError("ignition cells outside the grid or rows/cols of different lengths",
                             field=f"ignitions[{k}]", expected=f"rows < {shape[0]}, cols < {shape[1]}",
                             found=f"rows {r.tolist()[:5]}, cols {c.tolist()[:5]}")
        if not (np.isfinite(t) and t >= 0):
            raise InputError("ignition time must be finite and >= 0 s", field=f"ignitions[{k}]", found=str(t))
        np.minimum.at(start, (r, c), float(t))
    return start


def _terrain_slope(elevation, dx):
    """Steepest slope (rise/run, 1) and upslope azimuth (rad clockwise from north)."""
    dz_drow, dz_dcol = np.gradient(np.asarray(elevation, dtype=np.float64), dx)
    dz_north, dz_east = -dz_drow, dz_dcol
    return np.hypot(dz_east, dz_north), np.mod(np.arctan2(dz_east, dz_north), 2 * np.pi)


def _window_mean(values, size):
    """Mean over a size x size window, counting only cells inside the grid."""
    inside = ndimage.uniform_filter(np.ones(values.shape), size, mode="constant")
    return ndimage.uniform_filter(values.astype(np.float64), size, mode="constant") / inside


def _hamada_inputs(building_id, building_use, dx, window_m, share_given=None):
    """Hamada's a (m), d (m) and f (1) on every cell (see the module docstring); ``share_given``
    (finite cells) replaces the use's fire-resistant share."""
    bid = np.asarray(building_id)
    building = bid > 0
    if not building.any():
        zeros = np.zeros(bid.shape)
        return zeros, zeros, zeros
    size = max(3, int(round(window_m / dx)) | 1)
    ids, inverse, counts = np.unique(bid[building], return_inverse=True, return_counts=True)
    rows, cols = np.nonzero(building)
    area = counts * dx * dx
    cr = np.rint(np.bincount(inverse, weights=rows) / counts).astype(np.int64)
    cc = np.rint(np.bincount(inverse, weights=cols) / counts).astype(np.int64)
    area_map = np.zeros(bid.shape)
    count_map = np.zeros(bid.shape)
    np.add.at(area_map, (cr, cc), area)
    np.add.at(count_map, (cr, cc), 1.0)
    sum_area = _window_mean(area_map, size)
    n_build = _window_mean(count_map, size)
    # Window sums come from a running-sum filter: an empty window can read +-1e-17, not 0. A window
    # holding at least one building has a mean count of at least 1 / size^2, so test against half that.
    some = n_build > 0.5 / size**2
    mean_area = np.where(some, np.abs(sum_area) / np.where(some, n_build, 1.0), area.mean())
    a = np.sqrt(mean_area)
    rho = _window_mean(building, size)
    built = rho > 0.5 / size**2
    d = np.where(built, a * (1.0 / np.sqrt(np.where(built, rho, 1.0)) - 1.0), np.inf)
    share = np.full(max(BUILDING_USE.values()) + 1, FIRE_RESISTANT_SHARE_BY_USE["residential"])
    for name, code in BUILDING_USE.items():
        share[code] = FIRE_RESISTANT_SHARE_BY_USE[name]
    use = np.clip(np.asarray(building_use, dtype=np.int64), 0, share.size - 1)
    share = share[use]
    if share_given is not None:
        share = np.where(np.isfinite(share_given), share_given, share)
    f_sum = _window_mean(np.where(building, share, 0.0), size)
    f = np.where(built, f_sum / np.where(built, rho, 1.0), 0.0)
    return a, d, np.clip(f, 0.0, 1.0)


class _Setting:
    """The time-invariant per-cell quantities of a run."""

    def __init__(self, inputs: FireInputs):
        fuel = np.asarray(inputs.fuel_model, dtype=np.int64)
        building = np.asarray(inputs.building_id) > 0
        fuel = np.where((fuel == 0) | building, 99, fuel)
        self.base = surface_fire_base(fuel, inputs.moisture, inputs.wind_limit)
        self.vegetation = self.base.spread_rate > 0
        lc = np.asarray(inputs.landcover)
        urban_ground = ((lc == LANDCOVER["road"]) | (lc == LANDCOVER["urban_open"])) & ~self.vegetation
        if building.any():
            gap = ndimage.distance_transform_edt(~building) * inputs.dx
        else:
            gap = np.full(lc.shape, np.inf)
        self.urban = building | (urban_ground & (gap <= 0.5 * inputs.urban_max_gap_m))
        self.building = building
        self.a, self.d, self.f = _hamada_inputs(inputs.building_id, inputs.building_use, inputs.dx,
                                                inputs.hamada_window_m, inputs.fire_resistant_share)
        self.slope, self.upslope = _terrain_slope(inputs.elevation, inputs.dx)


@dataclass(frozen=True)
class _Rates:
    """The per-cell spread rates of one wind period (arrays of the grid's shape).

    Attributes
    ----------
    forward, side, back : numpy.ndarray
        Ray speeds (m/s) along the head direction, perpendicular to it and against it, as
        :func:`kernels.arrival.arrival_time` takes them; 0 on non-burnable cells. ``forward`` is
        also the head fire's rate of spread (m/s).
    azimuth : numpy.ndarray
        Head direction (radians clockwise from north); the downwind direction outside vegetation.
    intensity : numpy.ndarray
        Fireline intensity of the head fire (W/m); NaN outside vegetation.
    """

    forward: np.ndarray
    side: np.ndarray
    back: np.ndarray
    azimuth: np.ndarray
    intensity: np.ndarray


def _rates(s: _Setting, inputs: FireInputs, speed: float, from_deg: float) -> _Rates:
    """The spread rates of every cell under a 10-m wind of ``speed`` (m/s) from ``from_deg``
    (degrees clockwise from north)."""
    downwind = np.deg2rad(from_deg + 180.0)
    hf = head_fire(s.base, inputs.wind_adjustment_factor * speed, downwind, s.slope, s.upslope)
    fwd, side, back = ellipse_rates(hf.rate, length_to_breadth(hf.effective_wind))
    intensity = np.where(s.vegetation, fireline_intensity(s.base.heat_per_unit_area, hf.rate), np.nan)
    azimuth = np.where(s.vegetation, hf.azimuth, downwind)
    u = s.urban
    h_down, h_side, h_up = hamada_spread_rates(s.a[u], s.d[u], s.f[u], speed)
    for arr, val in ((fwd, h_down), (side, h_side), (back, h_up)):
        arr[u] = val
    out = (fwd, side, back)
    for arr in out:
        arr[~(s.vegetation | u)] = 0.0
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise RunError("fire spread rates are negative or not finite")
    return _Rates(forward=fwd, side=side, back=back, azimuth=azimuth, intensity=intensity)


def _spot_generation(s, inputs, rng, t_k, t_end, tk, launched, rates, downwind):
    """Brands from cells newly ignited in [t_k, t_end]; returns the spot fires."""
    opt = inputs.spotting
    eligible = s.building | (s.vegetation & (np.nan_to_num(rates.intensity) >= opt.min_intensity_w_m))
    src = (tk >= t_k) & (tk <= t_end) & ~launched & eligible
    launched |= src
    return spot_fires(np.where(src, tk, np.inf), downwind, rates.forward > 0, inputs.dx, rng,
                      brands_per_cell=opt.brands_per_cell, median_distance=opt.median_distance_m,
                      sigma_log=opt.sigma_log, lateral_sd=np.deg2rad(opt.lateral_sd_deg),
                      ignition_probability=opt.ignition_probability, delay=opt.delay_s)


def simulate_fire(inputs: FireInputs, duration_s: float, snapshot_every_s: float,
                  rng: np.random.Generator | None = None) -> FireResult:
    """Run one fire from ignitions to ``duration_s`` (see the module docstring for the models).

    Parameters
    ----------
    inputs : FireInputs
        Grids, weather and ignitions.
    duration_s : float
        Simulated time (s).
    snapshot_every_s : float
        Interval of the burned-area snapshots (s).
    rng : numpy.random.Generator, optional
        Randomness for spotting; required when ``inputs.spotting`` is set.

    Returns
    -------
    FireResult
        Arrival times (s, NaN where not reached), burned mask, head rates (m/s), fireline
        intensity (W/m), snapshots, building ignition times (s) and the wall time (s).

    Raises
    ------
    InputError
        Inconsistent shapes, out-of-range values, unknown fuel models, bad ignitions or wind.
    RunError
        Non-finite or negative spread rates.
    """
    t_start = time.perf_counter()
    shape = _validate(inputs, duration_s, snapshot_every_s)
    if inputs.spotting is not None and rng is None:
        raise InputError("spotting needs a numpy Generator", field="rng")
    pending = _ignition_start(inputs, shape)
    periods = _wind_periods(inputs, duration_s)
    setting = _Setting(inputs)
    arrival = np.full(shape, np.inf)
    head = intensity = None
    launched = np.zeros(shape, dtype=bool)
    ignition_start = pending.copy()
    for k, (t_k, t_end, speed, from_deg) in enumerate(periods):
        rates = _rates(setting, inputs, speed, from_deg)
        if k == 0:
            head, intensity = rates.forward.copy(), rates.intensity.copy()
        burned_before = arrival <= t_k
        start = np.where(burned_before, t_k, np.where(pending >= t_k, pending, np.inf))
        generations = 0 if inputs.spotting is None else inputs.spotting.max_generations
        for gen in range(generations + 1):
            tk = arrival_time(start, rates.forward, rates.side, rates.back, rates.azimuth, inputs.dx,
                              elevation=inputs.elevation, t_max=t_end, n_directions=inputs.n_directions)
            if gen == generations:
                break
            spots = _spot_generation(setting, inputs, rng, t_k, t_end, tk, launched, rates,
                                     np.deg2rad(from_deg + 180.0))
            earlier = spots.times < np.minimum(tk[spots.rows, spots.cols], pending[spots.rows, spots.cols])
            r, c, t = spots.rows[earlier], spots.cols[earlier], spots.times[earlier]
            np.minimum.at(pending, (r, c), t)
            in_period = t <= t_end
            if not in_period.any():
                break
            np.minimum.at(start, (r[in_period], c[in_period]), t[in_period])
        new = (tk <= t_end) & ~burned_before
        arrival[new] = tk[new]
        if k > 0:
            head[new], intensity[new] = rates.forward[new], rates.intensity[new]
    burned = arrival <= duration_s
    n_spots = int(np.count_nonzero(burned & (pending == arrival) & (ignition_start != arrival)))
    arrival = np.where(burned, arrival, np.nan)
    snap_t = np.unique(np.append(np.arange(0.0, duration_s, snapshot_every_s), duration_s))
    snaps = np.stack([np.nan_to_num(arrival, nan=np.inf) <= t for t in snap_t])
    bid = np.asarray(inputs.building_id)
    ids = np.unique(bid[bid > 0])
    first = ndimage.minimum(np.nan_to_num(arrival, nan=np.inf), labels=bid, index=ids) if ids.size else np.zeros(0)
    first = np.where(np.isfinite(first), first, np.nan)
    return FireResult(arrival_time=arrival, burned=burned, rate_of_spread=head,
                      fireline_intensity=intensity, snapshot_times=snap_t, burned_snapshots=snaps,
                      building_ids=ids, building_ignition_time=np.asarray(first, dtype=np.float64),
                      spot_fires=n_spots, wall_time_s=time.perf_counter() - t_start)
