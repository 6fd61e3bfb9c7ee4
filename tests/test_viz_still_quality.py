"""Stills and animations a planner can read: the water where it is, classes and legends that match
the run's tables, words instead of slugs, the fire's ignition, isochrones and wind, buildings in
their state at each time of an animation.

Runs are synthetic (100 x 100 cells of 5 m, :mod:`test_viz`), rendered offscreen at small sizes.
"""

from __future__ import annotations

import json
import re

import imageio.v3 as iio
import numpy as np
import pandas as pd
import pytest
import pyvista as pv
import xarray as xr

from test_viz import DX, N, make_fire_run, make_twin, _write_run
from twin.hazards.flood.rating import HAZARD_CLASSES
from twin.io.provenance import file_sha256
from twin.risk.vulnerability import RISK_CLASSES
from viz.animation import render_animation
from viz.buildings import StatesOverTime, risk_states
from viz.camera import project
from viz.legend import (BUILDING_COLOURS, BUILDING_STATES, DEPTH_COLOURS, HAZARD_COLOURS, ISOCHRONE_EVERY_S,
                        depth_scale, hex_rgb)
from viz.legend_panel import frame_layout
from viz.legend_text import compass_of, frame_text
from viz.render_run import render_run
from viz.run_data import load_run
from viz.scene import compose

pv.OFF_SCREEN = True

SIZE = (960, 540)
TIMES = np.array([0.0, 1800.0, 3600.0])
BAND = slice(26, 74)            # rows the rising flood of make_rising_flood covers (buildings in rows 28-30, 66-72)
FIRE_SCENARIO = """name: synthetic-fire
description: Grass fire on the west side of the valley, 6 m/s westerly
twin: twin.yaml
hazard: fire
duration: 1 h
fire:
  ignitions:
    - {at: [350012.5, 4100252.5], time: 0}
  wind: {speed_m_s: 6, from_deg: 270}
"""


def steep_twin():
    """make_twin with 30 % valley sides (1.5 m of rise per 5 m cell) and 0.3 m of roughness."""
    twin = make_twin()
    rows = np.arange(N)[:, None] * np.ones((1, N))
    rough = np.random.default_rng(5).normal(0.0, 0.3, (N, N))
    twin["elevation"][:] = 10.0 + 1.5 * np.abs(rows - 49.5) + rough
    return twin


def risk_table(twin, classes):
    """A buildings.csv: each building's risk class code from ``classes(ids)``."""
    ids = np.unique(twin.building_id.values[twin.building_id.values > 0])
    codes = classes(ids)
    return pd.DataFrame({"building_id": ids, "risk_class": codes,
                         "risk_class_name": [RISK_CLASSES[c] for c in codes]})


def make_hillside_flood(run_dir):
    """1 m in the channel (rows 42-57) and 6-8 cm on a fifth of the open cells of the steep sides."""
    twin = steep_twin()
    rng = np.random.default_rng(7)
    depth = np.zeros((N, N))
    depth[42:58, :] = 1.0
    scattered = (rng.random((N, N)) < 0.2) & (twin.building_id.values == 0)
    depth = np.where(scattered & (depth == 0), rng.uniform(0.06, 0.08, (N, N)), depth)
    dims = ("y", "x")
    hazard = xr.Dataset({"max_depth": (dims, depth, {"units": "m", "long_name": "maximum water depth over the run"}),
                         "depth": (("time", *dims), np.stack([depth * f for f in (0.0, 0.5, 1.0)]), {"units": "m"})},
                        coords={"x": twin.x, "y": twin.y, "time": ("time", TIMES, {"units": "s"})},
                        attrs={"scenario_name": "synthetic-hillside-flood", "hazard": "flood", "members": 1})
    return _write_run(run_dir, twin, hazard, risk_table(twin, lambda ids: ids % 4))


