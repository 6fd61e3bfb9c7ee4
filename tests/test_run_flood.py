"""End-to-end flood runs: scenario file -> run folder with every output, readable by GDAL/xarray.

The shipped scenarios are validated and run (shortened with ``until`` to keep the suite fast);
a failed run leaves nothing under the final name; the CLI's exit codes are 0 / 1 / 2.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr
import yaml

from twin.cli import main
from twin.core.errors import InputError
from twin.pipeline.run import load_run_scenario, prepare_run, run_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
FLOOD_SCENARIOS = [p for p in SCENARIOS if yaml.safe_load(p.read_text())["hazard"] == "flood"]


def test_at_least_three_flood_scenarios_ship():
    names = {p.stem for p in FLOOD_SCENARIOS}
    assert {"sample_flash_flood", "sample_river_flood", "sample_long_rain"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_shipped_scenario_validates(path):
    prep = prepare_run(load_run_scenario(path))
    assert prep.sf.scenario.name
    assert prep.twin["elevation"].shape == (500, 500)


@pytest.fixture(scope="module")
def flash_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "flash"
    run_dir = run_scenario(ROOT / "scenarios" / "sample_flash_flood.yaml", out=out, progress=False,
                           until=15 * 60.0)
    return run_dir


def test_run_folder_holds_every_output(flash_run):
    names = {p.name for p in flash_run.iterdir()}
    assert {"hazard.nc", "gauges.csv", "max_depth.tif", "arrival_time.tif", "summary.json", "manifest.json",
            "twin.nc"} <= names
    assert not [n for n in names if ".tmp-" in n]


def test_hazard_netcdf_is_cf_with_crs_and_units(flash_run):
    with xr.open_dataset(flash_run / "hazard.nc", decode_coords="all", decode_times=False) as ds:
        assert ds.attrs["Conventions"] == "CF-1.8"
        assert ds.rio.crs.to_epsg() == 5186
        for name in ("max_depth", "max_speed", "max_unit_discharge", "arrival_time", "wet_duration",
                     "final_depth", "depth"):
            assert ds[name].attrs["units"], name
            assert ds[name].attrs["long_name"], name
        assert ds["max_depth"].attrs["standard_name"] == "flood_water_thickness"
        assert ds["max_depth"].attrs["cell_methods"] == "time: maximum"
        assert ds["depth"].dims == ("time", "y", "x")
        assert ds["time"].attrs["units"] == "seconds since 1970-01-01 00:00:00"  # the scenario start
        np.testing.assert_array_equal(ds["time"].values, [0.0, 600.0])  # multiples of output.every
        md = ds["max_depth"].values
        assert np.nanmax(md) > 0.05
        # buildings stay dry
        with xr.open_dataset(flash_run / "twin.nc") as twin:
            assert np.all(md[twin["building_id"].values > 0] == 0)


def test_every_geotiff_opens_with_crs_transform_and_values_of_its_netcdf(flash_run):
    """What QGIS/GDAL see: every GeoTIFF of the run is a COG on the twin grid holding its netCDF map."""
    tifs = sorted(flash_run.glob("*.tif"))
    assert {p.stem for p in tifs} >= {"max_depth", "arrival_time", "max_depth_mean", "p_depth_over_0p5m"}
    with xr.open_dataset(flash_run / "hazard.nc", decode_coords="all") as hz, \
            xr.open_dataset(flash_run / "risk.nc", decode_coords="all") as rk:
        for ds in (hz, rk):
            assert ds.rio.crs.to_epsg() == 5186 and ds.attrs["Conventions"] == "CF-1.8"
            for name in ds.data_vars:
                assert ds[name].attrs.get("units") is not None, name
        for tif in tifs:
            ds = hz if tif.stem in hz else rk
            with rasterio.open(tif) as src:
                assert src.crs.to_epsg() == 5186, tif.name
                assert src.transform.almost_equals(ds.rio.transform()), tif.name
                assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG", tif.name
                np.testing.assert_allclose(src.read(1), ds[tif.stem].values.astype(np.float32), equal_nan=True,
                                           err_msg=tif.name)


def test_risk_outputs_of_a_single_run_are_well_formed(flash_run):
    with xr.open_dataset(flash_run / "risk.nc") as rk, xr.open_dataset(flash_run / "hazard.nc") as hz:
        assert rk.attrs["members_used"] == 1
        p = rk["p_depth_over_0p1m"].values
        np.testing.assert_array_equal(p, (hz["max_depth"].values > 0.1).astype(float))
        classes = sum(rk[f"p_hazard_{c}"].values for c in ("dry", "low", "danger_for_some",
                                                           "danger_for_most", "danger_for_all"))
        np.testing.assert_allclose(classes, 1.0)
    geo = json.loads((flash_run / "buildings.geojson").read_text())
    lines = (flash_run / "buildings.csv").read_text().splitlines()
    assert len(geo["features"]) == len(lines) - 1 == 4080
    summary = json.loads((flash_run / "summary.json").read_text())
    losses = [float(row.split(",")[names.index("expected_flood_loss_krw")])
              for names in [lines[0].split(",")] for row in lines[1:]]
    assert summary["risk"]["members_used"] == 1
    assert summary["risk"]["expected_total_loss_krw"] == pytest.approx(sum(losses), rel=1e-5)
    assert sum(summary["risk"]["buildings_by_risk_class"].values()) == 4080


def test_summary_ledger_closes_and_manifest_is_complete(flash_run):
    summary = json.loads((flash_run / "summary.json").read_text())
    ledger = summary["volume_ledger_m3"]
    assert ledger["rain_in"] > 0
    assert ledger["closure_relative"] < 1e-9
    assert summary["time_steps"] > 0 and summary["cells"] == 250000
    manifest = json.loads((flash_run / "manifest.json").read_text())
    assert manifest["status"] == "truncated" and manifest["until_s"] == 15 * 60.0   # stopped by until
    assert len(manifest["scenario_sha256"]) == 64
    assert any(k.endswith("elevation.tif") for k in manifest["inputs"])
    assert manifest["versions"]["numpy"]


def test_gauges_csv_has_a_row_per_gauge_and_minute(flash_run):
    lines = (flash_run / "gauges.csv").read_text().splitlines()
    assert lines[0] == "gauge,time_s,depth_m,level_m,speed_m_s"
    assert len(lines) - 1 == 2 * 16  # two gauges, t = 0, 60, ..., 900 s


@pytest.mark.parametrize("name", ["sample_river_flood", "sample_long_rain"])
def test_other_flood_scenarios_run(tmp_path, name):
    run_dir = run_scenario(ROOT / "scenarios" / f"{name}.yaml", out=tmp_path / name, progress=False,
                           until=5 * 60.0)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["volume_ledger_m3"]["closure_relative"] < 1e-9
    if name == "sample_river_flood":
        assert summary["volume_ledger_m3"]["inflow_in"] > 0


def _scenario(tmp_path, text: str) -> Path:
    twin = (ROOT / "data" / "sample_city" / "twin.yaml").as_posix()
    path = tmp_path / "s.yaml"
    path.write_text(f"twin: {twin}\nhazard: flood\nduration: 60 s\n" + text)
    return path


def test_gauge_outside_the_domain_names_path_and_line(tmp_path):
    path = _scenario(tmp_path, "output:\n  gauges:\n    - {name: far, at: [0, 0]}\n")
    with pytest.raises(InputError) as err:
        prepare_run(load_run_scenario(path))
    msg = str(err.value)
    assert "output.gauges[0].at" in msg and "(line 6)" in msg and "outside" in msg


def test_inflow_on_a_building_is_refused(tmp_path):
    prep = prepare_run(load_run_scenario(ROOT / "scenarios" / "sample_flash_flood.yaml"))
    r, c = np.argwhere(prep.twin["building_id"].values > 0)[0]
    x, y = float(prep.twin.x[c]), float(prep.twin.y[r])
    path = _scenario(tmp_path, f"flood:\n  inflows:\n    - {{name: a, at: [{x}, {y}], times: [0], "
                               "discharge_m3_s: [1]}\n")
    with pytest.raises(InputError, match=r"flood.inflows\[0\].at.*building"):
        prepare_run(load_run_scenario(path))


def test_failed_run_leaves_no_folder(tmp_path, monkeypatch):
    import twin.hazards.flood.run as flood_run
    from twin.core.errors import RunError

    def boom(*a, **k):
        raise RunError("flood run unstable at t = 1 s")

    monkeypatch.setattr(flood_run, "simulate_flood", boom)
    out = tmp_path / "run"
    assert main(["run", str(ROOT / "scenarios" / "sample_flash_flood.yaml"), "--out", str(out), "--quiet",
                 "--no-render"]) == 1
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_failure_while_writing_keeps_the_previous_complete_run(tmp_path, monkeypatch):
    from twin.hazards.flood import FLOOD

    out = tmp_path / "run"
    scenario = ROOT / "scenarios" / "sample_flash_flood.yaml"
    run_scenario(scenario, out=out, progress=False, until=60.0)
    before = json.loads((out / "manifest.json").read_text())

    def broken_write(folder, *a, **k):
        (folder / "hazard.nc").write_text("partial")
        raise OSError("disk full")

    monkeypatch.setitem(FLOOD.__dict__, "write", broken_write)   # the declaration is frozen
    with pytest.raises(OSError):
        run_scenario(scenario, out=out, progress=False, until=60.0)
    assert json.loads((out / "manifest.json").read_text()) == before
    assert (out / "hazard.nc").stat().st_size > 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_cli_exit_codes_and_one_line_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("twin: nowhere.yaml\nhazard: flood\nduration: 1 h\n")
    proc = subprocess.run([sys.executable, str(ROOT / "run_scenario.py"), str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "nowhere.yaml" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = subprocess.run([sys.executable, "-m", "twin.cli", "validate", str(ROOT / "scenarios" /
                                                                         "sample_river_flood.yaml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_twin_with_nodata_edges_runs_and_keeps_outside_cells_masked(tmp_path):
    from conftest import write_manifest, write_raster

    ny, nx = 30, 40
    z = 50.0 - 0.02 * np.arange(ny)[:, None] + np.zeros((ny, nx))
    z[:, :4] = -9999.0           # outside the domain on the west edge
    z[-3:, 30:] = -9999.0        # and in the south-east corner
    write_raster(tmp_path / "dem.tif", z.astype(np.float32), nodata=-9999.0)
    write_manifest(tmp_path / "twin.yaml", {"elevation": "dem.tif"})
    (tmp_path / "s.yaml").write_text("twin: twin.yaml\nhazard: flood\nduration: 10 min\n"
                                     "flood:\n  rainfall: {times: [0, 10 min], intensity_mm_h: [50, 50]}\n")
    run = run_scenario(tmp_path / "s.yaml", out=tmp_path / "run", progress=False)
    with xr.open_dataset(run / "hazard.nc") as ds:
        md = ds["max_depth"].values
    assert np.all(np.isnan(md[:, :4])) and np.all(np.isnan(md[-3:, 30:]))
    assert np.all(np.isfinite(md[:, 4:30]))
    summary = json.loads((run / "summary.json").read_text())
    assert summary["cells_in_domain"] == ny * nx - ny * 4 - 3 * 10
    assert summary["volume_ledger_m3"]["closure_relative"] < 1e-9
    # rain only counted inside the domain: 50 mm/h for 10 min on the domain's area (10 m cells)
    expected = 0.05 / 6 * summary["cells_in_domain"] * 100.0
    assert summary["volume_ledger_m3"]["rain_in"] == pytest.approx(expected, rel=1e-12)


def test_tiled_scenario_runs_and_agrees_with_the_untiled_run(tmp_path):
    """parallel.tiles runs the member on 2 x 2 tiles; with several steps per exchange the step
    sequence differs from the untiled run, so depths agree closely, not to round-off (the
    round-off equality with equal steps is tested in test_flood_tiled.py)."""
    from conftest import write_valley_twin

    twin = write_valley_twin(tmp_path / "twin")
    base = (f"twin: {twin}\nhazard: flood\nduration: 20 min\n"
            "flood:\n  rainfall: {times: [0, 10 min], intensity_mm_h: [150, 0]}\n"
            "  boundaries: {north: closed, south: free, east: closed, west: closed}\n"
            "render: {enabled: false}\n")
    (tmp_path / "plain.yaml").write_text(base)
    (tmp_path / "tiled.yaml").write_text(base + "parallel: {tiles: [2, 2], halo: 9}\n")
    plain = run_scenario(tmp_path / "plain.yaml", out=tmp_path / "p", progress=False)
    tiled = run_scenario(tmp_path / "tiled.yaml", out=tmp_path / "t", progress=False)
    sp, st = (json.loads((r / "summary.json").read_text()) for r in (plain, tiled))
    assert st["volume_ledger_m3"]["closure_relative"] < 1e-9
    assert st["volume_ledger_m3"]["rain_in"] == pytest.approx(sp["volume_ledger_m3"]["rain_in"], rel=1e-12)
    with xr.open_dataset(plain / "hazard.nc") as a, xr.open_dataset(tiled / "hazard.nc") as b:
        diff = np.abs(a["max_depth"].values - b["max_depth"].values)
    assert np.nanmax(diff) < 0.02 and np.nanmax(a["max_depth"].values) > 0.05


def test_tiles_with_gauges_are_refused(tmp_path):
    path = _scenario(tmp_path, "parallel: {tiles: [2, 2]}\noutput:\n  gauges: [{name: g, at: [234500, 417000]}]\n")
    with pytest.raises(InputError, match="parallel"):
        prepare_run(load_run_scenario(path))
