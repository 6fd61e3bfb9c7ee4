"""The words and legends of the frame around a rendering of a run (:mod:`viz.legend_panel`).

* The title is the scenario's description (its name in words where the run's scenario file is
  gone); the second line says what is shown ("Maximum water depth over 2 h"), of which run (the
  control run or the ensemble, and its size) and, for a nightly run, when the forecast was issued.
* The credits line names the model, the twin, when the run was written and the renderer.
* The legends: the layer's classes, the isochrones and ignitions where drawn, the buildings by
  state with their counts (the risk table's classes, so that they add up to its counts), and the
  land-cover classes of the terrain.
* The compass: north, the wind (from the scenario's hazard block, where it has one) and a scale
  bar, measured from the camera at the centre of the view.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pyvista as pv
import vtk

from twin.risk.vulnerability import RISK_CLASS_BOUNDS
from viz.camera import pixels_per_metre, screen_angle
from viz.legend import (BUILDING_COLOURS, BUILDING_STATES, ISOCHRONE_EVERY_S, RampScale, duration_words,
                        landcover_entries, length_words, percent_words, pretty_units)
from viz.legend_panel import Compass, FrameText, Section
from viz.run_data import HAZARD_CLASS_LAYER, Layer, RunData, clock
from viz.scene import LINE_COLOUR, CityScene, ignitions_of

#: Sixteen compass points, from north clockwise.
COMPASS_POINTS = ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")
#: Legend words of each building state.
LOW, HIGH = (percent_words(b) for b in RISK_CLASS_BOUNDS)
STATE_WORDS = {"burned": "burned in the control run",
               "high": f"high risk: {HIGH} of value or more",
               "medium": f"medium risk: {LOW.split()[0]}–{HIGH}",
               "low": f"low risk: under {LOW}",
               "none": "no expected damage"}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def layer_words(run: RunData, layer: Layer) -> str:
    """What a layer shows, in words: ``maximum water depth over 2 h``, ``fire arrival time``,
    ``water depth at 00:40``, ``probability over members that ...``."""
    words = re.sub(r"\s*\([^)]*\)\s*$", "", layer.long_name) or layer.name.replace("_", " ")
    if layer.name == "arrival_time" and layer.time is None:
        words = f"{run.kind or 'hazard'} arrival time"
    if run.duration_s:
        words = words.replace(" over the run", f" over {duration_words(run.duration_s)}")
    if layer.time is not None:
        words = f"{words} {'by' if layer.name.startswith('arrival_time') else 'at'} {clock(layer.time)}"
    if layer.name == HAZARD_CLASS_LAYER and (run.members or 1) > 1:
        words = f"{words}, the members' median"
    return words


def run_words(run: RunData, layer: Layer) -> str:
    """Which run a layer comes from: the run itself (one member), the control run of an ensemble
    (hazard.nc) or the ensemble (risk.nc), and a nightly run's forecast issue."""
    members = run.members or 1
    if members == 1:
        words = "one run (no ensemble)"
    elif layer.name in run.hazard:
        words = f"control run of an ensemble of {members} members"
    else:
        words = f"ensemble of {members} members"
    if run.issued:
        words += f" · forecast issued {run.issued.replace('T', ' ').replace('Z', ' UTC')}"
    return words


def credits_words(run: RunData) -> str:
    """The credits line: model, twin, when the run was written, renderer."""
    source = str(run.hazard.attrs.get("source", ""))
    package, _, model = source.partition(": ")
    model = re.sub(r"\s*\([^)]*\)", "", model).split(",")[0].strip()
    written = re.match(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d)", str(run.hazard.attrs.get("history", "")))
    parts = [f"Simulated with {package}" + (f" ({model})" if model else "") if package else "",
             f"twin {run.twin.attrs['name']}" if "name" in run.twin.attrs else "",
             f"run written {written.group(1)} {written.group(2)} UTC" if written else "",
             f"drawn with PyVista {pv.__version__} / VTK {vtk.vtkVersion.GetVTKVersion()}"]
    return " · ".join(p for p in parts if p)


def building_section(scene: CityScene, states: np.ndarray | None, title: str, with_burned: bool,
                     changing: bool = False) -> Section | None:
    """The buildings' legend: the ramp of a buildings.csv column, or the states with their counts."""
    if scene.building_scale is not None:
        return Section(scene.building_label, scene.building_scale)
    if not scene.building_ids.size:
        return None
    if states is None:
        return Section("buildings", rows=(("box", BUILDING_COLOURS["none"], f"{scene.building_ids.size:,} buildings"),))
    counts = np.bincount(np.asarray(states, dtype=np.int64), minlength=len(BUILDING_STATES))
    rows = tuple(("box", BUILDING_COLOURS[s], f"{STATE_WORDS[s]} ({counts[k]:,})")
                 for k, s in enumerate(BUILDING_STATES) if s != "burned" or with_burned)
    return Section(title, rows=rows, changing=changing)


