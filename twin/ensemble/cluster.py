"""Running ensemble members as dask tasks, on a local cluster or an existing one by address.

By default a :class:`distributed.LocalCluster` with one single-threaded worker process per core
(``workers``) and no dashboard (``dashboard=True`` starts dask's dashboard on this machine's port
8787); with ``scheduler="tcp://HOST:PORT"`` the same members go to an existing cluster,
which is how a run reaches Slurm/PBS (dask-jobqueue) or Kubernetes (dask-kubernetes). Members are
reduced as they finish (``on_member``), so the driver never holds more than one member's maps.
A task is a member's draw in a scenario (:class:`MemberTask`): the scenario as written, or one
design event's (every member runs in every event of a set).
The control run (the scenario as written) is one more task (:func:`submit_control`), started
first, so that no worker waits while it runs.
A member that raises is retried once (``retries=1``); a member that still fails is reported with
its error, and the run says how many members succeeded. Tasks lost with a dead worker are
rescheduled by dask on the remaining workers.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

from twin.core.errors import InputError
from twin.core.citytwin import load_twin, twin_input_files
from twin.ensemble.draws import MemberDraw, heaviness, member_scenario
from twin.hazards.interface import Hazard
from twin.scenario.schema import scheduler_address
from twin.io.progress import CountBar


@dataclass(frozen=True)
class MemberFailure:
    """A member that failed twice: its index, the error (naming its design event, if any) and the event's index."""

    index: int
    error: str
    event: int | None = None


@dataclass(frozen=True)
class MemberTask:
    """One dask task: member ``draw`` run in scenario ``sf``.

    Attributes
    ----------
    sf : ScenarioFile
        The scenario before the member's draws: as written, or a design event's
        (:func:`twin.ensemble.draws.event_scenario`).
    draw : MemberDraw
        The member's draws.
    event : int or None
        Index of the design event (events in increasing return period); None outside an event set.
    label : str
        How a failure names the event (``"T = 100 years"``); empty outside an event set.
    """

    sf: object
    draw: MemberDraw
    event: int | None = None
    label: str = ""


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
    return hazard.member_maps(_simulate(hazard, member_scenario(sf, draw, hazard)))


def control_run(hazard: Hazard, sf) -> tuple[object, float]:
    """Run the control (the scenario as written) and return its whole result (the dask task of
    :func:`submit_control`; runs on a worker, as :func:`member_maps` does).

    Returns
    -------
    (object, float)
        The hazard's result (``hazard.simulate``: what ``hazard.write`` takes) and the wall time
        (s) the run took on its worker, its preparation included.
    """
    t0 = time.perf_counter()
    result = _simulate(hazard, sf)
    return result, time.perf_counter() - t0


def submit_control(client, hazard: Hazard, sf):
    """Start the control run (:func:`control_run`) on ``client`` before any member, so that it
    runs on one worker while the others take the members, instead of in the driver with every
    worker waiting (on 2 cores with 4 members that cost 1.2x, bench/README.md "Nightly batch").

    It has the highest priority (members take :func:`run_members`' priorities below it) and no
    retry: a failure of the control is the run's failure, as it was in the driver. The result
    is identical to the driver's: the worker prepares the same scenario on the same twin.

    Returns
    -------
    distributed.Future
        Of ``(result, seconds)``.
    """
    return client.submit(control_run, hazard, sf, pure=False, priority=CONTROL_PRIORITY)


#: dask priority of the control run's task: above every member's (:func:`run_members` gives
#: member ``k`` of ``n`` the priority ``n - k``).
CONTROL_PRIORITY = 2**31 - 1


def _simulate(hazard: Hazard, sf):
    """Prepare ``sf`` on this worker's twin (:func:`worker_twin`) and simulate it, without progress."""
    twin = worker_twin(sf.twin_source(), sf.folder)
    return hazard.simulate(hazard.prepare(sf, twin), sf, progress=False)


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


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None, dashboard: bool = False):
    """A distributed Client: to ``scheduler`` if given, else to a new LocalCluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of an existing scheduler (``tcp://HOST:PORT``).
    workers : int, optional
        Worker processes of the local cluster (default: one per core), one thread each.
    dashboard : bool
        Start the local cluster's dashboard (:data:`DASHBOARD_ADDRESS`, needs bokeh) and print its
        link on stderr; with ``scheduler``, print the link of that cluster's own dashboard.

    The client is not made the global default (``set_as_default=False``), so dask's
    configuration is as before once the run ends.

    Raises
    ------
    InputError
        When the scheduler cannot be reached (a wrong address is bad input), or for ``dashboard``
        on a local cluster without bokeh installed.
    """
    with _client(scheduler, workers, dashboard) as client:
        if dashboard:
            print(f"dask dashboard: {client.dashboard_link}", file=sys.stderr, flush=True)
        yield client


@contextmanager
def _client(scheduler: str | None, workers: int | None, dashboard: bool):
    """The client of :func:`dask_client`, to ``scheduler`` or to a new LocalCluster."""
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
    with local_cluster(workers, dashboard) as cluster, Client(cluster, set_as_default=False) as client:
        yield client


