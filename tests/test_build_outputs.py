"""Run outputs keyed to the city's own buildings (issue 16): a twin built from momepy's real Bubeneč
footprints (docs/build_example, EPSG:3857 footprints onto an EPSG:32633 grid) and a short flood on it.

What is checked: ``twin build`` names its buildings.gpkg in twin.yaml (``footprints:``), the twin
loads it and the run lists it as an input with its hash; the run's buildings.gpkg, .csv and .geojson
carry the source id and the original footprint (equal to the source's after reprojection to the
twin's CRS, not traced back from the raster), and the source's values and first-floor heights
flow into the risk; a twin without a footprints file keeps the traced footprints; every bad
footprints file is an InputError naming twin.yaml, the field and line, the layer or column.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml

import test_build
from twin.build import build_twin
from twin.core.citytwin import load_twin, twin_grid
from twin.core.classes import BUILDING_USE
from twin.core.errors import InputError
from twin.core.footprints import FIRST_FLOOR_COLUMN, VALUE_COLUMN
from twin.io.provenance import file_sha256
from twin.risk.exposure import building_table, footprints
from twin.risk.vulnerability import load_values

pytest.importorskip("momepy")

#: The first-floor height (m) the test gives every second source footprint, by uID.
FIRST_FLOOR_M = {0: 0.45, 1: 1.2}
#: How long the flood runs (s): the 50 mm/h cloudburst of the example, cut short.
UNTIL_S = 600.0


def _first_floor(uid: np.ndarray) -> np.ndarray:
    """The test's first-floor heights (m) by uID: every second footprint has one, NaN for the rest."""
    return np.where(uid % 2 == 0, np.where(uid % 4 == 0, FIRST_FLOOR_M[0], FIRST_FLOOR_M[1]), np.nan)


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    """The example's sources, their footprints given a first-floor height column ``FFH_M`` (m)."""
    folder = test_build.SOURCES.write_sources(tmp_path_factory.mktemp("sources"))
    table = gpd.read_file(folder / "buildings.gpkg", layer="buildings")
    table["FFH_M"] = _first_floor(table["uID"].to_numpy())
    table.to_file(folder / "buildings.gpkg", layer="buildings", driver="GPKG")
    config = yaml.safe_load((folder / "build.yaml").read_text(encoding="utf-8"))
    config["buildings"]["first_floor_height"] = {"column": "FFH_M"}
    (folder / "build.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def run(sources):
    """The twin built into ``sources/twin`` and the example's flood run on it for :data:`UNTIL_S`."""
    from twin.pipeline.run import run_scenario

    build_twin(sources / "build.yaml", sources / "twin")
    return run_scenario(sources / "flood.yaml", out=sources / "runs" / "keyed", progress=False, until=UNTIL_S)


def _source(sources: Path, crs) -> gpd.GeoDataFrame:
    """The source footprints reprojected to the twin's CRS, indexed by their id."""
    return gpd.read_file(sources / "buildings.gpkg", layer="buildings").to_crs(crs.to_wkt()).set_index("BD_MGT_SN")


def _same_geometry(a, b) -> np.ndarray:
    """Per pair of geometries: the same vertices, in the same order, to the last bit (a polygon and the
    one-part multipolygon GeoPackage layers of mixed types store it as are the same)."""
    return np.array([np.array_equal(shapely.get_coordinates(g), shapely.get_coordinates(h)) and g.area == h.area
                     for g, h in zip(a, b, strict=True)])


def _traced(ds, ids) -> list:
    """The footprints of buildings ``ids`` traced back from the twin's building-id raster."""
    traced = footprints(ds)
    return [shapely.geometry.shape(traced[i]) for i in ids]


def test_the_built_twin_names_its_footprints_and_the_run_hashes_them(sources, run):
    manifest = yaml.safe_load((sources / "twin" / "twin.yaml").read_text())
    assert manifest["footprints"] == {"file": "buildings.gpkg", "layer": "buildings", "id": "BD_MGT_SN"}
    ds = load_twin(sources / "twin" / "twin.yaml")
    assert ds.attrs["footprints_file"] == str((sources / "twin" / "buildings.gpkg").absolute())
    assert ds.attrs["footprints_id"] == "BD_MGT_SN"
    inputs = json.loads((run / "manifest.json").read_text())["inputs"]
    gpkg = sources / "twin" / "buildings.gpkg"
    assert inputs[str(gpkg)] == file_sha256(gpkg)


def test_the_run_building_layers_carry_the_source_id_and_the_original_footprints(sources, run):
    """Every twin building is one row of buildings.gpkg, .geojson and .csv with its BD_MGT_SN, and its
    geometry is the source footprint reprojected to EPSG:32633, exactly (the bow-tie: as repaired)."""
    ds = load_twin(sources / "twin" / "twin.yaml")
    twin_table = gpd.read_file(sources / "twin" / "buildings.gpkg")
    in_twin = twin_table[twin_table["building_id"] > 0]
    source = _source(sources, ds.rio.crs)

    layer = gpd.read_file(run / "buildings.gpkg", layer="buildings")
    assert layer.crs.to_epsg() == 32633 and len(layer) == len(in_twin) == 145
    assert list(layer.columns[:2]) == ["building_id", "BD_MGT_SN"]
    by_id = in_twin.set_index("building_id").loc[layer["building_id"]]
    np.testing.assert_array_equal(layer["BD_MGT_SN"], by_id["BD_MGT_SN"])
    repaired = by_id["twin_repaired"].to_numpy()
    assert repaired.sum() == 1
    original = source.loc[layer["BD_MGT_SN"]].geometry.values
    assert _same_geometry(layer.geometry.values[~repaired], original[~repaired]).all()
    fixed = shapely.make_valid(original[repaired], method="structure", keep_collapsed=False)
    assert _same_geometry(layer.geometry.values[repaired], fixed).all()
    traced = _traced(ds, layer["building_id"])
    assert not _same_geometry(layer.geometry.values, traced).any()

    geo = json.loads((run / "buildings.geojson").read_text())
    assert geo["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::32633"
    ids = [f["properties"]["BD_MGT_SN"] for f in geo["features"]]
    shapes = [shapely.geometry.shape(f["geometry"]) for f in geo["features"]]
    assert _same_geometry(shapes, layer.set_index("BD_MGT_SN").loc[ids].geometry.values).all()

    csv = pd.read_csv(run / "buildings.csv", dtype={"BD_MGT_SN": str})
    np.testing.assert_array_equal(csv["BD_MGT_SN"], layer["BD_MGT_SN"])
    np.testing.assert_allclose(csv["expected_depth_max_m"], layer["expected_depth_max_m"], rtol=1e-5)


def test_source_values_and_first_floor_heights_flow_into_the_risk(sources, run):
    """Where the source gives a value (VALUE_KRW) or first-floor height (FFH_M) the run's building takes
    it, elsewhere the unit value of its use times its floor area and the default of its use; the loss
    and the depth above the floor are computed with them."""
    ds = load_twin(sources / "twin" / "twin.yaml")
    source = _source(sources, ds.rio.crs)
    layer = gpd.read_file(run / "buildings.gpkg", layer="buildings")
    given = source.loc[layer["BD_MGT_SN"]]
    values = load_values()
    use = np.array([BUILDING_USE[u] for u in layer["use"]])

    value = given["VALUE_KRW"].to_numpy()
    has_value = np.isfinite(value)
    assert 0 < has_value.sum() < len(layer)
    np.testing.assert_array_equal(layer["value_krw"][has_value], value[has_value])
    np.testing.assert_allclose(layer["value_krw"][~has_value],
                               (layer["floor_area_m2"] * values.unit_value_by_code()[use])[~has_value], rtol=1e-12)

    ffh = given["FFH_M"].to_numpy()
    has_ffh = np.isfinite(ffh)
    assert 0 < has_ffh.sum() < len(layer)
    np.testing.assert_array_equal(layer["first_floor_height_m"][has_ffh], ffh[has_ffh])
    np.testing.assert_array_equal(layer["first_floor_height_m"][~has_ffh],
                                  values.first_floor_height_by_code()[use][~has_ffh])

    exposed = layer["p_exposed"].to_numpy() > 0                       # one member: 0 or 1
    above = np.where(exposed, np.maximum(layer["expected_depth_max_m"] - layer["first_floor_height_m"], 0.0), 0.0)
    np.testing.assert_allclose(layer["expected_depth_above_floor_m"], above, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(layer["expected_flood_loss_krw"], layer["value_krw"] * layer["expected_damage_fraction"],
                               rtol=1e-12)
    assert exposed.sum() > 10 and (layer["expected_depth_max_m"] > 0).sum() > 10


def test_the_build_writes_the_first_floor_heights_it_read(sources, run):
    table = gpd.read_file(sources / "twin" / "buildings.gpkg")
    np.testing.assert_array_equal(table[FIRST_FLOOR_COLUMN], _first_floor(table["uID"].to_numpy()))
    report = json.loads((sources / "twin" / "build_report.json").read_text())
    assert report["buildings"]["first_floor_heights_given"] == int(np.isfinite(table[FIRST_FLOOR_COLUMN]).sum())


def test_a_twin_without_a_footprints_file_keeps_the_traced_footprints(sources, run, tmp_path):
    """The same rasters without ``footprints:``: the run's layers have no source id, and each building's
    geometry is its cells' outline (the building-id raster traced), as before."""
    from twin.pipeline.run import run_scenario

    manifest = yaml.safe_load((sources / "twin" / "twin.yaml").read_text())
    del manifest["footprints"]
    (sources / "twin" / "rasters_only.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    scenario = yaml.safe_load((sources / "flood.yaml").read_text())
    scenario.update(twin="twin/rasters_only.yaml", duration="2 min", name="traced")
    (sources / "traced.yaml").write_text(yaml.safe_dump(scenario), encoding="utf-8")
    out = run_scenario(sources / "traced.yaml", out=tmp_path / "traced", progress=False)

    ds = load_twin(sources / "twin" / "rasters_only.yaml")
    assert "footprints_file" not in ds.attrs
    layer = gpd.read_file(out / "buildings.gpkg", layer="buildings")
    assert "BD_MGT_SN" not in layer.columns and len(layer) == len(footprints(ds)) == 145
    assert _same_geometry(layer.geometry.values, _traced(ds, layer["building_id"])).all()
    x, y = twin_grid(ds).cell_centres()
    cells = ds["building_id"].values == layer["building_id"].iloc[0]
    assert shapely.contains_xy(layer.geometry.iloc[0], *np.meshgrid(x, y))[cells].all()
    inputs = json.loads((out / "manifest.json").read_text())["inputs"]
    assert not any(k.endswith("buildings.gpkg") for k in inputs)


def _twin_copy(sources: Path, tmp_path: Path, edit_manifest=None, edit_table=None) -> Path:
    """A copy of the built twin in ``tmp_path`` with its manifest and/or its buildings.gpkg edited."""
    import shutil

    folder = tmp_path / "twin"
    shutil.copytree(sources / "twin", folder)
    if edit_manifest is not None:
        manifest = yaml.safe_load((folder / "twin.yaml").read_text())
        edit_manifest(manifest)
        (folder / "twin.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    if edit_table is not None:
        table = gpd.read_file(folder / "buildings.gpkg")
        table = edit_table(table)
        (folder / "buildings.gpkg").unlink()
        table.to_file(folder / "buildings.gpkg", layer="buildings", driver="GPKG")
    return folder / "twin.yaml"


def _refused(manifest: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_twin(manifest)
    return caught.value.one_line()


def test_a_missing_footprints_file_is_named_with_its_field_and_line(sources, run, tmp_path):
    manifest = _twin_copy(sources, tmp_path, lambda m: m["footprints"].update(file="nowhere.gpkg"))
    message = _refused(manifest)
    assert message.startswith(f"{manifest}: footprints.file: file not found") and "nowhere.gpkg" in message
    line = manifest.read_text().splitlines().index("  file: nowhere.gpkg") + 1
    assert message.endswith(f"(line {line})")


def test_a_missing_footprints_layer_lists_the_layers(sources, run, tmp_path):
    message = _refused(_twin_copy(sources, tmp_path, lambda m: m["footprints"].update(layer="footprints")))
    assert "footprints.layer: no such layer" in message and "expected one of buildings" in message


def test_a_missing_id_column_lists_the_columns_that_exist(sources, run, tmp_path):
    message = _refused(_twin_copy(sources, tmp_path, lambda m: m["footprints"].update(id="PNU")))
    assert "footprints.id: no column 'PNU'" in message and "BD_MGT_SN" in message and "twin_status" in message


def test_a_footprints_file_that_lacks_a_twin_building_is_refused(sources, run, tmp_path):
    drop = lambda t: t[t["building_id"] != 7]                    # noqa: E731
    message = _refused(_twin_copy(sources, tmp_path, edit_table=drop))
    assert "the twin has buildings with no row (ids 7)" in message and "footprints.file" in message


def test_a_footprints_file_that_names_a_building_twice_is_refused(sources, run, tmp_path):
    def twice(table):
        table.loc[table["building_id"] == 8, "building_id"] = 9
        return table
    message = _refused(_twin_copy(sources, tmp_path, edit_table=twice))
    assert "building ids 9 have several rows" in message


def test_an_out_of_range_first_floor_height_in_the_footprints_file_is_refused(sources, run, tmp_path):
    def high(table):
        table.loc[table["building_id"] == 3, FIRST_FLOOR_COLUMN] = 25.0
        return table
    message = _refused(_twin_copy(sources, tmp_path, edit_table=high))
    assert f"column {FIRST_FLOOR_COLUMN}: out of range for building ids 3" in message and "found 25" in message


def test_a_negative_source_value_in_the_footprints_file_is_refused(sources, run, tmp_path):
    def negative(table):
        table.loc[table["building_id"] == 4, VALUE_COLUMN] = -1.0
        return table
    message = _refused(_twin_copy(sources, tmp_path, edit_table=negative))
    assert f"column {VALUE_COLUMN}: out of range for building ids 4" in message


def test_an_out_of_range_first_floor_height_in_the_source_is_refused_by_the_build(sources, tmp_path):
    table = gpd.read_file(sources / "buildings.gpkg")
    table.loc[table["uID"] == 4, "FFH_M"] = 30.0                   # in cm?
    table.to_file(tmp_path / "buildings.gpkg", layer="buildings", driver="GPKG")
    config = yaml.safe_load((sources / "build.yaml").read_text())
    config["buildings"]["file"] = str(tmp_path / "buildings.gpkg")
    config["dem"] = [str(sources / "dem" / "*.tif")]
    for key in ("landcover", "roads", "water"):
        config.pop(key)
    (tmp_path / "build.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        build_twin(tmp_path / "build.yaml", tmp_path / "twin")
    message = caught.value.one_line()
    assert "buildings.first_floor_height.column: 1 footprints" in message and "1130010100000004" in message
    assert "found 30 m" in message and not (tmp_path / "twin").exists()


def test_the_building_table_of_a_twin_whose_footprints_changed_is_refused(sources, run, tmp_path):
    """The file is checked again when the risk reads it: one edited after the twin loaded is an InputError."""
    manifest = _twin_copy(sources, tmp_path)
    ds = load_twin(manifest)
    table = gpd.read_file(manifest.parent / "buildings.gpkg")
    table[table["building_id"] != 5].to_file(manifest.parent / "buildings.gpkg", layer="buildings", driver="GPKG")
    with pytest.raises(InputError, match="the twin has buildings with no row"):
        building_table(ds)
