"""Tests of ``twin info`` (twin.cli): the summary it prints and its exit codes.

Exit codes: 0 ok, 2 bad input with one line on stderr and no traceback.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import write_manifest
from twin.cli import EXIT_BAD_INPUT, EXIT_OK, main


def _assert_summary(out: str) -> None:
    """The summary of the ``twin_dir`` twin: 12 x 16 cells, EPSG:5186, two buildings."""
    assert re.search(r"^grid\s+12 x 16 cells", out, re.M), out
    assert re.search(r"^CRS\s+EPSG:5186$", out, re.M), out
    assert re.search(r"^buildings\s+2$", out, re.M), out
    assert re.search(r"^cell size\s+10 m$", out, re.M), out


def test_info_prints_grid_crs_and_building_count(twin_dir, capsys):
    assert main(["info", str(twin_dir / "twin.yaml")]) == EXIT_OK
    captured = capsys.readouterr()
    _assert_summary(captured.out)
    assert captured.err == ""


def test_info_json_summary(twin_dir, capsys):
    assert main(["info", "--json", str(twin_dir / "twin.yaml")]) == EXIT_OK
    info = json.loads(capsys.readouterr().out)
    assert info["shape"] == [12, 16]
    assert info["crs"] == "EPSG:5186"
    assert info["buildings"] == 2
    assert info["cell_size_m"] == 10.0


def test_info_on_a_scenario_summarizes_its_twin(twin_dir, capsys):
    scenario = twin_dir / "scenario.yaml"
    scenario.write_text("name: demo\ntwin: twin.yaml\nhazard: flood\nduration: 1 h\n", encoding="utf-8")
    assert main(["info", str(scenario)]) == EXIT_OK
    _assert_summary(capsys.readouterr().out)


def test_info_missing_raster_exits_2_with_one_line(tmp_path, capsys):
    manifest = write_manifest(tmp_path / "twin.yaml", {"terrain": "no_such_dem.tif"})
    assert main(["info", str(manifest)]) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ") and "no_such_dem.tif" in lines[0]


def test_info_manifest_schema_error_exits_2_without_traceback(twin_dir, capsys):
    """A misspelt required key is bad input (exit 2), not an unexpected failure (exit 1)."""
    manifest = twin_dir / "typo.yaml"
    manifest.write_text("rasters:\n  terain: dem.tif\n", encoding="utf-8")
    code = main(["info", str(manifest)])
    captured = capsys.readouterr()
    assert code == EXIT_BAD_INPUT, captured.err
    assert "Traceback" not in captured.err
    assert "typo.yaml" in captured.err and "terain" in captured.err


def test_info_subprocess_exit_codes(twin_dir):
    """The real process: exit 0 and the summary on stdout; bad input exit 2, one stderr line, no traceback."""
    good = subprocess.run([sys.executable, "-m", "twin.cli", "info", "twin.yaml"], cwd=twin_dir,
                          capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stderr
    _assert_summary(good.stdout)

    write_manifest(twin_dir / "bad.yaml", {"terrain": "no_such_dem.tif"})
    bad = subprocess.run([sys.executable, "-m", "twin.cli", "info", "bad.yaml"], cwd=twin_dir,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert len(bad.stderr.splitlines()) == 1, bad.stderr
    assert "no_such_dem.tif" in bad.stderr
    assert "Traceback" not in bad.stderr
