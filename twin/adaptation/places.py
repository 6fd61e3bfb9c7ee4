"""Where a measure is, on the twin's grid: the cells of its line, area or point, the buildings it selects.

Inline positions are x, y in metres in the twin's CRS; a vector file (``{file, layer}`` or a file
name) is any OGR layer in any CRS, read by :mod:`twin.core.vectors` and reprojected. The rules are
the scenario's (:mod:`twin.core.areas`, :mod:`twin.scenario.positions`): a line holds the cells it
crosses (:meth:`twin.core.grid.Grid.cells_on_line`), an area the cells whose centre lies inside,
a building is selected when a cell of its footprint is. A measure reaching off the twin, or with
no usable cell in the domain, is an :class:`~twin.core.errors.InputError` at its YAML path and line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from twin.adaptation.schema import StrategyFile, Where
from twin.core.areas import on_grid, polygon_cells
from twin.core.classes import BUILDING_USE
from twin.core.grid import Grid
from twin.core.vectors import POLYGONS, open_layer, read_layer
from twin.risk.exposure import BuildingTable
from twin.scenario.positions import cell_on_grid
from twin.scenario.schema import VectorFile

#: Geometry kinds of a layer of lines.
LINES = ("LineString", "MultiLineString")


@dataclass(frozen=True)
class Site:
    """What a measure sees of the twin: its grid, domain, open cells, ground and buildings.

    Attributes
    ----------
    grid : Grid
    domain : numpy.ndarray of bool (ny, nx)
        Cells inside the domain.
    open_cells : numpy.ndarray of bool (ny, nx)
        Cells in the domain without a building.
    elevation : numpy.ndarray (ny, nx)
        Ground elevation (m).
    buildings : BuildingTable
        The twin's buildings (:func:`twin.risk.exposure.building_table`).
    footprints : list
        The footprint of each building (shapely, the table's order), for the measures' layers.
    """

    grid: Grid
    domain: np.ndarray
    open_cells: np.ndarray
    elevation: np.ndarray
    buildings: BuildingTable
    footprints: list


def _as_vector(value) -> VectorFile | None:
    """A ``{file, layer}`` entry for a vector file given as an entry or a file name; None for inline vertices."""
    if isinstance(value, VectorFile):
        return value
    return VectorFile(file=value) if isinstance(value, str) else None


def _layer_geometries(sf: StrategyFile, path: tuple, entry: VectorFile, grid: Grid, kinds: tuple) -> list:
    """The geometries of a layer, in the grid's CRS; a layer with none on the twin is an error."""
    layer = open_layer(sf.resolve(entry.file), entry.layer, path, sf.error)
    frame, counts = read_layer(layer, grid, kinds, columns=[], clip=False)
    geoms = list(frame.geometry.values)
    if not geoms:
        raise sf.error(path, f"{layer.describe()} holds no {' or '.join(kinds)}")
    return geoms


def _check_on_grid(sf: StrategyFile, path: tuple, geoms: list, grid: Grid, what: str) -> None:
    """Refuse geometries that reach off the twin."""
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(geoms, dtype=object))
    if not on_grid((x0, y0, x1, y1), grid):
        w, s, e, n = grid.bounds()
        raise sf.error(path, f"{what} reaches outside the twin", expected=f"x in [{w:.1f}, {e:.1f}], y in "
                       f"[{s:.1f}, {n:.1f}]", found=f"x {x0:.1f} .. {x1:.1f}, y {y0:.1f} .. {y1:.1f}")


def line_geometries(sf: StrategyFile, path: tuple, value, grid: Grid, what: str) -> list:
    """The lines of a measure (inline vertices or a layer of lines), checked to lie on the twin."""
    entry = _as_vector(value)
    geoms = ([shapely.LineString(value)] if entry is None
             else _layer_geometries(sf, path, entry, grid, LINES))
    _check_on_grid(sf, path, geoms, grid, what)
    return geoms


def area_geometries(sf: StrategyFile, path: tuple, value, grid: Grid, what: str) -> list:
    """The polygons of a measure (inline vertices or a layer of polygons), valid and on the twin."""
    entry = _as_vector(value)
    if entry is None:
        polygon = shapely.Polygon(value)
        if not polygon.is_valid:
            raise sf.error(path, f"{what}: not a valid polygon ({shapely.is_valid_reason(polygon)})",
                           expected="vertices of a simple polygon, in order")
        geoms = [polygon]
    else:
        geoms = _layer_geometries(sf, path, entry, grid, POLYGONS)
    _check_on_grid(sf, path, geoms, grid, what)
    return geoms


def line_cells(geoms: list, grid: Grid) -> np.ndarray:
    """True on the cells the lines cross (bool, ``grid.shape``)."""
    mask = np.zeros(grid.shape, bool)
    for geom in geoms:
        for part in getattr(geom, "geoms", [geom]):
            for r, c in grid.cells_on_line(list(part.coords)):
                mask[r, c] = True
    return mask


def usable(sf: StrategyFile, path: tuple, mask: np.ndarray, allowed: np.ndarray, what: str) -> np.ndarray:
    """``mask & allowed``; an error when that leaves no cell."""
    kept = mask & allowed
    if not kept.any():
        raise sf.error(path, f"{what} holds no open cell of the domain ({int(mask.sum())} cell(s) on the twin, "
                       "all on buildings or outside the domain)")
    return kept


def area_cells(sf: StrategyFile, path: tuple, value, site: Site, what: str) -> tuple[list, np.ndarray]:
    """The polygons of a measure and its open cells in the domain (cell centre inside)."""
    geoms = area_geometries(sf, path, value, site.grid, what)
    return geoms, usable(sf, path, polygon_cells(geoms, site.grid), site.open_cells, what)


def point_cell(sf: StrategyFile, path: tuple, at, site: Site, what: str) -> tuple[int, int]:
    """The open cell of a point; a point off the twin, on a building or outside the domain is an error."""
    cell = cell_on_grid(sf, site.grid, at, path, what)
    if not site.open_cells[cell]:
        raise sf.error(path, f"{what} falls on a building or outside the domain; move it to an open cell")
    return cell


def selected_buildings(sf: StrategyFile, path: tuple, where: Where, site: Site, what: str) -> tuple[list, np.ndarray]:
    """The polygons of a selection (none for a selection by use alone) and which buildings of
    ``site.buildings`` it holds (bool, the table's order); an error when it holds none."""
    table = site.buildings
    chosen = np.ones(table.n, bool)
    geoms: list = []
    for key, value in (("area", where.area), ("file", where.vector)):
        if value is None:
            continue
        found = area_geometries(sf, path + (key,), value, site.grid, what)
        geoms += found
        inside = polygon_cells(found, site.grid).ravel()[table.footprint_cell]
        chosen &= np.bincount(table.footprint_building, weights=inside, minlength=table.n) > 0
    if where.use is not None:
        chosen &= np.isin(table.use, [BUILDING_USE[u] for u in where.use])
    if not chosen.any():
        raise sf.error(path, f"{what} selects no building of the twin ({table.n} buildings)")
    return geoms, chosen
