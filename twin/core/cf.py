"""The CF conventions every netCDF file of the project follows: global attributes, time, coordinates.

Every file (``twin.nc``, ``hazard.nc``, ``risk.nc``, the sample forecast) carries the global
attributes of CF-1.8 section 2.6.2: ``Conventions``, ``title``, ``institution``, ``source`` (the
software and its version, and the model) and ``references`` (:func:`global_attrs`), and
``history``, one UTC line per write, added by the writers with :func:`as_written`, which also
leaves coordinates and their bounds without a fill value (CF-1.8 sections 2.5.1 and 7.1). Variables' own attributes come from
their declarations (:func:`twin.core.fields.cf_attrs`).

Time. A time coordinate holds seconds after the scenario start, and CF needs a reference time
in its units (section 4.4) and a calendar (section 4.4.1): ``units = "seconds since <start>"`` with
the scenario's ``start:`` in UTC (:func:`time_units`) and ``calendar = "proleptic_gregorian"``, so a
reader that decodes the times gets the dates of the run (the nightly batch sets the start to the
forecast's first time). A scenario without ``start:`` has no calendar date: its start is written as
the nominal reference time :data:`SCENARIO_EPOCH` (1970-01-01 00:00:00), decoded dates on 1 January
1970 stand for "so long after the start", and the time coordinate's ``comment`` says so.
"""

from __future__ import annotations

from datetime import datetime, timezone
from importlib import metadata

import numpy as np
import xarray as xr

#: The conventions the files follow.
CONVENTIONS = "CF-1.8"
#: Where the data was produced: the software does not know who runs it.
INSTITUTION = "not recorded (produced with the open-source city-twin software by its user)"
#: Where the methods of every file are described, when a file names no papers of its own.
PROJECT_REFERENCES = "city-twin documentation: README.md and docs/ (each formula is cited in its module)"
#: The nominal reference time written for the start of a scenario without ``start:``.
SCENARIO_EPOCH = "1970-01-01 00:00:00"
#: Calendar of every time coordinate.
CALENDAR = "proleptic_gregorian"
#: Name of the bounds variable of the snapshots' ``time``.
TIME_BOUNDS = "time_bnds"


def utc_now() -> str:
    """The current time, ISO 8601 in UTC (seconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def software() -> str:
    """``"city-twin <version>"``, the installed version of the package."""
    try:
        version = metadata.version("city-twin")
    except metadata.PackageNotFoundError:
        version = "(version unknown: package not installed)"
    return f"city-twin {version}"


def global_attrs(title: str, source: str, references: str = PROJECT_REFERENCES, **extra) -> dict:
    """The CF global attributes of a dataset, but its ``history`` (added when written: :func:`as_written`).

    Parameters
    ----------
    title : str
        What is in the file.
    source : str
        How the data was made (the model); :func:`software` is put before it.
    references : str, optional
        The papers of the methods; default :data:`PROJECT_REFERENCES`.
    **extra
        Further global attributes (scenario name, hazard, members, ...).

    Returns
    -------
    dict
        ``Conventions``, ``title``, ``institution``, ``source``, ``references`` and ``extra``.
    """
    return {"Conventions": CONVENTIONS, "title": title, "institution": INSTITUTION,
            "source": f"{software()}: {source}", "references": references, **extra}


def start_text(start: datetime | None) -> str | None:
    """The scenario start as ISO 8601 in UTC (``2026-07-13T21:00:00+00:00``), or None without one."""
    return None if start is None else start.astimezone(timezone.utc).isoformat()


def time_units(start: datetime | None) -> str:
    """``"seconds since YYYY-MM-DD HH:MM:SS"``: the scenario start in UTC, or :data:`SCENARIO_EPOCH`.

    Parameters
    ----------
    start : datetime or None
        The scenario start (timezone-aware; ``Scenario.start``), or None for a scenario without one.
    """
    if start is None:
        return f"seconds since {SCENARIO_EPOCH}"
    utc = start.astimezone(timezone.utc)
    fraction = f".{utc.microsecond:06d}".rstrip("0") if utc.microsecond else ""
    return f"seconds since {utc:%Y-%m-%d %H:%M:%S}{fraction}"


def time_attrs(start: datetime | None) -> dict:
    """Attributes of the snapshots' ``time`` coordinate (s since the scenario start): units, calendar,
    bounds, and a ``comment`` that says what the reference time stands for."""
    if start is None:
        reference = (f"the scenario has no calendar date (no start: key): its start is written as the nominal "
                     f"reference time {SCENARIO_EPOCH} UTC, so a value is the number of seconds since the "
                     "scenario start")
    else:
        reference = f"the reference time is the scenario start, {start_text(start)}"
    return {"standard_name": "time", "long_name": "time since scenario start", "units": time_units(start),
            "calendar": CALENDAR, "axis": "T", "bounds": TIME_BOUNDS,
            "comment": f"{reference}; snapshots are instants (bounds [t, t])"}


def snapshot_times(times_s, start: datetime | None = None) -> tuple[tuple, tuple]:
    """The ``time`` coordinate of snapshots at ``times_s`` (s since the scenario start) and its bounds.

    The units count from ``start`` (:func:`time_attrs`). Snapshots are instants: the bounds
    variable :data:`TIME_BOUNDS` holds ``[t, t]`` (CF-1.8 section 7.1). The bounds also keep the
    maps over the whole run apart from the snapshots: their ``cell_methods = "time: maximum"``
    names the standard name ``time`` (section 7.3.4), and a checker that reads it as this
    coordinate (cfchecks does) finds bounds on it.

    Parameters
    ----------
    times_s : array_like
        Snapshot times (s since the scenario start).
    start : datetime, optional
        The scenario start (``Scenario.start``); None: the nominal :data:`SCENARIO_EPOCH`.

    Returns
    -------
    tuple
        ``(coordinate, bounds)``, each ``(dims, values, attrs)`` for an ``xarray.Dataset``.
    """
    t = np.asarray(times_s, dtype=np.float64)
    return ("time", t, time_attrs(start)), (("time", "nv"), np.stack([t, t], axis=1), {})


def as_written(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` (a shallow copy) as a file gets it: a ``history`` line for this write, no fill on coordinates.

    The line (UTC time and :func:`software`) is appended to the history ``ds`` already has (a
    twin read from netCDF keeps its lines). Coordinates and their bounds get no ``_FillValue``
    (CF-1.8 section 2.5.1: no missing data in coordinates; bounds are part of their coordinate,
    section 7.1).
    """
    line = f"{utc_now()}: written by {software()}"
    history = ds.attrs.get("history")
    ds = ds.copy().assign_attrs(history=f"{history}\n{line}" if history else line)
    bounds = [ds[name].attrs["bounds"] for name in ds.coords if "bounds" in ds[name].attrs]
    for name in [*ds.coords, *(b for b in bounds if b in ds)]:
        ds[name].encoding["_FillValue"] = None
    return ds
