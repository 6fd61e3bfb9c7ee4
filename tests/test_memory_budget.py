"""Tests of twin.pipeline.budget: the whole-run estimate (memory peak and disk) and the check that it fits.

Fast: only scenario files and raster headers are read; nothing runs. The estimate's figures are
checked against measured peaks by bench/memory_peak.py (bench/README.md, "Memory: estimate
against measured peak").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS

from twin.core.citytwin import estimate_memory, load_twin, save_twin
from twin.core.errors import InputError
from twin.core.grid import Grid
from twin.core.remap import conservative_remap, remap_memory
from twin.hazards.flood.forcing import output_times
from twin.hazards.fire.memory import snapshot_count as fire_snapshots
from twin.hazards.flood.memory import snapshot_count as flood_snapshots
from twin.pipeline.budget import GiB, Budget, check_run_fits, estimate_run, nearest_existing, scenario_grid
from twin.hazards.registry import get_hazard, load_scenario
from twin.scenario.schema import ScenarioFile

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml")) + sorted((ROOT / "scenarios" / "nightly").glob("*.yaml"))
SAMPLE_GRID = (500, 500)


def _with(sf: ScenarioFile, **output) -> ScenarioFile:
    """The scenario with some ``output:`` keys changed."""
    sc = sf.scenario.model_copy(update={"output": sf.scenario.output.model_copy(update=output)})
    return ScenarioFile(sc, sf.path, sf.lines)


def grid_of(shape: tuple[int, int], cell: float = 5.0) -> Grid:
    """A north-up grid of ``shape`` with ``cell`` metre cells in the sample city's CRS."""
    return Grid(tuple(shape), Affine(cell, 0.0, 230000.0, 0.0, -cell, 420000.0), CRS.from_epsg(5186))


@pytest.fixture(scope="module")
def flash() -> ScenarioFile:
    return load_scenario(ROOT / "scenarios" / "sample_flash_flood.yaml")


def test_one_second_snapshots_over_a_day_do_not_fit(flash):
    sf = _with(flash, every=1.0).with_duration(86400.0)
    budget = estimate_run(sf, grid_of(SAMPLE_GRID))
    assert budget.snapshots == 86401
    # the snapshots alone: 86401 x 500 x 500 float32 = 80.5 GiB, held in memory until hazard.nc is written
    assert budget.total > 50 * GiB
    assert budget.component("snapshots") >= 86401 * 500 * 500 * 4
    assert dict(budget.disk)["hazard.nc snapshots"] == 86401 * 500 * 500 * 4
    with pytest.raises(InputError) as err:
        check_run_fits(budget, sf.path, available_memory=24 * GiB)
    text = str(err.value)
    assert err.value.field == "output.every"
    assert "sample_flash_flood.yaml" in text and "output.every" in text
    assert "the run needs about" in text and "snapshots" in text and "24.0 GiB is available" in text
    # given the ScenarioFile, the error carries the line of output.every
    with pytest.raises(InputError) as err:
        check_run_fits(budget, sf, available_memory=24 * GiB)
    assert err.value.line == sf.lines[("output", "every")]


def test_snapshot_count_drives_the_estimate(flash):
    totals = [estimate_run(_with(flash, every=every), grid_of(SAMPLE_GRID)).total for every in (3600.0, 600.0, 60.0, 10.0)]
    assert totals == sorted(totals) and len(set(totals)) == 4
    few, many = (estimate_run(_with(flash, every=e), grid_of((2000, 2000))) for e in (600.0, 60.0))
    extra = (many.snapshots - few.snapshots) * 2000 * 2000 * 4
    # at least the snapshots themselves (and their copies while hazard.nc is written)
    assert many.total - few.total >= extra


def test_snapshot_count_matches_the_models(flash):
    for duration, every in ((7200.0, 600.0), (7000.0, 600.0), (120.0, 20.0), (86400.0, 1.0)):
        sf = _with(flash, every=every).with_duration(duration)
        assert flood_snapshots(sf) == output_times(duration, every).size
    fire = load_scenario(ROOT / "scenarios" / "sample_wildland_fire.yaml")
    for duration, every in ((10800.0, 900.0), (3600.0, 1000.0)):
        sf = _with(fire, every=every).with_duration(duration)
        # twin.hazards.fire.model.simulate_fire: 0, every, ... below the duration, and the duration
        assert fire_snapshots(sf) == np.unique(np.append(np.arange(0.0, duration, every), duration)).size


@pytest.mark.parametrize("name", ["sample_flash_flood", "sample_wildland_fire"])
def test_estimate_grows_with_grid_size(name):
    sf = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    totals = [estimate_run(sf, grid_of((n, n))).total for n in (100, 500, 1000, 2000, 5000)]
    assert all(a < b for a, b in zip(totals, totals[1:]))
    disks = [estimate_run(sf, grid_of((n, n))).disk_total for n in (100, 500, 1000, 2000, 5000)]
    assert all(a < b for a, b in zip(disks, disks[1:]))


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_estimate_is_monotone_in_members(flash, workers):
    totals = [estimate_run(flash, grid_of((1000, 1000)), members=m, workers=workers).total for m in (1, 2, 4, 8, 50)]
    assert all(a <= b for a, b in zip(totals, totals[1:]))
    disks = [estimate_run(flash, grid_of((1000, 1000)), members=m, workers=workers).disk_total for m in (1, 2, 4, 8, 50)]
    assert all(a < b for a, b in zip(disks, disks[1:]))   # spilled member maps


