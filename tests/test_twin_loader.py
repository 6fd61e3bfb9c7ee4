"""Tests of the CityTwin loader (twin.core.citytwin, twin.core.rasters, twin.core.grid) on tiny synthetic GeoTIFFs.

Each bad input must raise :class:`twin.core.errors.InputError` whose message names the offending file;
resampling must keep class codes valid (nearest) and interpolate continuous fields (bilinear);
derived fields must follow the tables of :mod:`twin.core.classes`; the netCDF round trip must be exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import transform as warp_transform
from rasterio.warp import transform_bounds

from conftest import CELL, CRS_KOREA, ORIGIN, sloping_terrain, two_buildings, write_manifest
from twin.core.citytwin import build_dataset, check_memory, estimate_memory, load_twin, open_twin, save_twin
from twin.core.classes import FUEL_MODEL_BY_LANDCOVER, LANDCOVER, MANNING_BY_LANDCOVER
from twin.core.errors import InputError
from twin.core.fields import TWIN_FIELDS
from twin.core.grid import Grid

SHAPE = sloping_terrain().shape
NODATA = -9999.0


def _load_error(tmp_path, rasters: dict, **manifest) -> str:
    """Write a manifest, load it, and return the InputError's message (fails if none is raised)."""
    path = write_manifest(tmp_path / "twin.yaml", rasters, **manifest)
    with pytest.raises(InputError) as info:
        load_twin(path)
    return str(info.value)


@pytest.fixture
def dem(raster):
    """The terrain raster of the default grid (EPSG:5186, 10 m, 12 x 16)."""
    return raster("dem.tif", sloping_terrain())


# ---------------------------------------------------------------- loader errors, each naming the file

def test_missing_raster_file_is_named(tmp_path, dem):
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "buildings": "no_such_buildings.tif"})
    assert "no_such_buildings.tif" in msg
    assert "not found" in msg


def test_missing_terrain_file_is_named(tmp_path):
    msg = _load_error(tmp_path, {"terrain": "no_such_dem.tif"})
    assert "no_such_dem.tif" in msg


def test_text_file_with_tif_suffix_is_not_a_raster(tmp_path, dem):
    (tmp_path / "landcover.tif").write_text("this is not a GeoTIFF\n")
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "landcover": "landcover.tif"})
    assert "landcover.tif" in msg
    assert "not a readable raster" in msg


def test_crs_differing_from_terrain_names_file_and_both_crs(tmp_path, dem, raster):
    raster("buildings.tif", two_buildings(), crs="EPSG:32652")
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "buildings": "buildings.tif"})
    assert "buildings.tif" in msg
    assert "EPSG:5186" in msg and "EPSG:32652" in msg
    assert "resample" in msg


def test_transform_differing_from_terrain_is_refused(tmp_path, dem, raster):
    shifted = Affine(CELL, 0.0, ORIGIN[0] + CELL, 0.0, -CELL, ORIGIN[1])  # one cell east
    raster("buildings.tif", two_buildings(), transform=shifted)
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "buildings": "buildings.tif"})
    assert "buildings.tif" in msg
    assert "grid differs" in msg


def test_shape_differing_from_terrain_is_refused(tmp_path, dem, raster):
    raster("buildings.tif", two_buildings()[:, :-1])  # one column short, same origin and cell size
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "buildings": "buildings.tif"})
    assert "buildings.tif" in msg
    assert f"{SHAPE[0]}, {SHAPE[1] - 1}" in msg  # the shape found is reported


def test_geographic_crs_refused_with_projected_suggestion(tmp_path, raster):
    degrees = Affine(1e-4, 0.0, 127.38, 0.0, -1e-4, 36.35)  # Daejeon in EPSG:4326
    raster("dem_wgs84.tif", sloping_terrain(), crs="EPSG:4326", transform=degrees)
    msg = _load_error(tmp_path, {"terrain": "dem_wgs84.tif"})
    assert "dem_wgs84.tif" in msg
    assert "EPSG:4326" in msg
    assert "geographic" in msg
    assert "EPSG:5186" in msg or "EPSG:32652" in msg  # a projected CRS is suggested


