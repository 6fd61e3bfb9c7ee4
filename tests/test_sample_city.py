"""Tests of the synthetic Daejeon-like sample city (twin.samples.city) and its committed data.

The plausibility checks state the design targets of the generator: the river is the lowest land
of each cross-section and falls downstream, hills stand 60-150 m above the valley, buildings are
separate rectangles off water and roads, underpasses are the road-width depressions where water
ponds, land-cover shares are those of a dense city with wooded hills.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import yaml
from pyproj import Transformer
from scipy import ndimage

from twin.cli import main
from twin.core.classes import BUILDING_USE, LANDCOVER
from twin.core.errors import InputError
from twin.samples.city import generate_sample_city, write_sample_city
from twin.samples.district import CITY_HALL_LONLAT, RASTER_FILES
from twin.samples.writing import readme_text

COMMITTED = Path(__file__).resolve().parents[1] / "data" / "sample_city"
WATER, ROAD, BUILDING = LANDCOVER["water"], LANDCOVER["road"], LANDCOVER["building"]


@pytest.fixture(scope="module")
def city():
    return generate_sample_city()


def _fill_depressions(z: np.ndarray) -> np.ndarray:
    """Depression-filled surface: the lowest level water can drain at to the open edges.

    Iterated grey erosion from the edges (the fixed point is the priority-flood fill of
    Barnes et al. 2014, Computers & Geosciences 62: 117-127), 8-connected.
    """
    big = z.max() + 1.0
    f = np.full_like(z, big)
    edge = np.zeros(z.shape, bool)
    edge[[0, -1], :] = edge[:, [0, -1]] = True
    f[edge] = z[edge]
    while True:
        g = np.maximum(z, ndimage.grey_erosion(f, size=3, mode="nearest"))
        g[edge] = z[edge]
        if np.array_equal(g, f):
            return f
        f = g


def test_same_seed_same_city_and_other_seed_differs():
    a = generate_sample_city(2000.0, 5.0, seed=7)
    b = generate_sample_city(2000.0, 5.0, seed=7)
    c = generate_sample_city(2000.0, 5.0, seed=8)
    for name, arr in a.rasters().items():
        np.testing.assert_array_equal(arr, b.rasters()[name], err_msg=name)
    assert a.transform == b.transform
    assert not np.array_equal(a.elevation, c.elevation)
    assert not np.array_equal(a.building_id, c.building_id)


def test_grid_dtypes_and_placement(city):
    assert city.shape == (500, 500)
    assert city.crs == "EPSG:5186"
    t = city.transform
    assert (t.a, t.b, t.d, t.e) == (5.0, 0.0, 0.0, -5.0)
    assert t.c == round(t.c) and t.f == round(t.f)
    dtypes = {"elevation": np.float64, "building_height": np.float64,
              "building_id": np.int32, "building_use": np.int8, "landcover": np.int8}
    for name, arr in city.rasters().items():
        assert arr.dtype == dtypes[name], name
        assert not arr.flags.writeable, name
    assert np.isfinite(city.elevation).all()
    # the district centre is within one cell of Daejeon city hall
    cx, cy = t.c + 250 * t.a, t.f + 250 * t.e
    lon, lat = Transformer.from_crs("EPSG:5186", "EPSG:4326", always_xy=True).transform(cx, cy)
    to_m = Transformer.from_crs("EPSG:4326", "EPSG:5186", always_xy=True)
    hx, hy = to_m.transform(*CITY_HALL_LONLAT)
    assert abs(cx - hx) <= 5.0 and abs(cy - hy) <= 5.0, (lon, lat)


def test_river_is_lowest_land_of_each_cross_section_and_falls_downstream(city):
    z, water = city.elevation, city.landcover == WATER
    assert water.any(axis=1).all(), "the river must cross the district from north to south"
    land = np.where(water, np.inf, z)
    river = np.where(water, z, -np.inf)
    assert (river.max(axis=1) < land.min(axis=1)).all()
    thalweg = np.where(water, z, np.inf).min(axis=1)
    assert (np.diff(thalweg) < 0).all(), "the bed must fall in every row downstream (south)"
    width = water.sum(axis=1) * city.cell
    assert 20.0 <= np.median(width) <= 40.0
    banks = ndimage.binary_dilation(water) & ~water
    bank_z = np.where(banks, z, np.inf).min(axis=1)
    depth = bank_z - thalweg
    assert (depth >= 2.0).all() and (depth <= 4.0).all(), (depth.min(), depth.max())
    # one channel per row
    for row in water[::25]:
        assert ndimage.label(row)[1] == 1


def test_hills_stand_60_to_150_m_above_the_valley_on_both_sides(city):
    z, water = city.elevation, city.landcover == WATER
    thalweg = np.where(water, z, np.inf).min(axis=1)
    cols = np.arange(z.shape[1])
    centre = np.array([cols[w].mean() for w in water])
    relief = z - thalweg[:, None]
    west = relief[cols[None, :] < centre[:, None] - 20].max()
    east = relief[cols[None, :] > centre[:, None] + 20].max()
    assert 60.0 <= west <= 150.0 and 60.0 <= east <= 150.0, (west, east)
    assert (city.landcover[relief > 60.0] == LANDCOVER["forest"]).mean() > 0.7


def test_urban_ground_is_gentle(city):
    gy, gx = np.gradient(city.elevation, city.cell)
    slope = np.hypot(gx, gy)
    built = city.landcover == BUILDING
    assert np.percentile(slope[built], 99) < 0.10
    assert np.median(slope[city.landcover == ROAD]) < 0.02


def test_underpasses_are_the_road_width_depressions_where_water_ponds(city):
    z = city.elevation
    depth = _fill_depressions(z) - z
    ponds, n = ndimage.label(depth > 0.5, structure=np.ones((3, 3)))
    assert 2 <= n <= 10, n
    on_road = city.landcover == ROAD
    for k, sl in enumerate(ndimage.find_objects(ponds), start=1):
        pond = ponds[sl] == k
        assert on_road[sl][pond].all(), "a deep depression off the roads"
        assert 2.0 <= depth[sl][pond].max() <= 4.0
        assert min(pond.shape) * city.cell <= 40.0, "wider than a road"
    # the rest of the land drains (no closed hollows deeper than 0.5 m)
    assert depth[~on_road].max() <= 0.5


def test_building_rasters_agree_and_avoid_water_and_roads(city):
    bid, h, use, lc = city.building_id, city.building_height, city.building_use, city.landcover
    built = bid > 0
    assert np.array_equal(built, lc == BUILDING)
    assert np.array_equal(built, h > 0)
    assert np.array_equal(built, use > 0)
    assert set(np.unique(use[built])) == set(BUILDING_USE.values())
    assert (h[~built] == 0).all() and (use[~built] == 0).all()
    near_water = ndimage.binary_dilation(lc == WATER, iterations=2)
    assert not (built & near_water).any()
    assert set(np.unique(lc)) == set(LANDCOVER.values())


def test_each_building_is_one_separate_rectangle_with_plausible_size_and_height(city):
    bid = city.building_id
    n = int(bid.max())
    assert np.array_equal(np.unique(bid), np.arange(n + 1)), "ids must be 0..N contiguous"
    # 8-connected components of the building mask are exactly the ids: one piece each, and
    # buildings never touch, not even at a corner
    comp, n_comp = ndimage.label(bid > 0, structure=np.ones((3, 3)))
    assert n_comp == n
    idx = np.arange(1, n_comp + 1)
    lo = ndimage.minimum(bid, comp, idx)
    hi = ndimage.maximum(bid, comp, idx)
    assert np.array_equal(lo, hi) and len(np.unique(lo)) == n
    boxes = ndimage.find_objects(bid)
    sides = np.array([[s.stop - s.start for s in b] for b in boxes]) * city.cell
    area = ndimage.sum_labels(np.ones_like(bid), bid, np.arange(1, n + 1)) * city.cell ** 2
    assert np.array_equal(area, sides.prod(axis=1)), "footprints must be rectangles"
    assert sides.min() >= 10.0 and sides.max() <= 60.0
    h = city.building_height
    h_lo = ndimage.minimum(h, bid, np.arange(1, n + 1))
    h_hi = ndimage.maximum(h, bid, np.arange(1, n + 1))
    assert np.array_equal(h_lo, h_hi), "one height per building"
    assert h_lo.min() >= 3.0 and h_lo.max() <= 80.0
    use = ndimage.maximum(city.building_use, bid, np.arange(1, n + 1))
    mean_h = {k: h_lo[use == v].mean() for k, v in BUILDING_USE.items()}
    mean_a = {k: area[use == v].mean() for k, v in BUILDING_USE.items()}
    assert mean_h["commercial"] > mean_h["industrial"]
    assert mean_a["industrial"] > mean_a["residential"]
    assert mean_h["industrial"] <= 15.0
    assert (use == BUILDING_USE["public"]).sum() >= 2


def test_land_cover_shares(city):
    share = {k: np.mean(city.landcover == v) for k, v in LANDCOVER.items()}
    assert 0.15 <= share["building"] <= 0.45
    assert 0.10 <= share["road"] <= 0.30
    assert 0.005 <= share["water"] <= 0.05
    assert 0.10 <= share["forest"] <= 0.50
    assert share["grass"] >= 0.05


def test_larger_district_keeps_the_street_and_building_scale():
    small = generate_sample_city(2000.0, 5.0, seed=3)
    large = generate_sample_city(5000.0, 5.0, seed=3)
    stats = []
    for c in (small, large):
        area = np.bincount(c.building_id.ravel())[1:] * c.cell ** 2
        width = (c.landcover == WATER).sum(axis=1) * c.cell
        per_km2 = area.size / (c.shape[0] * c.cell / 1000.0) ** 2
        stats.append((area.mean(), np.median(width), per_km2))
    (a_s, w_s, n_s), (a_l, w_l, n_l) = stats
    assert 20.0 <= w_s <= 40.0 and 20.0 <= w_l <= 40.0, "river keeps its width in metres"
    assert 0.67 <= a_l / a_s <= 1.5, "buildings keep their size (not stretched)"
    assert 0.67 <= n_l / n_s <= 1.5, "buildings per km^2 stay alike: more blocks, not bigger ones"


def test_bad_arguments_raise_input_error():
    with pytest.raises(InputError, match="cell"):
        generate_sample_city(2500.0, 0.5)
    with pytest.raises(InputError, match="whole number of cells"):
        generate_sample_city(2502.0, 5.0)
    with pytest.raises(InputError, match="size"):
        generate_sample_city(1500.0, 5.0)


def test_written_geotiffs_reopen_with_crs_transform_dtype_and_values(city, tmp_path):
    out = write_sample_city(city, tmp_path / "city")
    manifest = yaml.safe_load((out / "twin.yaml").read_text())
    assert manifest == {"name": "sample-daejeon", "crs": "EPSG:5186", "rasters": RASTER_FILES}
    assert sorted(p.name for p in out.iterdir()) == sorted([*RASTER_FILES.values(),
                                                            "twin.yaml", "README.md"])
    for name, arr in city.rasters().items():
        with rasterio.open(out / manifest["rasters"][name]) as src:
            assert src.crs.to_epsg() == 5186
            assert src.transform == city.transform
            assert src.profile["tiled"] and src.profile["compress"] == "deflate"
            data = src.read(1)
            assert src.tags(1)["units"] == src.units[0]
        stored = np.float32 if name == "elevation" else arr.dtype
        assert data.dtype == stored, name
        np.testing.assert_array_equal(data, arr.astype(stored), err_msg=name)
    # rewriting replaces a sample-city folder, but never a folder with other files in it
    write_sample_city(city, out)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary left over"
    (out / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="other files"):
        write_sample_city(city, out)


def test_committed_data_equals_the_generator_output(city, tmp_path):
    assert COMMITTED.is_dir(), "data/sample_city is missing; run twin sample-city --out data/sample_city"
    manifest = yaml.safe_load((COMMITTED / "twin.yaml").read_text())
    assert manifest == {"name": "sample-daejeon", "crs": "EPSG:5186", "rasters": RASTER_FILES}
    for name, arr in city.rasters().items():
        with rasterio.open(COMMITTED / manifest["rasters"][name]) as src:
            assert src.transform == city.transform and src.crs.to_epsg() == 5186
            data = src.read(1)
        if name == "elevation":
            # stored as float32: equal to the float32 rounding of the generator's values
            np.testing.assert_allclose(data, arr, rtol=2.0 ** -23, atol=0)
        else:
            np.testing.assert_array_equal(data, arr, err_msg=name)
    assert (COMMITTED / "README.md").read_text() == readme_text(city, "data/sample_city")
    assert sum(p.stat().st_size for p in COMMITTED.iterdir()) < 5e6


def test_the_readme_command_regenerates_the_committed_data(tmp_path, monkeypatch):
    """The command in data/sample_city/README.md (``twin sample-city``) writes the committed files."""
    readme = (COMMITTED / "README.md").read_text()
    command = next(line.split() for line in readme.splitlines()
                   if line.lstrip().startswith("twin sample-city "))
    assert command[-2:] == ["--out", "data/sample_city"]
    monkeypatch.chdir(tmp_path)
    assert main(command[1:]) == 0
    out = tmp_path / "data" / "sample_city"
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in COMMITTED.iterdir())
    assert (out / "README.md").read_text() == readme
    assert (out / "twin.yaml").read_text() == (COMMITTED / "twin.yaml").read_text()
    for name in RASTER_FILES.values():
        with rasterio.open(out / name) as new, rasterio.open(COMMITTED / name) as old:
            assert (new.dtypes, new.transform, new.tags(1)) == (old.dtypes, old.transform, old.tags(1))
            np.testing.assert_array_equal(new.read(1), old.read(1), err_msg=name)
