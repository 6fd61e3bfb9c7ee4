"""Ensembles on dask: seeded members, identical results whatever the workers, a real cluster by
address, a worker killed mid-run, members that fail."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from conftest import write_valley_twin
from twin.core.errors import InputError, RunError
from twin.ensemble.cluster import local_cluster
from twin.ensemble.draws import draw_members, heaviest_first
from twin.pipeline.run import load_run_scenario, prepare_run, run_scenario

ENSEMBLE = """
ensemble:
  members: {members}
  seed: 20261125
  perturb:
    rainfall_scale: {{lognormal: {{median: 1.0, sigma: 0.3}}}}
    rainfall_shift: {{normal: {{mean: 0, sd: 2 min}}}}
    manning_scale: {manning}
"""


@pytest.fixture(scope="module")
def small_twin(tmp_path_factory):
    """A 40 x 60 valley of 10 m cells with two buildings."""
    return write_valley_twin(tmp_path_factory.mktemp("twin"))


def _scenario(folder: Path, twin: Path, members=4, manning="{uniform: {low: 0.8, high: 1.2}}") -> Path:
    path = folder / "ens.yaml"
    path.write_text(f"twin: {twin}\nhazard: flood\nduration: 15 min\n"
                    "flood:\n  rainfall: {times: [0, 5 min, 10 min], intensity_mm_h: [0, 200, 0]}\n"
                    "  boundaries: {north: closed, south: free, east: closed, west: closed}\n"
                    + ENSEMBLE.format(members=members, manning=manning)
                    + "render: {enabled: false}\n")
    return path


def _risk(run: Path) -> dict:
    with xr.open_dataset(run / "risk.nc") as ds:
        return {k: ds[k].values.copy() for k in ds.data_vars if ds[k].ndim == 2}


def _assert_same_risk(a: Path, b: Path) -> None:
    ra, rb = _risk(a), _risk(b)
    assert ra.keys() == rb.keys()
    for k in ra:
        np.testing.assert_array_equal(ra[k], rb[k], err_msg=k)
    assert (a / "buildings.csv").read_text() == (b / "buildings.csv").read_text()


def test_member_draws_depend_only_on_seed_and_index(tmp_path, small_twin):
    prep4 = prepare_run(load_run_scenario(_scenario(tmp_path, small_twin, members=4)))
    d4 = draw_members(prep4.sf, prep4.twin, prep4.hazard)
    again = draw_members(prep4.sf, prep4.twin, prep4.hazard)
    assert [d.values for d in d4] == [d.values for d in again]
    prep8 = prepare_run(load_run_scenario(_scenario(tmp_path, small_twin, members=8)))
    d8 = draw_members(prep8.sf, prep8.twin, prep8.hazard)
    assert [d.values for d in d8[:4]] == [d.values for d in d4], "member k does not depend on the ensemble size"
    scales = [d.values["rainfall_scale"] for d in d8]
    assert len(set(scales)) == 8 and all(s > 0 for s in scales)


def test_members_start_heaviest_forcing_first(tmp_path, small_twin):
    prep = prepare_run(load_run_scenario(_scenario(tmp_path, small_twin, members=8)))
    draws = draw_members(prep.sf, prep.twin, prep.hazard)
    order = heaviest_first(draws, prep.hazard.perturbations)
    assert sorted(d.index for d in order) == list(range(8))
    scales = [d.values["rainfall_scale"] for d in order]
    assert scales == sorted(scales, reverse=True) and scales != [d.values["rainfall_scale"] for d in draws]


def test_local_cluster_workers_run_without_the_profiler():
    import dask
    from distributed import Client

    with local_cluster(1) as cluster, Client(cluster, set_as_default=False) as client:
        enabled = client.run(lambda: dask.config.get("distributed.worker.profile.enabled"))
    assert list(enabled.values()) == [False]
    assert dask.config.get("distributed.worker.profile.enabled") is True, "the driver's settings are restored"


@pytest.fixture(scope="module")
def local_one_worker(tmp_path_factory, small_twin):
    folder = tmp_path_factory.mktemp("w1")
    return run_scenario(_scenario(folder, small_twin), out=folder / "run", progress=False, workers=1)


def test_same_seed_same_results_with_one_and_two_workers(tmp_path, small_twin, local_one_worker):
    two = run_scenario(_scenario(tmp_path, small_twin), out=tmp_path / "run", progress=False, workers=2)
    _assert_same_risk(local_one_worker, two)
    summary = json.loads((two / "summary.json").read_text())
    assert summary["risk"]["members_used"] == 4 and summary["risk"]["members_failed"] == []
    p = _risk(two)["p_depth_over_0p1m"]
    assert np.nanmax(p) > 0 and set(np.unique(p[np.isfinite(p)])) <= {0, 0.25, 0.5, 0.75, 1.0}


def test_the_control_runs_on_a_worker_and_equals_a_control_run_here(tmp_path, small_twin, monkeypatch):
    """With members, the control is a dask task (no worker waits while the driver runs it): the
    driver's simulate is never called, and hazard.nc equals the control simulated in this process."""
    from twin.hazards.flood import FLOOD

    path = _scenario(tmp_path, small_twin, members=2)
    prep = prepare_run(load_run_scenario(path))
    here = FLOOD.simulate(prep.inputs, prep.sf, False)
    real, driver, driver_calls = FLOOD.simulate, os.getpid(), []

    def simulate(*args, **kwargs):                # travels to the workers with the hazard
        if os.getpid() == driver:
            driver_calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setitem(FLOOD.__dict__, "simulate", simulate)
    run = run_scenario(path, out=tmp_path / "run", progress=False, workers=2)
    assert driver_calls == []
    inside = prep.twin["domain_mask"].values == 1
    with xr.open_dataset(run / "hazard.nc") as ds:
        for name in ("max_depth", "max_speed", "arrival_time", "wet_duration", "final_depth"):
            np.testing.assert_array_equal(ds[name].values[inside], getattr(here, name)[inside], err_msg=name)
        np.testing.assert_array_equal(ds["depth"].values, here.snapshots)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["time_steps"] == here.n_steps and summary["timings"]["control_run_s"] > 0


