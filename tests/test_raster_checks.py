"""Tests of the value checks of twin rasters (twin.core.rasters, twin.core.citytwin) on tiny 20 x 20 GeoTIFFs.

Every bad raster must stop the load with one :class:`twin.core.errors.InputError` naming the file,
the field, what was expected and what was found: class codes out of their table (never cast to
``int8`` and wrapped), bad building ids and heights, implausible terrain and roughness, files that
are damaged, truncated or not rasters at all, and damaged netCDF twins.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import sloping_terrain, write_manifest
from test_twin_loader import _load_error
from twin.core.citytwin import build_dataset, load_twin
from twin.core.classes import LANDCOVER
from twin.cli import EXIT_BAD_INPUT, main
from twin.core.errors import InputError
from twin.core.rasters import BUILDING_HEIGHT_MAX_M, ELEVATION_RANGE_M, MANNING_N_MAX, read_grid

SHAPE = (20, 20)
GRASS = LANDCOVER["grass"]


@pytest.fixture
def dem(raster):
    """The terrain of the 20 x 20 grid (float64, no nodata)."""
    return raster("dem.tif", sloping_terrain(SHAPE))


#: Cells given a bad value by :func:`_put` (the first is row 3, col 4).
BAD_CELLS = ((3, 4), (3, 5), (10, 12))


def _put(array: np.ndarray, value, cells=BAD_CELLS) -> np.ndarray:
    """A copy of ``array`` holding ``value`` at ``cells``."""
    array = np.array(array)
    for cell in cells:
        array[cell] = value
    return array


def _full(value, dtype=np.float64) -> np.ndarray:
    """A 20 x 20 raster of ``value``."""
    return np.full(SHAPE, value, dtype=dtype)


def _footprint_heights() -> np.ndarray:
    """Building heights (m): one 12 m footprint, rows 2-5, cols 3-7."""
    height = np.zeros(SHAPE)
    height[2:6, 3:8] = 12.0
    return height


# ---------------------------------------------------------------- class codes, checked before the cast

def test_landcover_code_257_is_refused_not_wrapped_to_water(tmp_path, dem, raster):
    landcover = _put(_full(GRASS, np.int16), 257)  # int8(257) would be 1, water
    landcover[15, 15] = 300
    raster("landcover.tif", landcover)
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "landcover": "landcover.tif"})
    assert "landcover.tif: landcover: unknown class codes in 4 cells (first at row 3, col 4)" in msg
    assert "found 257, 300" in msg
    assert "1 water, 2 road, 3 building, 4 grass" in msg


def test_landcover_in_int16_with_known_codes_loads(tmp_path, dem, raster):
    raster("landcover.tif", _put(_full(GRASS, np.int16), LANDCOVER["forest"]))
    ds = load_twin(write_manifest(tmp_path / "twin.yaml", {"terrain": "dem.tif", "landcover": "landcover.tif"}))
    assert ds["landcover"].dtype == np.int8
    assert ds["landcover"].values[3, 4] == LANDCOVER["forest"] and ds["landcover"].values[0, 0] == GRASS


def test_non_integer_class_code_is_refused(tmp_path, dem, raster):
    raster("landcover.tif", _put(_full(GRASS), 2.5))
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "landcover": "landcover.tif"})
    assert "landcover.tif: landcover: class codes that are not whole numbers in 3 cells" in msg
    assert "found 2.5" in msg


def test_unknown_building_use_is_refused_at_load(tmp_path, dem, raster):
    raster("height.tif", _footprint_heights())
    raster("use.tif", _put(_full(0, np.int8), 7, cells=[(2, 3)]))
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "building_height": "height.tif", "building_use": "use.tif"})
    assert "use.tif: building_use: unknown class codes in 1 cell (first at row 2, col 3)" in msg
    assert "0 (not given) or 1 residential, 2 commercial, 3 industrial, 4 public" in msg
    assert "found 7" in msg


def test_fuel_model_unknown_to_the_kernels_is_refused(tmp_path, dem, raster):
    raster("fuel.tif", _put(_full(102, np.int16), 42))
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "fuel_model": "fuel.tif"})
    assert "fuel.tif: fuel_model: unknown class codes in 3 cells" in msg
    assert "1-13, 91-99, 101-109" in msg
    assert "found 42" in msg


def test_fuel_model_0_takes_the_land_cover_table(tmp_path, dem, raster):
    raster("fuel.tif", _put(_full(0, np.int16), 165))
    ds = load_twin(write_manifest(tmp_path / "twin.yaml", {"terrain": "dem.tif", "fuel_model": "fuel.tif"}))
    assert ds["fuel_model"].values[3, 4] == 165
    assert ds["fuel_model"].values[0, 0] == 91  # urban open, from the table


def test_build_dataset_checks_land_cover_before_the_cast(dem):
    arrays = {"elevation": sloping_terrain(SHAPE), "landcover": _put(_full(GRASS, np.int16), 257)}
    with pytest.raises(InputError, match=r"landcover: unknown class codes in 3 cells .*found 257"):
        build_dataset(read_grid(dem), arrays)


# ---------------------------------------------------------------- building ids

RANGE = "expected 0 (no building) .. 2147483647 (int32)"
WHOLE = "expected integer ids"


@pytest.mark.parametrize("value, dtype, problem, expected", [
    (-3, np.int32, "building ids out of range", f"{RANGE}, found -3"),
    (3_000_000_000, np.uint32, "building ids out of range", f"{RANGE}, found 3000000000"),
    (np.nan, np.float64, "building ids that are not whole numbers", f"{WHOLE}, found nan"),
    (1.5, np.float64, "building ids that are not whole numbers", f"{WHOLE}, found 1.5"),
])
def test_bad_building_ids_are_refused(tmp_path, dem, raster, value, dtype, problem, expected):
    raster("height.tif", _footprint_heights())
    raster("ids.tif", _put(_full(0, dtype), value, cells=[(2, 3), (2, 4)]))
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "building_height": "height.tif", "building_id": "ids.tif"})
    assert f"ids.tif: building_id: {problem} in 2 cells (first at row 2, col 3) ({expected})" in msg


# ---------------------------------------------------------------- building heights

@pytest.mark.parametrize("value, found", [(-2.0, "found -2"), (1500.0, "found 1500"), (np.inf, "found inf")])
def test_negative_absurd_or_infinite_heights_are_refused(tmp_path, dem, raster, value, found):
    raster("height.tif", _put(_footprint_heights(), value))
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "building_height": "height.tif"})
    assert "height.tif: building_height: building heights out of range in 3 cells" in msg
    assert f"0 .. {BUILDING_HEIGHT_MAX_M:g} m" in msg
    assert found in msg


@pytest.mark.parametrize("nodata", [None, -9999.0])
def test_footprint_cells_without_height_are_refused(tmp_path, dem, raster, nodata):
    height = _footprint_heights()
    height[2, 5] = np.nan if nodata is None else nodata  # NaN, or the declared nodata value
    raster("height.tif", height, nodata=nodata)
    raster("ids.tif", np.where(_footprint_heights() > 0, 1, 0).astype(np.int32))
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "building_height": "height.tif", "building_id": "ids.tif"})
    assert ("height.tif: building_height: building footprint cells (building_id > 0) without a height in 1 cell "
            "(first at row 2, col 5)") in msg


def test_height_nan_or_nodata_without_building_ids_means_no_building(tmp_path, dem, raster):
    height = _footprint_heights()
    height[15:, :] = np.nan
    height[0, :] = -9999.0
    raster("height.tif", height, nodata=-9999.0)
    ds = load_twin(write_manifest(tmp_path / "twin.yaml", {"terrain": "dem.tif", "building_height": "height.tif"}))
    np.testing.assert_array_equal(ds["building_height"].values, np.where(height > 0, height, 0.0))
    assert set(np.unique(ds["building_id"].values)) == {0, 1}


# ---------------------------------------------------------------- terrain

@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_terrain_nan_or_inf_not_marked_nodata_is_refused(tmp_path, raster, value):
    raster("dem.tif", _put(sloping_terrain(SHAPE), value, cells=[(7, 8)]), nodata=-9999.0)
    msg = _load_error(tmp_path, {"terrain": "dem.tif"})
    assert "dem.tif: elevation: NaN or infinite elevations that are not the raster's nodata value in 1 cell" in msg
    assert "(first at row 7, col 8)" in msg


def test_terrain_nan_declared_as_nodata_marks_the_outside(tmp_path, raster):
    elevation = sloping_terrain(SHAPE)
    elevation[:, :3] = np.nan
    raster("dem.tif", elevation.astype(np.float32), nodata=np.nan)
    ds = load_twin(write_manifest(tmp_path / "twin.yaml", {"terrain": "dem.tif"}))
    assert ds["domain_mask"].values[:, :3].sum() == 0 and ds["domain_mask"].values[:, 3:].all()


def test_implausible_terrain_elevation_is_refused(tmp_path, raster):
    raster("dem.tif", _put(sloping_terrain(SHAPE), -9999.0))  # nodata not declared
    msg = _load_error(tmp_path, {"terrain": "dem.tif"})
    assert "dem.tif: elevation: implausible elevations; an undeclared nodata value?" in msg
    low, high = ELEVATION_RANGE_M
    assert f"expected {low:g} .. {high:g} m, found -9999" in msg


@pytest.mark.parametrize("dtype, nodata", [(np.int16, -32768), (np.int32, -2147483648)])
def test_integer_terrain_with_nodata_loads_as_float(tmp_path, raster, dtype, nodata):
    elevation = np.round(sloping_terrain(SHAPE)).astype(dtype)
    elevation[0, :] = nodata
    raster("dem.tif", elevation, nodata=nodata)
    ds = load_twin(write_manifest(tmp_path / "twin.yaml", {"terrain": "dem.tif"}))
    assert ds["elevation"].dtype == np.float64
    assert np.all(np.isnan(ds["elevation"].values[0])) and not ds["domain_mask"].values[0].any()
    np.testing.assert_array_equal(ds["elevation"].values[1:], elevation[1:].astype(np.float64))


# ---------------------------------------------------------------- roughness

@pytest.mark.parametrize("value, found", [(0.0, "found 0"), (-0.01, "found -0.01"), (np.nan, "found nan"),
                                          (np.inf, "found inf"), (5.0, "found 5")])
def test_implausible_manning_n_is_refused(tmp_path, dem, raster, value, found):
    raster("manning.tif", _put(_full(0.03), value))
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "manning_n": "manning.tif"})
    assert "manning.tif: manning_n: implausible roughness values in 3 cells (first at row 3, col 4)" in msg
    assert f"0 < n <= {MANNING_N_MAX:g} s m^-1/3" in msg
    assert found in msg


# ---------------------------------------------------------------- damaged files and non-rasters

def test_truncated_terrain_names_the_file(tmp_path, dem):
    data = dem.read_bytes()
    dem.write_bytes(data[:len(data) // 2])
    msg = _load_error(tmp_path, {"terrain": "dem.tif"})
    assert "dem.tif: not a readable raster: not a GeoTIFF, or damaged or truncated" in msg


def test_a_text_file_is_not_a_raster(tmp_path, dem):
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "landcover": "/etc/passwd"})
    assert msg.startswith("/etc/passwd: not a readable raster")


def test_a_device_is_refused_before_reading(tmp_path, dem):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "landcover": "/dev/zero"})
    assert msg == ("/dev/zero: not a regular file (expected a raster file, found a device, pipe or socket)")


def test_a_folder_is_refused(tmp_path, dem):
    (tmp_path / "landcover").mkdir()
    msg = _load_error(tmp_path, {"terrain": "dem.tif", "landcover": "landcover"})
    assert msg.endswith("landcover: not a regular file (expected a raster file, found a directory)")


# ---------------------------------------------------------------- netCDF twins

@pytest.fixture
def saved_twin(tmp_path, dem):
    """The 20 x 20 twin, loaded from its GeoTIFF."""
    return load_twin(write_manifest(tmp_path / "twin.yaml", {"terrain": "dem.tif"}))


def _open_error(path) -> str:
    """Load a ``.nc`` twin and return the InputError's message (fails if none is raised)."""
    with pytest.raises(InputError) as info:
        load_twin(path)
    return str(info.value)


