"""The CityTwin: one ``xarray.Dataset`` on one grid, with its CRS, that every kernel and output uses.

A twin is described by a small YAML manifest (``twin.yaml``) listing GeoTIFF rasters, or by the
same mapping inline in a scenario. :func:`load_twin` reads and checks the rasters, derives the
missing fields (building ids, land cover, fuel models, roughness) and returns the Dataset;
:func:`save_twin` / :func:`open_twin` round-trip it through CF-1.8 netCDF.

Dataset layout: dims ``(y, x)``, cell-centre coordinates ``x`` (increasing) and ``y``
(decreasing; row 0 is the north edge), CRS written with rioxarray, ``attrs["cell_size"]`` in m,
and the variables declared in :data:`twin.core.fields.TWIN_FIELDS`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from pydantic import AfterValidator, BaseModel, ConfigDict, Field as PydField
from scipy import ndimage

from twin.core.atomic import atomic_path
from twin.core.cf import CONVENTIONS, as_written, global_attrs
from twin.core.classes import (FUEL_MODEL_BY_LANDCOVER, LANDCOVER, MANNING_BY_LANDCOVER, code_table)
from twin.core.errors import InputError
from twin.core.fields import TWIN_FIELDS
from twin.core.footprints import FootprintsRef, attach_footprints, footprints_error, twin_footprints
from twin.core.grid import Grid
from twin.core.rasters import (CHECKED_FIELDS, check_band, check_class_codes, check_regular_file, fill_band, read_band,
                          read_grid, read_terrain, refuse_cells)
from twin.core.validation import validate
from twin.core.yamlio import load_yaml_with_lines

#: Bytes per cell held by a loaded twin (its declared fields).
TWIN_BYTES_PER_CELL = sum(np.dtype(f.dtype).itemsize for f in TWIN_FIELDS.values())
#: Bytes per cell a flood run needs on top of the twin (state, sources, maxima; see bench/README.md).
RUN_BYTES_PER_CELL = 120
#: How a twin file's data was made (its ``source``).
TWIN_SOURCE = ("the CityTwin: terrain, buildings, land cover, fuel models and Manning roughness on one grid, "
               "read from the rasters of a twin manifest and derived where absent (twin/core/citytwin.py)")
#: First bytes of classic (CDF-1) and 64-bit offset (CDF-2) netCDF files. :func:`open_twin` reads
#: them with scipy (without mmap), which refuses a truncated file, where netCDF-C reads the missing
#: bytes as zeros.
_CLASSIC_NETCDF = (b"CDF\x01", b"CDF\x02")


class RasterFiles(BaseModel):
    """Raster files of a twin, by field name; paths relative to the manifest (or scenario)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    elevation: Annotated[str, PydField(alias="terrain")]
    building_height: Annotated[str | None, PydField(alias="buildings")] = None
    building_id: str | None = None
    building_use: str | None = None
    landcover: str | None = None
    fuel_model: str | None = None
    manning_n: str | None = None


def _known_crs(text: str) -> str:
    """Check a CRS given as text (``EPSG:5186``, WKT, PROJ) with pyproj (which prints nothing)."""
    import pyproj

    try:
        pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError:
        raise ValueError("not a valid CRS; expected e.g. EPSG:5186") from None
    return text


