"""Flood kernel throughput and memory against Landlab's OverlandFlow, on one core.

Both models run the same synthetic city (twin.samples.city: valley terrain, hills, buildings as
walls), the same uniform Manning n, the same 50 mm/h rain and the same start (0.1 m of water on
every open cell, so every face is active), for a fixed number of steps at the same fixed
dt. Each case runs in its own subprocess with NUMBA_NUM_THREADS=1 / OMP_NUM_THREADS=1 and
reports cell-updates per second (cells x steps / wall s) and the tracemalloc peak of every
allocation made while building and running the model, per cell.

Three of ours are timed: ``kernel`` (kernels.flood.flood_step alone, fixed dt, given the
uniform Manning n, rain weight and zero losses the way twin.hazards.flood.model holds a number: as
zero-stride broadcasts, the like-for-like input to Landlab's scalar n), ``kernel-cells`` (the
same with those four fields as per-cell arrays, as from a land-cover map; Landlab keeps its n
per link in either case) and ``loop`` (twin.hazards.flood.model.simulate_flood with per-cell Manning n
and losses, the stable dt capped at the same dt, free edges, hazard accumulators and the
ledger, no snapshots; wall time is the loop's own). Numba code is
compiled on a 20 x 20 corner before memory tracing starts. ``passes`` times the stages apart
(edge_fluxes, update_fluxes, update_depth, then the fused flood_step and the hazard
accumulators), median thread-CPU ns per cell over the steps, to show where the time goes.

Usage::

    python bench/flood_throughput.py --sizes 1000 2000 --steps 100 --landlab-steps 20 [--repeat 3]

Each case is run ``--repeat`` times, the rounds interleaving the cases so that a drift of
the machine's speed hits all of them; the tables give the median rate and the range, and the
ratio to Landlab is the ratio of the medians (and its range over the rounds).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import time
import tracemalloc

import numpy as np

N_MANNING = 0.03          # s m^-1/3
RAIN = 50e-3 / 3600.0      # m/s
H_START = 0.1              # m
DT = 0.5                   # s, fixed step for the kernel and Landlab cases


def city(n: int, cell: float = 5.0):
    """Elevation (m) and building mask of an n x n sample city with ``cell`` m cells."""
    from twin.samples.city import generate_sample_city
    c = generate_sample_city(size_m=n * cell, cell=cell, seed=1)
    return np.array(c.elevation, dtype=np.float64), np.array(c.building_id) > 0, cell


def _tiny_copy(z, blocked):
    """A 20 x 20 corner of the inputs, to compile numba code before memory is traced."""
    return z[:20, :20].copy(), blocked[:20, :20].copy()


def _fields(shape, per_cell: bool):
    """Manning n (s m^-1/3), rain weight (-) and loss rates (m/s, zero): per-cell arrays, or
    uniform fields as zero-stride broadcasts (how FloodInputs holds a number; no memory)."""
    values = ((N_MANNING, np.float64), (1.0, np.float32), (0.0, np.float64), (0.0, np.float64))
    if per_cell:
        return tuple(np.full(shape, v, dtype) for v, dtype in values)
    return tuple(np.broadcast_to(dtype(v), shape) for v, dtype in values)


def run_kernel(z, blocked, dx, steps, warm=True, per_cell=False):
    from kernels.flood import flood_step
    if warm:
        run_kernel(*_tiny_copy(z, blocked), dx, 1, warm=False, per_cell=per_cell)
        tracemalloc.start()
    ny, nx = z.shape
    z = z.copy()
    blocked = blocked.copy()
    n, w, f, d = _fields((ny, nx), per_cell)
    h = np.where(blocked, 0.0, H_START)
    qx, qy = np.zeros((ny, nx + 1)), np.zeros((ny + 1, nx))
    kw = dict(edge_kind=np.array([1, 1, 1, 1]), edge_level=np.zeros(4), rain_rate=RAIN, rain_weight=w,
              infiltration_rate=f, drainage_rate=d)
    flood_step(h, qx, qy, z, n, blocked, DT, dx, **kw)      # compile / warm up
    tic, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        flood_step(h, qx, qy, z, n, blocked, DT, dx, **kw)
    wall, cpu = time.perf_counter() - tic, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1]
    return dict(wall_s=wall, cpu_s=cpu, steps=steps, peak_bytes=peak, h_max=float(h.max()))


def run_loop(z, blocked, dx, steps, warm=True):
    from twin.hazards.flood.forcing import UniformRain
    from twin.hazards.flood.model import FloodInputs, simulate_flood
    if warm:
        run_loop(*_tiny_copy(z, blocked), dx, 2, warm=False)
        tracemalloc.start()
    ny, nx = z.shape
    inputs = FloodInputs(z=z.copy(), blocked=blocked.copy(), manning_n=np.full((ny, nx), N_MANNING), dx=dx,
                         h0=np.where(blocked, 0.0, H_START), rain=UniformRain([0, 1e6], [RAIN, RAIN]),
                         boundaries={e: "free" for e in ("north", "south", "east", "west")},
                         loss_rate=np.full((ny, nx), 1e-7), drainage_rate=np.full((ny, nx), 1e-7),
                         dt_max=DT)
    cpu = time.process_time()
    res = simulate_flood(inputs, steps * DT, None, None)
    cpu = time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1]
    return dict(wall_s=res.loop_wall_s, cpu_s=cpu, steps=res.n_steps, peak_bytes=peak, kernel_wall_s=res.kernel_wall_s,
                closure_relative=res.ledger.closure_relative, h_max=float(res.max_depth.max()))


def run_landlab(z, blocked, dx, steps, warm=True):
    from landlab import RasterModelGrid
    from landlab.components import OverlandFlow
    if warm:
        run_landlab(*_tiny_copy(z, blocked), dx, 1, warm=False)
        tracemalloc.start()
    ny, nx = z.shape
    grid = RasterModelGrid((ny, nx), xy_spacing=dx)
    # landlab rows start in the south: flip our north-first rows
    grid.add_field("topographic__elevation", z[::-1].ravel().copy(), at="node")
    grid.add_field("surface_water__depth", np.where(blocked, 0.0, H_START)[::-1].ravel().copy(), at="node")
    grid.status_at_node[blocked[::-1].ravel()] = grid.BC_NODE_IS_CLOSED
    of = OverlandFlow(grid, mannings_n=N_MANNING, rainfall_intensity=RAIN, steep_slopes=True)
    of.run_one_step(dt=DT)                                     # warm up
    tic, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        of.run_one_step(dt=DT)
    wall, cpu = time.perf_counter() - tic, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1]
    return dict(wall_s=wall, cpu_s=cpu, steps=steps, peak_bytes=peak,
                h_max=float(grid.at_node["surface_water__depth"].max()))


def run_passes(z, blocked, dx, steps):
    from kernels import flood as F
    from kernels.flood_hazard import accumulate_hazard
    ny, nx = z.shape
    n, w, f, d = _fields((ny, nx), per_cell=True)
    h = np.where(blocked, 0.0, H_START)
    qx, qy = np.zeros((ny, nx + 1)), np.zeros((ny + 1, nx))
    kind, level = np.array([1, 1, 1, 1]), np.zeros(4)
    acc = (np.zeros((ny, nx)), np.zeros((ny, nx), np.float32), np.zeros((ny, nx), np.float32),
           np.full((ny, nx), np.nan, np.float32), np.zeros((ny, nx)))
    stages = {
        "edge_fluxes": lambda: F.edge_fluxes(h, z, n, blocked, qx, qy, kind, level, DT, dx),
        "update_fluxes": lambda: F.update_fluxes(h, z, n, blocked, qx, qy, *edges, DT, dx),
        "update_depth": lambda: F.update_depth(h, qx, qy, blocked, DT, dx, RAIN, w, f, d),
        "flood_step": lambda: F.flood_step(h, qx, qy, z, n, blocked, DT, dx, edge_kind=kind,
                                           edge_level=level, rain_rate=RAIN, rain_weight=w,
                                           infiltration_rate=f, drainage_rate=d),
        "accumulate_hazard": lambda: accumulate_hazard(h, qx, qy, 1.0, DT, 0.1, 1e-3, *acc),
    }
    times = {k: [] for k in stages}
    for i in range(steps + 1):                       # the first round compiles / warms up
        for name, stage in stages.items():
            tic = time.thread_time()
            out = stage()
            if name == "edge_fluxes":
                edges = out
            if i:
                times[name].append(time.thread_time() - tic)
    return {k: 1e9 * float(np.median(v)) / (ny * nx) for k, v in times.items()}


CASES = {"kernel": run_kernel, "kernel-cells": functools.partial(run_kernel, per_cell=True),
         "loop": run_loop, "landlab": run_landlab, "passes": run_passes}


def worker(case: str, size: int, steps: int) -> None:
    z, blocked, dx = city(size)
    out = CASES[case](z, blocked, dx, steps)
    out.update(case=case, size=size, cells=size * size)
    print(json.dumps(out))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000], help="grid side (cells)")
    p.add_argument("--steps", type=int, default=100, help="steps of our kernel / loop")
    p.add_argument("--landlab-steps", type=int, nargs="+", default=[10],
                   help="Landlab steps, one per size (or one for all)")
    p.add_argument("--passes", action="store_true", help="also time each stage (ns/cell)")
    p.add_argument("--repeat", type=int, default=3,
                   help="rounds of the three cases, interleaved; medians are reported")
    p.add_argument("--worker", nargs=3, metavar=("CASE", "SIZE", "STEPS"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        worker(a.worker[0], int(a.worker[1]), int(a.worker[2]))
        return
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    ll_steps = a.landlab_steps * len(a.sizes) if len(a.landlab_steps) == 1 else a.landlab_steps
    print(f"{'case':12s} {'cells':>9s} {'steps':>6s} {'wall s':>8s} {'Mcell-upd/s':>12s} {'CPU s':>8s} "
          f"{'Mcell-upd/CPU-s':>16s} {'peak B/cell':>12s}  (median of {a.repeat}; range of Mcell-upd/s)")
    for size, lsteps in zip(a.sizes, ll_steps):
        runs = {"kernel": [], "kernel-cells": [], "loop": [], "landlab": []}
        for _ in range(a.repeat):                   # rounds interleave the cases (machine drift)
            for case in runs:
                steps = lsteps if case == "landlab" else a.steps
                proc = subprocess.run([sys.executable, __file__, "--worker", case, str(size), str(steps)],
                                      env=env, capture_output=True, text=True, check=True)
                runs[case].append(json.loads(proc.stdout.strip().splitlines()[-1]))
        rates = {}
        for case, rs in runs.items():
            wall_rates = [r["cells"] * r["steps"] / r["wall_s"] for r in rs]
            cpu_rates = [r["cells"] * r["steps"] / r["cpu_s"] for r in rs]
            rate, cpu_rate = float(np.median(wall_rates)), float(np.median(cpu_rates))
            rates[case] = (rate, cpu_rate)
            r = rs[int(np.argsort(wall_rates)[len(rs) // 2])]          # the median run
            extra = f"  closure {r['closure_relative']:.1e}" if "closure_relative" in r else ""
            print(f"{case:12s} {r['cells']:9d} {r['steps']:6d} {r['wall_s']:8.2f} {rate / 1e6:12.2f} "
                  f"{r['cpu_s']:8.2f} {cpu_rate / 1e6:16.2f} {r['peak_bytes'] / r['cells']:12.1f}  "
                  f"({min(wall_rates) / 1e6:.1f}-{max(wall_rates) / 1e6:.1f}){extra}", flush=True)
        for ours in ("kernel", "kernel-cells", "loop"):
            per_round = [(o["steps"] / o["wall_s"]) / (l["steps"] / l["wall_s"])
                         for o, l in zip(runs[ours], runs["landlab"])]
            print(f"  {size}x{size}: {ours} / landlab = {rates[ours][0] / rates['landlab'][0]:.1f}x wall, "
                  f"{rates[ours][1] / rates['landlab'][1]:.1f}x CPU (medians; per round "
                  f"{min(per_round):.1f}-{max(per_round):.1f}x)", flush=True)
        if a.passes:
            proc = subprocess.run([sys.executable, __file__, "--worker", "passes", str(size), str(a.steps)],
                                  env=env, capture_output=True, text=True, check=True)
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"  {size}x{size} ns/cell per stage (median thread CPU): "
                  + ", ".join(f"{k} {r[k]:.2f}" for k in ("edge_fluxes", "update_fluxes", "update_depth",
                                                          "flood_step", "accumulate_hazard")), flush=True)


if __name__ == "__main__":
    main()
