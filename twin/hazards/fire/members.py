"""What a fire member draws and how the draw applies: wind speed and direction added, ignition
points jittered or drawn from a probability raster."""

from __future__ import annotations

import numpy as np
import xarray as xr

from twin.core.citytwin import twin_grid
from twin.core.rasters import read_on_grid
from twin.hazards.fire.fields import IGNITION_PROBABILITY
from twin.hazards.fire.schema import ConstantWind, IgnitionPerturbation
from twin.hazards.interface import Perturbation, draw_distribution
from twin.scenario.schema import Distribution, ScenarioFile


def _ignition_draw(spec: IgnitionPerturbation, rng: np.random.Generator, sf: ScenarioFile,
                   twin: xr.Dataset) -> list[tuple[float, float]]:
    """Ignition points of one member (m): jittered within a disc, or drawn from a probability raster."""
    grid = twin_grid(twin)
    if spec.random_from is not None:
        path = sf.resolve(spec.random_from)
        prob = np.clip(read_on_grid(path, IGNITION_PROBABILITY, grid, path), 0.0, None)
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


#: Streams 3-5 of a member's SeedSequence (twin.ensemble.draws); never renumber.
PERTURBATIONS = (
    Perturbation("wind_speed", Distribution, 3, draw_distribution, heavier_when_larger=0.0),
    Perturbation("wind_direction", Distribution, 4, draw_distribution),
    Perturbation("ignition", IgnitionPerturbation, 5, _ignition_draw),
)


def _moved(ign, point):
    """An ignition moved so that its point (or its line's first vertex) lands on ``point``."""
    if ign.at is not None:
        return ign.model_copy(update={"at": point})
    dx, dy = point[0] - ign.line[0][0], point[1] - ign.line[0][1]
    return ign.model_copy(update={"line": [(x + dx, y + dy) for x, y in ign.line]})


def apply_draw(scenario, draw):
    """The ``fire`` block of a member: wind speed (m/s) and direction (degrees) added (speed kept
    >= 0, direction modulo 360); drawn ignition points replace the ignitions' positions (times kept)."""
    fire = scenario.fire
    v = draw.values
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
        if scenario.ensemble.perturb.ignition.random_from is not None:
            t0 = ignitions[0].time
            ignitions = [ignitions[0].model_copy(update={"at": p, "line": None, "time": t0}) for p in pts]
        else:
            ignitions = [_moved(ign, p) for ign, p in zip(ignitions, pts)]
    return fire.model_copy(update={"wind": wind, "ignitions": ignitions})


def check_scenario(scenario) -> str | None:
    """A fire run is not tiled."""
    if scenario.parallel.tiles is not None:
        return "parallel: a fire run is not tiled (tiles apply to flood runs without gauges)"
    return None
