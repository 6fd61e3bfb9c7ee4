"""The scenario schema: one YAML file validated into a frozen object before anything runs.

Every key except ``twin``, ``hazard`` and ``duration`` has a documented default (``name``: the
file's stem) (see
``docs/scenarios.md``). Unknown keys are errors. Quantities are converted to SI here: durations
to seconds, rainfall from mm/h to m/s, losses from mm/h to m/s. Paths stay as written and are
resolved against the scenario file's folder by :meth:`ScenarioFile.resolve`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator

from twin.core import limits
from twin.core.citytwin import TwinManifest
from twin.core.errors import InputError
from twin.io.run_folders import MAX_NAME_BYTES, NAME_PATTERN
from twin.scenario.units import parse_duration
from twin.core.validation import validate
from twin.core.yamlio import format_path, line_of, load_yaml_with_lines

#: A duration in seconds, written as ``"3 h"``, ``"90 min"``, ``"5400 s"`` or a number of seconds.
Seconds = Annotated[float, BeforeValidator(parse_duration)]
#: A time after the scenario start (s), at most :data:`twin.core.limits.MAX_DURATION_S`.
Time = Annotated[Seconds, Field(ge=0, le=limits.MAX_DURATION_S)]
Point = tuple[float, float]
NonNegative = Annotated[float, Field(ge=0)]
Seed = Annotated[int, Field(ge=0, le=limits.MAX_SEED)]
#: Most snapshots a run may record (``duration / output.every``), and gauge samples per gauge.
MAX_SNAPSHOTS = 100_000
MAX_GAUGE_SAMPLES = 10_000_000


class Frozen(BaseModel):
    """Base of every schema block: frozen, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def check_series(times: list[float], values: list[float], values_name: str) -> None:
    """Refuse a time series whose lengths differ, that is empty, or whose times do not increase."""
    if len(times) != len(values):
        raise ValueError(f"{values_name}: {len(values)} values but times has {len(times)}")
    if len(times) == 0:
        raise ValueError("times: at least one time is needed")
    back = next((k for k, (a, b) in enumerate(zip(times, times[1:])) if b <= a), None)
    if back is not None:
        raise ValueError(f"times must increase strictly; found {times[back]:g} s then {times[back + 1]:g} s "
                         f"(items {back} and {back + 1})")


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


#: What a scenario start looks like (the message of a bad one).
START_EXPECTED = ("expected a date-time with a UTC offset (ISO 8601), e.g. 2026-07-14T06:00:00+09:00 or "
                  "2026-07-13T21:00:00Z")


def scenario_start(value: object) -> datetime:
    """Check a scenario's ``start:``: a timezone-aware ISO 8601 date-time, returned in UTC.

    YAML reads an unquoted ``2026-07-14T06:00:00+09:00`` as a date-time already; a quoted one is
    parsed here (:meth:`datetime.fromisoformat`).

    Raises
    ------
    ValueError
        For a date without a time, a date-time without a UTC offset, or anything else (the message
        says what was expected).
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not an ISO 8601 date-time; {START_EXPECTED}") from None
    if not isinstance(value, datetime):
        what = "a date without a time of day" if isinstance(value, date) else "not a date-time"
        raise ValueError(f"{what}; {START_EXPECTED}")
    if value.utcoffset() is None:
        raise ValueError(f"a date-time without a UTC offset; {START_EXPECTED}")
    return value.astimezone(timezone.utc)


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


class EnsembleSpec(Frozen):
    """The ``ensemble:`` block: members, their seed, their weights; the ``perturb`` block, what they
    draw, is made of the hazards' perturbations (:func:`twin.hazards.scenario_model.scenario_model`)."""

    members: Annotated[int, Field(ge=1, le=100000)] = 1
    seed: Seed | None = None
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


class VectorFile(Frozen):
    """A layer of a vector file (any OGR format, any CRS; ``twin/core/vectors.py``), path relative to the
    scenario; ``layer`` may be left out when the file has one."""

    file: str
    layer: str | None = None


class FromColumn(Frozen):
    """A value per feature of a layer: the column holding it."""

    column: str


class GaugeLayer(VectorFile):
    """Gauges from a layer of points: one gauge per feature, named by its ``name_column``."""

    name_column: str


#: A gauge written as a point (``{name, at}``) or a layer of points (``{file, name_column}``).
GaugeEntry = Annotated[
    Union[Annotated[Gauge, Tag("point")], Annotated[GaugeLayer, Tag("file")]],
    Discriminator(lambda v: "file" if isinstance(v, GaugeLayer) or (isinstance(v, dict) and "file" in v)
                  else "point"),
]


