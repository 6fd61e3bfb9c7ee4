"""The hazard interface: a third hazard registered from this test module runs through the whole
pipeline (scenario schema, members on dask, risk maps, building impacts, outputs) without any
project module knowing of it; registries are immutable."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from pydantic import Field as Bounded

from twin.core.errors import InputError
from twin.core.fields import TWIN_FIELDS, Field, FieldRegistry
from twin.ensemble.draws import draw_members
from twin.hazards.interface import Hazard, MemoryUse, Outputs, Perturbation
from twin.hazards.registry import HAZARDS, get_hazard, load_scenario
from twin.io.outputs import result_dataset, write_cog, write_netcdf
from twin.risk.exposure import depth_at_buildings
from twin.risk.fields import number_label
from twin.risk.spec import Distribution, Exceedance, RiskSpec, Within
from twin.scenario.schema import Distribution as DrawnValue
from twin.scenario.schema import Frozen

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_TWIN = ROOT / "data" / "sample_city" / "twin.yaml"


class ToySpec(Frozen):
    """The ``toy:`` block: still water of one depth on every open cell."""

    depth_m: float = Bounded(0.4, gt=0, le=10)


TOY_FIELDS = FieldRegistry([
    Field("toy_depth", "m", "float64", "toy water depth", fill=np.nan),
    Field("toy_arrival", "s", "float64", "time the toy water came (NaN: never)", fill=np.nan),
])


def toy_name(threshold_m: float) -> str:
    return f"p_toy_over_{number_label(threshold_m)}m"


@dataclass(frozen=True)
class ToyImpact:
    """Loss fraction min(depth / 1 m, 1) at each building's ring maximum depth."""

    samples: tuple = ("depth",)
    loss_column: str = "expected_toy_loss_krw"
    alert_column: str = "expected_toy_fraction"

    def sample(self, table, maps):
        return {"depth": depth_at_buildings(table, maps["toy_depth"])[0]}

    def columns(self, table, samples, stats):
        frac = stats.expect(np.minimum(samples["depth"], 1.0))
        return {"expected_toy_depth_m": stats.expect(samples["depth"]), "expected_toy_fraction": frac,
                self.loss_column: table.value_krw * frac}, frac


def _prepare(sf, twin):
    open_cells = (twin["domain_mask"].values == 1) & (twin["building_id"].values == 0)
    return {"open": open_cells, "depth": sf.scenario.toy.depth_m}


def _simulate(inputs, sf, progress):
    depth = np.where(inputs["open"], inputs["depth"], 0.0)
    return {"toy_depth": depth, "toy_arrival": np.where(inputs["open"], 0.0, np.nan)}


def _write(folder, sf, twin, result):
    ds = result_dataset(twin, {"toy_arrival": result["toy_arrival"]}, TOY_FIELDS,
                        attrs={"hazard": "toy", "title": "toy hazard", "source": "water on every open cell"},
                        series={"toy_depth": (np.array([0.0]), result["toy_depth"][None])})
    write_netcdf(ds, folder / "hazard.nc")
    write_cog(ds["toy_arrival"], folder / "toy_arrival.tif")
    return {"scenario": sf.scenario.name, "hazard": "toy", "wet_cells": int((result["toy_depth"] > 0).sum())}


def _memory(sf, grid):
    n = grid.shape[0] * grid.shape[1]
    return MemoryUse(snapshots=1, snapshot_bytes=8 * n, snapshot_copies=0, inputs=9 * n, state=0, result=16 * n,
                     fields=16 * n, netcdf_variables=[8 * n] * 3, risk_add_bytes_per_cell=40,
                     member_map_bytes_per_cell=16)


def _apply_draw(scenario, draw):
    return scenario.toy.model_copy(update={"depth_m": scenario.toy.depth_m * draw.values.get("toy_scale", 1.0)})


TOY = Hazard(
    name="toy", block=ToySpec, block_required=None, check_scenario=lambda scenario: None,
    perturbations=(Perturbation("toy_scale", DrawnValue, 7, lambda spec, rng, sf, twin: spec.draw(rng),
                                heavier_when_larger=1.0),),
    apply_draw=_apply_draw, check_draws=lambda sf, draws: None, input_files=lambda sf: [],
    prepare=_prepare, simulate=_simulate, write=_write, member_maps=lambda result: dict(result),
    building_columns=lambda result: {}, fields=TOY_FIELDS,
    outputs=Outputs(geotiff=("toy_arrival",), snapshot="toy_depth", render_layer="toy_depth",
                    building_value="expected_toy_fraction"),
    risk=RiskSpec(member_maps=("toy_depth", "toy_arrival"), nan_means_never=("toy_arrival",),
                  probabilities=(Exceedance("toy_depth", (0.3, 0.5), toy_name,
                                            lambda t: f"probability of toy water over {t:g} m"),
                                 Within("toy_arrival", (60.0,))),
                  distributions=(Distribution("toy_depth", (50,), "m", "toy water depth", mean=True),),
                  impact=ToyImpact(), headline=(toy_name(0.5),),
                  summary=lambda maps, cell_area: {"expected_toy_area_m2": float(np.nansum(maps[toy_name(0.3)])
                                                                                 * cell_area)}),
    memory=_memory)

