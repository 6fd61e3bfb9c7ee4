"""A run never destroys what it did not write: output folder ownership, locks, names, leftovers.

Each case of the safety issue is a regression test here: a user's folder given as ``--out``, an
``output.dir`` over the scenario's own folder, names that climb out of their parent, a second
writer on a folder being written, kill -9 and SIGTERM mid-run, ``OUT/latest`` taken by a folder,
a read-only or full disk (as root, on a small tmpfs), and a bad ``--scheduler``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import write_valley_twin
from twin.cli import main
from twin.io.locks import exclusive_lock
from twin.io.run_folders import MARKER, folder_kind, remove_stale_staging

SCENARIO = """name: {name}
twin: {twin}
hazard: flood
duration: {duration}
flood:
  rainfall: {{times: [0, 10 min], intensity_mm_h: [60, 0]}}
  boundaries: {{north: closed, south: free, east: closed, west: closed}}
output: {{every: 10 min{extra}}}
render: {{enabled: false}}
"""


@pytest.fixture
def project(tmp_path):
    """A small twin and a scenario beside it: ``(scenario path, twin manifest)``."""
    twin = write_valley_twin(tmp_path / "twin")
    scenario = tmp_path / "scenarios" / "valley.yaml"
    scenario.parent.mkdir()
    scenario.write_text(SCENARIO.format(name="valley", twin=twin, duration="10 min", extra=""))
    return scenario, twin


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for folders): a snapshot to compare."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))}


def _cli(args, capsys) -> tuple[int, str]:
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_a_user_folder_given_as_out_survives(project, tmp_path, capsys):
    scenario, _ = project
    user = tmp_path / "my_documents"
    user.mkdir()
    (user / "thesis.docx").write_bytes(b"years of work")
    (user / "data").mkdir()
    (user / "data" / "survey.csv").write_text("a,b\n1,2\n")
    before = _tree(tmp_path)
    code, err = _cli(["run", scenario, "--out", user, "--quiet", "--no-render"], capsys)
    assert code == 2
    assert "my_documents" in err and "not a run folder" in err and "thesis.docx" in err and "--force" in err
    assert _tree(tmp_path) == before


def test_force_replaces_a_user_folder_but_never_one_holding_the_inputs(project, tmp_path, capsys):
    scenario, twin = project
    user = tmp_path / "scratch"
    user.mkdir()
    (user / "old.txt").write_text("x")
    code, _ = _cli(["run", scenario, "--out", user, "--quiet", "--no-render", "--force"], capsys)
    assert code == 0
    assert (user / "manifest.json").exists() and not (user / "old.txt").exists()
    before = _tree(tmp_path)
    for folder in (scenario.parent, twin.parent, tmp_path):
        code, err = _cli(["run", scenario, "--out", folder, "--quiet", "--no-render", "--force"], capsys)
        assert code == 2 and "holds an input of the run" in err, err
    assert _tree(tmp_path) == before


def test_output_dir_over_the_scenario_folder_is_refused(project, tmp_path, capsys):
    scenario, twin = project
    bad = scenario.parent / "bad.yaml"
    bad.write_text(SCENARIO.format(name="bad", twin=twin, duration="10 min", extra=", dir: ../scenarios"))
    before = _tree(tmp_path)
    for command in (["validate", bad], ["run", bad, "--quiet", "--no-render"]):
        code, err = _cli(command, capsys)
        assert code == 2 and "holds an input of the run" in err and "bad.yaml" in err, err
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("name", [".", "..", "../escape", "a/b", ".hidden", "x" * 201])
def test_names_that_would_leave_their_folder_are_schema_errors(project, capsys, name):
    scenario, twin = project
    scenario.write_text(SCENARIO.format(name=f"'{name}'", twin=twin, duration="10 min", extra=""))
    code, err = _cli(["validate", scenario], capsys)
    assert code == 2 and "name" in err and "(line 1)" in err, err


@pytest.mark.parametrize("out", ["/", ".", "~"])
def test_the_root_the_working_folder_and_home_are_never_run_folders(project, capsys, out):
    scenario, _ = project
    code, err = _cli(["run", scenario, "--out", out, "--quiet", "--no-render", "--force"], capsys)
    assert code == 2 and "refusing to write a run over" in err, err


def test_a_file_as_out_is_refused_and_kept(project, tmp_path, capsys):
    scenario, _ = project
    target = tmp_path / "some_file.txt"
    target.write_text("keep me")
    code, err = _cli(["run", scenario, "--out", target, "--quiet", "--no-render", "--force"], capsys)
    assert code == 2 and "not a folder" in err
    assert target.read_text() == "keep me"


def test_an_overlong_out_name_and_a_symlink_loop_are_bad_input(project, tmp_path, capsys):
    scenario, _ = project
    code, err = _cli(["run", scenario, "--out", tmp_path / ("n" * 300), "--quiet", "--no-render"], capsys)
    assert code == 2 and "too long" in err
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    code, err = _cli(["run", scenario, "--out", tmp_path / "loop" / "run", "--quiet", "--no-render"], capsys)
    assert code == 2 and "loop" in err


@pytest.mark.parametrize("address", ["garbage", "tcp://", "tcp://host:notaport", "localhost:8786",
                                     "tcp://host:70000"])
def test_a_garbage_scheduler_is_bad_input_before_anything_runs(project, tmp_path, capsys, address):
    scenario, _ = project
    out = tmp_path / "run"
    t0 = time.perf_counter()
    code, err = _cli(["run", scenario, "--out", out, "--quiet", "--no-render", "--scheduler", address], capsys)
    assert code == 2 and "--scheduler" in err and "PROTOCOL://HOST:PORT" in err
    assert time.perf_counter() - t0 < 5 and not out.exists()


def test_a_second_writer_is_refused_with_the_holders_pid(project, tmp_path, capsys):
    scenario, _ = project
    out = tmp_path / "runs" / "valley"
    out.parent.mkdir()
    with exclusive_lock(out):
        code, err = _cli(["run", scenario, "--out", out, "--quiet", "--no-render"], capsys)
    assert code == 2 and f"is being written by pid {os.getpid()}" in err
    assert not out.exists()
    assert _cli(["run", scenario, "--out", out, "--quiet", "--no-render"], capsys)[0] == 0
    assert folder_kind(out) == "run" and (out / MARKER).exists()
    assert not [p.name for p in out.parent.iterdir() if p.name.startswith(".")]  # lock and staging gone


def test_a_run_folder_of_this_project_is_replaced(project, tmp_path, capsys):
    scenario, _ = project
    out = tmp_path / "runs" / "valley"
    assert _cli(["run", scenario, "--out", out, "--quiet", "--no-render"], capsys)[0] == 0
    first = json.loads((out / "manifest.json").read_text())["finished"]
    (out / MARKER).unlink()  # a folder of a version before the marker: known by its manifest
    time.sleep(1.1)
    assert _cli(["run", scenario, "--out", out, "--quiet", "--no-render"], capsys)[0] == 0
    assert json.loads((out / "manifest.json").read_text())["finished"] != first


def _staging(parent: Path, name: str) -> list[Path]:
    return [p for p in parent.iterdir() if p.name.startswith(f".{name}.tmp-")] if parent.exists() else []


def _start_run(scenario: Path, out: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "twin.cli", "run", str(scenario), "--out", str(out), "--quiet", "--no-render"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _wait_for_staging(proc: subprocess.Popen, parent: Path, name: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None and not _staging(parent, name):
        time.sleep(0.02)
    assert _staging(parent, name), "the run never started writing"


@pytest.fixture
def long_scenario(project, tmp_path):
    """A run long enough (3 h of rain on a 120 x 160 grid) to be caught mid-way."""
    scenario, _ = project
    twin = write_valley_twin(tmp_path / "bigger", shape=(120, 160))
    path = scenario.parent / "long.yaml"
    path.write_text(SCENARIO.format(name="long", twin=twin, duration="3 h", extra=""))
    return path


def test_kill_9_mid_run_then_the_next_run_removes_the_leftover(long_scenario, tmp_path, capsys):
    out = tmp_path / "runs" / "long"
    proc = _start_run(long_scenario, out)
    _wait_for_staging(proc, out.parent, "long")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _staging(out.parent, "long") and not out.exists()
    neighbour = tmp_path / "runs" / "other"
    assert _cli(["run", long_scenario, "--out", neighbour, "--quiet", "--no-render", "--until", "1 min"],
                capsys)[0] == 0
    assert not _staging(out.parent, "long"), "a run into the same parent removes a crashed run's staging"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def test_sigterm_mid_run_leaves_nothing(long_scenario, tmp_path):
    out = tmp_path / "runs" / "long"
    proc = _start_run(long_scenario, out)
    _wait_for_staging(proc, out.parent, "long")
    os.killpg(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "terminated; no partial outputs were kept" in err, err
    assert "Traceback" not in err
    assert list(out.parent.iterdir()) == []


def test_a_live_writers_staging_is_never_removed(tmp_path):
    """Leftover removal asks each staging folder's lock: held means live, free means crashed."""
    parent = tmp_path / "runs"
    parent.mkdir()
    live, dead, foreign = (parent / ".a.tmp-0123abcd", parent / ".b.tmp-4567cdef", parent / ".c.tmp-89abcdef")
    for folder in (live, dead, foreign):
        folder.mkdir()
    for folder in (live, dead):
        (folder / MARKER).write_text('{"kind": "run"}')
    (foreign / "user.txt").write_text("not ours: no marker")
    with exclusive_lock(parent / "a"):
        removed = remove_stale_staging(parent)
    assert removed == [dead.name]
    assert live.exists() and foreign.exists() and not dead.exists()


