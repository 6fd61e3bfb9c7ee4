"""Footprint attributes: each building's height (m), use class and value (KRW) from the layer's columns.

* Height: the ``height.column`` (m), or ``height.floors`` times ``height.storey_m``; a missing,
  non-numeric or non-positive value takes ``height.default_m`` (counted). A height above
  :data:`twin.core.rasters.BUILDING_HEIGHT_MAX_M` is an error naming the feature (a unit error:
  cm, mm).
* Use: the ``use.column`` codes mapped by ``use.map`` (:func:`twin.build.codes.classify`);
  residential for every building when no use is configured (as the twin loader assumes).
* Value: the ``value.column`` (KRW), NaN where missing or not positive (a run then takes the
  unit value of the use times the floor area, ``twin/risk/vulnerability.py``).
* First-floor height: the ``first_floor_height.column`` (m above the ground at the wall), NaN
  where missing (a run then takes the default of the use, ``twin/risk/exposure.py``); a height
  outside 0 .. :data:`twin.core.footprints.FIRST_FLOOR_HEIGHT_MAX_M` is an error naming the features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from twin.build.codes import classify
from twin.build.schema import BuildFile
from twin.core.vectors import Layer, read_name
from twin.core.classes import BUILDING_USE
from twin.core.footprints import FIRST_FLOOR_HEIGHT_MAX_M, first_floor_out_of_range
from twin.core.rasters import BUILDING_HEIGHT_MAX_M

#: Feature ids shown in a message.
_SHOWN = 5


@dataclass(frozen=True)
class Attributes:
    """Per footprint, in the order of the frame read: height (m), how it was found, use code, value (KRW).

    Attributes
    ----------
    height_m : numpy.ndarray of float64
    height_from : numpy.ndarray of str
        ``"column"``, ``"floors"`` or ``"default"``.
    use : numpy.ndarray of int8
        :data:`twin.core.classes.BUILDING_USE` codes.
    value_krw : numpy.ndarray of float64
        NaN where not given.
    first_floor_height_m : numpy.ndarray of float64
        NaN where not given.
    report : dict
        Counts for the build report.
    warnings : list of str
    """

    height_m: np.ndarray
    height_from: np.ndarray
    use: np.ndarray
    value_krw: np.ndarray
    first_floor_height_m: np.ndarray
    report: dict
    warnings: list


def source_ids(frame, id_column: str | None) -> pd.Series:
    """The id each footprint is known by: the ``id`` column, else its OGR feature id."""
    return frame[read_name(id_column)] if id_column is not None else frame["source_fid"]


def _numbers(frame, column: str) -> np.ndarray:
    """A column as float64, NaN where missing or not a number."""
    return pd.to_numeric(frame[read_name(column)], errors="coerce").to_numpy(dtype=np.float64)


def _heights(bf: BuildFile, layer: Layer, frame) -> tuple[np.ndarray, np.ndarray, dict]:
    """Heights (m) from the column or floors, the default where missing; refuses implausible heights."""
    spec = bf.config.buildings.height
    n = len(frame)
    if spec.column is not None:
        raw, source, key, said = _numbers(frame, spec.column), "column", "column", f"column {spec.column}"
    elif spec.floors is not None:
        raw, source, key = _numbers(frame, spec.floors) * spec.storey_m, "floors", "floors"
        said = f"{spec.floors} x {spec.storey_m:g} m"
    else:
        raw, source, key, said = np.full(n, np.nan), "default", None, "none configured"
    with np.errstate(invalid="ignore"):
        missing = ~(np.isfinite(raw) & (raw > 0))
        too_tall = ~missing & (raw > BUILDING_HEIGHT_MAX_M)
    if too_tall.any():
        ids = source_ids(frame, bf.config.buildings.id)[too_tall]
        shown = ", ".join(str(v) for v in ids.iloc[:_SHOWN])
        raise bf.error(("buildings", "height", key), f"{int(too_tall.sum())} footprints of {layer.describe()} are "
                       f"taller than {BUILDING_HEIGHT_MAX_M:g} m (ids {shown}); heights are metres "
                       "(a column in cm or mm?)", expected=f"0 .. {BUILDING_HEIGHT_MAX_M:g} m",
                       found=f"{np.nanmax(raw[too_tall]):g} m")
    height = np.where(missing, spec.default_m, raw)
    height_from = np.where(missing, "default", source)
    return height, height_from, {"from": said, "given": int((~missing).sum()), "default": int(missing.sum()),
                                 "default_m": spec.default_m}


def _first_floor_heights(bf: BuildFile, layer: Layer, frame) -> np.ndarray:
    """First-floor heights (m) from the configured column, NaN where missing; refuses implausible ones."""
    spec = bf.config.buildings.first_floor_height
    if spec is None:
        return np.full(len(frame), np.nan)
    given = _numbers(frame, spec.column)
    bad = first_floor_out_of_range(given)
    if bad.any():
        ids = source_ids(frame, bf.config.buildings.id)[bad]
        shown = ", ".join(str(v) for v in ids.iloc[:_SHOWN])
        raise bf.error(("buildings", "first_floor_height", "column"), f"{int(bad.sum())} footprints of "
                       f"{layer.describe()} have a first-floor height out of range (ids {shown}); heights are "
                       "metres above the ground", expected=f"0 .. {FIRST_FLOOR_HEIGHT_MAX_M:g} m",
                       found=", ".join(f"{v:g} m" for v in given[bad][:_SHOWN]))
    return given


def footprint_attributes(bf: BuildFile, layer: Layer, frame) -> Attributes:
    """Heights, use codes and values of the footprints in ``frame`` (read by :func:`twin.core.vectors.read_layer`).

    Raises
    ------
    InputError
        Heights above :data:`twin.core.rasters.BUILDING_HEIGHT_MAX_M`; use codes with no mapping
        and no ``use.default``; first-floor heights out of range.
    """
    cfg = bf.config.buildings
    n = len(frame)
    warnings = []
    height, height_from, heights = _heights(bf, layer, frame)
    if cfg.use.column is not None:
        codes = frame[read_name(cfg.use.column)].to_numpy()
        classified = classify(bf, ("buildings", "use"), cfg.use, dict(BUILDING_USE), codes, "footprints")
        use, by_use = classified.codes, classified.by_class
        warning = classified.warning("footprints", "buildings.use", cfg.use.default)
        warnings += [warning] if warning else []
    else:
        use, by_use = np.full(n, BUILDING_USE["residential"], dtype=np.int8), {"residential": n}
    value = np.full(n, np.nan)
    if cfg.value is not None:
        given = _numbers(frame, cfg.value.column)
        with np.errstate(invalid="ignore"):
            value = np.where(given > 0, given, np.nan)
    first_floor = _first_floor_heights(bf, layer, frame)
    report = {"heights": heights, "use": by_use,
              "values_given": int(np.isfinite(value).sum()) if cfg.value is not None else 0,
              "first_floor_heights_given": int(np.isfinite(first_floor).sum())}
    warnings += _id_warnings(frame, cfg.id)
    return Attributes(height, height_from, use, value, first_floor, report, warnings)


def _id_warnings(frame, id_column: str | None) -> list[str]:
    """Warnings about an id column with empty or repeated ids (they do not join back one to one)."""
    if id_column is None:
        return []
    ids = source_ids(frame, id_column)
    out = []
    empty = int(ids.isna().sum())
    if empty:
        out.append(f"buildings.id: {empty} footprints have no {id_column}")
    repeated = ids[ids.duplicated(keep=False) & ids.notna()]
    if len(repeated):
        shown = ", ".join(str(v) for v in repeated.unique()[:_SHOWN])
        out.append(f"buildings.id: {repeated.nunique()} values of {id_column} are shared by {len(repeated)} "
                   f"footprints (e.g. {shown}); they do not join back one to one")
    return out