def warn_unused_cluster(sf, scheduler: str | None = None, workers: int | None = None,
                        dashboard: bool = False) -> str | None:
    """Say on stderr which dask options a run without ensemble members leaves unused.

    Without an ``ensemble:`` block a run is its control run alone, computed in this process; no
    cluster is reached or started, so ``--scheduler`` (or the scenario's ``scheduler:``),
    ``--workers`` and ``--dashboard`` do nothing, and the user is told so instead of left to
    believe the run went to the cluster.

    Parameters
    ----------
    sf : ScenarioFile
        The scenario (its ``scheduler:``).
    scheduler, workers, dashboard
        The command line's ``--scheduler``, ``--workers`` and ``--dashboard``.

    Returns
    -------
    str or None
        The warning printed, None when every option was left unset.
    """
    unused = [name for name, given in (("--scheduler", scheduler), ("--workers", workers),
                                       ("--dashboard", dashboard)) if given]
    if sf.scenario.scheduler is not None and scheduler is None:
        unused.append(f"scheduler: ({sf.path})")
    if not unused:
        return None
    names = unused[0] if len(unused) == 1 else f"{', '.join(unused[:-1])} and {unused[-1]}"
    text = (f"warning: {names} not used: the scenario has no ensemble members, so its run stays in "
            "this process and no dask cluster is reached or started")
    print(text, file=sys.stderr, flush=True)
    return text


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


#: Where the local cluster's dashboard listens when asked for (``--dashboard``): dask's usual
#: port, on this machine only (from another one, through an SSH tunnel). A port in use is
#: replaced by a free one, and the link printed says which.
DASHBOARD_ADDRESS = "127.0.0.1:8787"
#: Where the scheduler's own HTTP endpoint listens otherwise. dask's scheduler always serves one
#: (health and metrics), by default on port 8787 of every interface, so that a second run
#: warned "Port 8787 is already in use"; here it takes a free port on this machine only, and
#: serves no dashboard.
QUIET_HTTP_ADDRESS = "127.0.0.1:0"


def local_cluster(workers: int | None = None, dashboard: bool = False):
    """A new :class:`distributed.LocalCluster` for members: ``workers`` single-threaded processes.

    Parameters
    ----------
    workers : int, optional
        Worker processes (default: one per core).
    dashboard : bool
        Serve dask's dashboard at :data:`DASHBOARD_ADDRESS` (needs bokeh); otherwise the
        scheduler's HTTP endpoint listens at :data:`QUIET_HTTP_ADDRESS` with no dashboard.

    Returns
    -------
    distributed.LocalCluster
        Started, with :data:`LOCAL_CLUSTER_CONFIG` (given to its workers when they start);
        use it as a context manager to close it.

    Raises
    ------
    InputError
        For ``dashboard`` without bokeh installed.
    """
    import dask
    from distributed import LocalCluster

    if dashboard and importlib.util.find_spec("bokeh") is None:
        raise InputError("the dask dashboard needs bokeh", field="--dashboard",
                         expected="bokeh installed: pip install -e '.[dashboard]'", found="no bokeh")
    http = ({"dashboard_address": DASHBOARD_ADDRESS} if dashboard else
            {"dashboard_address": QUIET_HTTP_ADDRESS, "scheduler_kwargs": {"dashboard": False}})
    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        return LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                            processes=True, silence_logs=logging.ERROR, **http)


def run_members(hazard: Hazard, tasks: list[MemberTask], on_member: Callable[[MemberTask, dict], None],
                client, progress: bool = True) -> list[MemberFailure]:
    """Run members as dask tasks and hand each result to ``on_member`` as it finishes.

    Parameters
    ----------
    hazard : Hazard
        As :func:`member_maps`.
    tasks : list of MemberTask
        The members to run, each in its scenario.
    on_member : callable
        ``on_member(task, maps)``, called in the driver in the order members finish.
    client : distributed.Client
        An open client (:func:`dask_client`; the runner opens it and starts the control run on
        it first, :func:`submit_control`).
    progress : bool
        Show a progress bar counting members.

    Returns
    -------
    list of MemberFailure
        Members that failed after one retry (empty when all succeeded), by event and index.
    """
    from distributed import as_completed

    failures = []
    with client.as_current(), CountBar(len(tasks), "members", progress) as bar:
        # submitted (and prioritised) longest expected first, so the last to run are short: the
        # rarest design event first (the most rain), then by the members' draws
        order = sorted(tasks, key=lambda t: (-(t.event or 0), heaviness(t.draw, hazard.perturbations)))
        futures = {client.submit(member_maps, hazard, t.sf, t.draw, retries=1, pure=False,
                                 priority=len(order) - k): t for k, t in enumerate(order)}
        for future in as_completed(futures):
            task = futures.pop(future)
            if future.status == "error":
                error = repr(future.exception())
                failures.append(MemberFailure(task.draw.index, f"{task.label}: {error}" if task.label else error,
                                              task.event))
            else:
                on_member(task, future.result())
            future.release()
            bar.advance()
    return sorted(failures, key=lambda f: (f.event or 0, f.index))
