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
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from twin.core.errors import RunError
from twin.ensemble.cluster import run_members
from twin.ensemble.draws import MemberDraw, control_only
from twin.hazards.interface import Hazard
from twin.io.outputs import result_dataset, write_csv, write_maps
from twin.risk.accumulator import RiskAccumulator
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


def reduce_members(sf: ScenarioFile, twin: xr.Dataset, hazard: Hazard, control_result, folder: Path,
                   draws: list[MemberDraw], client=None, progress: bool = True):
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

    Returns
    -------
    RiskResult

    Raises
    ------
    RunError
        When every member failed.
    """
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
            failures = run_members(hazard, sf, draws, add, client, progress=progress)
        if len(failures) == len(draws):
            raise RunError("every ensemble member failed; first: member "
                           f"{failures[0].index}: {failures[0].error}")
        maps = cells.finalize(allow_missing=bool(failures))
        buildings = per_building.finalize(allow_missing=bool(failures))
    return RiskResult(maps, buildings, len(draws), failures)


def write_risk(folder: Path, sf: ScenarioFile, twin: xr.Dataset, hazard: Hazard, risk: RiskResult,
               extra_building_columns: dict | None = None) -> dict:
    """Write risk.nc, the headline GeoTIFFs, buildings.csv, .geojson and .gpkg; return the risk summary."""
    used = risk.members_used
    attrs = {"scenario_name": sf.scenario.name, "hazard": sf.scenario.hazard, "members": risk.n_members,
             "members_used": used, "members_failed": len(risk.failures),
             "title": f"{sf.scenario.hazard} risk of scenario {sf.scenario.name} over {used} members",
             "source": f"risk statistics over the ensemble members of the {sf.scenario.hazard} model (docs/risk.md)",
             "references": "Hyndman, R. J. and Fan, Y. (1996), Sample quantiles in statistical packages, Am. Stat. "
                           "50(4), 361-365 (percentiles, definition 1, with weights); docs/risk.md"}
    ds = result_dataset(twin, risk.maps, hazard.risk.fields, attrs=attrs)
    write_maps(ds, folder / "risk.nc", hazard.risk.headline if sf.scenario.output.geotiff else ())
    columns = dict(risk.buildings)
    columns.update(extra_building_columns or {})
    names = list(columns)
    rows = zip(*[_csv_values(columns[k]) for k in names])
    write_csv(folder / "buildings.csv", names, rows)
    write_building_layers(folder, twin, columns)
    summary = risk_summary(hazard.risk, risk.maps, float(twin.attrs["cell_size"]) ** 2, used, risk.buildings)
    summary["members"] = risk.n_members
    summary["members_failed"] = [{"member": f.index, "error": f.error} for f in risk.failures]
    return summary


def _csv_values(column: np.ndarray) -> list:
    column = np.asarray(column)
    if column.dtype.kind == "f":
        return ["" if not np.isfinite(v) else f"{v:.6g}" for v in column]
    return column.tolist()
