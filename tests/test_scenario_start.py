"""A scenario's ``start:``: a timezone-aware date-time, stored in UTC, and the reference time of its files.

The key is checked at the schema (a date-time without a UTC offset, a date alone or a bad string
is bad input, exit 2, naming the line); a run with it writes ``time`` in ``seconds since <start>``
(UTC) that xarray decodes to ``start + t``, and records the start in ``summary.json`` and
``manifest.json``; without it the nominal epoch stays (:data:`twin.core.cf.SCENARIO_EPOCH`) and
the start is null. The CF checker's verdict on such files is in ``test_scenario_start_cf.py``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import xarray as xr

from conftest import write_valley_twin
from twin.cli import EXIT_BAD_INPUT, main
from twin.core.cf import SCENARIO_EPOCH, time_units
from twin.core.errors import InputError
from twin.hazards.registry import load_scenario
from twin.pipeline.run import run_scenario

RAIN = "flood:\n  rainfall: {times: [0, 10 min], intensity_mm_h: [50, 50]}\n"


def valley_scenario(folder, start_line: str = "", name: str = "valley") -> object:
    """A 20 min flood on the small valley twin (snapshots every 10 min), with ``start_line`` on line 1."""
    twin = write_valley_twin(folder / "twin", shape=(20, 30))
    path = folder / f"{name}.yaml"
    path.write_text(f"{start_line}\nname: {name}\ntwin: {twin}\nhazard: flood\nduration: 20 min\n"
                    f"output: {{every: 10 min, geotiff: false}}\nrender: {{enabled: false}}\n{RAIN}")
    return path


@pytest.mark.parametrize("written, utc", [
    ("2026-07-14T06:00:00+09:00", datetime(2026, 7, 13, 21, 0, tzinfo=timezone.utc)),
    ("'2026-07-14T06:00:00Z'", datetime(2026, 7, 14, 6, 0, tzinfo=timezone.utc)),
    ("'2026-07-14 06:00:30-03:30'", datetime(2026, 7, 14, 9, 30, 30, tzinfo=timezone.utc)),
])
def test_a_start_with_a_utc_offset_is_stored_in_utc(tmp_path, written, utc):
    start = load_scenario(valley_scenario(tmp_path, f"start: {written}")).scenario.start
    assert start == utc and start.utcoffset() == timedelta(0)


def test_without_start_the_scenario_has_none(tmp_path):
    assert load_scenario(valley_scenario(tmp_path)).scenario.start is None


@pytest.mark.parametrize("written, problem", [
    ("2026-07-14T06:00:00", "a date-time without a UTC offset"),
    ("2026-07-14", "a date without a time of day"),
    ("banana", "not an ISO 8601 date-time"),
    ("'2026-13-01T00:00:00Z'", "not an ISO 8601 date-time"),
    ("1752467400", "not a date-time"),
])
def test_a_naive_or_bad_start_is_exit_2_naming_its_line(tmp_path, capsys, written, problem):
    path = valley_scenario(tmp_path, f"start: {written}")
    with pytest.raises(InputError):
        load_scenario(path)
    assert main(["validate", str(path)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"start: {problem}" in err and "(line 1)" in err
    assert "expected a date-time with a UTC offset (ISO 8601), e.g. 2026-07-14T06:00:00+09:00" in err


def test_units_count_seconds_from_the_start_in_utc():
    tokyo = timezone(timedelta(hours=9))
    assert time_units(datetime(2026, 7, 14, 6, 0, tzinfo=tokyo)) == "seconds since 2026-07-13 21:00:00"
    assert time_units(datetime(2026, 7, 14, 6, 0, 0, 250000, tzinfo=tokyo)) == "seconds since 2026-07-13 21:00:00.25"
    assert time_units(None) == f"seconds since {SCENARIO_EPOCH}"


def test_a_run_with_a_start_decodes_to_start_plus_t_and_records_it(tmp_path):
    run = run_scenario(valley_scenario(tmp_path, "start: 2026-07-14T06:00:00+09:00"), out=tmp_path / "run",
                       progress=False)
    with xr.open_dataset(run / "hazard.nc", decode_times=False) as raw, xr.open_dataset(run / "hazard.nc") as ds:
        seconds = raw["time"].values
        assert raw["time"].attrs["units"] == "seconds since 2026-07-13 21:00:00"
        assert raw["time"].attrs["calendar"] == "proleptic_gregorian"
        assert "2026-07-13T21:00:00+00:00" in raw["time"].attrs["comment"]
        decoded = ds["time"].values
    np.testing.assert_array_equal(seconds, [0.0, 600.0, 1200.0])
    expected = np.datetime64("2026-07-13T21:00:00") + (seconds * 1e3).astype("timedelta64[ms]")
    np.testing.assert_array_equal(decoded, expected.astype(decoded.dtype))
    for name in ("summary.json", "manifest.json"):
        assert json.loads((run / name).read_text())["start"] == "2026-07-13T21:00:00+00:00", name


def test_a_run_without_start_keeps_the_nominal_epoch_and_records_null(tmp_path):
    run = run_scenario(valley_scenario(tmp_path), out=tmp_path / "run", progress=False, until=600.0)
    with xr.open_dataset(run / "hazard.nc", decode_times=False) as raw:
        assert raw["time"].attrs["units"] == f"seconds since {SCENARIO_EPOCH}"
        assert "no calendar date" in raw["time"].attrs["comment"]
    for name in ("summary.json", "manifest.json"):
        assert json.loads((run / name).read_text())["start"] is None, name
