"""A forecast is checked whole before anything runs: every member, time and cell, and the time axis.

Each test writes a small sample forecast (:func:`twin.samples.forecast.generate_sample_forecast`, 5 members
of 8 hourly intervals from 2025-07-15T00:00 over the sample district), corrupts it and expects one
:class:`InputError` naming the file, the variable, the member, the time and the kind of problem.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from twin.core.citytwin import read_manifest
from twin.cli import main
from twin.core.errors import InputError
from twin.samples.forecast import generate_sample_forecast
from twin.core.limits import MAX_RAIN_MM_H
from twin.io.rainfall import MAX_HOURLY_RAIN_MM, max_mean_intensity_mm_h, read_forecast, read_gridded_rainfall
from twin.core.rasters import read_grid

ROOT = Path(__file__).resolve().parents[1]
#: The committed sample district's twin manifest.
SAMPLE_TWIN = ROOT / "data" / "sample_city" / "twin.yaml"


@pytest.fixture(scope="module")
def sample() -> xr.Dataset:
    return generate_sample_forecast(members=5, hours=8, seed=3)


def _write(ds: xr.Dataset, path: Path, rain: dict | None = None) -> Path:
    """Write a copy of ``ds`` with ``rain[(member, time, lat, lon)] = value`` set."""
    ds = ds.copy(deep=True)
    for index, value in (rain or {}).items():
        ds["rainfall"].values[index] = value
    ds.to_netcdf(path)
    return path


def _without_bounds(ds: xr.Dataset, times: np.ndarray) -> xr.Dataset:
    """``ds`` with ``times`` as interval starts and no time bounds."""
    ds = ds.drop_vars("time_bnds")
    attrs = {k: v for k, v in ds["time"].attrs.items() if k != "bounds"}
    return ds.assign_coords(time=("time", times, attrs))


def _error(path: Path, field: str = "rainfall", **kw) -> str:
    """The one-line message of the InputError that reading ``path`` raises (naming ``field``)."""
    with pytest.raises(InputError) as info:
        read_forecast(path, **kw)
    message = str(info.value)
    assert message.startswith(f"{path}: {field}: ") and "\n" not in message
    return message


def test_sample_forecast_passes(sample, tmp_path):
    f = read_forecast(_write(sample, tmp_path / "ok.nc"))
    assert f.n_members == 5 and f.edges.size == 9


@pytest.mark.parametrize("value, problem, shown", [
    (np.nan, "NaN (missing) values", "NaN mm h-1"),
    (np.inf, "infinite values", "+inf mm h-1"),
    (-np.inf, "infinite values", "-inf mm h-1"),
    (-0.5, "negative values", "-0.5 mm h-1"),
    (1e30, "values above the plausibility bound", "1e+30 mm h-1 = 1e+30 mm/h"),
])
def test_one_bad_value_names_member_time_and_kind(sample, tmp_path, value, problem, shown):
    """One bad value in member 3 at time 5, in a corner cell far outside the twin, is found."""
    path = _write(sample, tmp_path / "bad.nc", {(3, 5, 0, 0): value})
    message = _error(path)
    assert re.search(rf"rainfall has {re.escape(problem)}: 1 bad value\(s\) in all \(1 [^,]+\), the first at "
                     r"member 3 \(label 3\), time 2025-07-15T05:00:00 \(index 5\), ", message)
    assert f"lat {sample['lat'].values[0]:.6g}, lon {sample['lon'].values[0]:.6g}" in message
    assert message.endswith(f"found {shown})")


def test_a_file_without_members_names_the_time(sample, tmp_path):
    single = sample.isel(member=0, drop=True)[["rainfall", "time_bnds"]].copy(deep=True)
    single["rainfall"].values[2, 4, 4] = np.nan
    single.to_netcdf(tmp_path / "single.nc")
    message = _error(tmp_path / "single.nc")
    assert ("rainfall has NaN (missing) values: 1 bad value(s) in all (1 NaN), the first at time "
            "2025-07-15T02:00:00 (index 2), lat ") in message


def test_first_bad_value_is_by_member_then_time_and_all_are_counted(sample, tmp_path):
    path = _write(sample, tmp_path / "bad.nc", {(3, 5, 0, 0): np.nan, (4, 0, 1, 1): np.nan, (1, 7, 2, 2): np.inf,
                                                (2, 6, 3, 3): -1.0, (2, 6, 3, 4): 1e30})
    message = _error(path)
    assert ("rainfall has infinite values: 5 bad value(s) in all (2 NaN, 1 inf, 1 negative, 1 above the bound), "
            "the first at member 1 (label 1), time 2025-07-15T07:00:00 (index 7)") in message


def test_non_monotone_and_missing_times(sample, tmp_path):
    times = sample["time"].values.copy()
    times[5] = times[3]
    message = _error(_write(_without_bounds(sample, times), tmp_path / "back.nc"), field="time")
    assert "rainfall times must increase strictly" in message
    assert "interval 4 (time index 4) from 2025-07-15T04:00:00 to 2025-07-15T03:00:00" in message
    times = sample["time"].values.copy()
    times[5] = np.datetime64("NaT")
    message = _error(_write(_without_bounds(sample, times), tmp_path / "nat.nc"), field="time")
    assert "rainfall times must be finite" in message and "the first at time index 5" in message
    bounds = sample.copy(deep=True)
    bounds["time_bnds"].values[6, 1] = np.datetime64("NaT")
    message = _error(_write(bounds, tmp_path / "nat_bounds.nc"), field="time_bnds")
    assert "rainfall times must be finite" in message and "the first at time index 6" in message


def test_the_bound_applies_to_the_scaled_values(sample, tmp_path):
    """The scale a scenario or a member applies can take a valid forecast above the bound."""
    path = _write(sample, tmp_path / "ok.nc")
    peak = float(sample["rainfall"].max())
    read_forecast(path, scale=0.99 * MAX_HOURLY_RAIN_MM / peak)
    message = _error(path, scale=1.01 * MAX_HOURLY_RAIN_MM / peak)
    assert "rainfall has values above the plausibility bound" in message and "with scale" in message
    m, folder = read_manifest(SAMPLE_TWIN)
    grid = read_grid(folder / m.rasters.elevation)
    with pytest.raises(InputError, match="above the plausibility bound"):
        read_gridded_rainfall(path, "rainfall", grid, scale=1.01 * MAX_HOURLY_RAIN_MM / peak, member=0)


def test_the_bound_depends_on_the_interval_length(sample, tmp_path):
    """1000 mm/h over 10 min is a plausible burst; over an hour it is twice the record."""
    hourly = sample.copy(deep=True)
    hourly["rainfall"].values[:] = 1000.0
    with pytest.raises(InputError, match="at most 500 mm/h over this 3600-s interval"):
        read_forecast(_write(hourly, tmp_path / "hourly.nc"))
    ten_min = generate_sample_forecast(members=2, hours=3, step_s=600)
    ten_min["rainfall"].values[:] = 1000.0
    assert read_forecast(_write(ten_min, tmp_path / "ten_min.nc")).n_members == 2


def test_bound_is_above_every_record_and_never_above_the_instantaneous_bound():
    """World records (WMO Archive of Weather and Climate Extremes) as (duration s, depth mm)."""
    records = [(60, 31.2), (42 * 60, 305.0), (12 * 3600, 1144.0), (24 * 3600, 1825.0), (48 * 3600, 2493.0),
               (72 * 3600, 3929.0)]
    for duration, depth in records:
        assert depth / (duration / 3600) < max_mean_intensity_mm_h(duration), duration
    durations = np.geomspace(1.0, 10 * 86400.0, 200)
    bound = max_mean_intensity_mm_h(durations)
    assert np.all(bound <= MAX_RAIN_MM_H) and np.all(np.diff(bound) <= 0)
    assert max_mean_intensity_mm_h(3600.0) == MAX_HOURLY_RAIN_MM


@pytest.fixture
def nightly(tmp_path) -> Path:
    """A scenarios folder with the shipped nightly scenario, its twin path made absolute."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for src in sorted((ROOT / "scenarios" / "nightly").glob("*.yaml")):
        text, n = re.subn(r"^twin: .*$", f"twin: {SAMPLE_TWIN}", src.read_text(), count=1, flags=re.M)
        assert n == 1
        (folder / src.name).write_text(text)
    return folder


