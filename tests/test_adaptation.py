"""Adaptation measures: the physics each must honour, and the strategy file's bad input.

Tiny twins (10 m cells, tens of cells a side): a channel sloping east for the wall and the sinks, the
valley of ``conftest.write_valley_twin`` for the buildings, a grass field for the fire.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import ORIGIN, write_manifest, write_raster, write_valley_twin
from twin.adaptation.adapted import adapted_hazard
from twin.adaptation.measures import plan_strategy, site_of
from twin.adaptation.schema import read_strategy
from twin.cli import main
from twin.core.citytwin import load_twin
from twin.core.classes import FIRE_RESISTANT_SHARE_BY_USE, LANDCOVER
from twin.hazards.fire.model import _hamada_inputs
from twin.hazards.registry import get_hazard, load_scenario
from twin.risk.exposure import building_table
from twin.risk.impact import MemberStatistics
from twin.risk.vulnerability import damage_fraction, load_curves

X0, Y0 = ORIGIN
CLOSED = {"north": "closed", "south": "closed", "east": "closed", "west": "closed"}


def _yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _channel(folder: Path) -> Path:
    """10 x 30 cells, ground falling 0.05 m per cell eastwards from 50 m, no buildings."""
    z = (50.0 - 0.05 * np.arange(30))[None, :] + np.zeros((10, 1))
    write_raster(folder / "dem.tif", z.astype(np.float32))
    write_raster(folder / "height.tif", np.zeros((10, 30), np.float32))
    return write_manifest(folder / "twin.yaml", {"elevation": "dem.tif", "building_height": "height.tif"})


def _planned(folder: Path, scenario: dict, measures: list, twin=None):
    """The scenario, its hazard, the twin, and the hazard adapted with ``measures``."""
    sf = load_scenario(_yaml(folder / "scenario.yaml", scenario))
    hazard = get_hazard(sf.scenario.hazard)
    twin = load_twin(sf.twin_source(), base_dir=sf.folder) if twin is None else twin
    st = read_strategy(_yaml(folder / "strategy.yaml", {"name": "s", "measures": measures}))
    return sf, hazard, twin, adapted_hazard(hazard, plan_strategy(st, hazard, site_of(twin)))


def _wall_run(tmp_path, discharge_m3_s):
    """An inflow on the west side of a north-south wall of crest 51 m (ground 49.2-49.3 m at the wall)."""
    _channel(tmp_path)
    scenario = {"twin": "twin.yaml", "hazard": "flood", "duration": "20 min",
                "flood": {"inflows": [{"name": "in", "at": [X0 + 15, Y0 - 55], "times": [0, 1200],
                                       "discharge_m3_s": [discharge_m3_s, discharge_m3_s]}], "boundaries": CLOSED},
                "output": {"every": "10 min"}}
    wall = {"type": "floodwall", "line": [[X0 + 155, Y0 - 1], [X0 + 155, Y0 - 99]], "crest_m": 51.0}
    sf, hazard, twin, adapted = _planned(tmp_path, scenario, [wall])
    return (adapted.simulate(adapted.prepare(sf, twin), sf, False),
            hazard.simulate(hazard.prepare(sf, twin), sf, False))


def test_floodwall_below_its_crest_blocks_the_water(tmp_path):
    """600 m3 on the west side stays below the 51 m crest: no water east of the wall, which the baseline wets."""
    wall, baseline = _wall_run(tmp_path, 0.5)
    assert baseline.max_depth[:, 16:].max() > 0.05
    assert wall.max_depth[:, 16:].max() == 0.0
    assert wall.ledger.inflow_in == pytest.approx(600.0, rel=1e-12)
    assert abs(wall.ledger.closure_error) <= 1e-9 * wall.ledger.inflow_in


def test_floodwall_above_its_crest_is_overtopped(tmp_path):
    """36 000 m3 fill the west side (20 250 m3 to the crest) past 51 m: the water overtops and wets the east."""
    wall, _ = _wall_run(tmp_path, 30.0)
    level = wall.final_depth[:, :15] + (50.0 - 0.05 * np.arange(15))
    assert level.max() > 51.0
    assert wall.max_depth[:, 16:].min() > 0.1
    assert abs(wall.ledger.closure_error) <= 1e-9 * wall.ledger.inflow_in


def _valley_buildings(tmp_path):
    """The valley twin, its building table, and an area holding the first building only."""
    manifest = write_valley_twin(tmp_path)
    twin = load_twin(manifest)
    table = building_table(twin)
    first = [[X0 + 195, Y0 - 95], [X0 + 265, Y0 - 95], [X0 + 265, Y0 - 145], [X0 + 195, Y0 - 145]]
    return twin, table, first


def _impact_columns(tmp_path, measure, depth_m):
    twin, table, first = _valley_buildings(tmp_path)
    scenario = {"twin": "twin.yaml", "hazard": "flood", "duration": "1 min"}
    _, hazard, _, adapted = _planned(tmp_path, scenario, [{**measure, "where": {"area": first}}], twin)
    samples = {"depth_max": np.full((1, table.n), depth_m), "depth_mean": np.full((1, table.n), depth_m),
               "exposed": np.ones((1, table.n))}
    stats = MemberStatistics(np.ones(1, dtype=np.int64))
    base, _ = hazard.risk.impact.columns(table, samples, stats)
    changed, _ = adapted.risk.impact.columns(table, samples, stats)
    return table, base, changed


def test_elevating_a_building_raises_the_floor_the_depth_is_measured_from(tmp_path):
    table, base, raised = _impact_columns(tmp_path, {"type": "elevate_buildings", "by_m": 0.4}, 1.5)
    floor = table.first_floor_height_m
    np.testing.assert_allclose(raised["expected_depth_above_floor_m"], [1.5 - floor[0] - 0.4, 1.5 - floor[1]])
    np.testing.assert_array_equal(raised["expected_depth_above_floor_m"][1], base["expected_depth_above_floor_m"][1])
    expected = damage_fraction(np.array([1.5 - floor[0] - 0.4]), table.use[:1], load_curves())
    np.testing.assert_allclose(raised["expected_damage_fraction"][0], expected[0])
    assert raised["expected_flood_loss_krw"][0] < base["expected_flood_loss_krw"][0]


@pytest.mark.parametrize("above_floor_m, damaged", [(0.3, False), (0.59, False), (0.61, True), (1.5, True)])
def test_floodproofing_sets_the_damage_to_zero_up_to_its_height(tmp_path, above_floor_m, damaged):
    table = building_table(load_twin(write_valley_twin(tmp_path)))
    depth = above_floor_m + table.first_floor_height_m[0]
    table, base, proofed = _impact_columns(tmp_path, {"type": "floodproof", "up_to_m": 0.6}, depth)
    assert base["expected_damage_fraction"][0] > 0
    want = base["expected_damage_fraction"][0] if damaged else 0.0
    assert proofed["expected_damage_fraction"][0] == want
    np.testing.assert_array_equal(proofed["expected_damage_fraction"][1], base["expected_damage_fraction"][1])


def _pond(tmp_path, measures):
    """A closed channel holding 0.2 m of water everywhere at the start, run 10 min with ``measures``."""
    _channel(tmp_path)
    scenario = {"twin": "twin.yaml", "hazard": "flood", "duration": "10 min",
                "flood": {"initial_depth_m": 0.2, "boundaries": CLOSED}, "output": {"every": "10 min"}}
    sf, hazard, twin, adapted = _planned(tmp_path, scenario, measures)
    return (adapted.simulate(adapted.prepare(sf, twin), sf, False),
            hazard.simulate(hazard.prepare(sf, twin), sf, False), adapted.prepare(sf, twin)["model"])


def test_a_pump_is_a_drainage_term_of_the_ledger_up_to_its_capacity(tmp_path):
    pump = {"type": "pump", "at": [X0 + 255, Y0 - 55], "capacity_m3_s": 0.05}
    res, base, _ = _pond(tmp_path, [pump])
    assert base.ledger.drainage == 0.0
    assert 0.0 < res.ledger.drainage <= 0.05 * 600 * (1 + 1e-12)
    assert res.ledger.drainage == pytest.approx(0.05 * 600, rel=1e-9)  # water stands at the pump all along
    assert abs(res.ledger.closure_error) <= 1e-9 * res.ledger.storage_initial
    assert res.ledger.storage_final == pytest.approx(res.ledger.storage_initial - res.ledger.drainage, rel=1e-12)


def test_green_land_adds_an_infiltration_sink_to_the_ledger(tmp_path):
    area = [[X0 + 100, Y0], [X0 + 200, Y0], [X0 + 200, Y0 - 100], [X0 + 100, Y0 - 100]]
    res, base, model = _pond(tmp_path, [{"type": "green_roofs_and_parks", "area": area, "infiltration_mm_h": 36}])
    assert base.ledger.infiltration == 0.0
    rate = 36e-3 / 3600
    np.testing.assert_array_equal(model.loss_rate[:, 10:20], rate)
    assert model.loss_rate[:, :10].max() == 0.0 and model.loss_rate[:, 20:].max() == 0.0
    assert 0.0 < res.ledger.infiltration <= 100 * rate * 100 * 600 * (1 + 1e-12)
    assert abs(res.ledger.closure_error) <= 1e-9 * res.ledger.storage_initial


def test_green_storage_is_a_retained_sink_of_the_ledger_up_to_its_capacity(tmp_path):
    """40 mm of storage under 200 mm of standing water fills completely, once: 40 mm x the area retained."""
    area = [[X0 + 100, Y0], [X0 + 200, Y0], [X0 + 200, Y0 - 100], [X0 + 100, Y0 - 100]]
    res, base, model = _pond(tmp_path, [{"type": "green_roofs_and_parks", "area": area, "storage_mm": 40}])
    assert base.ledger.retained == 0.0 and res.ledger.infiltration == 0.0
    assert res.ledger.retained == pytest.approx(0.04 * 100 * 100.0, rel=1e-12)
    assert abs(res.ledger.closure_error) <= 1e-9 * res.ledger.storage_initial
    assert res.ledger.storage_final == pytest.approx(res.ledger.storage_initial - 400.0, rel=1e-12)


def test_a_retention_basin_lowers_the_bed_by_its_volume(tmp_path):
    area = [[X0 + 100, Y0 - 20], [X0 + 140, Y0 - 20], [X0 + 140, Y0 - 60], [X0 + 100, Y0 - 60]]
    res, base, model = _pond(tmp_path, [{"type": "retention_basin", "area": area, "volume_m3": 800}])
    z0 = ((50.0 - 0.05 * np.arange(30))[None, :] + np.zeros((10, 1))).astype(np.float32)  # the terrain's
    lowered = z0 - model.z
    assert lowered.sum() * 100.0 == pytest.approx(800.0, rel=1e-12)
    np.testing.assert_allclose(lowered[2:6, 10:14], 0.5, rtol=1e-12)
    assert np.count_nonzero(lowered) == 16
    assert abs(res.ledger.closure_error) <= 1e-9 * res.ledger.storage_initial


def _grass_twin(folder: Path, buildings: bool = False) -> Path:
    """20 x 40 cells of grass (10 m), flat; with ``buildings``, a 4 x 4 block of residential 2 x 2 houses."""
    lc = np.full((20, 40), LANDCOVER["grass"], np.int8)
    height = np.zeros((20, 40), np.float32)
    if buildings:
        for r in range(4, 16, 3):
            for c in range(24, 36, 3):
                height[r:r + 2, c:c + 2] = 6.0
        lc[height > 0] = LANDCOVER["building"]
    write_raster(folder / "dem.tif", np.full((20, 40), 50.0, np.float32))
    write_raster(folder / "height.tif", height)
    write_raster(folder / "lc.tif", lc)
    return write_manifest(folder / "twin.yaml", {"elevation": "dem.tif", "building_height": "height.tif",
                                                 "landcover": "lc.tif"})


def test_a_firebreak_stops_the_spread_without_spotting(tmp_path):
    _grass_twin(tmp_path)
    scenario = {"twin": "twin.yaml", "hazard": "fire", "duration": "40 min",
                "fire": {"ignitions": [{"at": [X0 + 55, Y0 - 105], "time": 0}],
                         "wind": {"speed_m_s": 6, "from_deg": 270}}, "output": {"every": "10 min"}}
    brk = {"type": "firebreak", "line": [[X0 + 200, Y0 - 0.5], [X0 + 200, Y0 - 199.5]], "width_m": 20}
    sf, hazard, twin, adapted = _planned(tmp_path, scenario, [brk])
    inputs = adapted.prepare(sf, twin)
    assert np.all(inputs.fuel_model[:, 19:21] == 99)
    cut = adapted.simulate(inputs, sf, False)
    base = hazard.simulate(hazard.prepare(sf, twin), sf, False)
    assert np.isfinite(base.arrival_time[:, 25:]).all()
    assert not np.isfinite(cut.arrival_time[:, 19:]).any()
    assert np.isfinite(cut.arrival_time[:, 10:18]).all()


def test_a_retrofit_raises_the_fire_resistant_share_of_hamada(tmp_path):
    _grass_twin(tmp_path, buildings=True)
    scenario = {"twin": "twin.yaml", "hazard": "fire", "duration": "10 min",
                "fire": {"ignitions": [{"at": [X0 + 55, Y0 - 105], "time": 0}], "wind": {"speed_m_s": 6,
                                                                                       "from_deg": 270}}}
    block = [[X0 + 235, Y0 - 35], [X0 + 365, Y0 - 35], [X0 + 365, Y0 - 165], [X0 + 235, Y0 - 165]]
    retrofit = {"type": "fire_resistant_retrofit", "where": {"area": block}, "share": 0.95}
    sf, hazard, twin, adapted = _planned(tmp_path, scenario, [retrofit])
    inputs = adapted.prepare(sf, twin)
    building = inputs.building_id > 0
    np.testing.assert_array_equal(inputs.fire_resistant_share[building], 0.95)
    assert np.isnan(inputs.fire_resistant_share[~building]).all()
    args = (inputs.building_id, inputs.building_use, inputs.dx, inputs.hamada_window_m)
    f_base, f_new = _hamada_inputs(*args)[2], _hamada_inputs(*args, inputs.fire_resistant_share)[2]
    np.testing.assert_allclose(f_base[building], FIRE_RESISTANT_SHARE_BY_USE["residential"])
    np.testing.assert_allclose(f_new[building], 0.95)


# --- bad input: exit 2 naming the file, the YAML path and the line -----------------------------------------


def _bad(tmp_path, capsys, measure: dict, needle: str, hazard: str = "flood"):
    _channel(tmp_path)
    scenario = _yaml(tmp_path / "scenario.yaml", {"twin": "twin.yaml", "hazard": hazard, "duration": "1 min",
                                                   **({"fire": {"ignitions": [{"at": [X0 + 55, Y0 - 55]}]}}
                                                      if hazard == "fire" else {})})
    strategy = tmp_path / "strategy.yaml"
    strategy.write_text(f"name: s\nmeasures:\n  - {yaml.safe_dump(measure, default_flow_style=True, width=10000).strip()}\n",
                        encoding="utf-8")
    code = main(["compare", str(scenario), "--strategy", str(strategy), "--out", str(tmp_path / "out"),
                 "--no-render", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert str(strategy) in err and "measures[0]" in err and "(line 3)" in err and needle in err, err
    assert not (tmp_path / "out").exists()


WALL = {"type": "floodwall", "line": [[X0 + 155, Y0 - 1], [X0 + 155, Y0 - 99]], "crest_m": 51.0}


@pytest.mark.parametrize("measure, needle", [
    ({**WALL, "line": [[X0 + 155, Y0 - 1], [X0 + 955, Y0 - 99]]}, "reaches outside the twin"),
    ({**WALL, "line": [[X0 + 155, Y0 - 1]]}, "at least 2 points"),
    ({**WALL, "crest_m": 45.0}, "at or below the ground on every cell"),
    ({**WALL, "type": "moat"}, "moat"),
    ({**WALL, "colour": "grey"}, "unknown key"),
    ({**WALL, "cost_krw": -5.0}, "greater than or equal to 0"),
    ({"type": "pump", "at": [X0 + 55, Y0 - 55], "capacity_m3_s": -1.0}, "greater than 0"),
    ({"type": "retention_basin", "area": [[X0, Y0], [X0 + 10, Y0], [X0 + 10, Y0 - 10]], "volume_m3": 0},
     "greater than 0"),
    ({"type": "pump", "at": [X0 - 55, Y0 - 55], "capacity_m3_s": 1.0}, "outside the twin"),
])
def test_bad_measures_exit_2_with_file_path_and_line(tmp_path, capsys, measure, needle):
    _bad(tmp_path, capsys, measure, needle)


def test_a_measure_the_hazard_does_not_take_is_refused(tmp_path, capsys):
    _bad(tmp_path, capsys, WALL, "floodwall does not apply to a fire scenario", hazard="fire")
