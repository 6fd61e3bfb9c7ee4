"""Fuzz tests of the ``twin`` command line with broken scenarios, twin manifests and forecasts.

Each example copies a small project (a 20 x 30 valley twin, odd rasters and files beside it, a
flood and a fire scenario of 5 minutes, a 2-member forecast of 1 hour in 10-minute steps) into a
fresh folder, breaks one input with the strategies of :mod:`fuzz_inputs`, and calls
``twin.cli.main`` in-process from a working folder inside that copy: mostly ``twin validate``, a
smaller share ``twin run --until 1 min --no-render --quiet --out OUT/run``, and ``twin batch``
for the forecasts. Every example must keep these properties (README "Command line" and "Safety"):

* the exit code is 0, 1 or 2; ``validate`` never exits 1 (it runs nothing), and exit 1 is never
  the catch-all for an unexpected exception ("run failed (unexpected …)");
* stderr never holds a traceback;
* on exit 2 stderr has one line starting with ``error:`` and naming a file first;
* nothing is written, changed or deleted anywhere in the copy (paths, bytes, modes, links),
  the scenario's folder and the working folder included, except under the run's ``--out``
  folder on exit 0; a failed run leaves nothing at all; files outside the copy that inputs
  name (``/etc/passwd``) are unchanged;
* no staging folder (``.NAME.tmp-…``, ``.NAME.old-…``) or lock file (``.NAME.lock``) is left;
* a scenario that ``validate`` accepts is not refused as bad input by ``run``; a forecast broken
  by any of the mutations drawn is refused by ``batch`` (exit 2);
* each command ends within :data:`LIMIT_S` seconds.

The examples are drawn deterministically (``derandomize=True``), so a failure is reproducible.
The tests named ``…_found_by_the_fuzzing`` replay, as plain examples, the inputs that broke a
property when this file was written (each one a bug of the project until it is fixed).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import stat
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CELL, ORIGIN, write_manifest, write_raster, write_valley_twin
from fuzz_inputs import EXTERNAL_PATHS, ODD_PATHS, apply_forecast_ops, dump_yaml, forecast_ops, mutated_yaml
from twin.cli import main

#: Longest time (s) one command of an example may take.
LIMIT_S = 20.0
SHAPE = (20, 30)
#: A point inside the valley, away from the buildings (m, EPSG:5186).
INSIDE = [ORIGIN[0] + 15 * CELL, ORIGIN[1] - 10 * CELL]
FORECAST = {"members": 2, "hours": 6, "step_s": 600}

TWIN = {"name": "valley", "crs": "EPSG:5186", "rasters": {"elevation": "dem.tif", "building_height": "height.tif"},
        "resample": False}
FLOOD = {"name": "valley", "twin": "../twin/twin.yaml", "hazard": "flood", "duration": "5 min",
         "flood": {"rainfall": {"times": [0, "2 min"], "intensity_mm_h": [60, 0]},
                   "boundaries": {"north": "closed", "south": "free", "east": "closed", "west": "closed"},
                   "losses": {"infiltration_mm_h": {"grass": 10}, "drainage_mm_h": 20}},
         "output": {"every": "1 min", "gauges": [{"name": "mid", "at": INSIDE}]},
         "render": {"enabled": False}}
FIRE = {"name": "fire", "twin": "../twin/twin.yaml", "hazard": "fire", "duration": "5 min",
        "fire": {"ignitions": [{"at": INSIDE, "time": 0}],
                 "wind": {"times": [0, "2 min"], "speed_m_s": [5, 8], "from_deg": [270, 280]},
                 "moisture": {"dead_1h": 0.05}, "spotting": {"brands_per_cell": 1, "median_distance_m": 60}},
        "output": {"every": "1 min"}, "render": {"enabled": False}}
BASES = {"flood": FLOOD, "fire": FIRE}


def _write_odd_files(folder: Path) -> None:
    """Rasters and files beside the twin that a manifest or scenario may wrongly name."""
    ny, nx = SHAPE
    dem = 50.0 + np.zeros(SHAPE, dtype=np.float32)
    t = Affine(CELL, 0.0, ORIGIN[0], 0.0, -CELL, ORIGIN[1])
    write_raster(folder / "wrong_shape.tif", dem[:10, :10])
    write_raster(folder / "wrong_crs.tif", dem, crs="EPSG:32652")
    write_raster(folder / "geographic.tif", dem, crs="EPSG:4326", transform=Affine(1e-4, 0, 127.4, 0, -1e-4, 36.3))
    write_raster(folder / "no_crs.tif", dem, crs=None)
    write_raster(folder / "rotated.tif", dem, transform=t * Affine.rotation(10))
    write_raster(folder / "non_square.tif", dem, transform=Affine(CELL, 0, ORIGIN[0], 0, -CELL / 2, ORIGIN[1]))
    for name, value in (("nan.tif", np.nan), ("inf.tif", np.inf), ("huge.tif", 1e30), ("negative.tif", -1e30)):
        bad = dem.copy()
        bad[ny // 2, nx // 2] = value
        write_raster(folder / name, bad)
    hole = dem.copy()
    hole[ny // 2, nx // 2] = -9999
    write_raster(folder / "nodata_hole.tif", hole, nodata=-9999)
    write_raster(folder / "classes99.tif", np.full(SHAPE, 99, dtype=np.uint8))
    write_raster(folder / "landcover.tif", np.tile(np.array([1, 2, 4, 5, 6, 7], dtype=np.uint8), (ny, nx // 6)))
    write_raster(folder / "complex.tif", dem.astype(np.complex64))
    (folder / "notes.txt").write_text("not a raster\n")
    (folder / "empty.tif").write_bytes(b"")
    (folder / "truncated.tif").write_bytes((folder / "dem.tif").read_bytes()[:300])
    (folder / "garbage.tif").write_bytes(bytes(range(256)) * 4)
    (folder / "subdir").mkdir()
    (folder / "loop.tif").symlink_to("loop.tif")
    (folder / "dangling.tif").symlink_to("missing.tif")


#: Names of the odd files written by :func:`_write_odd_files`, plus a FIFO made in each sandbox.
ODD_FILES = ("wrong_shape.tif", "wrong_crs.tif", "geographic.tif", "no_crs.tif", "rotated.tif", "non_square.tif",
             "nan.tif", "inf.tif", "huge.tif", "negative.tif", "nodata_hole.tif", "classes99.tif", "landcover.tif",
             "complex.tif", "notes.txt", "empty.tif", "truncated.tif", "garbage.tif", "subdir", "loop.tif",
             "dangling.tif", "fifo.tif", "missing.tif", "twin.yaml", "dem.tif")
RASTER_NAMES = st.sampled_from(ODD_FILES)
SCENARIO_PATHS = st.sampled_from(ODD_PATHS + EXTERNAL_PATHS + tuple(f"../twin/{n}" for n in ODD_FILES)
                                 + ("../forecast.nc", "../scen", "../scen/flood.yaml"))
CRS_TEXTS = st.sampled_from(["EPSG:4326", "EPSG:32652", "EPSG:999999", "EPSG:", "garbage", "", "epsg:5186",
                             "+proj=longlat", 'PROJCS["x"]', "EPSG:5186 "]) | st.integers()


def _optional_scenario_keys(hazard: str, run: bool) -> dict:
    """Optional scenario keys a case may add (valid values; later mutations may break them).

    The ensemble, a scheduler and tiles are only validated, not run (a cluster takes seconds).
    """
    keys = {
        "twin": SCENARIO_PATHS,
        "seed": st.integers(0, 2**64 - 1),
        "description": st.text(max_size=30),
        "output.dir": st.sampled_from(ODD_PATHS + EXTERNAL_PATHS + ("runs/x", "../twin", "../scen")),
        "output.gauge_every": st.sampled_from(["1 s", "1 min", 0.001]),
        "output.geotiff": st.booleans(),
        "render.views": st.just(["sw", "top"]),
    }
    if hazard == "flood":
        keys.update({
            "flood.inflows": st.just([{"name": "in", "at": INSIDE, "times": [0, "1 min"], "discharge_m3_s": [0, 5]}]),
            "flood.manning_n": st.sampled_from([0.03, {"default": 0.03, "by_landcover": {"road": 0.015}}]),
            "flood.initial_depth_m": st.sampled_from([0.1, "../twin/dem.tif", "../twin/nan.tif",
                                                      "../twin/wrong_shape.tif"]),
            "flood.rainfall": st.just({"file": "../forecast.nc", "variable": "rainfall", "member": 0}),
            "flood.numerics": st.just({"theta": 0.8, "max_dt": 10, "wet_threshold_m": 0.05}),
        })
    else:
        keys.update({
            "fire.numerics": st.just({"n_directions": 16, "hamada_window_m": 150}),
            "fire.wind_adjustment_factor": st.just(0.4),
            "fire.ignitions": st.just([{"line": [INSIDE, [INSIDE[0] + 50, INSIDE[1]]], "time": "1 min"}]),
        })
    if not run:
        perturb = ({"manning_scale": {"uniform": {"low": 0.9, "high": 1.1}}} if hazard == "flood"
                   else {"ignition": {"jitter_m": 50}, "wind_speed": {"normal": {"mean": 0, "sd": 1}}})
        keys.update({"ensemble": st.just({"members": 3, "perturb": perturb}),
                     "scheduler": st.just("tcp://127.0.0.1:8786"),
                     "parallel": st.just({"tiles": [2, 1]})})
    return keys


def _scenario_cases(hazard: str, run: bool = False):
    """Cases of the ``hazard`` scenario (``run``: without the keys that start a cluster)."""
    return mutated_yaml(BASES[hazard], _optional_scenario_keys(hazard, run), SCENARIO_PATHS)


_RASTER_KEYS = ("building_id", "building_use", "landcover", "fuel_model", "manning_n", "terrain", "buildings")
_TWIN_OPTIONAL = {**{f"rasters.{k}": RASTER_NAMES for k in _RASTER_KEYS}, "resample": st.booleans(),
                  "crs": CRS_TEXTS}
TWIN_CASES = mutated_yaml(TWIN, _TWIN_OPTIONAL, RASTER_NAMES | CRS_TEXTS)
#: Scenarios with the twin inline (written in the twin's folder, so the raster names resolve).
INLINE_CASES = {hazard: mutated_yaml({**BASES[hazard], "twin": TWIN},
                                     {f"twin.{k}": v for k, v in _TWIN_OPTIONAL.items()}, RASTER_NAMES | CRS_TEXTS)
                for hazard in BASES}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The project every example copies: ``twin/``, ``scen/{flood,fire}.yaml``, ``nightly/``, ``forecast.nc``."""
    from twin.samples.forecast import district_bounds_lonlat, write_sample_forecast

    root = tmp_path_factory.mktemp("fuzz-template")
    twin = write_valley_twin(root / "twin", shape=SHAPE)
    write_manifest(twin, TWIN["rasters"], **{k: v for k, v in TWIN.items() if k != "rasters"})
    _write_odd_files(root / "twin")
    (root / "scen").mkdir()
    for hazard, base in BASES.items():
        (root / "scen" / f"{hazard}.yaml").write_text(dump_yaml(base))
    (root / "nightly").mkdir()
    (root / "nightly" / "valley.yaml").write_text(dump_yaml({**FLOOD, "duration": "10 min"}))
    write_sample_forecast(root / "forecast.nc", district_bounds_lonlat(twin), start="2026-11-25T00:00",
                          margin_deg=0.02, resolution_deg=0.002, **FORECAST)
    return root