@pytest.mark.parametrize("rain", [{(3, 5, 0, 0): np.nan}, {(0, 2, 5, 5): 1e30}, {(4, 7, 1, 1): -np.inf}])
def test_batch_with_a_corrupt_forecast_exits_2_and_writes_nothing(sample, tmp_path, nightly, capsys, rain):
    forecast = _write(sample, tmp_path / "forecast.nc", rain)
    out = tmp_path / "runs"
    code = main(["batch", "--forecast", str(forecast), "--scenarios", str(nightly), "--out", str(out),
                 "--no-render"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {forecast}: rainfall: ")
    (member, time, _, _), = rain
    assert f"member {member} (label {member}), time 2025-07-15T0{time}:00:00" in lines[0]
    assert not out.exists() or not any(out.iterdir())


def test_batch_member_draws_that_scale_the_forecast_past_the_bound_exit_2(sample, tmp_path, nightly, capsys):
    """A rainfall_scale drawn per member multiplies the forecast: the scaled file is checked upfront."""
    path = next(nightly.glob("*.yaml"))
    peak = float(sample["rainfall"].max())
    low = 1.05 * MAX_HOURLY_RAIN_MM / peak
    path.write_text(path.read_text().replace("manning_scale: {uniform: {low: 0.85, high: 1.15}}",
                                             f"rainfall_scale: {{uniform: {{low: {low:.3f}, high: {low + 1:.3f}}}}}"))
    forecast = _write(sample, tmp_path / "forecast.nc")
    out = tmp_path / "runs"
    code = main(["batch", "--forecast", str(forecast), "--scenarios", str(nightly), "--out", str(out),
                 "--no-render"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "above the plausibility bound" in err and "with scale" in err, err
    assert not out.exists()
