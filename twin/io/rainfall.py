"""Reading gridded rainfall and rainfall ensemble forecasts (netCDF) onto the twin grid.

A rainfall file holds one variable with dims ``(time, y, x)`` or ``(member, time, y, x)``
(any order; the spatial dims may be named ``y``/``x``, ``lat``/``lon`` or
``latitude``/``longitude``, the member dim ``member``, ``realization``, ``ensemble`` or
``number``), on a rectilinear grid (1-D coordinates, regular or not) in any CRS that covers the
twin: a CF ``grid_mapping`` that rioxarray reads, or none for ``lat``/``lon`` grids, taken as
EPSG:4326.

Values are intensities over time intervals. With CF time bounds (``time:bounds``) the intervals
are the bounds (they must be contiguous); without them ``time[k]`` is the start of interval
``k`` and the last interval has the length of the one before. Units (the variable's ``units``)
are converted to m/s: a rate (``mm h-1``, ``mm/h``, ``mm s-1``, ``m s-1``, ``kg m-2 s-1``;
1 kg m-2 of water is 1 mm) or an amount per interval (``mm``, ``kg m-2``, ``m``), divided by the
interval's length.

Regridding is the conservative (area-weighted) remap of :mod:`twin.core.remap` (first-order,
Jones 1999, Mon. Wea. Rev. 127, 2204-2210, overlaps estimated by sub-cell counting). It is
computed once per source grid and twin grid (:func:`twin.core.remap.cached_remap`, keyed by the
coordinates and CRS read from the file, not by its name) and reused for every member and time;
only the source window over the twin is read from the file.

:func:`read_forecast` checks the whole file before anything runs, so that a bad forecast is one
:class:`~twin.core.errors.InputError` at once rather than a failure per member at run time: known
units, at least one time, interval edges finite and strictly increasing, and every value of every
member, time and cell (not only those over a twin) finite, >= 0 and at most
:func:`max_mean_intensity_mm_h` of its interval. The values are read once, in blocks of whole
on-disk chunks, and checked with array operations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyproj
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from rasterio.crs import CRS
from rasterio.errors import CRSError

from twin.core.errors import InputError
from twin.core.grid import Grid
from twin.core.limits import MAX_RAIN_MM_H
from twin.core.remap import Remap, cached_remap

_MM_H = 1e-3 / 3600.0
#: Factor from each accepted rate unit to m/s.
RATE_UNITS = {"mm h-1": _MM_H, "mm/h": _MM_H, "mm hr-1": _MM_H, "mm/hr": _MM_H, "mm hour-1": _MM_H,
              "mm s-1": 1e-3, "mm/s": 1e-3, "m s-1": 1.0, "m/s": 1.0, "kg m-2 s-1": 1e-3}
#: Factor from each accepted per-interval amount unit to metres of water.
AMOUNT_UNITS = {"mm": 1e-3, "kg m-2": 1e-3, "m": 1.0}

_MEMBER_DIMS = ("member", "realization", "ensemble", "number")
_X_DIMS = ("x", "lon", "longitude")
_Y_DIMS = ("y", "lat", "latitude")
#: Most rain (mm) accepted in one hour, and so the bound on the mean intensity (mm/h) over an
#: interval of an hour or more (a longer interval's mean is at most its wettest hour's). The
#: largest 1-h fall on record is 305 mm (Holt, Missouri, 22 June 1947, in 42 min; WMO Archive of
#: Weather and Climate Extremes); 500 mm is 1.6 times that, while the usual errors (mm taken for
#: m, per second for per hour, fill values such as 9.97e36) are orders of magnitude above it.
MAX_HOURLY_RAIN_MM = 500.0
#: Exponent of the world-record depth-duration envelope, depth ~ D**0.475 (Jennings 1950,
#: Mon. Wea. Rev. 78, 4-5; Paulhus 1965, Mon. Wea. Rev. 93, 331-335: 422 mm D[h]**0.475).
RECORD_DEPTH_EXPONENT = 0.475
#: Values read at once by the value checks (bounds the temporary memory).
_CHECK_BLOCK_VALUES = 1 << 24
#: Characters of a member label (from the file) echoed in an error.
_LABEL_CHARS = 40


def max_mean_intensity_mm_h(interval_s: np.ndarray | float) -> np.ndarray:
    """Plausibility bound (mm/h) on the mean rain intensity over intervals of the given length.

    :data:`MAX_HOURLY_RAIN_MM` per hour for intervals of an hour or more. A shorter interval
    may hold a higher mean (a burst inside the hour): below an hour the bound follows the
    world-record envelope, depth ~ D**:data:`RECORD_DEPTH_EXPONENT` through 500 mm in 1 h
    (intensity ~ D**-0.525), up to :data:`twin.core.limits.MAX_RAIN_MM_H`, the bound on an
    instantaneous intensity (reached at about 3 min). Every record stays below it: 31.2 mm in
    1 min (Unionville, Maryland, 1956) against 2500 mm/h, 305 mm in 42 min against 603 mm/h,
    1825 mm in 24 h (Foc-Foc, La Reunion, 1966) against 500 mm/h.

    Parameters
    ----------
    interval_s : float or ndarray
        Interval length (s), > 0.

    Returns
    -------
    ndarray
        The bound (mm/h), same shape as ``interval_s``.
    """
    hours = np.minimum(1.0, np.asarray(interval_s, dtype=np.float64) / 3600.0)
    return np.minimum(MAX_RAIN_MM_H, MAX_HOURLY_RAIN_MM * hours ** (RECORD_DEPTH_EXPONENT - 1.0))


def _normalise_units(units: str) -> str:
    return " ".join(units.replace("**", "").replace("^", "").split())


@dataclass(frozen=True)
class Forecast:
    """A rainfall file's metadata; values are read per member, regridded onto a twin grid.

    Attributes
    ----------
    file : Path
        The netCDF file.
    variable : str
        The rainfall variable.
    members : ndarray (nm,)
        Member labels (``[0]`` when the file has no member dim).
    edges : ndarray (nt + 1,)
        Interval edges (s since the start of the first interval).
    start : numpy.datetime64 or None
        Start of the first interval when times are CF datetimes.
    units : str
        The variable's units as written in the file.
    crs : rasterio.crs.CRS
        Source CRS.
    x, y : ndarray
        Source cell-centre coordinates along the x and y dims (CRS units), strictly monotonic.
    dims : tuple of str
        File dim names in the order ``(member, time, y, x)``; member is None when absent.
    """

    file: Path
    variable: str
    members: np.ndarray
    edges: np.ndarray
    start: np.datetime64 | None
    units: str
    crs: CRS
    x: np.ndarray
    y: np.ndarray
    dims: tuple[str | None, str, str, str]

    @property
    def n_members(self) -> int:
        """Number of members."""
        return int(self.members.size)

    def remap(self, grid: Grid, supersample: int | None = None) -> Remap:
        """The conservative remap of the source grid onto ``grid`` (:func:`twin.core.remap.cached_remap`).

        Shared by every forecast with the same coordinates and CRS; ``supersample`` as there.

        Raises
        ------
        InputError
            When the source grid does not cover every twin cell.
        """
        return cached_remap(self.x, self.y, self.crs, grid, supersample, file=self.file, field=self.variable,
                            source="rainfall grid")

    def member_rates(self, k: int, grid: Grid, remap: Remap | None = None) -> np.ndarray:
        """Rain intensities of member ``k`` on the twin grid.

        Parameters
        ----------
        k : int
            Member index (0-based position along the member dim, not its label).
        grid : Grid
            The twin grid.
        remap : Remap, optional
            A remap for this grid; default: :meth:`remap` (computed once per grid).

        Returns
        -------
        ndarray (nt, ny, nx)
            Intensity (m/s) over each interval of :attr:`edges`, >= 0 and finite (the values
            were checked by :func:`read_forecast`).

        Raises
        ------
        InputError
            Member out of range, or a grid not covering the twin.
        """
        if not 0 <= k < self.n_members:
            raise InputError("no such rainfall member", file=self.file, field=self.variable,
                             expected=f"0 <= member < {self.n_members}", found=str(k))
        if remap is None:
            remap = self.remap(grid)
        elif remap.shape != grid.shape:
            raise ValueError(f"remap is for a grid of shape {remap.shape}, not {grid.shape}")
        member_dim, time_dim, y_dim, x_dim = self.dims
        index = {y_dim: remap.rows, x_dim: remap.cols}
        if member_dim is not None:
            index[member_dim] = k
        with _open(self.file) as ds:
            window = ds[self.variable].isel(index).transpose(time_dim, y_dim, x_dim).values.astype(np.float64)
        return remap.apply(window * self._to_m_s()[:, None, None])

    def _to_m_s(self) -> np.ndarray:
        """Factor (per interval) from the file's units to m/s."""
        units = _normalise_units(self.units)
        if units in RATE_UNITS:
            return np.full(self.edges.size - 1, RATE_UNITS[units])
        return AMOUNT_UNITS[units] / np.diff(self.edges)


