"""The flood hazard's risk: per-cell statistics over members and the impact on buildings.

Per cell: the probability that the maximum depth exceeds each threshold, the probability that the
cell stays dry and of each Defra/Environment Agency hazard-rating class of the wet cells
(:mod:`twin.hazards.flood.rating`), the probability of arrival within given times, the mean and
percentiles of the maximum depth, the percentiles of the arrival time. Per building
(:class:`FloodImpact`): the depth at the building (its ring of open cells,
:func:`twin.risk.exposure.depth_at_buildings`) above its first floor, through the depth-damage
curves (:mod:`twin.risk.vulnerability`) to the expected damage fraction and loss.

Event sets (:func:`flood_event_risk`): per design event, the mean over its members of the maximum
depth, the most probable cell class and the median arrival time, stacked by return period; the
annual exceedance probability of each depth threshold; per building, the first return period
whose event puts water above the first floor.

Wet and dry. A cell is wet in a member when its depth reached the run's wet threshold
(``flood.numerics.wet_threshold_m``, depth >= threshold), which is when the member has an arrival
time there (:func:`kernels.flood_hazard.accumulate_hazard`); it is dry where the arrival time is
NaN. The risk reads wetness from the arrival time, so it uses the run's own threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from twin.core.fields import Field
from twin.hazards.flood.rating import HAZARD_CLASSES, debris_factor, hazard_class, hazard_rating
from twin.risk.event_set import EAD_MAP, AnnualExceedance, EventLayer, EventRisk, ReachedColumn
from twin.risk.exposure import BuildingTable, any_in_ring, depth_at_buildings
from twin.risk.fields import MEMBER_MEAN, MEMBER_MEDIAN, number_label
from twin.risk.impact import MemberStatistics, require_map
from twin.risk.spec import (ARRIVAL_PERCENTILES, ARRIVAL_WITHIN_S, ClassProbability, Distribution, Exceedance,
                            RiskSpec, Within)
from twin.risk.vulnerability import DepthDamageCurves, damage_fraction, depth_above_floor, load_curves

#: Depth thresholds (m) of the exceedance-probability maps.
DEPTH_THRESHOLDS_M = (0.1, 0.3, 0.5, 1.0)
#: Percentiles (%) of the per-member maximum depth that the risk maps hold.
DEPTH_PERCENTILES = (50, 90)
#: Depth (m) of the per-building exceedance probability (and the batch's alerts).
BUILDING_DEPTH_THRESHOLD_M = 0.5
#: Percentile (%) over members of the per-building depths.
BUILDING_PERCENTILE = 90
#: The class of a cell that stays below the wet threshold, before the hazard-rating classes of wet cells.
DRY = "dry"
#: Classes of a member's cell: dry, then the hazard-rating classes (which only wet cells take).
CELL_CLASSES = (DRY, *HAZARD_CLASSES)


def exceedance_name(threshold_m: float) -> str:
    """Field name of the probability that the maximum depth exceeds ``threshold_m`` (m)."""
    return f"p_depth_over_{number_label(threshold_m)}m"


def hazard_class_name(label: str) -> str:
    """Field name of the probability of a cell class (one of :data:`CELL_CLASSES`)."""
    return f"p_hazard_{label}"


def wet_cells(maps: dict) -> np.ndarray:
    """Cells of a member that reached the run's wet threshold: those with an arrival time (bool)."""
    return np.isfinite(maps["arrival_time"])


def _cell_class(maps: dict, landcover) -> np.ndarray:
    """Index in :data:`CELL_CLASSES` of a member's cells: 0 dry, else 1 + the hazard-rating class of
    the member's maximum depth and speed (an upper bound of its peak class)."""
    d, v = maps["max_depth"], maps["max_speed"]
    rated = 1 + hazard_class(hazard_rating(d, v, debris_factor(d, v, landcover)))
    return np.where(wet_cells(maps), rated, 0)


def _cell_class_long_name(label: str) -> str:
    """Long name of the probability of a cell class."""
    if label == DRY:
        return "probability over members that the cell stays below the wet threshold (dry)"
    return f"probability over members that the cell is wet with flood hazard rating class '{label.replace('_', ' ')}'"