#: The project's hazards and the toy; its scenario classes live here, so scenarios pickle to workers.
REGISTRY = HAZARDS.with_hazard(TOY)
REGISTRY.home_models(globals())


def _toy_scenario(folder: Path, members: int = 3) -> Path:
    path = folder / "toy.yaml"
    path.write_text(f"""
name: toy-water
twin: {SAMPLE_TWIN}
hazard: toy
duration: 10 min
seed: 11
toy: {{depth_m: 0.4}}
ensemble:
  members: {members}
  perturb:
    toy_scale: {{uniform: {{low: 0.5, high: 1.8}}}}
""")
    return path


def test_a_third_hazard_runs_through_pipeline_risk_and_outputs(tmp_path):
    from twin.core.citytwin import load_twin
    from twin.pipeline.run import run_scenario

    path = _toy_scenario(tmp_path)
    run = run_scenario(path, out=tmp_path / "run", progress=False, workers=1, hazards=REGISTRY)

    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["hazard"] == "toy" and manifest["ensemble"]["members"] == 3
    assert {p.name for p in run.iterdir()} >= {"hazard.nc", "risk.nc", "toy_arrival.tif", "p_toy_over_0p5m.tif",
                                                "buildings.csv", "buildings.geojson", "summary.json", "twin.nc"}
    # the members drew scales of 0.4 m: P(depth > 0.5 m) on an open cell is the share of scales above 1.25
    sf = load_scenario(path, REGISTRY)
    twin = load_twin(SAMPLE_TWIN)
    scales = np.array([d.values["toy_scale"] for d in draw_members(sf, twin, TOY)])
    depths = 0.4 * scales
    with xr.open_dataset(run / "risk.nc") as risk, xr.open_dataset(run / "hazard.nc") as hazard:
        open_cells = (twin["domain_mask"].values == 1) & (twin["building_id"].values == 0)
        assert np.all(risk[toy_name(0.5)].values[open_cells] == np.mean(depths > 0.5))
        assert np.all(risk[toy_name(0.3)].values[open_cells] == np.mean(depths > 0.3))
        assert np.allclose(risk["toy_depth_mean"].values[open_cells], depths.mean(), rtol=0, atol=1e-6)
        assert risk["p_arrival_within_60s"].values[open_cells].min() == 1.0
        assert risk[toy_name(0.5)].attrs["long_name"] == "probability of toy water over 0.5 m"
        assert hazard["toy_depth"].attrs["units"] == "m"       # the control run: the scenario as written
        assert np.all(hazard["toy_depth"].values[0][open_cells] == 0.4)    # the snapshot at t = 0
    with open(run / "buildings.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    reached = [r for r in rows if int(r["n_ring_cells"]) > 0]
    assert reached and all(abs(float(r["expected_toy_fraction"]) - np.mean(np.minimum(depths, 1.0))) < 1e-5
                           for r in reached)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["hazard"] == "toy" and summary["risk"]["expected_toy_area_m2"] > 0
    assert summary["risk"]["expected_toy_loss_krw"] == pytest.approx(sum(float(r["expected_toy_loss_krw"])
                                                                         for r in rows), rel=1e-5)


def test_the_project_registry_does_not_know_the_toy(tmp_path):
    assert "toy" not in HAZARDS and "toy" in REGISTRY
    with pytest.raises(InputError) as err:
        load_scenario(_toy_scenario(tmp_path))
    assert "flood" in str(err.value) and "fire" in str(err.value)
    with pytest.raises(InputError, match="flood or fire"):
        get_hazard("toy")


def test_a_perturbation_of_another_hazard_is_refused(tmp_path):
    path = tmp_path / "flood.yaml"
    path.write_text(f"twin: {SAMPLE_TWIN}\nhazard: flood\nduration: 10 min\n"
                    "ensemble: {members: 2, perturb: {toy_scale: {uniform: {low: 0.5, high: 1.5}}}}\n")
    with pytest.raises(InputError, match="toy_scale applies to toy scenarios"):
        load_scenario(path, REGISTRY)


def test_registries_are_immutable():
    with pytest.raises(TypeError):
        HAZARDS["toy"] = TOY
    with pytest.raises(TypeError):
        TWIN_FIELDS["toy_depth"] = TOY_FIELDS["toy_depth"]
    with pytest.raises((TypeError, AttributeError)):
        HAZARDS._table["toy"] = TOY
    with pytest.raises(AttributeError):
        TOY.name = "other"
    with pytest.raises(ValueError, match="registered twice"):
        REGISTRY.with_hazard(TOY)
    clash = Perturbation("wind_bias", DrawnValue, 3, lambda *a: 0.0)        # stream 3 is fire's wind speed
    with pytest.raises(ValueError, match="unique"):
        HAZARDS.with_hazard(replace(TOY, name="other", perturbations=(clash,)))


def test_field_lookup_needs_no_import_side_effects():
    """Every field is declared once the registry module is imported: nothing registers at run time."""
    code = ("from twin.hazards.registry import HAZARDS; f = HAZARDS.fields['ignition_probability']; "
            "print(f.units, len(HAZARDS.fields))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == "1"
    with pytest.raises(KeyError, match="declared fields: .*arrival_time"):
        HAZARDS.fields["no_such_field"]