@contextlib.contextmanager
def _sandbox(template: Path):
    """A fresh copy of ``template`` with an empty ``out/`` and ``cwd/`` (the working folder while inside)."""
    root = Path(tempfile.mkdtemp(dir=template.parent, prefix="example-"))
    try:
        shutil.copytree(template, root, symlinks=True, dirs_exist_ok=True)
        os.mkfifo(root / "twin" / "fifo.tif")
        (root / "out").mkdir()
        (root / "cwd").mkdir()
        with contextlib.chdir(root / "cwd"):
            yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _snapshot(root: Path) -> dict[str, tuple]:
    """Every path under ``root`` (not following links): kind, mode, and the bytes or link target."""
    tree = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            info = path.lstat()
            mode = info.st_mode
            if stat.S_ISLNK(mode):
                entry = ("link", os.readlink(path))
            elif stat.S_ISREG(mode):
                entry = ("file", stat.S_IMODE(mode), path.read_bytes())
            else:
                entry = (stat.S_IFMT(mode), stat.S_IMODE(mode))
            tree[str(path.relative_to(root))] = entry
    return tree


def _external_snapshot() -> dict[str, bytes | None]:
    """The regular files outside the sandbox that inputs name, with their bytes (None: absent)."""
    return {p: (Path(p).read_bytes() if Path(p).is_file() else None)
            for p in EXTERNAL_PATHS if not p.startswith(("/dev", "/proc")) and not Path(p).is_dir()}


