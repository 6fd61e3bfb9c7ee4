"""Command-line conventions of ``twin`` (twin/cli.py): version, ``python -m twin``, help texts,
``--json``, ``-q``/``-v``/``--log-file``, quiet closed pipes, ``--until`` and the run's report.

The runs are of a 40 x 60 valley twin for a few simulated minutes (a few seconds each); the
closed-pipe and version checks start real processes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import twin
from conftest import write_valley_twin
from twin.cli import EXIT_BAD_INPUT, EXIT_OK, build_parser, main
from twin.pipeline.report import headline

ROOT = Path(__file__).resolve().parents[1]

SCENARIO = """name: valley
twin: {twin}
hazard: flood
duration: 10 min
flood:
  rainfall: {{times: [0, 10 min], intensity_mm_h: [60, 0]}}
  boundaries: {{north: closed, south: free, east: closed, west: closed}}
output: {{every: 1 min}}
render: {{enabled: false}}
"""


def _project(folder: Path) -> Path:
    """A valley twin and a 10-minute flood scenario beside it; returns the scenario."""
    twin_yaml = write_valley_twin(folder / "twin")
    scenario = folder / "valley.yaml"
    scenario.write_text(SCENARIO.format(twin=twin_yaml), encoding="utf-8")
    return scenario


def _main(args) -> tuple[int, str, str]:
    """``twin ARGS`` in-process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def _json_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def truncated(tmp_path_factory):
    """``twin run --until 2min --json -q --log-file`` of the 10-minute scenario."""
    root = tmp_path_factory.mktemp("truncated")
    scenario = _project(root)
    code, out, err = _main(["run", scenario, "--out", root / "run", "--until", "2min", "--no-render", "--json",
                            "-q", "--log-file", root / "twin.log"])
    return {"root": root, "run": root / "run", "code": code, "out": out, "err": err}


@pytest.fixture
def scenario(tmp_path):
    return _project(tmp_path)


