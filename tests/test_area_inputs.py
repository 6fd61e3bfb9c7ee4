"""Scenario inputs that real data needs (issue 16), on a twin built from momepy's real Bubeneč footprints.

Area inflows (a polygon or a circle) share their discharge equally among the open cells whose
centre lies inside: after one step from a dry grid exactly those cells hold water, each the
step's volume over their number, and over a longer run the volume ledger closes to round-off.
Overrides by polygon from a vector file (in another CRS) change Manning's n, infiltration and
drainage in the cells inside only; gauges come from a layer of points named by a column. Every
bad input is an InputError (exit 2) naming the scenario, the YAML field and line, and the file,
layer, column or feature, raised before a run folder exists.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.ops
import yaml
from pyproj import Transformer

import test_build
from twin.build import build_twin
from twin.cli import EXIT_BAD_INPUT, main
from twin.core.citytwin import twin_grid
from twin.core.errors import InputError
from twin.hazards.flood.setup import loss_fields, manning_field
from twin.pipeline.run import load_run_scenario, prepare_run, run_scenario
from twin.scenario.units import MM_PER_H

pytest.importorskip("momepy")

#: The twin's CRS and a CRS the vector files are written in (longitude, latitude).
TWIN_CRS, FILE_CRS = "EPSG:32633", "EPSG:4326"
#: A polygon inflow (m, the twin's CRS), its vertices off the cell centres (cells are 5 m).
SPILL = [[457150.3, 5550400.1], [457200.7, 5550400.2], [457180.2, 5550450.9]]
#: A circle inflow.
CULVERT = {"center": [457450.2, 5550200.3], "radius_m": 12.0}
#: Two park polygons (m, the twin's CRS) that overlap, written to a file in FILE_CRS.
PARKS = [shapely.box(457100.0, 5550100.0, 457300.0, 5550250.0), shapely.box(457250.0, 5550200.0, 457350.0, 5550300.0)]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The worked example's twin built into ``sources/twin``; returns the sources folder."""
    sources = test_build.SOURCES.write_sources(tmp_path_factory.mktemp("sources"))
    build_twin(sources / "build.yaml", sources / "twin")
    return sources


def to_file_crs(geom):
    """A geometry in the twin's CRS as it would be in a file in FILE_CRS."""
    return shapely.ops.transform(Transformer.from_crs(TWIN_CRS, FILE_CRS, always_xy=True).transform, geom)


def scenario(folder: Path, name: str, flood: dict | None = None, gauges: list | None = None,
             duration: str = "5 min") -> Path:
    """A flood scenario on the built twin with ``flood`` keys (no rain unless given) and ``gauges``."""
    spec = {"name": name, "twin": "twin/twin.yaml", "hazard": "flood", "duration": duration,
            "flood": {"boundaries": {e: "closed" for e in ("north", "south", "east", "west")}, **(flood or {})},
            "output": {"every": "1 min", "gauges": gauges or []}, "render": {"enabled": False}}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def inflow(name: str, shape: dict, q: float = 2.0) -> dict:
    return {"name": name, **shape, "times": [0, 3600], "discharge_m3_s": [q, q]}


def open_cells(prep) -> np.ndarray:
    twin = prep.twin
    return (twin["building_id"].values == 0) & (twin["domain_mask"].values == 1)


def centres(prep):
    x, y = twin_grid(prep.twin).cell_centres()
    return np.meshgrid(x, y)


def _one_step(path: Path):
    """The prepared run and its result after a single step of 0.5 s from a dry grid."""
    sf = load_run_scenario(path).with_duration(0.5)
    prep = prepare_run(sf)
    return prep, prep.hazard.simulate(prep.inputs, sf, progress=False)


