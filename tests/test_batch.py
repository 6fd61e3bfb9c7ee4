"""The nightly forecast batch: dated folders, manifest-based resume, kill -9, exit codes, alerts,
forecasts in other CRSs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rioxarray  # noqa: F401
import xarray as xr

from conftest import write_valley_twin
from twin.pipeline.batch import run_batch
from twin.samples.forecast import district_bounds_lonlat, write_sample_forecast

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = """name: {name}
twin: {twin}
hazard: flood
duration: 30 min
flood:
  boundaries: {{north: closed, south: free, east: closed, west: closed}}
ensemble:
  perturb:
    manning_scale: {manning}
output: {{every: 10 min}}
render: {{enabled: false}}
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A small twin, a 3-member forecast over it (30 min in 10-min steps), two nightly scenarios."""
    root = tmp_path_factory.mktemp("batch")
    twin = write_valley_twin(root / "twin")
    forecast = write_sample_forecast(root / "forecast.nc", district_bounds_lonlat(twin), members=3, hours=3,
                                     step_s=600, start="2026-11-25T00:00", margin_deg=0.02, resolution_deg=0.002)
    scenarios = root / "nightly"
    scenarios.mkdir()
    for name in ("valley-a", "valley-b"):
        (scenarios / f"{name}.yaml").write_text(SCENARIO.format(name=name, twin=twin,
                                                                manning="{uniform: {low: 0.9, high: 1.1}}"))
    return root, twin, forecast, scenarios


def _batch(*args, **kw) -> list[str]:
    return [sys.executable, "-m", "twin.cli", "batch", *map(str, args), "--workers", "1", "--no-render"]


def test_full_batch_then_resume_skips_complete_scenarios(setup, tmp_path):
    root, twin, forecast, scenarios = setup
    out = tmp_path / "runs"
    assert run_batch(forecast, scenarios, out, workers=1, echo=lambda s: None) == 0
    batch_dir = out / "2026-11-25T00Z"
    assert (out / "latest").is_symlink() and os.readlink(out / "latest") == "2026-11-25T00Z"
    record = json.loads((batch_dir / "batch.json").read_text())
    assert record["status"] == "complete" and record["forecast_members"] == 3
    for name in ("valley-a", "valley-b"):
        entry = record["scenarios"][name]
        assert entry["status"] == "complete" and isinstance(entry["alerts"], list)
        assert any(k.endswith("forecast.nc") for k in entry["inputs"])
        summary = json.loads((batch_dir / name / "summary.json").read_text())
        assert summary["risk"]["members_used"] == 3
        assert summary["volume_ledger_m3"]["rain_in"] > 0
    events = [json.loads(line)["event"] for line in (batch_dir / "batch.log").read_text().splitlines()]
    assert events[0] == "batch_start" and events[-1] == "batch_end" and events.count("scenario_complete") == 2
    # the same command again: nothing to redo
    assert run_batch(forecast, scenarios, out, workers=1, echo=lambda s: None) == 0
    record = json.loads((batch_dir / "batch.json").read_text())
    assert {e["status"] for e in record["scenarios"].values()} == {"skipped_complete"}
    # a changed scenario is redone, the other skipped
    path = scenarios / "valley-b.yaml"
    original = path.read_text()
    try:
        path.write_text(original.replace("duration: 30 min", "duration: 20 min"))
        assert run_batch(forecast, scenarios, out, workers=1, echo=lambda s: None) == 0
        record = json.loads((batch_dir / "batch.json").read_text())
        assert record["scenarios"]["valley-a"]["status"] == "skipped_complete"
        assert record["scenarios"]["valley-b"]["status"] == "complete"
    finally:
        path.write_text(original)
    assert run_batch(forecast, scenarios, out, workers=1, force=True, echo=lambda s: None) == 0
    record = json.loads((batch_dir / "batch.json").read_text())
    assert {e["status"] for e in record["scenarios"].values()} == {"complete"}


def test_member_rainfall_follows_the_forecast_members(setup, tmp_path):
    root, twin, forecast, scenarios = setup
    out = tmp_path / "runs"
    run_batch(forecast, scenarios, out, workers=1, echo=lambda s: None)
    with xr.open_dataset(out / "latest" / "valley-a" / "risk.nc") as ds:
        p = ds["p_depth_over_0p1m"].values
    assert set(np.unique(p[np.isfinite(p)])) <= {0.0, 1 / 3, 2 / 3, 1.0}


def test_kill_9_mid_run_then_rerun_completes(setup, tmp_path):
    root, twin, forecast, scenarios = setup
    out = tmp_path / "runs"
    batch_dir = out / "2026-11-25T00Z"
    cmd = [sys.executable, "-m", "twin.cli", "batch", "--forecast", str(forecast), "--scenarios", str(scenarios),
           "--out", str(out), "--workers", "1", "--no-render"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    seen_partial = False
    while time.time() < deadline and proc.poll() is None:
        if batch_dir.exists() and any(".tmp-" in p.name for p in batch_dir.iterdir()):
            seen_partial = True
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert seen_partial, "the batch was killed while a scenario folder was being written"
    complete = [p.name for p in batch_dir.iterdir() if (p / "manifest.json").exists()]
    assert len(complete) < 2, "the kill came before the batch finished"
    record = json.loads((batch_dir / "batch.json").read_text())
    assert record["status"] == "running"
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert not [p.name for p in batch_dir.iterdir() if ".tmp-" in p.name or ".old-" in p.name]
    record = json.loads((batch_dir / "batch.json").read_text())
    assert record["status"] == "complete"
    for name in ("valley-a", "valley-b"):
        assert (batch_dir / name / "manifest.json").exists()
        assert record["scenarios"][name]["status"] in ("complete", "skipped_complete")


def _forecast_variant(src: Path, dst: Path, edit) -> Path:
    with xr.open_dataset(src) as ds:
        ds = edit(ds.load())
    ds.to_netcdf(dst)
    return dst


@pytest.mark.parametrize("case", ["missing", "units", "coverage", "empty_time"])
def test_bad_forecast_exits_2_with_one_line(setup, tmp_path, case):
    root, twin, forecast, scenarios = setup
    if case == "missing":
        bad = tmp_path / "nope.nc"
    elif case == "units":
        def edit(ds):
            ds["rainfall"].attrs["units"] = "furlongs"
            return ds
        bad = _forecast_variant(forecast, tmp_path / "bad.nc", edit)
    elif case == "coverage":
        bad = _forecast_variant(forecast, tmp_path / "bad.nc", lambda ds: ds.isel(lon=slice(0, 3)))
    else:
        bad = _forecast_variant(forecast, tmp_path / "bad.nc",
                                lambda ds: ds.isel(time=slice(0, 0)).drop_vars("time_bnds")
                                .assign_coords(time=("time", np.array([], dtype=np.float64), {"units": "s"})))
    proc = subprocess.run([sys.executable, "-m", "twin.cli", "batch", "--forecast", str(bad), "--scenarios",
                           str(scenarios), "--out", str(tmp_path / "runs"), "--no-render"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert str(bad.name) in lines[0]


def _good_and_bad(setup, tmp_path: Path, manning: str) -> Path:
    """A scenario folder with valley-a and a "valley-bad" whose Manning scale draws from ``manning``."""
    root, twin, forecast, scenarios = setup
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "good.yaml").write_text((scenarios / "valley-a.yaml").read_text())
    (mixed / "bad.yaml").write_text(SCENARIO.format(name="valley-bad", twin=twin, manning=manning))
    return mixed


def test_a_failing_scenario_exits_1_and_the_others_complete(setup, tmp_path, monkeypatch):
    """A run that fails (here made to fail with a RunError) is recorded; the others still run."""
    import twin.pipeline.batch as batch
    from twin.core.errors import RunError

    forecast = setup[2]
    mixed = _good_and_bad(setup, tmp_path, "{uniform: {low: 0.9, high: 1.1}}")
    real_run = batch.run_prepared

    def failing_run(prep, *a, **kw):
        if prep.sf.scenario.name == "valley-bad":
            raise RunError("member 2 became unstable")
        return real_run(prep, *a, **kw)

    monkeypatch.setattr(batch, "run_prepared", failing_run)
    out = tmp_path / "runs"
    assert run_batch(forecast, mixed, out, workers=1, echo=lambda s: None) == 1
    record = json.loads((out / "latest" / "batch.json").read_text())
    assert record["status"] == "failed"
    assert record["scenarios"]["valley-a"]["status"] == "complete"
    assert record["scenarios"]["valley-bad"]["status"] == "failed"
    assert "member 2" in record["scenarios"]["valley-bad"]["error"]


def test_a_member_draw_out_of_bounds_is_bad_input_before_anything_runs(setup, tmp_path):
    """A Manning scale drawn negative is found when the members are drawn: exit 2, nothing written."""
    from twin.core.errors import InputError

    forecast = setup[2]
    mixed = _good_and_bad(setup, tmp_path, "{uniform: {low: -2.0, high: -1.0}}")
    out = tmp_path / "runs"
    with pytest.raises(InputError, match=r"bad.yaml: ensemble.perturb: member 0 draws .*manning_scale.*"
                                         r"greater than 0.*\(line 8\)"):
        run_batch(forecast, mixed, out, workers=1, echo=lambda s: None)
    assert not out.exists()


def test_forecast_in_another_crs_keeps_the_rain_volume(setup, tmp_path):
    """A uniform 36 mm/h forecast on a 1 km UTM grid gives 36 mm/h over the whole twin."""
    root, twin, forecast, scenarios = setup
    from twin.core.citytwin import load_twin

    ds_twin = load_twin(twin)
    w, s, e, n = ds_twin.rio.transform_bounds("EPSG:32652")
    x = np.arange(np.floor(w / 1000) * 1000 - 2000, e + 3000, 1000.0) + 500
    y = (np.arange(np.floor(s / 1000) * 1000 - 2000, n + 3000, 1000.0) + 500)[::-1]
    rain = np.full((1, 3, y.size, x.size), 36.0, np.float32)
    times = np.array(["2026-11-25T00:00", "2026-11-25T00:10", "2026-11-25T00:20"], dtype="datetime64[ns]")
    ds = xr.Dataset({"rainfall": (("member", "time", "y", "x"), rain, {"units": "mm h-1"})},
                    coords={"member": [0], "time": times, "y": y, "x": x}).rio.write_crs("EPSG:32652")
    utm = tmp_path / "utm.nc"
    ds.to_netcdf(utm)
    one = tmp_path / "one"
    one.mkdir()
    (one / "a.yaml").write_text(SCENARIO.format(name="valley-utm", twin=twin, manning="{uniform: {low: 1, high: 1}}"))
    assert run_batch(utm, one, tmp_path / "runs", workers=1, echo=lambda s: None) == 0
    summary = json.loads((tmp_path / "runs" / "latest" / "valley-utm" / "summary.json").read_text())
    area = float((ds_twin["domain_mask"].values == 1).sum()) * 100.0
    expected = 0.036 / 3600 * 1800 * area
    assert summary["volume_ledger_m3"]["rain_in"] == pytest.approx(expected, rel=0.01)


def test_shipped_nightly_scenario_validates_with_the_sample_forecast(tmp_path):
    from twin.hazards.registry import get_hazard
    from twin.io.rainfall import read_forecast
    from twin.pipeline.run import load_run_scenario, prepare_run

    file = write_sample_forecast(tmp_path / "f.nc", members=2, hours=2)
    forecast = read_forecast(file)
    for path in sorted((ROOT / "scenarios" / "nightly").glob("*.yaml")):
        sf = load_run_scenario(path)
        sf = get_hazard(sf.scenario.hazard).with_forecast(sf, file, forecast.variable)
        assert sf.scenario.flood.rainfall.member == 0
        prepare_run(sf)                   # reads the forecast onto the twin's grid
