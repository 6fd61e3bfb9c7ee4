"""Buildings: ring depth from neighbouring open cells, first-floor heights, values, per-building streaming
risk (damage only where water reaches the wet threshold, above the floor), GeoJSON footprints."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import xarray as xr
from affine import Affine
from rasterio.crs import CRS

from conftest import write_manifest, write_raster

from twin.hazards.fire import FIRE
from twin.hazards.flood import FLOOD
from twin.risk.exposure import (FIRST_FLOOR_HEIGHT, any_in_ring, building_table, depth_at_buildings, ring_cells,
                                 write_geojson)
from twin.risk.impact import BuildingRiskAccumulator
from twin.core.citytwin import build_dataset, open_twin, save_twin
from twin.core.fields import cf_attrs
from twin.risk.vulnerability import damage_fraction, load_curves, load_values
from twin.core.errors import InputError, RunError
from twin.core.grid import Grid
from twin.pipeline.run import run_scenario
from twin.risk.summary import risk_summary

SHAPE = (9, 12)
CELL = 5.0
WEST, NORTH = 234_000.0, 416_000.0
#: The wet threshold (m) of the members built here (the flood schema's default).
WET = 0.05
#: The default first-floor height (m) of every use (twin/risk/data/building_values.yaml).
FLOOR = 0.3048


def small_twin(building_id=None, use=None, domain_col=None):
    """A 9 x 12 twin, 5 m cells: building 1 rows 2-3, cols 2-4 (9 m); building 2 at row 6, col 8 (4 m).

    ``domain_col``: columns from this one eastwards are outside the domain.
    """
    height = np.zeros(SHAPE)
    height[2:4, 2:5] = 9.0
    height[6, 8] = 4.0
    arrays = {"elevation": np.zeros(SHAPE), "building_height": height}
    if building_id is not None:
        arrays["building_id"] = building_id
    if use is not None:
        arrays["building_use"] = use
    outside = np.zeros(SHAPE, bool)
    if domain_col is not None:
        outside[:, domain_col:] = True
    grid = Grid(SHAPE, Affine(CELL, 0, WEST, 0, -CELL, NORTH), CRS.from_epsg(5186))
    return build_dataset(grid, arrays, outside=outside)


def test_ring_is_the_touching_open_cells():
    """A 2 x 3 footprint touches 10 cells through edges and 14 through edges or corners."""
    twin = small_twin()
    bid, domain = twin["building_id"].values, twin["domain_mask"].values == 1
    for connectivity, n in ((4, 10 + 4), (8, 14 + 8)):   # building 2 (one cell): 4 or 8
        cells, ids = ring_cells(bid, domain, connectivity)
        assert cells.size == n
        assert np.all(bid.ravel()[cells] == 0)
    cells, ids = ring_cells(bid, domain, 8)
    rows, cols = np.unravel_index(cells[ids == 1], SHAPE)
    assert set(zip(rows.tolist(), cols.tolist())) == (
        {(r, c) for r in (1, 4) for c in range(1, 6)} | {(r, c) for r in (2, 3) for c in (1, 5)})


def test_building_depth_comes_from_neighbours_only():
    """Depth on the footprint and away from the ring is ignored; max and mean over the ring."""
    twin = small_twin()
    table = building_table(twin)
    depth = np.zeros(SHAPE)
    depth[2:4, 2:5] = 9.9          # on building 1: never used
    depth[0, :] = 5.0              # two rows away: not in the ring
    depth[1, 1] = 0.7              # ring corner cell
    depth[4, 3] = 0.35             # ring edge cell
    peak, mean = depth_at_buildings(table, depth)
    assert peak.tolist() == [0.7, 0.0]
    assert mean[0] == pytest.approx((0.7 + 0.35) / 14, rel=1e-15)
    depth[5, 7] = -0.1
    with pytest.raises(RunError, match="row 5, col 7 next to building 2"):
        depth_at_buildings(table, depth)


def test_ring_skips_cells_outside_the_domain():
    twin = small_twin(domain_col=6)     # building 1 (cols 2-4) keeps col 5; building 2 at col 8 is gone
    table = building_table(twin)
    assert table.building_id.tolist() == [1]
    assert table.n_ring_cells.tolist() == [14]
    twin = small_twin(domain_col=5)     # the east ring column (col 5) is outside
    assert building_table(twin).n_ring_cells.tolist() == [10]


def test_table_floor_area_value_and_use():
    """Floor area = footprint x storeys (9 m / 3 m = 3; 4 m -> 1); value = floor area x unit value of the use."""
    use = np.zeros(SHAPE, np.int8)
    use[2:4, 2:5] = 2
    use[2, 2] = 3                      # one industrial cell in a commercial building: the majority wins
    use[6, 8] = 0                      # no use given: residential
    twin = small_twin(use=use)
    values = load_values(overrides={"unit_value_krw_per_m2": {"commercial": 1000.0, "residential": 10.0}})
    table = building_table(twin, values)
    assert table.use.tolist() == [2, 1]
    assert table.footprint_area_m2.tolist() == [6 * CELL**2, CELL**2]
    assert table.floor_area_m2.tolist() == [18 * CELL**2, CELL**2]
    assert table.value_krw.tolist() == [18 * CELL**2 * 1000.0, CELL**2 * 10.0]
    assert table.height_m.tolist() == [9.0, 4.0]


def flood_member(max_depth):
    """A member's maps as the flood run makes them: the arrival time is defined (here 0 s) exactly
    where the depth reached the wet threshold, NaN elsewhere."""
    return {"max_depth": max_depth, "arrival_time": np.where(max_depth >= WET, 0.0, np.nan)}


def flood_maps(seed, n):
    rng = np.random.default_rng(seed)
    return [flood_member(rng.integers(0, 30, SHAPE) * 0.1) for _ in range(n)]


def flood_columns(twin, members, values=None):
    """The per-building columns of the flood impact over ``members`` (maximum-depth maps)."""
    table = building_table(twin, values)
    acc = BuildingRiskAccumulator(table, FLOOD.risk.impact, len(members))
    for i, depth in enumerate(members):
        acc.add(i, flood_member(depth))
    return table, acc.finalize()


def test_flood_columns_by_hand():
    """Two members: ring maximum 0.8 m and 1.6 m at building 1, dry at building 2; floors 0.3048 m up."""
    twin = small_twin()
    a, b = np.zeros(SHAPE), np.zeros(SHAPE)
    a[1, 1], b[4, 5] = 0.8, 1.6
    table, cols = flood_columns(twin, [a, b])
    curves = load_curves()
    frac = (damage_fraction(np.array(0.8 - FLOOR), 1, curves) + damage_fraction(np.array(1.6 - FLOOR), 1, curves)) / 2
    assert table.first_floor_height_m.tolist() == [FLOOR, FLOOR]
    assert cols["first_floor_height_m"].tolist() == [FLOOR, FLOOR]
    assert cols["expected_depth_max_m"].tolist() == pytest.approx([1.2, 0.0], rel=1e-15, abs=0)
    assert cols["depth_max_p90_m"].tolist() == [1.6, 0.0]
    assert cols["p_exposed"].tolist() == [1.0, 0.0]
    assert cols["expected_depth_above_floor_m"][0] == pytest.approx(1.2 - FLOOR, rel=1e-15)
    assert cols["depth_above_floor_p90_m"][0] == pytest.approx(1.6 - FLOOR, rel=1e-15)
    assert cols["p_depth_over_0p5m"].tolist() == [1.0, 0.0]
    assert cols["expected_damage_fraction"][0] == pytest.approx(frac, rel=1e-15)
    assert cols["expected_flood_loss_krw"][0] == pytest.approx(frac * table.value_krw[0], rel=1e-15)
    # JRC Asia residential, linear between (0, 0), (0.5, 0.327), (1, 0.494), (1.5, 0.617)
    at_a = 0.327 * (0.8 - FLOOR) / 0.5
    at_b = 0.494 + (1.6 - FLOOR - 1.0) / 0.5 * (0.617 - 0.494)
    assert frac == pytest.approx((at_a + at_b) / 2, rel=1e-12)
    assert cols["risk_index"][0] == cols["expected_damage_fraction"][0]
    assert cols["risk_class_name"].tolist() == ["high", "none"]       # index 0.3526 >= 0.3; building 2 dry


def test_wall_depth_below_the_wet_threshold_is_no_exposure_even_with_no_floor_height():
    """Water at 0.04 m (< 0.05 m wet threshold) against a building with its floor at ground level:
    not exposed, no damage, class none; at 0.06 m it is exposed and damaged."""
    twin = small_twin()
    values = load_values(overrides={"first_floor_height_m": {"residential": 0.0}})
    shallow, wet = np.zeros(SHAPE), np.zeros(SHAPE)
    shallow[1, 1] = shallow[5, 7] = 0.04
    wet[1, 1] = 0.06
    _, cols = flood_columns(twin, [shallow], values)
    assert cols["expected_depth_max_m"].tolist() == [0.04, 0.04]
    assert cols["p_exposed"].tolist() == [0.0, 0.0]
    assert cols["expected_depth_above_floor_m"].tolist() == [0.0, 0.0]
    assert cols["expected_damage_fraction"].tolist() == [0.0, 0.0]
    assert cols["expected_flood_loss_krw"].tolist() == [0.0, 0.0]
    assert cols["risk_class_name"].tolist() == ["none", "none"]
    _, cols = flood_columns(twin, [wet], values)
    assert cols["p_exposed"].tolist() == [1.0, 0.0]
    assert cols["expected_damage_fraction"][0] == pytest.approx(0.327 * 0.06 / 0.5, rel=1e-12)
    assert cols["risk_class_name"].tolist() == ["low", "none"]


def test_wall_depth_below_the_floor_does_no_damage():
    """Wet at the wall (0.25 m >= 0.05 m) but below the 0.3048 m floor: exposed, no damage, class none."""
    depth = np.zeros(SHAPE)
    depth[4, 3] = 0.25
    depth[5, 9] = FLOOR + 0.5                    # building 2: 0.5 m above its floor
    _, cols = flood_columns(small_twin(), [depth])
    assert cols["p_exposed"].tolist() == [1.0, 1.0]
    assert cols["expected_depth_above_floor_m"][0] == 0.0
    assert cols["expected_depth_above_floor_m"][1] == pytest.approx(0.5, rel=1e-12)
    assert cols["expected_damage_fraction"][0] == 0.0
    assert cols["expected_damage_fraction"][1] == pytest.approx(0.327, rel=1e-12)   # JRC residential at 0.5 m
    assert cols["risk_class_name"].tolist() == ["none", "high"]


def test_first_floor_height_from_the_twin_overrides_the_use_default(tmp_path):
    """A first_floor_height variable kept through a netCDF twin: the footprint mean where given
    (NaN cells ignored), the use's default where not; damage starts above that floor."""
    twin = small_twin()
    ffh = np.full(SHAPE, np.nan)
    ffh[2, 2:5] = 1.0
    ffh[3, 2] = 0.4                              # building 1: mean of 1, 1, 1, 0.4 = 0.85; building 2: none
    twin[FIRST_FLOOR_HEIGHT.name] = (("y", "x"), ffh, cf_attrs(FIRST_FLOOR_HEIGHT))
    reopened = open_twin(save_twin(twin, tmp_path / "twin.nc"))
    depth = np.zeros(SHAPE)
    depth[1, 1] = 0.8                            # below building 1's 0.85 m floor
    depth[5, 9] = 0.8                            # above building 2's default 0.3048 m floor
    table, cols = flood_columns(reopened, [depth])
    assert table.first_floor_height_m == pytest.approx([0.85, FLOOR], rel=1e-15)
    assert cols["expected_damage_fraction"][0] == 0.0
    assert cols["expected_damage_fraction"][1] == pytest.approx(
        float(damage_fraction(np.array(0.8 - FLOOR), 1, load_curves())), rel=1e-15)
    ffh[3, 3] = -0.5
    reopened[FIRST_FLOOR_HEIGHT.name] = (("y", "x"), ffh)
    with pytest.raises(InputError, match=r"first_floor_height: building footprint cells with a first-floor "
                                         r"height out of range in 1 cell \(first at row 3, col 3\)") as err:
        building_table(reopened)
    assert "twin.nc" in str(err.value)


