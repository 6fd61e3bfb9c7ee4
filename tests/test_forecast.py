"""Sample rainfall ensemble forecast: determinism, CF layout, coverage and the storm's passage."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from rasterio.warp import transform

from twin.core.citytwin import read_manifest
from twin.core.errors import InputError
from twin.samples.forecast import (StormParameters, district_bounds_lonlat, generate_sample_forecast,
                                   write_sample_forecast)
from twin.io.rainfall import read_forecast
from twin.core.rasters import read_grid

ROOT = Path(__file__).resolve().parents[1]
#: The committed sample district's twin manifest.
SAMPLE_TWIN = ROOT / "data" / "sample_city" / "twin.yaml"

#: The sample district's corners (EPSG:5186, m): NW corner 233264 E 418244 N, 2.5 km side.
CORNERS_5186 = ([233_264.0, 235_764.0, 233_264.0, 235_764.0], [418_244.0, 418_244.0, 415_744.0, 415_744.0])


@pytest.fixture(scope="module")
def sample():
    return generate_sample_forecast(hours=12, members=4, seed=11)


def test_district_bounds_hold_the_sample_district():
    lon, lat = transform("EPSG:5186", "EPSG:4326", *CORNERS_5186)
    w, s, e, n = district_bounds_lonlat()
    assert w <= min(lon) and e >= max(lon) and s <= min(lat) and n >= max(lat)
    assert (e - w) < 1.01 * (max(lon) - min(lon)) and (n - s) < 1.01 * (max(lat) - min(lat))


def test_default_bounds_are_those_of_the_committed_sample_twin():
    """The default is computed from the generator's constants; it equals the committed grid's."""
    assert district_bounds_lonlat() == district_bounds_lonlat(SAMPLE_TWIN)


def test_sample_forecast_works_without_the_repository_data(tmp_path):
    """As from a wheel: the packages alone, no data/ folder beside them; ``twin sample-forecast``."""
    site = tmp_path / "site"
    for package in ("twin", "kernels"):
        shutil.copytree(ROOT / package, site / package, ignore=shutil.ignore_patterns("__pycache__"))
    code = ("import sys, twin.cli; print(twin.cli.__file__); "
            "sys.exit(twin.cli.main(['sample-forecast', '--out', 'fc.nc', '--members', '2', '--hours', '3', "
            "'--start', '2026-11-25T00:00']))")
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.splitlines()[0]).is_relative_to(site)
    assert not (site / "data").exists() and not (tmp_path / "data").exists()
    expected = generate_sample_forecast(members=2, hours=3, start="2026-11-25T00:00")
    with xr.open_dataset(tmp_path / "fc.nc") as ds:
        np.testing.assert_array_equal(ds["rainfall"].values, expected["rainfall"].values)


def test_same_seed_same_forecast_and_members_independent_of_count(sample):
    again = generate_sample_forecast(hours=12, members=4, seed=11)
    xr.testing.assert_identical(sample, again)
    more = generate_sample_forecast(hours=12, members=6, seed=11)
    np.testing.assert_array_equal(more["rainfall"].values[:4], sample["rainfall"].values)
    other = generate_sample_forecast(hours=12, members=4, seed=12)
    assert not np.array_equal(other["rainfall"].values, sample["rainfall"].values)
    rain = sample["rainfall"].values
    assert all(not np.array_equal(rain[0], rain[k]) for k in range(1, 4))       # members differ


def test_written_file_is_cf_and_reads_back(tmp_path, sample):
    path = write_sample_forecast(tmp_path / "fc.nc", hours=12, members=4, seed=11)
    assert [p.name for p in tmp_path.iterdir()] == ["fc.nc"]                      # no temporary left
    with xr.open_dataset(path, decode_coords="all") as ds:
        assert ds.attrs["Conventions"] == "CF-1.8"
        rain = ds["rainfall"]
        assert rain.dims == ("member", "time", "lat", "lon")
        assert rain.attrs["standard_name"] == "lwe_precipitation_rate"
        assert rain.attrs["units"] == "mm h-1" and rain.attrs["cell_methods"] == "time: mean"
        assert ds["lat"].attrs["units"] == "degrees_north" and ds["lon"].attrs["units"] == "degrees_east"
        assert ds["member"].attrs["standard_name"] == "realization"
        assert np.issubdtype(ds["time"].dtype, np.datetime64)
        assert ds["time"].encoding["bounds"] == "time_bnds"
        assert "_FillValue" not in ds["lat"].encoding and "_FillValue" not in ds["time"].encoding
        np.testing.assert_array_equal(ds["time_bnds"].values[:, 0], ds["time"].values)
        assert rain.rio.crs.to_epsg() == 4326
        assert rain.rio.transform().e < 0                                           # north-up raster
        np.testing.assert_array_equal(rain.values, sample["rainfall"].values)
        assert np.all(rain.values >= 0)
    f = read_forecast(path)
    assert f.n_members == 4 and f.edges.size == 13 and np.all(np.diff(f.edges) == 3600.0)


def test_forecast_covers_the_sample_twin(tmp_path):
    """The default forecast regrids onto the sample twin's own grid with rain on it."""
    path = write_sample_forecast(tmp_path / "fc.nc", hours=24, members=2, seed=3)
    m, folder = read_manifest(SAMPLE_TWIN)
    grid = read_grid(folder / m.rasters.elevation)
    rates = read_forecast(path).member_rates(1, grid)
    assert rates.shape == (24, *grid.shape) and np.all(np.isfinite(rates)) and rates.max() > 0


def test_rain_at_the_district_peaks_when_the_storm_passes(sample):
    """The storm is closest to the district centre, and at its strongest, at its peak time."""
    w, s, e, n = district_bounds_lonlat()
    at = sample["rainfall"].sel(lon=0.5 * (w + e), lat=0.5 * (s + n), method="nearest")
    wettest = at["time"].values[at.argmax("time").values]
    peak = sample["cell_peak_time"].values
    assert np.all(np.abs(wettest + np.timedelta64(30, "m") - peak) <= np.timedelta64(90, "m"))


def test_member_parameters_follow_the_storm_spreads():
    p = StormParameters()
    ds = generate_sample_forecast(hours=2, members=200, seed=5, margin_deg=0.0)
    assert abs(ds["cell_heading"].mean() - p.heading_deg) < 4 * p.heading_sd_deg / np.sqrt(200)
    assert ds["cell_heading"].std() == pytest.approx(p.heading_sd_deg, rel=0.25)
    assert ds["cell_speed"].min() >= p.min_speed_m_s
    assert np.log(ds["cell_peak_factor"]).std() == pytest.approx(p.peak_log_sd, rel=0.25)


@pytest.mark.parametrize("setting", [{"members": 0}, {"hours": 0}, {"resolution_deg": 0.0}, {"margin_deg": -0.1},
                                     {"twin_bounds_lonlat": (127.4, 36.3, 127.3, 36.4)}])
def test_invalid_settings_are_input_errors(setting):
    with pytest.raises(InputError):
        generate_sample_forecast(**setting)