def _mount_tmpfs(path: Path, options: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs (as root; skipped otherwise), unmounted afterwards."""
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "size=2m"):
        pytest.skip("needs root and tmpfs to make a small disk")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_read_only_disk_is_bad_input_before_the_simulation(project, small_disk, capsys):
    scenario, _ = project
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    t0 = time.perf_counter()
    code, err = _cli(["run", scenario, "--out", small_disk / "run", "--quiet", "--no-render"], capsys)
    assert code == 2 and "Read-only file system" in err, err
    assert time.perf_counter() - t0 < 20


def test_a_full_disk_is_bad_input_before_the_simulation(project, small_disk, capsys):
    scenario, _ = project
    (small_disk / "filler").write_bytes(b"\0" * (2 * 2**20 - 64 * 1024))
    code, err = _cli(["run", scenario, "--out", small_disk / "run", "--quiet", "--no-render"], capsys)
    assert code == 2 and "is free at" in err, err
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_a_disk_that_fills_up_while_writing_leaves_nothing_behind(project, small_disk, capsys, monkeypatch):
    """The estimate let the run start (patched here); the disk then fills: exit 1, nothing kept."""
    import twin.pipeline.run

    scenario, _ = project
    monkeypatch.setattr(twin.pipeline.run, "check_run_fits", lambda *a, **kw: None)
    (small_disk / "filler").write_bytes(b"\0" * (2 * 2**20 - 64 * 1024))
    code, err = _cli(["run", scenario, "--out", small_disk / "run", "--quiet", "--no-render"], capsys)
    assert code == 1 and "the disk filled up while the run was written" in err, err
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def _batch_setup(tmp_path: Path, names: list[str]) -> tuple[Path, Path]:
    from twin.samples.forecast import district_bounds_lonlat, write_sample_forecast

    twin = write_valley_twin(tmp_path / "btwin")
    forecast = write_sample_forecast(tmp_path / "forecast.nc", district_bounds_lonlat(twin), members=2, hours=1,
                                     step_s=600, start="2026-11-25T00:00", margin_deg=0.02, resolution_deg=0.002)
    folder = tmp_path / "nightly"
    folder.mkdir()
    for k, name in enumerate(names):
        (folder / f"s{k}.yaml").write_text(SCENARIO.format(name=name, twin=twin, duration="10 min", extra=""))
    return forecast, folder


def test_batch_refuses_escaping_issue_labels_duplicate_names_and_a_latest_folder(tmp_path, capsys):
    forecast, folder = _batch_setup(tmp_path, ["same", "same"])
    out = tmp_path / "out"
    common = ["batch", "--forecast", forecast, "--scenarios", folder, "--out", out, "--no-render", "--workers", "1"]
    code, err = _cli([*common, "--issued", ".."], capsys)
    assert code == 2 and "--issued" in err
    code, err = _cli(common, capsys)
    assert code == 2 and "two scenarios are named 'same'" in err and "s0.yaml" in err and "s1.yaml" in err
    assert not out.exists()
    (folder / "s1.yaml").unlink()
    (out / "latest").mkdir(parents=True)
    code, err = _cli(common, capsys)
    assert code == 2 and "latest" in err and "not a symbolic link" in err
    assert sorted(p.name for p in out.iterdir()) == ["latest"]


def test_batch_into_a_user_folder_is_refused(tmp_path, capsys):
    forecast, folder = _batch_setup(tmp_path, ["one"])
    out = tmp_path / "out"
    (out / "2026-11-25T00Z").mkdir(parents=True)
    (out / "2026-11-25T00Z" / "notes.txt").write_text("mine")
    before = _tree(tmp_path)
    code, err = _cli(["batch", "--forecast", forecast, "--scenarios", folder, "--out", out, "--no-render",
                      "--workers", "1"], capsys)
    assert code == 2 and "not a batch folder" in err and "notes.txt" in err
    assert _tree(tmp_path) == before


def test_a_second_batch_on_the_same_out_is_refused_and_the_first_completes(tmp_path):
    forecast, folder = _batch_setup(tmp_path, ["one"])
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "twin.cli", "batch", "--forecast", str(forecast), "--scenarios", str(folder),
           "--out", str(out), "--no-render", "--workers", "1"]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    batch_dir = out / "2026-11-25T00Z"
    _wait_for_staging(first, batch_dir, "one")
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert second.returncode == 2 and f"is being written by pid {first.pid}" in second.stderr, second.stderr
    assert _staging(batch_dir, "one"), "the second batch left the first one's live staging folder alone"
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    record = json.loads((batch_dir / "batch.json").read_text())
    assert record["status"] == "complete" and record["scenarios"]["one"]["status"] == "complete"
