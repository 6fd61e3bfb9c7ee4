"""Vulnerability and exposure of buildings: depth-damage curves, building values, the combined risk class.

* Depth-damage curves give the damaged fraction of a building's value against the water depth at
  the building (m). The default set is the JRC global curves for Asia (Huizinga et al. 2017,
  ``twin/data/jrc_depth_damage_asia.csv``), linear between points and constant beyond the last
  depth; public buildings take the commercial curve unless the file has a ``public`` column.
* Unit values (KRW per m^2 of floor area) by use and the storey height come from
  ``twin/data/building_values.yaml`` and can be replaced or overridden entry by entry.
* The combined risk class of a building is read from its risk index, the larger of its expected
  flood damage fraction and its burn probability (both an expected fraction of the value lost,
  a burned building counting as a total loss).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.classes import BUILDING_USE
from twin.errors import InputError
from twin.yamlio import load_yaml_with_lines

DATA = Path(__file__).parent / "data"
#: The default depth-damage curves (JRC, Asia).
DEFAULT_CURVES = DATA / "jrc_depth_damage_asia.csv"
#: The default unit values and storey height.
DEFAULT_VALUES = DATA / "building_values.yaml"
#: The curve a use falls back to when the curve file has no column for it.
CURVE_FALLBACK = {"public": "commercial"}
#: Names of the combined building risk classes, lowest first.
RISK_CLASSES = ("none", "low", "medium", "high")
#: Lower bounds of the risk index (expected fraction of value lost) of classes low.. high, after 0 = none:
#: none 0, low (0, 0.1), medium [0.1, 0.3), high >= 0.3. A project choice, not a published scale.
RISK_CLASS_BOUNDS = (0.1, 0.3)


@dataclass(frozen=True)
class DepthDamageCurves:
    """Depth-damage curves by building use.

    Attributes
    ----------
    depth_m : numpy.ndarray
        Depths of the curve points (m), increasing from 0.
    fraction : dict
        Use name -> damage fractions (0-1) at ``depth_m``.
    source : str
        The file the curves came from.
    """

    depth_m: np.ndarray
    fraction: dict
    source: str


def _number(text: str, file, line: int, column: str) -> float:
    """A finite float from a CSV cell, or an InputError naming file, line and column."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InputError("not a finite number", file=file, field=column, line=line, found=repr(text))
    return value


def load_curves(path: str | Path | None = None) -> DepthDamageCurves:
    """Read depth-damage curves from a CSV file (default: JRC Asia).

    Parameters
    ----------
    path : str or Path, optional
        CSV with ``#`` comment lines, a header ``depth_m,<use>,...`` (use names from
        :data:`twin.classes.BUILDING_USE`) and one row per depth (m). Depths start at 0 and increase;
        fractions lie in [0, 1] and do not decrease with depth. Every use needs a column except
        ``public``, which falls back to ``commercial``.

    Returns
    -------
    DepthDamageCurves

    Raises
    ------
    InputError
        Naming the file, the line and the column of the first problem.
    """
    path = Path(path) if path is not None else DEFAULT_CURVES
    try:
        text = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InputError(f"cannot read depth-damage curves: {e.strerror}", file=path) from None
    rows = [(i + 1, r) for i, r in enumerate(csv.reader(text)) if r and not r[0].lstrip().startswith("#")]
    if not rows:
        raise InputError("no header", file=path, expected="depth_m,residential,commercial,...", found="empty file")
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    unknown = [h for h in header[1:] if h not in BUILDING_USE]
    if header[0] != "depth_m" or unknown:
        raise InputError("bad header", file=path, line=header_line,
                         expected=f"depth_m then use names from {', '.join(BUILDING_USE)}", found=",".join(header))
    missing = [u for u in BUILDING_USE if u not in header and CURVE_FALLBACK.get(u) not in header]
    if missing:
        raise InputError(f"no curve for {', '.join(missing)}", file=path, line=header_line, found=",".join(header))
    table = []
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise InputError("wrong number of columns", file=path, line=line, expected=str(len(header)),
                             found=str(len(row)))
        table.append([_number(cell, path, line, col) for cell, col in zip(row, header)])
    lines = [line for line, _ in rows[1:]]
    data = np.array(table).reshape(-1, len(header))
    if data.shape[0] < 2 or data[0, 0] != 0:
        raise InputError("a curve needs at least two points, the first at depth 0", file=path, field="depth_m",
                         found=str(data[:, 0].tolist()))
    for j, col in enumerate(header):
        values = data[:, j]
        step = np.r_[np.inf, np.diff(values)]
        if j == 0:
            bad, why = np.flatnonzero(step <= 0), "depths must increase"
        else:
            bad = np.flatnonzero((values < 0) | (values > 1) | (step < 0))
            why = "fractions must lie in [0, 1] and not decrease with depth"
        if bad.size:
            k = bad[0]
            raise InputError(why, file=path, field=col, line=lines[k], found=str(values[k]))
    fraction = {u: data[:, header.index(u if u in header else CURVE_FALLBACK[u])] for u in BUILDING_USE}
    return DepthDamageCurves(data[:, 0], fraction, str(path))