class _Overtime(BaseException):
    """Raised in the command when it runs past :data:`LIMIT_S` (not an Exception, so the CLI passes it on)."""


def _raise_overtime(signum, frame):
    raise _Overtime()


def _invoke(args: list, capfd) -> tuple[int, str]:
    """``twin.cli.main(args)`` within :data:`LIMIT_S`; returns the exit code and stderr."""
    capfd.readouterr()
    previous = signal.signal(signal.SIGALRM, _raise_overtime)
    signal.setitimer(signal.ITIMER_REAL, LIMIT_S)
    t0 = time.perf_counter()
    try:
        code = main([str(a) for a in args])
    except _Overtime:
        pytest.fail(f"twin {args[0]} ran past {LIMIT_S:g} s")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.perf_counter() - t0 < LIMIT_S
    return code, capfd.readouterr().err


_LEFTOVER = re.compile(r"^\..+\.(tmp|old)-[0-9a-f]{8}$|^\..+\.lock$")


def _problems(command: str, code: int, err: str, root: Path, before: dict, external: dict,
              allowed: str | None = None) -> list[str]:
    """Every broken property of one command's result (see the module docstring).

    ``allowed``: the folder (relative to ``root``) a successful command may write.
    """
    problems = []
    if code not in (0, 1, 2):
        problems.append(f"exit code {code!r}")
    if command == "validate" and code == 1:
        problems.append("validate exited 1 (a run failure) although it runs nothing")
    if "(unexpected " in err:
        problems.append("an unexpected exception became exit 1")
    if "Traceback" in err:
        problems.append("a traceback on stderr")
    if code == 2:
        lines = [line for line in err.split("\n") if line.startswith("error:")]
        if len(lines) != 1:
            problems.append(f"exit 2 with {len(lines)} lines starting with 'error:'")
        elif not _names_a_file(lines[0], root):
            problems.append("the error does not name a file first")
    after = _snapshot(root)
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    if code != 0 or allowed is None:
        outside = changed
    else:
        outside = [p for p in changed if p != allowed and not p.startswith(allowed + os.sep)]
    if outside:
        problems.append(f"changed outside the run folder: {outside[:8]}")
    leftovers = [p for p in after if _LEFTOVER.match(Path(p).name)]
    if leftovers:
        problems.append(f"leftovers: {leftovers}")
    if _external_snapshot() != external:
        problems.append("a file outside the sandbox changed")
    return problems


