"""Risk over a set of design events: per-event statistics over members, maps per return period,
annual exceedance probabilities and the expected annual damage (EAD) per building and per cell.

Each event of a set (one design storm per return period T, :class:`twin.events.design_events.EventSet`)
runs the scenario's members; its members reduce as a single storm's do
(:class:`twin.risk.accumulator.RiskAccumulator`, :class:`twin.risk.impact.BuildingRiskAccumulator`)
with the statistics the hazard declares for events (:attr:`EventRisk.spec`), one accumulator pair
per event (:class:`EventSetAccumulator`). From the events' results (:func:`event_set_risk`):

* per cell, the hazard's layers per event (:class:`EventLayer`, e.g. the flood's maximum depth),
  stacked on the ``return_period`` dimension of ``risk.nc``;
* per cell, the annual exceedance probability of each threshold of a layer
  (:class:`AnnualExceedance`, :func:`twin.events.exceedance.exceedance_probability`: 1/T of the
  smallest T whose event exceeds it, 0 where none does);
* per building, the loss of each event (``loss_T<T>_krw``: the expected loss over the event's
  members, the impact's loss column, without the protection standard), the EAD (``ead_krw``,
  KRW per year: :func:`twin.events.annual.expected_annual_damage` over those losses with the
  block's ``protection_rp`` and ``tail``, the linear tail capped at the building's value) and the
  first return period at which a column of the impact is above 0 (:class:`ReachedColumn`, e.g.
  water above the first floor; empty where no event of the set reaches it);
* per cell, the EAD map: each building's EAD spread evenly over its footprint cells (equal cell
  areas, so by area), 0 on cells without a building; its sum over the grid is the total EAD;
* the loss-exceedance curve of the total loss, with the tails: the per-building curves summed at
  the curve's AEPs, so that its trapezoid is the sum of the buildings' EADs (the linear tail's caps
  apply per building).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from twin.core.errors import RunError
from twin.core.fields import Field, FieldRegistry
from twin.events.annual import expected_annual_damage, loss_curve, tail_conventions
from twin.events.design_events import EventSet
from twin.events.exceedance import exceedance_probability, first_exceeding_return_period
from twin.risk.accumulator import RiskAccumulator
from twin.risk.exposure import BuildingTable
from twin.risk.fields import number_label
from twin.risk.impact import BuildingRiskAccumulator
from twin.risk.spec import RiskSpec
from twin.risk.summary import risk_summary

#: The return-period coordinate of ``risk.nc`` (years). UDUNITS' ``yr`` (365.2422 days) is the
#: unit of a mean recurrence interval; CF warns of ``year`` only because it is no calendar year.
RETURN_PERIOD = Field("return_period", "yr", "float64",
                      "return period of the design event: its mean recurrence interval in years, 1 / its annual "
                      "exceedance probability")
#: Units of the annual exceedance probability, an exceedance frequency (per year).
PER_YEAR = "yr-1"
#: The expected annual damage per cell. Money has no UDUNITS unit: a sum of won is a count (1), per year.
EAD_MAP = Field("expected_annual_damage_krw", PER_YEAR, "float64",
                "expected annual damage to the buildings on the cell, in KRW (won) per year: each building's "
                "expected annual damage spread evenly over its footprint cells; 0 where no building stands",
                fill=np.nan)
#: Per-building column of the expected annual damage (KRW per year).
EAD_COLUMN = "ead_krw"


def loss_column(return_period: float) -> str:
    """Per-building column of an event's loss: ``loss_T100_krw`` for T = 100 years."""
    return f"loss_T{number_label(return_period)}_krw"


@dataclass(frozen=True)
class EventLayer:
    """A map per event, stacked on the ``return_period`` dimension of ``risk.nc``.

    Attributes
    ----------
    field : Field
        Its declaration (name, units, long name, cell methods).
    of : callable
        ``of(maps) -> (ny, nx)``: the layer from one event's risk maps (:attr:`EventRisk.spec`).
    """

    field: Field
    of: Callable


@dataclass(frozen=True)
class AnnualExceedance:
    """Annual exceedance probability (1/year) of each threshold of a layer, per cell.

    Attributes
    ----------
    layer : str
        The :class:`EventLayer` compared (strictly greater than the threshold).
    thresholds : tuple of float
        In the layer's units.
    name, long_name : callable
        Field name and long name of a threshold's map.
    """

    layer: str
    thresholds: tuple
    name: Callable[[float], str]
    long_name: Callable[[float], str]

    def fields(self) -> list[Field]:
        return [Field(self.name(t), PER_YEAR, "float64", self.long_name(t), fill=np.nan) for t in self.thresholds]


