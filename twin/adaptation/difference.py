"""What a strategy changed: difference maps and avoided losses of two run folders (baseline, strategy).

Maps (the control runs' ``hazard.nc``): for each map the hazard's adaptation declares compared
(:attr:`twin.hazards.interface.Adaptation.compared`, e.g. the flood's maximum depth and arrival
time, the fire's arrival time), the strategy's value less the baseline's (NaN where either is
NaN: outside the domain, or an arrival time where the hazard never came); and ``reached_change``:
+1 where the strategy's hazard reaches a cell the baseline's does not (newly wet, newly burned: a
wall can push the water elsewhere), -1 where the baseline's reaches it and the strategy's does not
(newly dry, spared), 0 elsewhere, from the declared ``reached`` map (finite: reached).

Losses (``buildings.csv``): per building and in total, the baseline's loss less the strategy's
(avoided loss, KRW; negative: the strategy made it worse), for the hazard's loss column
(expected over the members), each member's (``member_<k>_<loss column>``, with an ensemble),
each design event's (``loss_T<T>_krw``) and the expected annual damage (``ead_krw``, KRW/yr).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from twin.core.errors import RunError
from twin.core.fields import Field, FieldRegistry
from twin.hazards.interface import Hazard
from twin.io.outputs import result_dataset, write_cog, write_csv, write_netcdf
from twin.risk.event_set import EAD_COLUMN

#: The map of cells newly reached (+1) and newly spared (-1) by the hazard.
REACHED_CHANGE = Field("reached_change", "1", "float64",
                       "cells the hazard reaches with the strategy and not in the baseline (1: newly wet or burned), "
                       "reaches in the baseline and not with the strategy (-1: newly dry or spared), 0 unchanged",
                       kind="class", fill=np.nan)
#: Column prefix of an event's loss (``loss_T100_krw``) and of a member's (``member_3_...``).
EVENT_LOSS_PREFIX, MEMBER_PREFIX = "loss_T", "member_"


def change_field(hazard: Hazard, name: str) -> Field:
    """The declaration of the change of the hazard map ``name`` (its units, strategy minus baseline)."""
    f = hazard.fields[name]
    return Field(f"{name}_change", f.units, "float64", f"change of the {f.long_name} (strategy minus baseline)",
                 fill=np.nan)


def difference_maps(hazard: Hazard, baseline: xr.Dataset, strategy: xr.Dataset, domain: np.ndarray
                    ) -> dict[str, np.ndarray]:
    """The change of each compared map and ``reached_change`` (module docstring), NaN outside ``domain``
    (bool, the twin's cells in the domain)."""
    declared = hazard.adaptation
    out = {change_field(hazard, n).name: strategy[n].values.astype(np.float64) - baseline[n].values
           for n in declared.compared}
    before, after = (np.isfinite(ds[declared.reached].values) for ds in (baseline, strategy))
    out[REACHED_CHANGE.name] = np.where(domain, after.astype(np.float64) - before, np.nan)
    return out


def write_difference(folder: Path, stem: str, hazard: Hazard, baseline_run: Path, strategy_run: Path,
                     twin: xr.Dataset, attrs: dict) -> dict:
    """Write ``<stem>.nc`` (the difference maps) and a COG of each map (``<stem>_<map>.tif``); return counts.

    Returns
    -------
    dict
        ``cells_newly_reached``, ``cells_newly_spared`` and their areas (m^2), and per compared
        map the smallest and largest change.
    """
    with xr.open_dataset(baseline_run / "hazard.nc") as b, xr.open_dataset(strategy_run / "hazard.nc") as s:
        maps = difference_maps(hazard, b.load(), s.load(), twin["domain_mask"].values == 1)
    fields = FieldRegistry([REACHED_CHANGE, *(change_field(hazard, n) for n in hazard.adaptation.compared)])
    ds = result_dataset(twin, maps, fields, attrs={
        "title": f"change made by strategy {attrs['strategy']} to scenario {attrs['scenario_name']}", **attrs,
        "source": "difference of the control runs' hazard.nc: strategy minus baseline (twin/adaptation/difference.py)"})
    write_netcdf(ds, folder / f"{stem}.nc")
    for name in maps:
        write_cog(ds[name], folder / f"{stem}_{name}.tif")
    area = float(twin.attrs["cell_size"]) ** 2
    reached = maps[REACHED_CHANGE.name]
    out = {"cells_newly_reached": int(np.sum(reached == 1)), "cells_newly_spared": int(np.sum(reached == -1))}
    out.update({"area_newly_reached_m2": out["cells_newly_reached"] * area,
                "area_newly_spared_m2": out["cells_newly_spared"] * area})
    for name, values in maps.items():
        if name != REACHED_CHANGE.name:
            finite = values[np.isfinite(values)]
            out[name] = {"min": float(finite.min()) if finite.size else None,
                         "max": float(finite.max()) if finite.size else None}
    return out


def _buildings(run: Path) -> pd.DataFrame:
    """A run's ``buildings.csv``, indexed by building id."""
    return pd.read_csv(run / "buildings.csv").set_index("building_id")


def loss_columns(hazard: Hazard, columns) -> list[str]:
    """The loss columns of a run's building table (module docstring), in its order."""
    loss = hazard.risk.impact.loss_column
    return [c for c in columns if c in (loss, EAD_COLUMN) or c.startswith(EVENT_LOSS_PREFIX)
            or (c.startswith(MEMBER_PREFIX) and c.endswith(loss))]


def avoided_losses(hazard: Hazard, baseline_run: Path, strategy_run: Path) -> pd.DataFrame:
    """Per building: each loss column of the baseline, the strategy's, and the avoided loss (baseline less strategy).

    Raises
    ------
    RunError
        When the two runs list different buildings.
    """
    b, s = _buildings(baseline_run), _buildings(strategy_run)
    if not b.index.equals(s.index):
        raise RunError(f"{baseline_run} and {strategy_run} list different buildings")
    table = pd.DataFrame(index=b.index)
    for c in loss_columns(hazard, b.columns):
        base, strat = b[c].fillna(0.0).to_numpy(float), s[c].fillna(0.0).to_numpy(float)
        table[f"baseline_{c}"], table[f"strategy_{c}"], table[f"avoided_{c}"] = base, strat, base - strat
    return table


def write_avoided(path: Path, table: pd.DataFrame, main: str) -> dict:
    """Write the per-building table (with ``outcome``: gains, loses or same, by the avoided ``main``
    loss) as CSV; return the totals per loss column and the count of buildings per outcome."""
    avoided = table[f"avoided_{main}"].to_numpy()
    outcome = np.where(avoided > 0, "gains", np.where(avoided < 0, "loses", "same"))
    frame = table.assign(outcome=outcome).reset_index()
    write_csv(path, list(frame.columns), frame.itertuples(index=False, name=None))
    totals = {c: float(table[c].sum()) for c in table.columns}
    return {"totals_krw": totals, "buildings": {k: int(np.sum(outcome == k)) for k in ("gains", "loses", "same")}}
