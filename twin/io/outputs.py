"""Writing result datasets: CF-1.8 netCDF with CRS, Cloud-Optimized GeoTIFF, CSV tables.

Variable attributes come from the fields' declarations (:mod:`twin.core.fields`), global attributes,
the time coordinate and the coordinates' encoding from :mod:`twin.core.cf`. Every file is written
under a temporary name and renamed into place.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr

from twin.core.atomic import atomic_path
from twin.core.cf import TIME_BOUNDS, as_written, global_attrs, snapshot_times
from twin.core.fields import FieldRegistry


def result_dataset(twin: xr.Dataset, fields: dict[str, np.ndarray], declared: FieldRegistry, attrs: dict,
                   series: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
                   start: datetime | None = None) -> xr.Dataset:
    """A result Dataset on the twin's grid, with the fields' declared attributes and the twin's CRS.

    Parameters
    ----------
    twin : xarray.Dataset
        The CityTwin (for coordinates and CRS).
    fields : dict
        Declared field name -> ``(ny, nx)`` array.
    declared : FieldRegistry
        The declarations of the fields (a hazard's fields, or a risk spec's).
    attrs : dict
        Global attributes: ``title`` and ``source`` (the model), optionally ``references``, and
        any others (scenario name, hazard, members, ...); the CF ones are completed by
        :func:`twin.core.cf.global_attrs`.
    series : dict, optional
        Declared field name -> ``(times_s, array (nt, ny, nx))`` snapshots, on a ``time`` dimension
        in seconds since the scenario start, with bounds (:func:`twin.core.cf.snapshot_times`).
    start : datetime, optional
        The scenario start (``Scenario.start``), the reference time of ``time``'s units; None: the
        nominal epoch (:data:`twin.core.cf.SCENARIO_EPOCH`).
    """
    data_vars = {name: (("y", "x"), np.asarray(a), declared.cf_attrs(name)) for name, a in fields.items()}
    coords = {"x": twin["x"], "y": twin["y"]}
    for name, (times, stack) in (series or {}).items():
        data_vars[name] = (("time", "y", "x"), np.asarray(stack), declared.cf_attrs(name))
        coords["time"], data_vars[TIME_BOUNDS] = snapshot_times(times, start)
    ds = xr.Dataset(data_vars, coords=coords, attrs=global_attrs(**attrs))
    # in place: without it rioxarray deep-copies the Dataset twice (measured: 3.3 -> 2.0 GiB peak
    # on a 2000 x 2000 run, bench/README.md "Memory")
    ds.rio.write_crs(twin.rio.crs, inplace=True)
    return ds.rio.write_transform(twin.rio.transform(), inplace=True)


def write_netcdf(ds: xr.Dataset, path: str | Path) -> Path:
    """Write CF netCDF (zlib-compressed), atomically; the CRS is kept through ``grid_mapping``.

    Compression is set through each variable's ``encoding`` (passing ``encoding=`` to
    ``to_netcdf`` would drop rioxarray's ``grid_mapping``); the file gets its ``history`` line and
    no fill value on coordinates (:func:`twin.core.cf.as_written`).
    """
    ds = as_written(ds)
    for name in ds.data_vars:
        if ds[name].ndim >= 2:
            ds[name].encoding.update({"zlib": True, "complevel": 4})
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4")
    return Path(path)


def write_cog(da: xr.DataArray, path: str | Path, dtype: str = "float32") -> Path:
    """Write one map as a Cloud-Optimized GeoTIFF, atomically.

    The array is computed first (a lazy dask array would give empty overviews). A float ``dtype``
    has NaN as nodata; an integer one (class codes, ids: 0 is "not given") has no nodata value.
    """
    da = da.load().astype(dtype)
    if np.issubdtype(da.dtype, np.floating):
        da = da.rio.write_nodata(da.dtype.type(np.nan), encoded=False)
    with atomic_path(path) as tmp:
        da.rio.to_raster(tmp, driver="COG", compress="DEFLATE")
    return Path(path)


def write_csv(path: str | Path, header: list[str], rows) -> Path:
    """Write a CSV table atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
    return Path(path)


def write_maps(ds: xr.Dataset, path: str | Path, geotiff=()) -> Path:
    """Write ``ds`` to a netCDF file and each of its maps named in ``geotiff`` as a COG beside it.

    Parameters
    ----------
    ds : xarray.Dataset
        A result Dataset (:func:`result_dataset`).
    path : str or Path
        The netCDF file (e.g. ``hazard.nc``); the GeoTIFFs are ``<name>.tif`` in its folder.
    geotiff : sequence of str
        Maps written as GeoTIFF too (those missing from ``ds`` are skipped).

    Returns
    -------
    Path
        The netCDF file.
    """
    path = Path(path)
    write_netcdf(ds, path)
    for name in geotiff:
        if name in ds:
            write_cog(ds[name], path.parent / f"{name}.tif")
    return path
