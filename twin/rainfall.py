"""Reading gridded rainfall (netCDF) onto the twin grid.

The file holds a variable with dims ``(time, y, x)`` in any projected or geographic CRS that
covers the twin. Units are read from the variable's ``units`` attribute: ``mm/h`` (``mm h-1``),
``m s-1``, ``kg m-2 s-1`` (= mm/s of water) or ``mm`` per time step. Values are intensities
over each interval ``[time[k], time[k+1])``; the last interval has the length of the one
before. Regridding is conservative (area-weighted average of the source cells each twin cell
overlaps, ``Resampling.average``) when the source is coarser than the twin, so the
domain-total volume is kept.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from rasterio.enums import Resampling

from twin.errors import InputError
from twin.grid import Grid

#: Factor from each accepted rate unit to m/s ("per_step" units are handled apart).
_RATE_UNITS = {"mm/h": 1e-3 / 3600, "mm h-1": 1e-3 / 3600, "mm hr-1": 1e-3 / 3600, "mm/hr": 1e-3 / 3600,
               "m s-1": 1.0, "m/s": 1.0, "kg m-2 s-1": 1e-3, "mm s-1": 1e-3, "mm/s": 1e-3}
_PER_STEP_UNITS = {"mm": 1e-3, "kg m-2": 1e-3, "m": 1.0}


def _seconds(time: xr.DataArray, file: Path) -> np.ndarray:
    values = time.values
    if np.issubdtype(values.dtype, np.datetime64):
        return (values - values[0]) / np.timedelta64(1, "s")
    if np.issubdtype(values.dtype, np.number):
        return values.astype(np.float64)
    raise InputError("time coordinate is neither datetimes nor numbers of seconds", file=file,
                     found=str(values.dtype))


def read_gridded_rainfall(file: str | Path, variable: str, grid: Grid, scale: float = 1.0
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Read a rainfall netCDF and regrid it onto the twin grid.

    Parameters
    ----------
    file : str or Path
        netCDF with ``variable(time, y, x)`` and a CRS (rioxarray-readable ``grid_mapping`` or
        ``crs``/``spatial_ref`` variable; EPSG:4326 assumed for ``lat``/``lon`` dims without one).
    variable : str
        Variable name.
    grid : Grid
        The twin grid.
    scale : float
        Factor applied to the intensities (e.g. an ensemble member's scaling).

    Returns
    -------
    edges : ndarray (nt + 1,)
        Interval edges (s since the first time).
    rates : ndarray (nt, ny, nx)
        Intensities (m/s), >= 0.

    Raises
    ------
    InputError
        Missing or unreadable file, missing variable, wrong dims, unknown units, negative or
        non-finite values, no CRS, or a grid that does not cover the twin.
    """
    file = Path(file)
    if not file.exists():
        raise InputError("rainfall file not found", file=file)
    try:
        ds = xr.open_dataset(file, decode_coords="all")
    except (OSError, ValueError) as exc:
        raise InputError(f"not a readable netCDF ({exc})", file=file) from None
    with ds:
        if variable not in ds:
            raise InputError("rainfall variable not found", file=file, field=variable,
                             expected=variable, found=", ".join(map(str, ds.data_vars)) or "no variables")
        da = ds[variable]
        if "lat" in da.dims and "lon" in da.dims:
            da = da.rename({"lat": "y", "lon": "x"})
        if da.dims != ("time", "y", "x"):
            raise InputError("rainfall must have dims (time, y, x)", file=file, field=variable,
                             expected="(time, y, x)", found=str(da.dims))
        if da.sizes["time"] == 0:
            raise InputError("rainfall has an empty time axis", file=file, field=variable)
        units = str(da.attrs.get("units", "")).strip()
        if units not in _RATE_UNITS and units not in _PER_STEP_UNITS:
            raise InputError("unknown rainfall units", file=file, field=f"{variable}.units",
                             expected=", ".join([*_RATE_UNITS, *_PER_STEP_UNITS]), found=units or "none")
        t = _seconds(da["time"], file)
        if t.size > 1 and np.any(np.diff(t) <= 0):
            raise InputError("rainfall times must increase", file=file, field="time")
        step = float(t[-1] - t[-2]) if t.size > 1 else 3600.0
        edges = np.append(t, t[-1] + step)
        if da.rio.crs is None:
            if "lat" in ds.variables or "lon" in ds.variables or str(ds["x"].attrs.get("units", "")).startswith("degree"):
                da = da.rio.write_crs("EPSG:4326")
            else:
                raise InputError("rainfall has no CRS (grid_mapping)", file=file, field=variable)
        da = da.rio.set_spatial_dims(x_dim="x", y_dim="y").astype(np.float64).load()
        _check_covers(da, grid, file)
        target = _target_like(grid)
        out = da.rio.reproject_match(target, resampling=Resampling.average, nodata=np.nan).values
    if units in _RATE_UNITS:
        rates = out * _RATE_UNITS[units]
    else:
        rates = out * _PER_STEP_UNITS[units] / np.diff(edges)[:, None, None]
    if not np.all(np.isfinite(rates)):
        raise InputError("rainfall does not cover the whole twin, or holds NaN", file=file, field=variable)
    if np.any(rates < 0):
        raise InputError("rainfall has negative values", file=file, field=variable)
    return edges, rates * scale


def _target_like(grid: Grid) -> xr.DataArray:
    x, y = grid.cell_centres()
    da = xr.DataArray(np.zeros(grid.shape), dims=("y", "x"), coords={"x": x, "y": y})
    return da.rio.write_crs(grid.crs).rio.write_transform(grid.transform)


def _check_covers(da: xr.DataArray, grid: Grid, file: Path) -> None:
    from rasterio.warp import transform_bounds

    w, s, e, n = transform_bounds(grid.crs, da.rio.crs, *grid.bounds(), densify_pts=21)
    sw, ss, se, sn = da.rio.bounds()
    if w < sw or e > se or s < ss or n > sn:
        raise InputError("rainfall grid does not cover the twin", file=file,
                         expected=f"bounds covering ({w:.4f}, {s:.4f}, {e:.4f}, {n:.4f})",
                         found=f"({sw:.4f}, {ss:.4f}, {se:.4f}, {sn:.4f})")
