"""Files of a run with ``start:`` and of a nightly batch pass the CF checker, and their times are real dates.

The checker and its offline tables are those of ``test_cf_compliance.py`` (this module is skipped
with it where cfchecker or udunits2 cannot be imported). The batch's runs start at the forecast's
first time (:func:`twin.pipeline.batch.forecast_start`): their snapshot times decode to the
forecast's own interval starts.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from conftest import write_valley_twin
from test_cf_compliance import assert_cf_valid
from test_scenario_start import valley_scenario
from twin.pipeline.batch import run_batch
from twin.pipeline.run import run_scenario
from twin.samples.forecast import district_bounds_lonlat, write_sample_forecast


def test_a_run_with_a_start_is_cf_valid(tmp_path):
    run = run_scenario(valley_scenario(tmp_path, "start: 2026-07-14T06:00:00+09:00"), out=tmp_path / "run",
                       progress=False, until=600.0)
    with xr.open_dataset(run / "hazard.nc", decode_times=False) as raw:
        assert raw["time"].attrs["units"] == "seconds since 2026-07-13 21:00:00" and raw.sizes["time"] == 2
    assert_cf_valid(run, ("hazard.nc", "risk.nc", "twin.nc"))


def test_batch_times_decode_to_the_forecasts_times(tmp_path):
    """A scenario with a start of its own in a batch: the forecast's first time replaces it."""
    twin = write_valley_twin(tmp_path / "twin", shape=(20, 30))
    forecast = write_sample_forecast(tmp_path / "forecast.nc", district_bounds_lonlat(twin), members=1, hours=3,
                                     step_s=600, start="2026-11-25T03:00", margin_deg=0.02, resolution_deg=0.002)
    scenarios = tmp_path / "nightly"
    scenarios.mkdir()
    (scenarios / "valley.yaml").write_text(f"name: valley\nstart: 2020-01-01T00:00:00Z\ntwin: {twin}\nhazard: flood\n"
                                           "duration: 20 min\noutput: {every: 10 min}\nrender: {enabled: false}\n")
    assert run_batch(forecast, scenarios, tmp_path / "runs", workers=1, echo=lambda s: None) == 0
    run = tmp_path / "runs" / "2026-11-25T03Z" / "valley"
    with xr.open_dataset(forecast) as f:
        interval_starts = f[f["time"].attrs["bounds"]].values[:, 0]
    with xr.open_dataset(run / "hazard.nc") as ds:
        decoded = ds["time"].values
    np.testing.assert_array_equal(decoded, interval_starts[:3].astype(decoded.dtype))
    assert decoded[0] == np.datetime64("2026-11-25T03:00")
    for name in ("summary.json", "manifest.json"):
        assert json.loads((run / name).read_text())["start"] == "2026-11-25T03:00:00+00:00", name
    assert_cf_valid(run, ("hazard.nc",))
