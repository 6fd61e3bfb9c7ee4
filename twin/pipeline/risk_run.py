"""Risk of a run: reduce the members' hazard maps to risk maps and building impacts, and write them.

Without an ``ensemble`` block the run's single (control) result is the only member, so the
probabilities are 0 or 1 and the expected values are the deterministic ones. With an ensemble,
the members run on dask (:mod:`twin.ensemble.cluster`) and are reduced as they finish
(:class:`twin.risk.accumulator.RiskAccumulator`, :class:`twin.risk.impact.BuildingRiskAccumulator`),
as the hazard's risk specification says (:attr:`twin.hazards.interface.Hazard.risk`).

Outputs: ``risk.nc`` (CF-1.8, CRS, attributes from the risk spec's field declarations), COG GeoTIFFs of the
headline maps, ``buildings.csv``, ``buildings.geojson`` and ``buildings.gpkg`` (footprints in the
twin CRS with the per-building columns: the city's own footprints and ids when the twin has a
footprints file, ``twin/risk/exposure.py``) and the risk part of ``summary.json``.

A design-event set (:class:`twin.ensemble.draws.EventRuns`) runs every member in every event, on
dask, and reduces each event's members apart (:class:`twin.risk.event_set.EventSetAccumulator`);
without an ``ensemble`` block the control run is the rarest event's only member. Its ``risk.nc``
holds the hazard's maps per event on a ``return_period`` dimension (years), the annual exceedance
maps and the expected annual damage map; its building columns and summary are the event set's
(:func:`twin.risk.event_set.event_set_risk`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from twin.core.errors import RunError
from twin.core.fields import cf_attrs
from twin.ensemble.cluster import MemberTask, run_members
from twin.ensemble.draws import EventRuns, MemberDraw, control_only
from twin.hazards.interface import Hazard
from twin.io.outputs import result_dataset, write_csv, write_maps
from twin.risk.accumulator import RiskAccumulator
from twin.risk.event_set import RETURN_PERIOD, EventSetAccumulator, EventSetResult, event_set_risk
from twin.risk.exposure import building_table, write_building_layers
from twin.risk.impact import BuildingRiskAccumulator
from twin.risk.summary import risk_summary
from twin.scenario.schema import ScenarioFile


@dataclass(frozen=True)
class RiskResult:
    """Risk maps by field name, per-building columns, the members asked for and those that failed."""

    maps: dict
    buildings: dict
    n_members: int
    failures: list

    @property
    def members_used(self) -> int:
        """Members the statistics are over."""
        return self.n_members - len(self.failures)


@dataclass(frozen=True)
class EventRiskResult:
    """The risk of a design-event set (:func:`twin.risk.event_set.event_set_risk`), the members of each
    event asked for and those that failed (in any event)."""

    events: EventRuns
    result: EventSetResult
    n_members: int
    failures: list


def reduce_members(sf: ScenarioFile, twin: xr.Dataset, hazard: Hazard, control_result, folder: Path,
                   draws: list[MemberDraw], client=None, progress: bool = True, events: EventRuns | None = None):
    """Risk maps and building columns of a run, with the members that failed.

    Parameters
    ----------
    sf, twin, hazard
        The scenario, its twin and its hazard.
    control_result
        The control run's result (the only member when the scenario has no ensemble).
    folder : Path
        The run's temporary folder (member maps are spilled to a subfolder and removed).
    draws : list of MemberDraw
        Members to run (:func:`twin.ensemble.draws.member_draws`); the control alone
        (:func:`twin.ensemble.draws.control_only`) is
        reduced from ``control_result`` without dask.
    client : distributed.Client or None
        The cluster the members run on (see :func:`twin.ensemble.cluster.run_members`); None only for
        the control alone.
    progress : bool
        Show a progress bar counting members.
    events : EventRuns, optional
        The scenario's design events: every member runs in each (:func:`reduce_events`).

    Returns
    -------
    RiskResult or EventRiskResult

    Raises
    ------
    RunError
        When every member failed (of any event).
    """
    if events is not None:
        return reduce_events(twin, hazard, control_result, folder, draws, events, client, progress)
    weights = [d.weight for d in draws]
    inside = twin["domain_mask"].values == 1
    table = building_table(twin)
    cells = RiskAccumulator(hazard.risk, inside.shape, len(draws), weights=weights, spill_dir=folder, mask=inside,
                            landcover=twin["landcover"].values)
    per_building = BuildingRiskAccumulator(table, hazard.risk.impact, len(draws), weights=weights)
    failures = []

    def add(draw: MemberDraw, maps: dict) -> None:
        cells.add(draw.index, maps)
        per_building.add(draw.index, maps)

    with cells:
        if control_only(draws):
            add(draws[0], hazard.member_maps(control_result))
        else:
            failures = run_members(hazard, [MemberTask(sf, d) for d in draws], lambda t, maps: add(t.draw, maps),
                                   client, progress=progress)
        if len(failures) == len(draws):
            raise RunError("every ensemble member failed; first: member "
                           f"{failures[0].index}: {failures[0].error}")
        maps = hazard.risk.with_annual(cells.finalize(allow_missing=bool(failures)), sf.scenario)
        buildings = per_building.finalize(allow_missing=bool(failures))
    return RiskResult(maps, buildings, len(draws), failures)


def reduce_events(twin: xr.Dataset, hazard: Hazard, control_result, folder: Path, draws: list[MemberDraw],
                  events: EventRuns, client, progress: bool = True) -> EventRiskResult:
    """The risk of a design-event set: every member in every event, each event reduced apart.

    Without an ensemble (the control alone), the control run (the rarest event as written,
    :attr:`twin.ensemble.draws.EventRuns.control`) is that event's member and the other events run
    on dask; with members, every (event, member) pair runs on dask, with the same draws in each event.

    Raises
    ------
    RunError
        When every member of an event failed.
    """
    inside = twin["domain_mask"].values == 1
    table = building_table(twin)
    n_events = len(events.scenarios)
    tasks = [MemberTask(event_sf, d, k, label)
             for k, (event_sf, label) in enumerate(zip(events.scenarios, events.labels)) for d in draws]
    with EventSetAccumulator(hazard.events.risk, table, n_events, len(draws), [d.weight for d in draws],
                             spill_dir=folder, mask=inside, landcover=twin["landcover"].values) as acc:
        if control_only(draws):
            acc.add(n_events - 1, draws[0].index, hazard.member_maps(control_result))
            tasks = [t for t in tasks if t.event != n_events - 1]
        failures = run_members(hazard, tasks, lambda t, maps: acc.add(t.event, t.draw.index, maps), client,
                               progress=progress)
        per_event = acc.finalize(float(twin.attrs["cell_size"]) ** 2, events.labels, allow_missing=bool(failures))
    return EventRiskResult(events, event_set_risk(hazard.events.risk, table, events.events, per_event, inside),
                           len(draws), failures)


def write_risk(folder: Path, sf: ScenarioFile, twin: xr.Dataset, hazard: Hazard, risk: RiskResult | EventRiskResult,
               extra_building_columns: dict | None = None) -> dict:
    """Write risk.nc, the headline GeoTIFFs, buildings.csv, .geojson and .gpkg; return the risk summary
    (an event set's: :func:`write_event_risk`)."""
    if isinstance(risk, EventRiskResult):
        return write_event_risk(folder, sf, twin, hazard, risk, extra_building_columns)
    used = risk.members_used
    attrs = {"scenario_name": sf.scenario.name, "hazard": sf.scenario.hazard, "members": risk.n_members,
             "members_used": used, "members_failed": len(risk.failures),
             "title": f"{sf.scenario.hazard} risk of scenario {sf.scenario.name} over {used} members",
             "source": f"risk statistics over the ensemble members of the {sf.scenario.hazard} model (docs/risk.md)",
             "references": "Hyndman, R. J. and Fan, Y. (1996), Sample quantiles in statistical packages, Am. Stat. "
                           "50(4), 361-365 (percentiles, definition 1, with weights); docs/risk.md"}
    ds = result_dataset(twin, risk.maps, hazard.risk.fields, attrs=attrs)
    write_maps(ds, folder / "risk.nc", hazard.risk.headline if sf.scenario.output.geotiff else ())
    _write_buildings(folder, twin, {**risk.buildings, **(extra_building_columns or {})})
    summary = risk_summary(hazard.risk, risk.maps, float(twin.attrs["cell_size"]) ** 2, used, risk.buildings)
    summary["members"] = risk.n_members
    summary["members_failed"] = [{"member": f.index, "error": f.error} for f in risk.failures]
    return summary


def write_event_risk(folder: Path, sf: ScenarioFile, twin: xr.Dataset, hazard: Hazard, risk: EventRiskResult,
                     extra_building_columns: dict | None = None) -> dict:
    """Write an event set's risk.nc (maps per return period, annual exceedance, EAD), its headline
    GeoTIFFs, buildings.csv and buildings.geojson; return its risk summary (``events``: the set's)."""
    declared = hazard.events.risk
    res = risk.result
    t = risk.events.events.return_periods
    attrs = {"scenario_name": sf.scenario.name, "hazard": sf.scenario.hazard, "members": risk.n_members,
             "members_failed": len(risk.failures), "events": t.size,
             "title": f"{sf.scenario.hazard} risk of scenario {sf.scenario.name} over {t.size} design events "
                      f"(return periods {t[0]:g}-{t[-1]:g} years)",
             "source": f"{sf.scenario.hazard} model run on design storms from an IDF relation, reduced per event "
                       "over its members, integrated over the annual exceedance probability (docs/risk.md, "
                       "'Event sets and annual damage')",
             "references": "Olsen, A. S., Zhou, Q., Linde, J. J. and Arnbjerg-Nielsen, K. (2015), Comparing methods "
                           "of calculating expected annual damage in urban pluvial flood risk assessments, Water "
                           "7(1), 255-270; Chow, V. T., Maidment, D. R. and Mays, L. W. (1988), Applied Hydrology, "
                           "ch. 12 and 14; Huff, F. A. (1967), Time distribution of rainfall in heavy storms, Water "
                           "Resour. Res. 3(4), 1007-1019; docs/risk.md"}
    ds = result_dataset(twin, res.maps, declared.fields, attrs=attrs)
    ds = ds.assign_coords({RETURN_PERIOD.name: (RETURN_PERIOD.name, t, cf_attrs(RETURN_PERIOD))})
    for name, stack in res.stacks.items():
        ds[name] = ((RETURN_PERIOD.name, "y", "x"), stack, declared.fields.cf_attrs(name))
    ds.rio.write_crs(twin.rio.crs, inplace=True)  # grid_mapping on the maps added after result_dataset
    write_maps(ds, folder / "risk.nc", declared.headline if sf.scenario.output.geotiff else ())
    _write_buildings(folder, twin, {**res.buildings, **(extra_building_columns or {})})
    # the control run (hazard.nc, gauges, the summary's peak depth and ledger) is the rarest event
    return {"members": risk.n_members, "events": {"control_run_return_period_years": float(t[-1]), **res.summary},
            "members_failed": [{"member": f.index, "event_return_period_years": float(t[f.event]), "error": f.error}
                               for f in risk.failures]}


def _write_buildings(folder: Path, twin: xr.Dataset, columns: dict) -> None:
    """Write buildings.csv, buildings.geojson and buildings.gpkg from the per-building columns."""
    names = list(columns)
    rows = zip(*[_csv_values(columns[k]) for k in names])
    write_csv(folder / "buildings.csv", names, rows)
    write_building_layers(folder, twin, columns)


def _csv_values(column: np.ndarray) -> list:
    column = np.asarray(column)
    if column.dtype.kind == "f":
        return ["" if not np.isfinite(v) else f"{v:.6g}" for v in column]
    return column.tolist()
