"""Buildings: ring depth from neighbouring open cells, values, per-building streaming risk, GeoJSON footprints."""

from __future__ import annotations

import json

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS

from twin.hazards.fire import FIRE
from twin.hazards.flood import FLOOD
from twin.risk.exposure import building_table, depth_at_buildings, ring_cells, write_geojson
from twin.risk.impact import BuildingRiskAccumulator
from twin.core.citytwin import build_dataset
from twin.risk.vulnerability import damage_fraction, load_curves, load_values
from twin.core.errors import RunError
from twin.core.grid import Grid
from twin.risk.summary import risk_summary

SHAPE = (9, 12)
CELL = 5.0
WEST, NORTH = 234_000.0, 416_000.0


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


def flood_maps(seed, n):
    rng = np.random.default_rng(seed)
    return [{"max_depth": rng.integers(0, 30, SHAPE) * 0.1} for _ in range(n)]


def test_flood_columns_by_hand():
    """Two members: ring maximum 0.4 m and 1.2 m at building 1, dry at building 2."""
    twin = small_twin()
    table = building_table(twin)
    a, b = np.zeros(SHAPE), np.zeros(SHAPE)
    a[1, 1], b[4, 5] = 0.4, 1.2
    acc = BuildingRiskAccumulator(table, FLOOD.risk.impact, 2)
    acc.add(1, {"max_depth": b})
    acc.add(0, {"max_depth": a})
    cols = acc.finalize()
    curves = load_curves()
    frac = (damage_fraction(np.array(0.4), 1, curves) + damage_fraction(np.array(1.2), 1, curves)) / 2
    assert cols["expected_depth_max_m"].tolist() == [0.8, 0.0]
    assert cols["depth_max_p90_m"].tolist() == [1.2, 0.0]
    assert cols["p_depth_over_0p5m"].tolist() == [0.5, 0.0]
    assert cols["expected_damage_fraction"][0] == pytest.approx(frac, rel=1e-15)
    assert cols["expected_flood_loss_krw"][0] == pytest.approx(frac * table.value_krw[0], rel=1e-15)
    assert frac == pytest.approx((0.327 * 0.8 + 0.494 + 0.4 * (0.617 - 0.494)) / 2, rel=1e-15)
    assert cols["risk_index"][0] == cols["expected_damage_fraction"][0]
    assert cols["risk_class_name"].tolist() == ["high", "none"]       # index 0.4024 >= 0.3


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
    assert summary["expected_total_loss_krw"] == pytest.approx(float(table.value_krw @ [0.5, 0.25]), rel=1e-15)
    assert summary["expected_burned_area_m2"] == pytest.approx((1 + 6 + 1 + 1) / 4 * CELL**2, rel=1e-15)


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