def make_rising_flood(run_dir):
    """Water rising over rows 26-73 (0, 0.5 and 1 m at the snapshots): buildings in rows 28-30 and
    66-72 stand in it, the others stay dry."""
    twin = make_twin()
    band = np.zeros((N, N))
    band[BAND, :] = 1.0
    band[twin.building_id.values > 0] = 0.0                          # buildings are walls
    depth = np.stack([band * f for f in (0.0, 0.5, 1.0)])
    arrival = np.where(band > 0, 900.0, np.nan)
    dims = ("y", "x")
    hazard = xr.Dataset({"max_depth": (dims, band, {"units": "m"}), "arrival_time": (dims, arrival, {"units": "s"}),
                         "depth": (("time", *dims), depth, {"units": "m"})},
                        coords={"x": twin.x, "y": twin.y, "time": ("time", TIMES, {"units": "s"})},
                        attrs={"scenario_name": "synthetic-rising-flood", "hazard": "flood", "members": 1})
    return _write_run(run_dir, twin, hazard, risk_table(twin, lambda ids: np.full(ids.size, 2)))


def make_fire_with_buildings(run_dir):
    """make_fire_run's fire (the west half burns, arrival 60 s per column) with a buildings.csv:
    the buildings the front reaches burn at the front's arrival there, with risk class high."""
    run_dir = make_fire_run(run_dir)
    twin = make_twin()
    ids = np.unique(twin.building_id.values[twin.building_id.values > 0])
    first_col = np.array([np.nonzero(twin.building_id.values == i)[1].min() for i in ids])
    burned = first_col < 50
    table = pd.DataFrame({"building_id": ids, "risk_class": np.where(burned, 3, 0),
                          "risk_class_name": np.where(burned, "high", "none"),
                          "control_burned": burned.astype(int),
                          "control_ignition_time_s": np.where(burned, 60.0 * first_col, np.nan)})
    table.to_csv(run_dir / "buildings.csv", index=False)
    (run_dir / "scenario.yaml").write_text(FIRE_SCENARIO)
    return run_dir


def near(pixels, colours, tol=12):
    """True where a pixel is within ``tol`` (each channel) of one of ``colours`` (hex)."""
    targets = np.array([hex_rgb(c) for c in colours], dtype=int)
    return (np.abs(pixels[:, None, :3].astype(int) - targets[None]).max(axis=2) <= tol).any(axis=1)


def drawn_as_water(run_dir, out, view, size=SIZE):
    """Which wet and which dry cells the default still of ``view`` shows as water.

    The still is rendered as ``twin render`` renders it. The same scene is composed again (the
    camera depends on the run only) and each cell's centre *on the ground* is projected into the
    view with the camera's matrices (:func:`viz.camera.project`). A cell is *visible* when it
    falls inside the view and nothing stands in front of it: a second render without the hazard
    layer gives the depth buffer of the terrain and the buildings, and a cell is hidden where that
    buffer is more than 1.5 m nearer the camera than the cell's ground (a building or a hill in
    front; its own terrain is within that margin). The ground is used, not the water surface,
    so that water drawn below the terrain still counts as visible, and as not drawn. A visible
    cell is *drawn as water* when the still's pixel there is within 12 (of 255, each channel) of
    one of the depth classes' colours (the layer is drawn unlit, in exactly those colours).
    The measure finds water drawn inside the ground: with the layer lowered 0.5 m into it, the
    share of the hillside run fell from 0.99 to 0.55 (sw) and from 1.0 to 0.52 (top).

    Returns
    -------
    wet, dry : numpy.ndarray of bool
        Drawn as water, over the visible wet cells and over the visible dry (open) cells.
    """
    image = iio.imread(render_run(run_dir, out, view=view, size=size))
    run = load_run(run_dir)
    left, top, width, height = frame_layout(size).view
    scene = compose(run, "max_depth", view=view, size=(width, height))
    try:
        scene.screenshot()
        scene.plotter.actors["layer"].visibility = False
        scene.plotter.render()
        nearest = -scene.plotter.get_image_depth(fill_value=-np.inf, reset_camera_clipping_range=False)
        ny, nx = run.twin.elevation.shape
        dx = float(run.twin.attrs["cell_size"])
        rows, cols = np.mgrid[0:ny, 0:nx]
        ground = np.column_stack([(cols.ravel() + 0.5) * dx, (ny - rows.ravel() - 0.5) * dx,
                                  run.twin.elevation.values.ravel()])
        col, row, depth = project(scene.plotter, ground)
    finally:
        scene.close()
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    c, r = col.astype(int).clip(0, width - 1), row.astype(int).clip(0, height - 1)
    visible = inside & (nearest[r, c] >= depth - 1.5)
    water = near(image[top + r, left + c], DEPTH_COLOURS)
    wet = run.hazard.max_depth.values.ravel() > 0.05
    open_cell = run.twin.building_id.values.ravel() == 0
    return water[visible & wet], water[visible & ~wet & open_cell]