@pytest.mark.parametrize("shape, inside", [
    ({"area": SPILL}, lambda xx, yy: shapely.contains_xy(shapely.Polygon(SPILL), xx, yy)),
    ({"circle": CULVERT}, lambda xx, yy: np.hypot(xx - CULVERT["center"][0], yy - CULVERT["center"][1])
     <= CULVERT["radius_m"]),
], ids=["polygon", "circle"])
def test_an_area_inflow_spreads_its_discharge_over_the_open_cells_inside(built, shape, inside):
    """The cells are the open cells whose centre lies inside (shapely's test, independent of the
    rasterizer); after one step of dt = 0.5 s from a dry grid each holds Q dt / (n dx^2) and no
    other cell is wet (fluxes start from the dry state)."""
    prep, result = _one_step(scenario(built, f"area_{next(iter(shape))}", {"inflows": [inflow("spill", shape)]}))
    expected = inside(*centres(prep)) & open_cells(prep)
    (f,) = prep.inputs["model"].inflows
    got = np.zeros_like(expected)
    got[f.rows, f.cols] = True
    assert expected.sum() >= 5 and (got == expected).all()
    np.testing.assert_array_equal(f.weights, np.full(f.rows.size, 1.0 / f.rows.size))
    some_inside_on_buildings = inside(*centres(prep)) & ~open_cells(prep)
    assert f.rows.size == expected.sum() and not got[some_inside_on_buildings].any()
    depth = result.final_depth
    np.testing.assert_allclose(depth[expected], 2.0 * 0.5 / (expected.sum() * 25.0), rtol=1e-12)
    assert (depth[~expected] == 0).all()


def test_area_and_circle_inflows_with_rain_keep_the_volume_ledger_closed(built, tmp_path):
    path = scenario(built, "area_ledger", {
        "rainfall": {"times": [0, 300], "intensity_mm_h": [40, 40]},
        "inflows": [inflow("spill", {"area": SPILL}, 1.5), inflow("culvert", {"circle": CULVERT}, 0.5)]})
    run = run_scenario(path, out=tmp_path / "run", progress=False)
    ledger = json.loads((run / "summary.json").read_text())["volume_ledger_m3"]
    assert ledger["inflow_in"] == pytest.approx(2.0 * 300, rel=1e-12)
    assert ledger["closure_relative"] < 1e-12 and ledger["storage_final"] > 0.5 * ledger["inflow_in"]


def write_parks(folder: Path, name: str = "parks.gpkg", **columns) -> Path:
    """The PARKS polygons in FILE_CRS with ``columns`` (one value per park)."""
    gpd.GeoDataFrame(columns, geometry=[to_file_crs(p) for p in PARKS], crs=FILE_CRS).to_file(
        folder / name, layer="parks", driver="GPKG")
    return folder / name


def _park_cells(prep) -> list[np.ndarray]:
    """Cells whose centre lies in each park, reprojected as the file is (the test's own reprojection)."""
    parks = gpd.read_file(prep.sf.folder / "parks.gpkg").to_crs(TWIN_CRS).geometry.values
    xx, yy = centres(prep)
    return [shapely.contains_xy(p, xx, yy) & (prep.twin["domain_mask"].values == 1) for p in parks]


def test_overrides_by_polygon_change_roughness_and_losses_in_the_cells_inside_only(built):
    """Park 0 n = 0.2 and 30 mm/h, park 1 (drawn later, on top where they overlap) n = 0.08 and 5 mm/h;
    drainage 0 in both; elsewhere the land-cover defaults (infiltration by land cover, drainage on
    roads and urban open) are untouched."""
    write_parks(built, N=[0.2, 0.08], INF=[30.0, 5.0])
    flood = {"losses": {"infiltration_mm_h": {"grass": 10, "forest": 15}, "drainage_mm_h": 20},
             "overrides": [{"file": "parks.gpkg", "manning_n": {"column": "N"},
                            "infiltration_mm_h": {"column": "INF"}, "drainage_mm_h": 0}]}
    prep = prepare_run(load_run_scenario(scenario(built, "parks", flood)))
    park0, park1 = _park_cells(prep)
    only0 = park0 & ~park1
    assert only0.sum() > 100 and park1.sum() > 50 and (park0 & park1).sum() > 10
    model = prep.inputs["model"]
    spec = prep.sf.scenario.flood
    n0 = np.where(prep.twin["domain_mask"].values == 1, manning_field(prep.twin, spec), 1.0)
    inf0, drain0 = loss_fields(prep.twin, spec)
    outside = ~(park0 | park1)
    np.testing.assert_array_equal(model.manning_n[outside], n0[outside])
    np.testing.assert_array_equal(model.loss_rate[outside], inf0[outside])
    np.testing.assert_array_equal(model.drainage_rate[outside], drain0[outside])
    assert (model.manning_n[only0] == 0.2).all() and (model.manning_n[park1] == 0.08).all()
    np.testing.assert_array_equal(model.loss_rate[only0], 30.0 * MM_PER_H)
    np.testing.assert_array_equal(model.loss_rate[park1], 5.0 * MM_PER_H)
    assert (model.drainage_rate[park0 | park1] == 0).all() and (drain0[park0 | park1] > 0).any()
    assert (n0[park0 | park1] != model.manning_n[park0 | park1]).any()


