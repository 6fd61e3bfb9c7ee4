"""Positions in a scenario (points, lines, polygons and circles in the twin's CRS) turned into grid cells.

A position off the grid, or on cells the hazard cannot use (a building, outside the domain), is
an :class:`~twin.core.errors.InputError` at its YAML path and line.
"""

from __future__ import annotations

import numpy as np
import shapely

from twin.core.areas import circle_cells, on_grid, polygon_cells
from twin.core.grid import Grid
from twin.scenario.schema import ScenarioFile


def cell_on_grid(sf: ScenarioFile, grid: Grid, point, path: tuple, what: str) -> tuple[int, int]:
    """The cell holding ``point`` (x, y in m); a point off the grid is an error at ``path``."""
    cell = grid.cell_of(*point)
    if cell is None:
        w, s, e, n = grid.bounds()
        raise sf.error(path, f"{what} is outside the twin", expected=f"x in [{w:.1f}, {e:.1f}], y in [{s:.1f}, {n:.1f}]",
                       found=f"[{point[0]}, {point[1]}]")
    return cell


def point_or_line_cells(sf: ScenarioFile, grid: Grid, item, path: tuple, usable: np.ndarray, what: str,
                        point_refused: str, line_refused: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the usable cells of an item with ``at: [x, y]`` or ``line: [[x, y], …]``.

    Parameters
    ----------
    sf : ScenarioFile
        The scenario (for errors with path and line).
    grid : Grid
        The twin grid.
    item : object
        Has ``at`` (a point) or ``line`` (a polyline), one of them None.
    path : tuple
        YAML path of the item; ``"at"`` or ``"line"`` is appended in errors.
    usable : numpy.ndarray of bool
        Cells the item may use.
    what : str
        The item in words (``"inflow 'river'"``).
    point_refused, line_refused : str
        What is said when the point's cell, or every cell of the line, is not usable.
    """
    if item.at is not None:
        cell = cell_on_grid(sf, grid, item.at, path + ("at",), what)
        if not usable[cell]:
            raise sf.error(path + ("at",), f"{what} {point_refused}")
        cells = [cell]
    else:
        cells = [rc for rc in grid.cells_on_line(item.line) if usable[rc]]
        if not cells:
            raise sf.error(path + ("line",), f"{what}: {line_refused}")
    rows, cols = (np.array(v, dtype=np.int64) for v in zip(*cells))
    return rows, cols


def area_cells(sf: ScenarioFile, grid: Grid, item, path: tuple, usable: np.ndarray, what: str
               ) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the usable cells inside an item's ``area: [[x, y], ...]`` or ``circle: {center, radius_m}``.

    A cell is inside when its centre is (:mod:`twin.core.areas`). The area must lie on the grid
    and be a valid polygon (no self-intersection), and hold at least one usable cell.

    Parameters
    ----------
    sf : ScenarioFile
        The scenario (for errors with path and line).
    grid : Grid
        The twin grid.
    item : object
        Has ``area`` (a polygon's vertices, x, y in m) or ``circle`` (``center``, ``radius_m`` in m),
        the other None.
    path : tuple
        YAML path of the item; ``"area"`` or ``"circle"`` is appended in errors.
    usable : numpy.ndarray of bool
        Cells the item may use.
    what : str
        The item in words (``"inflow 'culvert'"``).

    Raises
    ------
    InputError
        An area reaching off the grid, a self-intersecting polygon, an area holding no usable cell.
    """
    if item.area is not None:
        key, shape = "area", shapely.Polygon(item.area)
        if not shape.is_valid:
            raise sf.error(path + (key,), f"{what}: the area is not a valid polygon "
                           f"({shapely.is_valid_reason(shape)})", expected="vertices of a simple polygon, in order")
        inside = polygon_cells([shape], grid)
    else:
        key, (cx, cy), r = "circle", item.circle.center, item.circle.radius_m
        shape = shapely.box(cx - r, cy - r, cx + r, cy + r)
        inside = circle_cells((cx, cy), r, grid)
    if not on_grid(shape.bounds, grid):
        w, s, e, n = grid.bounds()
        x0, y0, x1, y1 = shape.bounds
        raise sf.error(path + (key,), f"{what}: the {key} reaches outside the twin",
                       expected=f"x in [{w:.1f}, {e:.1f}], y in [{s:.1f}, {n:.1f}]",
                       found=f"x {x0:.1f} .. {x1:.1f}, y {y0:.1f} .. {y1:.1f}")
    rows, cols = np.nonzero(inside & usable)
    if rows.size == 0:
        raise sf.error(path + (key,), f"{what}: the {key} holds no open cell of the domain ({int(inside.sum())} cell "
                       "centre(s) inside, all on buildings or outside the domain); enlarge it or use a point",
                       expected=f"at least one open cell centre inside (cells are {grid.cell_size:g} m)")
    return rows.astype(np.int64), cols.astype(np.int64)
