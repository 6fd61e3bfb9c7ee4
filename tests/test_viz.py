"""3D renderings: meshes, camera presets, stills that show the flood where it is, animations, exports.

All on a 100 x 100 synthetic city (5 m cells) with small images; rendering is offscreen (EGL).
Positions in a still are taken in its 3D view (:func:`viz.legend_panel.frame_layout`), the part
of the image the title band, the legend panel and the credits line leave.
"""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401  (registers the .rio accessor)
import pyvista as pv
import xarray as xr

from twin.core.errors import InputError
from viz.buildings import building_mesh
from viz.camera import COMPASS_BEARINGS, Camera, apply_view
from viz.legend import BUILDING_COLOURS, LANDCOVER_RGB, hex_rgb
from viz.legend_panel import frame_layout
from viz.meshes import LIFT_M, terrain_mesh, water_mesh
from viz.render_run import render_run
from viz.run_data import building_values, clock, load_run
from viz.scene import open_scene

pv.OFF_SCREEN = True

N, DX = 100, 5.0
E0, N0 = 350_000.0, 4_100_000.0           # south-west corner (m), UTM-like magnitudes
CHANNEL = slice(42, 58)                    # rows of the flooded east-west channel (centre band)
SMALL = (640, 360)
TIMES = np.array([0.0, 1800.0, 3600.0])   # snapshot times (s)
GRASS = LANDCOVER_RGB[4].astype(float)    # the terrain's grass tint


def make_twin() -> xr.Dataset:
    """A 100 x 100 CityTwin: a valley along x with grass, and 3 x 3-cell buildings off the channel."""
    rows = np.arange(N)[:, None] * np.ones((1, N))
    elevation = 10.0 + 0.04 * DX * np.abs(rows - 49.5)          # m, valley floor in the centre band
    building_id = np.zeros((N, N), dtype=np.int32)
    next_id = 1
    for r0 in (*range(4, 36, 8), *range(66, 96, 8)):
        for c0 in range(4, 96, 8):
            building_id[r0:r0 + 3, c0:c0 + 3] = next_id
            next_id += 1
    landcover = np.where(building_id > 0, 3, 4).astype(np.int8)
    use = np.where(building_id > 0, 1 + building_id % 4, 0).astype(np.int8)
    height = np.where(building_id > 0, 6.0 + 3.0 * (building_id % 4), 0.0)
    x = E0 + (np.arange(N) + 0.5) * DX
    y = N0 + (N - np.arange(N) - 0.5) * DX
    twin = xr.Dataset(
        {"elevation": (("y", "x"), elevation), "building_height": (("y", "x"), height),
         "building_id": (("y", "x"), building_id), "landcover": (("y", "x"), landcover),
         "building_use": (("y", "x"), use),
         "domain_mask": (("y", "x"), np.ones((N, N), dtype=np.int8))},
        coords={"x": x, "y": y}, attrs={"cell_size": DX})
    return twin.rio.write_crs("EPSG:32652")


def _write_run(run_dir, twin, hazard, buildings=None):
    run_dir.mkdir(parents=True, exist_ok=True)
    twin.to_netcdf(run_dir / "twin.nc")
    hazard.to_netcdf(run_dir / "hazard.nc")
    if buildings is not None:
        buildings.to_csv(run_dir / "buildings.csv", index=False)
    return run_dir