def test_a_single_value_override_and_the_volume_ledger_with_overrides(built, tmp_path):
    write_parks(built, "lawn.gpkg", KIND=["lawn", "lawn"])
    flood = {"rainfall": {"times": [0, 300], "intensity_mm_h": [60, 60]},
             "losses": {"drainage_mm_h": 10},
             "overrides": [{"file": "lawn.gpkg", "manning_n": 0.1, "infiltration_mm_h": 40, "drainage_mm_h": 2}]}
    path = scenario(built, "lawn", flood)
    prep = prepare_run(load_run_scenario(path))
    parks = gpd.read_file(built / "lawn.gpkg").to_crs(TWIN_CRS).geometry.union_all()
    xx, yy = centres(prep)
    inside = shapely.contains_xy(parks, xx, yy) & (prep.twin["domain_mask"].values == 1)
    model, n0 = prep.inputs["model"], manning_field(prep.twin, prep.sf.scenario.flood)
    assert inside.sum() > 100 and (model.manning_n[inside] == 0.1).all()
    np.testing.assert_array_equal(model.manning_n[~inside], n0[~inside])
    np.testing.assert_array_equal(model.loss_rate[inside], 40 * MM_PER_H)
    np.testing.assert_array_equal(model.drainage_rate[inside], 2 * MM_PER_H)
    run = run_scenario(path, out=tmp_path / "run", progress=False)
    ledger = json.loads((run / "summary.json").read_text())["volume_ledger_m3"]
    assert ledger["infiltration"] > 0 and ledger["drainage"] > 0 and ledger["closure_relative"] < 1e-12
    inputs = json.loads((run / "manifest.json").read_text())["inputs"]
    assert str(built / "lawn.gpkg") in inputs


def write_gauges(folder: Path, points, names, name: str = "gauges.gpkg", column: str = "NAME") -> Path:
    gpd.GeoDataFrame({column: names}, geometry=[to_file_crs(shapely.Point(p)) for p in points], crs=FILE_CRS
                     ).to_file(folder / name, driver="GPKG")
    return folder / name


def test_gauges_from_a_layer_of_points_are_named_by_their_column(built, tmp_path):
    points = [(457200.0, 5550300.0), (457400.0, 5550050.0), (457500.0, 5550450.0)]
    write_gauges(built, points, ["bridge", "school", "market"])
    path = scenario(built, "gauged", {"rainfall": {"times": [0, 120], "intensity_mm_h": [50, 50]}},
                    gauges=[{"name": "corner", "at": [457300.0, 5550300.0]},
                            {"file": "gauges.gpkg", "name_column": "NAME"}], duration="2 min")
    prep = prepare_run(load_run_scenario(path))
    grid = twin_grid(prep.twin)
    back = gpd.read_file(built / "gauges.gpkg").to_crs(TWIN_CRS).geometry
    assert prep.inputs["gauges"] == [grid.cell_of(457300.0, 5550300.0)] + [grid.cell_of(p.x, p.y) for p in back]
    run = run_scenario(path, out=tmp_path / "run", progress=False)
    table = pd.read_csv(run / "gauges.csv")
    assert list(dict.fromkeys(table["gauge"])) == ["corner", "bridge", "school", "market"]
    assert (table.groupby("gauge").size() == 3).all()                   # 0, 60 and 120 s


# --- bad input -------------------------------------------------------------------------------------

