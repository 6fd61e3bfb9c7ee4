"""What a flood member draws and how the draw applies: rainfall scale and shift, roughness scale,
a forecast member; a design event's storm as the rainfall (event sets); and the nightly forecast
wired into a flood scenario."""

from __future__ import annotations

import numpy as np

from twin.events.design_events import DesignEvent
from twin.hazards.flood.schema import GriddedRainfall, UniformRainfall
from twin.hazards.interface import EVENTS_BLOCK, Perturbation, draw_distribution
from twin.scenario.schema import Distribution, ScenarioFile
from twin.scenario.units import MM_PER_H


#: Streams 0-2 of a member's SeedSequence (twin.ensemble.draws); never renumber.
PERTURBATIONS = (
    Perturbation("rainfall_scale", Distribution, 0, draw_distribution, heavier_when_larger=1.0),
    Perturbation("rainfall_shift", Distribution, 1, draw_distribution),
    Perturbation("manning_scale", Distribution, 2, draw_distribution),
)


def _shift_hyetograph(rain: UniformRainfall, shift: float) -> UniformRainfall:
    """Move a hyetograph by ``shift`` s; the part moved before t = 0 is cut (interpolated at 0)."""
    times = np.asarray(rain.times) + shift
    values = np.asarray(rain.intensity_mm_h)
    if times[0] < 0:
        keep = times > 0
        v0 = float(np.interp(0.0, times, values))
        times, values = np.concatenate([[0.0], times[keep]]), np.concatenate([[v0], values[keep]])
    return rain.model_copy(update={"times": times.tolist(), "intensity_mm_h": values.tolist()})


def apply_draw(scenario, draw):
    """The ``flood`` block of a member: rainfall scale multiplies the intensities (or the gridded
    rainfall's scale), rainfall shift moves a uniform hyetograph in time (s), Manning scale
    multiplies roughness, and a forecast member selects the member of gridded rainfall."""
    flood = scenario.flood
    v = draw.values
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
    return flood.model_copy(update={"rainfall": rain, "manning_scale": scale})


def apply_event(scenario, event: DesignEvent):
    """The ``flood`` block of a design event: its rainfall the event's storm, uniform over the twin, as a
    hyetograph linear between times (:meth:`twin.events.hyetograph.Hyetograph.series`, 1 s ramps
    between blocks, the storm's depth kept), in mm/h. Not validated here: the run validates each
    event's scenario once (:func:`twin.ensemble.draws.event_runs`)."""
    times, rates = event.storm.series()
    rain = UniformRainfall.model_construct(times=times.tolist(), intensity_mm_h=(rates / MM_PER_H).tolist())
    return scenario.flood.model_copy(update={"rainfall": rain})


def with_forecast(sf: ScenarioFile, file, variable: str) -> ScenarioFile:
    """The scenario with its rainfall from a gridded forecast file (the control run: member 0); a
    design-event set, if any, is replaced by the forecast."""
    sc = sf.scenario
    rain = GriddedRainfall(file=str(file), variable=variable, member=0)
    return ScenarioFile(sc.model_copy(update={"flood": sc.flood.model_copy(update={"rainfall": rain}),
                                              EVENTS_BLOCK: None}), sf.path, sf.lines)


def check_scenario(scenario) -> str | None:
    """Rules across blocks: tiles need a run without gauges; a rainfall shift needs a hyetograph; an
    event set brings the rainfall (``flood.rainfall`` left out) and a run holds its whole storm."""
    events = getattr(scenario, EVENTS_BLOCK, None)
    if events is not None and scenario.flood.rainfall is not None:
        return (f"{EVENTS_BLOCK}: the design storms are the rainfall of an event set; leave flood.rainfall out "
                f"(or the {EVENTS_BLOCK} block)")
    if events is not None and scenario.duration < events.storm_duration:
        return (f"duration: {scenario.duration:g} s is shorter than {EVENTS_BLOCK}.storm_duration "
                f"({events.storm_duration:g} s); a run holds its whole design storm")
    if scenario.parallel.tiles is not None and scenario.output.gauges:
        return "parallel: tiles apply to flood runs without gauges (a tiled run records snapshots, not gauges)"
    if scenario.ensemble.perturb.rainfall_shift is not None and isinstance(scenario.flood.rainfall,
                                                                           GriddedRainfall):
        return "ensemble: rainfall_shift applies to a uniform hyetograph, not gridded rainfall"
    return None
