"""The fire hazard's scenario block: ``fire:`` (ignitions, wind, moisture, spotting, numerics),
and its ignition perturbation."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Discriminator, Field, Tag, model_validator

from twin.core import limits
from twin.scenario.schema import Frozen, NonNegative, Point, Time, check_series

WindSpeed = Annotated[float, Field(ge=0, le=limits.MAX_WIND_M_S)]


class Ignition(Frozen):
    """A point (``at``) or line (``line``) ignition at ``time`` after the scenario start."""

    at: Point | None = None
    line: Annotated[list[Point], Field(min_length=2)] | None = None
    time: Time = 0.0

    @model_validator(mode="after")
    def _shape(self):
        if (self.at is None) == (self.line is None):
            raise ValueError("give exactly one of 'at: [x, y]' or 'line: [[x0, y0], [x1, y1], ...]'")
        return self


class ConstantWind(Frozen):
    """Wind at 10 m: speed (m/s) and the direction it blows FROM (degrees clockwise from north)."""

    speed_m_s: WindSpeed
    from_deg: Annotated[float, Field(ge=0, le=360)]


class WindSeries(Frozen):
    """Piecewise-constant wind: ``speed_m_s[k]`` and ``from_deg[k]`` hold from ``times[k]`` on."""

    times: list[Time]
    speed_m_s: list[WindSpeed]
    from_deg: list[Annotated[float, Field(ge=0, le=360)]]

    @model_validator(mode="after")
    def _lengths(self):
        check_series(self.times, self.speed_m_s, "speed_m_s")
        check_series(self.times, self.from_deg, "from_deg")
        if self.times[0] != 0:
            raise ValueError(f"times: the first wind period starts at 0; found {self.times[0]}")
        return self


Fraction = Annotated[float, Field(ge=0, le=3.0)]


class Moisture(Frozen):
    """Fuel moisture content (fraction of dry mass) of the five size classes."""

    dead_1h: Fraction = 0.06
    dead_10h: Fraction = 0.07
    dead_100h: Fraction = 0.09
    live_herbaceous: Fraction = 0.60
    live_woody: Fraction = 0.90

    def as_tuple(self) -> tuple[float, float, float, float, float]:
        """(dead 1-h, dead 10-h, dead 100-h, live herbaceous, live woody)."""
        return (self.dead_1h, self.dead_10h, self.dead_100h, self.live_herbaceous, self.live_woody)


class Spotting(Frozen):
    """Firebrand spotting (see ``twin.hazards.fire.model.SpottingOptions``)."""

    brands_per_cell: Annotated[float, Field(gt=0, le=1000)] = 1.0
    median_distance_m: Annotated[float, Field(gt=0, le=limits.MAX_SPOT_DISTANCE_M)] = 60.0
    sigma_log: Annotated[float, Field(gt=0, le=5)] = 0.5
    lateral_sd_deg: Annotated[float, Field(ge=0, le=180)] = 15.0
    ignition_probability: Annotated[float, Field(ge=0, le=1)] = 0.1
    delay_s: Time = 120.0
    min_intensity_w_m: NonNegative = 4000.0
    max_generations: Annotated[int, Field(ge=1, le=50)] = 10


class FireNumerics(Frozen):
    """Solver and model settings of the fire run."""

    n_directions: Literal[16, 32] = 32
    hamada_window_m: Annotated[float, Field(gt=0, le=5000)] = 150.0
    urban_max_gap_m: Annotated[float, Field(ge=0, le=1000)] = 16.0
    wind_limit: Literal["rothermel1972", "andrews2013", "none"] = "rothermel1972"


class FireSpec(Frozen):
    """The ``fire:`` block.

    ``annual_ignition_frequency_per_year`` (lambda, ignitions per year, finite, >= 0; optional): how
    often a fire like the scenario's starts, for the annual burn probability ``1 - exp(-lambda p)`` of
    each cell from its burn probability p over the members (:mod:`twin.risk.annual`).
    """

    ignitions: Annotated[list[Ignition], Field(min_length=1)]
    wind: Annotated[
        Union[Annotated[ConstantWind, Tag("constant")], Annotated[WindSeries, Tag("series")]],
        Discriminator(lambda v: "series" if isinstance(v, dict) and "times" in v else "constant"),
    ] = ConstantWind(speed_m_s=0.0, from_deg=0.0)
    moisture: Moisture = Moisture()
    wind_adjustment_factor: Annotated[float, Field(gt=0, le=1)] | None = None
    spotting: Spotting | None = None
    numerics: FireNumerics = FireNumerics()
    annual_ignition_frequency_per_year: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None



class IgnitionPerturbation(Frozen):
    """Ignition uncertainty: move each ignition uniformly within ``jitter_m`` of where it is, or draw
    ``count`` ignition points from a probability raster (``random_from``, on the twin grid)."""

    jitter_m: Annotated[float, Field(gt=0, le=1e5)] | None = None
    random_from: str | None = None
    count: Annotated[int, Field(ge=1)] = 1

    @model_validator(mode="after")
    def _one(self):
        if (self.jitter_m is None) == (self.random_from is None):
            raise ValueError("give exactly one of jitter_m or random_from")
        return self
