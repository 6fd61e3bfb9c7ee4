"""Running ensemble members as dask tasks, on a local cluster or an existing one by address.

By default a :class:`distributed.LocalCluster` with one single-threaded worker process per core
(``workers``); with ``scheduler="tcp://HOST:PORT"`` the same members go to an existing cluster,
which is how a run reaches Slurm/PBS (dask-jobqueue) or Kubernetes (dask-kubernetes). Members are
reduced as they finish (``on_member``), so the driver never holds more than one member's maps.
A member that raises is retried once (``retries=1``); a member that still fails is reported with
its error, and the run says how many members succeeded. Tasks lost with a dead worker are
rescheduled by dask on the remaining workers.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

from twin.core.errors import InputError
from twin.core.citytwin import load_twin, twin_input_files
from twin.ensemble.draws import MemberDraw, heaviest_first, member_scenario
from twin.hazards.interface import Hazard
from twin.scenario.schema import scheduler_address
from twin.io.progress import CountBar


@dataclass(frozen=True)
class MemberFailure:
    """A member that failed twice: its index and the error."""

    index: int
    error: str


def member_maps(hazard: Hazard, sf, draw: MemberDraw) -> dict:
    """Run one member and return its hazard maps (the dask task; runs on a worker).

    The worker reads the twin itself (once per process and twin content, :func:`worker_twin`),
    so no large data travels with the task and nothing is lost when a worker dies: a rescheduled
    member needs only the scenario and its draw. Workers must see the input files (a shared
    file system).

    Parameters
    ----------
    hazard : Hazard
        The scenario's hazard.
    sf : ScenarioFile
        The scenario as written.
    draw : MemberDraw
        The member's draws.

    Returns
    -------
    dict
        Hazard maps of the member (:attr:`twin.hazards.interface.Hazard.member_maps`).
    """
    twin = worker_twin(sf.twin_source(), sf.folder)
    sf_k = member_scenario(sf, draw, hazard)
    inputs = hazard.prepare(sf_k, twin)
    return hazard.member_maps(hazard.simulate(inputs, sf_k, progress=False))


def worker_twin(source, base_dir):
    """The twin of a scenario, read once per worker process and kept while its files are unchanged.

    The cache key is the twin's source and the identity of each of its files (device, inode,
    size, modification time in ns), so a twin regenerated in place on a long-lived cluster is
    read again, not served stale.
    """
    stamps = []
    for path in twin_input_files(source, base_dir):
        st = path.stat()
        stamps.append((str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
    return _cached_twin(json.dumps(source, sort_keys=True), str(base_dir), tuple(stamps))


@functools.lru_cache(maxsize=2)
def _cached_twin(source_json: str, base_dir: str, stamps: tuple):
    """The twin of ``source_json`` as loaded when its files had ``stamps``."""
    return load_twin(json.loads(source_json), base_dir=base_dir)


#: How long to try to reach a scheduler given by address before calling it bad input.
SCHEDULER_TIMEOUT = "20s"

#: Simulated time (s) of the short control member each worker runs to load itself (warm_workers).
WARM_UP_S = 1.0


def warm_workers(client, hazard: Hazard, sf) -> list:
    """Have every worker of ``client`` load itself now, before the members come.

    Each worker runs the control scenario for :data:`WARM_UP_S` of simulated time: its imports,
    the compiled kernels from numba's cache and the twin (kept, :func:`worker_twin`) are then
    ready. The runner starts this before the driver computes the control run, so the loading
    overlaps with it (measured: 1.4-1.5 s per worker when two start together).

    Parameters
    ----------
    client : distributed.Client
    hazard : Hazard
        The scenario's hazard.
    sf : ScenarioFile
        The scenario as written.

    Returns
    -------
    list of distributed.Future
        One per worker; nothing needs their results (a failure here shows again in the members).
    """
    short = sf.with_duration(min(WARM_UP_S, sf.scenario.duration))
    return [client.submit(member_maps, hazard, short, MemberDraw(None), workers=[address],
                          allow_other_workers=False, pure=False)
            for address in client.scheduler_info()["workers"]]


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None):
    """A distributed Client: to ``scheduler`` if given, else to a new LocalCluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of an existing scheduler (``tcp://HOST:PORT``).
    workers : int, optional
        Worker processes of the local cluster (default: one per core), one thread each.

    The client is not made the global default (``set_as_default=False``), so dask's
    configuration is as before once the run ends.

    Raises
    ------
    InputError
        When the scheduler cannot be reached (a wrong address is bad input).
    """
    from distributed import Client

    if scheduler is not None:
        try:
            scheduler_address(scheduler)
        except ValueError as exc:
            raise InputError(str(exc), field="scheduler", found=scheduler) from None
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot reach the dask scheduler ({exc})", field="scheduler",
                             expected="the address of a running scheduler, tcp://HOST:PORT",
                             found=scheduler) from None
        try:
            yield client
        finally:
            client.close()
        return
    with local_cluster(workers) as cluster, Client(cluster, set_as_default=False) as client:
        yield client


#: dask settings of the local cluster, whose housekeeping shares the cores with the members:
#: no statistical profiler (it samples each worker's stack every 10 ms, for a dashboard that
#: these runs do not start) and slower monitoring ticks. Measured on 2 cores during 8 members
#: (41 s): the driver (scheduler and nannies) used 1.4 s of CPU with dask's defaults, 0.55 s
#: with these.
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
}


def local_cluster(workers: int | None = None):
    """A new :class:`distributed.LocalCluster` for members: ``workers`` single-threaded processes.

    Parameters
    ----------
    workers : int, optional
        Worker processes (default: one per core).

    Returns
    -------
    distributed.LocalCluster
        Started, with :data:`LOCAL_CLUSTER_CONFIG` (given to its workers when they start);
        use it as a context manager to close it.
    """
    import dask
    from distributed import LocalCluster

    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        return LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                            processes=True, dashboard_address=None, silence_logs=logging.ERROR)


def run_members(hazard: Hazard, sf, draws: list[MemberDraw], on_member: Callable[[MemberDraw, dict], None],
                client, progress: bool = True) -> list[MemberFailure]:
    """Run members as dask tasks and hand each result to ``on_member`` as it finishes.

    Parameters
    ----------
    hazard, sf
        As :func:`member_maps`.
    draws : list of MemberDraw
        The members to run.
    on_member : callable
        ``on_member(draw, maps)``, called in the driver in the order members finish.
    client : distributed.Client
        An open client (:func:`dask_client`; the runner opens it before the control run and
        warms its workers, :func:`warm_workers`).
    progress : bool
        Show a progress bar counting members.

    Returns
    -------
    list of MemberFailure
        Members that failed after one retry (empty when all succeeded).
    """
    from distributed import as_completed

    failures = []
    with client.as_current(), CountBar(len(draws), "members", progress) as bar:
        # submitted (and prioritised) longest expected first, so the last to run are short
        order = heaviest_first(draws, hazard.perturbations)
        futures = {client.submit(member_maps, hazard, sf, d, retries=1, pure=False,
                                 priority=len(order) - k): d for k, d in enumerate(order)}
        for future in as_completed(futures):
            draw = futures.pop(future)
            if future.status == "error":
                failures.append(MemberFailure(draw.index, repr(future.exception())))
            else:
                on_member(draw, future.result())
            future.release()
            bar.advance()
    return sorted(failures, key=lambda f: f.index)
