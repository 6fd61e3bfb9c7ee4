"""What a run report reads from a run folder.

The maps and the building table come through :func:`viz.run_data.load_run` (``twin.nc``,
``hazard.nc``, ``risk.nc``, ``buildings.csv``); besides them a report reads ``summary.json``
(required), ``manifest.json`` (or the manifest a caller passes, for a folder whose manifest is
not written yet), ``gauges.csv`` and ``ledger.csv`` where the run wrote them, the scenario file
the manifest names (when it still hashes as it did), and the nightly batch's ``batch.json`` one
folder up (the forecast issue time).

A run of a design-event set (``events:`` in its scenario) also gets its event set from
``summary.json``'s ``risk.events`` (:class:`EventSetFigures`): the events' losses, the
loss-exceedance curve with its tails, the expected annual damage, as the run wrote them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from twin.core.errors import InputError
from twin.hazards.registry import get_hazard
from twin.core.yamlio import load_yaml_with_lines
from twin.io.provenance import file_sha256
from viz.run_data import RunData, load_run


@dataclass(frozen=True)
class ScenarioText:
    """The scenario file of a run, as the report shows it.

    Attributes
    ----------
    path : Path or None
        The file the manifest names (None when the manifest names none).
    text : str or None
        Its text, when found and unchanged since the run (its SHA-256 is the manifest's).
    data : dict
        Its parsed content (empty when ``text`` is None).
    note : str or None
        Why the text is not shown, when it is not.
    """

    path: Path | None
    text: str | None
    data: dict
    note: str | None = None


@dataclass(frozen=True)
class EventSetFigures:
    """The design-event set of a run as ``summary.json`` holds it (``risk.events``, written by
    :func:`twin.risk.event_set.event_set_risk`); nothing is recomputed.

    Attributes
    ----------
    return_periods : numpy.ndarray
        T of each event (years), increasing.
    loss_krw : numpy.ndarray
        Total loss over the buildings per event (KRW), as the model gives it (no protection applied).
    curve_aep : numpy.ndarray
        Annual exceedance probabilities (1/year) of the loss-exceedance curve integrated, decreasing:
        the protection point, the events beyond it, AEP 0 of the rare tail (when not truncated).
    curve_loss_krw : numpy.ndarray
        The curve's total loss (KRW) at each of them.
    ead_krw : float
        Expected annual damage (KRW per year): the curve's trapezoid.
    protection_rp : float
        Years; 0 for none. Events with T <= it count no loss.
    tail : str
        The rare end: ``truncate``, ``constant`` or ``linear``.
    reached : numpy.ndarray
        Buildings reached per event (e.g. water above the first floor), the count the hazard
        declares (:class:`twin.risk.event_set.ReachedColumn`).
    events : dict
        ``risk.events`` as written (storms, tail conventions in words, ``by_event`` …).
    """

    return_periods: np.ndarray
    loss_krw: np.ndarray
    curve_aep: np.ndarray
    curve_loss_krw: np.ndarray
    ead_krw: float
    protection_rp: float
    tail: str
    reached: np.ndarray
    events: dict

    @property
    def counted(self) -> np.ndarray:
        """True for the events whose loss the curve counts (T above ``protection_rp``)."""
        return self.return_periods > self.protection_rp

    def curve_point_kinds(self) -> list[str]:
        """What each point of the curve is: ``protection`` (0 at AEP 1/P), ``event`` or ``tail`` (AEP 0)."""
        return ["tail" if p == 0 else "protection" if self.protection_rp > 0 and k == 0 else "event"
                for k, p in enumerate(self.curve_aep)]


def event_set_figures(summary: dict, file: Path, kind: str) -> EventSetFigures | None:
    """The event set of a run's ``summary.json``, or None for a run of a single storm.

    Parameters
    ----------
    summary : dict
        ``summary.json``.
    file : Path
        Its path (for errors).
    kind : str
        The run's hazard (its event risk names the count of buildings reached).

    Raises
    ------
    InputError
        Naming summary.json and the key: a figure of the set missing, or lists of unequal lengths.
    """
    events = (summary.get("risk") or {}).get("events")
    if events is None:
        return None
    where = "risk.events"

    def at(*path):
        node = events
        for key in path:
            if not isinstance(node, dict) or key not in node:
                raise InputError("figure of the event set missing", file=file, field=".".join((where, *path)))
            node = node[key]
        return node

    reached_count = get_hazard(kind).events.risk.reached.count
    figures = EventSetFigures(
        np.asarray(at("return_periods_years"), dtype=np.float64), np.asarray(at("loss_krw"), dtype=np.float64),
        np.asarray(at("loss_curve", "aep_per_year"), dtype=np.float64),
        np.asarray(at("loss_curve", "loss_krw"), dtype=np.float64), float(at("expected_annual_damage_krw")),
        float(at("tail_conventions", "protection_rp_years")), str(at("tail_conventions", "tail")),
        np.asarray(at(reached_count), dtype=np.int64), events)
    for name, values, size in (("loss_krw", figures.loss_krw, figures.return_periods.size),
                               (reached_count, figures.reached, figures.return_periods.size),
                               ("loss_curve.loss_krw", figures.curve_loss_krw, figures.curve_aep.size)):
        if values.size != size:
            raise InputError("lists of the event set of unequal lengths", file=file, field=f"{where}.{name}",
                             expected=f"{size} values", found=f"{values.size}")
    return figures


@dataclass(frozen=True)
class ReportData:
    """Everything a run report shows.

    Attributes
    ----------
    run : RunData
        Twin, hazard and risk maps, building table.
    summary : dict
        ``summary.json``.
    manifest : dict or None
        ``manifest.json`` (or the manifest passed to :func:`read_report_data`).
    gauges : pandas.DataFrame or None
        ``gauges.csv``: ``gauge``, ``time_s`` and the gauge's records (depth in m, speed in m/s, …).
    ledger : pandas.DataFrame or None
        ``ledger.csv``: the volume ledger over time (columns as its header names them).
    scenario : ScenarioText
    issued : str or None
        Forecast issue label of a nightly run (``batch.json``'s ``issued``).
    events : EventSetFigures or None
        The design-event set of the run (None for a single storm).
    """

    run: RunData
    summary: dict
    manifest: dict | None
    gauges: pd.DataFrame | None
    ledger: pd.DataFrame | None
    scenario: ScenarioText
    issued: str | None
    events: EventSetFigures | None = None

    @property
    def description(self) -> str:
        """The scenario's description, else its name."""
        return str(self.scenario.data.get("description") or self.run.scenario_name)

    @property
    def members(self) -> int:
        """Ensemble members the risk is over (1 for a single run)."""
        risk = self.summary.get("risk", {})
        return int(risk.get("members_used", self.run.members or 1))

    @property
    def duration_s(self) -> float | None:
        """Simulated duration (s) from the summary, where it says."""
        d = self.summary.get("duration_s")
        return float(d) if d is not None else None


def _read_json(path: Path, required: bool) -> dict | None:
    if not path.exists():
        if required:
            raise InputError("file missing from the run folder", file=path)
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"cannot read JSON: {err}", file=path) from err
    if not isinstance(data, dict):
        raise InputError("not a JSON object", file=path, expected="an object", found=type(data).__name__)
    return data


def read_table(path: Path, required_columns: tuple = ()) -> pd.DataFrame | None:
    """A CSV table of the run folder, or None when the file is absent.

    Raises
    ------
    InputError
        When the file cannot be read or lacks one of ``required_columns``.
    """
    if not path.exists():
        return None
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise InputError(f"cannot read CSV: {err}", file=path) from err
    missing = [c for c in required_columns if c not in table]
    if missing:
        raise InputError("column missing", file=path, field=missing[0],
                         expected=", ".join(required_columns), found=", ".join(table.columns))
    return table


def read_scenario(manifest: dict | None) -> ScenarioText:
    """The scenario file the manifest names, if it is still there and hashes as it did."""
    name = (manifest or {}).get("scenario_file")
    if not name:
        return ScenarioText(None, None, {}, "the manifest names no scenario file")
    path = Path(name)
    if not path.is_file():
        return ScenarioText(path, None, {}, f"the scenario file {path} is no longer there")
    if manifest.get("scenario_sha256") and file_sha256(path) != manifest["scenario_sha256"]:
        return ScenarioText(path, None, {}, f"the scenario file {path} has changed since the run")
    data, _ = load_yaml_with_lines(path)
    return ScenarioText(path, path.read_text(encoding="utf-8"), data if isinstance(data, dict) else {})


def forecast_issued(run_dir: Path) -> str | None:
    """The forecast issue label of a nightly run: ``issued`` of ``../batch.json`` when that
    batch lists the run, else None."""
    batch = run_dir.resolve().parent / "batch.json"
    try:
        record = json.loads(batch.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(record, dict) and run_dir.resolve().name in record.get("scenarios", {}):
        return str(record.get("issued")) if record.get("issued") else None
    return None


def read_report_data(run_dir: str | Path, manifest: dict | None = None) -> ReportData:
    """Read what a report of ``run_dir`` shows.

    Parameters
    ----------
    run_dir : str or Path
        A run folder (it holds twin.nc, hazard.nc and summary.json).
    manifest : dict, optional
        The run's manifest, for a folder whose ``manifest.json`` is not written yet (the pipeline
        writes it last); default: ``manifest.json`` when present.

    Returns
    -------
    ReportData

    Raises
    ------
    InputError
        Naming the file: the folder, twin.nc, hazard.nc or summary.json missing or unreadable, a
        table without its key columns, an event set's figure missing from summary.json.
    """
    run = load_run(run_dir)
    folder = run.run_dir
    summary = _read_json(folder / "summary.json", required=True)
    if manifest is None:
        manifest = _read_json(folder / "manifest.json", required=False)
    gauges = read_table(folder / "gauges.csv", ("gauge", "time_s"))
    ledger = read_table(folder / "ledger.csv")
    events = event_set_figures(summary, folder / "summary.json", run.kind)
    return ReportData(run, summary, manifest, gauges, ledger, read_scenario(manifest), forecast_issued(folder),
                      events)