@dataclass(frozen=True)
class FloodImpact:
    """Depth at each building above its first floor -> damage fraction (depth-damage curves) -> expected loss.

    Per member, a building is *exposed* when a cell of its ring is wet (reached the run's wet
    threshold, :func:`wet_cells`); its depth above the floor is then the ring maximum depth minus
    its first-floor height, clipped at 0 (:func:`twin.risk.vulnerability.depth_above_floor`), and
    0 when it is not exposed. The damage fraction is the curve at the depth above the floor.

    Columns: ``expected_depth_max_m`` / ``depth_max_p90_m`` (expectation and 90th percentile over
    members of the ring maximum depth, m), ``expected_depth_mean_m`` / ``depth_mean_p90_m`` (the
    same for the ring mean depth), ``p_exposed`` (probability that the building is exposed),
    ``expected_depth_above_floor_m`` / ``depth_above_floor_p90_m`` (the depth above the floor, m),
    ``expected_damage_fraction`` (expectation of the member's damage fraction at the depth above
    the floor of the ring *maximum* depth, a conservative choice: water at any wall enters),
    ``expected_flood_loss_krw`` (value x expected damage fraction), ``p_depth_over_0p5m`` (at the wall).

    Adaptation measures (:mod:`twin.adaptation`, :func:`with_building_changes`) may raise the first
    floors (``first_floor_raise_m``: the floor the depth is measured from is the table's plus the
    raise) and dry-floodproof buildings (``floodproof_to_m``: a member's damage fraction is 0 while
    its depth above the floor is at most that height, the curve's above it: the proofing is
    overtopped); both then are columns too.

    Attributes
    ----------
    curves : DepthDamageCurves, optional
        Depth-damage curves (default: JRC Asia, :func:`twin.risk.vulnerability.load_curves`).
    first_floor_raise_m, floodproof_to_m : numpy.ndarray (n_buildings,), optional
        Raise of each building's first floor (m) and height of its dry floodproofing above the
        floor (m); None: none.
    """

    curves: DepthDamageCurves | None = None
    samples: tuple = ("depth_max", "depth_mean", "exposed")
    loss_column: str = "expected_flood_loss_krw"
    alert_column: str = exceedance_name(BUILDING_DEPTH_THRESHOLD_M)
    first_floor_raise_m: np.ndarray | None = field(default=None, compare=False)
    floodproof_to_m: np.ndarray | None = field(default=None, compare=False)

    def sample(self, table: BuildingTable, maps: dict) -> dict:
        """Ring maximum and mean of the member's maximum depth (m) per building, and 1.0 where a ring
        cell is wet (the member's ``arrival_time`` map is finite there)."""
        peak, mean = depth_at_buildings(table, require_map(table, maps, "max_depth"))
        wet = wet_cells({"arrival_time": require_map(table, maps, "arrival_time")})
        return {"depth_max": peak, "depth_mean": mean, "exposed": any_in_ring(table, wet)}

    def columns(self, table: BuildingTable, samples: dict, stats: MemberStatistics) -> tuple[dict, np.ndarray]:
        """The flood columns and the expected damage fraction."""
        dmax, dmean, exposed = samples["depth_max"], samples["depth_mean"], samples["exposed"]
        floor = table.first_floor_height_m + (0.0 if self.first_floor_raise_m is None else self.first_floor_raise_m)
        above = np.where(exposed > 0, depth_above_floor(dmax, floor[None, :]), 0.0)
        damage = damage_fraction(above, table.use[None, :], self.curves or load_curves())
        if self.floodproof_to_m is not None:
            proof = self.floodproof_to_m[None, :]
            damage = np.where((proof > 0) & (above <= proof), 0.0, damage)
        frac = stats.expect(damage)
        p = BUILDING_PERCENTILE
        changed = {name: values for name, values in (("first_floor_raise_m", self.first_floor_raise_m),
                                                    ("floodproof_to_m", self.floodproof_to_m)) if values is not None}
        return {"expected_depth_max_m": stats.expect(dmax), f"depth_max_p{p}_m": stats.percentile(dmax, p),
                "expected_depth_mean_m": stats.expect(dmean), f"depth_mean_p{p}_m": stats.percentile(dmean, p),
                "p_exposed": stats.expect(exposed), "expected_depth_above_floor_m": stats.expect(above),
                f"depth_above_floor_p{p}_m": stats.percentile(above, p),
                "expected_damage_fraction": frac, self.loss_column: table.value_krw * frac,
                self.alert_column: stats.expect(dmax > BUILDING_DEPTH_THRESHOLD_M), **changed}, frac


def _summary(maps: dict, cell_area_m2: float) -> dict:
    """Expected area (m^2) of each hazard-rating class over wet cells, of the wet and the dry cells,
    and over each depth threshold."""
    def area(name):
        return float(np.nansum(maps[name]) * cell_area_m2)

    by_class = {c: area(hazard_class_name(c)) for c in HAZARD_CLASSES}
    return {"expected_area_by_hazard_class_m2": by_class, "expected_wet_area_m2": float(sum(by_class.values())),
            "expected_dry_area_m2": area(hazard_class_name(DRY)),
            "expected_area_depth_over_m2": {k: area(k) for k in maps if k.startswith("p_depth_over_")}}


def _cell_classes() -> ClassProbability:
    """The probability of each cell class (:data:`CELL_CLASSES`) over members."""
    return ClassProbability(_cell_class, CELL_CLASSES, hazard_class_name, _cell_class_long_name)