def _names_a_file(line: str, root: Path) -> bool:
    """Whether an ``error:`` line names, first, a path in the sandbox or one the inputs name."""
    match = re.match(r"error: (/.*?): ", line)
    if match is None:
        return False
    path = match.group(1)
    return path.startswith(str(root)) or any(path == p or path.startswith(p.rstrip("/") + "/")
                                             for p in EXTERNAL_PATHS)


def _check(command: list, capfd, root: Path, allowed: str | None = None) -> int:
    """Run one command in the sandbox and assert every property; returns its exit code."""
    before, external = _snapshot(root), _external_snapshot()
    code, err = _invoke(command, capfd)
    problems = _problems(command[0], code, err, root, before, external, allowed)
    assert not problems, f"twin {command[0]} exited {code}: {'; '.join(problems)}\nstderr:\n{err[-3000:]}"
    return code


def _validate_then_run(root: Path, scenario: Path, capfd) -> None:
    """``validate``, then a quick ``run`` into ``out/run``; a scenario validate accepts is not bad input to run."""
    valid = _check(["validate", scenario], capfd, root)
    code = _check(["run", scenario, "--out", root / "out" / "run", "--until", "1 min", "--no-render", "--quiet"],
                  capfd, root, allowed=os.path.join("out", "run"))
    assert not (valid == 0 and code == 2), "validate accepted the scenario but run refused it as bad input"
    if code == 0:
        assert (root / "out" / "run" / "manifest.json").is_file()


def _fuzz(max_examples: int) -> settings:
    """Settings of the fuzz tests: ``max_examples`` drawn deterministically, no deadline, no database."""
    return settings(max_examples=max_examples, deadline=None, derandomize=True, database=None, print_blob=False,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])


@pytest.mark.parametrize("hazard", ["flood", "fire"])
@_fuzz(400)
@given(data=st.data())
def test_validate_a_mutated_scenario(template, capfd, hazard, data):
    case = data.draw(_scenario_cases(hazard), label="scenario")
    with _sandbox(template) as root:
        scenario = root / "scen" / f"{hazard}.yaml"
        scenario.write_bytes(case.data)
        _check(["validate", scenario], capfd, root)


@pytest.mark.parametrize("hazard", ["flood", "fire"])
@_fuzz(40)
@given(data=st.data())
def test_run_a_mutated_scenario(template, capfd, hazard, data):
    case = data.draw(_scenario_cases(hazard, run=True), label="scenario")
    with _sandbox(template) as root:
        scenario = root / "scen" / f"{hazard}.yaml"
        scenario.write_bytes(case.data)
        _validate_then_run(root, scenario, capfd)


@_fuzz(250)
@given(case=TWIN_CASES, hazard=st.sampled_from(sorted(BASES)))
def test_validate_a_mutated_twin_manifest(template, capfd, case, hazard):
    with _sandbox(template) as root:
        (root / "twin" / "twin.yaml").write_bytes(case.data)
        _check(["validate", root / "scen" / f"{hazard}.yaml"], capfd, root)