def test_members_on_an_external_cluster_are_not_counted_here(flash):
    # without rendering: with it the rendering phase (after the workers are gone) is the peak at 1000^2
    local = estimate_run(flash, grid_of((1000, 1000)), members=8, workers=2, render=False)
    remote = estimate_run(flash, grid_of((1000, 1000)), members=8, workers=2, scheduler="tcp://10.0.0.5:8786", render=False)
    assert remote.total < local.total
    with_render = estimate_run(flash, grid_of((1000, 1000)), members=8, workers=2, scheduler="tcp://10.0.0.5:8786")
    assert dict(with_render.phases)["risk reduction"] < dict(estimate_run(flash, grid_of((1000, 1000)), members=8,
                                                                          workers=2).phases)["risk reduction"]
    assert local.component("dask workers") > 0 and remote.component("dask workers") == 0


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenarios_fit(path):
    sf = load_scenario(path)
    budget = estimate_run(sf, scenario_grid(sf))
    # a 4 GiB machine with 1 GiB of free disk runs every shipped scenario
    check_run_fits(budget, sf.path, available_memory=4 * GiB, free_disk=GiB)
    assert budget.total < 0.8 * 4 * GiB


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_components_sum_to_total(path):
    sf = load_scenario(path)
    budget = estimate_run(sf, scenario_grid(sf))
    assert isinstance(budget, Budget)
    assert budget.total == sum(b for _, b in budget.components) > 0
    assert budget.disk_total == sum(b for _, b in budget.disk) > 0
    assert all(b > 0 for _, b in budget.components)
    assert dict(budget.phases)[budget.phase] == budget.total == max(dict(budget.phases).values())
    line = budget.describe()
    assert "\n" not in line and budget.phase in line and ("GiB" in line or "MiB" in line)
    # never below the old check (twin + one flood loop)
    assert budget.total > estimate_memory(scenario_grid(sf).shape)


def test_budget_is_frozen(flash):
    budget = estimate_run(flash, grid_of(SAMPLE_GRID))
    with pytest.raises(Exception):
        budget.phase = "x"  # type: ignore[misc]


def test_rendering_counts_when_it_runs(flash):
    with_render = estimate_run(flash, grid_of((2000, 2000)), render=True)
    without = estimate_run(flash, grid_of((2000, 2000)), render=False)
    assert with_render.total > without.total
    assert with_render.phase == "rendering" and "rendering" not in dict(without.phases)


def test_fire_snapshots_are_bytes(flash):
    fire = load_scenario(ROOT / "scenarios" / "sample_wildland_fire.yaml")
    a, b = (estimate_run(_with(fire, every=e), grid_of((1000, 1000))) for e in (900.0, 90.0))
    assert dict(b.disk)["hazard.nc snapshots"] - dict(a.disk)["hazard.nc snapshots"] == \
        (b.snapshots - a.snapshots) * 1000 * 1000


def test_disk_check_uses_the_nearest_existing_folder(flash, tmp_path):
    sf = _with(flash, every=1.0).with_duration(86400.0)
    budget = estimate_run(sf, grid_of(SAMPLE_GRID))
    out = tmp_path / "not" / "yet" / "there"
    assert nearest_existing(out) == tmp_path
    with pytest.raises(InputError) as err:
        check_run_fits(budget, sf.path, available_memory=2**50, free_disk=10 * GiB, out_dir=out)
    assert err.value.field == "output.every" and "is free" in str(err.value)
    check_run_fits(budget, sf.path, available_memory=2**50, free_disk=100 * GiB, out_dir=out)


def test_a_big_grid_names_the_twin(flash):
    budget = estimate_run(flash, grid_of((20000, 20000)), render=False)
    with pytest.raises(InputError) as err:
        check_run_fits(budget, flash.path, available_memory=24 * GiB)
    assert err.value.field == "twin" and "coarser cell size" in str(err.value)


def test_scenario_grid_reads_headers_only(flash, tmp_path):
    assert scenario_grid(flash).shape == SAMPLE_GRID
    twin = load_twin(flash.twin_source())
    nc = save_twin(twin, tmp_path / "twin.nc")
    sc = flash.scenario.model_copy(update={"twin": str(nc)})
    assert scenario_grid(ScenarioFile(sc, flash.path, flash.lines)) == scenario_grid(flash)
    sc = flash.scenario.model_copy(update={"twin": str(tmp_path / "missing.yaml")})
    with pytest.raises(InputError):
        scenario_grid(ScenarioFile(sc, flash.path, flash.lines))


def test_the_rainfall_remap_is_counted_as_measured(flash, tmp_path):
    """The remap a gridded rainfall holds through the run is counted byte for byte, and its build
    peak is within the counted setup temporaries (tracemalloc)."""
    import tracemalloc

    from twin.hazards.flood.members import with_forecast
    from twin.io.rainfall import read_forecast
    from twin.samples.forecast import write_sample_forecast

    file = write_sample_forecast(tmp_path / "forecast.nc", members=2, hours=2)
    grid = scenario_grid(flash)
    forecast = read_forecast(file)
    tracemalloc.start()
    try:
        remap = conservative_remap(forecast.x, forecast.y, forecast.crs, grid)
        build_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    m = remap.matrix
    held, build = remap_memory(forecast.x, forecast.y, forecast.crs, grid)
    assert held == m.data.nbytes + m.indices.nbytes + m.indptr.nbytes
    assert held < build_peak <= build

    gridded = with_forecast(flash, file, "rainfall")
    plain, rained = (get_hazard("flood").memory(sf, grid) for sf in (flash, gridded))
    rain_fields = 8 * (forecast.edges.size - 1) * grid.shape[0] * grid.shape[1]
    assert rained.inputs - plain.inputs == rain_fields + held
    assert rained.setup_temporaries == build - held
    phases = dict(estimate_run(gridded, grid).phases)
    assert phases["hazard setup"] > dict(estimate_run(flash, grid).phases)["hazard setup"]
