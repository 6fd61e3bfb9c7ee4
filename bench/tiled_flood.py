"""Tiled flood run (twin.hazards.flood.tiled, dask map_overlap) against the untiled loop, wall time.

One member on the synthetic sample city (the same inputs as bench/flood_throughput.py: 0.1 m of
water on every open cell so every face is active, 50 mm/h rain, free edges, small losses), for
a fixed simulated time at a fixed step (``dt_max`` below the stable step, so every case takes
the same number of steps with the same dt and the results can be compared cell by cell).

Cases, each in its own subprocess with NUMBA_NUM_THREADS=1 (numba code compiled on a small grid
before timing):

* ``untiled``: twin.hazards.flood.model.simulate_flood (no snapshots, no gauges);
* ``tiles TYxTX halo H``: twin.hazards.flood.tiled.simulate_flood_tiled on the synchronous scheduler
  (one worker, one core), K = (H - 1) / 2 steps per exchange;
* ``... 2 workers``: the same on a distributed LocalCluster of 2 single-threaded processes;
* ``... 2 threads``: the same on dask's threaded scheduler with 2 threads in one process (the
  flood step releases the GIL).

Each tiled case reports its largest depth difference to the untiled run (m) and the ledger
closure. Overhead = tiled / untiled - 1, in wall time and in CPU time of the process (the CPU
figure is the steadier one on a shared machine; with workers the work is in other processes).

Usage::

    python bench/tiled_flood.py --size 2000 --steps 64 --cases 2x2:17 2x2:33 --workers 1 --threads 2 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from flood_throughput import DT, H_START, N_MANNING, RAIN, city  # noqa: E402


def inputs(size: int, crop: int | None = None):
    """Flood inputs on the ``size`` x ``size`` sample city (or its ``crop`` x ``crop`` north-west
    corner, to compile numba code), stepping at the fixed DT (s)."""
    from twin.hazards.flood.forcing import UniformRain
    from twin.hazards.flood.model import FloodInputs
    z, blocked, dx = city(size)
    z, blocked = z[:crop, :crop], blocked[:crop, :crop]
    return FloodInputs(z=z, blocked=blocked, manning_n=N_MANNING, dx=dx,
                       h0=np.where(blocked, 0.0, H_START), rain=UniformRain([0, 1e6], [RAIN, RAIN]),
                       boundaries={e: "free" for e in ("north", "south", "east", "west")},
                       loss_rate=1e-7, drainage_rate=1e-7, dt_max=DT)


def run(size: int, steps: int, tiles: tuple[int, int] | None, halo: int, workers: int, threads: int,
        out: str) -> dict:
    """Time one case (``threads`` > 1: dask's threaded scheduler); save its final depth to
    ``out`` (.npy) and return its figures."""
    import dask
    from twin.hazards.flood.model import simulate_flood
    from twin.hazards.flood.tiled import simulate_flood_tiled
    inp, small = inputs(size), inputs(size, crop=max(128, 2 * halo + 2))
    scheduler, cluster = "synchronous", None
    if threads > 1:
        scheduler = "threads"
        dask.config.set(num_workers=threads)
    if tiles is None:
        simulate_flood(small, 2 * DT, None, None)                         # compile
        tic, cpu = time.perf_counter(), time.process_time()
        res = simulate_flood(inp, steps * DT, None, None)
    else:
        if workers > 1:
            from distributed import Client, LocalCluster
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            scheduler = Client(cluster)
        simulate_flood_tiled(small, 2 * DT, tiles=(2, 2), halo=halo, scheduler=scheduler)  # compile
        tic, cpu = time.perf_counter(), time.process_time()
        res = simulate_flood_tiled(inp, steps * DT, tiles=tiles, halo=halo, scheduler=scheduler)
    wall, cpu = time.perf_counter() - tic, time.process_time() - cpu
    if cluster is not None:
        scheduler.close()
        cluster.close()
    np.save(out, res.final_depth)
    return dict(wall_s=wall, cpu_s=None if cluster or threads > 1 else cpu, steps=res.n_steps,
                closure_relative=res.ledger.closure_relative)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=2000, help="grid side (cells)")
    p.add_argument("--steps", type=int, default=64, help="steps of every case")
    p.add_argument("--cases", nargs="+", default=["2x2:17", "4x4:17"], help="TYxTX:HALO")
    p.add_argument("--workers", type=int, nargs="+", default=[1], help="worker counts of tiled cases")
    p.add_argument("--threads", type=int, nargs="*", default=[],
                   help="thread counts of extra tiled cases on dask's threaded scheduler (one process)")
    p.add_argument("--repeat", type=int, default=3,
                   help="runs of every case, interleaved; the fastest wall and CPU times are kept "
                        "and the range of wall times is shown")
    p.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        size, steps, tiles, halo, workers, threads = a.worker
        t = None if tiles == "none" else tuple(int(v) for v in tiles.split("x"))
        print(json.dumps(run(int(size), int(steps), t, int(halo), int(workers), int(threads),
                             os.environ["BENCH_OUT"])))
        return
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))

    def case(tiles: str, halo: int, workers: int, threads: int) -> tuple[dict, np.ndarray]:
        env["BENCH_OUT"] = str(tmp / f"tiled_flood_{os.getpid()}.npy")
        proc = subprocess.run([sys.executable, __file__, "--worker", str(a.size), str(a.steps), tiles,
                               str(halo), str(workers), str(threads)], env=env, capture_output=True, text=True)
        if proc.returncode:
            sys.exit(proc.stderr)
        return json.loads(proc.stdout.strip().splitlines()[-1]), np.load(env["BENCH_OUT"])

    tiled = [(c.split(":")[0], int(c.split(":")[1])) for c in a.cases]
    specs = ([("none", 0, 1, 1)] + [(t, h, w, 1) for t, h in tiled for w in a.workers]
             + [(t, h, 1, n) for t, h in tiled for n in a.threads])
    best, walls = {}, {spec: [] for spec in specs}
    for _ in range(a.repeat):
        for spec in specs:
            r, h = case(*spec)
            walls[spec].append(r["wall_s"])
            if spec in best:
                r["wall_s"] = min(r["wall_s"], best[spec][0]["wall_s"])
                r["cpu_s"] = None if r["cpu_s"] is None else min(r["cpu_s"], best[spec][0]["cpu_s"])
            best[spec] = (r, h)
    base, h_ref = best[specs[0]]
    print(f"{a.size}x{a.size} cells, {a.steps} steps of {DT} s, fastest of {a.repeat} interleaved runs")
    print(f"{'case':44s} {'wall s':>8s} {'overhead':>9s} {'CPU s':>8s} {'overhead':>9s} "
          f"{'max |dh| m':>11s} {'closure':>9s}  wall range s")

    def spread(spec):
        return f"{min(walls[spec]):.2f}-{max(walls[spec]):.2f}"
    print(f"{'untiled (simulate_flood)':44s} {base['wall_s']:8.2f} {'':>9s} {base['cpu_s']:8.2f} {'':>9s} "
          f"{'':>11s} {base['closure_relative']:9.1e}  {spread(specs[0])}", flush=True)
    for tiles, halo, workers, threads in specs[1:]:
        r, h = best[(tiles, halo, workers, threads)]
        who = f"{threads} threads" if threads > 1 else f"{workers} worker{'s' * (workers > 1)}"
        label = f"tiles {tiles} halo {halo} K={(halo - 1) // 2}, {who}"
        cpu = (f"{r['cpu_s']:8.2f} {r['cpu_s'] / base['cpu_s'] - 1:+9.1%}" if r["cpu_s"] is not None
               else f"{'(n/a)':>8s} {'':>9s}")
        print(f"{label:44s} {r['wall_s']:8.2f} {r['wall_s'] / base['wall_s'] - 1:+9.1%} {cpu} "
              f"{np.abs(h - h_ref).max():11.1e} {r['closure_relative']:9.1e}  "
              f"{spread((tiles, halo, workers, threads))}", flush=True)


if __name__ == "__main__":
    main()
