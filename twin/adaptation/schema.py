"""The strategy file: a named set of adaptation measures and the economics of their benefit.

Read like a scenario (:mod:`twin.scenario.schema`): YAML with the line of every path
(:func:`twin.core.yamlio.load_yaml_with_lines`), validated into frozen models with every schema
error at once, each with its YAML path and line (:func:`twin.core.validation.validate`). Unknown
keys and unknown measure types are errors; sizes must be positive and costs not negative. Paths
(vector files) are resolved against the strategy file's folder. Money is in KRW.

Each measure is a mapping with a ``type`` (a key of :data:`twin.adaptation.measures.MEASURES`),
where it is (a ``line``, an ``area``, a point ``at`` or a selection of buildings ``where``), its
size and its cost (``cost_krw``, and for building measures optionally ``cost_krw_per_m2`` of
footprint). See ``docs/adaptation.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BeforeValidator, Field, model_validator

from twin.core import limits
from twin.core.classes import BUILDING_USE
from twin.core.errors import InputError
from twin.core.validation import validate
from twin.core.yamlio import load_yaml_with_lines
from twin.io.run_folders import MAX_NAME_BYTES, NAME_PATTERN
from twin.scenario.schema import FileWithLines, Frozen, Point, VectorFile

#: A positive size, and a cost that is not negative (KRW).
Positive = Annotated[float, Field(gt=0)]
Cost = Annotated[float, Field(ge=0)]


def _place(min_vertices: int, what: str):
    """The validator of a place written inline (at least ``min_vertices`` vertices ``[x, y]``, m), or
    as a vector file: a file name or ``{file, layer}``."""
    def check(value):
        if isinstance(value, str):
            return VectorFile(file=value)
        if isinstance(value, dict):
            return VectorFile.model_validate(value)
        if isinstance(value, VectorFile):
            return value
        if not isinstance(value, list) or len(value) < min_vertices:
            n = len(value) if isinstance(value, list) else type(value).__name__
            raise ValueError(f"{what} needs at least {min_vertices} points [x, y] (or a vector file); found {n}")
        points = []
        for v in value:
            if not (isinstance(v, list) and len(v) == 2 and all(isinstance(c, (int, float)) and not
                                                                isinstance(c, bool) for c in v)):
                raise ValueError(f"{what}: each point is [x, y] in metres; found {v!r}")
            points.append((float(v[0]), float(v[1])))
        if not all(np.isfinite(points).ravel()):
            raise ValueError(f"{what}: coordinates must be finite")
        return points
    return BeforeValidator(check)


#: A polyline of at least two vertices (x, y in m, the twin's CRS), or a layer of lines.
Line = Annotated[Union[list[Point], VectorFile], _place(2, "a line")]
#: A polygon of at least three vertices (x, y in m), or a layer of polygons.
Area = Annotated[Union[list[Point], VectorFile], _place(3, "an area")]
#: Largest wall or raise (m) and volume (m^3) a measure may give: beyond them a number is a typo.
MAX_HEIGHT_M = 50.0
MAX_VOLUME_M3 = 1.0e9
MAX_CAPACITY_M3_S = limits.MAX_DISCHARGE_M3_S
MAX_WIDTH_M = 1000.0
MAX_STORAGE_MM = 2000.0


class Where(Frozen):
    """Buildings a measure applies to: those with a footprint cell centre inside ``area`` or a
    polygon of ``file`` (``layer``), and of one of the uses ``use``; at least one is given, and
    given together they must all hold."""

    file: str | None = None
    layer: str | None = None
    area: Area | None = None
    use: Annotated[list[Literal[tuple(BUILDING_USE)]], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _something(self):
        if self.file is None and self.area is None and self.use is None:
            raise ValueError("give file, area or use (or several: all must hold)")
        if self.layer is not None and self.file is None:
            raise ValueError("layer: a layer needs its file")
        return self

    @property
    def vector(self) -> VectorFile | None:
        """The ``{file, layer}`` of the selection, None without a file."""
        return None if self.file is None else VectorFile(file=self.file, layer=self.layer)


class MeasureBase(Frozen):
    """What every measure has: its type, an optional name (default ``<type>_<index>``) and a total cost."""

    name: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    cost_krw: Cost = 0.0


class BuildingMeasure(MeasureBase):
    """A measure on buildings: their selection and a cost per m^2 of footprint on top of ``cost_krw``."""

    where: Where
    cost_krw_per_m2: Cost = 0.0


class Floodwall(MeasureBase):
    """A wall along a line: the cells it crosses are raised to the crest (flood bed elevation).

    ``crest_m`` is the crest's level (m, the terrain's datum); ``height_above_ground_m`` the
    wall's height over each cell's ground. Exactly one is given."""

    type: Literal["floodwall"]
    line: Line
    crest_m: Annotated[float, Field(ge=limits.MIN_LEVEL_M, le=limits.MAX_LEVEL_M)] | None = None
    height_above_ground_m: Annotated[float, Field(gt=0, le=MAX_HEIGHT_M)] | None = None

    @model_validator(mode="after")
    def _one_crest(self):
        if (self.crest_m is None) == (self.height_above_ground_m is None):
            raise ValueError("give crest_m or height_above_ground_m (one of them)")
        return self


class ElevateBuildings(BuildingMeasure):
    """First floors of the buildings raised by ``by_m`` (m)."""

    type: Literal["elevate_buildings"]
    by_m: Annotated[float, Field(gt=0, le=MAX_HEIGHT_M)]


class Floodproof(BuildingMeasure):
    """Dry floodproofing: no damage while the water above the first floor is at most ``up_to_m`` (m)."""

    type: Literal["floodproof"]
    up_to_m: Annotated[float, Field(gt=0, le=MAX_HEIGHT_M)]


class GreenRoofsAndParks(MeasureBase):
    """On the open cells of ``area``: more infiltration (``infiltration_mm_h``, mm/h, added to the
    scenario's) and a storage that fills with the first ``storage_mm`` (mm) of water reaching each
    cell; one or both."""

    type: Literal["green_roofs_and_parks"]
    area: Area
    infiltration_mm_h: Annotated[float, Field(gt=0, le=limits.MAX_LOSS_MM_H)] | None = None
    storage_mm: Annotated[float, Field(gt=0, le=MAX_STORAGE_MM)] | None = None

    @model_validator(mode="after")
    def _something(self):
        if self.infiltration_mm_h is None and self.storage_mm is None:
            raise ValueError("give infiltration_mm_h, storage_mm or both")
        return self


class RetentionBasin(MeasureBase):
    """A basin of ``volume_m3`` (m^3) dug into the open cells of ``area`` (a lowered bed)."""

    type: Literal["retention_basin"]
    area: Area
    volume_m3: Annotated[float, Field(gt=0, le=MAX_VOLUME_M3)]


class Pump(MeasureBase):
    """A pump of ``capacity_m3_s`` (m^3/s) at the open cell ``at``, or a drainage capacity
    ``drainage_mm_h`` (mm/h) over the open cells of ``area``: a sink of the flood kernel (the
    ledger's drainage), removing up to its capacity where there is water."""

    type: Literal["pump"]
    at: Point | None = None
    capacity_m3_s: Annotated[float, Field(gt=0, le=MAX_CAPACITY_M3_S)] | None = None
    area: Area | None = None
    drainage_mm_h: Annotated[float, Field(gt=0, le=limits.MAX_LOSS_MM_H)] | None = None

    @model_validator(mode="after")
    def _one_form(self):
        point = self.at is not None and self.capacity_m3_s is not None
        area = self.area is not None and self.drainage_mm_h is not None
        given = [k for k in ("at", "capacity_m3_s", "area", "drainage_mm_h") if getattr(self, k) is not None]
        if point == area or len(given) != 2:
            raise ValueError("give at with capacity_m3_s, or area with drainage_mm_h")
        return self


class Firebreak(MeasureBase):
    """Fuel removed over ``width_m`` (m) along a line: those cells become non-burnable."""

    type: Literal["firebreak"]
    line: Line
    width_m: Annotated[float, Field(gt=0, le=MAX_WIDTH_M)]


class FireResistantRetrofit(BuildingMeasure):
    """Buildings retrofitted: their fire-resistant share in Hamada's model becomes ``share`` (-)."""

    type: Literal["fire_resistant_retrofit"]
    share: Annotated[float, Field(ge=0, le=1)]


#: Every measure, by its ``type``.
Measure = Annotated[Union[Floodwall, ElevateBuildings, Floodproof, GreenRoofsAndParks, RetentionBasin, Pump,
                          Firebreak, FireResistantRetrofit], Field(discriminator="type")]


class Economics(Frozen):
    """How the avoided damage is valued: over ``lifetime_years`` at ``discount_rate`` per year.

    ``event_frequency_per_year`` (1/yr) is the annual frequency of a scenario without an event
    set, so that its avoided loss becomes an avoided expected annual damage (CLIMADA's
    ``aai_agg``, frequency times loss); a scenario with an ``events:`` block has its own EAD."""

    lifetime_years: Annotated[int, Field(gt=0, le=500)] = 50
    discount_rate: Annotated[float, Field(ge=0, le=1)] = 0.03
    event_frequency_per_year: Annotated[float, Field(gt=0, le=1)] | None = None


class Strategy(Frozen):
    """A strategy: its name, what it is, its measures (none: the baseline itself) and economics."""

    name: Annotated[str, Field(pattern=NAME_PATTERN, max_length=MAX_NAME_BYTES)]
    description: str = ""
    measures: list[Measure] = []
    economics: Economics = Economics()


@dataclass(frozen=True)
class StrategyFile(FileWithLines):
    """A strategy with where it came from (its file, the line of every YAML path); its paths and
    errors are a scenario's (:class:`twin.scenario.schema.FileWithLines`), so that the scenario's
    position and layer readers (:mod:`twin.scenario.positions`, :mod:`twin.scenario.layers`) read
    its places."""

    strategy: Strategy
    path: Path
    lines: dict

    def measure_name(self, index: int) -> str:
        """The name of measure ``index``: its own, else ``<type>_<index>``."""
        m = self.strategy.measures[index]
        return m.name or f"{m.type}_{index}"


def read_strategy(path: str | Path) -> StrategyFile:
    """Read and validate a strategy YAML file (every schema error at once, with paths and lines).

    Raises
    ------
    InputError
        Missing or unreadable file, invalid YAML, or schema errors; measure names given twice.
    """
    path = Path(path)
    data, lines = load_yaml_with_lines(path)
    if not isinstance(data, dict):
        raise InputError("a strategy is a YAML mapping", file=path, expected="keys name, measures",
                         found=type(data).__name__)
    sf = StrategyFile(validate(Strategy, {"name": path.stem, **data}, lines, path), path, lines)
    names = [sf.measure_name(i) for i in range(len(sf.strategy.measures))]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise sf.error(("measures", i, "name"), "two measures have the same name", found=repr(name))
    return sf