def test_non_square_cells_refused(tmp_path, raster):
    raster("dem_rect.tif", sloping_terrain(), transform=Affine(CELL, 0.0, ORIGIN[0], 0.0, -CELL / 2, ORIGIN[1]))
    msg = _load_error(tmp_path, {"terrain": "dem_rect.tif"})
    assert "dem_rect.tif" in msg
    assert "not square" in msg


def test_nodata_hole_inside_domain_is_an_error(tmp_path, raster):
    elevation = sloping_terrain()
    elevation[5, 7] = NODATA
    raster("dem_hole.tif", elevation, nodata=NODATA)
    msg = _load_error(tmp_path, {"terrain": "dem_hole.tif"})
    assert "dem_hole.tif" in msg
    assert "row 5, col 7" in msg


def test_nodata_at_edges_is_outside_the_domain_without_nan_leaks(tmp_path, raster):
    elevation = sloping_terrain()
    elevation[0, :] = NODATA          # north edge row
    elevation[:, :2] = NODATA         # two west edge columns
    elevation[-3:, -3:] = NODATA      # south-east corner block
    raster("dem_edges.tif", elevation, nodata=NODATA)
    raster("manning.tif", np.full(SHAPE, 0.03))  # valid everywhere: the domain mask must clear it outside
    outside = elevation == NODATA
    ds = load_twin(write_manifest(tmp_path / "twin.yaml", {"terrain": "dem_edges.tif", "manning_n": "manning.tif"}))

    np.testing.assert_array_equal(ds["domain_mask"].values, (~outside).astype(np.int8))
    assert np.all(np.isnan(ds["elevation"].values[outside]))
    np.testing.assert_array_equal(ds["elevation"].values[~outside], elevation[~outside])
    assert np.all(ds["manning_n"].values[outside] == 0.0)
    assert np.all(ds["fuel_model"].values[outside] == 0)
    assert np.all(ds["manning_n"].values[~outside] == 0.03)
    for name in TWIN_FIELDS:
        if name != "elevation":
            assert np.all(np.isfinite(ds[name].values)), f"{name} has non-finite values"


def test_manifest_crs_mismatch_names_terrain_and_both_crs(tmp_path, dem):
    msg = _load_error(tmp_path, {"terrain": "dem.tif"}, crs="EPSG:32652")
    assert "dem.tif" in msg
    assert "EPSG:32652" in msg and "EPSG:5186" in msg


def test_invalid_manifest_crs_names_the_manifest(tmp_path, dem):
    msg = _load_error(tmp_path, {"terrain": "dem.tif"}, crs="EPSG:not-a-code")
    assert "EPSG:not-a-code" in msg
    assert "twin.yaml" in msg


