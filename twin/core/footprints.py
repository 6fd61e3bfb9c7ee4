"""A twin's footprints file: the city's own building polygons, keyed to the twin's ``building_id``.

A built twin (``twin build``, ``docs/build.md``) has a ``buildings.gpkg`` that its ``twin.yaml``
names under ``footprints:`` (:class:`FootprintsRef`). A run then keys its per-building outputs to
the city's buildings: their rows carry the source id column and the original footprint geometry
instead of footprints traced back from the building-id raster, and two per-building values of the
file flow into the risk where given (not NaN):

* :data:`FIRST_FLOOR_COLUMN` (m): the first-floor height above the ground at the wall
  (``twin/risk/exposure.py``; else the twin's ``first_floor_height`` raster, else the use's default);
* :data:`VALUE_COLUMN` (KRW): the building's replacement value (else floor area times the unit
  value of its use, ``twin/risk/vulnerability.py``).

The file is checked when the twin is loaded (:func:`read_footprints`), before any run starts:
the layer and its columns exist, every twin building has exactly one row (``building_id > 0``;
rows with 0 are footprints the twin has no cell for, and are skipped), and the first-floor
heights and values are in range. The loaded twin remembers the file in its attributes
(:data:`ATTRS`), so that a saved ``twin.nc`` still points at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
from pydantic import BaseModel, ConfigDict

from twin.core.errors import InputError
from twin.core.vectors import ErrorAt, check_column, open_layer
from twin.core.yamlio import format_path, line_of

#: The twin's building id column of a footprints file.
BUILDING_ID = "building_id"
#: Per-building first-floor height (m) and replacement value (KRW) columns read when present.
FIRST_FLOOR_COLUMN = "twin_first_floor_height_m"
VALUE_COLUMN = "twin_value_krw"
#: Highest first-floor height accepted (m): about three storeys, above buildings raised on pilotis.
FIRST_FLOOR_HEIGHT_MAX_M = 10.0
#: Attributes of a loaded twin naming its footprints file: path, layer and id column ("" for none).
ATTRS = ("footprints_file", "footprints_layer", "footprints_id")
#: The YAML path of the reference in a twin manifest.
BLOCK = ("footprints",)
#: Building ids shown in a message.
_SHOWN = 5


class FootprintsRef(BaseModel):
    """The ``footprints:`` key of a twin manifest: ``{file, layer, id}``.

    ``file`` is relative to the manifest; ``layer`` may be left out when the file has one layer;
    ``id`` is the column holding the city's own building id (none: ``building_id`` alone).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    file: str
    layer: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class TwinFootprints:
    """The rows of a footprints file that are twin buildings, sorted by ``building_id``.

    Attributes
    ----------
    path : Path
        The file.
    layer : str
        Its layer.
    id_column : str or None
        The source id column.
    building_id : numpy.ndarray of int64, (n,)
        The twin's building ids, increasing.
    source_id : numpy.ndarray or None, (n,)
        The source id of each (None without ``id_column``).
    first_floor_height_m, value_krw : numpy.ndarray of float64, (n,)
        :data:`FIRST_FLOOR_COLUMN` (m) and :data:`VALUE_COLUMN` (KRW); NaN where not given or
        where the file has no such column.
    """

    path: Path
    layer: str
    id_column: str | None
    building_id: np.ndarray
    source_id: np.ndarray | None
    first_floor_height_m: np.ndarray
    value_krw: np.ndarray


