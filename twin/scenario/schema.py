"""The scenario schema: one YAML file validated into a frozen object before anything runs.

Every key except ``twin``, ``hazard`` and ``duration`` has a documented default (``name``: the
file's stem) (see
``docs/scenarios.md``). Unknown keys are errors. Quantities are converted to SI here: durations
to seconds, rainfall from mm/h to m/s, losses from mm/h to m/s. Paths stay as written and are
resolved against the scenario file's folder by :meth:`ScenarioFile.resolve`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator

from twin.scenario import limits
from twin.core.classes import LANDCOVER
from twin.core.errors import InputError
from twin.io.run_folders import MAX_NAME_BYTES, NAME_PATTERN
from twin.scenario.units import MM_PER_H, parse_duration
from twin.scenario.validation import validate
from twin.scenario.yamlio import line_of, load_yaml_with_lines

#: A duration in seconds, written as ``"3 h"``, ``"90 min"``, ``"5400 s"`` or a number of seconds.
Seconds = Annotated[float, BeforeValidator(parse_duration)]
#: A time after the scenario start (s), at most :data:`twin.scenario.limits.MAX_DURATION_S`.
Time = Annotated[Seconds, Field(ge=0, le=limits.MAX_DURATION_S)]
Point = tuple[float, float]
NonNegative = Annotated[float, Field(ge=0)]
RainMmH = Annotated[float, Field(ge=0, le=limits.MAX_RAIN_MM_H)]
LossMmH = Annotated[float, Field(ge=0, le=limits.MAX_LOSS_MM_H)]
ManningN = Annotated[float, Field(gt=0, le=limits.MAX_MANNING_N)]
Level = Annotated[float, Field(ge=limits.MIN_LEVEL_M, le=limits.MAX_LEVEL_M)]
WindSpeed = Annotated[float, Field(ge=0, le=limits.MAX_WIND_M_S)]
Seed = Annotated[int, Field(ge=0, le=limits.MAX_SEED)]
#: Most snapshots a run may record (``duration / output.every``), and gauge samples per gauge.
MAX_SNAPSHOTS = 100_000
MAX_GAUGE_SAMPLES = 10_000_000


class Frozen(BaseModel):
    """Base of every schema block: frozen, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _check_series(times: list[float], values: list[float], values_name: str) -> None:
    if len(times) != len(values):
        raise ValueError(f"{values_name}: {len(values)} values but times has {len(times)}")
    if len(times) == 0:
        raise ValueError("times: at least one time is needed")
    back = next((k for k, (a, b) in enumerate(zip(times, times[1:])) if b <= a), None)
    if back is not None:
        raise ValueError(f"times must increase strictly; found {times[back]:g} s then {times[back + 1]:g} s "
                         f"(items {back} and {back + 1})")


class UniformRainfall(Frozen):
    """Uniform hyetograph: intensity (mm/h) piecewise linear between times, 0 after the last time."""

    times: list[Time]
    intensity_mm_h: list[RainMmH]

    @model_validator(mode="after")
    def _lengths(self):
        _check_series(self.times, self.intensity_mm_h, "intensity_mm_h")
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


class Inflow(Frozen):
    """A point (``at``) or line (``line``) inflow with a discharge hydrograph (m^3/s, piecewise linear)."""

    name: str
    at: Point | None = None
    line: Annotated[list[Point], Field(min_length=2)] | None = None
    times: list[Time]
    discharge_m3_s: list[Annotated[float, Field(ge=0, le=limits.MAX_DISCHARGE_M3_S)]]

    @model_validator(mode="after")
    def _shape(self):
        if (self.at is None) == (self.line is None):
            raise ValueError("give exactly one of 'at: [x, y]' or 'line: [[x0, y0], [x1, y1], ...]'")
        _check_series(self.times, self.discharge_m3_s, "discharge_m3_s")
        return self


class LevelSeries(Frozen):
    """A fixed water level (m above datum) at an open boundary, piecewise linear in time."""

    times: list[Time]
    level_m: list[Level]

    @model_validator(mode="after")
    def _lengths(self):
        _check_series(self.times, self.level_m, "level_m")
        return self