@dataclass(frozen=True)
class ReachedColumn:
    """The first return period (years) at which a per-event building column is above 0.

    Attributes
    ----------
    source : str
        A column of the impact per event (e.g. the flood's ``expected_depth_above_floor_m``).
    name : str
        The output column (e.g. ``first_floor_flood_rp_years``).
    count : str
        Summary key of the number of buildings above 0 per event (e.g. ``buildings_flooded``).
    """

    source: str
    name: str
    count: str


@dataclass(frozen=True)
class EventRisk:
    """The risk of a hazard's event sets, declared by the hazard (:class:`twin.hazards.interface.EventSupport`).

    Attributes
    ----------
    spec : RiskSpec
        Statistics per event over its members, with the impact per building.
    layers : tuple of EventLayer
        Maps per event of ``risk.nc``.
    exceedance : AnnualExceedance
        Annual exceedance maps.
    reached : ReachedColumn
        The per-building return period column.
    headline : tuple of str
        Event-set maps written as GeoTIFF.
    """

    spec: RiskSpec
    layers: tuple
    exceedance: AnnualExceedance
    reached: ReachedColumn
    headline: tuple
    _fields: FieldRegistry = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        declared = [RETURN_PERIOD, *(layer.field for layer in self.layers), *self.exceedance.fields(), EAD_MAP]
        object.__setattr__(self, "_fields", FieldRegistry(declared))
        if self.exceedance.layer not in self._fields or any(n not in self._fields for n in self.headline):
            raise ValueError(f"the exceedance layer {self.exceedance.layer!r} and the headline maps {self.headline} "
                             "must be maps of this event risk")

    @property
    def fields(self) -> FieldRegistry:
        """Declarations of the return-period coordinate, the layers and the event-set maps."""
        return self._fields


@dataclass(frozen=True)
class EventStatistics:
    """One event's statistics over its members: its layers, building columns and risk summary."""

    layers: dict
    buildings: dict
    summary: dict
    members_used: int


class EventSetAccumulator:
    """Stream (event, member) results into per-event statistics; the members of each event as
    :class:`~twin.risk.accumulator.RiskAccumulator` and :class:`~twin.risk.impact.BuildingRiskAccumulator`
    reduce them (exact, in any order).

    Parameters
    ----------
    risk : EventRisk
        The hazard's event risk.
    table : BuildingTable
        The buildings.
    n_events, n_members : int
        Events of the set; members of each event.
    weights : sequence of float, optional
        Member weights (the same in every event).
    spill_dir : str or Path, optional
        Folder of the spilled member maps (:class:`~twin.risk.accumulator.RiskAccumulator`).
    mask, landcover : numpy.ndarray, optional
        As :class:`~twin.risk.accumulator.RiskAccumulator`.

    Memory: per event, the counts of ``risk.spec``'s probabilities (int64 per cell) and, on disk,
    each member's spilled maps; so ``n_events`` times a single storm's reduction.
    """

    def __init__(self, risk: EventRisk, table: BuildingTable, n_events: int, n_members: int, weights=None,
                 spill_dir=None, *, mask: np.ndarray, landcover: np.ndarray | None = None):
        self.risk = risk
        self.cells = [RiskAccumulator(risk.spec, mask.shape, n_members, weights=weights, spill_dir=spill_dir,
                                      mask=mask, landcover=landcover) for _ in range(n_events)]
        self.buildings = [BuildingRiskAccumulator(table, risk.spec.impact, n_members, weights=weights)
                          for _ in range(n_events)]

    def add(self, event: int, member: int, maps: dict) -> None:
        """Add member ``member`` of event ``event`` (indices from 0), in any order."""
        self.cells[event].add(member, maps)
        self.buildings[event].add(member, maps)

    def finalize(self, cell_area_m2: float, labels: list[str], allow_missing: bool = False) -> list[EventStatistics]:
        """Each event's statistics, in event order.

        Parameters
        ----------
        cell_area_m2 : float
            Area of a cell (m^2), for the summaries.
        labels : list of str
            How errors name each event.
        allow_missing : bool
            Accept members never added (renormalised weights), as long as each event has one.

        Raises
        ------
        RunError
            An event without any member, or members missing without ``allow_missing``.
        """
        out = []
        for cells, buildings, label in zip(self.cells, self.buildings, labels):
            if cells.members_used == 0:
                raise RunError(f"every member of the event {label} failed")
            maps = cells.finalize(allow_missing=allow_missing)
            columns = buildings.finalize(allow_missing=allow_missing)
            summary = risk_summary(self.risk.spec, maps, cell_area_m2, cells.members_used, columns)
            out.append(EventStatistics({layer.field.name: layer.of(maps) for layer in self.risk.layers}, columns,
                                       summary, cells.members_used))
        return out

    def close(self) -> None:
        """Delete every event's spilled maps."""
        for cells in self.cells:
            cells.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclass(frozen=True)
