"""Read what a run folder holds for rendering, and resolve a layer name to an array with its label.

A run folder holds ``twin.nc`` (the CityTwin), ``hazard.nc`` (max_depth, max_speed, arrival_time,
final_depth and snapshots ``depth(time, y, x)`` for a flood; arrival_time, burned and snapshots
``burned(time, y, x)`` for a fire; global attributes scenario_name, hazard, members), and maybe
``risk.nc`` (p_depth_over_0p5m, burn_probability, ...) and ``buildings.csv`` (building_id and
per-building values). A finished run also holds ``manifest.json``, which names the scenario file
(read again for the renderings' words: its description, and the wind and ignitions of a fire,
when it is still there and hashes as it did); a nightly run sits in a batch folder whose
``batch.json`` says when the forecast was issued.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from twin.core.errors import InputError, one_of
from twin.hazards.flood.rating import HAZARD_CLASSES
from twin.hazards.flood.risk import hazard_class_name
from twin.hazards.interface import Outputs
from twin.hazards.registry import HAZARDS, get_hazard, load_scenario
from twin.io.provenance import file_sha256
from twin.risk.vulnerability import RISK_CLASSES

#: Layers drawn as a water surface (depth in m); so are risk.nc's statistics of the maximum depth
#: (``max_depth_mean``, ``max_depth_p90``, ...). Every other layer is draped as colour.
WATER_LAYERS = ("max_depth", "final_depth", "depth")
#: The derived layer of the flood hazard-to-people class (codes 0-3 of HAZARD_CLASSES, NaN dry),
#: read from risk.nc's class probabilities (:func:`hazard_class_layer`).
HAZARD_CLASS_LAYER = "hazard_class"


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
    long_name : str
        What the field is, in words (the variable's ``long_name``), "" where it has none.
    """

    name: str
    values: np.ndarray
    units: str
    label: str
    water: bool
    time: float | None = None
    long_name: str = ""


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
    scenario : pydantic model or None
        The run's scenario, validated (:func:`run_scenario`), when its file can be found.
    issued : str or None
        The forecast issue of a nightly run (``batch.json``'s ``issued``, e.g. ``2026-11-25T00Z``).
    """

    run_dir: Path
    twin: xr.Dataset
    hazard: xr.Dataset
    risk: xr.Dataset | None
    buildings: pd.DataFrame | None
    scenario: object | None = None
    issued: str | None = None

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
    def risk_impact(self):
        """The hazard's impact function per building (:class:`twin.risk.impact.BuildingImpact`)."""
        return get_hazard(self.kind).risk.impact

    @property
    def scenario_name(self) -> str:
        """Scenario name from hazard.nc's attributes, else the folder name."""
        return str(self.hazard.attrs.get("scenario_name", self.run_dir.name))

    @property
    def members(self) -> int | None:
        """Number of ensemble members, where hazard.nc says."""
        members = self.hazard.attrs.get("members")
        return int(members) if members is not None else None

    @property
    def description(self) -> str:
        """The scenario's description, else its name in words (``sample flash flood``)."""
        text = getattr(self.scenario, "description", "") or ""
        return " ".join(text.split()) or self.scenario_name.replace("-", " ").replace("_", " ")

    @property
    def duration_s(self) -> float | None:
        """Simulated time the run covers (s): its last snapshot, else the scenario's duration."""
        if "time" in self.hazard.coords and self.hazard["time"].size:
            return float(self.hazard["time"].values[-1])
        return getattr(self.scenario, "duration", None)

    @property
    def hazard_block(self):
        """The scenario's block of the run's hazard (e.g. its ``fire:`` block), or None."""
        return getattr(self.scenario, self.kind, None) if self.kind else None


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


def _json(path: Path) -> dict:
    """A JSON object from a file, or {} when it is missing or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def run_scenario(run_dir: Path, scenario_file: str | Path | None = None):
    """The run's scenario, validated, or None.

    Read from ``scenario_file`` when given (a run rendering itself, before its manifest is
    written), else from the file ``manifest.json`` names, only while it hashes as the manifest
    recorded (a scenario edited since is not this run's); a relative name is tried against the
    working folder, as the run recorded it.
    """
    if scenario_file is None:
        manifest = _json(run_dir / "manifest.json")
        name, digest = manifest.get("scenario_file"), manifest.get("scenario_sha256")
        if not name or not Path(name).is_file() or (digest and file_sha256(name) != digest):
            return None
        scenario_file = name
    try:
        return load_scenario(scenario_file).scenario
    except InputError:
        return None


def forecast_issued(run_dir: Path) -> str | None:
    """The forecast issue of a nightly run: ``issued`` of ``../batch.json`` when that batch lists
    the run, else None."""
    record = _json(run_dir.resolve().parent / "batch.json")
    listed = run_dir.resolve().name in (record.get("scenarios") or {})
    return str(record["issued"]) if listed and record.get("issued") else None


def load_run(run_dir: str | Path, scenario_file: str | Path | None = None) -> RunData:
    """Read a run folder.

    Parameters
    ----------
    run_dir : str or Path
        Folder with twin.nc and hazard.nc, and optionally risk.nc, buildings.csv and manifest.json.
    scenario_file : str or Path, optional
        The run's scenario file (default: the one manifest.json names, :func:`run_scenario`).

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
    return RunData(run_dir, twin, hazard, risk, buildings, run_scenario(run_dir, scenario_file),
                   forecast_issued(run_dir))


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


def long_name_of(name: str) -> str:
    """The field registry's long name of a variable, "" for one it does not declare."""
    try:
        return HAZARDS.fields[name].long_name
    except KeyError:
        return ""


def label_of(name: str, units: str) -> str:
    """Scalar-bar label: the name in words with its units, e.g. ``max depth (m)``."""
    return f"{name.replace('_', ' ')} ({units})"


def layer_names(run: RunData) -> list[str]:
    """The variables of hazard.nc and risk.nc that can be drawn (on the ``(y, x)`` grid, maybe
    over ``time``), sorted, each once: not the CRS variable ``spatial_ref`` that both files hold."""
    held = {name for ds in (run.hazard, run.risk) if ds is not None
            for name, da in ds.data_vars.items() if da.dims[-2:] == ("y", "x")}
    if hazard_class_layer(run) is not None:
        held.add(HAZARD_CLASS_LAYER)
    return sorted(held)


def hazard_class_layer(run: RunData) -> np.ndarray | None:
    """The flood hazard-to-people class of each cell (codes of HAZARD_CLASSES, float, NaN where the
    cell is more likely dry than wet), or None when risk.nc has no class probabilities.

    The class is the members' median: the highest class ``c`` that half the members or more reach
    (probability of ``c`` or a higher class >= 0.5); for one member, its own class.
    """
    names = [hazard_class_name(c) for c in HAZARD_CLASSES]
    if run.risk is None or any(n not in run.risk for n in names):
        return None
    p = np.stack([np.asarray(run.risk[n].values, dtype=np.float64) for n in names])
    at_least = np.cumsum(p[::-1], axis=0)[::-1]              # P(class >= c), c = 0..3
    reached = np.nan_to_num(at_least) >= 0.5
    median = reached.sum(axis=0) - 1.0
    return np.where(median >= 0, median, np.nan)


def is_water_layer(name: str) -> bool:
    """True for depth layers, drawn as a water surface (:data:`WATER_LAYERS`, ``max_depth_*``)."""
    return name in WATER_LAYERS or name.startswith("max_depth_")


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
    if name == HAZARD_CLASS_LAYER and (classes := hazard_class_layer(run)) is not None:
        return Layer(name, classes, "1", "hazard class", False,
                     long_name="flood hazard to people (Defra FD2320 hazard rating class)")
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
                 is_water_layer(name), snapshot, str(da.attrs.get("long_name") or long_name_of(name)))


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