def scheduler_address(address: str) -> str:
    """Check a dask scheduler address, ``PROTOCOL://HOST:PORT``, without connecting.

    Raises
    ------
    ValueError
        For anything else (the message says what was expected).
    """
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        _, location = parse_address(address, strict=True)
        _, port = parse_host_port(location)
        valid = 0 < int(port) < 65536
    except (ValueError, TypeError):
        valid = False
    if not valid:
        raise ValueError("not a dask scheduler address; expected PROTOCOL://HOST:PORT, e.g. tcp://10.0.0.5:8786")
    return address


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


class FloodNumerics(Frozen):
    """Scheme settings (Bates et al. 2010; de Almeida et al. 2012)."""

    theta: Annotated[float, Field(ge=0.5, le=1.0)] = 0.8
    alpha: Annotated[float, Field(gt=0, le=1.0)] = 0.7
    max_dt: Annotated[float, Field(ge=1e-3, le=limits.MAX_TIME_STEP_S)] = 10.0
    wet_threshold_m: Annotated[float, Field(gt=0, le=10.0)] = 0.05


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
    initial_depth_m: Annotated[float, Field(ge=0, le=limits.MAX_DEPTH_M)] | str = 0.0
    manning_scale: Annotated[float, Field(gt=0, le=limits.MAX_MANNING_SCALE)] = 1.0
    numerics: FloodNumerics = FloodNumerics()


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
        _check_series(self.times, self.speed_m_s, "speed_m_s")
        _check_series(self.times, self.from_deg, "from_deg")
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
    """The ``fire:`` block."""

    ignitions: Annotated[list[Ignition], Field(min_length=1)]
    wind: Annotated[
        Union[Annotated[ConstantWind, Tag("constant")], Annotated[WindSeries, Tag("series")]],
        Discriminator(lambda v: "series" if isinstance(v, dict) and "times" in v else "constant"),
    ] = ConstantWind(speed_m_s=0.0, from_deg=0.0)
    moisture: Moisture = Moisture()
    wind_adjustment_factor: Annotated[float, Field(gt=0, le=1)] | None = None
    spotting: Spotting | None = None
    numerics: FireNumerics = FireNumerics()


class Normal(Frozen):
    """Normal distribution: mean and standard deviation (in the perturbed quantity's unit)."""

    mean: Seconds = 0.0
    sd: Annotated[Seconds, Field(ge=0)]

    def draw(self, rng) -> float:
        """One value."""
        return float(rng.normal(self.mean, self.sd))


class LogNormal(Frozen):
    """Log-normal distribution: median and sigma of the log."""

    median: Annotated[float, Field(gt=0)] = 1.0
    sigma: Annotated[float, Field(ge=0, le=5)]

    def draw(self, rng) -> float:
        """One value."""
        return float(self.median * np.exp(rng.normal(0.0, self.sigma)))


class Uniform(Frozen):
    """Uniform distribution on [low, high]."""

    low: float
    high: float

    @model_validator(mode="after")
    def _order(self):
        if self.high < self.low:
            raise ValueError(f"high: must be >= low ({self.low}); found {self.high}")
        return self

    def draw(self, rng) -> float:
        """One value."""
        return float(rng.uniform(self.low, self.high))