@pytest.mark.parametrize("hazard", ["flood", "fire"])
@_fuzz(80)
@given(data=st.data())
def test_validate_a_mutated_inline_twin(template, capfd, hazard, data):
    case = data.draw(INLINE_CASES[hazard], label="scenario")
    with _sandbox(template) as root:
        scenario = root / "twin" / "inline.yaml"
        scenario.write_bytes(case.data)
        _check(["validate", scenario], capfd, root)


@_fuzz(40)
@given(case=TWIN_CASES, hazard=st.sampled_from(sorted(BASES)))
def test_run_with_a_mutated_twin_manifest(template, capfd, case, hazard):
    with _sandbox(template) as root:
        (root / "twin" / "twin.yaml").write_bytes(case.data)
        _validate_then_run(root, root / "scen" / f"{hazard}.yaml", capfd)


def _forecast_shape(template: Path) -> tuple[int, int, int, int]:
    """(members, times, rows, columns) of the template's forecast."""
    import netCDF4

    with netCDF4.Dataset(template / "forecast.nc") as ds:
        return tuple(ds["rainfall"].shape)


def _scenario(**changes) -> str:
    """The flood scenario with top-level ``changes``, as YAML."""
    return dump_yaml({**FLOOD, **changes})


def _output_dir(path: str) -> dict:
    """The flood scenario's ``output`` block with ``dir: path``."""
    return {"output": {**FLOOD["output"], "dir": path}}


#: Inputs the fuzzing found to break a property: the file written into the sandbox, its text, and the
#: scenario validated.
FINDINGS = [
    pytest.param("scen/flood.yaml", _scenario(duration=10**400), "scen/flood.yaml", id="duration-integer-beyond-float"),
    pytest.param("scen/flood.yaml", _scenario(**_output_dir("~nosuchuser/x")), "scen/flood.yaml",
                 id="output-dir-of-an-unknown-user"),
    pytest.param("scen/flood.yaml", _scenario(twin="~nosuchuser/twin.yaml"), "scen/flood.yaml",
                 id="twin-of-an-unknown-user"),
    pytest.param("scen/flood.yaml", _scenario(**_output_dir("a\0b")), "scen/flood.yaml",
                 id="output-dir-with-a-nul-byte"),
    pytest.param("scen/flood.yaml", _scenario(twin="a\0b"), "scen/flood.yaml", id="twin-with-a-nul-byte"),
    pytest.param("scen/flood.yaml", _scenario(twin="../twin/loop.tif"), "scen/flood.yaml", id="twin-a-symlink-loop"),
    pytest.param("twin/twin.yaml", dump_yaml({**TWIN, "rasters": {**TWIN["rasters"], "building_height": "n" * 300}}),
                 "scen/flood.yaml", id="raster-name-too-long"),
    pytest.param("twin/inline.yaml", dump_yaml({**FLOOD, "twin": {**TWIN, "crs": "garbage"}}), "twin/inline.yaml",
                 id="inline-twin-error-without-the-file"),
]


@pytest.mark.parametrize("name, text, scenario", FINDINGS)
def test_inputs_found_by_the_fuzzing(template, capfd, name, text, scenario):
    with _sandbox(template) as root:
        (root / name).write_text(text)
        _check(["validate", root / scenario], capfd, root)


def _batch_refuses(template: Path, capfd, ops: tuple) -> None:
    """``twin batch`` over the forecast broken by ``ops`` keeps every property and exits 2."""
    with _sandbox(template) as root:
        apply_forecast_ops(root / "forecast.nc", ops)
        code = _check(["batch", "--forecast", root / "forecast.nc", "--scenarios", root / "nightly",
                       "--out", root / "out" / "batch", "--no-render", "--workers", "1"], capfd, root,
                      allowed=os.path.join("out", "batch"))
        assert code == 2, "a forecast broken this way was accepted"


@_fuzz(60)
@given(data=st.data())
def test_batch_with_a_mutated_forecast(template, capfd, data):
    _batch_refuses(template, capfd, data.draw(forecast_ops(*_forecast_shape(template)), label="forecast mutations"))


@pytest.mark.parametrize("ops", [(("time_units", None),), (("time_units", "days"),), (("crs_wkt", "garbage"),)],
                         ids=["time-without-units", "time-units-without-since", "garbage-crs-wkt"])
def test_forecasts_found_by_the_fuzzing(template, capfd, ops):
    _batch_refuses(template, capfd, ops)
