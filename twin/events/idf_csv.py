"""Reading an IDF table file: rain intensity (mm/h) by duration (min) and return period (years).

The format (documented in ``docs/risk.md``, "Event sets and annual damage")::

    # lines starting with '#' are comments (say where the values come from)
    duration_min,T2,T5,T10,T30,T50,T100
    10,95.1,126.4,147.2,...
    60,43.5,...

The first column, ``duration_min``, holds storm durations in minutes, strictly increasing, at
least two; each other column, ``T<years>``, the intensities (mm/h) for one return period, the
return periods > 1 year and strictly increasing from left to right. Every cell is a finite
number > 0. Physically, a longer return period is not less intense (each row does not decrease
from left to right), intensity does not increase with duration and the depth (intensity x
duration) does not decrease with it (each column). Every problem raises
:class:`twin.core.errors.InputError` with the file, the line and the column. Intensities are
converted to m/s and durations to s here, once.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np

from twin.core.errors import InputError
from twin.events.idf import IdfTable
from twin.scenario.units import MM_PER_H

#: Header of the first column.
DURATION_COLUMN = "duration_min"
#: A return-period column: ``T`` then the return period in years (``T2``, ``T100``, ``T2.33``).
_RETURN_PERIOD = re.compile(r"^T(\d+(?:\.\d+)?)$")
_HEADER = f"{DURATION_COLUMN},T2,T5,... (return periods in years, > 1, increasing)"


def _header(path: Path, line: int, header: list[str]) -> np.ndarray:
    """The return periods (years) of a header row, checked."""
    names = [h.strip() for h in header]
    if names[0] != DURATION_COLUMN or len(names) < 2:
        raise InputError("bad header", file=path, line=line, expected=_HEADER, found=",".join(names))
    periods = []
    for name in names[1:]:
        m = _RETURN_PERIOD.match(name)
        if m is None or float(m.group(1)) <= 1:
            raise InputError("bad return-period column: T then a return period > 1 year", file=path, field=name,
                             line=line, expected=_HEADER, found=name)
        periods.append(float(m.group(1)))
    back = next((k for k in range(1, len(periods)) if periods[k] <= periods[k - 1]), None)
    if back is not None:
        raise InputError("return periods must increase strictly from left to right", file=path, line=line,
                         field=names[back + 1], found=f"{names[back]} then {names[back + 1]}")
    return np.array(periods)


def _cell(text: str, path: Path, line: int, column: str) -> float:
    """A finite number > 0 from a cell, or an InputError naming the file, line and column."""
    if not text.strip():
        raise InputError("missing value", file=path, field=column, line=line, expected="a number > 0")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InputError("not a finite number > 0", file=path, field=column, line=line, found=repr(text))
    return value


def _first_bad(ok: np.ndarray) -> tuple[int, int] | None:
    """(row, column) of the first False in a 2-D array, row by row; None when all are True."""
    bad = np.argwhere(~ok)
    return (int(bad[0, 0]), int(bad[0, 1])) if bad.size else None


def _check_physics(path: Path, lines: list[int], names: list[str], minutes: np.ndarray, mm_h: np.ndarray) -> None:
    """Refuse durations that do not increase, and intensities that are not physical (module docstring)."""
    step = np.flatnonzero(np.diff(minutes) <= 0)
    if step.size:
        k = step[0] + 1
        raise InputError("durations must increase strictly down the table", file=path, field=DURATION_COLUMN,
                         line=lines[k], found=f"{minutes[k - 1]:g} min then {minutes[k]:g} min")
    where = _first_bad(np.diff(mm_h, axis=1) >= 0)
    if where is not None:
        r, c = where
        raise InputError("a longer return period must not be less intense (a row decreases from left to right)",
                         file=path, field=names[c + 2], line=lines[r],
                         found=f"{names[c + 1]} {mm_h[r, c]:g} mm/h then {names[c + 2]} {mm_h[r, c + 1]:g} mm/h")
    depth_mm = mm_h * minutes[:, None] / 60.0
    for ok, what, values, unit in ((np.diff(mm_h, axis=0) <= 0, "intensity must not increase", mm_h, "mm/h"),
                                   (np.diff(depth_mm, axis=0) >= 0, "depth (intensity x duration) must not decrease",
                                    depth_mm, "mm")):
        where = _first_bad(ok)
        if where is not None:
            r, c = where
            raise InputError(f"{what} with duration (down a column)", file=path, field=names[c + 1],
                             line=lines[r + 1], found=f"{values[r, c]:g} {unit} at {minutes[r]:g} min then "
                                                      f"{values[r + 1, c]:g} {unit} at {minutes[r + 1]:g} min")


def read_idf_table(path: str | Path) -> IdfTable:
    """Read an IDF table file (format in the module docstring) into SI units.

    Parameters
    ----------
    path : str or Path
        The CSV file.

    Returns
    -------
    IdfTable
        Durations in s, intensities in m/s (mm/h x :data:`twin.scenario.units.MM_PER_H`).

    Raises
    ------
    InputError
        Naming the file, the line and the column of the first problem.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the IDF table: {getattr(exc, 'strerror', None) or exc}", file=path) from None
    rows = [(k, r) for k, r in enumerate(csv.reader(text), 1) if r and not r[0].lstrip().startswith("#")]
    if not rows:
        raise InputError("no header", file=path, expected=_HEADER, found="no rows")
    (header_line, header), body = rows[0], rows[1:]
    periods = _header(path, header_line, header)
    names = [h.strip() for h in header]
    if len(body) < 2:
        raise InputError("an IDF table needs at least two durations", file=path, field=DURATION_COLUMN,
                         found=f"{len(body)} row{'s' if len(body) != 1 else ''}")
    values = []
    for line, row in body:
        if len(row) != len(names):
            raise InputError("wrong number of columns", file=path, line=line, expected=str(len(names)),
                             found=str(len(row)))
        values.append([_cell(cell, path, line, name) for cell, name in zip(row, names)])
    table = np.array(values)
    lines = [line for line, _ in body]
    _check_physics(path, lines, names, table[:, 0], table[:, 1:])
    return IdfTable(return_periods=periods, source=str(path), durations_s=table[:, 0] * 60.0,
                    intensity_m_s=table[:, 1:] * MM_PER_H)
