"""The measures, one small class per ``type`` (:data:`MEASURES`), and the plan of a strategy on a twin.

A measure turns its strategy entry into an :class:`Effect` on a twin (:meth:`Measure.effect`):
edits of the hazard's prepared inputs (:class:`InputEdit`, on an input the hazard declares
adaptable, :class:`twin.hazards.interface.Adaptation`), per-building changes its impact takes,
its geometry (written as a vector layer) and its cost. What each does, in SI units:

* ``floodwall``: the cells the line crosses (open cells in the domain) get a bed elevation of at
  least the crest, ``z = max(z, crest)``: water below the crest cannot cross, water above it
  overtops (the local inertial scheme's flow over a raised cell; Bates et al. 2010).
* ``elevate_buildings``: the first floor of the selected buildings is raised by ``by_m``.
* ``floodproof``: the damage of the selected buildings is 0 while the water above the first floor
  is at most ``up_to_m`` (dry floodproofing; FEMA P-936, 2013, ch. 5), the curve's above it.
* ``green_roofs_and_parks``: ``infiltration_mm_h`` is added to the infiltration capacity of the
  area's open cells (the kernel's infiltration sink), and ``storage_mm`` to their retention
  storage (a sink that takes the first ``storage_mm`` of water reaching each cell, then is full;
  :attr:`twin.hazards.flood.model.FloodInputs.retention_m`); both are ledger terms
  (``infiltration``, ``retained``). Rain on roofs is routed to the open cells around them
  (:mod:`twin.hazards.flood.forcing`), so a green roof is written as the area around its building.
* ``retention_basin``: a lowered bed: the area's open cells are dug ``volume_m3 / (n dx^2)`` deep,
  so that the basin holds ``volume_m3`` below the ground around it (water in it is the ledger's storage).
* ``pump``: ``capacity_m3_s / dx^2`` (m/s) of storm-drain capacity at its cell, or ``drainage_mm_h``
  over an area: the kernel's drainage sink, which removes up to its capacity where there is
  water (the ledger's drainage).
* ``firebreak``: cells within ``width_m / 2`` of the line (and the cells it crosses) get fuel model 99
  (non-burnable, Scott & Burgan 2005): vegetation fire cannot cross it except by spotting.
* ``fire_resistant_retrofit``: the selected buildings' fire-resistant share in Hamada's spread
  becomes ``share`` (Hamada 1951; the window mean of :mod:`twin.hazards.fire.model`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from twin.adaptation.places import (Site, area_cells, line_cells, line_geometries, point_cell, selected_buildings,
                                    usable)
from twin.adaptation.schema import StrategyFile
from twin.core.areas import polygon_cells
from twin.core.citytwin import twin_grid
from twin.hazards.interface import Hazard
from twin.risk.exposure import building_shapes, building_table
from twin.scenario.units import MM_PER_H

#: Fuel model of a firebreak's cells: 99, non-burnable (bare ground; Scott and Burgan 2005).
NON_BURNABLE = 99
#: Deepest basin (m) a volume may dig into its area; deeper is a typo or too small an area.
MAX_BASIN_DEPTH_M = 20.0


@dataclass(frozen=True)
class InputEdit:
    """A change of one adaptable input of the hazard on some cells.

    Attributes
    ----------
    input : str
        The adaptable input (:class:`twin.hazards.interface.AdaptableInput`).
    rows, cols : numpy.ndarray of int64
        The cells.
    values : numpy.ndarray of float64
        One value per cell, in the input's units.
    how : {"at_least", "add", "set"}
        ``max(old, value)``, ``old + value`` or ``value``.
    """

    input: str
    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    how: str

    def applied(self, array: np.ndarray) -> np.ndarray:
        """A copy of ``array`` with the edit made (same dtype)."""
        out = np.array(array, copy=True)
        old = out[self.rows, self.cols]
        new = {"at_least": np.maximum(old, self.values), "add": old + self.values, "set": self.values}[self.how]
        out[self.rows, self.cols] = new
        return out


@dataclass(frozen=True)
class Effect:
    """What one measure does on a twin.

    Attributes
    ----------
    name, type : str
        The measure's name and type.
    edits : tuple of InputEdit
        Its changes of the hazard's inputs.
    buildings : dict
        Per-building change name -> ndarray (n_buildings,), the building table's order.
    geometry : list
        Where it is (shapely, the twin's CRS), for its vector layer.
    cost_krw : float
        Its cost (KRW).
    size : dict
        Its extent in numbers (cells, buildings, volume...), for the summary.
    """

    name: str
    type: str
    edits: tuple = ()
    buildings: dict = field(default_factory=dict)
    geometry: list = field(default_factory=list)
    cost_krw: float = 0.0
    size: dict = field(default_factory=dict)


def _cells(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.nonzero(mask)
    return rows.astype(np.int64), cols.astype(np.int64)


class Measure:
    """A measure type: what of the hazard it needs and its effect on a twin.

    Attributes
    ----------
    type : str
        Its ``type`` in a strategy.
    inputs : tuple of str
        Adaptable inputs of the hazard it edits.
    building_changes : tuple of str
        Per-building changes of the hazard's impact it makes.
    """

    type: str = ""
    inputs: tuple = ()
    building_changes: tuple = ()

    def check_applies(self, sf: StrategyFile, index: int, hazard: Hazard) -> None:
        """Refuse a measure the scenario's hazard cannot take (it declares none of what it needs)."""
        declared = hazard.adaptation
        missing = [n for n in self.inputs if declared is None or declared.input(n) is None]
        missing += [n for n in self.building_changes if declared is None or n not in declared.building_changes]
        if missing:
            raise sf.error(("measures", index, "type"), f"{self.type} does not apply to a {hazard.name} scenario",
                           expected=f"a hazard that takes {', '.join(missing)}", found=hazard.name)

    def effect(self, sf: StrategyFile, index: int, site: Site) -> Effect:
        """The measure ``index`` of ``sf`` on the twin ``site``."""
        raise NotImplementedError


def _building_cost(spec, site: Site, chosen: np.ndarray) -> float:
    """``cost_krw`` plus ``cost_krw_per_m2`` times the footprint area (m^2) of the chosen buildings."""
    return spec.cost_krw + spec.cost_krw_per_m2 * float(site.buildings.footprint_area_m2[chosen].sum())


class FloodwallMeasure(Measure):
    """``floodwall``: the line's cells raised to the crest (module docstring)."""

    type, inputs = "floodwall", ("bed_elevation",)

    def effect(self, sf, index, site):
        spec, path = sf.strategy.measures[index], ("measures", index)
        what = f"floodwall {sf.measure_name(index)!r}"
        geoms = line_geometries(sf, path + ("line",), spec.line, site.grid, what)
        rows, cols = _cells(usable(sf, path + ("line",), line_cells(geoms, site.grid), site.open_cells, what))
        ground = site.elevation[rows, cols]
        if spec.crest_m is None:
            crest = ground + spec.height_above_ground_m
        else:
            crest = np.full(rows.size, spec.crest_m)
            if not (crest > ground).any():
                raise sf.error(path + ("crest_m",), f"{what}: the crest is at or below the ground on every cell of "
                               "its line", expected=f"above {ground.min():.2f} m (the lowest ground on the line)",
                               found=f"{spec.crest_m:g} m")
        raised = np.maximum(crest - ground, 0.0)
        return Effect(sf.measure_name(index), self.type, (InputEdit("bed_elevation", rows, cols, crest, "at_least"),),
                      geometry=geoms, cost_krw=spec.cost_krw,
                      size={"cells": int(rows.size), "length_m": float(sum(g.length for g in geoms)),
                            "crest_min_m": float(crest.min()), "crest_max_m": float(crest.max()),
                            "height_max_m": float(raised.max())})


class BuildingChange(Measure):
    """A measure that changes the selected buildings' ``change`` to the spec's ``attribute`` (m)."""

    change, attribute = "", ""

    def effect(self, sf, index, site):
        spec, path = sf.strategy.measures[index], ("measures", index)
        geoms, chosen = selected_buildings(sf, path + ("where",), spec.where, site,
                                           f"{self.type} {sf.measure_name(index)!r}")
        value = getattr(spec, self.attribute)
        shapes = [site.footprints[k] for k in np.flatnonzero(chosen)] if site.footprints else geoms
        return Effect(sf.measure_name(index), self.type, buildings={self.change: np.where(chosen, value, 0.0)},
                      geometry=shapes, cost_krw=_building_cost(spec, site, chosen),
                      size={"buildings": int(chosen.sum()),
                            "footprint_area_m2": float(site.buildings.footprint_area_m2[chosen].sum()),
                            self.attribute: float(value)})


class ElevateMeasure(BuildingChange):
    """``elevate_buildings``: first floors raised."""

    type, building_changes, change, attribute = ("elevate_buildings", ("first_floor_raise_m",),
                                                 "first_floor_raise_m", "by_m")


class FloodproofMeasure(BuildingChange):
    """``floodproof``: no damage up to a height above the first floor."""

    type, building_changes, change, attribute = "floodproof", ("floodproof_to_m",), "floodproof_to_m", "up_to_m"


class GreenMeasure(Measure):
    """``green_roofs_and_parks``: infiltration capacity and retention storage added over an area."""

    type, inputs = "green_roofs_and_parks", ("infiltration_rate", "retention")

    def effect(self, sf, index, site):
        spec, path = sf.strategy.measures[index], ("measures", index)
        geoms, mask = area_cells(sf, path + ("area",), spec.area, site, f"{self.type} {sf.measure_name(index)!r}")
        rows, cols = _cells(mask)
        edits = [InputEdit(name, rows, cols, np.full(rows.size, value * factor), "add")
                 for name, value, factor in (("infiltration_rate", spec.infiltration_mm_h, MM_PER_H),
                                             ("retention", spec.storage_mm, 1e-3)) if value is not None]
        return Effect(sf.measure_name(index), self.type, tuple(edits), geometry=geoms, cost_krw=spec.cost_krw,
                      size={"cells": int(rows.size), "area_m2": float(rows.size * site.grid.cell_size ** 2),
                            "infiltration_mm_h": spec.infiltration_mm_h, "storage_mm": spec.storage_mm})


class BasinMeasure(Measure):
    """``retention_basin``: the area's open cells lowered by volume / area."""

    type, inputs = "retention_basin", ("bed_elevation",)

    def effect(self, sf, index, site):
        spec, path = sf.strategy.measures[index], ("measures", index)
        what = f"{self.type} {sf.measure_name(index)!r}"
        geoms, mask = area_cells(sf, path + ("area",), spec.area, site, what)
        rows, cols = _cells(mask)
        area = rows.size * site.grid.cell_size ** 2
        depth = spec.volume_m3 / area
        if depth > MAX_BASIN_DEPTH_M:
            raise sf.error(path + ("volume_m3",), f"{what}: {spec.volume_m3:g} m3 over its {area:g} m2 of open cells "
                           f"is {depth:.1f} m deep; enlarge the area", expected=f"at most {MAX_BASIN_DEPTH_M:g} m deep",
                           found=f"{depth:.1f} m")
        return Effect(sf.measure_name(index), self.type,
                      (InputEdit("bed_elevation", rows, cols, np.full(rows.size, -depth), "add"),),
                      geometry=geoms, cost_krw=spec.cost_krw,
                      size={"cells": int(rows.size), "area_m2": float(area), "depth_m": float(depth),
                            "volume_m3": spec.volume_m3})


class PumpMeasure(Measure):
    """``pump``: storm-drain capacity at a cell (m^3/s over the cell) or over an area (mm/h)."""

    type, inputs = "pump", ("drainage_rate",)

    def effect(self, sf, index, site):
        spec, path = sf.strategy.measures[index], ("measures", index)
        what = f"pump {sf.measure_name(index)!r}"
        if spec.at is not None:
            r, c = point_cell(sf, path + ("at",), spec.at, site, what)
            rows, cols = np.array([r], np.int64), np.array([c], np.int64)
            rate, geoms = np.array([spec.capacity_m3_s / site.grid.cell_size ** 2]), [shapely.Point(spec.at)]
            size = {"cells": 1, "capacity_m3_s": spec.capacity_m3_s}
        else:
            geoms, mask = area_cells(sf, path + ("area",), spec.area, site, what)
            rows, cols = _cells(mask)
            rate = np.full(rows.size, spec.drainage_mm_h * MM_PER_H)
            size = {"cells": int(rows.size), "drainage_mm_h": spec.drainage_mm_h,
                    "capacity_m3_s": float(rate.sum() * site.grid.cell_size ** 2)}
        return Effect(sf.measure_name(index), self.type, (InputEdit("drainage_rate", rows, cols, rate, "add"),),
                      geometry=geoms, cost_krw=spec.cost_krw, size=size)


class FirebreakMeasure(Measure):
    """``firebreak``: fuel made non-burnable within half its width of the line."""

    type, inputs = "firebreak", ("fuel_model",)

    def effect(self, sf, index, site):
        spec, path = sf.strategy.measures[index], ("measures", index)
        what = f"firebreak {sf.measure_name(index)!r}"
        lines = line_geometries(sf, path + ("line",), spec.line, site.grid, what)
        strips = [g.buffer(0.5 * spec.width_m, cap_style="flat") for g in lines]
        mask = line_cells(lines, site.grid) | polygon_cells(strips, site.grid)
        rows, cols = _cells(usable(sf, path + ("line",), mask, site.open_cells, what))
        return Effect(sf.measure_name(index), self.type,
                      (InputEdit("fuel_model", rows, cols, np.full(rows.size, float(NON_BURNABLE)), "set"),),
                      geometry=strips, cost_krw=spec.cost_krw,
                      size={"cells": int(rows.size), "width_m": spec.width_m,
                            "length_m": float(sum(g.length for g in lines))})


class RetrofitMeasure(Measure):
    """``fire_resistant_retrofit``: the footprint cells of the selected buildings get the share."""

    type, inputs = "fire_resistant_retrofit", ("fire_resistant_share",)

    def effect(self, sf, index, site):
        spec, path = sf.strategy.measures[index], ("measures", index)
        geoms, chosen = selected_buildings(sf, path + ("where",), spec.where, site,
                                           f"{self.type} {sf.measure_name(index)!r}")
        table = site.buildings
        cells = table.footprint_cell[chosen[table.footprint_building]]
        rows, cols = (a.astype(np.int64) for a in np.unravel_index(cells, table.shape))
        shapes = [site.footprints[k] for k in np.flatnonzero(chosen)] if site.footprints else geoms
        return Effect(sf.measure_name(index), self.type,
                      (InputEdit("fire_resistant_share", rows, cols, np.full(rows.size, spec.share), "set"),),
                      geometry=shapes, cost_krw=_building_cost(spec, site, chosen),
                      size={"buildings": int(chosen.sum()), "share": spec.share})


#: The measure types, by their ``type``.
MEASURES = {m.type: m for m in (FloodwallMeasure(), ElevateMeasure(), FloodproofMeasure(), GreenMeasure(),
                                BasinMeasure(), PumpMeasure(), FirebreakMeasure(), RetrofitMeasure())}


@dataclass(frozen=True)
class Plan:
    """A strategy on a twin: the effect of each of its measures.

    Attributes
    ----------
    name : str
        The strategy's name.
    effects : tuple of Effect
    n_buildings : int
        Buildings of the twin (the length of the per-building changes).
    """

    name: str
    effects: tuple
    n_buildings: int

    @property
    def edits(self) -> tuple:
        """Every input edit, in the measures' order (later measures act on what earlier ones made)."""
        return tuple(e for effect in self.effects for e in effect.edits)

    def building_changes(self) -> dict:
        """Per-building change name -> the largest of the measures' values per building (m): two
        measures selecting one building do not add up."""
        out: dict = {}
        for effect in self.effects:
            for name, values in effect.buildings.items():
                out[name] = values if name not in out else np.maximum(out[name], values)
        return out

    @property
    def cost_krw(self) -> float:
        """The measures' total cost (KRW)."""
        return float(sum(e.cost_krw for e in self.effects))


def site_of(twin) -> Site:
    """The :class:`Site` of a loaded twin (its building table and footprints read once)."""
    domain = twin["domain_mask"].values == 1
    table = building_table(twin)
    shapes = building_shapes(twin) if table.n else {}
    return Site(twin_grid(twin), domain, domain & (twin["building_id"].values == 0),
                np.asarray(twin["elevation"].values, dtype=np.float64), table,
                [shapes[int(b)] for b in table.building_id])


def plan_strategy(sf: StrategyFile, hazard: Hazard, site: Site) -> Plan:
    """The plan of a strategy for a scenario's hazard on a twin (every input error raised here).

    Raises
    ------
    InputError
        A measure the hazard does not take; a measure off the twin, holding no usable cell or
        selecting no building; a floodwall's crest below the ground everywhere; a basin too deep.
    """
    effects = []
    for index, spec in enumerate(sf.strategy.measures):
        measure = MEASURES[spec.type]
        measure.check_applies(sf, index, hazard)
        effects.append(measure.effect(sf, index, site))
    return Plan(sf.strategy.name, tuple(effects), site.buildings.n)