def read_forecast(file: str | Path, variable: str = "rainfall", scale: float = 1.0, *,
                  check_values: bool = True) -> Forecast:
    """Open a rainfall netCDF and check its layout, units, times, CRS and every value.

    Parameters
    ----------
    file : str or Path
        netCDF file (see the module docstring for the accepted layouts).
    variable : str
        Rainfall variable.
    scale : float
        Largest factor (-), > 0, that will be applied to the intensities: the values times
        ``scale`` must stay within the plausibility bound.
    check_values : bool
        False checks everything but the values, without reading them (e.g. for the run budget).

    Returns
    -------
    Forecast

    Raises
    ------
    InputError
        Missing or unreadable file, missing variable, wrong dims, unknown units, empty time axis,
        interval edges not finite or not strictly increasing, non-contiguous time bounds,
        non-monotonic coordinates, no CRS; values (of any member, time or cell) NaN, infinite,
        negative or, times ``scale``, above :func:`max_mean_intensity_mm_h`. A bad value is
        reported with the member, time and position of the first one (in member, then time
        order) and the number of bad values of each kind.
    ValueError
        ``scale`` not finite and > 0.
    """
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be finite and > 0, got {scale}")
    file = Path(file)
    with _open(file) as ds:
        if variable not in ds.data_vars:
            raise InputError("rainfall variable not found", file=file, field=variable, expected=variable,
                             found=", ".join(map(str, ds.data_vars)) or "no variables")
        da = ds[variable]
        dims = _dims(da, file, variable)
        member_dim, time_dim, y_dim, x_dim = dims
        units = str(da.attrs.get("units", "")).strip()
        if _normalise_units(units) not in RATE_UNITS and _normalise_units(units) not in AMOUNT_UNITS:
            raise InputError("unknown rainfall units", file=file, field=f"{variable}.units",
                             expected=", ".join([*RATE_UNITS, *AMOUNT_UNITS]), found=units or "none")
        if da.sizes[time_dim] == 0:
            raise InputError("rainfall has an empty time axis", file=file, field=time_dim)
        edges, start = _time_edges(ds, time_dim, file)
        x, y = (_coordinate(ds, d, file) for d in (x_dim, y_dim))
        try:
            crs = da.rio.crs
        except (CRSError, pyproj.exceptions.CRSError, ValueError) as exc:
            raise InputError(f"rainfall's CRS cannot be read ({exc})", file=file, field=variable,
                             expected="a CF grid_mapping with a valid crs_wkt or spatial_ref") from None
        if crs is None:
            if x_dim == "x" and not str(ds[x_dim].attrs.get("units", "")).startswith("degree"):
                raise InputError("rainfall has no CRS (grid_mapping)", file=file, field=variable,
                                 expected="a CF grid_mapping, or lat/lon coordinates", found="none")
            crs = CRS.from_epsg(4326)
        if member_dim is None:
            members = np.array([0])
        elif member_dim in ds.coords:
            members = ds[member_dim].values
        else:
            members = np.arange(da.sizes[member_dim])
        if members.size == 0:
            raise InputError("rainfall has an empty member axis", file=file, field=member_dim)
        forecast = Forecast(file, variable, members, edges, start if isinstance(start, np.datetime64) else None,
                            units, crs, x, y, dims)
        if check_values:
            _check_values(da, forecast, start, scale)
    return forecast