def damage_fraction(depth: np.ndarray, use: np.ndarray, curves: DepthDamageCurves) -> np.ndarray:
    """Damaged fraction of a building's value from the water depth at the building.

    Huizinga et al. (2017), section 3: the curve of the building's use, linear between its points,
    equal to the last point beyond the last depth (1.0 beyond 6 m for the JRC curves), 0 where dry.

    Parameters
    ----------
    depth : numpy.ndarray
        Water depth at the building (m).
    use : numpy.ndarray of int
        Building-use codes (:data:`twin.classes.BUILDING_USE`), broadcastable to ``depth``.
    curves : DepthDamageCurves
        From :func:`load_curves`.

    Returns
    -------
    numpy.ndarray of float64
        Damage fraction in [0, 1].

    Raises
    ------
    InputError
        A use code that is not a building use.
    """
    depth = np.asarray(depth, dtype=np.float64)
    use = np.broadcast_to(np.asarray(use), depth.shape)
    unknown = np.setdiff1d(np.unique(use), list(BUILDING_USE.values()))
    if unknown.size:
        raise InputError("unknown building-use codes", field="building_use",
                         expected=", ".join(f"{v} {k}" for k, v in BUILDING_USE.items()), found=str(unknown.tolist()))
    out = np.zeros(depth.shape)
    for name, code in BUILDING_USE.items():
        sel = (use == code) & (depth > 0)
        out[sel] = np.interp(depth[sel], curves.depth_m, curves.fraction[name])
    return out


@dataclass(frozen=True)
class BuildingValues:
    """Exposure table: replacement value per m^2 of floor area by use, and the storey height.

    Attributes
    ----------
    unit_value_krw_per_m2 : dict
        Use name -> KRW per m^2 of floor area.
    storey_height_m : float
        Height of one storey (m).
    source : str
        The file the values came from (and ``+ overrides`` where entries were overridden).
    """

    unit_value_krw_per_m2: dict
    storey_height_m: float
    source: str

    def unit_value_by_code(self) -> np.ndarray:
        """Unit values (KRW/m^2) as a lookup array indexed by building-use code (NaN at code 0)."""
        lut = np.full(max(BUILDING_USE.values()) + 1, np.nan)
        for name, code in BUILDING_USE.items():
            lut[code] = self.unit_value_krw_per_m2[name]
        return lut


