"""Read what a run folder holds for rendering, and resolve a layer name to an array with its label.

A run folder holds ``twin.nc`` (the CityTwin), ``hazard.nc`` (max_depth, max_speed, arrival_time,
final_depth and snapshots ``depth(time, y, x)`` for a flood; arrival_time, burned and snapshots
``burned(time, y, x)`` for a fire; global attributes scenario_name, hazard, members), and maybe
``risk.nc`` (p_depth_over_0p5m, burn_probability, ...) and ``buildings.csv`` (building_id and
per-building values).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from twin.core.errors import InputError, one_of
from twin.hazards.interface import Outputs
from twin.hazards.registry import HAZARDS, get_hazard
from twin.risk.vulnerability import RISK_CLASSES

#: Layers drawn as a water surface (depth in m); every other layer is draped as colour.
WATER_LAYERS = ("max_depth", "final_depth", "depth")


@dataclass(frozen=True)
class Layer:
    """A 2-D field ready to draw.

    Attributes
    ----------
    name : str
        Variable name.
    values : numpy.ndarray, shape (ny, nx)
        The field in ``units``.
    units : str
        UDUNITS string (``"1"`` for dimensionless).
    label : str
        Scalar-bar label, with units.
    water : bool
        Drawn as a water surface (a depth, m) rather than a drape.
    time : float or None
        Snapshot time (s from the start of the run), None for run-wide fields.
    """

    name: str
    values: np.ndarray
    units: str
    label: str
    water: bool
    time: float | None = None


@dataclass(frozen=True)
class RunData:
    """The contents of one run folder.

    Attributes
    ----------
    run_dir : Path
    twin : xarray.Dataset
        The CityTwin (``twin.nc``).
    hazard : xarray.Dataset
        Hazard fields (``hazard.nc``).
    risk : xarray.Dataset or None
        Risk fields (``risk.nc``) when present.
    buildings : pandas.DataFrame or None
        Per-building table (``buildings.csv``) when present.
    """

    run_dir: Path
    twin: xr.Dataset
    hazard: xr.Dataset
    risk: xr.Dataset | None
    buildings: pd.DataFrame | None

    @property
    def kind(self) -> str:
        """The run's hazard, e.g. ``"flood"`` (attribute ``hazard`` of hazard.nc)."""
        return str(self.hazard.attrs.get("hazard", ""))

    @property
    def outputs(self) -> Outputs:
        """What the run's hazard declares it shows: the snapshot variable (animated over its
        ``time`` coordinate, s), the default layer and the default building colour
        (:class:`twin.hazards.interface.Outputs`).

        Raises
        ------
        InputError
            For a run of a hazard this installation does not know.
        """
        return get_hazard(self.kind).outputs

    @property
    def scenario_name(self) -> str:
        """Scenario name from hazard.nc's attributes, else the folder name."""
        return str(self.hazard.attrs.get("scenario_name", self.run_dir.name))

    @property
    def members(self) -> int | None:
        """Number of ensemble members, where hazard.nc says."""
        members = self.hazard.attrs.get("members")
        return int(members) if members is not None else None


def _open(path: Path, required: bool) -> xr.Dataset | None:
    if not path.exists():
        if required:
            raise InputError("file missing from the run folder", file=path)
        return None
    try:
        with xr.open_dataset(path, decode_times=False) as ds:  # snapshot times stay s since the start
            return ds.load()
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read netCDF: {err}", file=path) from err