class Distribution(Frozen):
    """One of ``{normal: {mean, sd}}``, ``{lognormal: {median, sigma}}``, ``{uniform: {low, high}}``."""

    normal: Normal | None = None
    lognormal: LogNormal | None = None
    uniform: Uniform | None = None

    @model_validator(mode="after")
    def _one(self):
        given = [d for d in (self.normal, self.lognormal, self.uniform) if d is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of normal, lognormal or uniform")
        return self

    def draw(self, rng) -> float:
        """One value from the chosen distribution."""
        return next(d for d in (self.normal, self.lognormal, self.uniform) if d is not None).draw(rng)


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


class Perturbations(Frozen):
    """What each ensemble member draws (one value per member each)."""

    rainfall_scale: Distribution | None = None
    rainfall_shift: Distribution | None = None
    manning_scale: Distribution | None = None
    wind_speed: Distribution | None = None
    wind_direction: Distribution | None = None
    ignition: IgnitionPerturbation | None = None


class EnsembleSpec(Frozen):
    """The ``ensemble:`` block: members, their seed, and the perturbations they draw."""

    members: Annotated[int, Field(ge=1, le=100000)] = 1
    seed: Seed | None = None
    perturb: Perturbations = Perturbations()
    weights: list[Annotated[float, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _weights(self):
        if self.weights is not None:
            if len(self.weights) != self.members:
                raise ValueError(f"weights: {len(self.weights)} weights but members is {self.members}")
            if sum(self.weights) <= 0:
                raise ValueError("weights: must not all be 0")
        return self


class ParallelSpec(Frozen):
    """The ``parallel:`` block: tiles of one flood member's grid, advanced in dask halo exchanges.

    ``halo`` (cells) lets a tile advance ``(halo - 1) // 2`` steps between exchanges (the step
    reads neighbours' fluxes and the outflow limiter one cell further: 2 cells per step).
    """

    tiles: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]] | Literal["auto"] | None = None
    halo: Annotated[int, Field(ge=3)] | None = None


class Gauge(Frozen):
    """A named point (twin CRS coordinates, m) sampled every ``output.gauge_every``."""

    name: str
    at: Point


class OutputSpec(Frozen):
    """The ``output:`` block; ``dir`` defaults to ``runs/<name>`` beside the scenario file."""

    dir: str | None = None
    every: Annotated[Time, Field(gt=0)] = 600.0
    gauge_every: Annotated[Time, Field(gt=0)] = 60.0
    gauges: list[Gauge] = []
    geotiff: bool = True


#: Camera presets of the renderings.
View = Literal["n", "ne", "e", "se", "s", "sw", "w", "nw", "top"]


class RenderSpec(Frozen):
    """The ``render:`` block: products a run renders of itself (PNG stills, HTML view, animation)."""

    enabled: bool = True
    views: Annotated[list[View], Field(min_length=1)] = ["sw"]
    layer: str | None = None
    html: bool = True
    animation: bool = False
    size: tuple[Annotated[int, Field(ge=64, le=7680)], Annotated[int, Field(ge=64, le=4320)]] = (1920, 1080)
    exaggeration: Annotated[float, Field(gt=0)] = 1.0


class Scenario(Frozen):
    """A validated scenario."""

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME_BYTES, pattern=NAME_PATTERN.pattern)]
    description: Annotated[str, Field(max_length=100_000)] = ""
    twin: str | dict
    hazard: Literal["flood", "fire"]
    duration: Annotated[Seconds, Field(gt=0, le=limits.MAX_DURATION_S)]
    seed: Seed = 0
    flood: FloodSpec | None = None
    fire: FireSpec | None = None
    output: OutputSpec = OutputSpec()
    render: RenderSpec = RenderSpec()
    ensemble: EnsembleSpec = EnsembleSpec()
    parallel: ParallelSpec = ParallelSpec()
    scheduler: Annotated[str, AfterValidator(scheduler_address)] | None = None

    @model_validator(mode="after")
    def _counts(self):
        for key, most in (("every", MAX_SNAPSHOTS), ("gauge_every", MAX_GAUGE_SAMPLES)):
            n = self.duration / getattr(self.output, key)
            if n > most:
                raise ValueError(f"output: {key} gives {n:.3g} samples over the duration; at most {most:,} "
                                 "(a longer interval, or a shorter duration)")
        return self

    @model_validator(mode="after")
    def _hazard_block(self):
        if self.hazard == "flood" and self.flood is None:
            object.__setattr__(self, "flood", FloodSpec())
        if self.hazard == "fire" and self.fire is None:
            raise ValueError("fire: a fire scenario needs a 'fire:' block with at least one ignition")
        if self.parallel.tiles is not None and (self.hazard != "flood" or self.output.gauges):
            raise ValueError("parallel: tiles apply to flood runs without gauges (a tiled run records "
                             "snapshots, not gauges)")
        p = self.ensemble.perturb
        rain = self.flood.rainfall if self.flood is not None else None
        if p.rainfall_shift is not None and isinstance(rain, GriddedRainfall):
            raise ValueError("ensemble: rainfall_shift applies to a uniform hyetograph, not gridded rainfall")
        return self


