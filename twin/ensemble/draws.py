"""Ensemble members: seeded draws of the uncertain inputs, and the scenario each member runs.

Member ``k`` draws from ``numpy.random.SeedSequence(seed).spawn(members)[k]``; each perturbed
quantity has its own child stream of that sequence (in the fixed order of
:data:`PERTURBATION_ORDER`), so the same seed gives the same members whatever the number of
workers, the order in which they finish, or which other perturbations the scenario adds.

Draws are made in the driver (they may read a probability raster); a member's scenario is the
scenario with its draws applied (:func:`member_scenario`), which the worker then prepares and runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from pydantic import ValidationError

from twin.core.citytwin import twin_grid
from twin.core.rasters import read_on_grid
from twin.scenario.schema import ConstantWind, GriddedRainfall, Scenario, ScenarioFile, UniformRainfall

#: Fixed order of the perturbations' child streams (never reorder: it would change every member).
PERTURBATION_ORDER = ("rainfall_scale", "rainfall_shift", "manning_scale", "wind_speed", "wind_direction",
                      "ignition")


@dataclass(frozen=True)
class MemberDraw:
    """What member ``index`` drew (``None`` index: the control run, the scenario as written).

    Attributes
    ----------
    index : int or None
        Member index ``0 .. members-1``; None for the control.
    values : dict
        Drawn values by perturbation name: scales (-), shift (s), wind speed added (m/s), wind
        direction added (degrees), ignition points (list of (x, y) in m).
    weight : float
        Weight of the member in expected values (equal unless the scenario gives weights).
    forecast_member : int or None
        Member of a gridded rainfall ensemble this member runs (nightly forecasts).
    noise_seed : int or None
        Seed of the member's own random processes (e.g. fire spotting), from the member's last
        child stream; None: the scenario's seed (the control).
    """

    index: int | None
    values: dict = field(default_factory=dict)
    weight: float = 1.0
    forecast_member: int | None = None
    noise_seed: int | None = None


def _ignition_draw(sf: ScenarioFile, twin: xr.Dataset, rng: np.random.Generator) -> list[tuple[float, float]]:
    """Ignition points of one member: jittered within a disc, or drawn from a probability raster."""
    spec = sf.scenario.ensemble.perturb.ignition
    grid = twin_grid(twin)
    if spec.random_from is not None:
        path = sf.resolve(spec.random_from)
        prob = np.clip(read_on_grid(path, "ignition_probability", grid, path), 0.0, None)
        prob = np.where(twin["domain_mask"].values == 1, prob, 0.0).ravel()
        if prob.sum() <= 0:
            raise sf.error(("ensemble", "perturb", "ignition", "random_from"),
                           "ignition probability raster is zero everywhere in the domain", found=str(path))
        cells = rng.choice(prob.size, size=spec.count, p=prob / prob.sum())
        x, y = grid.cell_centres()
        return [(float(x[c % grid.shape[1]]), float(y[c // grid.shape[1]])) for c in cells]
    w, s, e, n = grid.bounds()
    points = []
    for ign in sf.scenario.fire.ignitions:
        r, theta = spec.jitter_m * np.sqrt(rng.uniform()), rng.uniform(0.0, 2 * np.pi)
        x0, y0 = ign.at if ign.at is not None else ign.line[0]
        points.append((float(np.clip(x0 + r * np.cos(theta), w + 1e-6, e - 1e-6)),
                       float(np.clip(y0 + r * np.sin(theta), s + 1e-6, n - 1e-6))))
    return points


def draw_members(sf: ScenarioFile, twin: xr.Dataset) -> list[MemberDraw]:
    """The draws of every member of the scenario's ensemble (deterministic from its seed).

    Parameters
    ----------
    sf : ScenarioFile
        The scenario (its ``ensemble`` block; ``ensemble.seed`` defaults to ``seed``).
    twin : xarray.Dataset
        The twin (for ignition positions).

    Returns
    -------
    list of MemberDraw
        One per member, in index order.
    """
    ens = sf.scenario.ensemble
    seed = sf.scenario.seed if ens.seed is None else ens.seed
    weights = ens.weights or [1.0] * ens.members
    draws = []
    for k, member_seq in enumerate(np.random.SeedSequence(seed).spawn(ens.members)):
        children = member_seq.spawn(len(PERTURBATION_ORDER) + 1)
        streams = dict(zip(PERTURBATION_ORDER, children))
        values = {}
        for name in PERTURBATION_ORDER:
            spec = getattr(ens.perturb, name)
            if spec is None:
                continue
            rng = np.random.default_rng(streams[name])
            values[name] = _ignition_draw(sf, twin, rng) if name == "ignition" else spec.draw(rng)
        noise_seed = int(children[-1].generate_state(1, np.uint64)[0])
        draw = MemberDraw(k, values, float(weights[k]), noise_seed=noise_seed)
        check_member(sf, draw)
        draws.append(draw)
    return draws


def check_member(sf: ScenarioFile, draw: MemberDraw) -> None:
    """Refuse a draw whose member scenario breaks the schema's bounds (before anything runs).

    A perturbation can push a valid scenario out of range (a rainfall scale drawn from a wide
    log-normal, a negative Manning scale from a normal): the member's scenario is validated
    again and the first error is reported at ``ensemble.perturb``, naming the member and draw.

    Raises
    ------
    InputError
        Naming the member, its drawn values and the bound broken.
    """
    member = member_scenario(sf, draw).scenario
    try:
        Scenario.model_validate(member.model_dump(warnings=False))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        drawn = {k: v for k, v in draw.values.items() if k != "ignition"}
        raise sf.error(("ensemble", "perturb"), f"member {draw.index} draws {drawn}, which gives {where}: "
                       f"{err['msg']}; narrow the distribution") from None


def heaviest_first(draws: list[MemberDraw]) -> list[MemberDraw]:
    """The draws in the order to start them: the members expected to run longest first.

    Starting the longest jobs first keeps the last ones short, so that workers finish close
    together (Graham 1969, "longest processing time first"). The expected length is ranked by
    the forcing drawn: a larger rainfall scale (deeper water, a shorter stable time step, more
    steps: on the sample city 7.6 s at scale 0.90, 11.0 s at 1.53), then more wind added (a
    fire reaching more cells). Only the order of starting changes; each member's result and the
    reduced risk do not (see :func:`draw_members`).

    Parameters
    ----------
    draws : list of MemberDraw

    Returns
    -------
    list of MemberDraw
        The same draws, reordered (ties keep index order).
    """
    return sorted(draws, key=lambda d: (-d.values.get("rainfall_scale", 1.0),
                                        -d.values.get("wind_speed", 0.0)))


def _shift_hyetograph(rain: UniformRainfall, shift: float) -> UniformRainfall:
    """Move a hyetograph by ``shift`` s; the part moved before t = 0 is cut (interpolated at 0)."""
    times = np.asarray(rain.times) + shift
    values = np.asarray(rain.intensity_mm_h)
    if times[0] < 0:
        keep = times > 0
        v0 = float(np.interp(0.0, times, values))
        times, values = np.concatenate([[0.0], times[keep]]), np.concatenate([[v0], values[keep]])
    return rain.model_copy(update={"times": times.tolist(), "intensity_mm_h": values.tolist()})


def member_scenario(sf: ScenarioFile, draw: MemberDraw) -> ScenarioFile:
    """The scenario a member runs: the draws applied to the scenario as written.

    Rainfall scale multiplies intensities; rainfall shift moves a uniform hyetograph in time;
    Manning scale multiplies roughness; wind speed and direction are added (speed kept >= 0,
    direction modulo 360); ignition points replace the ignitions' positions (times kept).
    """
    sc = sf.scenario
    v = draw.values
    update = {}
    if sc.flood is not None:
        flood = sc.flood
        rain = flood.rainfall
        if draw.forecast_member is not None and isinstance(rain, GriddedRainfall):
            rain = rain.model_copy(update={"member": draw.forecast_member})
        if "rainfall_scale" in v and isinstance(rain, UniformRainfall):
            rain = rain.model_copy(update={"intensity_mm_h": [x * v["rainfall_scale"] for x in rain.intensity_mm_h]})
        elif "rainfall_scale" in v and isinstance(rain, GriddedRainfall):
            rain = rain.model_copy(update={"scale": rain.scale * v["rainfall_scale"]})
        if "rainfall_shift" in v and isinstance(rain, UniformRainfall):
            rain = _shift_hyetograph(rain, v["rainfall_shift"])
        scale = flood.manning_scale * v.get("manning_scale", 1.0)
        update["flood"] = flood.model_copy(update={"rainfall": rain, "manning_scale": scale})
    if sc.fire is not None:
        fire = sc.fire
        wind = fire.wind
        ds, dd = v.get("wind_speed", 0.0), v.get("wind_direction", 0.0)
        if isinstance(wind, ConstantWind):
            wind = wind.model_copy(update={"speed_m_s": max(0.0, wind.speed_m_s + ds),
                                           "from_deg": (wind.from_deg + dd) % 360.0})
        else:
            wind = wind.model_copy(update={"speed_m_s": [max(0.0, s + ds) for s in wind.speed_m_s],
                                           "from_deg": [(d + dd) % 360.0 for d in wind.from_deg]})
        ignitions = fire.ignitions
        if "ignition" in v:
            pts = v["ignition"]
            if sc.ensemble.perturb.ignition.random_from is not None:
                t0 = ignitions[0].time
                ignitions = [ignitions[0].model_copy(update={"at": p, "line": None, "time": t0}) for p in pts]
            else:
                ignitions = [_moved(ign, p) for ign, p in zip(ignitions, pts)]
        update["fire"] = fire.model_copy(update={"wind": wind, "ignitions": ignitions})
    if draw.noise_seed is not None:
        update["seed"] = draw.noise_seed
    return ScenarioFile(sc.model_copy(update=update), sf.path, sf.lines)


def _moved(ign, point):
    """An ignition moved so that its point (or its line's first vertex) lands on ``point``."""
    if ign.at is not None:
        return ign.model_copy(update={"at": point})
    dx, dy = point[0] - ign.line[0][0], point[1] - ign.line[0][1]
    return ign.model_copy(update={"line": [(x + dx, y + dy) for x, y in ign.line]})
