"""The flood forcings and their schedule: what enters the grid over each step, for both time loops.

Rain (a uniform hyetograph or gridded intervals), inflow hydrographs and boundary (edge) levels,
checked on creation, and :class:`ForcingSchedule`, built once per run, which both
:func:`twin.hazards.flood.model.simulate_flood` and :func:`twin.hazards.flood.tiled.simulate_flood_tiled`
ask for the stops (output, gauge, gridded-rain and end times) and, for a step ``[t, t + dt]``,
the rain field and mean intensity, the inflow volumes and the edge arrays. Volumes are exact
integrals of the piecewise-linear series over the step (trapezoid rule, exact for linear
segments). SI units throughout (m, s, m/s, m^3/s, m^3).

Rain on building roofs goes down the downpipes to the nearest open cell (Euclidean distance,
:func:`scipy.ndimage.distance_transform_edt`); rain on cells outside the domain is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import ndimage

from kernels.flood import CLOSED, EAST, FREE, LEVEL, NORTH, SOUTH, WEST
from twin.core.errors import InputError

_EDGES = {"north": NORTH, "south": SOUTH, "east": EAST, "west": WEST}


def _series(times, values, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Check a time series: same length, at least one point, strictly increasing times."""
    t = np.asarray(times, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if t.ndim != 1 or t.shape != v.shape[:1] or t.size < 1:
        raise InputError(f"{what}: times and values must be 1-D of the same length",
                         expected="equal lengths >= 1", found=f"{t.shape} and {v.shape}")
    if np.any(np.diff(t) <= 0) or not np.all(np.isfinite(v)):
        raise InputError(f"{what}: times must increase strictly and values be finite")
    return t, v


def cumulative_series(times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Integral of a piecewise-linear series from ``times[0]`` to each time (trapezoid rule).

    Parameters
    ----------
    times : ndarray (nt,)
        Times (s), strictly increasing.
    values : ndarray (nt,)
        Values at those times (e.g. m/s or m^3/s).

    Returns
    -------
    ndarray (nt,)
        ``sum_j 0.5 (v_j + v_j+1) (t_j+1 - t_j)`` up to each time (value times s).
    """
    return np.concatenate([[0.0], np.cumsum(0.5 * (values[1:] + values[:-1]) * np.diff(times))])


def series_integral(times: np.ndarray, cum: np.ndarray, values: np.ndarray, t0: float, t1: float) -> float:
    """Exact integral over [t0, t1] (s) of a series linear between ``times`` and zero outside them.

    ``cum`` is :func:`cumulative_series` of the series; inside a segment the value is
    interpolated linearly and the partial segment integrated by the trapezoid rule.
    """
    def upto(t):
        if t <= times[0]:
            return 0.0
        if t >= times[-1]:
            return float(cum[-1])
        k = int(np.searchsorted(times, t, side="right")) - 1
        v_t = values[k] + (values[k + 1] - values[k]) * (t - times[k]) / (times[k + 1] - times[k])
        return float(cum[k] + 0.5 * (values[k] + v_t) * (t - times[k]))
    return upto(t1) - upto(t0)


@dataclass(frozen=True)
class UniformRain:
    """Rain the same everywhere: a hyetograph linear between ``times`` and zero outside them.

    Attributes
    ----------
    times : ndarray (nt,)
        Times (s), strictly increasing.
    rates : ndarray (nt,)
        Intensity (m/s) at those times, >= 0.
    """

    times: np.ndarray
    rates: np.ndarray

    def __post_init__(self):
        t, v = _series(self.times, self.rates, "rain")
        if np.any(v < 0):
            raise InputError("rain: intensities must be >= 0 m/s")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "rates", v)


@dataclass(frozen=True)
class GriddedRain:
    """Rain per cell, constant over each interval: ``rates[k]`` on ``[times[k], times[k+1])``.

    Attributes
    ----------
    times : ndarray (nt + 1,)
        Interval edges (s), strictly increasing; no rain before the first or after the last.
    rates : ndarray (nt, ny, nx)
        Intensity (m/s), >= 0.
    """

    times: np.ndarray
    rates: np.ndarray

    def __post_init__(self):
        t = np.asarray(self.times, dtype=np.float64)
        r = np.asarray(self.rates, dtype=np.float64)
        if r.ndim != 3 or t.shape != (r.shape[0] + 1,) or np.any(np.diff(t) <= 0):
            raise InputError("gridded rain: need nt + 1 increasing interval edges for nt fields",
                             expected=f"times of length {r.shape[0] + 1 if r.ndim == 3 else '?'}",
                             found=f"times {t.shape}, rates {r.shape}")
        if not np.all(np.isfinite(r)) or np.any(r < 0):
            raise InputError("gridded rain: intensities must be finite and >= 0 m/s")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "rates", r)


@dataclass(frozen=True)
class Inflow:
    """A point or line inflow: a hydrograph shared among cells.

    Attributes
    ----------
    name : str
        Label used in error messages.
    rows, cols : ndarray of int
        Cells receiving the water (open cells).
    weights : ndarray
        Share of each cell (-), summing to 1.
    times : ndarray
        Times (s), strictly increasing.
    discharge : ndarray
        Discharge (m^3/s) at those times, >= 0; linear between, zero outside.
    """

    name: str
    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    times: np.ndarray
    discharge: np.ndarray

    def __post_init__(self):
        t, q = _series(self.times, self.discharge, f"inflow {self.name!r}")
        rows, cols = np.atleast_1d(self.rows).astype(np.int64), np.atleast_1d(self.cols).astype(np.int64)
        w = np.atleast_1d(np.asarray(self.weights, dtype=np.float64))
        if not (rows.shape == cols.shape == w.shape) or rows.size == 0:
            raise InputError(f"inflow {self.name!r}: rows, cols and weights must have the same length")
        if np.any(q < 0) or np.any(w < 0) or abs(w.sum() - 1.0) > 1e-12:
            raise InputError(f"inflow {self.name!r}: discharges and weights must be >= 0, weights sum to 1",
                             expected="sum 1", found=f"sum {w.sum()!r}")
        for name, value in (("rows", rows), ("cols", cols), ("weights", w), ("times", t), ("discharge", q)):
            object.__setattr__(self, name, value)


def check_boundaries(boundaries: dict | None) -> dict:
    """Checked edge specifications: edge name -> ``"closed"``, ``"free"`` or ``(times, levels)``
    arrays (s, m); see :class:`twin.hazards.flood.model.FloodInputs`."""
    bounds = dict(boundaries or {})
    for edge, spec in bounds.items():
        if edge not in _EDGES:
            raise InputError("flood: unknown boundary edge", expected="north, south, east or west",
                             found=repr(edge))
        if isinstance(spec, str):
            if spec not in ("closed", "free"):
                raise InputError(f"flood: boundary {edge}", expected="'closed', 'free' or (times, levels)",
                                 found=repr(spec))
        else:
            bounds[edge] = _series(spec[0], spec[1], f"boundary {edge} level")
    return bounds


def edge_arrays(bounds: dict, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Kernel edge kinds and levels (m) at time ``t`` (s); levels linear in time, held beyond the ends."""
    kind = np.full(4, CLOSED, np.int64)
    level = np.zeros(4)
    for edge, spec in bounds.items():
        i = _EDGES[edge]
        if spec == "free":
            kind[i] = FREE
        elif not isinstance(spec, str):
            kind[i] = LEVEL
            level[i] = np.interp(t, spec[0], spec[1])
    return kind, level


def output_times(duration: float, every: float | None) -> np.ndarray:
    """0, every, 2 every, ... up to ``duration`` (s); empty when ``every`` is None."""
    if every is None:
        return np.array([])
    if every <= 0:
        raise InputError("flood: output intervals must be > 0 s", found=repr(every))
    n = int(np.floor(duration / every + 1e-9))
    return every * np.arange(n + 1)


def roof_routing(blocked: np.ndarray, domain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where roof rain goes: each roof cell and the nearest open cell (flat indices).

    Roofs are blocked cells inside the domain; their rain drains to the nearest open cell
    (Euclidean distance between cell centres; ties broken by scipy).

    Parameters
    ----------
    blocked, domain : ndarray (ny, nx) of bool
        Blocked cells (including outside) and cells inside the domain.

    Returns
    -------
    tuple of ndarray
        ``(roof, target)``: flat indices of roof cells and of the open cell each drains to;
        empty when there are no roofs or no open cells.
    """
    if blocked.size >= 2**31:
        raise InputError("flood: grid too large for 32-bit cell indices", found=f"{blocked.size} cells")
    roof = np.flatnonzero(blocked & domain)
    if roof.size == 0 or blocked.all():
        return roof[:0], roof[:0]
    rows, cols = ndimage.distance_transform_edt(blocked, return_distances=False, return_indices=True)
    target = rows.ravel()[roof] * blocked.shape[1] + cols.ravel()[roof]
    return roof.astype(np.int32), target.astype(np.int32)


def _index(times: np.ndarray, t: float) -> int | None:
    """Index of ``t`` in the increasing ``times``, or None when it is not one of them."""
    k = int(np.searchsorted(times, t))
    return k if k < times.size and times[k] == t else None


class ForcingStep(NamedTuple):
    """The forcings of one step ``[t_end - dt, t_end]``.

    Attributes
    ----------
    t_end : float
        End of the step (s).
    dt : float
        Step length (s).
    rain_rate : float
        Mean rain intensity over the step (m/s); 1 for gridded rain, whose field carries the rate.
    edge_kind : ndarray (4,) of int
        Kernel edge kinds (north, south, east, west) at the step's start.
    edge_level : ndarray (4,)
        Fixed edge levels (m) at the step's start.
    inflow_volumes : list of float
        Volume (m^3) of each inflow over the step.
    """

    t_end: float
    dt: float
    rain_rate: float
    edge_kind: np.ndarray
    edge_level: np.ndarray
    inflow_volumes: list


@dataclass(frozen=True, eq=False)
class ForcingSchedule:
    """The forcings of one run and when the time loop must stop for them (build with :meth:`of`).

    Attributes
    ----------
    duration : float
        Simulated time (s).
    snapshot_times, gauge_times : ndarray
        Times (s) of the depth snapshots and gauge records (from 0; empty for none).
    stops : ndarray
        Times (s) in ``(0, duration]`` a step must end at: outputs, gridded-rain interval edges
        and the end, increasing.
    rain : UniformRain, GriddedRain or None
        The rainfall.
    inflows : tuple of Inflow
        The inflow hydrographs.
    boundaries : dict
        Checked edge specifications (:func:`check_boundaries`).
    blocked : ndarray (ny, nx) of bool
        Blocked cells (rain on them is routed or dropped).
    routing : tuple of ndarray
        Roof cells and their target open cells (:func:`roof_routing`).
    rain_cum : ndarray or None
        Cumulative uniform hyetograph (m, :func:`cumulative_series`); None otherwise.
    inflow_cum : tuple of ndarray
        Cumulative hydrograph (m^3) of each inflow.
    """

    duration: float
    snapshot_times: np.ndarray
    gauge_times: np.ndarray
    stops: np.ndarray
    rain: UniformRain | GriddedRain | None
    inflows: tuple
    boundaries: dict
    blocked: np.ndarray
    routing: tuple
    rain_cum: np.ndarray | None
    inflow_cum: tuple

    @classmethod
    def of(cls, inputs, duration_s: float, snapshot_every_s: float | None = None,
           gauge_every_s: float | None = None) -> ForcingSchedule:
        """The schedule of a run of ``inputs`` (:class:`twin.hazards.flood.model.FloodInputs`) for ``duration_s`` (s) with outputs every
        ``snapshot_every_s`` and ``gauge_every_s`` (s, None for none); InputError on a duration
        that is not > 0 or an interval that is not > 0."""
        if not duration_s > 0:
            raise InputError("flood: duration must be > 0 s", found=repr(duration_s))
        snap_t = output_times(duration_s, snapshot_every_s)
        gauge_t = output_times(duration_s, gauge_every_s)
        rain = inputs.rain
        gridded = isinstance(rain, GriddedRain)
        stops = np.unique(np.concatenate([snap_t, gauge_t, [duration_s]] + ([rain.times] if gridded else [])))
        rain_cum = None if rain is None or gridded else cumulative_series(rain.times, rain.rates)
        return cls(duration_s, snap_t, gauge_t, stops[(stops > 0) & (stops <= duration_s)], rain,
                   inputs.inflows, inputs.boundaries, inputs.blocked,
                   roof_routing(inputs.blocked, inputs.domain), rain_cum,
                   tuple(cumulative_series(f.times, f.discharge) for f in inputs.inflows))

    def rain_weight(self) -> np.ndarray:
        """A new rain multiplier (-) for the kernel, per cell: for uniform rain 1 on open cells
        plus the roofs draining into each (float32, or a zero-stride 1 without roofs or rain);
        for gridded rain zeros (float64) to be filled by :meth:`fill_rain`."""
        shape = self.blocked.shape
        if isinstance(self.rain, GriddedRain):
            return np.zeros(shape)
        if self.rain is not None and self.routing[0].size:
            w = (~self.blocked).astype(np.float32)
            np.add.at(w.reshape(-1), self.routing[1], np.float32(1.0))
            return w
        return np.broadcast_to(np.float32(1.0), shape)     # blocked cells are skipped anyway

    def watched(self) -> np.ndarray:
        """The cells whose net outflow sizes the step (:func:`kernels.flood.stable_timestep`):
        all but the cells of the inflow hydrographs, which pass on each step the water that the
        time loops add after it (bool; a zero-stride True without inflows)."""
        shape = self.blocked.shape
        if not self.inflows:
            return np.broadcast_to(np.True_, shape)
        watched = np.ones(shape, dtype=bool)
        for f in self.inflows:
            watched[f.rows, f.cols] = False
        return watched

    def rain_interval(self, t: float) -> int | None:
        """Index of the gridded-rain interval holding ``t`` (s): -1 before the first, ``nt`` or
        more after the last; None for other rain (its field never changes)."""
        if not isinstance(self.rain, GriddedRain):
            return None
        return int(np.searchsorted(self.rain.times, t, side="right")) - 1

    def fill_rain(self, k: int, out: np.ndarray) -> None:
        """Fill ``out`` with gridded interval ``k``'s rain (m/s), roof rain moved to its target
        cells and zero outside the intervals."""
        roof, target = self.routing
        rates = self.rain.rates
        if k < 0 or k >= rates.shape[0]:
            out.fill(0.0)
            return
        np.multiply(rates[k], ~self.blocked, out=out)
        np.add.at(out.reshape(-1), target, rates[k].reshape(-1)[roof])

    def rain_rate(self, t: float, t_end: float, dt: float) -> float:
        """Mean rain intensity (m/s) over ``[t, t_end]`` of length ``dt`` (s): the exact
        hyetograph integral over ``dt``; 1 for gridded rain (its field carries the rate)."""
        if isinstance(self.rain, GriddedRain):
            return 1.0
        if self.rain_cum is None:
            return 0.0
        return series_integral(self.rain.times, self.rain_cum, self.rain.rates, t, t_end) / dt

    def inflow_volumes(self, t: float, t_end: float) -> list[float]:
        """Volume (m^3) of each inflow over ``[t, t_end]`` (s), integrated exactly."""
        return [series_integral(f.times, cum, f.discharge, t, t_end)
                for f, cum in zip(self.inflows, self.inflow_cum)]

    def step(self, t: float, dt: float, stop: float) -> ForcingStep:
        """The step from ``t`` of ``dt`` (s), ended at ``stop`` (s) if it would reach it, and its
        forcings (boundary levels at ``t``, rain and inflow integrated over the step)."""
        t_end = stop if t + dt >= stop else t + dt
        dt = t_end - t
        kind, level = edge_arrays(self.boundaries, t)
        return ForcingStep(t_end, dt, self.rain_rate(t, t_end, dt), kind, level,
                           self.inflow_volumes(t, t_end))

    def snapshot_index(self, t: float) -> int | None:
        """Index of ``t`` (s) among the snapshot times, or None."""
        return _index(self.snapshot_times, t)

    def gauge_index(self, t: float) -> int | None:
        """Index of ``t`` (s) among the gauge times, or None."""
        return _index(self.gauge_times, t)

    def ledger_time(self, t: float) -> bool:
        """Whether the ledger over time has a row at ``t`` (s): the start, every gauge time
        and the end of the run."""
        return t == 0.0 or t == self.duration or self.gauge_index(t) is not None
