"""The shipped design-event set on the sample city: 8 return periods on 2 dask workers.

Runs ``scenarios/sample_return_periods.yaml`` (8 design storms of 1 h, Huff 3rd quartile, from the
sample IDF table; 90 min each) as ``twin run --no-render --workers 2`` does, and prints the wall
time of the run and of its stages (the control run, the rarest event, in the driver; the other 7
events on the workers), the machine's load average before and after (``os.getloadavg``), the loss
by return period, the expected annual damage and the buildings flooded.

    python bench/events_set.py [--workers 2] [--until DURATION] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "sample_return_periods.yaml"


def main() -> None:
    from twin.pipeline.run import run_scenario
    from twin.scenario.units import parse_duration

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="local dask workers (default 2)")
    parser.add_argument("--until", help="stop each event at this simulated time (default: the scenario's 90 min)")
    parser.add_argument("--out", help="run folder (default: a temporary folder, removed)")
    args = parser.parse_args()
    until = parse_duration(args.until) if args.until else None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "run"
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        run_dir = run_scenario(SCENARIO, out=out, progress=False, until=until, workers=args.workers, force=True)
        wall = time.perf_counter() - t0
        load_after = os.getloadavg()
        summary = json.loads((run_dir / "summary.json").read_text())
    events = summary["risk"]["events"]
    print(f"{SCENARIO.name}: {len(events['return_periods_years'])} events on {args.workers} workers, "
          f"until {until or 'the end'}: {wall:.1f} s wall")
    print("stages (s): " + ", ".join(f"{k} {v:.1f}" for k, v in summary["timings"].items()))
    print(f"load average (1, 5, 15 min) before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} on {os.cpu_count()} cores")
    print(f"control run (rarest event): {summary['time_steps']} time steps, peak depth {summary['peak_depth_m']:.2f} m")
    for t, depth, loss, flooded in zip(events["return_periods_years"], events["storm_depth_m"], events["loss_krw"],
                                       events["buildings_flooded"]):
        print(f"  T = {t:5g} years: storm {depth * 1000:6.1f} mm, loss {loss:.4g} KRW, {flooded} buildings flooded")
    tails = events["tail_conventions"]
    print(f"expected annual damage {events['expected_annual_damage_krw']:.4g} KRW/year "
          f"(tail {tails['tail']}, protection {tails['protection_rp_years']:g} years)")


if __name__ == "__main__":
    main()
