"""The flood hazard's scenario block: ``flood:`` (rainfall, inflows, boundaries, roughness, losses, numerics).

Rainfall and losses are given in mm/h and converted to m/s here (:mod:`twin.scenario.units`).
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Discriminator, Field, Tag, model_validator

from kernels.flood import ALPHA, OUTFLOW_FRACTION, courant_limit
from twin.core import limits
from twin.core.classes import LANDCOVER
from twin.scenario.schema import FromColumn, Frozen, Point, Time, VectorFile, check_series
from twin.scenario.units import MM_PER_H

RainMmH = Annotated[float, Field(ge=0, le=limits.MAX_RAIN_MM_H)]
LossMmH = Annotated[float, Field(ge=0, le=limits.MAX_LOSS_MM_H)]
ManningN = Annotated[float, Field(gt=0, le=limits.MAX_MANNING_N)]
Level = Annotated[float, Field(ge=limits.MIN_LEVEL_M, le=limits.MAX_LEVEL_M)]


class UniformRainfall(Frozen):
    """Uniform hyetograph: intensity (mm/h) piecewise linear between times, 0 after the last time."""

    times: list[Time]
    intensity_mm_h: list[RainMmH]

    @model_validator(mode="after")
    def _lengths(self):
        check_series(self.times, self.intensity_mm_h, "intensity_mm_h")
        return self

    def rates_m_s(self) -> list[float]:
        """Intensities in m/s."""
        return [v * MM_PER_H for v in self.intensity_mm_h]


class GriddedRainfall(Frozen):
    """Gridded rainfall from a netCDF file with dims (time, y, x) in any CRS covering the twin."""

    file: str
    variable: str = "rainfall"
    scale: Annotated[float, Field(gt=0, le=limits.MAX_RAIN_SCALE)] = 1.0
    member: Annotated[int, Field(ge=0)] | None = None


class Circle(Frozen):
    """A circle in the twin's CRS: its centre (x, y in m) and radius (m)."""

    center: Point
    radius_m: Annotated[float, Field(gt=0)]


class Inflow(Frozen):
    """A point (``at``), line (``line``), polygon (``area``) or circle (``circle``) inflow with a discharge
    hydrograph (m^3/s, piecewise linear), shared equally among the open cells it covers."""

    name: str
    at: Point | None = None
    line: Annotated[list[Point], Field(min_length=2)] | None = None
    area: Annotated[list[Point], Field(min_length=3)] | None = None
    circle: Circle | None = None
    times: list[Time]
    discharge_m3_s: list[Annotated[float, Field(ge=0, le=limits.MAX_DISCHARGE_M3_S)]]

    @model_validator(mode="after")
    def _shape(self):
        if sum(v is not None for v in (self.at, self.line, self.area, self.circle)) != 1:
            raise ValueError("give exactly one of 'at: [x, y]', 'line: [[x0, y0], [x1, y1], ...]', "
                             "'area: [[x0, y0], [x1, y1], [x2, y2], ...]' or 'circle: {center: [x, y], radius_m: r}'")
        check_series(self.times, self.discharge_m3_s, "discharge_m3_s")
        return self


class LevelSeries(Frozen):
    """A fixed water level (m above datum) at an open boundary, piecewise linear in time."""

    times: list[Time]
    level_m: list[Level]

    @model_validator(mode="after")
    def _lengths(self):
        check_series(self.times, self.level_m, "level_m")
        return self



def _number_or_mapping(value: object, number: str, mapping: str, other: str | None = None) -> str:
    """Discriminate a union by the YAML type of its value, so errors come from one branch only."""
    if isinstance(value, dict):
        return mapping
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number
    return other or number


Boundary = Annotated[
    Union[Annotated[Literal["closed", "free"], Tag("keyword")], Annotated[Level, Tag("level")],
          Annotated[LevelSeries, Tag("series")]],
    Discriminator(lambda v: _number_or_mapping(v, "level", "series", "keyword")),
]


class Boundaries(Frozen):
    """Boundary condition per edge: ``closed`` wall, ``free`` outflow, a fixed level (m), or a level series."""

    north: Boundary = "free"
    south: Boundary = "free"
    east: Boundary = "free"
    west: Boundary = "free"


def _check_landcover_names(table: dict) -> None:
    unknown = sorted(set(table) - set(LANDCOVER))
    if unknown:
        raise ValueError(f"unknown land cover {unknown}; known: {sorted(LANDCOVER)}")


