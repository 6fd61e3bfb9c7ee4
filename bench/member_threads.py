"""One nightly flood member on one core and on two: row bands on threads, and dask tiles on threads.

Runs forecast member ``--member`` of the nightly scenario (``scenarios/nightly``, the sample
forecast, roughness scale 1, ``--minutes`` of simulated time) in this process, the cases
alternating in every round:

* ``1 thread``: :func:`twin.hazards.flood.model.simulate_flood` with ``threads=1`` (the whole grid);
* ``2 bands``: the same with ``threads=2`` (:mod:`twin.hazards.flood.bands`);
* ``2x1 tiles``: :func:`twin.hazards.flood.tiled.simulate_flood_tiled` on dask's threaded
  scheduler, tiles ``(2, 1)`` with the default halo (how a member used two cores before the
  bands; without gauges, which tiled runs refuse, so it is compared with a ``1 thread`` run
  without gauges too).

Prints each run's wall and process CPU time (s) and the load before it, the median speed-up of each
two-core case over its one-thread run of the same round, and whether the bands' maps, gauges and
snapshots are the one thread's bits.

    python bench/member_threads.py --minutes 60 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from nightly import ROOT, SCENARIO, _scenario_folder  # noqa: E402

COMPARED = ("max_depth", "max_speed", "max_unit_discharge", "arrival_time", "wet_duration", "final_depth",
            "snapshots", "gauge_depth", "gauge_speed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60, help="simulated minutes (default 60)")
    parser.add_argument("--member", type=int, default=1, help="forecast member (default 1)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the cases (default 3)")
    parser.add_argument("--no-tiles", action="store_true", help="leave the dask tiles out")
    args = parser.parse_args(argv)
    from twin.ensemble.cluster import worker_twin
    from twin.ensemble.draws import MemberDraw, member_scenario
    from twin.hazards.flood.model import simulate_flood
    from twin.hazards.flood.tiled import simulate_flood_tiled
    from twin.hazards.registry import get_hazard, load_scenario
    from twin.samples.forecast import write_sample_forecast

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        hours = int(np.ceil(args.minutes / 60))
        forecast = write_sample_forecast(scratch / "forecast.nc", members=max(args.member + 1, 2), hours=hours)
        sf = load_scenario(_scenario_folder(ROOT, scratch / "scen", f"{hours} h") / SCENARIO.name)
        hazard = get_hazard(sf.scenario.hazard)
        sf = member_scenario(hazard.with_forecast(sf, forecast, "rainfall").with_duration(args.minutes * 60),
                             MemberDraw(args.member, {"manning_scale": 1.0}, forecast_member=args.member), hazard)
        prep = hazard.prepare(sf, worker_twin(sf.twin_source(), sf.folder))
    inp, out, duration = prep["model"], sf.scenario.output, sf.scenario.duration
    wet = sf.scenario.flood.numerics.wet_threshold_m
    cases = {
        "1 thread": lambda: simulate_flood(inp, duration, out.every, out.gauge_every, prep["gauges"],
                                           wet_threshold_m=wet, threads=1),
        "2 bands": lambda: simulate_flood(inp, duration, out.every, out.gauge_every, prep["gauges"],
                                          wet_threshold_m=wet, threads=2),
    }
    if not args.no_tiles:
        cases["1 thread, no gauges"] = lambda: simulate_flood(inp, duration, out.every, out.gauge_every,
                                                              wet_threshold_m=wet, threads=1)
        cases["2x1 tiles"] = lambda: simulate_flood_tiled(inp, duration, tiles=(2, 1), snapshot_every_s=out.every,
                                                          gauge_every_s=out.gauge_every, wet_threshold_m=wet,
                                                          scheduler="threads")
    print(f"member {args.member}, {args.minutes:g} min, {inp.shape[0]} x {inp.shape[1]} cells, "
          f"{os.cpu_count()} cores", flush=True)
    simulate_flood(inp, 60.0, None, None, threads=2)          # compile, warm the caches
    simulate_flood_tiled(inp, 60.0, tiles=(2, 1), scheduler="threads")
    walls = {k: [] for k in cases}
    results = {}
    for r in range(args.rounds):
        for name, run in cases.items():
            load = os.getloadavg()[0]
            t0, c0 = time.perf_counter(), time.process_time()
            res = run()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            walls[name].append(wall)
            results.setdefault(name, res)
            print(f"round {r + 1} {name:20s}: {wall:7.2f} s wall, {cpu:7.2f} s CPU, {res.n_steps} steps "
                  f"(load before {load:.2f})", flush=True)
    for two, one in (("2 bands", "1 thread"), ("2x1 tiles", "1 thread, no gauges")):
        if two in walls:
            ratios = [a / b for a, b in zip(walls[one], walls[two])]
            print(f"{two} over {one}: median {statistics.median(ratios):.2f}x "
                  f"({min(ratios):.2f}-{max(ratios):.2f})")
    same = all(np.array_equal(getattr(results["1 thread"], k), getattr(results["2 bands"], k), equal_nan=True)
               for k in COMPARED)
    print(f"2 bands: maps, gauges and snapshots {'identical to' if same else 'DIFFER from'} 1 thread; "
          f"load after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
