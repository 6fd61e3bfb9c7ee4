"""The viewer page of a run: one self-contained HTML file (WebGL 2, no library, no network).

The page is :file:`page.html` with :file:`viewer.css`, :file:`viewer.js` and the run's data
(:func:`viz.viewer.payload.viewer_payload`) written into it. It shows the scenario's name and
description, a layer switch with the legend of the visible layer, camera presets (top and four
obliques), a time slider on the snapshot layer, return-period buttons on a layer of design events,
and, on a click, the building's row of
buildings.csv or the ground cell's class.
"""

from __future__ import annotations

import html
import json
import math
from functools import partial
from pathlib import Path

from twin.core.cf import software
from twin.core.errors import InputError
from twin.hazards.registry import get_hazard
from viz.camera import COMPASS_BEARINGS, VIEWS, Camera
from viz.run_data import RunData
from viz.viewer.classes import duration_words
from viz.viewer.layers import return_periods, run_duration, viewer_layers
from viz.viewer.payload import viewer_payload

HERE = Path(__file__).parent
#: Columns of buildings.csv that hold the id a building has in its source data, first match shown.
SOURCE_ID_COLUMNS = ("source_id", "source_fid")
#: The obliques among the camera presets, and the top view's angle above the horizon (degrees):
#: short of 90 so that "up" on the screen stays north.
OBLIQUES = ("nw", "ne", "se", "sw")
TOP_ELEVATION_DEG = 89.5
#: Angle of the oblique views above the horizon (degrees), as the stills' (:func:`viz.camera.apply_view`).
OBLIQUE_ELEVATION_DEG = 35.0
#: Words of buildings.csv columns in the building panel (others: the name without its unit suffix).
COLUMN_WORDS = {"building_id": "building id", "source_id": "source id", "source_fid": "source feature id",
                "expected_depth_max_m": "depth at the walls", "expected_damage_fraction": "expected damage",
                "risk_class_name": "risk class", "risk_class": "risk class code", "value_krw": "value",
                "p_exposed": "probability of water at the walls"}
#: Units by column-name suffix, the longest first; ``p_*`` columns and ``risk_index`` are shares too.
SUFFIX_UNITS = (("_m2", "m²"), ("_krw", "KRW"), ("_fraction", "%"), ("_probability", "%"), ("_m", "m"), ("_s", "s"))


def column_words(name: str) -> dict:
    """A buildings.csv column in the panel's words: ``label`` and ``unit`` (``m``, ``%``, ``KRW``, ...)."""
    unit, stem = "", name
    for suffix, suffix_unit in SUFFIX_UNITS:
        if name.endswith(suffix):
            unit, stem = suffix_unit, name[: -len(suffix)]
            break
    if name.startswith("p_") or name == "risk_index":
        unit = "%"
    return {"label": COLUMN_WORDS.get(name, stem.replace("_", " ")), "unit": unit}


def headline_columns(run: RunData) -> list[str]:
    """The columns the building panel shows first: source id, id, use, depth at the walls, damage,
    the hazard's loss, risk class, burn probability (those the table has)."""
    if run.buildings is None:
        return []
    loss = get_hazard(run.kind).risk.impact.loss_column
    source = [c for c in SOURCE_ID_COLUMNS if c in run.buildings][:1]
    wanted = (*source, "building_id", "use", "expected_depth_max_m", "expected_damage_fraction", loss,
              "risk_class_name", "burn_probability")
    return [c for c in wanted if c in run.buildings]


