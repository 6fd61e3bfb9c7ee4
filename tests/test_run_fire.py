"""End-to-end fire runs: the shipped fire scenarios run into complete, readable run folders."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr

from twin.core.errors import InputError
from twin.pipeline.run import load_run_scenario, prepare_run, run_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wildland_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fire") / "wildland"
    return run_scenario(ROOT / "scenarios" / "sample_wildland_fire.yaml", out=out, progress=False)


def test_fire_run_outputs(wildland_run):
    names = {p.name for p in wildland_run.iterdir()}
    assert {"hazard.nc", "arrival_time.tif", "buildings.csv", "summary.json", "manifest.json"} <= names
    with xr.open_dataset(wildland_run / "hazard.nc", decode_coords="all") as ds:
        assert ds.attrs["hazard"] == "fire" and ds.rio.crs.to_epsg() == 5186
        t = ds["arrival_time"].values
        burned = ds["final_burned"].values == 1
        assert ds["arrival_time"].attrs["units"] == "s"
        assert ds["rate_of_spread"].attrs["units"] == "m s-1"
        assert ds["fireline_intensity"].attrs["units"] == "W m-1"
        np.testing.assert_array_equal(burned, np.isfinite(t))
        assert np.nanmin(t) == 0.0 and np.nanmax(t) <= 3 * 3600
        snaps = ds["burned"].values == 1
        assert ds["burned"].dims == ("time", "y", "x")
        assert np.all(snaps[1:] >= snaps[:-1]), "burned area only grows"
        np.testing.assert_array_equal(snaps[-1], burned)
        with rasterio.open(wildland_run / "arrival_time.tif") as src:
            np.testing.assert_allclose(src.read(1), t.astype(np.float32), equal_nan=True)
    summary = json.loads((wildland_run / "summary.json").read_text())
    areas = [row["burned_area_m2"] for row in summary["over_time"]]
    assert areas == sorted(areas) and areas[-1] == summary["burned_area_m2"] > 0


def test_building_table_matches_hazard(wildland_run):
    with open(wildland_run / "buildings.csv") as f:
        rows = list(csv.DictReader(f))
    with xr.open_dataset(wildland_run / "twin.nc") as twin, xr.open_dataset(wildland_run / "hazard.nc") as ds:
        ids = twin["building_id"].values
        t = ds["arrival_time"].values
        assert len(rows) == len(np.unique(ids[ids > 0]))
        for row in rows[:: max(1, len(rows) // 50)]:
            cells = t[ids == int(row["building_id"])]
            if row["control_burned"] == "1":
                assert float(row["control_ignition_time_s"]) == pytest.approx(np.nanmin(cells), rel=1e-5)
                assert float(row["burn_probability"]) == 1.0
            else:
                assert np.all(np.isnan(cells)) and float(row["burn_probability"]) == 0.0


def test_urban_fire_runs_and_spreads_from_the_core(tmp_path):
    run = run_scenario(ROOT / "scenarios" / "sample_urban_fire.yaml", out=tmp_path / "urban", progress=False,
                       until=3600.0)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["buildings_burned"] >= 1
    assert summary["over_time"][0]["buildings_burned"] >= 1  # the ignited building burns at t = 0


def test_fire_ignition_outside_the_twin_names_path_and_line(tmp_path):
    twin = (ROOT / "data" / "sample_city" / "twin.yaml").as_posix()
    path = tmp_path / "f.yaml"
    path.write_text(f"twin: {twin}\nhazard: fire\nduration: 1 h\nfire:\n  ignitions:\n    - {{at: [1, 2]}}\n")
    with pytest.raises(InputError) as err:
        prepare_run(load_run_scenario(path))
    assert "fire.ignitions[0].at" in str(err.value) and "(line 6)" in str(err.value)


def test_fire_scenario_without_fire_block_is_an_input_error(tmp_path):
    twin = (ROOT / "data" / "sample_city" / "twin.yaml").as_posix()
    path = tmp_path / "f.yaml"
    path.write_text(f"twin: {twin}\nhazard: fire\nduration: 1 h\n")
    with pytest.raises(InputError, match="fire"):
        prepare_run(load_run_scenario(path))