def test_ring_wetness_marks_buildings_with_a_wet_ring_cell():
    twin = small_twin()
    table = building_table(twin)
    wet = np.zeros(SHAPE, bool)
    wet[2:4, 2:5] = True                         # on building 1's footprint only: not its ring
    wet[7, 9] = True                             # a corner of building 2's ring
    assert any_in_ring(table, wet).tolist() == [0.0, 1.0]


def test_building_results_do_not_depend_on_member_order():
    twin = small_twin()
    table = building_table(twin)
    maps = flood_maps(1, 6)
    weights = [3, 1, 4, 1, 5, 9]
    results = []
    for order in (range(6), (5, 3, 1, 0, 2, 4)):
        acc = BuildingRiskAccumulator(table, FLOOD.risk.impact, 6, weights=weights)
        for i in order:
            acc.add(i, maps[i])
        results.append(acc.finalize())
    for name in results[0]:
        assert np.array_equal(results[0][name], results[1][name]), name


def test_fire_columns_and_summary():
    """A building burns in a member when any footprint cell burns; fire loss = value x burn probability."""
    twin = small_twin()
    table = building_table(twin)
    burned = [np.zeros(SHAPE, bool) for _ in range(4)]
    burned[0][3, 4] = True             # one corner cell of building 1
    burned[1][2:4, 2:5] = True
    burned[2][6, 8] = True             # building 2
    burned[3][0, 0] = True             # no building
    acc = BuildingRiskAccumulator(table, FIRE.risk.impact, 4)
    for i, b in enumerate(burned):
        acc.add(i, {"burned": b})
    cols = acc.finalize()
    assert cols["burn_probability"].tolist() == [0.5, 0.25]
    assert np.array_equal(cols["expected_fire_loss_krw"], table.value_krw * [0.5, 0.25])
    assert cols["risk_class_name"].tolist() == ["high", "medium"]
    summary = risk_summary(FIRE.risk, {"burn_probability": np.mean(burned, axis=0)}, CELL**2, 4, buildings=cols)
    assert summary["buildings_by_risk_class"] == {"none": 0, "low": 0, "medium": 1, "high": 1}
    assert list(summary["risk_class_legend"]) == ["none", "low", "medium", "high"]
    assert summary["expected_total_loss_krw"] == pytest.approx(float(table.value_krw @ [0.5, 0.25]), rel=1e-15)
    assert summary["expected_burned_area_m2"] == pytest.approx((1 + 6 + 1 + 1) / 4 * CELL**2, rel=1e-15)