def test_unknown_manifest_key_named_with_its_line(tmp_path, dem):
    path = tmp_path / "twin.yaml"
    path.write_text("name: tiny\n"
                    "rasters:\n"
                    "  terrain: dem.tif\n"
                    "  biuldings: buildings.tif\n"
                    "resampel: true\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_twin(path)
    msg = str(info.value)
    assert "twin.yaml" in msg
    assert "rasters.biuldings: unknown key (typo?) (line 4)" in msg
    assert "resampel: unknown key (typo?) (line 5)" in msg


def test_typo_in_required_manifest_key_is_an_input_error(tmp_path, dem):
    """A misspelt ``terrain`` is both an unknown key and a missing required one: one InputError."""
    path = tmp_path / "twin.yaml"
    path.write_text("rasters:\n  terain: dem.tif\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_twin(path)
    msg = str(info.value)
    assert "rasters.terain: unknown key (typo?) (line 2)" in msg
    assert "rasters.terrain: required key is missing" in msg


# ---------------------------------------------------------------- resample: true

def _utm_cover(step: float, margin_cells: int = 3) -> tuple[Affine, tuple[int, int]]:
    """A north-up EPSG:32652 grid of ``step`` m cells covering the default EPSG:5186 grid with a margin."""
    west, south, east, north = transform_bounds(
        CRS_KOREA, "EPSG:32652", ORIGIN[0], ORIGIN[1] - CELL * SHAPE[0], ORIGIN[0] + CELL * SHAPE[1], ORIGIN[1])
    x0 = np.floor(west / step) * step - margin_cells * step
    y0 = np.ceil(north / step) * step + margin_cells * step
    nx = int(np.ceil((east - x0) / step)) + margin_cells
    ny = int(np.ceil((y0 - south) / step)) + margin_cells
    return Affine(step, 0.0, x0, 0.0, -step, y0), (ny, nx)


def _source_pixel(ds, transform: Affine) -> tuple[np.ndarray, np.ndarray]:
    """Fractional (col, row) in a UTM source raster of every twin cell centre."""
    x, y = np.meshgrid(ds["x"].values, ds["y"].values)
    ux, uy = warp_transform(CRS_KOREA, "EPSG:32652", x.ravel(), y.ravel())
    col, row = ~transform @ (np.asarray(ux), np.asarray(uy))
    return col.reshape(x.shape), row.reshape(x.shape)


def test_resample_reprojects_classes_nearest_and_continuous_bilinear(tmp_path, dem, raster):
    step = 2 * CELL  # coarser source grid, in another CRS (UTM 52N)
    transform, shape = _utm_cover(step)
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]]
    landcover = np.where((rows // 2 + cols // 2) % 2 == 0, LANDCOVER["water"], LANDCOVER["forest"]).astype(np.int8)
    manning = 0.010 + 0.001 * cols + 0.0005 * rows  # linear in pixel space: bilinear reproduces it exactly
    raster("landcover_utm.tif", landcover, crs="EPSG:32652", transform=transform)
    raster("manning_utm.tif", manning, crs="EPSG:32652", transform=transform)
    ds = load_twin(write_manifest(tmp_path / "twin.yaml", {"terrain": "dem.tif", "landcover": "landcover_utm.tif",
                                                             "manning_n": "manning_utm.tif"}, resample=True))

    assert ds.rio.crs == CRS.from_user_input(CRS_KOREA)
    got_lc = ds["landcover"].values
    # nearest: only the two source codes appear (averaging water 1 and forest 5 would give 2, 3 or 4)
    assert set(np.unique(got_lc)) == {LANDCOVER["water"], LANDCOVER["forest"]}
    col, row = _source_pixel(ds, transform)
    # each cell takes the code of the source pixel holding its centre (away from source pixel edges)
    clear = (np.abs(col - np.round(col)) > 0.05) & (np.abs(row - np.round(row)) > 0.05)
    assert clear.mean() > 0.6
    expected_lc = landcover[np.floor(row).astype(int), np.floor(col).astype(int)]
    np.testing.assert_array_equal(got_lc[clear], expected_lc[clear])
    # bilinear: the linear source field is interpolated, not stepped (nearest would be off by ~5e-4)
    expected_n = 0.010 + 0.001 * (col - 0.5) + 0.0005 * (row - 0.5)
    np.testing.assert_allclose(ds["manning_n"].values, expected_n, rtol=0, atol=1e-7)


def test_resample_false_refuses_the_same_raster(tmp_path, dem, raster):
    transform, shape = _utm_cover(2 * CELL)
    raster("landcover_utm.tif", np.full(shape, LANDCOVER["grass"], np.int8), crs="EPSG:32652", transform=transform)
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "landcover": "landcover_utm.tif"})
    assert "landcover_utm.tif" in msg


# ---------------------------------------------------------------- derivations

def _grid() -> Grid:
    return Grid(SHAPE, Affine(CELL, 0.0, ORIGIN[0], 0.0, -CELL, ORIGIN[1]), CRS.from_user_input(CRS_KOREA))


def test_building_ids_labelled_from_two_separate_footprints(twin_dir):
    ds = load_twin(twin_dir / "twin.yaml")
    height = two_buildings()
    bid = ds["building_id"].values
    assert bid.dtype == np.int32
    ids_a = np.unique(bid[2:5, 2:6])
    ids_b = np.unique(bid[7:10, 9:14])
    assert ids_a.size == 1 and ids_b.size == 1       # one id per footprint
    assert ids_a[0] > 0 and ids_b[0] > 0 and ids_a[0] != ids_b[0]
    np.testing.assert_array_equal(bid > 0, height > 0)
    assert np.all(ds["landcover"].values[height > 0] == LANDCOVER["building"])


