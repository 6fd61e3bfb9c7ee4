"""Bad input to ``twin build``: every case of issue 16 is an InputError (exit 2) naming the file, the YAML
field and line, the layer, the column or the feature, raised before the twin's folder is written.

The sources are the worked example's (docs/build_example/make_sources.py: momepy's real Bubeneč
footprints, DEM tiles in EPSG:32634); each test edits its build file or a copy of a source.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import rasterio
import yaml

import test_build
from twin.build import build_twin
from twin.cli import EXIT_BAD_INPUT, main
from twin.core.errors import InputError

pytest.importorskip("momepy")


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    return test_build.SOURCES.write_sources(tmp_path_factory.mktemp("sources"))


def edited(sources: Path, tmp_path: Path, edit) -> Path:
    """The example's build file with ``edit(config)`` applied, written beside the sources."""
    config = yaml.safe_load((sources / "build.yaml").read_text(encoding="utf-8"))
    edit(config)
    path = sources / f"{tmp_path.name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def refused(config: Path, tmp_path: Path, **kw) -> str:
    """The one-line message of the InputError ``build_twin`` raises; nothing may be written."""
    out = tmp_path / "twin"
    with pytest.raises(InputError) as caught:
        build_twin(config, out, **kw)
    assert not out.exists() and not list(tmp_path.glob(".twin*"))
    message = caught.value.one_line()
    assert str(config) in message or str(caught.value.file) in message
    return message


def _set(path: tuple, value):
    def edit(config):
        node = config
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return edit


def test_a_missing_footprint_file_is_named_with_its_yaml_field_and_line(sources, tmp_path):
    message = refused(edited(sources, tmp_path, _set(("buildings", "file"), "nowhere.gpkg")), tmp_path)
    assert "buildings.file: file not found" in message and "nowhere.gpkg" in message and "(line " in message


def test_a_missing_layer_lists_the_layers_the_file_holds(sources, tmp_path):
    message = refused(edited(sources, tmp_path, _set(("buildings", "layer"), "footprints")), tmp_path)
    assert "buildings.layer: no such layer" in message and "expected one of buildings" in message
    assert "found footprints" in message


@pytest.mark.parametrize("field, column", [(("buildings", "height", "column"), "HEIGHTS"),
                                           (("buildings", "id"), "BD_MGT"),
                                           (("buildings", "use", "column"), "USE"),
                                           (("landcover", "class", "column"), "L3_CODE"),
                                           (("roads", "width", "column"), "WIDTH_M")])
def test_a_configured_column_that_does_not_exist_lists_the_columns_that_do(sources, tmp_path, field, column):
    message = refused(edited(sources, tmp_path, _set(field, column)), tmp_path)
    assert f"{'.'.join(field)}: no column {column!r}" in message and f"found {column}" in message
    layer = {"buildings": "buildings", "landcover": "landuse", "roads": "roads"}[field[0]]
    assert f"(layer {layer!r})" in message
    listed = {"buildings": "BD_MGT_SN, GRND_FLR, HEIGHT, USABILITY, VALUE_KRW", "landcover": "L2_CODE",
              "roads": "RVWD"}[field[0]]
    assert all(c in message for c in listed.split(", ")), message


def test_a_geographic_target_crs_is_refused_at_its_line(sources, tmp_path):
    config = edited(sources, tmp_path, _set(("crs",), "EPSG:4326"))
    line = 1 + next(k for k, text in enumerate(config.read_text().splitlines()) if text.startswith("crs:"))
    message = refused(config, tmp_path)
    assert "crs: WGS 84 is geographic (degrees)" in message and "projected CRS in metres" in message
    assert message.endswith(f"(line {line})")


def test_dem_tiles_that_do_not_cover_the_extent_say_how_much_is_missing(sources, tmp_path):
    message = refused(edited(sources, tmp_path, _set(("extent",), [456500, 5549800, 457600, 5550600])), tmp_path)
    assert "extent: the DEM tiles do not cover the extent:" in message
    # the tiles reach about 300 m beyond the footprints (west edge near x 456790): 220 x 800 m missing
    assert "cells (" in message and "km²) have no tile, within x 456500.0 .. " in message


def test_a_missing_tile_leaves_part_of_the_default_extent_uncovered(sources, tmp_path):
    message = refused(edited(sources, tmp_path, _set(("dem",), ["dem/dem_00.tif", "dem/dem_01.tif"])), tmp_path)
    assert "dem: the DEM tiles do not cover the extent" in message and "%" in message


def test_footprints_and_dem_that_do_not_overlap_are_refused(sources, tmp_path):
    far = gpd.read_file(sources / "buildings.gpkg").translate(50_000, 0)
    gpd.GeoDataFrame(geometry=far, crs=far.crs).to_file(sources / f"{tmp_path.name}.gpkg", layer="buildings")
    def edit(config):
        config["buildings"] = {"file": f"{tmp_path.name}.gpkg"}
    message = refused(edited(sources, tmp_path, edit), tmp_path)
    assert "do not overlap (footprints x" in message and "DEM x" in message and "EPSG:32633" in message


def _without_14000(config):
    config["buildings"]["use"]["map"]["public"] = ["10000"]


def test_a_use_code_with_no_mapping_lists_the_codes_and_their_counts(sources, tmp_path):
    message = refused(edited(sources, tmp_path, _without_14000), tmp_path)
    count = int((gpd.read_file(sources / "buildings.gpkg")["USABILITY"] == "14000").sum())
    assert f"buildings.use.map: {count} footprints have codes the map does not list ('14000' {count})" in message
    assert "use.default" in message