def refused(path: Path) -> str:
    """The one-line message of the InputError a scenario's preparation raises; no run folder is made."""
    with pytest.raises(InputError) as caught:
        run_scenario(path, out=path.parent / f"run_{path.stem}", progress=False)
    assert not (path.parent / f"run_{path.stem}").exists()
    message = caught.value.one_line()
    assert message.startswith(str(path))
    return message


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line of ``path`` holding ``text``."""
    return next(k for k, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_an_area_reaching_outside_the_twin_is_refused_at_its_line(built):
    path = scenario(built, "area_out", {"inflows": [inflow("far", {"area": [[457000, 5550000], [457100, 5550000],
                                                                              [457050, 5550100]]})]})
    message = refused(path)
    assert "flood.inflows[0].area: inflow 'far': the area reaches outside the twin" in message
    assert "expected x in [457030.0, 457585.0]" in message and f"(line {line_of(path, 'area:')})" in message


def test_a_circle_reaching_outside_the_twin_is_refused(built):
    message = refused(scenario(built, "circle_out", {"inflows": [inflow("edge", {"circle": {
        "center": [457035.0, 5550300.0], "radius_m": 20.0}})]}))
    assert "flood.inflows[0].circle: inflow 'edge': the circle reaches outside the twin" in message


def test_an_area_holding_no_open_cell_centre_is_refused(built):
    """A 2 m triangle between cell centres, and a polygon inside a building's footprint."""
    tiny = [[457151.0, 5550401.0], [457153.0, 5550401.0], [457152.0, 5550403.0]]
    message = refused(scenario(built, "area_tiny", {"inflows": [inflow("tiny", {"area": tiny})]}))
    assert "the area holds no open cell of the domain (0 cell centre(s) inside" in message
    assert "cells are 5 m" in message
    twin = gpd.read_file(built / "twin" / "buildings.gpkg")
    big = twin.loc[twin["twin_cells"].idxmax()].geometry
    roof = shapely.buffer(big.representative_point(), 4.0, quad_segs=2)
    assert big.contains(roof)
    area = [list(c) for c in roof.exterior.coords[:-1]]
    message = refused(scenario(built, "area_roof", {"inflows": [inflow("roof", {"area": area})]}))
    assert "holds no open cell of the domain" in message and "all on buildings or outside the domain" in message


def test_a_self_intersecting_area_is_refused(built):
    bowtie = [[457150.0, 5550400.0], [457200.0, 5550450.0], [457200.0, 5550400.0], [457150.0, 5550450.0]]
    message = refused(scenario(built, "bowtie", {"inflows": [inflow("bowtie", {"area": bowtie})]}))
    assert "flood.inflows[0].area: inflow 'bowtie': the area is not a valid polygon (Self-intersection" in message


def test_an_inflow_with_two_shapes_is_a_schema_error(built):
    path = scenario(built, "two_shapes", {"inflows": [inflow("both", {"at": [457200, 5550300], "circle": CULVERT})]})
    with pytest.raises(InputError, match=r"flood\.inflows\[0\].*give exactly one of 'at: \[x, y\]'"):
        load_run_scenario(path)


@pytest.mark.parametrize("entry, key, expected", [
    ({"file": "nowhere.gpkg", "manning_n": 0.1}, "file: nowhere.gpkg", "flood.overrides[0].file: file not found"),
    ({"file": "parks.gpkg", "layer": "lawns", "manning_n": 0.1}, "layer: lawns",
     "flood.overrides[0].layer: no such layer in"),
    ({"file": "parks.gpkg", "manning_n": {"column": "ROUGH"}}, "column: ROUGH",
     "flood.overrides[0].manning_n.column: no column 'ROUGH'"),
], ids=["file", "layer", "column"])
def test_a_missing_override_file_layer_or_column_is_named_at_its_line(built, entry, key, expected):
    write_parks(built, N=[0.2, 0.08], INF=[30.0, 5.0])
    path = scenario(built, "override_missing", {"overrides": [entry]})
    message = refused(path)
    assert expected in message and message.endswith(f"(line {line_of(path, key)})")
    listed = {"layer": "expected one of parks", "column": "expected one of N, INF"}
    assert all(text in message for k, text in listed.items() if k in expected.split(": ")[0])