def _positive(value, file, field: str) -> float:
    """A positive finite number from a YAML value, or an InputError naming file and field."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
        raise InputError("must be a positive number", file=file, field=field, found=repr(value))
    return float(value)


def load_values(path: str | Path | None = None, overrides: dict | None = None) -> BuildingValues:
    """Read building unit values (default ``twin/data/building_values.yaml``), with optional overrides.

    Parameters
    ----------
    path : str or Path, optional
        YAML with ``storey_height_m`` (m) and ``unit_value_krw_per_m2`` (use name -> KRW/m^2).
    overrides : dict, optional
        Same keys; entries given here replace the file's, e.g.
        ``{"unit_value_krw_per_m2": {"residential": 2.5e6}, "storey_height_m": 3.3}``.

    Returns
    -------
    BuildingValues

    Raises
    ------
    InputError
        Unreadable file, unknown keys or use names, a missing use, a value that is not positive.
    """
    path = Path(path) if path is not None else DEFAULT_VALUES
    data = load_yaml_with_lines(path)[0] or {}
    source = str(path)
    for where, table in ((path, data), ("overrides", overrides or {})):
        if not isinstance(table, dict):
            raise InputError("must be a mapping", file=where, found=type(table).__name__)
        extra = set(table) - {"currency", "storey_height_m", "unit_value_krw_per_m2"}
        if extra:
            raise InputError("unknown keys", file=where, field=", ".join(sorted(extra)),
                             expected="currency, storey_height_m, unit_value_krw_per_m2")
        uses = table.get("unit_value_krw_per_m2", {})
        if not isinstance(uses, dict) or set(uses) - set(BUILDING_USE):
            raise InputError("unit values by use name", file=where, field="unit_value_krw_per_m2",
                             expected=", ".join(BUILDING_USE), found=repr(uses))
        if table.get("currency", "KRW") != "KRW":
            raise InputError("unit values must be in KRW", file=where, field="currency", found=table["currency"])
    overrides = overrides or {}
    if overrides:
        source += " + overrides"
    merged = {**data.get("unit_value_krw_per_m2", {}), **overrides.get("unit_value_krw_per_m2", {})}
    missing = [u for u in BUILDING_USE if u not in merged]
    if missing:
        raise InputError(f"no unit value for {', '.join(missing)}", file=path, field="unit_value_krw_per_m2")
    units = {u: _positive(merged[u], path if u not in overrides.get("unit_value_krw_per_m2", {}) else "overrides",
                          f"unit_value_krw_per_m2.{u}") for u in BUILDING_USE}
    storey = overrides.get("storey_height_m", data.get("storey_height_m"))
    storey = _positive(storey, "overrides" if "storey_height_m" in overrides else path, "storey_height_m")
    return BuildingValues(units, storey, source)


def storeys(height_m: np.ndarray, storey_height_m: float) -> np.ndarray:
    """Number of storeys from building height: ``floor(h / h_storey + 0.5)``, at least 1.

    Parameters
    ----------
    height_m : numpy.ndarray
        Building height above ground (m).
    storey_height_m : float
        Height of one storey (m).

    Returns
    -------
    numpy.ndarray of float64
        Whole storeys (>= 1).
    """
    return np.maximum(1.0, np.floor(np.asarray(height_m, dtype=np.float64) / storey_height_m + 0.5))


def risk_index(flood_damage_fraction: np.ndarray | None = None,
               burn_probability: np.ndarray | None = None) -> np.ndarray:
    """Combined risk index of buildings: the larger expected fraction of value lost (dimensionless).

    Parameters
    ----------
    flood_damage_fraction : numpy.ndarray, optional
        Expected flood damage fraction over members.
    burn_probability : numpy.ndarray, optional
        Probability that the building burns; a burned building is taken as a total loss, so this
        is its expected fire damage fraction.

    Returns
    -------
    numpy.ndarray
        ``max`` of the given arrays, in [0, 1].
    """
    given = [np.asarray(a, dtype=np.float64) for a in (flood_damage_fraction, burn_probability) if a is not None]
    if not given:
        raise ValueError("risk_index needs the flood damage fraction, the burn probability or both")
    return np.maximum.reduce(given)


def risk_class(index: np.ndarray, bounds: tuple[float, float] = RISK_CLASS_BOUNDS) -> np.ndarray:
    """Combined risk class of buildings (:data:`RISK_CLASSES`) from the risk index.

    Parameters
    ----------
    index : numpy.ndarray
        Risk index (:func:`risk_index`), in [0, 1].
    bounds : tuple of float
        Lower bounds of "medium" and "high" (default :data:`RISK_CLASS_BOUNDS`).

    Returns
    -------
    numpy.ndarray of int8
        0 none (index 0), 1 low (0 < index < bounds[0]), 2 medium (bounds[0] <= index < bounds[1]),
        3 high (index >= bounds[1]).
    """
    index = np.asarray(index)
    return ((index > 0).astype(np.int8) + (index >= bounds[0]) + (index >= bounds[1])).astype(np.int8)
