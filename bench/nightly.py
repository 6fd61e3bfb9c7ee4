"""The nightly batch on the sample city, old commit against new, alternated.

Writes the sample forecast (:func:`twin.samples.forecast.write_sample_forecast`, ``--members``
members of ``--hours`` hours) and runs ``twin batch`` on ``scenarios/nightly`` (its duration set to
``--hours``) once per commit and round, old and new alternating, each in a fresh subprocess with
``PYTHONPATH`` at that commit's tree (so each runs its own code, its own scenario and twin). Prints
every run's wall time, peak memory (the largest sum of resident memory over the batch process and
its dask workers, sampled every 0.1 s), the ratio old / new of each round with their median, and
whether the two commits' ``risk.nc`` and ``buildings.csv`` hash alike (the values, as
``bench/output_hashes.py`` hashes them). First each tree runs one untimed batch of ``--warmup``
simulated time: a fresh worktree has no numba cache, and compiling the kernels in its first timed
run made identical code look 1.9 times slower.

    git worktree add /tmp/perf_base BASE
    python bench/nightly.py --old /tmp/perf_base --hours 3 --members 4 --rounds 3

The full night is ``--hours 24 --members 10`` (the defaults). Renderings are left out
(``--no-render``); the run report is written as in production.

``--profile N`` instead runs forecast member ``N`` of this tree in this process, as a dask worker
runs it (:func:`twin.ensemble.cluster.member_maps`: twin, prepare, simulate), once to compile and
load, then under cProfile, and prints the functions with the most cumulative and own time and the
loop's kernel / loop wall times:

    python bench/nightly.py --old /tmp/perf_base --hours 3 --members 4 --profile 1
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from output_hashes import run_folder_hashes  # noqa: E402

SCENARIO = Path("scenarios") / "nightly" / "sample_city_forecast_flood.yaml"
#: Files whose values must agree between the commits.
COMPARED = ("risk.nc", "buildings.csv")


def _scenario_folder(tree: Path, folder: Path, duration: str) -> Path:
    """The tree's nightly scenario with an absolute twin path and ``duration`` (e.g. ``"3 h"``)."""
    text = (tree / SCENARIO).read_text()
    text = text.replace("twin: ../../data/sample_city/twin.yaml",
                        f"twin: {tree / 'data' / 'sample_city' / 'twin.yaml'}")
    text = text.replace("duration: 24 h", f"duration: {duration}")
    folder.mkdir(parents=True)
    (folder / SCENARIO.name).write_text(text)
    return folder


def _peak_rss(proc: subprocess.Popen) -> tuple[int, int]:
    """Wait for ``proc``; return its exit code and the peak summed RSS (bytes) of its process tree."""
    peak = 0
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            total = 0
            for p in tree:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            peak = max(peak, total)
        except psutil.Error:
            pass
        time.sleep(0.1)
    return proc.returncode, peak


def run_batch(tree: Path, forecast: Path, scratch: Path, tag: str, duration: str, workers: int) -> dict:
    """One ``twin batch`` of ``tree``'s code; wall time (s), peak memory (bytes), output hashes."""
    scenarios = _scenario_folder(tree, scratch / f"scen_{tag}", duration)
    out = scratch / f"out_{tag}"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-m", "twin", "batch", "--forecast", str(forecast), "--scenarios", str(scenarios),
           "--out", str(out), "--issued", "bench", "--no-render", "--quiet", "--workers", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=tree, env=env)
    code, peak = _peak_rss(proc)
    seconds = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"{tag}: twin batch exited {code}")
    run_dir = out / "bench" / "sample-city-forecast-flood"
    hashes = run_folder_hashes(run_dir)
    return {"seconds": seconds, "peak_bytes": peak, "hashes": {k: hashes.get(k) for k in COMPARED}}


def profile_member(forecast: Path, scratch: Path, hours: int, member: int, top: int = 25) -> None:
    """Run forecast member ``member`` in this process under cProfile; print the profile summary."""
    import cProfile
    import pstats

    from twin.ensemble.cluster import member_maps
    from twin.ensemble.draws import MemberDraw
    from twin.hazards.registry import get_hazard, load_scenario

    sf = load_scenario(_scenario_folder(ROOT, scratch / "scen_profile", f"{hours} h") / SCENARIO.name)
    hazard = get_hazard(sf.scenario.hazard)
    sf = hazard.with_forecast(sf, forecast, "rainfall")
    draw = MemberDraw(member, {"manning_scale": 1.0}, 1.0, forecast_member=member, noise_seed=None)
    member_maps(hazard, sf, draw)                       # compile, read the twin once (as a warm worker)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    member_maps(hazard, sf, draw)
    prof.disable()
    wall = time.perf_counter() - t0
    print(f"member {member}, {hours} h: {wall:.2f} s wall under cProfile (load {_load()})")
    stats = pstats.Stats(prof)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, type=Path, help="tree of the old commit (a git worktree)")
    parser.add_argument("--new", type=Path, default=ROOT, help="tree of the new commit (default: this one)")
    parser.add_argument("--hours", type=int, default=24, help="forecast and simulated hours (default 24)")
    parser.add_argument("--members", type=int, default=10, help="forecast members (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="old/new rounds (default 3)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="dask workers (default: cores)")
    parser.add_argument("--warmup", default="10 min",
                        help="simulated time of the untimed first batch of each tree, which compiles its "
                             "kernels into numba's cache (default '10 min')")
    parser.add_argument("--json", type=Path, help="write every run's figures here")
    parser.add_argument("--profile", type=int, metavar="MEMBER",
                        help="profile this forecast member of this tree in-process instead")
    args = parser.parse_args(argv)
    from twin.samples.forecast import write_sample_forecast

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        forecast = write_sample_forecast(scratch / "forecast.nc", members=args.members, hours=args.hours)
        if args.profile is not None:
            profile_member(forecast, scratch, args.hours, args.profile)
            return 0
        print(f"nightly batch: {args.hours} h, {args.members} members, {args.workers} workers; "
              f"old {args.old}, new {args.new}", flush=True)
        for name, tree in (("old", args.old), ("new", args.new)):
            res = run_batch(tree.resolve(), forecast, scratch, f"warm_{name}", args.warmup, args.workers)
            print(f"warm-up {name} ({args.warmup}, untimed): {res['seconds']:.1f} s", flush=True)
        for r in range(args.rounds):
            pair = {}
            for name, tree in (("old", args.old), ("new", args.new)):
                load = _load()
                res = run_batch(tree.resolve(), forecast, scratch, f"{name}{r}", f"{args.hours} h", args.workers)
                pair[name] = res
                print(f"round {r + 1} {name}: {res['seconds']:.1f} s, peak {res['peak_bytes'] / 2**20:.0f} MiB "
                      f"(load before {load})", flush=True)
            ratio = pair["old"]["seconds"] / pair["new"]["seconds"]
            same = pair["old"]["hashes"] == pair["new"]["hashes"]
            print(f"round {r + 1}: ratio old/new {ratio:.2f}x; {'/'.join(COMPARED)} "
                  f"{'identical' if same else 'DIFFER'}", flush=True)
            runs.append({"round": r + 1, "ratio": ratio, "identical": same, **pair})
    ratios = [x["ratio"] for x in runs]
    print(f"median ratio {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}); "
          f"load after {_load()}")
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