def test_override_polygons_outside_the_domain_are_refused(built):
    far = [shapely.affinity.translate(p, 5000.0, 0.0) for p in PARKS]
    gpd.GeoDataFrame({"N": [0.1, 0.1]}, geometry=[to_file_crs(p) for p in far], crs=FILE_CRS).to_file(
        built / "far.gpkg", layer="parks", driver="GPKG")
    message = refused(scenario(built, "override_far", {"overrides": [{"file": "far.gpkg", "manning_n": 0.1}]}))
    assert "flood.overrides[0].file: no polygon of" in message and "holds a cell centre of the domain" in message
    assert "(0 of 2 features reach the twin's extent)" in message


@pytest.mark.parametrize("values, found", [([0.0, 0.1], "found 0"), ([0.1, None], "found empty"),
                                           ([5.0, 0.1], "found 5")], ids=["zero", "empty", "too-rough"])
def test_override_column_values_out_of_range_are_refused_naming_the_features(built, values, found):
    write_parks(built, "rough.gpkg", N=values)
    message = refused(scenario(built, "override_range", {"overrides": [{"file": "rough.gpkg",
                                                                        "manning_n": {"column": "N"}}]}))
    bad = 1 if values[0] in (0.0, 5.0) else 2
    assert "flood.overrides[0].manning_n.column: 1 features of" in message
    assert f"(feature ids {bad})" in message and "expected a number in (0, 1]" in message and found in message


def test_override_features_that_are_not_polygons_are_refused(built):
    write_gauges(built, [(457200.0, 5550300.0)], ["p"], name="points.gpkg")
    message = refused(scenario(built, "override_points", {"overrides": [{"file": "points.gpkg", "manning_n": 0.1}]}))
    assert "1 features of" in message and "are Point (first: feature id 1)" in message
    assert "expected Polygon or MultiPolygon" in message


def test_an_override_giving_no_value_is_a_schema_error(built):
    with pytest.raises(InputError, match="give at least one of manning_n, infiltration_mm_h or drainage_mm_h"):
        load_run_scenario(scenario(built, "override_empty", {"overrides": [{"file": "parks.gpkg"}]}))


def test_a_gauge_layer_without_the_name_column_lists_the_columns(built):
    write_gauges(built, [(457200.0, 5550300.0)], ["g"], name="named.gpkg", column="LABEL")
    message = refused(scenario(built, "gauge_column", gauges=[{"file": "named.gpkg", "name_column": "NAME"}]))
    assert "output.gauges[0].name_column: no column 'NAME'" in message and "expected one of LABEL" in message


def test_a_gauge_point_outside_the_twin_is_refused_naming_the_feature(built):
    write_gauges(built, [(457200.0, 5550300.0), (460000.0, 5550300.0)], ["in", "far"], name="far_gauges.gpkg")
    message = refused(scenario(built, "gauge_far", gauges=[{"file": "far_gauges.gpkg", "name_column": "NAME"}]))
    assert "output.gauges[0].file: gauge 'far' (feature 2 of" in message and "is outside the twin" in message


def test_gauges_that_are_not_points_or_share_a_name_are_refused(built):
    write_parks(built, "areas.gpkg", NAME=["a", "b"])
    message = refused(scenario(built, "gauge_polygons", gauges=[{"file": "areas.gpkg", "name_column": "NAME"}]))
    assert "are Polygon (first: feature id 1)" in message and "expected Point" in message
    write_gauges(built, [(457200.0, 5550300.0)], ["corner"], name="dup.gpkg")
    message = refused(scenario(built, "gauge_dup", gauges=[{"name": "corner", "at": [457300.0, 5550300.0]},
                                                          {"file": "dup.gpkg", "name_column": "NAME"}]))
    assert "output.gauges[1].file: gauge 'corner' (feature 1 of" in message and "another gauge has the name" in message


def test_bad_area_input_exits_2_from_twin_validate(built, capsys):
    path = scenario(built, "validate_bad", {"overrides": [{"file": "nowhere.gpkg", "manning_n": 0.1}]})
    assert main(["validate", str(path)]) == EXIT_BAD_INPUT
    assert "flood.overrides[0].file: file not found" in capsys.readouterr().err
