"""Positions in a scenario (points and lines in the twin's CRS) turned into grid cells.

A position off the grid, or on cells the hazard cannot use (a building, outside the domain), is
an :class:`~twin.core.errors.InputError` at its YAML path and line.
"""

from __future__ import annotations

import numpy as np

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