class TwinManifest(BaseModel):
    """A twin description: ``name``, optional ``crs`` to check, ``rasters``, ``resample`` and the
    optional ``footprints`` file of the city's buildings (:mod:`twin.core.footprints`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = "twin"
    crs: Annotated[str, AfterValidator(_known_crs)] | None = None
    rasters: RasterFiles
    resample: bool = False
    footprints: FootprintsRef | None = None


def _read_manifest(path: Path) -> tuple[TwinManifest, dict]:
    """A ``twin.yaml`` validated, with the line of every YAML path."""
    data, lines = load_yaml_with_lines(path)
    return validate(TwinManifest, data, lines, path), lines


def read_manifest(path: str | Path) -> tuple[TwinManifest, Path]:
    """Read and validate a ``twin.yaml``; returns the manifest and the folder paths are relative to."""
    path = Path(path)
    return _read_manifest(path)[0], path.parent


def estimate_memory(shape: tuple[int, int]) -> int:
    """Bytes a twin of ``shape`` and one flood run on it need (fields + run working arrays)."""
    ny, nx = shape
    return ny * nx * (TWIN_BYTES_PER_CELL + RUN_BYTES_PER_CELL)


def check_memory(shape: tuple[int, int], file: str | Path, available: int | None = None) -> None:
    """Refuse a grid whose twin and run would not fit in the available memory.

    Parameters
    ----------
    shape : tuple of int
        Grid shape ``(ny, nx)``.
    file : str or Path
        The terrain raster (named in the error).
    available : int, optional
        Bytes available; default: the system's available memory (psutil).

    Raises
    ------
    InputError
        When the estimate exceeds 80 % of the available memory.
    """
    if available is None:
        import psutil

        available = psutil.virtual_memory().available
    need = estimate_memory(shape)
    if need > 0.8 * available:
        raise InputError(f"grid of {shape[0]} x {shape[1]} cells needs about {need / 2**30:.1f} GiB "
                         f"but only {available / 2**30:.1f} GiB is available; crop the rasters, use a coarser "
                         "cell size, or run tiled on a dask cluster", file=file)


def _outside_domain(valid: np.ndarray, terrain_file: Path) -> np.ndarray:
    """Cells outside the domain: nodata connected to the raster edge. Nodata holes inside are errors."""
    labels, n = ndimage.label(~valid)
    if n == 0:
        return np.zeros(valid.shape, dtype=bool)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    outside = np.isin(labels, edge[edge > 0])
    holes = ~valid & ~outside
    if holes.any():
        r, c = np.argwhere(holes)[0]
        raise InputError(f"terrain has {int(holes.sum())} nodata cells inside the domain (first at row {r}, "
                         f"col {c}); fill them (e.g. gdal_fillnodata.py): only nodata connected to the raster "
                         "edge is taken as outside the domain", file=terrain_file)
    if outside.all():
        raise InputError("terrain has no valid cells", file=terrain_file)
    return outside


def build_dataset(grid: Grid, arrays: dict[str, np.ndarray], name: str = "twin",
                  outside: np.ndarray | None = None, files: dict[str, Path] | None = None) -> xr.Dataset:
    """Assemble a CityTwin Dataset from arrays on ``grid``, deriving the fields that are missing.

    Parameters
    ----------
    grid : Grid
        Shape, transform and CRS.
    arrays : dict
        Field name -> array of shape ``grid.shape``; ``elevation`` (m) is required.
    name : str
        Twin name (global attribute).
    outside : numpy.ndarray of bool, optional
        Cells outside the domain (masked: elevation NaN, codes 0, ``domain_mask`` 0).
    files : dict, optional
        Field name -> the raster it was read from, named in errors.

    Returns
    -------
    xarray.Dataset
        The twin. Derivations: ``building_height`` 0 when absent; ``building_id`` by labelling
        4-connected footprints of ``building_height > 0``; ``building_use`` residential on
        footprints when absent; ``landcover`` urban open with buildings on footprints when
        absent; ``fuel_model`` and ``manning_n`` from land cover through the tables in
        :mod:`twin.core.classes`, also where a given raster has nodata.

    Raises
    ------
    InputError
        A cell in the domain without a known land-cover code (0, unknown) off building footprints.
    """
    shape = grid.shape
    outside = np.zeros(shape, bool) if outside is None else outside
    inside = ~outside
    height = np.asarray(arrays.get("building_height", np.zeros(shape)), dtype=np.float64)
    height = np.where(inside & np.isfinite(height) & (height > 0), height, 0.0)
    if "building_id" in arrays:
        bid = np.where(inside, arrays["building_id"], 0).astype(np.int32)
    else:
        bid, _ = ndimage.label(height > 0)
        bid = bid.astype(np.int32)
    footprint = bid > 0
    if "building_use" in arrays:
        use = np.where(footprint, arrays["building_use"], 0).astype(np.int8)
    else:
        use = footprint.astype(np.int8)  # residential
    landcover = np.where(inside, arrays.get("landcover", LANDCOVER["urban_open"]), 0)
    landcover[footprint] = LANDCOVER["building"]
    check_class_codes("landcover", landcover, inside, (files or {}).get("landcover"), none_allowed=False)
    landcover = landcover.astype(np.int8)
    # Given fuel models and roughness win; their nodata cells (0 / non-positive) take the table value.
    fuel = code_table(FUEL_MODEL_BY_LANDCOVER)[landcover].astype(np.int16)
    if "fuel_model" in arrays:
        fuel = np.where(arrays["fuel_model"] > 0, arrays["fuel_model"], fuel).astype(np.int16)
    manning = code_table(MANNING_BY_LANDCOVER)[landcover]
    if "manning_n" in arrays:
        given = np.asarray(arrays["manning_n"], dtype=np.float64)
        manning = np.where(np.isfinite(given) & (given > 0), given, manning)
    elevation = np.where(inside, arrays["elevation"], np.nan).astype(np.float64)
    fields = {
        "elevation": elevation,
        "building_height": height,
        "building_id": bid,
        "building_use": use,
        "landcover": landcover,
        "fuel_model": np.where(inside, fuel, 0).astype(np.int16),
        "manning_n": np.where(inside, manning, 0.0).astype(np.float64),
        "domain_mask": inside.astype(np.int8),
    }
    x, y = grid.cell_centres()
    ds = xr.Dataset({k: (("y", "x"), v, TWIN_FIELDS.cf_attrs(k)) for k, v in fields.items()},
                    coords={"x": ("x", x, {"units": "m", "standard_name": "projection_x_coordinate",
                                           "long_name": "easting of cell centre", "axis": "X"}),
                            "y": ("y", y, {"units": "m", "standard_name": "projection_y_coordinate",
                                           "long_name": "northing of cell centre", "axis": "Y"})},
                    attrs={"name": name, "cell_size": grid.cell_size, "Conventions": CONVENTIONS})
    ds = ds.rio.write_crs(grid.crs)
    return ds.rio.write_transform(grid.transform)


def load_twin(source: str | Path | dict, base_dir: str | Path | None = None,
              available_memory: int | None = None) -> xr.Dataset:
    """Load a CityTwin from a ``twin.yaml`` manifest, a saved ``.nc`` twin, or an inline mapping.

    Parameters
    ----------
    source : str, Path or dict
        Path to a manifest (``.yaml``/``.yml``) or to a netCDF twin (``.nc``), or an inline manifest
        mapping (as in a scenario's ``twin:`` key).
    base_dir : str or Path, optional
        Folder relative paths of an inline mapping are resolved against.
    available_memory : int, optional
        Bytes available (for the memory check); default: the system's.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    InputError
        For every problem with the manifest or the rasters, naming the file.
    """
    if isinstance(source, dict):
        manifest = validate(TwinManifest, source, {}, "inline twin")
        folder, error = Path(base_dir or "."), footprints_error("inline twin")
    else:
        path = Path(source)
        if path.suffix == ".nc":
            return open_twin(path)
        (manifest, lines), folder = _read_manifest(path), path.parent
        error = footprints_error(path, lines)
    files = {k: folder / v for k, v in manifest.rasters.model_dump().items() if v is not None}
    terrain_file = files["elevation"]
    grid = read_grid(terrain_file)
    if manifest.crs is not None:
        from rasterio.crs import CRS

        want = CRS.from_user_input(manifest.crs)  # checked by TwinManifest
        if want != grid.crs:
            raise InputError("terrain CRS differs from the manifest's crs", file=terrain_file,
                             expected=manifest.crs, found=grid.crs.to_string())
    check_memory(grid.shape, terrain_file, available_memory)
    elevation, valid, grid = read_terrain(terrain_file)
    outside = _outside_domain(valid, terrain_file)
    bands = {name: read_band(file, TWIN_FIELDS[name], grid, terrain_file, resample=manifest.resample)
             for name, file in files.items() if name != "elevation"}
    for name, band in bands.items():
        check_band(name, band, ~outside, files[name])
    _check_footprint_heights(bands, files, ~outside)
    arrays = {"elevation": elevation, **{name: fill_band(TWIN_FIELDS[name], band) for name, band in bands.items()}}
    ds = build_dataset(grid, arrays, name=manifest.name, outside=outside, files=files)
    fp = manifest.footprints
    return ds if fp is None else attach_footprints(ds, folder / fp.file, fp.layer, fp.id, error)


def _check_footprint_heights(bands: dict[str, np.ma.MaskedArray], files: dict[str, Path],
                             inside: np.ndarray) -> None:
    """Refuse footprints of a ``building_id`` raster with cells of no height (nodata or NaN).

    Without a ``building_id`` raster footprints are where the height is above 0, and height
    nodata or NaN means "no building".
    """
    if not {"building_id", "building_height"} <= bands.keys():
        return
    height = bands["building_height"]
    footprint = inside & (fill_band(TWIN_FIELDS["building_id"], bands["building_id"]) > 0)
    missing = np.ma.getmaskarray(height) | np.isnan(np.ma.getdata(height))
    refuse_cells(footprint & missing, np.ma.getdata(height), files["building_height"], "building_height",
                 "building footprint cells (building_id > 0) without a height", "a height on every footprint cell")


def twin_input_files(source: str | Path | dict, base_dir: str | Path | None = None) -> list[Path]:
    """The files a twin is read from (manifest, rasters and footprints, or the netCDF), for provenance hashes."""
    if isinstance(source, dict):
        manifest, folder, files = validate(TwinManifest, source, {}, "inline twin"), Path(base_dir or "."), []
    else:
        path = Path(source)
        if path.suffix == ".nc":
            return [path]
        (manifest, folder), files = read_manifest(path), [path]
    footprints = [folder / manifest.footprints.file] if manifest.footprints is not None else []
    return files + [folder / v for v in manifest.rasters.model_dump().values() if v is not None] + footprints


def twin_grid(ds: xr.Dataset) -> Grid:
    """The :class:`Grid` of a twin Dataset."""
    return Grid(tuple(ds["elevation"].shape), ds.rio.transform(), ds.rio.crs)


def save_twin(ds: xr.Dataset, path: str | Path) -> Path:
    """Write a twin to CF-1.8 netCDF (CRS via rioxarray), atomically (temporary name, then rename).

    The file gets the CF global attributes (:func:`twin.core.cf.global_attrs`), a ``history`` line
    (a twin read from netCDF keeps its lines) and no fill value on its coordinates
    (:func:`twin.core.cf.as_written`).
    """
    path = Path(path)
    ds = as_written(ds.assign_attrs(global_attrs(f"city twin {ds.attrs.get('name', '')}".rstrip(), TWIN_SOURCE)))
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4")
    return path


def open_twin(path: str | Path) -> xr.Dataset:
    """Read a twin written by :func:`save_twin`; the round trip is exact (dtypes and values).

    Raises
    ------
    InputError
        Naming the file: missing, not a regular file, not netCDF, damaged or truncated,
        without the twin's variables, or with values a raster of the twin may not hold
        (:func:`twin.core.rasters.check_band`: class codes, building ids and heights, Manning's n);
        the footprints file the twin names, as when it was loaded (:func:`twin.core.footprints.read_footprints`).
    """
    path = Path(path)
    check_regular_file(path, "twin netCDF")
    with open(path, "rb") as f:
        classic = f.read(4) in _CLASSIC_NETCDF
    engine = {"engine": "scipy", "mmap": False} if classic else {"engine": "netcdf4"}
    try:
        with xr.open_dataset(path, **engine, decode_coords="all", mask_and_scale=False) as ds:
            ds = ds.load()
    except (OSError, RuntimeError, ValueError, IndexError) as exc:  # what netCDF-C, HDF5 and scipy raise
        raise InputError(f"not a readable netCDF twin: not netCDF, or damaged or truncated ({exc})",
                         file=path) from None
    missing = [k for k in TWIN_FIELDS if k not in ds]
    if missing:
        raise InputError(f"not a twin: missing variables {', '.join(missing)}", file=path)
    inside = ds["domain_mask"].values == 1
    for name in CHECKED_FIELDS:
        check_band(name, np.ma.asarray(ds[name].values), inside, f"{path}: {name}")
    twin_footprints(ds)
    return ds


def summarize(ds: xr.Dataset) -> dict:
    """Grid size, cell size, CRS, extent, building count, land-cover shares and memory footprint."""
    grid = twin_grid(ds)
    inside = ds["domain_mask"].values == 1
    lc = ds["landcover"].values[inside]
    shares = {name: float(np.mean(lc == code)) for name, code in LANDCOVER.items()}
    ids = ds["building_id"].values
    return {
        "name": ds.attrs.get("name", ""),
        "shape": list(grid.shape),
        "cell_size_m": grid.cell_size,
        "crs": grid.crs.to_string(),
        "bounds_m": list(grid.bounds()),
        "cells_in_domain": int(inside.sum()),
        "buildings": int(np.unique(ids[ids > 0]).size),
        "elevation_range_m": [float(np.nanmin(ds["elevation"].values)), float(np.nanmax(ds["elevation"].values))],
        "landcover_shares": shares,
        "memory_bytes": int(sum(v.nbytes for v in ds.data_vars.values())),
        "run_memory_estimate_bytes": estimate_memory(grid.shape),
    }