def flood_risk(thresholds_m=DEPTH_THRESHOLDS_M, arrival_within_s=ARRIVAL_WITHIN_S,
               curves: DepthDamageCurves | None = None) -> RiskSpec:
    """The flood risk specification.

    Parameters
    ----------
    thresholds_m : sequence of float
        Depth thresholds (m); a threshold is exceeded when ``max_depth > threshold``.
    arrival_within_s : sequence of float
        Horizons (s) of the probability that the water arrives at or before them.
    curves : DepthDamageCurves, optional
        Depth-damage curves of the building impact.
    """
    return RiskSpec(
        member_maps=("max_depth", "max_speed", "arrival_time"),
        probabilities=(
            Exceedance("max_depth", thresholds_m, exceedance_name,
                       lambda t: f"probability over members that the maximum water depth exceeds {t:g} m"),
            _cell_classes(),
            Within("arrival_time", arrival_within_s)),
        distributions=(Distribution("arrival_time", ARRIVAL_PERCENTILES, "s", "arrival time", nan_is_never=True),
                       Distribution("max_depth", DEPTH_PERCENTILES, "m", "maximum water depth", mean=True)),
        impact=FloodImpact(curves),
        headline=("max_depth_mean", "max_depth_p90", exceedance_name(BUILDING_DEPTH_THRESHOLD_M),
                  hazard_class_name("danger_for_most")),
        summary=_summary)


def most_probable_class(maps: dict) -> np.ndarray:
    """Index in :data:`CELL_CLASSES` of the most probable class of each cell over members, the more
    severe one on a tie (so one member gives its own class); NaN where the probabilities are NaN."""
    p = np.stack([maps[hazard_class_name(c)] for c in CELL_CLASSES])
    k = len(CELL_CLASSES) - 1 - np.argmax(np.nan_to_num(p, nan=-1.0)[::-1], axis=0)
    return np.where(np.isnan(p[0]), np.nan, k.astype(np.float64))


_CLASS_CODES = ", ".join(f"{k} {c.replace('_', ' ')}" for k, c in enumerate(CELL_CLASSES))
#: The maps per design event of an event set's ``risk.nc``, on its ``return_period`` dimension.
EVENT_LAYERS = (
    EventLayer(Field("event_max_depth", "m", "float64", "maximum water depth of the design event (mean over the "
                     "event's members)", fill=np.nan, cell_methods=MEMBER_MEAN), lambda maps: maps["max_depth_mean"]),
    EventLayer(Field("event_hazard_class", "1", "float64", "flood hazard rating class of the design event, the "
                     f"most probable over its members (ties: the more severe): {_CLASS_CODES}", kind="class",
                     fill=np.nan, cell_methods="realization: mode"), most_probable_class),
    EventLayer(Field("event_arrival_time", "s", "float64", "time after the start at which the water of the "
                     "design event first reaches the wet threshold (median over its members; NaN where fewer than "
                     "half of them reach it)", fill=np.nan, cell_methods=MEMBER_MEDIAN),
               lambda maps: maps["arrival_time_p50"]),
)


def aep_name(threshold_m: float) -> str:
    """Field name of the annual exceedance probability of a maximum depth over ``threshold_m`` (m)."""
    return f"aep_depth_over_{number_label(threshold_m)}m"


def flood_event_risk(thresholds_m=DEPTH_THRESHOLDS_M, curves: DepthDamageCurves | None = None) -> EventRisk:
    """The flood risk of a design-event set (:mod:`twin.risk.event_set`).

    Per event over its members: the class probabilities, the mean maximum depth, the median
    arrival time (the layers of :data:`EVENT_LAYERS`) and the building impact (:class:`FloodImpact`);
    over the set: the annual exceedance probability of each depth threshold (of the events' mean
    maximum depth), and per building the first return period whose event puts water above the
    first floor (``expected_depth_above_floor_m`` > 0: in at least one of the event's members).

    Parameters
    ----------
    thresholds_m : sequence of float
        Depth thresholds (m) of the annual exceedance maps.
    curves : DepthDamageCurves, optional
        Depth-damage curves of the building impact.
    """
    spec = RiskSpec(
        member_maps=("max_depth", "max_speed", "arrival_time"), probabilities=(_cell_classes(),),
        distributions=(Distribution("arrival_time", (50,), "s", "arrival time", nan_is_never=True),
                       Distribution("max_depth", (), "m", "maximum water depth", mean=True)),
        impact=FloodImpact(curves), headline=(), summary=_summary)
    exceedance = AnnualExceedance(
        "event_max_depth", tuple(thresholds_m), aep_name,
        lambda t: f"annual exceedance probability (per year) of a maximum water depth over {t:g} m: 1/T of the "
                  f"smallest return period T whose design event's maximum depth (mean over its members) exceeds "
                  f"{t:g} m; 0 where no event of the set does")
    return EventRisk(spec, EVENT_LAYERS, exceedance,
                     ReachedColumn("expected_depth_above_floor_m", "first_floor_flood_rp_years", "buildings_flooded"),
                     headline=(aep_name(BUILDING_DEPTH_THRESHOLD_M), EAD_MAP.name))


#: The per-building changes :class:`FloodImpact` takes from adaptation measures.
BUILDING_CHANGES = ("first_floor_raise_m", "floodproof_to_m")


def with_building_changes(impact: FloodImpact, changes: dict) -> FloodImpact:
    """``impact`` with adaptation measures' per-building changes (:data:`BUILDING_CHANGES`, arrays in
    the building table's order, m) in place of its own."""
    return replace(impact, **{name: np.asarray(changes[name], dtype=np.float64) for name in BUILDING_CHANGES
                              if name in changes})
