"""``twin compare``: baseline and strategies on the same draws, difference maps, avoided loss, benefit-cost."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import xarray as xr
import yaml

from conftest import ORIGIN, write_manifest, write_raster
from twin.adaptation.compare import compare
from twin.adaptation.economics import annuity_factor, benefit_cost
from twin.cli import main
from twin.ensemble import cluster

ROOT = Path(__file__).resolve().parents[1]
X0, Y0 = ORIGIN


def _yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _street(tmp_path, ensemble: bool) -> Path:
    """A 12 x 30 valley of 10 m cells falling east, a row of houses by its east end, an inflow at the
    west end; with ``ensemble``, 3 members of another roughness each. Returns the scenario."""
    z = (50.0 - 0.05 * np.arange(30))[None, :] + np.zeros((12, 1))
    height = np.zeros((12, 30), np.float32)
    for c in range(18, 28, 3):
        height[5:7, c:c + 2] = 6.0
    write_raster(tmp_path / "dem.tif", z.astype(np.float32))
    write_raster(tmp_path / "height.tif", height)
    write_manifest(tmp_path / "twin.yaml", {"elevation": "dem.tif", "building_height": "height.tif"})
    return _yaml(tmp_path / "scenario.yaml", {
        "twin": "twin.yaml", "hazard": "flood", "duration": "15 min", "seed": 3,
        "flood": {"inflows": [{"name": "in", "at": [X0 + 15, Y0 - 65], "times": [0, 900],
                               "discharge_m3_s": [6, 6]}],
                  "boundaries": {"north": "closed", "south": "closed", "east": "closed", "west": "closed"}},
        **({"ensemble": {"members": 3, "perturb": {"manning_scale": {"uniform": {"low": 0.5, "high": 2.0}}}}}
           if ensemble else {}),
        "output": {"every": "5 min"}})


WALL = {"type": "floodwall", "name": "wall", "line": [[X0 + 155, Y0 - 1], [X0 + 155, Y0 - 119]],
        "height_above_ground_m": 3.0, "cost_krw": 2.0e8}


def test_a_strategy_without_measures_compares_to_exactly_zero(tmp_path, monkeypatch):
    """Same draws, same functions: every difference map is 0 (NaN outside), every avoided loss 0, member by member."""
    from distributed import LocalCluster

    monkeypatch.setattr(cluster, "local_cluster", lambda workers=None, dashboard=False: LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None))   # in process: quick to start
    street = _street(tmp_path, ensemble=True)
    nothing = _yaml(tmp_path / "nothing.yaml", {"name": "nothing", "measures": []})
    folder = compare(street, [nothing], tmp_path / "cmp", progress=False, workers=1)
    with xr.open_dataset(folder / "difference_nothing.nc") as ds:
        for name in ("max_depth_change", "reached_change"):
            values = ds[name].values
            assert np.all(values[np.isfinite(values)] == 0.0) and np.isfinite(values).any()
    table = pd.read_csv(folder / "avoided_nothing.csv")
    assert (table.filter(like="avoided_") == 0).all().all() and (table["outcome"] == "same").all()
    assert table["baseline_expected_flood_loss_krw"].sum() > 0          # there was damage to avoid
    summary = json.loads((folder / "summary.json").read_text())["strategies"][0]
    assert summary["avoided_loss_krw"] == 0.0 and summary["avoided_loss_per_member_krw"] == [0.0, 0.0, 0.0]
    members = [table[f"baseline_member_{k}_expected_flood_loss_krw"].sum() for k in range(3)]
    assert len(set(members)) == 3                                       # the members differ


def test_a_wall_avoids_loss_and_its_benefit_cost_matches_an_independent_sum(tmp_path):
    street = _street(tmp_path, ensemble=False)
    wall = _yaml(tmp_path / "wall.yaml", {"name": "wall", "measures": [WALL],
                                          "economics": {"lifetime_years": 20, "discount_rate": 0.04,
                                                        "event_frequency_per_year": 0.1}})
    folder = compare(street, [wall], tmp_path / "cmp", progress=False, workers=1)
    st = json.loads((folder / "summary.json").read_text())["strategies"][0]
    table = pd.read_csv(folder / "avoided_wall.csv")
    base, strat = (json.loads((folder / run / "summary.json").read_text())["risk"]["expected_flood_loss_krw"]
                   for run in ("baseline", "wall"))
    assert st["avoided_loss_krw"] == base - strat and base - strat > 0
    assert table["avoided_expected_flood_loss_krw"].sum() == pytest.approx(base - strat, rel=1e-5)  # 6 digits
    pv = sum(0.1 * (base - strat) / 1.04 ** t for t in range(1, 21))
    assert st["economics"]["present_value_krw"] == pytest.approx(pv, rel=1e-12)
    assert st["economics"]["benefit_cost_ratio"] == pytest.approx(pv / 2.0e8, rel=1e-12)
    assert st["cells"]["cells_newly_spared"] > 0
    with xr.open_dataset(folder / "difference_wall.nc", decode_coords="all") as ds:
        assert ds.rio.crs.to_epsg() == 5186 and ds["max_depth_change"].attrs["units"] == "m"
        assert np.nanmin(ds["max_depth_change"].values) < 0
    layer = pyogrio.read_dataframe(folder / "measures_wall.gpkg", layer="measures")
    assert list(layer["type"]) == ["floodwall"] and layer["cost_krw"].sum() == 2.0e8
    assert json.loads((folder / "manifest.json").read_text())["status"] == "complete"


def test_an_event_set_gives_the_avoided_ead_and_its_benefit_cost(tmp_path, monkeypatch):
    """Three design storms on the street: the avoided EAD is the baseline's EAD less the strategy's (each run's
    own summary), per event too, and the benefit-cost ratio its discounted sum over the cost."""
    from distributed import LocalCluster

    monkeypatch.setattr(cluster, "local_cluster", lambda workers=None, dashboard=False: LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None))
    street = _street(tmp_path, ensemble=False)
    scenario = yaml.safe_load(street.read_text())
    scenario["flood"]["inflows"][0]["discharge_m3_s"] = [3, 3]
    scenario["events"] = {"return_periods": [2, 10, 100], "storm_duration": "10 min", "temporal": {"huff": 3},
                          "idf": {"table": str(ROOT / "twin" / "events" / "data" / "idf_sample.csv")}}
    _yaml(street, scenario)
    raise_ = _yaml(tmp_path / "raise.yaml", {"name": "raise", "measures": [
        {"type": "elevate_buildings", "where": {"use": ["residential"]}, "by_m": 0.3, "cost_krw": 1.0e7}]})
    folder = compare(street, [raise_], tmp_path / "cmp", progress=False, workers=1)
    st = json.loads((folder / "summary.json").read_text())["strategies"][0]
    base, strat = (json.loads((folder / run / "summary.json").read_text())["risk"]["events"]
                   for run in ("baseline", "raise"))
    avoided = base["expected_annual_damage_krw"] - strat["expected_annual_damage_krw"]
    assert st["loss_column"] == "ead_krw" and st["avoided_loss_krw"] == avoided and avoided > 0
    assert list(st["avoided_loss_per_event_krw"].values()) == [b - s for b, s in zip(base["loss_krw"],
                                                                                   strat["loss_krw"])]
    pv = sum(avoided / 1.03 ** t for t in range(1, 51))
    assert st["economics"]["benefit_cost_ratio"] == pytest.approx(pv / 1.0e7, rel=1e-12)


@pytest.mark.parametrize("rate", [0.0, 0.03, 0.1])
def test_the_annuity_factor_is_the_discounted_sum_of_the_years(rate):
    assert annuity_factor(30, rate) == pytest.approx(sum((1 + rate) ** -t for t in range(1, 31)), rel=1e-12)
    assert benefit_cost(1.0e6, 0.0, 30, rate)["benefit_cost_ratio"] is None


def test_cli_compare_on_the_sample_river_flood_with_the_riverside_wall(tmp_path, capsys):
    out = tmp_path / "wall"
    code = main(["compare", str(ROOT / "scenarios" / "sample_river_flood.yaml"), "--strategy",
                 str(ROOT / "strategies" / "riverside_wall.yaml"), "--out", str(out), "--until", "1 min", "-q",
                 "--json"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    names = {p.name for p in out.iterdir()}
    assert {"baseline", "riverside-wall", "summary.json", "manifest.json", "report.html", "avoided_riverside-wall.csv",
            "compare_riverside-wall.png", "change_riverside-wall.png", "measures_riverside-wall.gpkg",
            "difference_riverside-wall.nc", "difference_riverside-wall_max_depth_change.tif"} <= names
    wall = summary["strategies"][0]["measures"][0]
    assert wall["type"] == "floodwall" and wall["cells"] > 400 and wall["height_max_m"] == 2.5
    assert json.loads((out / "baseline" / "manifest.json").read_text())["status"] == "truncated"


def test_cli_compare_on_the_sample_wildland_fire_with_the_firebreak(tmp_path, capsys):
    out = tmp_path / "break"
    code = main(["compare", str(ROOT / "scenarios" / "sample_wildland_fire.yaml"), "--strategy",
                 str(ROOT / "strategies" / "firebreak.yaml"), "--out", str(out), "--until", "5 min", "-q",
                 "--no-render"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())["strategies"][0]
    assert summary["measures"][0]["type"] == "firebreak" and summary["measures"][0]["cells"] > 300
    with xr.open_dataset(out / "difference_western-firebreak.nc") as ds, \
            xr.open_dataset(out / "baseline" / "twin.nc") as twin:
        assert "arrival_time_change" in ds
        domain = twin["domain_mask"].values == 1
        reached = ds["reached_change"].values          # 0 where neither run burned, not NaN: only off the domain
        assert np.isfinite(reached[domain]).all() and np.isnan(reached[~domain]).all()
        assert np.sum(reached == 0) > 0.9 * domain.sum()