def camera_presets(view: str | Camera) -> tuple[dict, str]:
    """The camera buttons (top and the four obliques, plus ``view`` where it is another), and the
    name of the first view. A button holds a bearing and an angle above the horizon (degrees); the
    page frames the whole terrain from there (a custom camera gives its direction, not its distance).

    Raises
    ------
    twin.core.errors.InputError
        For an unknown preset name.
    """
    def oblique(name):
        return {"label": name.upper(), "title": f"oblique view from the {name.upper()}",
                "bearing": COMPASS_BEARINGS[name], "elevation": OBLIQUE_ELEVATION_DEG}

    presets = {"top": {"label": "Top", "title": "top view, north up", "bearing": 180.0,
                       "elevation": TOP_ELEVATION_DEG}}
    presets.update({name: oblique(name) for name in OBLIQUES})
    if isinstance(view, Camera):
        dx, dy, dz = (p - f for p, f in zip(view.position, view.focal_point))
        presets["custom"] = {"label": "Custom", "title": "the camera asked for",
                             "bearing": math.degrees(math.atan2(dx, dy)) % 360.0,
                             "elevation": math.degrees(math.atan2(dz, math.hypot(dx, dy)))}
        return presets, "custom"
    if view not in VIEWS:
        raise InputError("unknown view", field="view", expected=f"one of {', '.join(VIEWS)} or a Camera",
                         found=repr(view))
    if view not in presets:
        presets[view] = oblique(view)
    return presets, view


def title_words(run: RunData) -> str:
    """The scenario's name in words: ``sample-flash-flood`` -> ``Sample flash flood``."""
    words = run.scenario_name.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def facts(run: RunData) -> str:
    """The line under the description: hazard, members, design events, simulated time, twin."""
    members = run.members or 1
    parts = [run.kind, f"{members} member{'' if members == 1 else 's'}",
             f"{duration_words(run_duration(run))} simulated"]
    if (t := return_periods(run)) is not None:
        parts.insert(2, f"{t.size} design events (T = {t[0]:g}–{t[-1]:g} years)")
    if run.twin.attrs.get("name"):
        parts.append(f"twin {run.twin.attrs['name']}")
    return " · ".join(parts)


def _script_json(payload: dict) -> str:
    """JSON safe inside a ``<script>`` element (no ``</`` can close it)."""
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


def write_viewer(run: RunData, out: str | Path, *, view: str | Camera = "sw", layer: str | None = None,
                 exaggeration: float = 1.0) -> Path:
    """Write a run's viewer page.

    Parameters
    ----------
    run : RunData
    out : str or Path
        ``.html`` path.
    view : str or Camera
        The first camera: a preset name (:data:`viz.camera.VIEWS`) or a custom camera.
    layer : str, optional
        The layer shown first (:func:`viz.viewer.layers.viewer_layers`); default the hazard's.
    exaggeration : float
        Vertical exaggeration (dimensionless).

    Returns
    -------
    Path
        The page written.
    """
    if not exaggeration > 0:
        raise InputError("vertical exaggeration must be positive", field="exaggeration", expected="> 0",
                         found=repr(exaggeration))
    views, first = camera_presets(view)
    columns = list(run.buildings.columns) if run.buildings is not None else []
    meta = {"view": first, "views": views, "exaggeration": float(exaggeration), "headline": headline_columns(run),
            "columns": {c: column_words(c) for c in columns}}
    payload = viewer_payload(run, partial(viewer_layers, run, default=layer), meta)
    heading = title_words(run)
    description = str(run.hazard.attrs.get("scenario_description", ""))
    credits = (f"{software()} · scenario {run.scenario_name} · drag to turn, shift-drag or right-drag to pan, "
               "wheel to zoom, click a building for its values")
    page = (HERE / "page.html").read_text(encoding="utf-8")
    for marker, text in (("TITLE", html.escape(f"{heading} — city-twin viewer")), ("HEADING", html.escape(heading)),
                         ("DESCRIPTION", html.escape(description)), ("FACTS", html.escape(facts(run))),
                         ("CREDITS", html.escape(credits)), ("CSS", (HERE / "viewer.css").read_text(encoding="utf-8")),
                         ("JS", (HERE / "viewer.js").read_text(encoding="utf-8")), ("DATA", _script_json(payload))):
        page = page.replace(f"<!--{marker}-->", text, 1)
    out = Path(out)
    out.write_text(page, encoding="utf-8")
    return out