def test_use_default_maps_unmapped_codes_with_a_warning(sources, tmp_path):
    def edit(config):
        _without_14000(config)
        config["buildings"]["use"]["default"] = "commercial"
    report = build_twin(edited(sources, tmp_path, edit), tmp_path / "twin")
    [warning] = [w for w in report.warnings if w.startswith("buildings.use")]
    assert "'14000'" in warning and "took the default class commercial" in warning
    table = gpd.read_file(tmp_path / "twin" / "buildings.gpkg")
    assert (table.loc[table["USABILITY"] == "14000", "twin_use"] == "commercial").all()


def test_a_land_cover_code_with_no_mapping_is_refused(sources, tmp_path):
    message = refused(edited(sources, tmp_path, _set(("landcover", "class", "map", "bare"), [620])), tmp_path)
    assert "landcover.class.map:" in message
    assert "land-cover polygons have codes the map does not list ('610'" in message


def test_a_build_that_would_not_fit_in_memory_is_refused_before_reading(sources, tmp_path):
    message = refused(sources / "build.yaml", tmp_path, available_memory=2**20)
    assert "the build of a 105 x 111 grid needs about" in message and "0.0 GiB is available" in message


def _holed_tiles(sources: Path, folder: str, value: float, nodata) -> None:
    """The example's tiles copied into ``folder``, 3 x 3 cells near the north-east corner of the south-west
    tile (under the footprints) set to ``value``."""
    (sources / folder).mkdir(exist_ok=True)
    for path in sorted((sources / "dem").glob("*.tif")):
        shutil.copyfile(path, sources / folder / path.name)
    with rasterio.open(sources / folder / "dem_00.tif", "r+") as dst:
        dst.nodata = nodata
        band = dst.read(1)
        band[5:8, -8:-5] = value
        dst.write(band, 1)


def test_nodata_holes_are_filled_and_reported_or_refused(sources, tmp_path):
    _holed_tiles(sources, "holed", -9999.0, -9999.0)
    report = build_twin(edited(sources, tmp_path, _set(("dem",), ["holed/*.tif"])), tmp_path / "twin")
    assert report.terrain["holes_filled"] == 1 and report.terrain["hole_cells_filled"] >= 1
    assert report.terrain["cells_outside_domain"] == 0
    message = refused(edited(sources, tmp_path, _set(("dem",), {"files": ["holed/*.tif"], "fill_holes": False})),
                      tmp_path / "second")
    assert "dem: the DEM has 1 nodata holes inside the domain" in message and "fill_holes" in message


def test_an_undeclared_nodata_value_is_refused_naming_the_tile(sources, tmp_path):
    _holed_tiles(sources, "undeclared", -9999.0, None)
    message = refused(edited(sources, tmp_path, _set(("dem",), ["undeclared/*.tif"])), tmp_path)
    assert "undeclared/dem_00.tif: elevation: implausible elevations" in message and "found -9999" in message


def test_heights_in_millimetres_are_refused_naming_the_footprints(sources, tmp_path):
    source = gpd.read_file(sources / "buildings.gpkg")
    source["HEIGHT"] = source["HEIGHT"] * 1000
    source.to_file(sources / f"{tmp_path.name}.gpkg", layer="buildings")
    message = refused(edited(sources, tmp_path, _set(("buildings", "file"), f"{tmp_path.name}.gpkg")), tmp_path)
    assert "buildings.height.column:" in message and "taller than 1000 m (ids 1130010100000001" in message


def test_a_footprint_layer_of_lines_is_refused_naming_a_feature(sources, tmp_path):
    def edit(config):
        config["buildings"] = {"file": "roads.gpkg"}
    message = refused(edited(sources, tmp_path, edit), tmp_path)
    assert "35 features of" in message and "are LineString (first: feature id 1)" in message
    assert "expected Polygon or MultiPolygon" in message


def test_a_dem_pattern_matching_nothing_is_refused(sources, tmp_path):
    message = refused(edited(sources, tmp_path, _set(("dem",), ["tiles/*.tif"])), tmp_path)
    assert "dem[0]: no file matches the pattern" in message


def test_schema_errors_are_listed_at_once_with_their_lines(sources, tmp_path):
    def edit(config):
        config["cel"] = 5
        config["buildings"]["small"] = "largest"
    message = refused(edited(sources, tmp_path, edit), tmp_path)
    assert message.count("(line ") == 2 and "2 errors:" in message
    assert "cel: unknown key (typo?)" in message
    assert "buildings.small: Input should be 'centroid' or 'all_touched'" in message


def test_the_command_refuses_a_folder_it_did_not_write_with_one_line_and_exit_2(sources, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main(["build", str(sources / "build.yaml"), "--out", str(out)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a twin folder of this project" in err and "notes.txt" in err
    assert (out / "notes.txt").read_text() == "keep me" and sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    config = edited(sources, tmp_path, _set(("buildings", "use", "column"), "USE"))
    assert main(["build", str(config), "--out", str(tmp_path / "twin")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "no column 'USE'" in err


def test_a_raster_land_cover_code_with_no_mapping_is_refused_with_its_cell_count(sources, tmp_path):
    test_build.write_worldcover(sources / f"{tmp_path.name}.tif", sources, codes=(10, 30, 95))
    def edit(config):
        config["landcover"] = {"file": f"{tmp_path.name}.tif", "class": {"map": {"forest": [10], "grass": [30]}}}
    message = refused(edited(sources, tmp_path, edit), tmp_path)
    found = re.search(r"landcover\.class\.map: (\d+) land-cover cells have codes the map does not list \('95' (\d+)\)",
                      message)
    assert found and found[1] == found[2] and int(found[1]) > 1000, message   # the east third of 11655 cells