def test_a_task_alone_takes_the_cores_of_idle_workers_and_none_while_others_wait():
    """spare_cores on a 3-worker cluster, asked by a task: alone, it may take the two idle workers'
    cores; beside one busy worker, the one idle core is shared by the two busy ones (rounded down:
    none); while another task waits for a worker, none."""
    from distributed import Client, Event, LocalCluster, get_worker

    from twin.hazards.flood.run import spare_cores

    def probe(go):
        Event(go).wait()
        return spare_cores(get_worker())

    def hold():
        Event("release").wait()

    def spare_beside(client, others, go):
        task = client.submit(probe, go, pure=False)
        while len([k for keys in client.processing().values() for k in keys]) < 1:
            time.sleep(0.01)
        held = [client.submit(hold, pure=False) for _ in range(others)]
        while sum(len(keys) for keys in client.processing().values()) < min(1 + others, 3):
            time.sleep(0.01)
        Event(go, client=client).set()
        return task.result(timeout=30), held

    with LocalCluster(n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:     # processes: the workers' clients stay there
        release = Event("release", client=client)
        alone, _ = spare_beside(client, 0, "go0")
        beside, held1 = spare_beside(client, 1, "go1")
        release.set()
        client.gather(held1)
        release.clear()
        waiting, held3 = spare_beside(client, 3, "go3")
        release.set()
        client.gather(held3)
    assert (alone, beside, waiting) == (2, 0, 0)


def _start_cluster(tmp_path: Path, n_workers: int = 2):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    sched_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    deadline = time.time() + 60
    while not sched_file.exists() and time.time() < deadline:
        time.sleep(0.2)
    address = json.loads(sched_file.read_text())["address"]
    for _ in range(n_workers):
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads",
                                       "1", "--nworkers", "1", "--no-dashboard", "--no-nanny",
                                       "--host", "127.0.0.1"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
    from distributed import Client

    with Client(address, timeout="30s", set_as_default=False) as client:
        client.wait_for_workers(n_workers, timeout=60)
    return address, procs


def _stop(procs) -> None:
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def test_run_on_an_existing_cluster_by_address_equals_local(tmp_path, small_twin, local_one_worker):
    address, procs = _start_cluster(tmp_path)
    try:
        run = run_scenario(_scenario(tmp_path, small_twin), out=tmp_path / "run", progress=False, scheduler=address)
    finally:
        _stop(procs)
    _assert_same_risk(local_one_worker, run)


def _kill_a_worker_busy_with_a_member(address: str, killed: list, stop: threading.Event) -> None:
    """Wait until a worker is running a member task, then SIGKILL that worker's process."""
    from distributed import Client

    with Client(address, timeout="30s", set_as_default=False) as client:
        while not stop.is_set():
            busy = [w for w, keys in client.processing().items() if any("member_maps" in str(k) for k in keys)]
            if busy:
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.05)


