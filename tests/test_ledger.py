"""The flood volume ledger over time (``ledger.csv``, like LISFLOOD-FP's .mass file).

A row at t = 0, every gauge time and the end: time (s), steps and the cumulative volumes (m^3)
of rain, inflow, boundary inflow and outflow per grid edge, infiltration, drainage and storage,
with the closure error. Checked: closure to round-off at every row, the last row equals the run's
ledger (and the summary's volume balance), the whole-grid and tiled loops give the same rows,
and a run folder holds ``ledger.csv`` as written.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from test_flood_tiled import _inputs
from twin.hazards.flood import model as M
from twin.hazards.flood.tiled import simulate_flood_tiled
from twin.pipeline.run import run_scenario

ROOT = Path(__file__).resolve().parents[1]
TERMS = ("rain_in", "inflow_in", "infiltration", "drainage", "storage_final")


@pytest.fixture(scope="module")
def city_run():
    """The tiling tests' city (rain, two inflows, losses, a fixed-level west edge, free south and
    east edges) for 300 s with a ledger row every 40 s (not a divisor of 300: the end has its own)."""
    return M.simulate_flood(_inputs(), 300.0, None, 40.0)


def test_rows_at_the_start_every_gauge_time_and_the_end(city_run):
    rows = city_run.ledger_rows
    assert [r.time_s for r in rows] == [0.0, 40.0, 80.0, 120.0, 160.0, 200.0, 240.0, 280.0, 300.0]
    assert rows[0].steps == 0 and rows[-1].steps == city_run.n_steps
    assert all(a.steps < b.steps for a, b in zip(rows, rows[1:]))
    assert rows[0].ledger.storage_final == city_run.ledger.storage_initial


def test_every_row_closes_to_round_off_and_terms_only_grow(city_run):
    """rain + inflow + boundary in - out - infiltration - drainage = storage change, at every
    row to 1e-12 of the water present; the cumulative terms never decrease."""
    rows = city_run.ledger_rows
    for r in rows:
        assert r.ledger.closure_relative < 1e-12, r.time_s
    for a, b in zip(rows, rows[1:]):
        for term in ("rain_in", "inflow_in", "infiltration", "drainage"):
            assert getattr(b.ledger, term) >= getattr(a.ledger, term), term
        assert np.all(b.ledger.edge_in >= a.ledger.edge_in) and np.all(b.ledger.edge_out >= a.ledger.edge_out)
    last = rows[-1].ledger
    assert min(last.rain_in, last.inflow_in, last.infiltration, last.drainage) > 0


def test_boundary_volumes_per_edge_follow_the_edge_kinds(city_run):
    """North is closed (nothing through it), west has a fixed level (water in and out), south and
    east are free (out only); the edges add up to the boundary totals."""
    led = city_run.ledger
    north, south, east, west = range(4)
    assert led.edge_in[north] == led.edge_out[north] == 0.0
    assert led.edge_in[west] > 0 and led.edge_out[south] > 0 and led.edge_out[east] > 0
    assert led.edge_in[south] == led.edge_in[east] == 0.0
    assert led.boundary_in == pytest.approx(led.edge_in.sum(), rel=1e-15)
    assert led.boundary_out == pytest.approx(led.edge_out.sum(), rel=1e-15)


def test_last_row_is_the_runs_ledger(city_run):
    last, led = city_run.ledger_rows[-1].ledger, city_run.ledger
    for term in TERMS + ("storage_initial", "closure_error"):
        assert getattr(last, term) == getattr(led, term), term
    np.testing.assert_array_equal(last.edge_in, led.edge_in)
    np.testing.assert_array_equal(last.edge_out, led.edge_out)


@pytest.mark.parametrize("tiles, halo, rtol", [((2, 2), 3, 1e-9), ((3, 1), 17, None)])
def test_tiled_loop_gives_the_same_ledger_rows(city_run, tiles, halo, rtol):
    """One step per exchange (halo 3): the tiled rows equal the whole grid's to round-off, term
    by term and edge by edge. Eight steps per exchange (halo 17, another step sequence): rows at
    the same times that close to round-off, the forcing volumes equal to 1e-12 (exact integrals)."""
    res = simulate_flood_tiled(_inputs(), 300.0, tiles=tiles, halo=halo, gauge_every_s=40.0,
                               scheduler="synchronous")
    assert [r.time_s for r in res.ledger_rows] == [r.time_s for r in city_run.ledger_rows]
    assert res.ledger_rows[-1].ledger is res.ledger
    for got, want in zip(res.ledger_rows, city_run.ledger_rows):
        assert got.ledger.closure_relative < 1e-12
        if rtol is None:
            assert got.ledger.inflow_in == pytest.approx(want.ledger.inflow_in, rel=1e-12)
            continue
        assert got.steps == want.steps
        for term in TERMS:
            assert getattr(got.ledger, term) == pytest.approx(getattr(want.ledger, term), rel=rtol), term
        np.testing.assert_allclose(got.ledger.edge_in, want.ledger.edge_in, rtol=rtol, atol=0)
        np.testing.assert_allclose(got.ledger.edge_out, want.ledger.edge_out, rtol=rtol, atol=0)


@pytest.fixture(scope="module")
def flash_run(tmp_path_factory):
    """The sample flash flood, 5 minutes (gauges every 60 s)."""
    out = tmp_path_factory.mktemp("runs") / "flash"
    return run_scenario(ROOT / "scenarios" / "sample_flash_flood.yaml", out=out, progress=False,
                        until=300.0)


def test_ledger_csv_of_a_run_closes_and_ends_at_the_summary_balance(flash_run):
    """ledger.csv has the declared columns, a row at 0, every minute and the end; each row's
    storage change equals its net inflow (the closure error column, 1e-12 of the water), and the
    last row is summary.json's volume ledger."""
    with open(flash_run / "ledger.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == M.LEDGER_COLUMNS
    assert [float(r["time_s"]) for r in rows] == [0.0, 60.0, 120.0, 180.0, 240.0, 300.0]
    edges = [f"boundary_{way}_{e}_m3" for way in ("in", "out") for e in M.EDGES]
    start = float(rows[0]["storage_m3"])
    for r in rows:
        v = {k: float(x) for k, x in r.items()}
        net = (v["rain_m3"] + v["inflow_m3"] + sum(v[e] for e in edges[:4]) - sum(v[e] for e in edges[4:])
               - v["infiltration_m3"] - v["drainage_m3"])
        assert v["storage_m3"] - start - net == pytest.approx(v["closure_error_m3"], abs=1e-9)
        assert v["closure_relative"] < 1e-12
    summary = json.loads((flash_run / "summary.json").read_text())
    led, last = summary["volume_ledger_m3"], {k: float(x) for k, x in rows[-1].items()}
    assert last["steps"] == summary["time_steps"]
    for column, key in (("rain_m3", "rain_in"), ("inflow_m3", "inflow_in"),
                        ("infiltration_m3", "infiltration"), ("drainage_m3", "drainage"),
                        ("storage_m3", "storage_final"), ("closure_error_m3", "closure_error"),
                        ("closure_relative", "closure_relative")):
        assert last[column] == led[key], column
    assert sum(last[e] for e in edges[:4]) == pytest.approx(led["boundary_in"], rel=1e-15, abs=0)
    assert sum(last[e] for e in edges[4:]) == pytest.approx(led["boundary_out"], rel=1e-15, abs=0)
    assert last["rain_m3"] > 0