def load_run(run_dir: str | Path) -> RunData:
    """Read a run folder.

    Parameters
    ----------
    run_dir : str or Path
        Folder with twin.nc and hazard.nc, and optionally risk.nc and buildings.csv.

    Returns
    -------
    RunData

    Raises
    ------
    twin.core.errors.InputError
        When the folder, twin.nc or hazard.nc is missing or unreadable, when twin.nc lacks a
        variable needed to draw (elevation, building_id, building_height), or when
        buildings.csv has no building_id column.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError("run folder not found", file=run_dir)
    twin = _open(run_dir / "twin.nc", required=True)
    for name in ("elevation", "building_id", "building_height"):
        if name not in twin:
            raise InputError("variable missing", file=run_dir / "twin.nc", field=name)
    if "cell_size" not in twin.attrs:
        raise InputError("attribute missing", file=run_dir / "twin.nc", field="cell_size")
    hazard = _open(run_dir / "hazard.nc", required=True)
    risk = _open(run_dir / "risk.nc", required=False)
    table_path = run_dir / "buildings.csv"
    buildings = pd.read_csv(table_path) if table_path.exists() else None
    if buildings is not None and "building_id" not in buildings:
        raise InputError("column missing", file=table_path, field="building_id")
    return RunData(run_dir, twin, hazard, risk, buildings)


def units_of(name: str, attrs: dict) -> str:
    """Units of a variable: its ``units`` attribute, else ``"1"`` for a name ending in
    ``_fraction`` or ``_probability``, ``"m"`` for one ending in ``_m`` (buildings.csv's depths),
    else the field registry, else ``"?"``."""
    if "units" in attrs:
        return str(attrs["units"])
    if name.endswith(("_fraction", "_probability")):
        return "1"
    if name.endswith("_m"):
        return "m"
    try:
        return HAZARDS.fields[name].units
    except KeyError:
        return "?"


def label_of(name: str, units: str) -> str:
    """Scalar-bar label: the name in words with its units, e.g. ``max depth (m)``."""
    return f"{name.replace('_', ' ')} ({units})"


def layer_names(run: RunData) -> list[str]:
    """The variables of hazard.nc and risk.nc that can be drawn (on the ``(y, x)`` grid, maybe
    over ``time``), sorted, each once: not the CRS variable ``spatial_ref`` that both files hold."""
    held = {name for ds in (run.hazard, run.risk) if ds is not None
            for name, da in ds.data_vars.items() if da.dims[-2:] == ("y", "x")}
    return sorted(held)


def get_layer(run: RunData, name: str, time: float | None = None) -> Layer:
    """Resolve a layer name to a 2-D field, from hazard.nc first, then risk.nc.

    Parameters
    ----------
    run : RunData
    name : str
        Variable name. A snapshot variable with a ``time`` dimension (``depth``, ``burned``)
        is taken at the snapshot nearest ``time``.
    time : float, optional
        Snapshot time (s); default the last snapshot.

    Returns
    -------
    Layer

    Raises
    ------
    twin.core.errors.InputError
        Naming the missing variable and the files searched, and listing what they hold; or when
        the field's shape differs from the twin's grid.
    """
    sources = [("hazard.nc", run.hazard), ("risk.nc", run.risk)]
    for _, ds in sources:
        if ds is not None and name in ds:
            da = ds[name]
            break
    else:
        files = one_of(f for f, ds in sources if ds is not None)
        raise InputError(f"layer not found in {files}", file=run.run_dir, field=name,
                         expected=one_of(layer_names(run)))
    snapshot = None
    if "time" in da.dims:
        da = da.isel(time=-1) if time is None else da.sel(time=time, method="nearest")
        snapshot = float(da["time"])
    grid = run.twin["elevation"].shape
    if da.shape != grid:
        raise InputError("layer is not on the twin's grid", file=run.run_dir / "hazard.nc", field=name,
                         expected=f"shape {grid}", found=f"shape {da.shape}")
    units = units_of(name, da.attrs)
    return Layer(name, np.asarray(da.values, dtype=np.float64), units, label_of(name, units),
                 name in WATER_LAYERS, snapshot)


def building_values(run: RunData, name: str) -> tuple[dict[int, float], str]:
    """Per-building values by building id, read from the run's buildings.csv, with their
    scalar-bar label.

    The values are the run's own (e.g. ``expected_depth_max_m``, the depth in the ring of open
    cells around a footprint, :mod:`twin.risk.exposure`); nothing is recomputed from the maps.

    Parameters
    ----------
    run : RunData
    name : str
        A numeric column of buildings.csv, e.g. ``expected_depth_max_m`` (m),
        ``expected_damage_fraction`` or ``burn_probability``.

    Returns
    -------
    tuple
        ``({building_id: value}, label)``; buildings with an empty cell are left out. The label of
        the ``risk_class`` column names its codes, ``none`` first (``risk class (0 none, 1 low, ...)``).

    Raises
    ------
    twin.core.errors.InputError
        When buildings.csv is missing, lacks the column, or the column is not numeric.
    """
    path = run.run_dir / "buildings.csv"
    if run.buildings is None:
        raise InputError("file missing from the run folder", file=path, field=name)
    if name not in run.buildings:
        raise InputError("column missing", file=path, field=name,
                         expected="a column of buildings.csv", found=", ".join(run.buildings.columns))
    if not pd.api.types.is_numeric_dtype(run.buildings[name]):
        raise InputError("column is not numeric", file=path, field=name, expected="numbers",
                         found=str(run.buildings[name].dtype))
    table = run.buildings[["building_id", name]].dropna()
    values = dict(zip(table["building_id"].astype(int).tolist(), table[name].astype(float).tolist()))
    if name == "risk_class":
        return values, f"risk class ({', '.join(f'{k} {c}' for k, c in enumerate(RISK_CLASSES))})"
    return values, label_of(name, units_of(name, {}))


def clock(seconds: float) -> str:
    """Elapsed time (s) as ``hh:mm``."""
    minutes = int(round(seconds / 60.0))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