def test_a_non_netcdf_twin_file_is_refused(tmp_path):
    (tmp_path / "twin.nc").write_text("not netCDF\n")
    assert "twin.nc: not a readable netCDF twin: not netCDF, or damaged or truncated" in _open_error(
        tmp_path / "twin.nc")


@pytest.mark.parametrize("fmt", ["NETCDF4", "NETCDF3_64BIT"])
def test_a_truncated_netcdf_twin_is_refused(tmp_path, saved_twin, fmt):
    """netCDF-4 (HDF5) and classic files: netCDF-C would read a truncated classic file's missing bytes as 0."""
    path = tmp_path / "twin.nc"
    saved_twin.to_netcdf(path, format=fmt)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) * 4 // 5])
    assert "twin.nc: not a readable netCDF twin" in _open_error(path)


def test_a_classic_netcdf_twin_reads_back_exactly(tmp_path, saved_twin):
    saved_twin.to_netcdf(tmp_path / "twin.nc", format="NETCDF3_64BIT")
    back = load_twin(tmp_path / "twin.nc")
    for name in saved_twin.data_vars:
        np.testing.assert_array_equal(back[name].values, saved_twin[name].values, err_msg=name)
    assert back.rio.crs == saved_twin.rio.crs


def test_a_device_named_nc_is_refused(tmp_path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    (tmp_path / "zero.nc").symlink_to("/dev/zero")
    assert "zero.nc: not a regular file" in _open_error(tmp_path / "zero.nc")


# ---------------------------------------------------------------- the command line

def test_validate_refuses_a_bad_land_cover_code_with_exit_2_and_no_traceback(tmp_path, dem, raster, capsys):
    raster("landcover.tif", _put(_full(GRASS, np.int16), 257))
    write_manifest(tmp_path / "twin.yaml", {"terrain": "dem.tif", "landcover": "landcover.tif"})
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("twin: twin.yaml\nhazard: flood\nduration: 10 min\n", encoding="utf-8")
    assert main(["validate", str(scenario)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1
    assert "landcover.tif: landcover: unknown class codes in 3 cells" in err and "found 257" in err


def test_a_saved_twin_is_checked_like_its_rasters(tmp_path, twin_dir):
    """A twin .nc round-trips; one edited to hold land cover 99 is refused, naming file and field."""
    from twin.core.citytwin import open_twin, save_twin

    path = save_twin(load_twin(twin_dir / "twin.yaml"), tmp_path / "twin.nc")
    ds = open_twin(path)
    ds["landcover"].values[0, 0] = 99
    save_twin(ds, tmp_path / "edited.nc")
    with pytest.raises(InputError, match=r"edited.nc: landcover: .*99"):
        open_twin(tmp_path / "edited.nc")