class OutputSpec(Frozen):
    """The ``output:`` block; ``dir`` defaults to ``runs/<name>`` beside the scenario file."""

    dir: str | None = None
    every: Annotated[Time, Field(gt=0)] = 600.0
    gauge_every: Annotated[Time, Field(gt=0)] = 60.0
    gauges: list[GaugeEntry] = []
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


class ScenarioBase(Frozen):
    """The blocks of a scenario that every hazard shares.

    The full model (:func:`twin.hazards.scenario_model.scenario_model`) adds ``hazard`` (one of
    the registered hazards), one optional block per hazard and the ``ensemble`` block with the
    hazards' perturbations.
    """

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME_BYTES, pattern=NAME_PATTERN.pattern)]
    description: Annotated[str, Field(max_length=100_000)] = ""
    twin: str | dict
    duration: Annotated[Seconds, Field(gt=0, le=limits.MAX_DURATION_S)]
    start: Annotated[datetime, BeforeValidator(scenario_start)] | None = None
    seed: Seed = 0
    output: OutputSpec = OutputSpec()
    render: RenderSpec = RenderSpec()
    parallel: ParallelSpec = ParallelSpec()
    scheduler: Annotated[str, AfterValidator(scheduler_address)] | None = None

    @model_validator(mode="after")
    def _counts(self):
        return self._counts_of()

    def _counts_of(self):
        """Refuse more snapshots or gauge samples than a run may record."""
        for key, most in (("every", MAX_SNAPSHOTS), ("gauge_every", MAX_GAUGE_SAMPLES)):
            n = self.duration / getattr(self.output, key)
            if n > most:
                raise ValueError(f"output: {key} gives {n:.3g} samples over the duration; at most {most:,} "
                                 "(a longer interval, or a shorter duration)")
        return self


class FileWithLines:
    """The paths and errors of a YAML file read with the line of every YAML path: a mixin of the
    frozen dataclasses that hold one (:class:`ScenarioFile`, the strategies of
    :mod:`twin.adaptation.schema`), whose ``path`` (the file) and ``lines`` (YAML path -> line)
    it reads."""

    @property
    def folder(self) -> Path:
        """The folder relative paths in the file are resolved against."""
        return self.path.parent

    def resolve(self, relative: str | Path) -> Path:
        """A path from the file, resolved against its folder.

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
        """An InputError at ``field_path`` of this file, with its line number."""
        return InputError(message, file=self.path, field=format_path(field_path),
                          line=line_of(self.lines, field_path), **kw)


@dataclass(frozen=True)
class ScenarioFile(FileWithLines):
    """A scenario with where it came from: its file and the line of every YAML path."""

    scenario: ScenarioBase
    path: Path
    lines: dict

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

    def with_start(self, start: datetime | None) -> "ScenarioFile":
        """The same scenario starting at ``start`` (timezone-aware; stored in UTC), e.g. a forecast's first time."""
        start = None if start is None else scenario_start(start)
        return ScenarioFile(self.scenario.model_copy(update={"start": start}), self.path, self.lines)

    def output_dir(self, override: str | Path | None = None) -> Path:
        """The run folder: ``override``, else ``output.dir``, else ``runs/<name>`` beside the scenario."""
        if override is not None:
            return Path(override)
        if self.scenario.output.dir is not None:
            return self.resolve(self.scenario.output.dir)
        return self.folder / "runs" / self.scenario.name




def read_scenario(path: str | Path, model: type[ScenarioBase]) -> ScenarioFile:
    """Read a scenario YAML file (safe loader) and validate it with ``model``, every schema error at once.

    Parameters
    ----------
    path : str or Path
        The scenario file.
    model : type
        The scenario model (:func:`twin.hazards.scenario_model.scenario_model`).

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
    sf = ScenarioFile(validate(model, data, lines, path), path, lines)
    if isinstance(sf.scenario.twin, dict):
        _validate_inline_twin(sf)
    return sf


def _validate_inline_twin(sf: ScenarioFile) -> None:
    """An inline ``twin:`` mapping is validated as a twin manifest here, so that its errors name
    the scenario file and their lines (paths shown relative to ``twin``)."""
    lines = {key[1:]: line for key, line in sf.lines.items() if key[:1] == ("twin",)}
    validate(TwinManifest, sf.scenario.twin, lines, f"{sf.path}: twin")
