"""The dask options of a run: no dashboard port unless ``--dashboard``, and ``--scheduler``,
``--workers``, ``--dashboard`` or the scenario's ``scheduler:`` said to be unused by a run with no
ensemble members, instead of silently ignored."""

from __future__ import annotations

import errno
import importlib.util
import socket
import warnings

import pytest

from conftest import write_valley_twin
from twin.cli import EXIT_OK, main
from twin.core.errors import InputError
from twin.ensemble.cluster import QUIET_HTTP_ADDRESS, local_cluster, warn_unused_cluster
from twin.hazards.registry import load_scenario

BOKEH = importlib.util.find_spec("bokeh") is not None
#: A scheduler address nothing listens on: a run that tried to reach it would fail (exit 2).
NOWHERE = "tcp://127.0.0.1:9"


def _scenario(folder, extra: str = ""):
    twin = write_valley_twin(folder / "twin")
    path = folder / "s.yaml"
    path.write_text(f"name: quick\ntwin: {twin}\nhazard: flood\nduration: 2 min\n"
                    "flood:\n  rainfall: {times: [0, 1 min], intensity_mm_h: [50, 0]}\n"
                    f"render: {{enabled: false}}\n{extra}")
    return path


def test_local_cluster_opens_no_dashboard_port_even_when_8787_is_taken():
    """A second run used to warn "Port 8787 is already in use": dask's scheduler always serves HTTP."""
    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", 8787))
        taken.listen()
    except OSError as exc:
        assert exc.errno == errno.EADDRINUSE  # taken by someone else: the case to check all the same
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with local_cluster(1) as cluster:
                http = cluster.scheduler.http_server
                address, port = http.address, http.port
        assert not [w for w in caught if "8787" in str(w.message)]
    finally:
        taken.close()
    assert QUIET_HTTP_ADDRESS.startswith("127.0.0.1:")
    assert address == "127.0.0.1" and port != 8787


@pytest.mark.skipif(BOKEH, reason="bokeh is installed")
def test_dashboard_without_bokeh_is_bad_input():
    with pytest.raises(InputError) as info:
        local_cluster(1, dashboard=True)
    assert str(info.value) == ("--dashboard: the dask dashboard needs bokeh (expected bokeh installed: "
                               "pip install -e '.[dashboard]', found no bokeh)")


@pytest.mark.skipif(not BOKEH, reason="bokeh is not installed (pip install -e '.[dashboard]')")
def test_dashboard_is_served_on_this_machine_when_asked():
    import urllib.request

    with local_cluster(1, dashboard=True) as cluster:
        http = cluster.scheduler.http_server
        with urllib.request.urlopen(f"http://127.0.0.1:{http.port}/status", timeout=30) as page:
            assert page.status == 200
    assert http.address == "127.0.0.1"


def test_cluster_options_without_an_ensemble_are_said_to_be_unused(tmp_path, capfd):
    path = _scenario(tmp_path)
    code = main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet", "--no-render",
                 "--scheduler", NOWHERE, "--workers", "3", "--dashboard"])
    out, err = capfd.readouterr()
    assert code == EXIT_OK, err
    assert err == ("warning: --scheduler, --workers and --dashboard not used: the scenario has no ensemble "
                   "members, so its run stays in this process and no dask cluster is reached or started\n")
    assert (tmp_path / "run" / "manifest.json").exists()


def test_the_scenarios_scheduler_without_an_ensemble_is_said_to_be_unused(tmp_path, capfd):
    sf = load_scenario(_scenario(tmp_path, f"scheduler: {NOWHERE}\n"))
    said = warn_unused_cluster(sf)
    assert said == (f"warning: scheduler: ({sf.path}) not used: the scenario has no ensemble members, so "
                    "its run stays in this process and no dask cluster is reached or started")
    assert capfd.readouterr().err == said + "\n"
    assert warn_unused_cluster(sf, scheduler=NOWHERE).startswith("warning: --scheduler not used")
    assert warn_unused_cluster(load_scenario(_scenario(tmp_path))) is None
