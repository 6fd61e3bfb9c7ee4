"""Ensemble scaling on dask: 8 flood members of the sample city with 1 and 2 workers.

Prints the wall time of the members phase with 1 and 2 local worker processes, the speed-up,
the same members run one after the other in this process (no dask), and from that the
scheduling overhead per member (cluster start-up excluded, reported apart).

    python bench/ensemble_scaling.py [--members 8] [--until "10 min"] [--repeat 3]

With ``--repeat N`` the 1- and 2-worker runs alternate N times (the speed of this shared machine
drifts by 5-15 % over minutes, which moves a single ratio by as much) and the ratio of each pair
is printed with their median.

The members are the sample flash flood with the rainfall scale and roughness perturbed,
stopped at ``--until`` of simulated time so the benchmark takes minutes, not hours.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

ENSEMBLE = """
ensemble:
  members: {members}
  seed: 20261125
  perturb:
    rainfall_scale: {{lognormal: {{median: 1.0, sigma: 0.3}}}}
    manning_scale: {{uniform: {{low: 0.8, high: 1.2}}}}
"""


def _scenario(folder: Path, members: int, until: str) -> Path:
    text = (ROOT / "scenarios" / "sample_flash_flood.yaml").read_text()
    text = text.replace("twin: ../data/sample_city/twin.yaml", f"twin: {ROOT / 'data' / 'sample_city' / 'twin.yaml'}")
    text = text.replace("duration: 2 h", f"duration: {until}")
    path = folder / "bench_ensemble.yaml"
    path.write_text(text + ENSEMBLE.format(members=members) + "render: {enabled: false}\n")
    return path


def _members_phase(path: Path, workers: int, out: Path) -> tuple[float, float]:
    """(members phase, cluster start-up) wall time (s) of one run with ``workers`` processes."""
    from distributed import Client

    from twin.ensemble.cluster import local_cluster
    from twin.pipeline.run import run_scenario

    t0 = time.perf_counter()
    with local_cluster(workers) as c, Client(c, set_as_default=False) as client:
        client.wait_for_workers(workers)
        startup = time.perf_counter() - t0
        run_dir = run_scenario(path, out=out, progress=False, scheduler=c.scheduler_address)
    import json

    timings = json.loads((run_dir / "summary.json").read_text())["timings"]
    print(f"  {workers} worker(s): " + ", ".join(f"{k} {v:.2f}" for k, v in timings.items()), flush=True)
    return timings["members_s"], startup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--until", default="10 min", help="simulated time of each member")
    parser.add_argument("--repeat", type=int, default=1, help="alternating pairs of 1- and 2-worker runs")
    args = parser.parse_args()
    from twin.ensemble.cluster import member_maps
    from twin.ensemble.draws import draw_members
    from twin.pipeline.run import load_run_scenario, prepare_run

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = _scenario(tmp, args.members, args.until)
        prep = prepare_run(load_run_scenario(path))
        draws = draw_members(prep.sf, prep.twin, prep.hazard)
        member_maps(prep.hazard, prep.sf, draws[0])            # numba compile + twin cache, not timed
        t0 = time.perf_counter()
        for d in draws:
            member_maps(prep.hazard, prep.sf, d)
        serial = time.perf_counter() - t0
        pairs = [(_members_phase(path, 1, tmp / f"w1_{k}"), _members_phase(path, 2, tmp / f"w2_{k}"))
                 for k in range(args.repeat)]
    n = args.members
    print(f"sample city 500 x 500 cells, {n} flood members of {args.until} simulated time each")
    print(f"in-process, one after the other : {serial:8.2f} s ({serial / n:.2f} s per member)")
    for k, ((w1, start1), (w2, start2)) in enumerate(pairs):
        print(f"pair {k + 1}: dask, 1 worker        : {w1:8.2f} s (cluster start-up {start1:.2f} s, not included)")
        print(f"pair {k + 1}: dask, 2 workers       : {w2:8.2f} s (cluster start-up {start2:.2f} s, not included)")
        print(f"pair {k + 1}: speed-up 2 vs 1 worker: {w1 / w2:8.2f} x")
    ratios = [w1 / w2 for (w1, _), (w2, _) in pairs]
    first_w1 = pairs[0][0][0]
    print(f"speed-up 2 vs 1 worker, median  : {float(np.median(ratios)):8.2f} x  (range {min(ratios):.2f}-"
          f"{max(ratios):.2f}; target >= 1.8 x)")
    print(f"scheduling overhead per member  : {(first_w1 - serial) / n:8.3f} s (first 1-worker run vs in-process; "
          "includes each worker's imports, numba cache load and twin read, once per process)")


if __name__ == "__main__":
    main()