def layer_section(run: RunData, scene: CityScene) -> Section:
    """The layer's legend, with the isochrones, the ignitions and what is left undrawn."""
    layer, scale = scene.layer, scene.layer_scale
    rows = []
    if layer.water:
        rows.append(("note", "#555555", f"under {length_words(scene.water_threshold)}: dry, not drawn"))
    if layer.name.startswith("arrival_time"):
        rows.append(("line", LINE_COLOUR, f"isochrones every {duration_words(ISOCHRONE_EVERY_S)}"))
        rows.append(("note", "#555555", "never reached: not drawn"))
    if ignitions_of(run):
        rows.append(("pin", LINE_COLOUR, "ignition"))
    title = layer_words(run, replace(layer, time=None))
    if isinstance(scale, RampScale) and pretty_units(layer.units):
        title = f"{title} ({pretty_units(layer.units)})"
    return Section(title, scale, tuple(rows))


def frame_text(run: RunData, scene: CityScene, states: np.ndarray | None = None,
               buildings_title: str = "buildings by risk class (expected loss)", clock: str = "",
               animated: bool = False) -> FrameText:
    """The frame's words and legends for the scene's layer.

    Parameters
    ----------
    run : RunData
    scene : CityScene
        With its layer shown.
    states : numpy.ndarray, optional
        The buildings' states (index in BUILDING_STATES per :attr:`CityScene.building_ids`) the
        scene shows; None for plain buildings.
    buildings_title : str
        Title of the buildings' legend.
    clock : str
        The time of an animation's frame (``hh:mm``), "" for a still.
    animated : bool
        A frame of an animation: the buildings' legend changes from frame to frame.
    """
    layer = scene.layer
    subtitle = f"{_sentence(layer_words(run, layer))} · {run_words(run, layer)}"
    sections = [layer_section(run, scene)]
    buildings = building_section(scene, states, buildings_title,
                                 with_burned=run.buildings is not None and "control_burned" in run.buildings,
                                 changing=animated)
    if buildings is not None:
        sections.append(buildings)
    if "landcover" in run.twin:
        rows = tuple(("box", colour, name) for colour, name in landcover_entries(run.twin["landcover"].values)
                     if name != "building")
        sections.append(Section("land cover", rows=rows, columns=2))
    return FrameText(_sentence(run.description), subtitle, credits_words(run), tuple(sections), clock)


def wind_at(run: RunData, time: float | None) -> tuple[float, float, str] | None:
    """The scenario's wind at ``time`` (s; None: the first period): speed (m/s), the bearing it
    blows from (degrees clockwise from north) and a note for a wind that changes, or None."""
    wind = getattr(run.hazard_block, "wind", None)
    if wind is None:
        return None
    speeds, froms = np.atleast_1d(wind.speed_m_s), np.atleast_1d(wind.from_deg)
    times = np.atleast_1d(getattr(wind, "times", [0.0]))
    k = 0 if time is None else int(np.searchsorted(times, time, side="right") - 1)
    note = "" if len(times) == 1 else (f", first of {len(times)} periods" if time is None else "")
    return float(speeds[k]), float(froms[k]), note


def compass_of(run: RunData, scene: CityScene, time: float | None = None) -> Compass:
    """North, the wind and the scale as the scene's camera shows them, at its focal point."""
    plotter = scene.plotter
    focal = np.asarray(plotter.camera.focal_point)
    north = screen_angle(plotter, focal, np.array([0.0, 1.0]))
    note = "" if plotter.camera.parallel_projection else "at the centre of the view"
    wind = wind_at(run, time)
    if wind is None or wind[0] <= 0:
        return Compass(north, pixels_per_metre(plotter, focal), note)
    speed, from_deg, period = wind
    to = np.radians(from_deg + 180.0)
    label = f"wind {speed:g} m/s\nfrom {COMPASS_POINTS[int(round(from_deg / 22.5)) % 16]}{period}"
    return Compass(north, pixels_per_metre(plotter, focal), note,
                   screen_angle(plotter, focal, np.array([np.sin(to), np.cos(to)])), label)
