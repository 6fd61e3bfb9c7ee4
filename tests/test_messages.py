"""Error messages read as sentences: nothing "expected None", lists without repeats or internal
names, and bad command-line values are bad input (exit 2) with a one-line message."""

from __future__ import annotations

import numpy as np
import pytest
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
import yaml

from twin.cli import EXIT_BAD_INPUT, main
from twin.core.errors import InputError, one_of
from twin.core.rasters import refuse_cells
from twin.core.yamlio import MAX_YAML_DEPTH, load_yaml_with_lines
from twin.hazards.registry import load_scenario
from viz.run_data import RunData, get_layer


@pytest.mark.parametrize("expected", [None, "", "   "])
def test_a_message_without_expected_names_only_what_was_found(expected):
    text = str(InputError("unknown hazard", field="hazard", expected=expected, found="banana"))
    assert text == "hazard: unknown hazard (found banana)"


@pytest.mark.parametrize("found", [None, ""])
def test_a_message_without_found_names_only_what_was_expected(found):
    assert str(InputError("bad view", expected="sw or top", found=found)) == "bad view (expected sw or top)"


def test_found_zero_is_still_said():
    assert str(InputError("--workers must be between 1 and 1024", found=0)) == \
        "--workers must be between 1 and 1024 (found 0)"


def test_names_are_listed_once_with_or_before_the_last():
    assert one_of([]) == "nothing"
    assert one_of(["sw"]) == "sw"
    assert one_of(["sw", "top"]) == "sw or top"
    assert one_of(["a", "b", "a", "c"]) == "a, b or c"


def _run_with_crs_in_both_files(tmp_path) -> RunData:
    """A run whose hazard.nc and risk.nc both hold the CRS variable spatial_ref, as real runs do."""
    coords = {"y": [15.0, 5.0], "x": [5.0, 15.0]}
    grid = np.zeros((2, 2))
    twin = xr.Dataset({"elevation": (("y", "x"), grid)}, coords=coords).rio.write_crs("EPSG:5186")
    hazard = xr.Dataset({"max_depth": (("y", "x"), grid), "depth": (("time", "y", "x"), grid[None])},
                        coords={**coords, "time": [0.0]}).rio.write_crs("EPSG:5186")
    risk = xr.Dataset({"p_depth_over_0p5m": (("y", "x"), grid)}, coords=coords).rio.write_crs("EPSG:5186")
    assert "spatial_ref" in hazard and "spatial_ref" in risk
    return RunData(tmp_path, twin, hazard, risk, None)


def test_layer_not_found_lists_each_drawable_layer_once(tmp_path):
    with pytest.raises(InputError) as info:
        get_layer(_run_with_crs_in_both_files(tmp_path), "banana")
    assert str(info.value) == (f"{tmp_path}: banana: layer not found in hazard.nc or risk.nc "
                               "(expected depth, max_depth or p_depth_over_0p5m)")


def test_raster_values_that_read_alike_are_listed_once():
    values = np.array([[1_000_000.3, 1_000_000.4], [257.0, 257.0]])
    with pytest.raises(InputError) as info:
        refuse_cells(values > 0, values, "dem.tif", "elevation", "implausible elevations", "-500 .. 9000 m")
    assert str(info.value) == ("dem.tif: elevation: implausible elevations in 4 cells (first at row 0, col 0) "
                               "(expected -500 .. 9000 m, found 257, 1e+06)")


def test_a_block_given_as_text_is_asked_for_as_a_mapping_without_class_names(tmp_path, twin_dir):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\ntwin: {twin_dir / 'twin.yaml'}\nhazard: flood\nduration: 1 h\nflood: banana\n")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    text = str(info.value)
    assert "flood: Input should be a mapping (key: value lines); found 'banana' (line 5)" in text
    assert "instance of" not in text and "Spec" not in text


def test_libyaml_nesting_limit_reads_like_ours(tmp_path, monkeypatch):
    """Newer libyaml (PyYAML 6.0.4's wheels) stops deep nesting itself, while scanning ahead of the
    composer that counts levels; the message is the same as when the composer stops it."""
    import twin.core.yamlio as yamlio

    def libyaml_refuses(text, path):
        raise yaml.scanner.ScannerError("while increasing flow level", None, "exceeded maximum nesting depth",
                                        yaml.Mark("s.yaml", 0, 0, 1000, None, None))

    monkeypatch.setattr(yamlio, "_parse", libyaml_refuses)
    path = tmp_path / "s.yaml"
    path.write_text("a: [[[]]]\n")
    with pytest.raises(InputError) as info:
        load_yaml_with_lines(path)
    assert str(info.value) == f"{path}: YAML nested deeper than {MAX_YAML_DEPTH} levels (line 1)"


@pytest.mark.parametrize("argv, message", [
    (["render", "RUN", "--camera", "banana"],
     "error: --camera takes 9 numbers: position x,y,z, focal point x,y,z, up x,y,z (found banana)\n"),
    (["sample-forecast", "--out", "OUT/f.nc", "--start", "banana"],
     "error: start: invalid sample forecast setting (expected an ISO 8601 UTC time such as "
     "2026-11-25T00:00, found banana)\n"),
    (["sample-forecast", "--out", "OUT/f.nc", "--members", "0"],
     "error: members: invalid sample forecast setting (expected >= 1, found 0)\n"),
])
def test_bad_command_line_values_are_bad_input_in_one_line(tmp_path, capsys, argv, message):
    argv = [a.replace("RUN", str(tmp_path)).replace("OUT", str(tmp_path)) for a in argv]
    assert main(argv) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == message
    assert not (tmp_path / "f.nc").exists()
