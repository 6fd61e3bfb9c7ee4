"""Peak resident memory of whole runs, measured, against twin.pipeline.budget.estimate_run.

Each case is ``twin run`` (``twin.cli.main``) in its own subprocess. The parent polls the
resident set size of the subprocess and all its descendants (dask's nanny and worker
processes count) every 10 ms with psutil and sums it, and takes the kernel's high-water mark of
the subprocess from ``os.wait4`` (``ru_maxrss``, what ``/usr/bin/time -v`` reports as "Maximum
resident set size"); the measured peak is the larger of the two. Inside the subprocess a
thread samples the process's own RSS every 5 ms and attributes it to the run phase then active
(twin load, control run, hazard.nc, risk reduction, risk.nc, rendering), so the peak phase
measured can be set beside the estimated one (the driver's phase: with dask workers the tree's
peak is the driver's phase plus the workers at that time). The sampler can miss a peak shorter
than 5 ms; the high-water mark cannot.

Cases: every shipped scenario (``scenarios/*.yaml`` and ``scenarios/nightly/*.yaml``, the
long ones with ``--until``), the flash flood with rendering (the others ``--no-render``), the
flash flood as an ensemble of 4 members on 2 local dask workers, the flash flood and the
wildland fire on a 2000 x 2000 sample city, and with ``--big DIR`` the flash flood (snapshots
every 20 s, ``--until 2 min``) on a 5000 x 5000 sample city made by
``twin sample-city --size-m 10000 --cell 2 --out DIR`` (needs about 17 GB free; the script
refuses to start it with less).

Usage::

    python bench/memory_peak.py                              # shipped + ensemble + 2000^2 cases
    python bench/memory_peak.py --cases flash-flood-render   # one case
    python bench/memory_peak.py --city2k /tmp/city2k         # reuse (or make) the 2000^2 city there
    python bench/memory_peak.py --big /tmp/city5k --cases flash-flood-5k
    python bench/memory_peak.py --list
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: (name, scenario (relative to the repository or a generated one), --until, render, note)
SHIPPED = [
    ("flash-flood-render", "scenarios/sample_flash_flood.yaml", None, True, "render: still + HTML"),
    ("flash-flood", "scenarios/sample_flash_flood.yaml", None, False, ""),
    ("river-flood", "scenarios/sample_river_flood.yaml", None, False, ""),
    ("long-rain", "scenarios/sample_long_rain.yaml", "2 h", False, ""),
    ("wildland-fire", "scenarios/sample_wildland_fire.yaml", None, False, ""),
    ("wildland-fire-render", "scenarios/sample_wildland_fire.yaml", None, True, "render: 2 stills + HTML"),
    ("urban-fire", "scenarios/sample_urban_fire.yaml", None, False, ""),
    ("forecast-flood", "scenarios/nightly/sample_city_forecast_flood.yaml", "2 h", False,
     "ensemble block: 2 dask workers"),
]
#: Generated cases: (name, base scenario, twin ("2k", "5k" or None), --until, render, changes, note)
GENERATED = [
    ("flash-flood-4-members", "scenarios/sample_flash_flood.yaml", None, "30 min", False,
     {"ensemble": {"members": 4, "seed": 1, "perturb": {"rainfall_scale": {"lognormal": {"median": 1.0,
                                                                                        "sigma": 0.3}}}}},
     "4 members, 2 dask workers"),
    ("flash-flood-2k", "scenarios/sample_flash_flood.yaml", "2k", "2 min", False,
     {"output": {"every": "20 s"}}, "2000^2, snapshots every 20 s"),
    ("flash-flood-2k-render", "scenarios/sample_flash_flood.yaml", "2k", "2 min", True,
     {"output": {"every": "20 s"}}, "2000^2, render: still + HTML"),
    ("wildland-fire-2k", "scenarios/sample_wildland_fire.yaml", "2k", "1 h", False, {}, "2000^2"),
    ("flash-flood-5k", "scenarios/sample_flash_flood.yaml", "5k", "2 min", False,
     {"output": {"every": "20 s"}}, "5000^2, snapshots every 20 s"),
]
#: Free memory (bytes) the 5000 x 5000 case needs before it starts.
BIG_FREE_BYTES = 17 * 2**30

# ----------------------------------------------------------------------------------------------
# child: one run with its phases sampled


def _child(args) -> int:
    """Run ``twin run`` in this process, sampling RSS by phase; write the phase peaks as JSON."""
    import functools

    import twin.cli
    import twin.pipeline.run

    page = os.sysconf("SC_PAGE_SIZE")
    stack, peaks, stop = ["between phases"], {}, threading.Event()

    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page

    def sample():
        while not stop.is_set():
            r, name = rss(), stack[-1]
            peaks[name] = max(peaks.get(name, 0), r)
            time.sleep(0.005)

    def phase(module, attr, name):
        f = getattr(module, attr)

        @functools.wraps(f)
        def wrapped(*a, **k):
            stack.append(name)
            try:
                return f(*a, **k)
            finally:
                peaks[name] = max(peaks.get(name, 0), rss())
                stack.pop()
        object.__setattr__(module, attr, wrapped)   # a module, or a (frozen) hazard declaration

    from twin.hazards.registry import HAZARDS
    phase(twin.pipeline.run, "prepare_run", "twin load")
    for hazard in HAZARDS.values():
        phase(hazard, "simulate", "control run")
        phase(hazard, "write", "hazard.nc")
    phase(twin.pipeline.run, "reduce_members", "risk reduction")
    phase(twin.pipeline.run, "write_risk", "risk.nc")
    phase(twin.cli, "_render_into", "rendering")
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    argv = ["run", args.child, "--out", args.out, "--quiet"]
    if args.until:
        argv += ["--until", args.until]
    if args.no_render:
        argv.append("--no-render")
    t0 = time.perf_counter()
    code = twin.cli.main(argv)
    stop.set()
    thread.join()
    with open("/proc/self/status") as f:
        hwm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM"))
    info = {"code": code, "wall_s": time.perf_counter() - t0, "driver_hwm": hwm, "phases": peaks}
    Path(args.phases_json).write_text(json.dumps(info))
    return code


# ----------------------------------------------------------------------------------------------
# parent: cases, polling, estimate, table


def _tree_rss(proc) -> int:
    import psutil

    total = 0
    try:
        procs = [proc] + proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure(scenario: Path, until: str | None, render: bool, workdir: Path) -> dict:
    """Run one case in a subprocess; its measured peak (bytes), phase peaks and wall time."""
    import psutil

    out = workdir / "run"
    phases_json = workdir / "phases.json"
    cmd = [sys.executable, __file__, "--child", str(scenario), "--out", str(out),
           "--phases-json", str(phases_json)]
    if until:
        cmd += ["--until", until]
    if not render:
        cmd.append("--no-render")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    proc = psutil.Process(child.pid)
    peak_tree, done = 0, threading.Event()

    def poll():
        nonlocal peak_tree
        while not done.is_set():
            peak_tree = max(peak_tree, _tree_rss(proc))
            time.sleep(0.01)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    _, status, usage = os.wait4(child.pid, 0)
    done.set()
    poller.join()
    stderr = child.stderr.read()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{scenario}: exit {child.returncode}: {stderr[-2000:]}")
    info = json.loads(phases_json.read_text())
    maxrss = usage.ru_maxrss * 1024
    sizes = {p.name: p.stat().st_size for p in out.iterdir() if p.is_file()}
    return {"peak": max(peak_tree, maxrss), "tree_poll": peak_tree, "ru_maxrss": maxrss,
            "phases": info["phases"], "wall_s": info["wall_s"], "disk": sum(sizes.values())}


def estimate(scenario: Path, until: str | None, render: bool):
    """The budget of a case (twin.pipeline.budget.estimate_run on the scenario and its twin's grid)."""
    from twin.pipeline.budget import estimate_run, scenario_grid
    from twin.hazards.registry import load_scenario
    from twin.scenario.units import parse_duration

    sf = load_scenario(scenario)
    if until:
        sf = sf.with_duration(parse_duration(until))
    grid = scenario_grid(sf)
    return estimate_run(sf, grid, render=render), grid.shape


def generated_scenario(name: str, base: str, twin: str | None, changes: dict, folder: Path,
                       big: Path | None, city2k: Path | None = None) -> Path:
    """A copy of a shipped scenario with another twin and changed keys, written into ``folder``."""
    import yaml

    data = yaml.safe_load((ROOT / base).read_text())
    data["twin"] = str((ROOT / base).parent.joinpath(data["twin"]).resolve())
    if twin is not None:
        city = {"2k": city2k or folder / "city2k", "5k": big}[twin]
        if twin == "2k" and not (city / "twin.yaml").exists():
            subprocess.run([sys.executable, "-m", "twin.cli", "sample-city", "--size-m", "4000", "--cell", "2",
                            "--out", str(city)], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        data["twin"] = str(city / "twin.yaml")
    data["output"].pop("dir", None)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="*", help="case names (default: all but the 5000^2 one)")
    parser.add_argument("--big", type=Path, help="folder of the 5000 x 5000 sample city (twin.yaml)")
    parser.add_argument("--city2k", type=Path,
                        help="folder of the 2000 x 2000 sample city (reused when it has twin.yaml, else made there; "
                             "default: made in a temporary folder)")
    parser.add_argument("--list", action="store_true", help="list the cases")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--until", help=argparse.SUPPRESS)
    parser.add_argument("--no-render", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--phases-json", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args)
    names = [c[0] for c in SHIPPED] + [c[0] for c in GENERATED]
    if args.list:
        print("\n".join(names))
        return 0
    wanted = args.cases or [n for n in names if n != "flash-flood-5k"]
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        parser.error(f"unknown cases {unknown}; known: {names}")
    results = []
    with tempfile.TemporaryDirectory(prefix="memory-peak-") as tmp:
        tmp = Path(tmp)
        cases = []
        for name, scen, until, render, note in SHIPPED:
            cases.append((name, ROOT / scen, until, render, note))
        for name, base, twin, until, render, changes, note in GENERATED:
            if name not in wanted:
                continue
            if twin == "5k":
                if args.big is None:
                    parser.error("flash-flood-5k needs --big DIR "
                                 "(twin sample-city --size-m 10000 --cell 2 --out DIR)")
                import psutil

                free = psutil.virtual_memory().available
                if free < BIG_FREE_BYTES:
                    print(f"skipping {name}: {free / 2**30:.1f} GiB available, "
                          f"needs {BIG_FREE_BYTES / 2**30:.0f}")
                    continue
            scenario = generated_scenario(name, base, twin, changes, tmp, args.big, args.city2k)
            cases.append((name, scenario, until, render, note))
        print(f"{'case':24s} {'cells':>11s} {'snap':>4s} {'estimate':>9s} {'measured':>9s} {'ratio':>6s} "
              f"{'est. phase':>14s} {'meas. phase':>14s} {'wall s':>7s}  note", flush=True)
        for name, scen, until, render, note in cases:
            if name not in wanted:
                continue
            budget, shape = estimate(scen, until, render)
            work = tmp / name
            work.mkdir()
            m = measure(scen, until, render, work)
            phases = m["phases"]
            named = {k: v for k, v in phases.items() if k != "between phases"}
            measured_phase = max(named, key=named.get) if named else "?"
            if phases and named and named[measured_phase] < 0.98 * max(phases.values()):
                measured_phase = "between phases"
            ratio = budget.total / m["peak"]
            print(f"{name:24s} {f'{shape[0]} x {shape[1]}':>11s} {budget.snapshots:4d} "
                  f"{budget.total / 2**20:7.0f} M {m['peak'] / 2**20:7.0f} M {ratio:6.2f} "
                  f"{budget.phase:>14s} {measured_phase:>14s} {m['wall_s']:7.1f}  {note}", flush=True)
            results.append({"case": name, "shape": shape, "snapshots": budget.snapshots,
                            "estimate": budget.total, "estimate_phase": budget.phase,
                            "estimate_phases": dict(budget.phases), "components": dict(budget.components),
                            "disk_estimate": budget.disk_total, "note": note, **m})
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