@pytest.fixture(scope="module")
def hillside(tmp_path_factory):
    return make_hillside_flood(tmp_path_factory.mktemp("hillside"))


@pytest.mark.parametrize("view", ["sw", "top", "ne"])
def test_default_still_shows_at_least_90_percent_of_the_visible_wet_cells_as_water(hillside, tmp_path, view):
    """Measured: 6 493 water pixels in the old oblique still against 19 275 in the top view; the
    old water surface met the ground at every dry corner, so shallow cells on slopes vanished."""
    wet, dry = drawn_as_water(hillside, tmp_path / f"{view}.png", view)
    assert wet.size > 1500                          # most of the 1 600 channel cells and ~1 000 scattered ones in view
    assert wet.mean() >= 0.90, f"{wet.mean():.3f} of {wet.size} visible wet cells drawn as water"
    assert dry.mean() <= 0.05, f"{dry.mean():.3f} of {dry.size} visible dry cells drawn as water"


def test_depth_legend_is_in_planner_classes_and_the_image_uses_its_colours(hillside, tmp_path):
    scale = depth_scale(0.05)
    assert scale.labels == ("5–10 cm", "10–30 cm", "30–50 cm", "50 cm – 1 m", "1–2 m", "over 2 m")
    image = iio.imread(render_run(hillside, tmp_path / "top.png", view="top", size=SIZE))
    left, top, width, height = frame_layout(SIZE).view
    view = image[top:top + height, left:left + width].reshape(-1, 3)
    shallow, metre = near(view, [DEPTH_COLOURS[0]]).sum(), near(view, [DEPTH_COLOURS[4]]).sum()
    assert shallow > 2000 and metre > 20000         # the 6-8 cm cells in 5-10 cm, the 1 m channel in 1-2 m
    for unused in (DEPTH_COLOURS[1], DEPTH_COLOURS[5]):
        assert near(view, [unused]).sum() < 50      # no cell is 10-30 cm or over 2 m deep


def test_building_legend_has_the_risk_classes_with_the_tables_counts(hillside):
    run = load_run(hillside)
    scene = compose(run, "max_depth", view="top", size=(480, 300))
    try:
        states = risk_states(run.buildings, scene.building_ids)
        text = frame_text(run, scene, states)
        rgb = scene.buildings.cell_data["rgb"]
        table = run.buildings.set_index("building_id")["risk_class_name"]
        faces = table.loc[scene.buildings.cell_data["building_id"]].to_numpy()
    finally:
        scene.close()
    section = next(s for s in text.sections if s.title.startswith("buildings"))
    counts = run.buildings["risk_class_name"].value_counts()
    listed = [(colour, label) for _, colour, label in section.rows]
    assert [c for c, _ in listed] == [BUILDING_COLOURS[c] for c in reversed(RISK_CLASSES)]     # high .. none
    for (colour, label), name in zip(listed, reversed(RISK_CLASSES)):
        assert label.endswith(f"({counts.get(name, 0):,})"), label
    assert np.array_equal(rgb, np.array([hex_rgb(BUILDING_COLOURS[c]) for c in faces]))       # drawn as listed
    assert counts.get("none", 0) > 0 and (rgb == hex_rgb(BUILDING_COLOURS["none"])).all(axis=1).any()