def make_flood_run(run_dir):
    """A flood run folder: 1 m of water in the channel rows, rising over three snapshots."""
    twin = make_twin()
    wet = np.zeros((N, N))
    wet[CHANNEL, :] = 1.0
    depth = np.stack([wet * f for f in (0.0, 0.5, 1.0)])
    dims = ("y", "x")
    hazard = xr.Dataset(
        {"max_depth": (dims, wet, {"units": "m"}), "final_depth": (dims, 0.8 * wet, {"units": "m"}),
         "max_speed": (dims, 0.5 * wet, {"units": "m s-1"}),
         "arrival_time": (dims, np.where(wet > 0, 900.0, np.nan), {"units": "s"}),
         "depth": (("time", *dims), depth, {"units": "m"})},
        coords={"x": twin.x, "y": twin.y, "time": ("time", TIMES, {"units": "s"})},
        attrs={"scenario_name": "synthetic-flood", "hazard": "flood", "members": 3})
    ids = np.unique(twin.building_id.values[twin.building_id.values > 0])
    table = pd.DataFrame({"building_id": ids, "expected_damage_fraction": (ids % 5) / 5.0,
                          "expected_depth_max_m": 0.1 + 0.037 * ids,       # no map gives these
                          "risk_class": np.where(ids % 2, 1, 3),
                          "risk_class_name": np.where(ids % 2, "low", "high")})
    run_dir = _write_run(run_dir, twin, hazard, table)
    probability = np.zeros((N, N))
    probability[CHANNEL, : N // 2] = 0.9                       # west half of the channel
    risk = xr.Dataset({"p_depth_over_0p5m": (dims, probability, {"units": "1"})},
                      coords={"x": twin.x, "y": twin.y})
    risk.to_netcdf(run_dir / "risk.nc")
    return run_dir


def make_fire_run(run_dir):
    """A fire run folder: the west half burns, arrival time growing eastward."""
    twin = make_twin()
    cols = np.arange(N)[None, :] * np.ones((N, 1))
    arrival = np.where(cols < 50, 60.0 * cols, np.nan)
    burned = np.stack([np.where(arrival <= t, 1.0, 0.0) for t in (0.0, 1500.0, 3000.0)])
    dims = ("y", "x")
    hazard = xr.Dataset(
        {"arrival_time": (dims, arrival, {"units": "s"}),
         "burned": (dims, np.isfinite(arrival).astype(np.int8)),
         "burned_snap": (("time", *dims), burned)},
        coords={"x": twin.x, "y": twin.y, "time": ("time", TIMES, {"units": "s"})},
        attrs={"scenario_name": "synthetic-fire", "hazard": "fire", "members": 5})
    hazard = hazard.drop_vars("burned").rename({"burned_snap": "burned"})
    hazard["burned"].attrs["units"] = "1"
    return _write_run(run_dir, twin, hazard)


@pytest.fixture(scope="module")
def flood_run(tmp_path_factory):
    return make_flood_run(tmp_path_factory.mktemp("flood"))


@pytest.fixture(scope="module")
def fire_run(tmp_path_factory):
    return make_fire_run(tmp_path_factory.mktemp("fire"))


def bluish(pixel) -> bool:
    r, g, b = (int(v) for v in pixel[:3])
    return b > r + 40 and b > g + 10


def patch(image, row_frac, col_frac, half=4):
    """Median colour of a small square of pixels around a fractional position of the 3D view."""
    h, w = image.shape[:2]
    left, top, view_w, view_h = frame_layout((w, h)).view
    r, c = top + int(row_frac * view_h), left + int(col_frac * view_w)
    return np.median(image[r - half:r + half, c - half:c + half, :3].reshape(-1, 3), axis=0)


# --- meshes -------------------------------------------------------------------------------------

def test_building_mesh_has_one_connected_piece_per_building():
    twin = make_twin()
    mesh = building_mesh(twin)
    ids = np.unique(twin.building_id.values[twin.building_id.values > 0])
    assert np.array_equal(np.unique(mesh.cell_data["building_id"]), ids)
    regions = mesh.connectivity(extraction_mode="all")
    region_of_cell = regions.cell_data["RegionId"]
    assert len(np.unique(region_of_cell)) == len(ids)
    for region in np.unique(region_of_cell):     # each piece is one building, each building one piece
        assert len(np.unique(mesh.cell_data["building_id"][region_of_cell == region])) == 1


def test_building_roofs_stand_at_ground_plus_height_and_walls_face_out():
    twin = make_twin()
    mesh = building_mesh(twin, exaggeration=2.0)
    bid = 7
    cells = twin.building_id.values == bid
    ground = twin.elevation.values[cells].min()
    top = ground + twin.building_height.values[cells].max()
    piece = mesh.extract_cells(np.nonzero(mesh.cell_data["building_id"] == bid)[0])
    assert piece.bounds[5] == pytest.approx(2.0 * top)
    assert piece.bounds[4] == pytest.approx(2.0 * ground)
    assert piece.bounds[1] - piece.bounds[0] == pytest.approx(3 * DX)    # a 3-cell-wide footprint
    # 9 roof quads + 12 outer wall quads; walls face away from the footprint's centre
    assert piece.n_cells == 9 + 12
    surface = piece.extract_surface(algorithm="dataset_surface")
    normals = surface.compute_normals(cell_normals=True, point_normals=False,
                                      auto_orient_normals=False, consistent_normals=False)
    centres = normals.cell_centers().points
    middle = np.array(piece.center)
    walls = np.abs(normals.cell_data["Normals"][:, 2]) < 0.5
    outward = np.einsum("ij,ij->i", normals.cell_data["Normals"][walls], centres[walls] - middle)
    assert np.all(outward > 0)
    assert np.all(normals.cell_data["Normals"][~walls, 2] > 0.99)          # roofs face up


def test_building_mesh_of_10_000_buildings_is_one_polydata():
    ids = np.arange(1, 10_001, dtype=np.int32).reshape(100, 100)           # every cell a building
    twin = xr.Dataset({"building_id": (("y", "x"), ids),
                       "building_height": (("y", "x"), np.full((100, 100), 10.0)),
                       "elevation": (("y", "x"), np.zeros((100, 100)))},
                      coords={"x": np.arange(100.0), "y": np.arange(100.0)[::-1]},
                      attrs={"cell_size": 1.0})
    mesh = building_mesh(twin)
    assert isinstance(mesh, pv.PolyData)
    assert len(np.unique(mesh.cell_data["building_id"])) == 10_000
    assert mesh.n_cells == 10_000 * 5                                       # roof and four walls
    # wall to wall, yet no point is shared between neighbours: 10 000 separate pieces
    regions = mesh.connectivity(extraction_mode="all").cell_data["RegionId"]
    assert len(np.unique(regions)) == 10_000


def test_buildings_carry_the_values_of_buildings_csv(flood_run, fire_run):
    run = load_run(flood_run)
    table = pd.read_csv(flood_run / "buildings.csv").set_index("building_id")
    for column, label in (("expected_depth_max_m", "expected depth max m (m)"),
                          ("expected_damage_fraction", "expected damage fraction (1)")):
        assert building_values(run, column) == (table[column].to_dict(), label)
        scene = open_scene(run, size=SMALL, building_value=column)
        try:
            ids = scene.buildings.cell_data["building_id"]
            assert np.array_equal(scene.buildings.cell_data["value"], table[column].loc[ids].to_numpy())
        finally:
            scene.close()
    scene = open_scene(load_run(fire_run), size=SMALL)           # no buildings.csv: plain buildings
    try:
        assert scene.buildings.n_cells and "value" not in scene.buildings.cell_data
    finally:
        scene.close()


def vtk_terrain_height(twin, x, y):
    """The terrain's height (m) at local points as VTK draws its quads: each split along its
    south-west to north-east diagonal (None outside the mesh, beyond the outer cell centres)."""
    z = twin.elevation.values
    col, row = x / DX - 0.5, N - y / DX - 0.5          # fractional cell-centre indices
    inside = (col >= 0) & (col <= N - 1) & (row >= 0) & (row <= N - 1)
    c0 = np.clip(np.floor(col).astype(int), 0, N - 2)
    r1 = np.clip(np.ceil(row).astype(int), 1, N - 1)       # the south row of the quad
    u, v = col - c0, r1 - row                             # 0..1 east and north within the quad
    sw, se, ne, nw = z[r1, c0], z[r1, c0 + 1], z[r1 - 1, c0 + 1], z[r1 - 1, c0]
    lower = sw + u * (se - sw) + v * (ne - se)            # triangle sw-se-ne (u >= v)
    upper = sw + u * (ne - nw) + v * (nw - sw)            # triangle sw-ne-nw
    return np.where(u >= v, lower, upper), inside


def test_terrain_mesh_sits_where_the_raster_says():
    twin = make_twin()
    terrain = terrain_mesh(twin, exaggeration=3.0)
    assert terrain.n_points == N * N and terrain.n_cells == (N - 1) ** 2
    assert np.allclose(terrain.points[:, 2], 3.0 * terrain.point_data["elevation"])
    assert tuple(terrain.field_data["origin"]) == (E0, N0)


def test_water_surface_draws_each_wet_cell_at_ground_plus_depth():
    twin = make_twin()
    depth = np.zeros((N, N))
    depth[CHANNEL, 10:20] = 2.0
    depth[5, 50] = 0.06                                   # one wet cell on its own
    water = water_mesh(twin, depth, threshold=0.05)
    wet = np.flatnonzero(depth.ravel() > 0.05)
    assert np.array_equal(np.unique(water.cell_data["cell"]), wet)
    assert water.n_cells == 4 * wet.size                  # each cell its own four quads
    # the cell's centre point stands at ground + depth (+ the lift against z-fighting)
    at_centre = np.isclose((water.points[:, :2] / DX) % 1, 0.5).all(axis=1)
    centres = water.points[at_centre]
    rows, cols = (N - centres[:, 1] / DX - 0.5).round().astype(int), (centres[:, 0] / DX - 0.5).round().astype(int)
    assert np.allclose(centres[:, 2], twin.elevation.values[rows, cols] + depth[rows, cols] + LIFT_M)
    assert water_mesh(twin, np.zeros((N, N))).n_cells == 0


def test_water_on_a_steep_rough_slope_never_dips_below_the_terrain():
    """The comb-like stripes of the old top view: water drawn inside the terrain on slopes."""
    rng = np.random.default_rng(3)
    twin = make_twin()
    cols = np.arange(N)[None, :] * np.ones((N, 1))
    twin["elevation"][:] = 0.4 * DX * cols + rng.normal(0.0, 1.5, (N, N))    # 40 % slope, 1.5 m roughness
    depth = np.where(rng.random((N, N)) < 0.2, 0.06, 0.0)                     # scattered 6 cm
    water = water_mesh(twin, depth, threshold=0.05)
    quads = water.faces.reshape(-1, 5)[:, 1:]
    # every vertex, and the middle of every quad on the diagonal it is split along
    probe = np.vstack([water.points, 0.5 * (water.points[quads[:, 0]] + water.points[quads[:, 2]])])
    ground, inside = vtk_terrain_height(twin, probe[:, 0], probe[:, 1])
    assert inside.sum() > 0.9 * len(probe)
    assert (probe[inside, 2] - ground[inside]).min() >= LIFT_M - 1e-9


# --- camera ----------------------------------------------------------------------------------

@pytest.mark.parametrize("view", list(COMPASS_BEARINGS))
def test_compass_views_look_from_their_side(view):
    plotter = pv.Plotter(off_screen=True, window_size=SMALL)
    bounds = (0.0, 100.0, 0.0, 100.0, 0.0, 10.0)
    plotter.add_mesh(pv.Box(bounds))
    apply_view(plotter, view, bounds)
    offset = np.subtract(plotter.camera.position, plotter.camera.focal_point)
    plotter.close()
    bearing = np.degrees(np.arctan2(offset[0], offset[1])) % 360
    assert bearing == pytest.approx(COMPASS_BEARINGS[view], abs=1e-6)
    assert offset[2] > 0


def test_unknown_view_is_an_input_error(flood_run, tmp_path):
    with pytest.raises(InputError, match="view"):
        render_run(flood_run, tmp_path / "x.png", view="up", size=SMALL)


# --- stills ----------------------------------------------------------------------------------

def test_top_down_still_shows_water_in_the_flooded_channel_only(flood_run, tmp_path):
    out = render_run(flood_run, tmp_path / "top.png", view="top", size=SMALL, building_value=None)
    image = iio.imread(out)
    assert image.shape[:2] == (SMALL[1], SMALL[0])
    # the square domain fills the image height: channel rows 42-58 of 100 are the middle band
    for col in (0.3, 0.5, 0.7):
        assert bluish(patch(image, 0.50, col)), patch(image, 0.50, col)
        assert not bluish(patch(image, 0.25, col)), patch(image, 0.25, col)     # dry north slope
    assert not bluish(patch(image, 0.75, 0.45))                                   # dry south slope


def test_custom_camera_looks_where_it_is_told(flood_run, tmp_path):
    x, y_channel, y_north = N * DX / 2, N * DX / 2, 0.85 * N * DX     # local metres
    above_channel = Camera(position=(x, y_channel, 400.0), focal_point=(x, y_channel, 0.0), up=(0, 1, 0))
    above_north = Camera(position=(x, y_north, 150.0), focal_point=(x, y_north, 0.0), up=(0, 1, 0))
    wet = iio.imread(render_run(flood_run, tmp_path / "c1.png", view=above_channel, size=SMALL,
                                building_value=None))
    dry = iio.imread(render_run(flood_run, tmp_path / "c2.png", view=above_north, size=SMALL,
                                building_value=None))
    assert bluish(patch(wet, 0.5, 0.3))
    assert not bluish(patch(dry, 0.5, 0.3))


def test_dry_run_shows_no_water(tmp_path):
    run = make_flood_run(tmp_path / "dry")
    ds = xr.load_dataset(run / "hazard.nc")
    ds["max_depth"][:] = 0.0
    ds.to_netcdf(run / "hazard.nc")
    image = iio.imread(render_run(run, tmp_path / "dry.png", view="top", size=SMALL,
                                  building_value=None))
    assert not bluish(patch(image, 0.50, 0.5))


def test_oblique_still_with_buildings_coloured_is_not_blank(flood_run, tmp_path):
    out = render_run(flood_run, tmp_path / "sw.png", view="sw", size=SMALL, exaggeration=2.0,
                     building_value="expected_damage_fraction")
    image = iio.imread(out)[..., :3].astype(int)
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    assert image.std() > 20
    assert ((b > r + 40) & (b > g + 10)).sum() > 1000                     # the water shows
    assert ((r > g + 80) & (r > b + 80)).sum() > 1000                     # damaged buildings, YlOrRd reds
    assert ((g > r + 20) & (g > b + 40)).sum() > 1000                     # grass tint of the terrain


def test_fire_arrival_time_is_draped_where_it_burned(fire_run, tmp_path):
    image = iio.imread(render_run(fire_run, tmp_path / "fire.png", view="top", size=SMALL))
    burned, unburned = patch(image, 0.5, 0.40), patch(image, 0.5, 0.62)
    assert np.abs(unburned - GRASS).max() < 60           # land-cover tint where it did not burn
    assert np.abs(burned - unburned).max() > 60          # fire colour where it did


def test_risk_probability_is_draped_only_where_nonzero(flood_run, tmp_path):
    image = iio.imread(render_run(flood_run, tmp_path / "p.png", view="top", size=SMALL,
                                  layer="flood_probability", building_value=None))
    west, east = patch(image, 0.5, 0.4), patch(image, 0.5, 0.6)
    assert np.abs(east - GRASS).max() < 60                # probability 0: the land-cover tint
    assert np.abs(west - east).max() > 60                 # probability 0.9: the drape colour


def test_layer_on_another_grid_is_an_input_error(flood_run, tmp_path):
    run = tmp_path / "bad"
    run.mkdir()
    for name in ("twin.nc", "buildings.csv"):
        (run / name).write_bytes((flood_run / name).read_bytes())
    xr.load_dataset(flood_run / "hazard.nc").isel(x=slice(0, 50)).to_netcdf(run / "hazard.nc")
    with pytest.raises(InputError, match="max_depth.*shape"):
        render_run(run, tmp_path / "x.png", size=SMALL)
    with pytest.raises(InputError, match="exaggeration"):
        render_run(flood_run, tmp_path / "x.png", size=SMALL, exaggeration=0.0)


# --- animation -------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_animation_has_one_frame_per_snapshot(flood_run, tmp_path, suffix):
    out = render_run(flood_run, tmp_path / f"flood{suffix}", view="top", size=(320, 180))
    frames = iio.imread(out) if suffix == ".gif" else _mp4_frames(out)
    assert len(frames) == len(TIMES)
    middle = [patch(f, 0.5, 0.5, half=2) for f in frames]
    assert not bluish(middle[0])          # t = 0: dry
    assert bluish(middle[-1])             # t = 1 h: flooded


def _mp4_frames(path):
    import imageio.v2 as imageio
    with imageio.get_reader(path) as reader:
        return [frame for frame in reader]


def test_fire_animation_writes_a_gif(fire_run, tmp_path):
    frames = iio.imread(render_run(fire_run, tmp_path / "fire.gif", view="top", size=(320, 180)))
    assert len(frames) == len(TIMES)
    assert np.abs(frames[0].astype(float) - frames[-1].astype(float)).mean() > 5   # the front moved


# --- exports ---------------------------------------------------------------------------------

def test_vtm_export_reopens_with_buildings_and_water(flood_run, tmp_path):
    out = render_run(flood_run, tmp_path / "scene.vtm", size=SMALL)
    blocks = pv.read(out)
    assert set(blocks.keys()) == {"terrain", "buildings", "layer"}
    vtps = sorted((tmp_path / "scene").glob("*.vtp"))
    assert len(vtps) == 3
    buildings = pv.read(next(p for p in vtps if pv.read(p).n_cells and "building_id" in pv.read(p).cell_data))
    twin = load_run(flood_run).twin
    assert len(np.unique(buildings.cell_data["building_id"])) == len(np.unique(twin.building_id)) - 1
    risk = pd.read_csv(flood_run / "buildings.csv").set_index("building_id")["risk_class_name"]
    expected = np.array([hex_rgb(BUILDING_COLOURS[c]) for c in risk.loc[buildings.cell_data["building_id"]]])
    assert np.array_equal(buildings.cell_data["rgb"], expected)       # each building in its risk class's colour
    wet = np.flatnonzero(xr.load_dataset(flood_run / "hazard.nc")["max_depth"].values.ravel() > 0.05)
    assert np.array_equal(np.unique(blocks["layer"].cell_data["cell"]), wet)


def test_gltf_export_parses_with_inline_buffers(flood_run, tmp_path):
    out = render_run(flood_run, tmp_path / "scene.gltf", size=SMALL)
    gltf = json.loads(out.read_text())
    assert gltf["asset"]["version"] == "2.0"
    assert len(gltf["meshes"]) >= 3                        # terrain, buildings, water (+ north arrow)
    for buffer in gltf["buffers"]:
        assert buffer["uri"].startswith("data:application/octet-stream;base64,")
    counts = [gltf["accessors"][p["attributes"]["POSITION"]]["count"]
              for m in gltf["meshes"] for p in m["primitives"]]
    assert max(counts) >= (N - 1) ** 2                      # the terrain went in whole


# --- errors ----------------------------------------------------------------------------------

def test_missing_files_and_layers_are_named(flood_run, tmp_path):
    with pytest.raises(InputError, match="hazard.nc"):
        (tmp_path / "empty").mkdir()
        make_twin().to_netcdf(tmp_path / "empty" / "twin.nc")
        render_run(tmp_path / "empty", size=SMALL)
    with pytest.raises(InputError, match="burn_probability"):
        render_run(flood_run, tmp_path / "x.png", layer="burn_probability", size=SMALL)
    with pytest.raises(InputError, match="damage_ratio"):
        render_run(flood_run, tmp_path / "x.png", building_value="damage_ratio", size=SMALL)
    with pytest.raises(InputError, match="risk_class_name: column is not numeric"):
        render_run(flood_run, tmp_path / "x.png", building_value="risk_class_name", size=SMALL)
    with pytest.raises(InputError, match=r"\.tiff"):
        render_run(flood_run, tmp_path / "x.tiff", size=SMALL)


def test_clock_reads_hours_and_minutes():
    assert clock(0) == "00:00"
    assert clock(3600 + 23 * 60) == "01:23"
    assert clock(26 * 3600) == "26:00"
