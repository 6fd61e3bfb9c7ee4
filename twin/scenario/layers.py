"""Vector files a scenario names: gauges from a layer of points, values by polygon from a layer of polygons.

Layers are opened, checked and read by :mod:`twin.core.vectors` (any OGR format, any CRS,
reprojected to the twin's, invalid polygons repaired). Errors name the scenario, the entry's YAML
path and line, the file and layer, and the column (the columns that exist listed) or the feature
id (the OGR feature id, ``source_fid``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from twin.core.areas import burn, polygon_cells
from twin.core.grid import Grid
from twin.core.vectors import POINTS, POLYGONS, Layer, check_column, open_layer, read_layer, read_name
from twin.scenario.schema import FromColumn, GaugeLayer, ScenarioFile, VectorFile

#: Feature ids shown in a message.
_SHOWN = 5


def _listing(values) -> str:
    values = list(values)
    shown = ", ".join(str(v) for v in values[:_SHOWN])
    return shown + (f" and {len(values) - _SHOWN} more" if len(values) > _SHOWN else "")


def open_entry(sf: ScenarioFile, path: tuple, entry: VectorFile) -> Layer:
    """The layer of a scenario entry ``{file, layer}`` at YAML path ``path``, opened and checked."""
    return open_layer(sf.resolve(entry.file), entry.layer, path, sf.error)


def entry_files(sf: ScenarioFile, entries) -> list:
    """The files of the ``{file, layer}`` entries among ``entries`` (for the run's input hashes)."""
    return [sf.resolve(e.file) for e in entries if isinstance(e, VectorFile)]


@dataclass(frozen=True)
class NamedPoint:
    """A gauge: its name, position (x, y in m, the twin's CRS), YAML path and words for messages."""

    name: str
    at: tuple
    path: tuple
    what: str


def _layer_gauges(sf: ScenarioFile, path: tuple, entry: GaugeLayer, grid: Grid) -> list[NamedPoint]:
    """One gauge per point of a layer, in the layer's order, reprojected to the grid's CRS."""
    layer = open_entry(sf, path, entry)
    check_column(layer, path + ("name_column",), entry.name_column)
    frame, counts = read_layer(layer, grid, POINTS, columns=[entry.name_column], clip=False)
    if counts.no_geometry:
        raise sf.error(path + ("file",), f"{counts.no_geometry} features of {layer.describe()} have no point",
                       expected="a point per gauge")
    names = frame[read_name(entry.name_column)]
    empty = names.isna() | (names.astype(str).str.strip() == "")
    if empty.any():
        raise sf.error(path + ("name_column",), f"features of {layer.describe()} have no {entry.name_column} "
                       f"(feature ids {_listing(frame['source_fid'][empty])})", expected="a name per gauge")
    return [NamedPoint(str(name), (geom.x, geom.y), path + ("file",),
                       f"gauge {str(name)!r} (feature {fid} of {layer.describe()})")
            for name, geom, fid in zip(names, frame.geometry.values, frame["source_fid"])]


def scenario_gauges(sf: ScenarioFile, grid: Grid) -> list[NamedPoint]:
    """Every gauge of ``output.gauges`` in order: points as written, layers one gauge per feature.

    Raises
    ------
    InputError
        A layer's missing file, layer or name column, a feature that is not a point or has no
        name, two gauges of one name (``gauges.csv`` is keyed by name).
    """
    gauges = []
    for i, entry in enumerate(sf.scenario.output.gauges):
        path = ("output", "gauges", i)
        if isinstance(entry, GaugeLayer):
            gauges += _layer_gauges(sf, path, entry, grid)
        else:
            gauges.append(NamedPoint(entry.name, entry.at, path + ("at",), f"gauge {entry.name!r}"))
    seen = set()
    for g in gauges:
        if g.name in seen:
            raise sf.error(g.path, f"{g.what}: another gauge has the name {g.name!r}", expected="distinct names")
        seen.add(g.name)
    return gauges


def _feature_values(sf: ScenarioFile, path: tuple, layer: Layer, frame, spec, bounds: tuple) -> np.ndarray:
    """One value per feature: ``spec`` itself (a number), or its ``column``'s values checked to lie in ``bounds``."""
    if not isinstance(spec, FromColumn):
        return np.full(len(frame), float(spec))
    given = pd.to_numeric(frame[read_name(spec.column)], errors="coerce").to_numpy(dtype=np.float64)
    low, high, low_open = bounds
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(given) | (given > high) | ((given <= low) if low_open else (given < low))
    if bad.any():
        raw = ["empty" if pd.isna(v) else v for v in frame[read_name(spec.column)][bad]]
        raise sf.error(path + ("column",), f"{int(bad.sum())} features of {layer.describe()} have an empty, "
                       f"non-numeric or out-of-range {spec.column} (feature ids {_listing(frame['source_fid'][bad])})",
                       expected=f"a number in {'(' if low_open else '['}{low:g}, {high:g}]", found=_listing(raw))
    return given


def polygon_values(sf: ScenarioFile, path: tuple, entry: VectorFile, grid: Grid, domain: np.ndarray,
                   keys: dict[str, tuple]) -> dict[str, np.ndarray]:
    """Values per cell from the polygons of a layer: for each key of ``keys`` the entry gives, the value
    of the polygon holding the cell's centre (later polygons on top), NaN outside every polygon.

    Parameters
    ----------
    sf : ScenarioFile
    path : tuple
        YAML path of the entry.
    entry : VectorFile
        Has an attribute per key: a number, ``{column}`` (:class:`twin.scenario.schema.FromColumn`) or
        None (not given).
    grid : Grid
        The twin's grid.
    domain : numpy.ndarray of bool
        Cells in the domain.
    keys : dict
        Key -> ``(low, high, low_open)``: the range a column's values must lie in.

    Returns
    -------
    dict
        Key -> values per cell (float64, the unit of the entry's numbers), for the keys given.

    Raises
    ------
    InputError
        A missing file, layer or column; features that are not polygons; no polygon covering a
        cell centre of the domain; a column value empty, not a number or out of range.
    """
    layer = open_entry(sf, path, entry)
    given = {k: getattr(entry, k) for k in keys if getattr(entry, k) is not None}
    columns = [spec.column for spec in given.values() if isinstance(spec, FromColumn)]
    for key, spec in given.items():
        if isinstance(spec, FromColumn):
            check_column(layer, path + (key, "column"), spec.column)
    frame, counts = read_layer(layer, grid, POLYGONS, columns=list(dict.fromkeys(columns)))
    geoms = np.asarray(frame.geometry.values, dtype=object)
    covered = polygon_cells(geoms, grid) & domain
    if not covered.any():
        w, s, e, n = grid.bounds()
        raise sf.error(path + ("file",), f"no polygon of {layer.describe()} holds a cell centre of the domain "
                       f"({counts.read} of {counts.features} features reach the twin's extent)",
                       expected=f"polygons over x {w:.1f} .. {e:.1f}, y {s:.1f} .. {n:.1f} (the twin's CRS)",
                       found="nothing inside" if counts.read else f"features over {layer.bounds} ({layer.crs.name})")
    return {key: burn(geoms, _feature_values(sf, path + (key,), layer, frame, spec, keys[key]), grid,
                      fill=np.nan, dtype="float64")
            for key, spec in given.items()}
