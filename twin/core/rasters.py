"""Reading GeoTIFF rasters onto the twin grid and checking their values, with one-line errors that name the file.

The terrain (``elevation``) raster defines the grid. Every other raster must share its CRS,
transform and shape, or, with ``resample=True``, is reprojected onto it (bilinear for continuous
fields, nearest neighbour for class codes, as declared in :mod:`twin.core.fields`).

Rasters are read in their own dtype with their nodata cells masked (:func:`read_band`), their
values are checked in the domain (:func:`check_band`), and only then are they filled and cast to
the dtype of their field (:func:`fill_band`): a land-cover code of 257 is refused, never wrapped
to 1 by an ``int8`` cast.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioError
from rasterio.warp import Resampling, reproject

from twin.core.classes import CLASS_RASTER_CODES
from twin.core.errors import InputError
from twin.core.fields import TWIN_FIELDS, Field
from twin.core.grid import Grid, check_projected_grid, same_grid

#: Plausible terrain elevations (m above sea level). The lowest dry land, the Dead Sea shore, lies
#: about 430 m below sea level and Mount Everest rises 8849 m above it; anything outside is an
#: undeclared nodata value (-9999, -32768, -3.4e38) or a unit error (cm, feet).
ELEVATION_RANGE_M = (-500.0, 9000.0)
#: Tallest plausible building height (m). The tallest building, the Burj Khalifa in Dubai, is
#: 828 m tall; a taller one is a unit error (cm, mm) or an undeclared nodata value.
BUILDING_HEIGHT_MAX_M = 1000.0
#: Largest plausible Manning's n (s m^-1/3). The roughest surfaces tabulated by Chow (1959,
#: *Open-Channel Hydraulics*, Table 5-6), dense willows and flood-plain trees, have n <= 0.2;
#: a value above 1 describes no surface (a percentage or another unit).
MANNING_N_MAX = 1.0
#: Distinct bad values listed in an error message.
_LISTED = 5


def check_regular_file(path: Path, what: str) -> None:
    """Refuse a path that does not exist or is not a regular file.

    A device (``/dev/zero``), a pipe or a directory is refused before any library reads it, so
    reading never blocks or runs forever.

    Parameters
    ----------
    path : Path
        The file.
    what : str
        What the file should be, e.g. ``"raster file"`` (used in the messages).

    Raises
    ------
    InputError
        Naming ``path``.
    """
    try:
        path.stat()
    except FileNotFoundError:
        raise InputError(f"{what} not found", file=path) from None
    except (OSError, ValueError) as exc:  # a symlink loop, a name too long, a NUL byte
        raise InputError(f"cannot open the {what}: {getattr(exc, 'strerror', None) or exc}", file=path) from None
    if not path.is_file():
        found = "a directory" if path.is_dir() else "a device, pipe or socket"
        raise InputError("not a regular file", file=path, expected=f"a {what}", found=found)


@contextmanager
def _opened(path: Path):
    """Open a raster; a rasterio/GDAL error while it is open (e.g. a truncated file) becomes an InputError."""
    check_regular_file(path, "raster file")
    try:
        with rasterio.open(path) as src:
            yield src
    except RasterioError as exc:
        detail = exc.__cause__ or exc  # the GDAL message ("TIFFReadEncodedStrip() failed") when there is one
        raise InputError(f"not a readable raster: not a GeoTIFF, or damaged or truncated ({detail})",
                         file=path) from None


def read_grid(path: str | Path) -> Grid:
    """Read only the grid (shape, transform, CRS) of a raster, checking it is a valid twin grid.

    Raises
    ------
    InputError
        Missing file, not a regular file, not a raster, geographic or non-metre CRS, rotated or
        non-square cells.
    """
    path = Path(path)
    with _opened(path) as src:
        check_projected_grid(src.crs, src.transform, str(path))
        return Grid((src.height, src.width), src.transform, src.crs)


def read_terrain(path: str | Path) -> tuple[np.ndarray, np.ndarray, Grid]:
    """Read the terrain raster that defines the twin grid, of any numeric dtype, and check its values.

    Returns
    -------
    elevation : numpy.ndarray of float64, shape (ny, nx)
        Terrain elevation (m); NaN where the raster has nodata.
    valid : numpy.ndarray of bool
        True where the raster has data.
    grid : Grid

    Raises
    ------
    InputError
        A read error, NaN or infinite values not declared as the raster's nodata, or elevations
        outside :data:`ELEVATION_RANGE_M`.
    """
    path = Path(path)
    with _opened(path) as src:
        check_projected_grid(src.crs, src.transform, str(path))
        grid = Grid((src.height, src.width), src.transform, src.crs)
        band = src.read(1, masked=True).astype(np.float64)
    valid = ~np.ma.getmaskarray(band)
    values = np.ma.getdata(band)
    low, high = ELEVATION_RANGE_M
    refuse_cells(valid & ~np.isfinite(values), values, path, "elevation",
                 "NaN or infinite elevations that are not the raster's nodata value",
                 "finite elevations, or NaN declared as nodata")
    refuse_cells(valid & ((values < low) | (values > high)), values, path, "elevation",
                 "implausible elevations; an undeclared nodata value? (declare it: gdal_edit.py -a_nodata)",
                 f"{low:g} .. {high:g} m")
    return band.filled(np.nan), valid, grid


def read_band(path: str | Path, field: Field, grid: Grid, terrain_file: str | Path,
              resample: bool = False) -> np.ma.MaskedArray:
    """Read the raster of a field onto ``grid``, in its own dtype, nodata masked.

    Parameters
    ----------
    path : str or Path
        The raster file.
    field : Field
        The field's declaration (its kind decides the resampling method).
    grid : Grid
        The terrain's grid.
    terrain_file : str or Path
        The terrain raster (named in mismatch errors).
    resample : bool
        Reproject a raster on another grid instead of refusing it.

    Returns
    -------
    numpy.ma.MaskedArray, shape ``grid.shape``
        The raster's values in its own dtype, or float64 when reprojected (then NaN values, like
        nodata and cells the raster does not cover, are masked).
    """
    path = Path(path)
    with _opened(path) as src:
        check_projected_grid(src.crs, src.transform, str(path))
        own = Grid((src.height, src.width), src.transform, src.crs)
        if own.crs != grid.crs and not resample:
            raise InputError(f"CRS differs from the terrain's ({terrain_file}); set 'resample: true' to reproject",
                             file=path, expected=grid.crs.to_string(), found=own.crs.to_string())
        if not same_grid(own, grid) and not resample:
            raise InputError(f"grid differs from the terrain's ({terrain_file}); set 'resample: true' to reproject",
                             file=path, expected=f"shape {grid.shape}, transform {tuple(grid.transform)[:6]}",
                             found=f"shape {own.shape}, transform {tuple(own.transform)[:6]}")
        band = src.read(1, masked=True)
        if own.crs == grid.crs and same_grid(own, grid):
            return band
        out = np.full(grid.shape, np.nan)
        reproject(band.astype(np.float64).filled(np.nan), out, src_transform=own.transform, src_crs=own.crs,
                  src_nodata=np.nan, dst_transform=grid.transform, dst_crs=grid.crs, dst_nodata=np.nan,
                  resampling=Resampling.nearest if field.is_class else Resampling.bilinear)
    return np.ma.masked_array(out, mask=np.isnan(out))


def fill_band(field: Field, band: np.ma.MaskedArray) -> np.ndarray:
    """Cast a band read by :func:`read_band` to the dtype of ``field``, nodata cells filled.

    Nodata cells hold 0 ("not given") in class fields and the field's fill value in continuous
    ones. Class codes must have passed :func:`check_band`: the cast does not check them.
    """
    if field.is_class:
        return np.asarray(band.filled(0)).astype(field.dtype)
    return np.asarray(band.astype(np.float64).filled(field.fill)).astype(field.dtype)


def read_on_grid(path: str | Path, field: Field, grid: Grid, terrain_file: str | Path,
                 resample: bool = False) -> np.ndarray:
    """Read a raster of ``field`` onto ``grid``, in the field's dtype (:func:`read_band`, :func:`fill_band`).

    Returns
    -------
    numpy.ndarray, shape ``grid.shape``, dtype of the declared field
        Nodata cells hold the field's fill value (0 for class codes).
    """
    return fill_band(field, read_band(path, field, grid, terrain_file, resample))


def refuse_cells(bad: np.ndarray, values: np.ndarray, file: str | Path | None, field: str, problem: str,
                 expected: str) -> None:
    """Raise one InputError about the cells ``bad`` (their count, first cell, a few values); none if none is bad.

    Parameters
    ----------
    bad : numpy.ndarray of bool, shape (ny, nx)
        The offending cells.
    values : numpy.ndarray, shape (ny, nx)
        The raster's values (the distinct values found are listed, up to five).
    file : str, Path or None
        The raster, named first in the message.
    field, problem, expected : str
        The field, what is wrong with the cells, and what was expected.
    """
    if not bad.any():
        return
    row, col = np.argwhere(bad)[0]
    count = int(bad.sum())
    raise InputError(f"{problem} in {count} cell{'s' if count > 1 else ''} (first at row {row}, col {col})",
                     file=file, field=field, expected=expected, found=_listing(np.unique(values[bad])))


def _show(value: np.generic) -> str:
    """A raster value as written in messages: 257 (not 257.0), 2.5, nan."""
    value = value.item()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    return str(value)


def _listing(values: np.ndarray) -> str:
    """Distinct values (sorted) as a message lists them: the first :data:`_LISTED` that read
    differently (1000000.3 and 1000000.4 both read "1e+06": shown once), then how many distinct
    values are left, e.g. ``"1e+06, 257 and 12 more"``."""
    shown: dict[str, None] = {}
    used = 0
    for value in values:
        if len(shown) == _LISTED:
            break
        shown.setdefault(_show(value), None)
        used += 1
    more = f" and {values.size - used} more" if values.size > used else ""
    return ", ".join(shown) + more


def _whole(values: np.ndarray) -> np.ndarray:
    """True where a value is a finite whole number (every value of an integer array)."""
    if np.issubdtype(values.dtype, np.integer):
        return np.ones(values.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (values == np.round(values))


def check_class_codes(name: str, values: np.ndarray, cells: np.ndarray, file: str | Path | None = None,
                      none_allowed: bool = True) -> None:
    """Refuse non-integer values and codes missing from the table of class field ``name``.

    Parameters
    ----------
    name : str
        ``landcover``, ``building_use`` or ``fuel_model`` (:data:`twin.core.classes.CLASS_RASTER_CODES`).
    values : numpy.ndarray, shape (ny, nx)
        The codes, in any numeric dtype (checked before any cast).
    cells : numpy.ndarray of bool
        The cells to check (in the domain, not nodata).
    file : str or Path, optional
        The raster, named in the error.
    none_allowed : bool
        Accept code 0 ("not given": no building, fuel model from land cover, land cover under a
        building footprint).

    Raises
    ------
    InputError
        Listing a few unknown codes, their number of cells, the first one, and the known codes.
    """
    codes, described = CLASS_RASTER_CODES[name]
    refuse_cells(cells & ~_whole(values), values, file, name, "class codes that are not whole numbers",
                 "integer class codes")
    known = [0, *codes] if none_allowed else list(codes)
    refuse_cells(cells & ~np.isin(values, known), values, file, name, "unknown class codes",
                 f"{'0 (not given) or ' if none_allowed else ''}{described}")


def _check_building_ids(name: str, values: np.ndarray, cells: np.ndarray, file: Path) -> None:
    """Building ids are whole numbers from 0 (no building) to the largest of the id dtype."""
    top = np.iinfo(TWIN_FIELDS[name].dtype).max
    refuse_cells(cells & ~_whole(values), values, file, name, "building ids that are not whole numbers",
                 "integer ids")
    refuse_cells(cells & ((values < 0) | (values > top)), values, file, name, "building ids out of range",
                 f"0 (no building) .. {top} ({TWIN_FIELDS[name].dtype})")


def _check_building_heights(name: str, values: np.ndarray, cells: np.ndarray, file: Path) -> None:
    """Heights lie in 0 .. :data:`BUILDING_HEIGHT_MAX_M` m (NaN, like nodata, is no building)."""
    with np.errstate(invalid="ignore"):
        bad = (values < 0) | (values > BUILDING_HEIGHT_MAX_M)
    refuse_cells(cells & bad, values, file, name, "building heights out of range",
                 f"0 .. {BUILDING_HEIGHT_MAX_M:g} m (nodata: no building)")


def _check_manning(name: str, values: np.ndarray, cells: np.ndarray, file: Path) -> None:
    """Manning's n is finite, positive and at most :data:`MANNING_N_MAX` (nodata: from land cover)."""
    with np.errstate(invalid="ignore"):
        ok = (values > 0) & (values <= MANNING_N_MAX)
    refuse_cells(cells & ~ok, values, file, name, "implausible roughness values",
                 f"0 < n <= {MANNING_N_MAX:g} s m^-1/3 (nodata: from land cover)")