def test_title_is_the_scenario_description_and_the_subtitle_says_what_is_shown(tmp_path):
    run_dir = make_rising_flood(tmp_path / "run")
    scenario = tmp_path / "flood.yaml"
    scenario.write_text(FIRE_SCENARIO.replace("synthetic-fire", "synthetic-rising-flood")
                        .replace("Grass fire on the west side of the valley, 6 m/s westerly",
                                 "Levee overtopping in the valley, one metre of water"))
    manifest = {"scenario_file": str(scenario), "scenario_sha256": file_sha256(scenario)}
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    run = load_run(run_dir)
    scene = compose(run, "max_depth", view="top", size=(480, 300))
    try:
        text = frame_text(run, scene)
    finally:
        scene.close()
    assert text.title == "Levee overtopping in the valley, one metre of water"
    assert text.subtitle.startswith("Maximum water depth") and "1 h" in text.subtitle
    slug = re.compile(r"[a-z]+[-_][a-z]+")
    for words in (text.title, text.subtitle, *(s.title for s in text.sections)):
        assert not slug.search(words), words
    scenario.write_text(scenario.read_text() + "# edited after the run\n")       # no longer this run's scenario
    assert load_run(run_dir).description == "synthetic rising flood"


def test_hazard_class_layer_is_drawn_in_the_defra_colours(tmp_path):
    run_dir = make_rising_flood(tmp_path / "run")
    classes = np.full((N, N), -1)
    classes[26:38], classes[38:50], classes[50:62], classes[62:74] = 0, 1, 2, 3
    dims = ("y", "x")
    risk = xr.Dataset({f"p_hazard_{c}": (dims, (classes == k).astype(float), {"units": "1"})
                       for k, c in enumerate(HAZARD_CLASSES)})
    risk["p_hazard_dry"] = (dims, (classes < 0).astype(float), {"units": "1"})
    risk.assign_coords(x=make_twin().x, y=make_twin().y).to_netcdf(run_dir / "risk.nc")
    image = iio.imread(render_run(run_dir, tmp_path / "hr.png", view="top", layer="hazard_class", size=SIZE,
                                  building_value=None))
    left, top, width, height = frame_layout(SIZE).view
    view = image[top:top + height, left:left + width].reshape(-1, 3)
    for colour in HAZARD_COLOURS:
        assert near(view, [colour]).sum() > 3000, colour          # each band of 12 rows in its class colour


def test_fire_still_marks_the_ignition_isochrones_and_wind(tmp_path):
    run_dir = make_fire_with_buildings(tmp_path / "fire")
    run = load_run(run_dir, run_dir / "scenario.yaml")
    scene = compose(run, "arrival_time", view="top", size=(480, 300))
    try:
        compass = compass_of(run, scene)
        states = risk_states(run.buildings, scene.building_ids)
        text = frame_text(run, scene, states)
        lines = scene.plotter.actors["isochrones"].mapper.GetInput()
        times = np.unique(pv.wrap(lines).cell_data["time_s"])
        pins = [name for name in scene.plotter.actors if name.startswith("pin")]
    finally:
        scene.close()
    assert compass.north_deg == pytest.approx(90.0, abs=0.5)        # north up the map
    assert compass.wind_deg == pytest.approx(0.0, abs=0.5)          # a westerly blows east, to the right
    assert compass.wind_label.startswith("wind 6 m/s") and "from W" in compass.wind_label
    # the front reaches column 49 at 2 940 s: isochrones at 30 min only (every 30 min, within the burned area)
    assert np.array_equal(times, [ISOCHRONE_EVERY_S])
    assert pins[0] == "pin0" and pins[1].startswith("pin_labels") and len(pins) == 2
    layer, buildings = text.sections[0], text.sections[1]
    assert {label for _, _, label in layer.rows} >= {"isochrones every 30 min", "ignition"}
    burned = int(run.buildings["control_burned"].sum())
    assert buildings.rows[0] == ("box", BUILDING_COLOURS["burned"], f"burned in the control run ({burned:,})")
    assert sum(int(re.search(r"\(([\d,]+)\)$", label).group(1).replace(",", ""))
               for _, _, label in buildings.rows) == len(run.buildings)


