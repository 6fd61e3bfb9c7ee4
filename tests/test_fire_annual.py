"""The fire's annual burn probability (issue #19): ``fire.annual_ignition_frequency_per_year`` (lambda,
ignitions per year) and each cell's burn probability p over the members give P_annual = 1 - exp(-lambda p)
(Poisson arrivals, thinned by p: twin/risk/annual.py), written to risk.nc in yr-1 with CF attributes.

The run: a grass valley of 40 x 60 cells of 10 m, one ignition jittered over 4 members, 30 min.
"""

from __future__ import annotations

import importlib.util
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from conftest import ORIGIN, write_raster, write_valley_twin
from twin.cli import main
from twin.core.classes import LANDCOVER
from twin.hazards.registry import get_hazard
from twin.pipeline.run import load_run_scenario, run_scenario
from twin.risk.annual import annual_probability

RATE = 0.5  # ignitions per year


def fire_scenario(folder: Path, annual: str | None = f"{RATE}") -> Path:
    """A grass valley (its twin written once into ``folder/twin``) and a 4-member fire scenario on it."""
    twin = folder / "twin" / "twin.yaml"
    if not twin.exists():
        write_valley_twin(twin.parent)
        write_raster(twin.parent / "landcover.tif", np.full((40, 60), LANDCOVER["grass"], np.uint8))
        manifest = yaml.safe_load(twin.read_text())
        manifest["rasters"]["landcover"] = "landcover.tif"
        twin.write_text(yaml.safe_dump(manifest))
    key = f"\n  annual_ignition_frequency_per_year: {annual}" if annual is not None else ""
    path = folder / f"fire_{annual}.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: valley-fire
        twin: {twin}
        hazard: fire
        duration: 30 min
        fire:
          ignitions: [{{at: [{ORIGIN[0] + 300}, {ORIGIN[1] - 200}]}}]
          wind: {{speed_m_s: 5, from_deg: 270}}""") + key + textwrap.dedent("""
        ensemble:
          members: 4
          perturb: {ignition: {jitter_m: 15}}
        output: {every: 10 min}
        render: {enabled: false}
        """), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def fire_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fire_annual")
    return run_scenario(fire_scenario(folder), out=folder / "run", progress=False, workers=1)


def test_annual_probability_is_one_minus_exp_of_minus_rate_times_probability():
    p = np.array([0.0, 0.25, 0.5, 1.0, np.nan])
    assert annual_probability(0.5, p)[:4] == pytest.approx([0.0, 1 - math.exp(-0.125), 1 - math.exp(-0.25),
                                                             1 - math.exp(-0.5)], rel=1e-15, abs=0)
    assert annual_probability(0.5, 0.5) == pytest.approx(0.22119921692859512, rel=1e-15)   # 1 - e^-0.25
    assert np.isnan(annual_probability(0.5, p)[4])                                         # outside the domain
    assert np.all(annual_probability(0.0, p[:4]) == 0.0)
    assert annual_probability(1e-6, 1.0) == pytest.approx(1e-6 - 0.5e-12, rel=1e-12)      # ~ lambda p when small
    assert annual_probability(20.0, 1.0) == pytest.approx(1.0, abs=1e-8) and annual_probability(20.0, 1.0) < 1.0
    for bad in (-0.1, math.inf, math.nan):
        with pytest.raises(ValueError, match="finite and >= 0"):
            annual_probability(bad, p)


def test_the_run_writes_the_annual_burn_probability_of_each_cell(fire_run):
    with xr.open_dataset(fire_run / "risk.nc") as ds:
        p, annual = ds["burn_probability"].values, ds["annual_burn_probability"]
        values, attrs = annual.values, dict(annual.attrs)
    assert len(np.unique(p[np.isfinite(p)])) >= 4, "members disagree: several burn probabilities"
    np.testing.assert_allclose(values, 1.0 - np.exp(-RATE * p), rtol=1e-14, atol=0)
    assert np.array_equal(np.isnan(values), np.isnan(p))
    assert attrs["units"] == "yr-1" and attrs["long_name"].startswith("annual burn probability")
    assert "1 - exp(-lambda p)" in attrs["long_name"] and attrs["grid_mapping"] == "spatial_ref"


@pytest.mark.skipif(importlib.util.find_spec("cfchecker") is None, reason="cfchecker is not installed (test extra)")
def test_the_risk_file_with_the_annual_map_passes_the_cf_checker(fire_run):
    from test_cf_compliance import cf_problems
    assert cf_problems(fire_run / "risk.nc") == []


def test_without_the_key_no_annual_map_is_written(tmp_path):
    scenario = load_run_scenario(fire_scenario(tmp_path, annual=None)).scenario
    assert scenario.fire.annual_ignition_frequency_per_year is None
    risk = get_hazard("fire").risk
    maps = {"burn_probability": np.array([[0.5]])}
    assert risk.with_annual(maps, scenario) == maps
    given = load_run_scenario(fire_scenario(tmp_path)).scenario
    assert risk.with_annual(maps, given)["annual_burn_probability"] == pytest.approx(1 - math.exp(-0.25), rel=1e-15)


@pytest.mark.parametrize("value, found", [("-0.5", "greater than or equal to 0"), (".inf", "finite number"),
                                          ("often", "valid number")])
def test_a_bad_ignition_frequency_is_refused_at_its_line(tmp_path, capsys, value, found):
    path = fire_scenario(tmp_path, annual=value)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "fire.annual_ignition_frequency_per_year" in err and found in err and "(line 8)" in err, err