def test_version_is_the_package_version(tmp_path):
    done = subprocess.run([sys.executable, "-m", "twin", "--version"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert done.stdout.strip() == f"twin {declared}"
    assert twin.__version__ == declared


def test_python_m_twin_and_run_scenario_py_give_help(tmp_path):
    via_module = subprocess.run([sys.executable, "-m", "twin", "--help"], capture_output=True, text=True,
                                timeout=120, cwd=tmp_path)
    assert via_module.returncode == 0, via_module.stderr
    assert {"run", "validate", "info", "batch", "render"} <= set(via_module.stdout.split())
    script = subprocess.run([sys.executable, str(ROOT / "run_scenario.py"), "--help"], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    assert script.returncode == 0, script.stderr
    assert "--until" in script.stdout and "--log-file" in script.stdout


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_every_argument_has_help_and_every_subcommand_an_example():
    parser = build_parser()
    commands = _subparsers(parser)
    assert {"info", "validate", "run", "batch", "render", "sample-city", "sample-forecast"} <= set(commands)
    for name, sub in commands.items():
        assert sub.epilog and sub.epilog.startswith("example:") and f"twin {name}" in sub.epilog, name
        assert isinstance(sub.formatter_class, type) and issubclass(sub.formatter_class,
                                                                    argparse.RawDescriptionHelpFormatter)
        options = {opt for a in sub._actions for opt in a.option_strings}
        assert {"-v", "--verbose", "-q", "--quiet", "--log-file", "--debug"} <= options, name
        for action in sub._actions:
            assert action.help and action.help.strip(), f"twin {name}: {action.dest} has no help"
        assert f"twin {name}" in sub.format_help().split("example:")[1]


def _closed_pipe(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run ``python -m twin ARGS`` with the read end of its stdout closed before it writes."""
    proc = subprocess.Popen([sys.executable, "-m", "twin", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=cwd)
    proc.stdout.close()   # as `| head -0` would; the child is still importing
    _, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(args, proc.returncode, None, err.decode())


@pytest.mark.parametrize("args", [["info", "twin/twin.yaml"], ["--help"]],
                         ids=["info", "help"])
def test_a_closed_stdout_ends_quietly(scenario, args):
    done = _closed_pipe(args, scenario.parent)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_info_into_head_prints_its_first_line(scenario):
    done = subprocess.run(["bash", "-c", f"set -o pipefail; {sys.executable} -m twin info twin/twin.yaml | head -1"],
                          capture_output=True, text=True, timeout=120, cwd=scenario.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("twin ") and len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_until_later_than_the_duration_is_bad_input(scenario, tmp_path):
    code, out, err = _main(["run", scenario, "--out", tmp_path / "run", "--until", "20 min", "--no-render"])
    assert code == EXIT_BAD_INPUT
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith(f"error: {scenario}: --until:")
    assert "found 1200 s" in line and "at most 600 s" in line and "duration" in line
    assert not (tmp_path / "run").exists()
    code, _, err = _main(["validate", scenario, "--until", "20 min"])
    assert code == EXIT_BAD_INPUT and "--until" in err


def test_until_earlier_is_a_truncated_run_in_the_manifest_and_summary(truncated):
    assert truncated["code"] == EXIT_OK, truncated["err"]
    manifest = json.loads((truncated["run"] / "manifest.json").read_text())
    summary = json.loads((truncated["run"] / "summary.json").read_text())
    for record in (manifest, summary):
        assert record["status"] == "truncated"
        assert record["until_s"] == 120.0
        assert record["scenario_duration_s"] == 600.0
    assert summary["duration_s"] == 120.0        # the simulated time


def test_run_json_is_the_report_alone_and_quiet_prints_nothing_else(truncated):
    report = json.loads(truncated["out"])          # stdout holds one JSON document and nothing else
    assert truncated["err"] == ""                  # -q: no progress bar, no log lines
    assert set(report) == {"run_dir", "status", "until_s", "products", "summary"}
    assert report["status"] == "truncated" and report["until_s"] == 120.0
    assert Path(report["run_dir"]) == truncated["run"]
    assert report["summary"] == json.loads((truncated["run"] / "summary.json").read_text())
    on_disk = sorted(p.name for p in truncated["run"].iterdir() if p.name not in (".city-twin", "manifest.json"))
    assert [p["file"] for p in report["products"]] == on_disk
    assert "run.log" in on_disk
    sizes = {p["file"]: p["bytes"] for p in report["products"]}
    assert sizes["run.log"] == (truncated["run"] / "run.log").stat().st_size   # not appended after the manifest


def test_run_log_lines_are_json_events_with_their_stages(truncated):
    records = _json_lines(truncated["run"] / "run.log")
    for record in records:
        assert {"time", "level", "event", "message"} <= set(record), record
        assert record["level"] in ("DEBUG", "INFO", "WARNING", "ERROR")
    events = [r["event"] for r in records]
    assert events[0] == "run_start" and events[-1] == "run_end"
    stages = [r["stage"] for r in records if r["event"] == "stage_done"]
    assert stages == ["control_run", "control_write", "members", "write"]
    assert all(r["seconds"] >= 0 for r in records if r["event"] == "stage_done")
    assert records[0]["until_s"] == 120.0 and records[-1]["status"] == "truncated"


def test_log_file_gets_the_same_events(truncated):
    in_file = _json_lines(truncated["root"] / "twin.log")
    in_run = _json_lines(truncated["run"] / "run.log")
    assert [(r["time"], r["event"], r["message"]) for r in in_file] == \
           [(r["time"], r["event"], r["message"]) for r in in_run]


def test_run_ends_with_its_products_and_headline_figures(scenario, tmp_path):
    code, out, err = _main(["run", scenario, "--out", tmp_path / "run", "--until", "10 min", "--no-render"])
    assert code == EXIT_OK, err
    lines = out.splitlines()
    assert lines[0] == f"run complete, stopped at --until 600 s: {tmp_path / 'run'}"
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "complete"        # --until at the scenario's end is the whole run
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    for product in manifest["products"]:
        assert any(line.split() and line.split()[0] == product["file"] for line in lines), product
    figures = dict(headline(summary))
    assert figures["peak depth"] == f"{summary['peak_depth_m']:.3f} m"
    classes = summary["risk"]["buildings_by_risk_class"]
    assert figures["buildings by risk class"] == ", ".join(f"{k} {v:,}" for k, v in classes.items())
    for label, text in figures.items():
        assert any(line.split(label, 1)[-1].strip() == text for line in lines if line.strip().startswith(label))
    assert "run_start" not in out                  # the log lines go to stderr
    assert "control run done" in err


def test_headline_of_a_fire_summary_shows_burned_area_and_buildings():
    summary = {"burned_area_m2": 2_500_000.0, "buildings_burned": 12, "buildings_total": 400,
               "risk": {"expected_total_loss_krw": 1.5e9, "buildings_by_risk_class": {"none": 300, "high": 100}}}
    assert headline(summary) == [("burned area", "2,500,000 m^2 (2.500 km^2)"),
                                 ("buildings burned", "12 of 400"),
                                 ("expected loss", "1,500,000,000 KRW"),
                                 ("buildings by risk class", "none 300, high 100")]


def test_validate_lists_what_it_checked(scenario):
    code, out, err = _main(["validate", scenario])
    assert code == EXIT_OK, err
    lines = out.splitlines()
    assert lines[0] == f"{scenario}: valid; checked:"
    checked = [line.split()[0] for line in lines[1:]]
    assert checked == ["scenario", "budget", "twin", "forcing", "hazard", "members", "output"]
    twin_line = next(line for line in lines if line.split()[0] == "twin")
    assert "twin.yaml" in twin_line and "dem.tif" in twin_line and "height.tif" in twin_line
    assert "40 x 60 cells of 10 m" in twin_line


def test_validate_json_holds_the_checks_or_the_error(scenario):
    code, out, _ = _main(["validate", "--json", "--until", "5 min", scenario])
    assert code == EXIT_OK
    report = json.loads(out)
    assert report["valid"] is True and report["hazard"] == "flood" and report["until_s"] == 300.0
    assert [c["check"] for c in report["checks"]][:2] == ["scenario", "until"]
    assert report["budget"]["memory_bytes"] > 0 and report["budget"]["disk_bytes"] > 0

    scenario.write_text(scenario.read_text().replace("duration: 10 min", "duration: -1 min"))
    code, out, err = _main(["validate", "--json", scenario])
    assert code == EXIT_BAD_INPUT
    report = json.loads(out)
    assert report["valid"] is False
    assert report["error"]["file"] == str(scenario) and "duration" in report["error"]["text"]
    assert err == f"error: {report['error']['text']}\n"


def test_info_json_with_verbose_is_json_alone(scenario):
    code, out, _ = _main(["info", "--json", "-v", scenario.parent / "twin" / "twin.yaml"])
    assert code == EXIT_OK
    assert json.loads(out)["shape"] == [40, 60]


def test_quiet_prints_nothing_but_errors(scenario):
    assert _main(["validate", "-q", scenario]) == (EXIT_OK, "", "")
    code, out, err = _main(["validate", "-q", scenario.parent / "missing.yaml"])
    assert code == EXIT_BAD_INPUT and out == ""
    assert err.startswith("error: ") and "missing.yaml" in err and len(err.splitlines()) == 1


def test_log_file_records_the_error_and_a_bad_log_file_is_bad_input(scenario, tmp_path):
    log = tmp_path / "errors.log"
    code, _, err = _main(["validate", scenario.parent / "missing.yaml", "--log-file", log])
    assert code == EXIT_BAD_INPUT
    [record] = _json_lines(log)
    assert record["level"] == "ERROR" and record["event"] == "exit" and record["exit_code"] == EXIT_BAD_INPUT
    assert record["message"] == err.strip()                 # and the console showed it once
    code, out, err = _main(["validate", scenario, "--log-file", tmp_path])
    assert code == EXIT_BAD_INPUT and out == ""
    assert "--log-file" in err and str(tmp_path) in err