class ManningTable(Frozen):
    """Roughness: a default n (s m^-1/3) and overrides by land-cover name."""

    default: ManningN | None = None
    by_landcover: dict[str, ManningN] = {}

    @model_validator(mode="after")
    def _names(self):
        _check_landcover_names(self.by_landcover)
        return self


class Losses(Frozen):
    """Infiltration (mm/h, a number or by land-cover name) and urban drainage capacity (mm/h)."""

    infiltration_mm_h: Annotated[
        Union[Annotated[LossMmH, Tag("number")], Annotated[dict[str, LossMmH], Tag("table")]],
        Discriminator(lambda v: _number_or_mapping(v, "number", "table")),
    ] = 0.0
    drainage_mm_h: LossMmH = 0.0

    @model_validator(mode="after")
    def _names(self):
        if isinstance(self.infiltration_mm_h, dict):
            _check_landcover_names(self.infiltration_mm_h)
        return self


def _per_feature(value: type) -> object:
    """A number for every feature, or ``{column}`` for a value per feature."""
    return Annotated[Union[Annotated[value, Tag("number")], Annotated[FromColumn, Tag("column")]],
                     Discriminator(lambda v: _number_or_mapping(v, "number", "column"))]


class AreaOverride(VectorFile):
    """Roughness and losses for the cells inside the polygons of a vector layer, over the land-cover defaults.

    Each value is a number for every polygon or ``{column: NAME}`` for a value per polygon; the
    infiltration and drainage capacity are in mm/h. Later polygons, and later overrides, are on top.
    """

    manning_n: _per_feature(ManningN) | None = None
    infiltration_mm_h: _per_feature(LossMmH) | None = None
    drainage_mm_h: _per_feature(LossMmH) | None = None

    @model_validator(mode="after")
    def _something(self):
        if self.manning_n is None and self.infiltration_mm_h is None and self.drainage_mm_h is None:
            raise ValueError("give at least one of manning_n, infiltration_mm_h or drainage_mm_h")
        return self


class FloodNumerics(Frozen):
    """Scheme settings (Bates et al. 2010; de Almeida et al. 2012) and the step's outflow control
    (the largest share of its water a shallow cell may lose in one step,
    :func:`kernels.flood.stable_timestep`)."""

    theta: Annotated[float, Field(ge=0.5, le=1.0)] = 0.8
    alpha: Annotated[float, Field(gt=0, le=1.0)] = ALPHA
    max_dt: Annotated[float, Field(ge=1e-3, le=limits.MAX_TIME_STEP_S)] = 10.0
    max_outflow_fraction: Annotated[float, Field(gt=0, le=1.0)] = OUTFLOW_FRACTION
    wet_threshold_m: Annotated[float, Field(gt=0, le=10.0)] = 0.05

    @model_validator(mode="after")
    def _stable(self):
        limit = courant_limit(self.theta)
        if self.alpha > limit:
            raise ValueError(f"alpha = {self.alpha:g} is above the stability limit sqrt(theta / 2) = {limit:.4f} "
                             f"of the scheme with theta = {self.theta:g} (docs/flood_numerics.md): "
                             f"give alpha <= {limit:.4f} or a larger theta")
        return self


class FloodSpec(Frozen):
    """The ``flood:`` block."""

    rainfall: Annotated[
        Union[Annotated[UniformRainfall, Tag("uniform")], Annotated[GriddedRainfall, Tag("gridded")]],
        Discriminator(lambda v: "gridded" if isinstance(v, dict) and "file" in v else "uniform"),
    ] | None = None
    inflows: list[Inflow] = []
    boundaries: Boundaries = Boundaries()
    manning_n: Annotated[
        Union[Annotated[ManningN, Tag("number")], Annotated[ManningTable, Tag("table")]],
        Discriminator(lambda v: _number_or_mapping(v, "number", "table")),
    ] | None = None
    losses: Losses = Losses()
    overrides: list[AreaOverride] = []
    initial_depth_m: Annotated[float, Field(ge=0, le=limits.MAX_DEPTH_M)] | str = 0.0
    manning_scale: Annotated[float, Field(gt=0, le=limits.MAX_MANNING_SCALE)] = 1.0
    numerics: FloodNumerics = FloodNumerics()