def test_default_camera_frames_the_affected_area(tmp_path):
    """Water in the north-east quarter only: the oblique default looks at that quarter."""
    run_dir = make_rising_flood(tmp_path / "run")
    ds = xr.load_dataset(run_dir / "hazard.nc")
    corner = np.zeros((N, N))
    corner[5:30, 65:95] = 0.8
    ds["max_depth"][:] = corner
    ds.to_netcdf(run_dir / "hazard.nc")
    scene = compose(load_run(run_dir), "max_depth", view="sw", size=(480, 300))
    try:
        fx, fy, _ = scene.plotter.camera.focal_point
        col, row, _ = project(scene.plotter, np.array([[80 * DX, (N - 17.5) * DX, 10.0]]))
    finally:
        scene.close()
    assert N * DX / 2 < fx < N * DX and N * DX / 2 < fy < N * DX
    assert 0.25 * 480 < col[0] < 0.75 * 480 and 0.25 * 300 < row[0] < 0.75 * 300   # the wet area near the middle


def test_flood_buildings_are_undamaged_at_the_start_and_hit_where_the_water_rose(tmp_path):
    """Once buildings wore their end-of-run damage from the first frame on."""
    run = load_run(make_rising_flood(tmp_path / "run"))
    ids = np.unique(run.twin.building_id.values[run.twin.building_id.values > 0])
    states = StatesOverTime(run.twin, run.buildings, ids, run.risk_impact)
    none = BUILDING_STATES.index("none")
    assert (states.at(run.hazard, "depth", 0.0) == none).all()
    rows = np.array([np.nonzero(run.twin.building_id.values == i)[0].min() for i in ids])
    in_water = (rows + 2 >= BAND.start - 1) & (rows <= BAND.stop)         # ring touches the band
    end = states.at(run.hazard, "depth", TIMES[-1])
    assert in_water.any() and (end[in_water] != none).all()                # 1 m at the walls: damaged
    assert (end[~in_water] == none).all()


def test_fire_animation_burns_buildings_when_the_front_reaches_them(tmp_path, capsys):
    run_dir = make_fire_with_buildings(tmp_path / "fire")
    run = load_run(run_dir, run_dir / "scenario.yaml")
    out = render_animation(run, tmp_path / "fire.gif", view="top", size=(640, 360), progress=True)
    assert "3/3" in capsys.readouterr().err                                 # the progress bar
    frames = iio.imread(out)
    assert len(frames) == len(TIMES)
    left, top, width, height = frame_layout((640, 360)).view
    views = frames[:, top:top + height, left:left + width].reshape(len(TIMES), -1, 3)
    burned = [near(v, [BUILDING_COLOURS["burned"]], tol=40).sum() for v in views]
    # t = 0: only the ignition's pin and label are that dark; then more and more burned roofs
    assert 5 * burned[0] < burned[1] < burned[2]
    panel = frames[:, top:top + height, left + width:]
    for frame in panel:                                                     # the legend on every frame
        assert near(frame.reshape(-1, 3), [BUILDING_COLOURS["burned"]]).sum() > 50
    header = frames[:, :top, int(0.8 * 640):]
    assert np.abs(header[0].astype(int) - header[-1].astype(int)).max() > 100   # the clock moved


def test_flood_animation_has_the_depth_legend_on_its_first_frame(tmp_path):
    """Once the colour bar was missing from frame 0 (nothing wet yet, no scalar bar)."""
    run = load_run(make_rising_flood(tmp_path / "run"))
    frames = iio.imread(render_animation(run, tmp_path / "flood.gif", view="top", size=(640, 360)))
    left, top, width, height = frame_layout((640, 360)).view
    first_view = frames[0, top:top + height, left:left + width].reshape(-1, 3)
    first_panel = frames[0, top:top + height, left + width:].reshape(-1, 3)
    assert near(first_view, DEPTH_COLOURS).sum() == 0                       # dry at t = 0
    for colour in DEPTH_COLOURS:
        assert near(first_panel, [colour], tol=2).sum() > 20, colour        # yet every class in the legend