def first_floor_out_of_range(heights: np.ndarray) -> np.ndarray:
    """True where a first-floor height (m; NaN: not given) is infinite, negative or above
    :data:`FIRST_FLOOR_HEIGHT_MAX_M`."""
    heights = np.asarray(heights, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isinf(heights) | (heights < 0) | (heights > FIRST_FLOOR_HEIGHT_MAX_M)


def _listing(ids) -> str:
    ids = list(ids)
    shown = ", ".join(str(v) for v in ids[:_SHOWN])
    return shown + (f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else "")


def _numbers(frame, column: str, n: int) -> np.ndarray:
    """A numeric column as float64 (NaN where empty); all NaN when the file has no such column."""
    if column not in frame:
        return np.full(n, np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)


def read_footprints(path: Path, layer: str | None, id_column: str | None, twin_ids: np.ndarray,
                    error: ErrorAt) -> TwinFootprints:
    """Read and check the attribute rows of a footprints file against a twin's building ids.

    Parameters
    ----------
    path : Path
        The file (resolved).
    layer, id_column : str or None
        As :class:`FootprintsRef`.
    twin_ids : numpy.ndarray of int
        The twin's building ids (``building_id > 0`` of its raster, any order, repeats allowed).
    error : ErrorAt
        Makes the errors, at a YAML path of the file naming the footprints (:data:`BLOCK` + key).

    Returns
    -------
    TwinFootprints

    Raises
    ------
    InputError
        A missing file, layer or column (the columns that exist listed); a twin building with no
        row or several, a row naming a building the twin does not have; a first-floor height
        outside 0 .. :data:`FIRST_FLOOR_HEIGHT_MAX_M` m or a negative value.
    """
    opened = open_layer(path, layer, BLOCK, error)
    check_column(opened, BLOCK + ("file",), BUILDING_ID)
    check_column(opened, BLOCK + ("id",), id_column)
    columns = [c for c in (BUILDING_ID, id_column, FIRST_FLOOR_COLUMN, VALUE_COLUMN) if c in opened.columns]
    frame = pyogrio.read_dataframe(path, layer=opened.name, columns=list(dict.fromkeys(columns)),
                                   read_geometry=False)
    bid = pd.to_numeric(frame[BUILDING_ID], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    frame = frame[bid > 0]
    bid = bid[bid > 0]
    order = np.argsort(bid, kind="stable")
    frame, bid = frame.iloc[order], bid[order]
    where = f"{opened.describe()}, column {BUILDING_ID}"
    repeated = np.unique(bid[1:][np.diff(bid) == 0])
    if repeated.size:
        raise error(BLOCK + ("file",), f"{where}: building ids {_listing(repeated)} have several rows; "
                    "a twin building has one footprint", found=f"{repeated.size} repeated ids")
    wanted = np.unique(twin_ids)
    for ids, problem in ((np.setdiff1d(wanted, bid), "the twin has buildings with no row"),
                         (np.setdiff1d(bid, wanted), "rows name buildings the twin does not have")):
        if ids.size:
            raise error(BLOCK + ("file",), f"{where}: {problem} (ids {_listing(ids)}); the file is not this "
                        "twin's footprints (rebuild the twin with `twin build`)", found=f"{ids.size} ids")
    first_floor = _numbers(frame, FIRST_FLOOR_COLUMN, len(frame))
    value = _numbers(frame, VALUE_COLUMN, len(frame))
    with np.errstate(invalid="ignore"):
        checks = ((FIRST_FLOOR_COLUMN, first_floor_out_of_range(first_floor),
                   f"0 .. {FIRST_FLOOR_HEIGHT_MAX_M:g} m, or empty"),
                  (VALUE_COLUMN, np.isinf(value) | (value < 0), "a value >= 0 KRW, or empty"))
    for column, bad, expected in checks:
        if bad.any():
            raise error(BLOCK + ("file",), f"{opened.describe()}, column {column}: out of range for building ids "
                        f"{_listing(bid[bad])}", expected=expected, found=_listing(frame[column][bad]))
    source = frame[id_column].to_numpy() if id_column is not None else None
    return TwinFootprints(path, opened.name, id_column, bid, source, first_floor, value)


def footprints_error(file: str | Path, lines: dict | None = None) -> ErrorAt:
    """The :data:`ErrorAt` of a file naming a footprints file (a twin manifest; ``lines`` its YAML lines)."""

    def error(field: tuple, message: str, **kw) -> InputError:
        return InputError(message, file=file, field=format_path(field), line=line_of(lines or {}, field), **kw)
    return error


def attach_footprints(ds, path: Path, layer: str | None, id_column: str | None, error: ErrorAt):
    """``ds`` (a twin Dataset) with its footprints file checked (:func:`read_footprints`) and named in
    its attributes (:data:`ATTRS`)."""
    bid = ds["building_id"].values
    found = read_footprints(path, layer, id_column, bid[bid > 0], error)
    return ds.assign_attrs(dict(zip(ATTRS, (str(Path(path).absolute()), found.layer, id_column or ""))))


def twin_footprints(ds) -> TwinFootprints | None:
    """The footprints file a loaded twin names (:data:`ATTRS`), read and checked; None when it names none."""
    file, layer, id_column = (ds.attrs.get(k) for k in ATTRS)
    if not file:
        return None
    bid = ds["building_id"].values
    return read_footprints(Path(file), layer, id_column or None, bid[bid > 0], footprints_error(file))


def footprint_geometries(found: TwinFootprints, crs) -> np.ndarray:
    """The footprint of each twin building (shapely, in the order of ``found.building_id``), in ``crs``.

    Parameters
    ----------
    found : TwinFootprints
    crs : pyproj.CRS, rasterio CRS or str
        The twin's CRS; footprints in another CRS are reprojected (pyproj, through geopandas).
    """
    from pyproj import CRS

    frame = pyogrio.read_dataframe(found.path, layer=found.layer, columns=[BUILDING_ID])
    bid = pd.to_numeric(frame[BUILDING_ID], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    frame = frame[bid > 0]
    target = CRS.from_user_input(crs.to_wkt() if hasattr(crs, "to_wkt") else crs)
    if frame.crs is not None and not CRS.from_user_input(frame.crs).equals(target):
        frame = frame.to_crs(target)
    order = np.argsort(bid[bid > 0], kind="stable")
    return np.asarray(frame.geometry.values, dtype=object)[order]
