"""Design-event sets through the run (issue #19, phase 2): the ``events:`` block in the scenario, every
member in every design event as dask tasks, risk.nc on a ``return_period`` dimension, the annual
exceedance and expected-annual-damage maps, per-building losses by return period, EAD and first-floor
return period, the loss-exceedance curve in summary.json; bad input with the scenario file and line.

Most checks run on a small bowl (21 x 21 cells of 10 m, closed edges, four buildings at different
heights above its bottom, so that their floors flood at different return periods); the shipped
scenario runs cut short through the command line.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from conftest import write_manifest, write_raster
from twin.cli import main
from twin.core.citytwin import load_twin
from twin.ensemble.draws import draw_members, member_draws
from twin.hazards.interface import EVENTS_BLOCK
from twin.hazards.registry import get_hazard
from twin.pipeline.run import load_run_scenario, prepare_run, run_scenario
from twin.scenario.units import MM_PER_H

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "scenarios" / "sample_return_periods.yaml"
IDF_SAMPLE = ROOT / "twin" / "events" / "data" / "idf_sample.csv"
RETURN_PERIODS = [2.0, 10.0, 100.0, 500.0]
PROTECTION_RP = 3.0


def write_bowl_twin(folder: Path) -> Path:
    """A bowl of 21 x 21 cells of 10 m, its ground rising 0.1 m per cell (Chebyshev distance) from the
    centre, with four buildings whose rings come within 2, 3, 4 and 6 cells of the bottom."""
    n = 21
    r, c = np.mgrid[0:n, 0:n]
    z = 50.0 + 0.1 * np.maximum(np.abs(r - n // 2), np.abs(c - n // 2))
    h = np.zeros((n, n))
    h[13:15, 9:11] = 6.0
    h[9:11, 14:16] = 9.0
    h[9:11, 4:6] = 12.0
    h[2:4, 9:11] = 6.0
    folder.mkdir(parents=True, exist_ok=True)
    write_raster(folder / "dem.tif", z.astype(np.float32))
    write_raster(folder / "height.tif", h.astype(np.float32))
    return write_manifest(folder / "twin.yaml", {"elevation": "dem.tif", "building_height": "height.tif"})


def bowl_scenario(folder: Path, events: str | None = None, extra: str = "") -> Path:
    """The bowl's event set (2 members, rainfall scale drawn; protection 3 years, linear tail)."""
    twin = write_bowl_twin(folder / "twin")
    events = events or textwrap.dedent(f"""\
        events:
          return_periods: {RETURN_PERIODS}
          storm_duration: 1 h
          idf: {{table: {IDF_SAMPLE}}}
          temporal: {{huff: 3}}
          protection_rp: {PROTECTION_RP}
          tail: linear
        """)
    path = folder / "bowl.yaml"
    path.write_text(f"name: bowl\ntwin: {twin}\nhazard: flood\nduration: 70 min\n{events}"
                    "flood:\n  boundaries: {north: closed, south: closed, east: closed, west: closed}\n"
                    "ensemble:\n  members: 2\n  perturb: {rainfall_scale: {lognormal: {sigma: 0.1}}}\n"
                    f"output: {{every: 30 min}}\nrender: {{enabled: false}}\n{extra}", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def bowl(tmp_path_factory):
    """The bowl's event set on 2 workers and on 1, and the tasks the 1-worker run submitted."""
    root = tmp_path_factory.mktemp("bowl")
    path = bowl_scenario(root)
    two = run_scenario(path, out=root / "two", progress=False, workers=2)
    import twin.pipeline.risk_run as risk_run
    submitted = []
    original = risk_run.run_members

    def recording(hazard, tasks, on_member, client, progress=True):
        submitted.extend(tasks)
        return original(hazard, tasks, on_member, client, progress)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(risk_run, "run_members", recording)
        one = run_scenario(path, out=root / "one", progress=False, workers=1)
    return {"path": path, "two": two, "one": one, "tasks": submitted}


def _properties(run: Path) -> list[dict]:
    """buildings.geojson's properties (full precision), by building."""
    return [f["properties"] for f in json.loads((run / "buildings.geojson").read_text())["features"]]


def _linear_tail_ead(losses: list[float], value: float) -> float:
    """EAD written out for protection 3 years and the linear tail: 0 at AEP 1/3, the events beyond 3
    years, then the two rarest extended to AEP 0 (within 0 and the value), integrated by numpy."""
    t = np.array(RETURN_PERIODS)
    kept = t > PROTECTION_RP
    p = 1.0 / t[kept]
    y = np.asarray(losses)[kept]
    at_zero = min(max(y[-1] + (y[-1] - y[-2]) / (p[-2] - p[-1]) * p[-1], 0.0), value)
    return float(-np.trapezoid(np.r_[0.0, y, at_zero], np.r_[1.0 / PROTECTION_RP, p, 0.0]))


def test_ead_per_building_and_in_the_summary_is_a_trapezoid_of_the_written_losses(bowl):
    props = _properties(bowl["two"])
    losses = [[b[f"loss_T{t:g}_krw"] for t in RETURN_PERIODS] for b in props]
    assert sum(any(x > 0 for x in row) for row in losses) >= 3  # the bowl floods three buildings
    for b, row in zip(props, losses):
        assert b["ead_krw"] == pytest.approx(_linear_tail_ead(row, b["value_krw"]), rel=1e-12, abs=1e-6)
    events = json.loads((bowl["two"] / "summary.json").read_text())["risk"]["events"]
    assert events["expected_annual_damage_krw"] == pytest.approx(sum(b["ead_krw"] for b in props), rel=1e-12)
    assert events["loss_krw"] == pytest.approx(np.sum(losses, axis=0).tolist(), rel=1e-12)
    curve = events["loss_curve"]
    assert curve["aep_per_year"] == [1.0 / PROTECTION_RP, 0.1, 0.01, 0.002, 0.0]
    ead_of_curve = -np.trapezoid(curve["loss_krw"], curve["aep_per_year"])
    assert ead_of_curve == pytest.approx(events["expected_annual_damage_krw"], rel=1e-12)
    assert events["tail_conventions"]["tail"] == "linear"
    assert events["tail_conventions"]["protection_rp_years"] == PROTECTION_RP
    csv = np.genfromtxt(bowl["two"] / "buildings.csv", delimiter=",", names=True, dtype=None, encoding="utf-8")
    np.testing.assert_allclose(csv["ead_krw"], [b["ead_krw"] for b in props], rtol=1e-5)  # 6 digits in the CSV


def test_first_floor_return_period_is_the_first_event_that_damages_the_building(bowl):
    props = _properties(bowl["two"])
    found = set()
    for b in props:
        damaged = [t for t in RETURN_PERIODS if b[f"loss_T{t:g}_krw"] > 0]
        expected = damaged[0] if damaged else None  # never reached: null in GeoJSON, empty in the CSV
        assert b["first_floor_flood_rp_years"] == expected
        found.add(expected)
    assert len(found) >= 3  # the bowl's buildings flood at different return periods
    events = json.loads((bowl["two"] / "summary.json").read_text())["risk"]["events"]
    assert events["buildings_flooded"] == [sum(b[f"loss_T{t:g}_krw"] > 0 for b in props) for t in RETURN_PERIODS]


def test_risk_nc_holds_maps_per_return_period_and_the_aep_and_ead_maps(bowl):
    run = bowl["two"]
    with xr.open_dataset(run / "risk.nc") as ds, xr.open_dataset(run / "twin.nc") as tw:
        np.testing.assert_array_equal(ds["return_period"].values, RETURN_PERIODS)
        for name in ("event_max_depth", "event_hazard_class", "event_arrival_time"):
            assert ds[name].dims == ("return_period", "y", "x"), name
        depth = ds["event_max_depth"].values
        for threshold, name in ((0.1, "aep_depth_over_0p1m"), (0.3, "aep_depth_over_0p3m"),
                                (1.0, "aep_depth_over_1m")):
            over = depth > threshold
            first = np.where(over.any(axis=0), 1.0 / np.array(RETURN_PERIODS)[np.argmax(over, axis=0)], 0.0)
            np.testing.assert_array_equal(ds[name].values, first)
        assert ds["aep_depth_over_0p3m"].values.max() > 0  # the bowl holds more than 0.3 m of water
        classes = ds["event_hazard_class"].values
        assert set(np.unique(classes)) <= {0.0, 1.0, 2.0, 3.0, 4.0}
        assert np.all(np.isnan(ds["event_arrival_time"].values) == (classes == 0))  # dry: never wet
        ead = ds["expected_annual_damage_krw"].values
        ids = tw["building_id"].values
    props = _properties(run)
    assert ead.sum() == pytest.approx(sum(b["ead_krw"] for b in props), rel=1e-12)
    for b in props:
        cells = ids == b["building_id"]
        np.testing.assert_allclose(ead[cells], b["ead_krw"] / cells.sum(), rtol=1e-12)
    assert np.all(ead[ids == 0] == 0)


def test_event_set_results_do_not_depend_on_the_number_of_workers(bowl):
    with xr.open_dataset(bowl["two"] / "risk.nc") as a, xr.open_dataset(bowl["one"] / "risk.nc") as b:
        assert set(a.data_vars) == set(b.data_vars)
        for name in a.data_vars:
            np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
    assert (bowl["two"] / "buildings.csv").read_text() == (bowl["one"] / "buildings.csv").read_text()
    events = [json.loads((bowl[k] / "summary.json").read_text())["risk"]["events"] for k in ("two", "one")]
    assert events[0] == events[1]


def test_every_member_runs_in_every_event_with_the_seeds_of_a_single_storm(bowl):
    prep = prepare_run(load_run_scenario(bowl["path"]))
    hazard = get_hazard("flood")
    draws = member_draws(prep.sf, prep.twin, hazard)
    assert len(draws) == 2 and draws[0].values != draws[1].values
    # the seeds of today: the scenario's draws without its events block
    plain = prep.sf.scenario.model_copy(update={EVENTS_BLOCK: None})
    assert draws == draw_members(type(prep.sf)(plain, prep.sf.path, prep.sf.lines), prep.twin, hazard)
    tasks = bowl["tasks"]
    assert sorted((t.event, t.draw.index) for t in tasks) == [(e, m) for e in range(4) for m in range(2)]
    for e in range(4):
        assert [t.draw for t in sorted(tasks, key=lambda t: t.draw.index) if t.event == e] == draws
        rain = [t.sf.scenario.flood.rainfall for t in tasks if t.event == e]
        assert rain[0] == rain[1] and getattr(rain[0], "times")


@pytest.fixture(scope="module")
def shipped_run(tmp_path_factory):
    """The shipped scenario cut to its first 10 minutes, through the command line."""
    out = tmp_path_factory.mktemp("shipped") / "run"
    assert main(["run", str(SHIPPED), "--out", str(out), "--until", "10 min", "--no-render", "--workers", "2",
                 "-q"]) == 0
    return out


def test_the_shipped_event_set_runs_from_the_command_line(shipped_run):
    with xr.open_dataset(shipped_run / "risk.nc") as ds:
        np.testing.assert_array_equal(ds["return_period"].values, [2, 5, 10, 30, 50, 100, 200, 500])
        assert ds["event_max_depth"].shape == (8, 500, 500)
        assert {"aep_depth_over_0p5m", "expected_annual_damage_krw"} <= set(ds.data_vars)
    summary = json.loads((shipped_run / "summary.json").read_text())
    events = summary["risk"]["events"]
    assert summary["status"] == "truncated" and events["members_used"] == [1] * 8
    assert len(events["loss_curve"]["aep_per_year"]) == 9  # 8 events and the constant tail's AEP 0
    assert events["storm_duration_s"] == 3600.0 and events["temporal"] == "huff quartile 3"
    header = (shipped_run / "buildings.csv").read_text().splitlines()[0].split(",")
    assert [h for h in header if h.startswith("loss_T")] == [f"loss_T{t}_krw" for t in (2, 5, 10, 30, 50, 100,
                                                                                         200, 500)]
    assert {"ead_krw", "first_floor_flood_rp_years"} <= set(header)
    manifest = json.loads((shipped_run / "manifest.json").read_text())
    assert str(IDF_SAMPLE.resolve()) in {str(Path(p).resolve()) for p in manifest["inputs"]}
    assert {"aep_depth_over_0p5m.tif", "expected_annual_damage_krw.tif"} <= {p["file"] for p in manifest["products"]}


def test_a_larger_return_period_never_gives_less_flooded_depth_on_the_sample_city(shipped_run):
    """Monotonicity: no cell flooded (at or above the wet threshold, 5 cm) at a return period is
    lower at the next larger one, to round-off (1e-9 m). The local inertial scheme is not a
    monotone scheme, and films below the threshold may be: in this 10 min cut, 251 of the
    250 000 cells by up to 1.9 mm in films at most 3.3 mm deep; over the whole 90 min storm
    12 cells by up to 0.9 mm in films under 4.1 cm (docs/risk.md, "Monotonicity"). Before the
    flood kernel's stability fixes (docs/flood_numerics.md) 87 920 cells fell by up to 0.11 m here."""
    with xr.open_dataset(shipped_run / "risk.nc") as ds:
        depth = ds["event_max_depth"].values
    wet = load_run_scenario(SHIPPED).scenario.flood.numerics.wet_threshold_m
    inside = ~np.isnan(depth[0])
    drop = np.where(inside, depth[:-1] - depth[1:], 0.0)
    assert np.nanmax(depth[-1]) > 0.05
    flooded = depth[:-1] >= wet
    assert np.all(drop[flooded] <= 1e-9), f"largest drop of a flooded cell {drop[flooded].max():.3g} m"
    films = drop > 1e-9
    assert np.all(np.maximum(depth[:-1], depth[1:])[films] < wet)


def test_the_design_storms_grow_with_return_period_at_every_instant():
    """What the model is given is monotone: each event's rain is at least the previous one's at every time."""
    prep = prepare_run(load_run_scenario(SHIPPED))
    rain = np.array([s.scenario.flood.rainfall.intensity_mm_h for s in prep.events.scenarios])
    times = np.array([s.scenario.flood.rainfall.times for s in prep.events.scenarios])
    assert np.all(times == times[0]) and np.all(np.diff(rain, axis=0) > 0)


# ---------------------------------------------------------------- bad input


def _validate(path: Path, capsys) -> tuple[int, str]:
    code = main(["validate", str(path)])
    return code, capsys.readouterr().err


def test_a_bad_idf_table_is_refused_naming_the_scenario_line_and_the_table_row(tmp_path, capsys):
    table = tmp_path / "idf.csv"
    table.write_text("duration_min,T2,T10\n60,40,35\n120,25,30\n", encoding="utf-8")  # T10 below T2 at 60 min
    path = bowl_scenario(tmp_path, textwrap.dedent(f"""\
        events:
          return_periods: [2, 10]
          storm_duration: 1 h
          idf:
            table: {table}
          temporal: {{huff: 3}}
        """))
    code, err = _validate(path, capsys)
    assert code == 2
    assert str(path) in err and "events.idf.table" in err and "(line 9)" in err
    assert str(table) in err and "line 2" in err and "column T10" in err


def test_a_missing_idf_table_is_refused_at_its_scenario_line(tmp_path, capsys):
    path = bowl_scenario(tmp_path, "events:\n  return_periods: [2, 10]\n  storm_duration: 1 h\n"
                                   "  idf: {table: nowhere.csv}\n  temporal: {huff: 3}\n")
    code, err = _validate(path, capsys)
    assert code == 2 and str(path) in err and "events.idf.table" in err and "nowhere.csv" in err
    assert "(line 8)" in err


def test_a_storm_longer_than_the_table_is_refused_at_storm_duration(tmp_path, capsys):
    path = bowl_scenario(tmp_path, f"events:\n  return_periods: [2, 10]\n  storm_duration: 30 h\n"
                                   f"  idf: {{table: {IDF_SAMPLE}}}\n  temporal: {{huff: 3}}\n")
    text = path.read_text().replace("duration: 70 min", "duration: 31 h").replace("every: 30 min", "every: 6 h")
    path.write_text(text)
    code, err = _validate(path, capsys)
    assert code == 2 and str(path) in err and "events.storm_duration" in err and "(line 7)" in err
    assert "1800 min" in err and "1440 min" in err


@pytest.mark.parametrize("change, where, line", [
    (("duration: 70 min", "duration: 30 min"), "duration", 4),
    (("flood:\n", "flood:\n  rainfall: {times: [0, 1 h], intensity_mm_h: [10, 0]}\n"), "events", 5),
])
def test_an_event_set_that_breaks_a_rule_across_blocks_is_refused(tmp_path, capsys, change, where, line):
    path = bowl_scenario(tmp_path)
    path.write_text(path.read_text().replace(*change))
    code, err = _validate(path, capsys)
    assert code == 2 and str(path) in err and f"  {where}: " in err and f"(line {line})" in err


def test_an_event_set_on_a_fire_scenario_is_refused(tmp_path, capsys):
    text = (ROOT / "scenarios" / "sample_urban_fire.yaml").read_text()
    text = text.replace("twin: ../data/sample_city/twin.yaml", f"twin: {ROOT / 'data' / 'sample_city' / 'twin.yaml'}")
    path = tmp_path / "fire.yaml"
    path.write_text(text + f"events:\n  return_periods: [2, 10]\n  storm_duration: 1 h\n"
                           f"  idf: {{table: {IDF_SAMPLE}}}\n  temporal: {{huff: 3}}\n")
    code, err = _validate(path, capsys)
    line = len(text.splitlines()) + 1
    assert code == 2 and f"  events: design-event sets apply to flood scenarios, not to a fire scenario (line {line})" \
        in err


def test_validate_checks_the_shipped_event_set(capsys):
    assert main(["validate", str(SHIPPED)]) == 0
    prep = prepare_run(load_run_scenario(SHIPPED))
    assert prep.events is not None and prep.events.events.return_periods.tolist() == [2, 5, 10, 30, 50, 100, 200,
                                                                                      500]
    assert prep.sf.scenario.flood.rainfall is not None  # the control run: the rarest storm
    assert max(prep.sf.scenario.flood.rainfall.intensity_mm_h) == pytest.approx(
        prep.events.events.events[-1].storm.peak_m_s() / MM_PER_H, rel=1e-12)
    assert load_twin(prep.sf.twin_source(), base_dir=prep.sf.folder)["elevation"].shape == (500, 500)
