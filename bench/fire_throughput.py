"""Fire arrival-time throughput: our Dijkstra solver against pyretechnics' level-set spread.

Both models get the same grid, fuels, moisture, 10-m wind, ignition and simulated time; each case
runs in its own subprocess pinned to one core, so the wall time and peak memory are its own.

* ours: per-cell Rothermel rates (:mod:`kernels.fire`) with the mid-flame wind from the same
  unsheltered wind adjustment factor pyretechnics uses (Andrews 2012 eq. 6,
  WAF = 1.83 / ln((20 + 0.36 H) / (0.13 H)), H fuel depth in ft, applied to the 20-ft wind
  = 10-m wind / 1.15), then :func:`kernels.arrival.arrival_time` (32 directions). The wall time
  covers the rates and the solve; the numba compile is excluded by a warm-up on a tiny grid.
* pyretechnics: ``eulerian_level_set.spread_fire_with_phi_field`` (surface fire, no canopy,
  default CFL 0.4 cells per step, wind limit on, "behave" LB).

Cells per second = cells whose arrival time the run determined (burned cells) / wall time, with
the median wall time of ``--repeat`` runs, each in a fresh process (the machine may be shared;
the median damps the noise).
Peak memory is the peak resident set of the case's process (imports included).

Usage::

    python bench/fire_throughput.py                  # 1000 and 2000 grids, default durations
    python bench/fire_throughput.py --n 1000 --minutes 240 --pyre-minutes 240
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DX = 10.0                    # m
WIND_10M = 6.0               # m/s, from the west
MOISTURE = (0.05, 0.06, 0.07, 0.6, 0.9)
FUELS = (102, 165, 145, 102, 122, 98)      # 98 (water) as scattered non-burnable patches


def fuel_grid(n: int, uniform: int | None = None) -> np.ndarray:
    """Random 50-cell patches of a few fuel models (seeded, identical for both models), or one model."""
    if uniform is not None:
        return np.full((n, n), uniform, dtype=np.int16)
    rng = np.random.default_rng(2024)
    coarse = rng.choice(np.array(FUELS, dtype=np.int16), size=(n // 50 + 1, n // 50 + 1))
    return np.kron(coarse, np.ones((50, 50), dtype=np.int16))[:n, :n].copy()


def peak_rss_mib() -> float:
    """Peak resident memory of this process (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(run):
    """Wall time (s) of one call of ``run`` and its result."""
    t0 = time.perf_counter()
    out = run()
    return time.perf_counter() - t0, out


def run_ours(n: int, minutes: float, uniform: int | None) -> dict:
    sys.path.insert(0, str(ROOT))
    from kernels.arrival import arrival_time, ellipse_rates
    from kernels.fire import head_fire, length_to_breadth, surface_fire_base
    from kernels.fuel_models import FUEL_TABLE, M_PER_FT

    def solve(fuel, t_max):
        base = surface_fire_base(fuel, MOISTURE)
        depth_ft = FUEL_TABLE["delta"][fuel] / M_PER_FT
        with np.errstate(divide="ignore", invalid="ignore"):
            waf = np.where(depth_ft > 0, 1.83 / np.log((20.0 + 0.36 * depth_ft) / (0.13 * depth_ft)), 0.0)
        hf = head_fire(base, waf * WIND_10M / 1.15, np.pi / 2, 0.0, 0.0)
        f, s, b = ellipse_rates(hf.rate, length_to_breadth(hf.effective_wind))
        start = np.full(fuel.shape, np.inf)
        start[fuel.shape[0] // 2, fuel.shape[1] // 10] = 0.0
        return arrival_time(start, f, s, b, hf.azimuth, DX, t_max=t_max)

    solve(fuel_grid(60), np.inf)                          # numba compile / cache load
    fuel = fuel_grid(n, uniform)
    rss0 = peak_rss_mib()
    wall, t = timed(lambda: solve(fuel, minutes * 60.0))
    burned = int(np.count_nonzero(np.isfinite(t)))
    wall_all, t_all = timed(lambda: solve(fuel, np.inf))
    return {"model": "ours", "n": n, "minutes": minutes, "wall_s": wall, "burned_cells": burned,
            "cells_per_s": burned / wall, "full_grid_wall_s": wall_all,
            "full_grid_cells": int(np.count_nonzero(np.isfinite(t_all))),
            "peak_rss_mib": peak_rss_mib(), "rss_before_mib": rss0}


def run_pyretechnics(n: int, minutes: float, uniform: int | None) -> dict:
    from pyretechnics.eulerian_level_set import SpreadState, spread_fire_with_phi_field
    from pyretechnics.space_time_cube import SpaceTimeCube

    fuel = fuel_grid(n, uniform).astype(np.float32)
    shape = (1, n, n)
    const = {"slope": 0.0, "aspect": 0.0, "canopy_cover": 0.0, "canopy_height": 0.0,
             "canopy_base_height": 0.0, "canopy_bulk_density": 0.0,
             "wind_speed_10m": WIND_10M * 3.6, "upwind_direction": 270.0,
             "fuel_moisture_dead_1hr": MOISTURE[0], "fuel_moisture_dead_10hr": MOISTURE[1],
             "fuel_moisture_dead_100hr": MOISTURE[2], "fuel_moisture_live_herbaceous": MOISTURE[3],
             "fuel_moisture_live_woody": MOISTURE[4], "foliar_moisture": 1.0}
    cubes = {k: SpaceTimeCube(shape, v) for k, v in const.items()}
    cubes["fuel_model"] = SpaceTimeCube(shape, fuel)
    rss0 = peak_rss_mib()
    wall, out = timed(lambda: spread_fire_with_phi_field(cubes, SpreadState(shape).ignite_cell((n // 2, n // 10)),
                                                         (float(minutes), DX, DX), 0.0, float(minutes)))
    toa = out["spread_state"].get_full_matrices(["time_of_arrival"])["time_of_arrival"]
    burned = int(np.count_nonzero(np.isfinite(toa) & (toa <= minutes)))
    return {"model": "pyretechnics", "n": n, "minutes": minutes, "wall_s": wall, "burned_cells": burned,
            "cells_per_s": burned / wall, "peak_rss_mib": peak_rss_mib(), "rss_before_mib": rss0}


def child(model: str, n: int, minutes: float, uniform: int | None, repeat: int) -> dict:
    """Run one case ``repeat`` times, each in a fresh subprocess pinned to one core.

    Returns the first run's result with the median wall times and the largest peak memory.
    """
    cmd = [sys.executable, __file__, "--child", model, "--n", str(n), "--minutes", str(minutes)]
    if uniform is not None:
        cmd += ["--uniform-fuel", str(uniform)]
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    runs = []
    for _ in range(repeat):
        res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
        runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
    out = dict(runs[0])
    for key in ("wall_s", "full_grid_wall_s"):
        if key in out:
            out[key] = float(np.median([r[key] for r in runs]))
    out["cells_per_s"] = out["burned_cells"] / out["wall_s"]
    out["peak_rss_mib"] = max(r["peak_rss_mib"] for r in runs)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, nargs="*", default=[1000, 2000])
    ap.add_argument("--minutes", type=float, nargs="*", default=None,
                    help="simulated minutes per grid (default: 600 per 1000 cells)")
    ap.add_argument("--pyre-minutes", type=float, nargs="*", default=None,
                    help="simulated minutes per grid for pyretechnics (default: same as ours)")
    ap.add_argument("--uniform-fuel", type=int, default=None,
                    help="one fuel model everywhere instead of the random patches")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per case (median reported)")
    ap.add_argument("--child", choices=["ours", "pyretechnics"])
    args = ap.parse_args()
    if args.child:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        run = run_ours if args.child == "ours" else run_pyretechnics
        print(json.dumps(run(args.n[0], args.minutes[0], args.uniform_fuel)))
        return
    minutes = args.minutes or [600.0 * n / 1000 for n in args.n]
    pyre_minutes = args.pyre_minutes or minutes
    rows = []
    for n, m, pm in zip(args.n, minutes, pyre_minutes):
        rows.append(child("ours", n, m, args.uniform_fuel, args.repeat))
        if pm != m:
            rows.append(child("ours", n, pm, args.uniform_fuel, args.repeat))
        rows.append(child("pyretechnics", n, pm, args.uniform_fuel, args.repeat))
    print(f"{'model':<13}{'grid':>11}{'sim min':>9}{'wall s':>9}{'burned':>10}{'cells/s':>12}{'peak MiB':>10}")
    for r in rows:
        print(f"{r['model']:<13}{r['n']:>6}x{r['n']:<4}{r['minutes']:>9.0f}{r['wall_s']:>9.2f}"
              f"{r['burned_cells']:>10}{r['cells_per_s']:>12.0f}{r['peak_rss_mib']:>10.0f}")
    for r in rows:
        if r["model"] == "ours":
            print(f"ours, whole {r['n']}x{r['n']} grid (t_max = inf): {r['full_grid_wall_s']:.2f} s for "
                  f"{r['full_grid_cells']} cells ({r['full_grid_cells'] / r['full_grid_wall_s']:.0f} cells/s)")


if __name__ == "__main__":
    main()