#: Value checks by twin field (the terrain's are in :func:`read_terrain`).
_CHECKS = {
    "building_height": _check_building_heights,
    "building_id": _check_building_ids,
    "manning_n": _check_manning,
    **dict.fromkeys(CLASS_RASTER_CODES, check_class_codes),
}
#: The twin fields whose values :func:`check_band` checks.
CHECKED_FIELDS = tuple(_CHECKS)


def check_band(name: str, band: np.ma.MaskedArray, inside: np.ndarray, file: str | Path) -> None:
    """Check the values of a twin raster read by :func:`read_band` in the domain, before any cast.

    Parameters
    ----------
    name : str
        Twin field: ``building_height``, ``building_id``, ``building_use``, ``landcover``,
        ``fuel_model`` or ``manning_n``.
    band : numpy.ma.MaskedArray
        The raster on the twin grid, nodata masked (nodata cells are not checked).
    inside : numpy.ndarray of bool
        Cells in the domain.
    file : str or Path
        The raster, named in the error.

    Raises
    ------
    InputError
        Class codes that are not whole numbers or not in their table, building ids that are
        negative, not whole or beyond ``int32``, heights outside 0 .. :data:`BUILDING_HEIGHT_MAX_M`,
        Manning's n not in (0, :data:`MANNING_N_MAX`].
    """
    cells = inside & ~np.ma.getmaskarray(band)
    _CHECKS[name](name, np.ma.getdata(band), cells, file)