def test_worker_killed_during_the_run_still_completes(tmp_path, small_twin):
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    reference = run_scenario(_scenario(ref_dir, small_twin, members=6), out=ref_dir / "run", progress=False,
                             workers=1)
    address, procs = _start_cluster(tmp_path)
    killed, stop = [], threading.Event()
    killer = threading.Thread(target=_kill_a_worker_busy_with_a_member, args=(address, killed, stop), daemon=True)
    try:
        killer.start()
        run = run_scenario(_scenario(tmp_path, small_twin, members=6), out=tmp_path / "run", progress=False,
                           scheduler=address)
    finally:
        stop.set()
        killer.join(timeout=30)
        _stop(procs)
    assert killed and killed[0] in [p.pid for p in procs[1:]], "a worker was killed while running a member"
    _assert_same_risk(reference, run)


def test_members_that_fail_twice_are_reported_not_averaged_away(tmp_path, small_twin, monkeypatch):
    """Members 1 and 4 fail on every try (made to, on an in-process cluster): they are reported,
    and the risk is over the other four."""
    import twin.ensemble.cluster as E
    from distributed import LocalCluster

    bad = [1, 4]
    real_member_maps = E.member_maps

    def failing_member_maps(hazard, sf, draw, *args, **kw):
        if draw.index in bad:
            raise RunError(f"member {draw.index} made to fail")
        return real_member_maps(hazard, sf, draw, *args, **kw)

    monkeypatch.setattr(E, "member_maps", failing_member_maps)
    monkeypatch.setattr(E, "local_cluster", lambda workers=None, dashboard=False: LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None))
    path = _scenario(tmp_path, small_twin, members=6, manning="{uniform: {low: 0.9, high: 1.1}}")
    with pytest.raises(RunError, match="2 ensemble member"):
        run_scenario(path, out=tmp_path / "run", progress=False, workers=1)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert [f["member"] for f in summary["risk"]["members_failed"]] == bad
    assert summary["risk"]["members_used"] == 6 - len(bad)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "members_failed"
    with xr.open_dataset(tmp_path / "run" / "risk.nc") as ds:
        assert ds.attrs["members_used"] == 6 - len(bad)


def test_member_draws_outside_the_bounds_are_bad_input_before_any_run(tmp_path, small_twin):
    """A normal Manning scale with sd 1 draws negative roughness for some members: refused at once."""
    path = _scenario(tmp_path, small_twin, members=6, manning="{normal: {mean: 1.0, sd: 1.0}}")
    with pytest.raises(InputError, match=r"ensemble.perturb: member \d+ draws .*flood.manning_scale"):
        run_scenario(path, out=tmp_path / "run", progress=False, workers=1)
    assert not (tmp_path / "run").exists()


def test_tiled_members_run_on_workers(tmp_path, small_twin):
    """Members of a tiled scenario run their tiles synchronously inside the workers."""
    path = _scenario(tmp_path, small_twin, members=2)
    path.write_text(path.read_text() + "parallel: {tiles: [2, 2], halo: 9}\n")
    run = run_scenario(path, out=tmp_path / "run", progress=False, workers=1)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["risk"]["members_used"] == 2 and summary["volume_ledger_m3"]["closure_relative"] < 1e-9


def test_unreachable_scheduler_is_bad_input_before_the_control_run(tmp_path, small_twin, monkeypatch):
    """A wrong --scheduler address is an InputError (exit code 2) naming the field and the address,
    raised when the cluster is opened, before the control run computes, and nothing is written."""
    import twin.ensemble.cluster as E
    import twin.hazards.flood.run as F

    monkeypatch.setattr(E, "SCHEDULER_TIMEOUT", "2s")
    simulated = []
    monkeypatch.setattr(F, "simulate", lambda *a, **k: simulated.append(1))
    path = _scenario(tmp_path, small_twin)
    with pytest.raises(InputError, match=r"scheduler: cannot reach the dask scheduler.*tcp://127\.0\.0\.1:1"):
        run_scenario(path, out=tmp_path / "run", progress=False, scheduler="tcp://127.0.0.1:1")
    assert simulated == [] and not (tmp_path / "run").exists()