class EventSetResult:
    """The risk of an event set.

    Attributes
    ----------
    stacks : dict
        Layer name -> (n_events, ny, nx) map per return period.
    maps : dict
        Event-set map name -> (ny, nx): the annual exceedance probabilities and the EAD map.
    buildings : dict
        Per-building columns (module docstring).
    summary : dict
        The event set's part of ``summary.json`` (:func:`event_set_risk`).
    """

    stacks: dict
    maps: dict
    buildings: dict
    summary: dict


def ead_map(table: BuildingTable, ead: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each building's EAD spread evenly over its footprint cells (KRW per year per cell); 0 on other
    cells of ``mask``, NaN outside it. The map sums to ``ead.sum()`` (to round-off)."""
    cells = np.bincount(table.footprint_building, minlength=table.n)
    per_cell = np.bincount(table.footprint_cell, weights=(ead / np.maximum(cells, 1))[table.footprint_building],
                           minlength=int(np.prod(table.shape))).reshape(table.shape)
    return np.where(mask, per_cell, np.nan)


def event_set_risk(risk: EventRisk, table: BuildingTable, events: EventSet, per_event: list[EventStatistics],
                   mask: np.ndarray) -> EventSetResult:
    """The event set's maps, building columns and summary from each event's statistics (module docstring).

    Parameters
    ----------
    risk : EventRisk
        The hazard's event risk.
    table : BuildingTable
        The buildings.
    events : EventSet
        The events (return periods, ``protection_rp`` and ``tail`` of the block).
    per_event : list of EventStatistics
        From :meth:`EventSetAccumulator.finalize`, in event order.
    mask : numpy.ndarray of bool
        Cells inside the domain.

    Returns
    -------
    EventSetResult
        Its summary: the set (:meth:`~twin.events.design_events.EventSet.describe`), ``members_used``
        per event, ``loss_krw`` (total loss per event), the :class:`ReachedColumn`'s count (buildings
        whose column is above 0, per event), ``loss_curve`` (``aep_per_year`` and ``loss_krw``
        of the total loss, with the tails), ``expected_annual_damage_krw`` (the buildings' EADs
        summed), ``tail_conventions`` (:func:`twin.events.annual.tail_conventions`) and ``by_event``
        (each event's risk summary, :func:`twin.risk.summary.risk_summary`).
    """
    spec, t = events.spec, events.return_periods
    stacks = {layer.field.name: np.stack([s.layers[layer.field.name] for s in per_event])
              for layer in risk.layers}
    ex = risk.exceedance
    maps = {ex.name(x): exceedance_probability(stacks[ex.layer], t, x) for x in ex.thresholds}
    loss_name = risk.spec.impact.loss_column
    losses = np.stack([s.buildings[loss_name] for s in per_event])
    ead = expected_annual_damage(t, losses, spec.protection_rp, spec.tail, max_loss=table.value_krw)
    maps[EAD_MAP.name] = ead_map(table, ead, mask)
    reached = np.stack([s.buildings[risk.reached.source] for s in per_event])
    columns = {**table.columns(), **{loss_column(x): losses[k] for k, x in enumerate(t)}, EAD_COLUMN: ead,
               risk.reached.name: first_exceeding_return_period(reached, t, 0.0)}
    aep, curve = loss_curve(t, losses, spec.protection_rp, spec.tail, max_loss=table.value_krw)
    summary = {**events.describe(), "members_used": [s.members_used for s in per_event],
               "loss_krw": losses.sum(axis=1).tolist(),
               risk.reached.count: [int(np.sum(r > 0)) for r in reached],
               "loss_curve": {"aep_per_year": aep.tolist(), "loss_krw": curve.sum(axis=1).tolist()},
               "expected_annual_damage_krw": float(ead.sum()),
               "tail_conventions": tail_conventions(spec.protection_rp, spec.tail),
               "by_event": [{"return_period_years": float(x), **s.summary} for x, s in zip(t, per_event)]}
    return EventSetResult(stacks, maps, columns, summary)
