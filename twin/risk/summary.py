"""The risk part of a run's ``summary.json``."""

from __future__ import annotations

import numpy as np

from twin.risk.spec import RiskSpec
from twin.risk.vulnerability import RISK_CLASSES, risk_class_legend


def risk_summary(spec: RiskSpec, maps: dict[str, np.ndarray], cell_area_m2: float, members_used: int,
                 buildings: dict[str, np.ndarray] | None = None) -> dict:
    """The risk part of ``summary.json``.

    Parameters
    ----------
    spec : RiskSpec
        The hazard's risk (its ``summary`` gives the hazard's own part).
    maps : dict
        Risk maps from :meth:`twin.risk.accumulator.RiskAccumulator.finalize`.
    cell_area_m2 : float
        Area of one cell (m^2).
    members_used : int
        Members the statistics are over.
    buildings : dict, optional
        Per-building columns (:meth:`twin.risk.impact.BuildingRiskAccumulator.finalize`).

    Returns
    -------
    dict
        ``members_used``; the hazard's part (e.g. flood: expected area by hazard class of the wet
        cells, expected wet and dry areas and area over each depth threshold; fire: expected burned
        area, m^2); with buildings: ``buildings``, ``buildings_by_risk_class`` (every class, "none"
        included), ``risk_class_legend`` (:func:`twin.risk.vulnerability.risk_class_legend`), the
        hazard's expected loss (e.g. ``expected_flood_loss_krw``) and ``expected_total_loss_krw``.
    """
    out: dict = {"members_used": int(members_used), **spec.summary(maps, cell_area_m2)}
    if buildings is not None:
        loss = spec.impact.loss_column
        losses = {loss: float(np.sum(buildings[loss]))} if loss in buildings else {}
        out["buildings"] = int(len(buildings["building_id"]))
        out["buildings_by_risk_class"] = {c: int(np.sum(buildings["risk_class"] == k))
                                          for k, c in enumerate(RISK_CLASSES)}
        out["risk_class_legend"] = risk_class_legend()
        out.update(losses)
        out["expected_total_loss_krw"] = float(sum(losses.values()))
    return out