def test_diagonal_footprints_are_two_buildings():
    """Footprints are 4-connected (documented): cells touching only at a corner are separate buildings."""
    height = np.zeros(SHAPE)
    height[3, 3] = 10.0
    height[4, 4] = 12.0
    ds = build_dataset(_grid(), {"elevation": sloping_terrain(), "building_height": height})
    assert len(np.unique(ds["building_id"].values[height > 0])) == 2


def test_fuel_model_and_manning_from_landcover_tables():
    landcover = np.zeros(SHAPE, dtype=np.int8)
    codes = list(LANDCOVER.items())
    for i, (_, code) in enumerate(codes):  # one band of rows per class
        landcover[i::len(codes)] = code
    ds = build_dataset(_grid(), {"elevation": sloping_terrain(), "landcover": landcover})
    for name, code in codes:
        cells = ds["landcover"].values == code
        assert cells.any()
        assert np.all(ds["fuel_model"].values[cells] == FUEL_MODEL_BY_LANDCOVER[name]), name
        assert np.all(ds["manning_n"].values[cells] == MANNING_BY_LANDCOVER[name]), name
    assert ds["fuel_model"].dtype == np.int16 and ds["manning_n"].dtype == np.float64


def test_unknown_landcover_code_is_refused():
    landcover = np.full(SHAPE, LANDCOVER["grass"], dtype=np.int8)
    landcover[1, 2] = 42
    with pytest.raises(InputError, match="row 1, col 2"):
        build_dataset(_grid(), {"elevation": sloping_terrain(), "landcover": landcover})


# ---------------------------------------------------------------- netCDF round trip

def test_netcdf_round_trip_is_exact(tmp_path, raster):
    elevation = sloping_terrain()
    elevation[:, 0] = NODATA  # some NaN elevation outside the domain
    raster("dem.tif", elevation, nodata=NODATA)
    raster("buildings.tif", two_buildings())
    use = np.where(two_buildings() > 0, 3, 0).astype(np.int8)
    raster("use.tif", use)
    ds = load_twin(write_manifest(tmp_path / "twin.yaml", {"terrain": "dem.tif", "buildings": "buildings.tif",
                                                             "building_use": "use.tif"}, name="roundtrip"))
    back = open_twin(save_twin(ds, tmp_path / "twin.nc"))

    for name in TWIN_FIELDS:
        assert back[name].dtype == ds[name].dtype, name
        assert back[name].dims == ("y", "x"), name
        np.testing.assert_array_equal(back[name].values, ds[name].values, err_msg=name)
    np.testing.assert_array_equal(back["x"].values, ds["x"].values)
    np.testing.assert_array_equal(back["y"].values, ds["y"].values)
    assert back.rio.crs == ds.rio.crs
    assert back.rio.transform() == ds.rio.transform()
    assert back.attrs["cell_size"] == ds.attrs["cell_size"]
    assert back.attrs["name"] == "roundtrip"
    assert not list(tmp_path.glob(".twin.nc.tmp-*"))  # the atomic writer left no temporary file


def test_load_twin_reads_a_saved_netcdf(tmp_path, twin_dir):
    ds = load_twin(twin_dir / "twin.yaml")
    back = load_twin(save_twin(ds, tmp_path / "saved.nc"))
    np.testing.assert_array_equal(back["building_id"].values, ds["building_id"].values)


def test_open_twin_refuses_a_netcdf_without_twin_variables(tmp_path, twin_dir):
    ds = load_twin(twin_dir / "twin.yaml")
    path = tmp_path / "partial.nc"
    ds[["elevation"]].to_netcdf(path)
    with pytest.raises(InputError, match="partial.nc.*missing variables"):
        open_twin(path)


# ---------------------------------------------------------------- memory check

def test_check_memory_refuses_when_available_is_small():
    shape = (1000, 1000)
    need = estimate_memory(shape)
    with pytest.raises(InputError) as info:
        check_memory(shape, "dem.tif", available=int(need / 0.8 * 0.99))
    msg = str(info.value)
    assert "dem.tif" in msg
    assert "1000 x 1000" in msg
    assert "GiB" in msg
    check_memory(shape, "dem.tif", available=int(need / 0.8 * 1.01))  # just enough: no error


def test_load_twin_checks_memory_before_reading(twin_dir):
    with pytest.raises(InputError, match="dem.tif.*needs about"):
        load_twin(twin_dir / "twin.yaml", available_memory=1000)