def read_gridded_rainfall(file: str | Path, variable: str, grid: Grid, scale: float = 1.0,
                          member: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read one rainfall field series (a scenario's gridded rain) onto the twin grid.

    Parameters
    ----------
    file : str or Path
        netCDF file (see the module docstring).
    variable : str
        Rainfall variable.
    grid : Grid
        The twin grid.
    scale : float
        Factor (-) applied to the intensities.
    member : int, optional
        Member index; required when the file holds more than one member.

    Returns
    -------
    edges : ndarray (nt + 1,)
        Interval edges (s since the start of the first interval).
    rates : ndarray (nt, ny, nx)
        Intensities (m/s), >= 0.

    Raises
    ------
    InputError
        As :func:`read_forecast` (every member checked, with ``scale``) and
        :meth:`Forecast.member_rates`, and for a file of several members without ``member``.
    """
    forecast = read_forecast(file, variable, scale)
    if member is None:
        if forecast.n_members > 1:
            raise InputError(f"rainfall file holds {forecast.n_members} ensemble members; pick one",
                             file=file, field=variable, expected="a member index", found="none")
        member = 0
    return forecast.edges, forecast.member_rates(member, grid) * scale


def _open(file: Path) -> xr.Dataset:
    if not file.exists():
        raise InputError("rainfall file not found", file=file)
    try:
        return xr.open_dataset(file, decode_coords="all")
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"not a readable netCDF ({type(exc).__name__}: {exc})".splitlines()[0], file=file) from None


def _dims(da: xr.DataArray, file: Path, variable: str) -> tuple[str | None, str, str, str]:
    def pick(names):
        found = [d for d in da.dims if d in names]
        return found[0] if len(found) == 1 else None

    member, x, y = pick(_MEMBER_DIMS), pick(_X_DIMS), pick(_Y_DIMS)
    known = {member, "time", y, x} - {None}
    if "time" not in da.dims or x is None or y is None or set(da.dims) != known:
        raise InputError("rainfall has wrong dims", file=file, field=variable,
                         expected="(time, y, x) or (member, time, y, x)", found=str(tuple(da.dims)))
    return member, "time", y, x


def _coordinate(ds: xr.Dataset, dim: str, file: Path) -> np.ndarray:
    if dim not in ds.coords:
        raise InputError("rainfall has no coordinate variable for a spatial dim", file=file, field=dim)
    c = np.asarray(ds[dim].values, dtype=np.float64)
    step = np.diff(c)
    if c.size < 2 or not np.all(np.isfinite(c)) or not (np.all(step > 0) or np.all(step < 0)):
        raise InputError("rainfall coordinate must hold at least two strictly monotonic values", file=file,
                         field=dim, found=f"{c.size} values")
    return c


def _time_edges(ds: xr.Dataset, dim: str, file: Path) -> tuple[np.ndarray, object]:
    """Interval edges (s since the first start; finite, strictly increasing) and the first start as in the file."""
    bounds_name = ds[dim].attrs.get("bounds") or ds[dim].encoding.get("bounds")
    units = ds[dim].attrs.get("units")
    if bounds_name is not None and bounds_name in ds.variables:
        b = ds[bounds_name].values
        if b.ndim != 2 or b.shape[1] != 2:
            raise InputError("time bounds must have shape (time, 2)", file=file, field=bounds_name,
                             found=str(b.shape))
        start = b[0, 0]
        lower, upper = _seconds(b[:, 0], start, file, units), _seconds(b[:, 1], start, file, units)
        _check_finite_times(np.column_stack([lower, upper]), file, bounds_name)
        if not np.allclose(upper[:-1], lower[1:], rtol=0, atol=1e-6):
            raise InputError("time bounds are not contiguous", file=file, field=bounds_name)
        edges, field = np.append(lower, upper[-1]), bounds_name
    else:
        t = ds[dim].values
        if t.size < 2:
            raise InputError("one time without bounds: interval length unknown", file=file, field=dim,
                             expected="time bounds (time:bounds) or at least two times", found="1 time")
        start = t[0]
        s = _seconds(t, start, file, units)
        _check_finite_times(s, file, dim)
        edges, field = np.append(s, 2 * s[-1] - s[-2]), dim
    back = np.flatnonzero(np.diff(edges) <= 0)
    if back.size:
        k = back[0]
        raise InputError("rainfall times must increase strictly", file=file, field=field,
                         expected="each interval ending after it starts",
                         found=f"interval {k} (time index {k}) from {_time_text(start, edges[k])} to "
                               f"{_time_text(start, edges[k + 1])}; {back.size} such interval(s)")
    return edges, start


def _check_finite_times(seconds: np.ndarray, file: Path, field: str) -> None:
    """Refuse NaN or NaT times; ``seconds`` is (nt,) or (nt, 2), one row per time."""
    bad = ~np.isfinite(seconds)
    if bad.any():
        k = int(np.argwhere(bad)[0][0])
        raise InputError("rainfall times must be finite", file=file, field=field, expected="no NaN or NaT",
                         found=f"{int(bad.sum())} missing, the first at time index {k}")


def _time_text(start, seconds: float) -> str:
    """The time ``seconds`` after ``start`` (a file's first time): ISO 8601 for dates, else seconds."""
    if isinstance(start, np.datetime64):
        return np.datetime_as_string(start + np.timedelta64(round(seconds * 1e3), "ms"), unit="s")
    if hasattr(start, "isoformat"):                                   # cftime dates
        return (start + timedelta(seconds=float(seconds))).isoformat()
    return f"{float(start) + seconds:g} s"


#: Units under which plain numbers of a time axis are read as seconds (no reference date).
SECONDS_UNITS = ("s", "sec", "second", "seconds")


def _seconds(values: np.ndarray, start, file: Path, units: str | None) -> np.ndarray:
    if np.issubdtype(values.dtype, np.datetime64):
        return (values - start) / np.timedelta64(1, "s")
    if np.issubdtype(values.dtype, np.number):
        if str(units).strip().lower() not in SECONDS_UNITS:
            raise InputError("time values are plain numbers without CF units", file=file, field="time.units",
                             expected="'hours since 2026-11-25 00:00' (any CF unit and date), or 's'",
                             found=repr(units) if units is not None else "none")
        return (values - start).astype(np.float64)
    if values.dtype == object and hasattr(start, "year"):            # cftime dates (non-standard calendars)
        return np.array([(v - start).total_seconds() for v in values], dtype=np.float64)
    raise InputError("time is neither CF datetimes nor numbers of seconds", file=file, field="time",
                     found=str(values.dtype))


class _BadValues:
    """Counts of each kind of bad value over the blocks of a file, and the first one found.

    Parameters
    ----------
    limit : ndarray (nt,)
        Largest accepted value per time, in the file's units (the scale applied).
    """

    #: Kind of bad value -> the error message when the first bad value is of that kind.
    KINDS = {"NaN": "rainfall has NaN (missing) values", "inf": "rainfall has infinite values",
             "negative": "rainfall has negative values",
             "above the bound": "rainfall has values above the plausibility bound"}

    def __init__(self, limit: np.ndarray):
        self.limit = limit
        self.counts = dict.fromkeys(self.KINDS, 0)
        self.first: tuple[tuple[int, ...], str, float] | None = None      # (member, time, y, x), kind, value

    def add(self, block: np.ndarray, offset: tuple[int, ...]) -> None:
        """Tally ``block`` (member, time, y, x), whose first value is at ``offset`` in the file."""
        finite = np.isfinite(block)
        limit = self.limit[offset[1]:offset[1] + block.shape[1], None, None]
        masks = dict(zip(self.KINDS, (np.isnan(block), np.isinf(block), finite & (block < 0),
                                      finite & (block > limit))))
        bad = np.zeros(block.shape, dtype=bool)
        for kind, mask in masks.items():
            self.counts[kind] += int(np.count_nonzero(mask))
            bad |= mask
        if not bad.any():
            return
        at = np.unravel_index(np.argmax(bad), block.shape)
        position = tuple(int(o + i) for o, i in zip(offset, at))
        if self.first is None or position < self.first[0]:
            kind = next(k for k, mask in masks.items() if mask[at])
            self.first = position, kind, float(block[at])

    def error(self, forecast: Forecast, start, scale: float) -> InputError:
        """The InputError: the counts and where the first bad value is in the message, the value as found."""
        (m, t, j, i), kind, value = self.first
        member_dim, _, y_dim, x_dim = forecast.dims
        label = str(forecast.members[m])
        label = label if len(label) <= _LABEL_CHARS else label[:_LABEL_CHARS] + "…"
        where = (f"member {m} (label {label}), " if member_dim is not None else "") + (
            f"time {_time_text(start, forecast.edges[t])} (index {t}), {y_dim} {forecast.y[j]:.6g}, "
            f"{x_dim} {forecast.x[i]:.6g}")
        tally = ", ".join(f"{n} {k}" for k, n in self.counts.items() if n)
        interval = float(forecast.edges[t + 1] - forecast.edges[t])
        found = {"nan": "NaN", "inf": "+inf"}.get(f"{value:.6g}", f"{value:.6g}") + f" {forecast.units}"
        if kind == "above the bound":
            found += f" = {value * forecast._to_m_s()[t] / _MM_H * scale:.6g} mm/h" + (
                f" with scale {scale:g}" if scale != 1 else "")
        return InputError(f"{self.KINDS[kind]}: {sum(self.counts.values())} bad value(s) in all ({tally}), "
                          f"the first at {where}", file=forecast.file, field=forecast.variable,
                          expected=f"finite values >= 0, at most {max_mean_intensity_mm_h(interval):.4g} mm/h "
                                   f"over this {interval:g}-s interval", found=found)


def _check_values(da: xr.DataArray, forecast: Forecast, start, scale: float) -> None:
    """Refuse NaN, infinite, negative or implausibly large values (times ``scale``) anywhere in ``da``."""
    limit = max_mean_intensity_mm_h(np.diff(forecast.edges)) * _MM_H / (forecast._to_m_s() * scale)
    bad = _BadValues(limit)
    for offset, block in _blocks(da, forecast.dims):
        bad.add(block, offset)
    if bad.first is not None:
        raise bad.error(forecast, start, scale)


def _blocks(da: xr.DataArray, dims: tuple[str | None, str, str, str]):
    """Yield ``(offset, values)``: all of ``da`` once, in blocks of whole on-disk chunks along its
    first dim, each as (member, time, y, x) with its offset in the file along those dims."""
    outer = da.dims[0]
    n = da.sizes[outer]
    chunk = (da.encoding.get("chunksizes") or (1,))[0]
    step = max(chunk, _CHECK_BLOCK_VALUES // (da.size // n) // chunk * chunk)
    order = [d for d in dims if d is not None]
    for a in range(0, n, step):
        block = da.isel({outer: slice(a, a + step)}).transpose(*order).values
        yield tuple(a if d == outer else 0 for d in dims), (block if dims[0] is not None else block[None])