@dataclass(frozen=True)
class ScenarioFile:
    """A scenario with where it came from: its file and the line of every YAML path."""

    scenario: Scenario
    path: Path
    lines: dict

    @property
    def folder(self) -> Path:
        """The folder relative paths in the scenario are resolved against."""
        return self.path.parent

    def resolve(self, relative: str | Path) -> Path:
        """A path from the scenario, resolved against the scenario's folder.

        Raises
        ------
        InputError
            For a path that cannot name a file: a NUL byte, ``~user`` of an unknown user.
        """
        if "\0" in str(relative):
            raise InputError("a path holds a NUL byte", file=self.path, found=repr(str(relative)))
        try:
            p = Path(relative).expanduser()
        except RuntimeError as exc:  # ~user of an unknown user
            raise InputError(f"cannot expand the path: {exc}", file=self.path, found=str(relative)) from None
        return p if p.is_absolute() else (self.folder / p)

    def error(self, field_path: tuple, message: str, **kw) -> InputError:
        """An InputError at ``field_path`` of this scenario, with its line number."""
        from twin.scenario.validation import format_path

        return InputError(message, file=self.path, field=format_path(field_path),
                          line=line_of(self.lines, field_path), **kw)

    def twin_source(self) -> str | dict:
        """The scenario's twin: an absolute path, or the inline mapping (paths relative to :attr:`folder`)."""
        source = self.scenario.twin
        if not isinstance(source, str):
            return source
        path = self.resolve(source)
        try:
            return str(path.resolve())
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop on Python < 3.13
            raise self.error(("twin",), f"cannot resolve the twin's path: {exc}", found=str(path)) from None

    def with_duration(self, duration_s: float) -> "ScenarioFile":
        """The same scenario with another duration (s), e.g. for a quick look with ``--until``."""
        return ScenarioFile(self.scenario.model_copy(update={"duration": float(duration_s)}), self.path, self.lines)

    def output_dir(self, override: str | Path | None = None) -> Path:
        """The run folder: ``override``, else ``output.dir``, else ``runs/<name>`` beside the scenario."""
        if override is not None:
            return Path(override)
        if self.scenario.output.dir is not None:
            return self.resolve(self.scenario.output.dir)
        return self.folder / "runs" / self.scenario.name


def load_scenario(path: str | Path) -> ScenarioFile:
    """Read and validate a scenario YAML file (safe loader), reporting every schema error at once.

    Raises
    ------
    InputError
        Missing or unreadable file, invalid YAML, or schema errors (each with path and line).
    """
    path = Path(path)
    data, lines = load_yaml_with_lines(path)
    if not isinstance(data, dict):
        raise InputError("a scenario is a YAML mapping", file=path, expected="keys name, twin, hazard, duration",
                         found=type(data).__name__)
    data = {"name": path.stem, **data}  # the name defaults to the file's stem
    sf = ScenarioFile(validate(Scenario, data, lines, path), path, lines)
    if isinstance(sf.scenario.twin, dict):
        _validate_inline_twin(sf)
    return sf


def _validate_inline_twin(sf: ScenarioFile) -> None:
    """An inline ``twin:`` mapping is validated as a twin manifest here, so that its errors name
    the scenario file and their lines (paths shown relative to ``twin``)."""
    from twin.core.citytwin import TwinManifest

    lines = {key[1:]: line for key, line in sf.lines.items() if key[:1] == ("twin",)}
    validate(TwinManifest, sf.scenario.twin, lines, f"{sf.path}: twin")