def test_building_never_reached_by_fire_is_class_none():
    twin = small_twin()
    table = building_table(twin)
    burned = np.zeros(SHAPE, bool)
    burned[6, 8] = True                          # building 2 burns; building 1 never reached
    acc = BuildingRiskAccumulator(table, FIRE.risk.impact, 1)
    acc.add(0, {"burned": burned})
    cols = acc.finalize()
    assert cols["burn_probability"].tolist() == [0.0, 1.0]
    assert cols["risk_class_name"].tolist() == ["none", "high"]
    summary = risk_summary(FIRE.risk, {"burn_probability": burned.astype(float)}, CELL**2, 1, buildings=cols)
    assert summary["buildings_by_risk_class"] == {"none": 1, "low": 0, "medium": 0, "high": 1}


@pytest.fixture(scope="module")
def district_run(tmp_path_factory):
    """A run like the shipped floods on a small district: a 40 x 60 valley of 10 m cells with 84
    two-by-two-cell buildings on its slopes, a 200 mm/h burst that leaves a thin film on the slopes
    and a stream entering at the north edge that floods the valley floor (the sample scenarios'
    setting, about 100 times fewer cells)."""
    root = tmp_path_factory.mktemp("district")
    ny, nx = 40, 60
    x = np.arange(nx)
    z = 50.0 + 0.05 * np.abs(x - nx // 2)[None, :] + 0.01 * np.arange(ny)[::-1, None] + np.zeros((ny, nx))
    height = np.zeros((ny, nx))
    for r in range(3, 38, 5):
        for c in range(2, 58, 5):
            height[r:r + 2, c:c + 2] = 6.0
    write_raster(root / "dem.tif", z.astype(np.float32))
    write_raster(root / "height.tif", height.astype(np.float32))
    twin = write_manifest(root / "twin.yaml", {"elevation": "dem.tif", "building_height": "height.tif"})
    scenario = root / "district.yaml"
    scenario.write_text(f"twin: {twin}\nhazard: flood\nduration: 20 min\n"
                        "flood:\n  rainfall: {times: [0, 5 min, 10 min], intensity_mm_h: [0, 200, 0]}\n"
                        "  inflows:\n    - {name: stream, line: [[234285, 415995], [234325, 415995]],"
                        " times: [0, 10 min, 20 min], discharge_m3_s: [0, 30, 10]}\n"
                        "  boundaries: {north: closed, south: free, east: closed, west: closed}\n"
                        "render: {enabled: false}\n", encoding="utf-8")
    return run_scenario(scenario, out=root / "run", progress=False)


def _buildings_csv(run):
    with open(run / "buildings.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}


def test_run_buildings_below_the_wet_threshold_contribute_no_loss(district_run):
    summary = json.loads((district_run / "summary.json").read_text())
    threshold = summary["wet_threshold_m"]
    cols = _buildings_csv(district_run)
    wall = cols["expected_depth_max_m"].astype(float)
    loss = cols["expected_flood_loss_krw"].astype(float)
    above = cols["expected_depth_above_floor_m"].astype(float)
    floor = cols["first_floor_height_m"].astype(float)
    film = (wall > 0) & (wall < threshold)
    below_floor = (wall >= threshold) & (wall < floor)
    assert film.sum() >= 10 and below_floor.sum() >= 5 and (loss > 0).sum() >= 5   # every kind is there
    assert np.all(loss[film] == 0) and np.all(cols["risk_class_name"][film] == "none")
    assert np.all(cols["p_exposed"][film].astype(float) == 0)
    assert np.all(cols["p_exposed"][below_floor].astype(float) == 1)
    assert np.all(loss[wall < floor] == 0) and np.all(above[wall < floor] == 0)
    np.testing.assert_allclose(above[loss > 0], wall[loss > 0] - floor[loss > 0], rtol=1e-5)
    assert summary["risk"]["buildings_by_risk_class"]["none"] == int(np.sum(loss == 0))


def test_run_area_by_hazard_class_counts_wet_cells_only(district_run):
    """The classes' areas sum to the area that reached the wet threshold (from hazard.nc's depth);
    wet and dry areas sum to the domain."""
    summary = json.loads((district_run / "summary.json").read_text())
    risk = summary["risk"]
    with xr.open_dataset(district_run / "hazard.nc") as hz:
        depth = hz["max_depth"].values
    cell_area = 10.0 ** 2
    wet_area = np.sum(depth >= summary["wet_threshold_m"]) * cell_area
    assert 0 < wet_area < summary["cells_in_domain"] * cell_area / 2
    assert sum(risk["expected_area_by_hazard_class_m2"].values()) == pytest.approx(wet_area, rel=1e-12)
    assert risk["expected_wet_area_m2"] == pytest.approx(wet_area, rel=1e-12)
    assert risk["expected_wet_area_m2"] + risk["expected_dry_area_m2"] == pytest.approx(
        summary["cells_in_domain"] * cell_area, rel=1e-12)


def test_renderings_read_class_none_and_name_it_in_the_legend(district_run):
    from viz.run_data import building_values, load_run
    values, label = building_values(load_run(district_run), "risk_class")
    cols = _buildings_csv(district_run)
    assert label == "risk class (0 none, 1 low, 2 medium, 3 high)"
    assert sorted(values) == sorted(cols["building_id"].astype(int).tolist())
    assert sum(v == 0 for v in values.values()) == int(np.sum(cols["risk_class_name"] == "none")) > 0


def test_geojson_reopens_with_one_feature_per_building(tmp_path):
    bid = np.zeros(SHAPE, np.int32)
    bid[2:4, 2:5] = 1
    bid[6, 8] = 2
    bid[7, 10] = 2                     # building 2 in two parts: one MultiPolygon feature
    twin = small_twin(building_id=bid)
    table = building_table(twin)
    acc = BuildingRiskAccumulator(table, FLOOD.risk.impact, 1)
    acc.add(0, flood_maps(2, 1)[0])
    cols = acc.finalize()
    path = write_geojson(tmp_path / "buildings.geojson", twin, cols)
    data = json.loads(path.read_text(encoding="utf-8"))
    features = data["features"]
    assert len(features) == table.n == 2
    assert [f["properties"]["building_id"] for f in features] == [1, 2]
    assert [f["geometry"]["type"] for f in features] == ["Polygon", "MultiPolygon"]
    assert data["crs"]["properties"]["name"].endswith("5186")
    west, south, east, north = WEST, NORTH - SHAPE[0] * CELL, WEST + SHAPE[1] * CELL, NORTH
    xy = np.array(_points(features))
    assert xy.shape[0] >= 3 * 4
    assert np.all((xy[:, 0] >= west) & (xy[:, 0] <= east) & (xy[:, 1] >= south) & (xy[:, 1] <= north))
    ring = features[0]["geometry"]["coordinates"][0]
    assert {tuple(p) for p in ring} == {(WEST + 10, NORTH - 10), (WEST + 25, NORTH - 10), (WEST + 25, NORTH - 20),
                                        (WEST + 10, NORTH - 20)}
    assert set(features[0]["properties"]) == set(cols)


def _points(features):
    """Every vertex of every feature, as (x, y) pairs."""
    out = []

    def walk(c):
        if isinstance(c[0], (int, float)):
            out.append(c)
        else:
            for item in c:
                walk(item)
    for f in features:
        walk(f["geometry"]["coordinates"])
    return out
